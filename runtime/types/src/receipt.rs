//! Transaction receipts and events.

use crate::address::Address;
use crate::hash::Hash;
use borsh::{BorshDeserialize, BorshSerialize};

/// Most events one transaction may emit.
pub const MAX_EVENTS_PER_TX: usize = 256;

/// Something a transaction did that clients may subscribe to.
#[derive(
    Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct Event {
    /// The contract (or system module address) that emitted it.
    pub emitter: Address,
    /// Topic, e.g. `transfer` or `points.expiring`.
    pub topic: String,
    /// Borsh-encoded data.
    pub data: Vec<u8>,
}

/// Outcome of one transaction.
#[derive(
    Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub enum TxStatus {
    /// Applied.
    Success,
    /// Rejected or rolled back; the fee was still charged. `code` is stable and machine-readable.
    Failed {
        /// Stable machine-readable reason, e.g. `insufficient_funds`.
        code: String,
        /// Human-readable detail.
        message: String,
    },
}

/// The receipt of a transaction included in a block.
#[derive(
    Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize, serde::Deserialize,
)]
pub struct Receipt {
    /// The transaction.
    pub tx_id: Hash,
    /// Outcome.
    pub status: TxStatus,
    /// Fuel consumed (contracts) or charged units (native).
    pub fuel_used: u64,
    /// Fee paid in the native asset, smallest units.
    pub fee_paid: u128,
    /// Events, empty when the transaction failed.
    pub events: Vec<Event>,
}
