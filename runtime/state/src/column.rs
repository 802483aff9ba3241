//! The namespaces of a [`KvStore`](crate::KvStore); RocksDB maps each to a column family.

use std::fmt;

/// A namespace of keys. Keys in different columns never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// State tree nodes, keyed by node key (version, nibble path).
    StateNodes,
    /// State values, keyed by key hash and inverted version.
    StateValues,
    /// Stale-record index for pruning, keyed by the version since which a record is unused.
    StateStale,
    /// State root pointer per version.
    StateRoots,
    /// Blocks, headers, certificates and receipts by height.
    Blocks,
    /// Secondary indexes: block hash → height, transaction id → (height, position).
    BlockIndex,
    /// Store metadata: format version, chain id, head, state horizons.
    Meta,
    /// The consensus write-ahead log.
    ConsensusWal,
    /// The signer's last signed height/round/step.
    Signer,
    /// Ordered index of the live keys of the latest state version (raw key → empty), for prefix scans.
    StateIndex,
}

impl Column {
    /// Every column, in a fixed order.
    pub const ALL: [Column; 10] = [
        Column::StateNodes,
        Column::StateValues,
        Column::StateStale,
        Column::StateRoots,
        Column::Blocks,
        Column::BlockIndex,
        Column::Meta,
        Column::ConsensusWal,
        Column::Signer,
        Column::StateIndex,
    ];

    /// The stable name of the column (the RocksDB column family name). Renaming one is a format change.
    pub const fn name(self) -> &'static str {
        match self {
            Column::StateNodes => "state_nodes",
            Column::StateValues => "state_values",
            Column::StateStale => "state_stale",
            Column::StateRoots => "state_roots",
            Column::Blocks => "blocks",
            Column::BlockIndex => "block_index",
            Column::Meta => "meta",
            Column::ConsensusWal => "consensus_wal",
            Column::Signer => "signer",
            Column::StateIndex => "state_index",
        }
    }

    /// Position of the column in [`Column::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Column::StateNodes => 0,
            Column::StateValues => 1,
            Column::StateStale => 2,
            Column::StateRoots => 3,
            Column::Blocks => 4,
            Column::BlockIndex => 5,
            Column::Meta => 6,
            Column::ConsensusWal => 7,
            Column::Signer => 8,
            Column::StateIndex => 9,
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_position_and_names_are_distinct() {
        let mut names = std::collections::BTreeSet::new();
        for (i, c) in Column::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            assert!(names.insert(c.name()));
        }
    }
}
