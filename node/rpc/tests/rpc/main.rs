//! Integration tests of the RPC server against a `MockNode`, over real sockets on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../common/mod.rs"]
mod common;

mod history;
mod http;
mod metrics;
mod openapi;
mod rules;
mod ws;
