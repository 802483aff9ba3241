//! purse-node — the `purse` binary: config, keys, genesis, and the wiring of engine, libp2p network, block sync and RPC into a running validator.
//!
//! Commands (see `purse --help` and docs/operator.md): `purse init`, `purse keys show|generate`,
//! `purse genesis new|add-validator|add-account|add-asset|show`, `purse node run [--dev]`, `purse status`,
//! `purse snapshot export`, `purse tx propose|vote|admin`.
//!
//! Module map: [`cli`] parses the command line; [`config`] is the documented TOML file; [`keys`] the validator
//! key file; [`genesis_cmd`] the genesis document; [`node`] assembles and runs a node; [`bridge`] connects the
//! engine to libp2p (gossip in and out, sync serving); [`sync`] is the block sync client; [`api`] implements
//! the RPC's `NodeApi`; [`tx_cmd`] builds, signs and submits governance and permission transactions
//! (`purse tx`); [`dev`] prepares single-validator dev chains; [`http`] is a tiny client for `purse status` and
//! `purse tx`.

pub mod api;
pub mod bridge;
pub mod cli;
pub mod config;
pub mod dev;
pub mod genesis_cmd;
pub mod history_cmd;
pub mod http;
pub mod keys;
pub mod logging;
pub mod node;
pub mod snapshots;
pub mod sync;
pub mod tx_cmd;
pub mod tx_submit;
