#![no_main]
//! Every decoder on arbitrary bytes: must return Ok or Err, never panic; anything that decodes must
//! re-encode to exactly the input (canonical form).

use libfuzzer_sys::fuzz_target;
use purse_types::*;

fn check<T: borsh::BorshDeserialize + borsh::BorshSerialize>(data: &[u8]) {
    if let Ok(v) = decode::<T>(data) {
        assert_eq!(encode(&v), data, "non-canonical encoding accepted");
    }
}

fuzz_target!(|data: &[u8]| {
    match data.first().copied().unwrap_or(0) % 8 {
        0 => check::<SignedTransaction>(&data[1.min(data.len())..]),
        1 => check::<Block>(&data[1.min(data.len())..]),
        2 => check::<Header>(&data[1.min(data.len())..]),
        3 => check::<SignedVote>(&data[1.min(data.len())..]),
        4 => check::<CommitCertificate>(&data[1.min(data.len())..]),
        5 => check::<ValidatorSet>(&data[1.min(data.len())..]),
        6 => check::<Evidence>(&data[1.min(data.len())..]),
        _ => check::<Receipt>(&data[1.min(data.len())..]),
    }
});
