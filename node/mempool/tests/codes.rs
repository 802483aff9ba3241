//! The reason codes are a public interface: pin every string so a rename fails here first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use purse_mempool::{DropReason, Reason, Verdict};
use purse_types::{AssetId, Hash};
use std::collections::BTreeSet;

#[test]
fn reason_codes_are_stable_and_distinct() {
    let a = AssetId([0; 32]);
    let all = vec![
        (Reason::BadSignature, "bad_signature"),
        (Reason::TooLarge { len: 1, max: 0 }, "too_large"),
        (Reason::WrongChain("x".into()), "wrong_chain"),
        (Reason::Expired { expiry: 0, next_height: 1 }, "expired"),
        (Reason::UnknownSender, "unknown_sender"),
        (Reason::WrongKey, "wrong_key"),
        (Reason::NonceTooLow { committed: 1, got: 0 }, "nonce_too_low"),
        (Reason::NonceTooHigh { expected: 0, got: 100, max_gap: 64 }, "nonce_too_high"),
        (Reason::AlreadyKnown, "already_known"),
        (Reason::ReplacementUnderpriced { required: 2, offered: 1 }, "replacement_underpriced"),
        (Reason::FeeTooLow { required: 2, max_fee: 1 }, "fee_too_low"),
        (Reason::FuelTooHigh { fuel: 2, max: 1 }, "fuel_too_high"),
        (Reason::CannotPayFee { fee: 2, available: 1 }, "cannot_pay_fee"),
        (Reason::InsufficientAvailable { asset: a, available: 1, needed: 2 }, "insufficient_available"),
        (Reason::InvalidAmount, "invalid_amount"),
        (Reason::TooManyDebitAssets { count: 17, max: 16 }, "too_many_debit_assets"),
        (Reason::Overflow, "overflow"),
        (Reason::UnsupportedPayload("confidential"), "unsupported_payload"),
        (Reason::SenderFull { max: 64 }, "sender_full"),
        (Reason::FutureQueueFull, "future_queue_full"),
        (Reason::PoolFull, "pool_full"),
        (Reason::ConfidentialNotRegistered, "confidential_not_registered"),
        (Reason::ConfidentialAlreadyRegistered, "confidential_already_registered"),
        (Reason::ConfidentialProofInvalid("x".into()), "confidential_proof_invalid"),
        (Reason::ConfidentialStaleBalance, "confidential_stale_balance"),
        (Reason::ConfidentialPendingChanged { expected: 1, actual: 0 }, "confidential_pending_changed"),
        (Reason::ConfidentialReplacementConflict, "confidential_replacement_conflict"),
        (Reason::Frozen("x".into()), "frozen"),
        (Reason::HolderNotAuthorized("x".into()), "holder_not_authorized"),
        (Reason::UnknownRecipient("x".into()), "unknown_recipient"),
        (Reason::TxLimitExceeded { asset: a, limit: 1, amount: 2 }, "tx_limit_exceeded"),
        (Reason::DailyLimitExceeded { asset: a, limit: 3, spent: 2, amount: 2 }, "daily_limit_exceeded"),
    ];
    for (r, code) in &all {
        assert_eq!(r.code(), *code);
        assert_eq!(Verdict::Invalid(r.clone()).code(), *code);
        assert_eq!(DropReason::Invalid(r.clone()).code(), *code);
    }
    let codes: Vec<_> = all.iter().map(|(_, c)| *c).collect();
    assert_eq!(codes, Reason::ALL_CODES.to_vec());
    let h = Hash([0; 32]);
    let mut every: BTreeSet<&str> = codes.iter().copied().collect();
    for c in [
        Verdict::Valid.code(),
        Verdict::Queued { expected: 0 }.code(),
        DropReason::Ttl.code(),
        DropReason::Capacity.code(),
        DropReason::Cascade { cause: h }.code(),
        DropReason::Replaced { by: h }.code(),
    ] {
        assert!(every.insert(c), "duplicate code {c}");
    }
    assert_eq!(Verdict::Valid.code(), "valid");
    assert_eq!(Verdict::Queued { expected: 0 }.code(), "queued");
    assert_eq!(DropReason::Ttl.code(), "evicted_ttl");
    assert_eq!(DropReason::Capacity.code(), "evicted_capacity");
    assert_eq!(DropReason::Cascade { cause: h }.code(), "evicted_cascade");
    assert_eq!(DropReason::Replaced { by: h }.code(), "replaced");
}
