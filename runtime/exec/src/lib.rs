//! purse-runtime — the state-transition function: native modules, contract calls, block apply to a state root.
//!
//! [`Runtime::execute_block`] applies a block's transactions on top of committed state and returns the block's state
//! writes (an [`purse_state::Overlay`] the node commits atomically with the block) and one receipt per
//! transaction. Transaction failures are receipts with stable codes ([`TxError::code`]); only a broken store is
//! an error. [`Genesis`] builds the initial state (its contracts, if any, deployed on the VM:
//! [`Runtime::genesis_state`]). Confidential transfers (issue 9) are the native module
//! [`confidential`]; their transfer proofs are batch-verified per block (see [`Runtime::execute_block`]).
//! Permissioning (issue 7) is [`permissions`] (onboarding, roles, asset controls, tier limits — checked on
//! every balance movement, contract transfers included) and [`governance`] (proposals, votes, the actions they
//! apply, the validator-set schedule); both expose read-only queries of the current rules.

pub mod confidential;
pub mod contracts;
pub mod error;
pub mod executor;
pub mod genesis;
pub mod governance;
pub mod native;
pub mod params;
pub mod permissions;
pub mod schema;
pub mod state;

pub use error::{ConfidentialError, ExecError, GovernanceError, RuntimeError, TxError};
pub use executor::{
    check_envelope, declared_fuel, receipt_root, verify_signatures, BlockContext, BlockOutput, Runtime,
};
pub use genesis::{
    Genesis, GenesisAccount, GenesisAsset, GenesisContract, GenesisRoleAdmin, GenesisTierLimits,
    GovernanceGenesis, DEFAULT_GENESIS_CONTRACT_FUEL, MAX_GENESIS_CODE_BYTES, MAX_GENESIS_CONTRACTS,
};
pub use governance::validator_set_at;
pub use params::Params;
pub use state::{BlockState, Entries, Layers, StateRead};
