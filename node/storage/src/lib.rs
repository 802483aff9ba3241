//! purse-storage — RocksDB storage for a node: state column families, block store, consensus WAL and signer state, with crash-safe atomic commits.
//!
//! Layout, record formats and crash guarantees: `docs/storage.md`.

mod blocks;
mod checksum;
mod error;
mod meta;
mod reader;
mod rocks;
mod rocks_batch;
mod snapshot;
mod storage;
mod wal;

pub use blocks::{AccountTx, BlockInfo, BlockPart, CommitBundle, TxLocation, MAX_TXS_PER_BLOCK};
pub use checksum::CHECKSUM_LEN;
pub use error::StorageError;
pub use meta::{FormatRecord, Head, FORMAT_VERSION, MAX_CHAIN_ID_LEN};
pub use reader::{BlockReader, MAX_ACCOUNT_TXS};
pub use rocks::{RocksConfig, RocksStore};
pub use snapshot::{
    export_snapshot_of_store, import_snapshot, import_snapshot_with_blocks, SnapshotHeader,
    MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_ENTRIES, MAX_SNAPSHOT_FILE_BYTES, PARTIAL_EXTENSION, SNAPSHOT_FORMAT,
    SNAPSHOT_MAGIC,
};
pub use storage::Storage;
pub use wal::MAX_WAL_ENTRY_LEN;
