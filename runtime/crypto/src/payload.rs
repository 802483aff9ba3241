//! The bytes inside the `ConfidentialOp` payloads, which purse-types keeps opaque: what a wallet encodes and
//! the runtime decodes (with [`crate::from_bytes`], so every point and scalar is canonical).
//!
//! | operation | field | bytes |
//! |---|---|---|
//! | `Register` | `proof` | a [`crate::PubkeyValidityProof`] |
//! | `Transfer` | `bundle` | a [`TransferData`] |
//! | `Withdraw` | `bundle` | a [`WithdrawData`] |
//! | `ApplyPending` | `new_decryptable_balance` | an [`AeCiphertext`] |

use crate::ae::AeCiphertext;
use crate::transfer::TransferBundle;
use crate::withdraw::WithdrawBundle;
use borsh::{BorshDeserialize, BorshSerialize};
use purse_types::{Address, AssetId};

/// `ConfidentialOp::Transfer::bundle`: the proof bundle and the sender's new decryptable available balance.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct TransferData {
    /// The transfer proof bundle.
    pub bundle: TransferBundle,
    /// The sender's available balance after the transfer, under its AE key (the chain cannot check it).
    pub new_decryptable_balance: AeCiphertext,
}

/// `ConfidentialOp::Withdraw::bundle`: the withdrawal proof and the owner's new decryptable available balance.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct WithdrawData {
    /// The withdrawal proof bundle (its `amount` must equal the operation's public amount).
    pub bundle: WithdrawBundle,
    /// The owner's available balance after the withdrawal, under its AE key.
    pub new_decryptable_balance: AeCiphertext,
}

/// The associated data binding a decryptable balance to its confidential account: owner address ‖ asset id.
pub fn decryptable_balance_aad(owner: &Address, asset: &AssetId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(&owner.0);
    aad.extend_from_slice(&asset.0);
    aad
}
