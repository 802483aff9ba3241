//! purse-storage — RocksDB storage for a node: state column families, block store, consensus WAL and signer state, with crash-safe atomic commits.
