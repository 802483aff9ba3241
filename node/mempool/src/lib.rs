//! purse-mempool — the pending-transaction validator: admits a transaction only if it is valid against
//! committed state plus the debits of every pending transaction, answers with a stable reason, and keeps the pool
//! consistent with each committed block.
//!
//! # Model
//!
//! For every sender the pool keeps a *pending* sequence (executable: nonces continue the committed nonce without
//! gaps) and a bounded *future* queue (nonces after a gap). Per (sender, asset) it keeps a speculative ledger:
//! the committed spendable balance and Σ debits of the sender's pending transactions. A transaction is admitted
//! as pending only if, for every asset it can debit (the fee counts as a debit of the fee asset),
//!
//! ```text
//! committed balance − reserved − Σ pending debits − this debit ≥ 0
//! ```
//!
//! Pending *credits* never count: an incoming transfer is spendable only once committed. Because only a
//! sender's own transactions debit it and every debit is declared up front, any order of execution of the pending
//! transactions that keeps each sender's nonce order cannot overdraw — no bond or collateral needed.
//!
//! # Use
//!
//! - [`Mempool::new`] over committed state; [`Mempool::admit`] / [`Mempool::admit_verified`] /
//!   [`Mempool::admit_batch`] to submit; [`Mempool::check`] to validate only (RPC);
//! - [`Mempool::reap`] to build a block (fair round-robin across senders, nonce order per sender);
//! - [`Mempool::on_commit`] after every committed block;
//! - [`Mempool::take_dropped`] for notifications of transactions that left without inclusion.
//!
//! Confidential transactions (issue 8 item 4): per (sender, asset) the pool projects the sender's confidential
//! account after its own pending transactions and verifies every new confidential proof against that projection
//! at admission — never against a balance that pending incoming credits could change (they only touch the
//! recipient's *pending* balance). A second debit proved against an already-spent balance version is
//! `confidential_stale_balance`.
//!
//! The chain's permission rules (frozen assets and holdings, authorization, registered recipients, tier limits
//! with the daily total counting pending transactions) are judged at admission with the runtime's own checks.
//!
//! See `docs/mempool.md` for the rules, reason codes, lifecycle and bounds.

mod confidential;
pub mod config;
pub mod debits;
mod permits;
pub mod pool;
pub mod reason;

pub use config::PoolConfig;
pub use debits::{Debit, DebitPolicy, Debits, StandardDebits};
pub use pool::{CommitReport, Mempool, PoolStats};
pub use reason::{DropReason, MempoolError, Reason, Verdict};
