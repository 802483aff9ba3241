//! purse-state — Authenticated key-value state (Jellyfish-style Merkle tree) over a KvStore trait, with proofs, overlays, versions and an in-memory store.
