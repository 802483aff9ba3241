//! Confidential transactions in the pool (issue 8 item 4): per (sender, asset) the pool projects the sender's
//! confidential account — committed record plus the effects of the sender's own pending transactions, in nonce
//! order — and a new confidential transaction must verify against that projection.
//!
//! The projected *available* ciphertext changes only through the sender's own transactions (transfer out,
//! withdraw, apply-pending), which the pool knows; pending incoming credits of other senders only ever touch the
//! recipient's *pending* balance, which no proof is against. So a proof that verifies against the projection
//! stays valid whatever other senders' transactions execute first. A second pending debit proved against the
//! committed balance (a double spend of one balance version) fails against the projection and is refused with
//! [`Reason::ConfidentialStaleBalance`].

use crate::reason::Reason;
use purse_crypto::{
    from_bytes, AeCiphertext, ElGamalCiphertext, ElGamalPubkey, PubkeyValidityProof, TransferBundle,
};
use purse_runtime::confidential::{self as conf, MAX_DEPOSIT_AMOUNT};
use purse_runtime::schema::ConfidentialAccount;
use purse_runtime::{BlockState, ExecError, StateRead};
use purse_types::{Address, AssetId, ConfidentialOp, Payload, Transaction};

/// One (account, asset) confidential account as the pool projects it after some pending transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Projection {
    /// Registered key (`None`: not registered).
    pub pubkey: Option<ElGamalPubkey>,
    /// Available balance ciphertext.
    pub available: ElGamalCiphertext,
    /// Pending balance as far as the pool knows it (committed pending plus the sender's own deposits).
    pub pending: ElGamalCiphertext,
    /// Pending-credit count as far as the pool knows it.
    pub credits: u64,
}

impl Projection {
    fn from_committed(rec: Option<&ConfidentialAccount>) -> Projection {
        match rec {
            Some(r) => Projection {
                pubkey: Some(r.pubkey),
                available: r.available,
                pending: conf::pending_total(r),
                credits: r.pending_credits,
            },
            None => Projection {
                pubkey: None,
                available: ElGamalCiphertext::zero(),
                pending: ElGamalCiphertext::zero(),
                credits: 0,
            },
        }
    }

    /// Applies one pending transaction's effect (of this projection's asset).
    pub fn apply(&mut self, effect: &Effect) {
        match &effect.kind {
            Kind::Register(pk) => {
                *self = Projection::from_committed(None);
                self.pubkey = Some(*pk);
            }
            Kind::Deposit(amount) => {
                self.pending = self.pending.add_amount(*amount);
                self.credits = self.credits.saturating_add(1);
            }
            Kind::Apply => {
                self.available = self.available.add(&self.pending);
                self.pending = ElGamalCiphertext::zero();
                self.credits = 0;
            }
            Kind::Debit { after, .. } => self.available = *after,
        }
    }
}

/// What a pending confidential transaction does to its sender's confidential account, with the inputs its proof
/// was verified against (so a re-check with unchanged inputs needs no new verification).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Effect {
    /// The asset.
    pub asset: AssetId,
    /// The change.
    pub kind: Kind,
}

/// The kinds of change.
// The whole effect is boxed in a pool entry; boxing the variant too would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Registration with this key.
    Register(ElGamalPubkey),
    /// A deposit of this public amount into the sender's pending balance.
    Deposit(u64),
    /// Apply-pending.
    Apply,
    /// A transfer out or withdrawal: `before` is the available ciphertext its proof verified against.
    Debit {
        /// Available balance the proof is against.
        before: ElGamalCiphertext,
        /// Available balance after it.
        after: ElGamalCiphertext,
        /// Recipient key and auditor key a transfer was verified with (`None` for a withdrawal).
        keys: Option<(ElGamalPubkey, Option<ElGamalPubkey>)>,
    },
}

/// The asset a confidential payload acts on, if it changes the sender's confidential account.
pub(crate) fn touched_asset(tx: &Transaction) -> Option<AssetId> {
    match &tx.payload {
        Payload::Confidential(op) => match op {
            ConfidentialOp::Register { asset, .. }
            | ConfidentialOp::Transfer { asset, .. }
            | ConfidentialOp::ApplyPending { asset, .. } => Some(*asset),
            ConfidentialOp::Deposit { coin } | ConfidentialOp::Withdraw { coin, .. } => Some(coin.asset),
            ConfidentialOp::SetAuditor { .. } => None,
        },
        _ => None,
    }
}

/// The committed confidential account of `owner` in `asset`.
pub(crate) fn committed<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    owner: &Address,
    asset: &AssetId,
) -> Result<Option<ConfidentialAccount>, ExecError> {
    conf::account(st, owner, asset)
}

/// The projection after `effects` (the sender's earlier pending transactions, in nonce order) over `committed`.
pub(crate) fn project<'a>(
    committed: Option<&ConfidentialAccount>,
    asset: &AssetId,
    effects: impl Iterator<Item = Option<&'a Effect>>,
) -> Projection {
    let mut p = Projection::from_committed(committed);
    for e in effects.flatten().filter(|e| &e.asset == asset) {
        p.apply(e);
    }
    p
}

fn invalid(msg: impl Into<String>) -> Reason {
    Reason::ConfidentialProofInvalid(msg.into())
}

fn registered(p: &Projection) -> Result<ElGamalPubkey, Reason> {
    p.pubkey.ok_or(Reason::ConfidentialNotRegistered)
}

/// Checks a confidential transaction against the projection `p` of its sender's account (after the sender's own
/// earlier pending transactions) and committed state `st`; returns its effect. `previous` is the effect this
/// transaction had when last checked: when its proof inputs are unchanged it is reused without re-verifying.
pub(crate) fn check<R: StateRead + ?Sized>(
    st: &BlockState<'_, R>,
    tx: &Transaction,
    p: &Projection,
    committed: Option<&ConfidentialAccount>,
    previous: Option<&Effect>,
) -> Result<Result<Option<Effect>, Reason>, ExecError> {
    let Payload::Confidential(op) = &tx.payload else { return Ok(Ok(None)) };
    let effect = |asset: &AssetId, kind: Kind| Ok(Ok(Some(Effect { asset: *asset, kind })));
    match op {
        ConfidentialOp::SetAuditor { .. } => Ok(Ok(None)),
        ConfidentialOp::Register { asset, encryption_key, proof } => {
            if p.pubkey.is_some() {
                return Ok(Err(Reason::ConfidentialAlreadyRegistered));
            }
            let Ok(pk) = ElGamalPubkey::from_bytes(*encryption_key) else {
                return Ok(Err(invalid("invalid encryption key")));
            };
            let ok = from_bytes::<PubkeyValidityProof>(proof)
                .is_ok_and(|pr| pr.verify(&pk, &conf::account_context(tx, asset)).is_ok());
            if !ok {
                return Ok(Err(invalid("proof of key possession does not verify")));
            }
            effect(asset, Kind::Register(pk))
        }
        ConfidentialOp::Deposit { coin } => {
            if coin.amount.0 == 0 || coin.amount.0 > u128::from(MAX_DEPOSIT_AMOUNT) {
                return Ok(Err(Reason::InvalidAmount));
            }
            if let Err(r) = registered(p) {
                return Ok(Err(r));
            }
            // Bounded by MAX_DEPOSIT_AMOUNT above.
            let amount = u64::try_from(coin.amount.0).unwrap_or(MAX_DEPOSIT_AMOUNT);
            effect(&coin.asset, Kind::Deposit(amount))
        }
        ConfidentialOp::ApplyPending { asset, expected_pending_credits, new_decryptable_balance } => {
            if let Err(r) = registered(p) {
                return Ok(Err(r));
            }
            if from_bytes::<AeCiphertext>(new_decryptable_balance).is_err() {
                return Ok(Err(invalid("decryptable balance does not decode")));
            }
            if *expected_pending_credits != p.credits {
                return Ok(Err(Reason::ConfidentialPendingChanged {
                    expected: *expected_pending_credits,
                    actual: p.credits,
                }));
            }
            effect(asset, Kind::Apply)
        }
        ConfidentialOp::Transfer { asset, to, bundle } => {
            let src = match registered(p) {
                Ok(k) => k,
                Err(r) => return Ok(Err(r)),
            };
            if to == &tx.sender {
                return Ok(Err(invalid("a confidential transfer to oneself")));
            }
            let Some(dst) = conf::account(st, to, asset)? else {
                return Ok(Err(Reason::ConfidentialNotRegistered));
            };
            let auditor = conf::auditor(st, asset)?;
            let keys = Some((dst.pubkey, auditor));
            if let Some(Effect { kind: Kind::Debit { before, after, keys: k }, .. }) = previous {
                if before == &p.available && k == &keys {
                    return effect(asset, Kind::Debit { before: *before, after: *after, keys });
                }
            }
            let data = match conf::decode_transfer(bundle) {
                Ok(d) => d,
                Err(e) => return Ok(Err(invalid(e.to_string()))),
            };
            let ctx = conf::transfer_context(tx, to, asset);
            let verify = |b: &TransferBundle, avail: &ElGamalCiphertext| {
                b.verify(&ctx, &src, &dst.pubkey, auditor.as_ref(), avail)
            };
            match verify(&data.bundle, &p.available) {
                Ok(fx) => {
                    effect(asset, Kind::Debit { before: p.available, after: fx.source_new_available, keys })
                }
                Err(e) => Ok(Err(classify(committed, &p.available, e.to_string(), |old| {
                    verify(&data.bundle, old).is_ok()
                }))),
            }
        }
        ConfidentialOp::Withdraw { coin, bundle } => {
            let pk = match registered(p) {
                Ok(k) => k,
                Err(r) => return Ok(Err(r)),
            };
            if coin.amount.0 == 0 {
                return Ok(Err(Reason::InvalidAmount));
            }
            if let Some(Effect { kind: Kind::Debit { before, after, keys: None }, .. }) = previous {
                if before == &p.available {
                    return effect(&coin.asset, Kind::Debit { before: *before, after: *after, keys: None });
                }
            }
            let data = match conf::decode_withdraw(bundle) {
                Ok(d) => d,
                Err(e) => return Ok(Err(invalid(e.to_string()))),
            };
            if u128::from(data.bundle.amount) != coin.amount.0 {
                return Ok(Err(invalid("the proof is for another amount")));
            }
            let ctx = conf::account_context(tx, &coin.asset);
            match data.bundle.verify(&ctx, &pk, &p.available) {
                Ok(fx) => effect(
                    &coin.asset,
                    Kind::Debit { before: p.available, after: fx.new_available, keys: None },
                ),
                Err(e) => Ok(Err(classify(committed, &p.available, e.to_string(), |old| {
                    data.bundle.verify(&ctx, &pk, old).is_ok()
                }))),
            }
        }
    }
}

/// A proof failed against the projection: a double spend if it verifies against the committed available balance
/// that a pending transaction of the sender already spends, otherwise an invalid proof.
fn classify(
    committed: Option<&ConfidentialAccount>,
    projected: &ElGamalCiphertext,
    error: String,
    verifies_against: impl Fn(&ElGamalCiphertext) -> bool,
) -> Reason {
    match committed {
        Some(c) if &c.available != projected && verifies_against(&c.available) => {
            Reason::ConfidentialStaleBalance
        }
        _ => Reason::ConfidentialProofInvalid(error),
    }
}
