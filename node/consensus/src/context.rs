//! The [`Context`] trait: the concrete chain types the consensus core is generic over.

use core::fmt::Debug;
use core::hash::Hash;

/// A block height. Heights start at 1 on a fresh chain (the genesis state is height 0).
pub type Height = u64;

/// A round within a height. Round 0 is the first round; "no round" (the paper's `-1`) is `None`
/// wherever a round is optional (`lockedRound`, `validRound`, a proposal's `validRound`).
pub type Round = u32;

/// Voting power of a validator. Totals are bounded by [`crate::MAX_TOTAL_VOTING_POWER`].
pub type VotingPower = u64;

/// The chain-specific types the core works with.
///
/// The core never hashes, signs or verifies anything itself: it only compares [`Context::ValueId`]s and
/// [`Context::Address`]es and carries [`Context::Signature`]s around unchanged. The host (the node) must verify the
/// signature of every inbound proposal and vote *before* handing it to the core as an [`crate::Input`].
///
/// The node implements this with purse-types (ed25519 signatures, blake3 block ids, validator addresses);
/// tests implement it with small integers.
pub trait Context: Clone + Debug + PartialEq + Eq + Send + Sync + 'static {
    /// Identity of a validator (its address / public-key id).
    type Address: Clone + Ord + Hash + Debug + Send + Sync;
    /// The value consensus decides on (a block).
    type Value: Clone + Eq + Debug + Send + Sync;
    /// A short, collision-resistant identifier of a value (a block hash). Votes carry only the id.
    type ValueId: Copy + Ord + Hash + Debug + Send + Sync;
    /// A signature over a proposal or a vote, produced by the host's signer.
    type Signature: Clone + Eq + Debug + Send + Sync;

    /// The id of a value. Must be a deterministic function of the value (e.g. its blake3 block hash).
    fn value_id(value: &Self::Value) -> Self::ValueId;
}

/// A vote target: either nil or a concrete value id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NilOrVal<Id> {
    /// The nil vote (`nil` in the paper).
    Nil,
    /// A vote for the value with this id (`id(v)` in the paper).
    Val(Id),
}

impl<Id: Copy> NilOrVal<Id> {
    /// The value id, if this is not nil.
    pub fn value(&self) -> Option<Id> {
        match self {
            NilOrVal::Nil => None,
            NilOrVal::Val(id) => Some(*id),
        }
    }

    /// Whether this is the nil vote.
    pub fn is_nil(&self) -> bool {
        matches!(self, NilOrVal::Nil)
    }
}
