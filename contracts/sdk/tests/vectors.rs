//! Decodes the shared vectors with the SDK codec, checks the values, and re-encodes them to the same bytes.
//! Run natively: `cd contracts && /usr/bin/cargo test -p purse-contract-sdk`.

use purse_contract_sdk::codec::{from_hex, to_hex, Decode, Encode};
use purse_contract_sdk::impl_codec;

#[derive(Debug, PartialEq)]
struct Lot {
    owner: [u8; 32],
    points: u128,
    expires: u64,
    memo: Option<String>,
    tags: Vec<String>,
}
impl_codec!(Lot { owner, points, expires, memo, tags });

fn check<T: Decode + Encode + PartialEq + core::fmt::Debug>(hex: &str, expected: T) {
    let bytes = from_hex(hex).expect("hex");
    let v = T::decode(&bytes).expect("decodes");
    assert_eq!(v, expected);
    assert_eq!(to_hex(&v.encode()), hex);
}

#[test]
fn shared_vectors_round_trip() {
    let text = include_str!("vectors.txt");
    let mut seen = 0;
    let mut a32 = [0u8; 32];
    for (i, b) in a32.iter_mut().enumerate() {
        *b = i as u8;
    }
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut it = line.split_whitespace();
        let (name, hex) = (it.next().unwrap(), it.next().unwrap());
        seen += 1;
        match name {
            "u8_7" => check(hex, 7u8),
            "u16_0x1234" => check(hex, 0x1234u16),
            "u32_0xdeadbeef" => check(hex, 0xdead_beefu32),
            "u64_max_minus_1" => check(hex, u64::MAX - 1),
            "u128_2pow100_plus_5" => check(hex, (1u128 << 100) + 5),
            "i32_minus_2" => check(hex, -2i32),
            "i64_minus_1234567890123" => check(hex, -1_234_567_890_123i64),
            "i128_minus_5" => check(hex, -5i128),
            "bool_true" => check(hex, true),
            "bool_false" => check(hex, false),
            "string_hello" => check(hex, String::from("héllo purse")),
            "string_empty" => check(hex, String::new()),
            "vec_u8_123" => check(hex, vec![1u8, 2, 3]),
            "vec_u32" => check(hex, vec![1u32, 70_000]),
            "option_none" => check(hex, None::<u64>),
            "option_some_42" => check(hex, Some(42u64)),
            "array_u8_4" => check(hex, [9u8, 8, 7, 6]),
            "array_u8_32" => check(hex, a32),
            "tuple_u32_string" => check(hex, (5u32, String::from("x"))),
            "vec_option_bool" => check(hex, vec![Some(true), None, Some(false)]),
            "lot_struct" => check(
                hex,
                Lot { owner: a32, points: 1000, expires: 120_000, memo: Some("abc".into()), tags: vec!["x".into(), "yzz".into()] },
            ),
            other => panic!("unknown vector {}", other),
        }
    }
    assert_eq!(seen, 21);
}

#[test]
fn malformed_input_is_rejected() {
    assert!(bool::decode(&[2]).is_err());
    assert!(Option::<u8>::decode(&[2, 0]).is_err());
    assert!(u32::decode(&[1, 2, 3]).is_err());
    assert!(u8::decode(&[1, 2]).is_err(), "trailing bytes");
    assert!(String::decode(&[2, 0, 0, 0, 0xff, 0xfe]).is_err(), "bad utf-8");
    assert!(Vec::<u8>::decode(&[0xff, 0xff, 0xff, 0xff]).is_err(), "length past the input");
}
