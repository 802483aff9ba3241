//! The SDK's codec must be borsh: encodes the same values with the host's borsh and compares them with the
//! shared vectors in contracts/sdk/tests/vectors.txt (which the SDK's native tests decode and re-encode).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use borsh::BorshSerialize;

#[derive(BorshSerialize)]
struct Lot {
    owner: [u8; 32],
    points: u128,
    expires: u64,
    memo: Option<String>,
    tags: Vec<String>,
}

fn expected() -> Vec<(&'static str, Vec<u8>)> {
    let a32: [u8; 32] = core::array::from_fn(|i| i as u8);
    let e = |v: &dyn Fn() -> Vec<u8>| v();
    vec![
        ("u8_7", borsh::to_vec(&7u8).unwrap()),
        ("u16_0x1234", borsh::to_vec(&0x1234u16).unwrap()),
        ("u32_0xdeadbeef", borsh::to_vec(&0xdead_beefu32).unwrap()),
        ("u64_max_minus_1", borsh::to_vec(&(u64::MAX - 1)).unwrap()),
        ("u128_2pow100_plus_5", borsh::to_vec(&((1u128 << 100) + 5)).unwrap()),
        ("i32_minus_2", borsh::to_vec(&-2i32).unwrap()),
        ("i64_minus_1234567890123", borsh::to_vec(&-1_234_567_890_123i64).unwrap()),
        ("i128_minus_5", borsh::to_vec(&-5i128).unwrap()),
        ("bool_true", borsh::to_vec(&true).unwrap()),
        ("bool_false", borsh::to_vec(&false).unwrap()),
        ("string_hello", borsh::to_vec(&"héllo purse".to_string()).unwrap()),
        ("string_empty", borsh::to_vec(&String::new()).unwrap()),
        ("vec_u8_123", borsh::to_vec(&vec![1u8, 2, 3]).unwrap()),
        ("vec_u32", borsh::to_vec(&vec![1u32, 70_000]).unwrap()),
        ("option_none", borsh::to_vec(&None::<u64>).unwrap()),
        ("option_some_42", borsh::to_vec(&Some(42u64)).unwrap()),
        ("array_u8_4", borsh::to_vec(&[9u8, 8, 7, 6]).unwrap()),
        ("array_u8_32", borsh::to_vec(&a32).unwrap()),
        ("tuple_u32_string", borsh::to_vec(&(5u32, "x".to_string())).unwrap()),
        ("vec_option_bool", borsh::to_vec(&vec![Some(true), None, Some(false)]).unwrap()),
        (
            "lot_struct",
            e(&|| {
                borsh::to_vec(&Lot {
                    owner: a32,
                    points: 1000,
                    expires: 120_000,
                    memo: Some("abc".into()),
                    tags: vec!["x".into(), "yzz".into()],
                })
                .unwrap()
            }),
        ),
    ]
}

#[test]
fn sdk_vectors_are_borsh() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts/sdk/tests/vectors.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let file: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace();
            (it.next().unwrap().to_string(), it.next().unwrap().to_string())
        })
        .collect();
    let expected = expected();
    assert_eq!(file.len(), expected.len(), "vector count");
    for ((name, hex_in_file), (ename, bytes)) in file.iter().zip(expected) {
        assert_eq!(name, ename);
        assert_eq!(hex_in_file, &hex::encode(bytes), "vector {name}");
    }
}
