//! What the VM reads ([`ContractState`], implemented by the runtime), what it produces ([`StateDiff`]), and
//! the per-execution journal that layers writes over the base state with per-frame checkpoints, so a failed
//! frame (trap, out of fuel, host error) rolls back exactly its own writes and those of its nested calls.

use borsh::{BorshDeserialize, BorshSerialize};
use purse_types::{Address, Amount, AssetId, Event, Hash, Role};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A failure of the node's own state access (I/O, corruption). Not a contract error: an execution that hits
/// one fails with [`crate::ExecError::State`], which is fatal — the runtime must not turn it into a receipt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("state access failed: {0}")]
pub struct StateError(pub String);

/// Storage entries (key, value) in ascending key order, as a scan returns them.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The on-chain record of an instantiated contract.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ContractInfo {
    /// Code the contract runs.
    pub code_hash: Hash,
    /// Who may upgrade it; `None`: immutable.
    pub admin: Option<Address>,
    /// Who instantiated it.
    pub creator: Address,
    /// Whether the contract may be called while it is already on the call stack (default: denied).
    pub allow_reentry: bool,
}

/// Read access to the committed-plus-pending state the VM executes on. The runtime implements it over its
/// authenticated state (plus the block's pending overlay); the VM never writes through it — every write is
/// returned in a [`StateDiff`] for the runtime to apply.
///
/// Implementations must be deterministic: the same state gives the same answers on every validator.
pub trait ContractState: Send + Sync {
    /// A contract storage value.
    fn storage_get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// Up to `limit` entries of `contract`'s storage whose key starts with `prefix` and is `>= from`, in
    /// ascending key order.
    fn storage_scan(
        &self,
        contract: &Address,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<Entries, StateError>;

    /// Balance of `account` in `asset` (zero when absent).
    fn balance(&self, account: &Address, asset: &AssetId) -> Result<Amount, StateError>;

    /// Stored code by hash.
    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError>;

    /// Whether code with this hash is stored (defaults to [`ContractState::code`]).
    fn has_code(&self, hash: &Hash) -> Result<bool, StateError> {
        Ok(self.code(hash)?.is_some())
    }

    /// The contract record at `address`.
    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError>;

    /// Whether `account` holds `role` (granted by governance or the role's administrator; roles never change
    /// during a transaction's contract execution).
    fn has_role(&self, account: &Address, role: Role) -> Result<bool, StateError>;

    /// The chain's asset policy for a transfer a contract makes (frozen accounts, non-transferable assets…).
    /// `Err(reason)` refuses it; the contract sees [`crate::abi::TRANSFER_REFUSED`]. Default: allowed.
    fn check_transfer(
        &self,
        _from: &Address,
        _to: &Address,
        _asset: &AssetId,
        _amount: Amount,
    ) -> Result<(), String> {
        Ok(())
    }
}

impl<T: ContractState + ?Sized> ContractState for Arc<T> {
    fn storage_get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).storage_get(contract, key)
    }
    fn storage_scan(
        &self,
        contract: &Address,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<Entries, StateError> {
        (**self).storage_scan(contract, prefix, from, limit)
    }
    fn balance(&self, account: &Address, asset: &AssetId) -> Result<Amount, StateError> {
        (**self).balance(account, asset)
    }
    fn code(&self, hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        (**self).code(hash)
    }
    fn has_code(&self, hash: &Hash) -> Result<bool, StateError> {
        (**self).has_code(hash)
    }
    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        (**self).contract(address)
    }
    fn has_role(&self, account: &Address, role: Role) -> Result<bool, StateError> {
        (**self).has_role(account, role)
    }
    fn check_transfer(
        &self,
        from: &Address,
        to: &Address,
        asset: &AssetId,
        amount: Amount,
    ) -> Result<(), String> {
        (**self).check_transfer(from, to, asset, amount)
    }
}

/// One storage write: `value: None` removes the key.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StorageChange {
    /// Owning contract.
    pub contract: Address,
    /// Key within the contract's storage.
    pub key: Vec<u8>,
    /// New value, or `None` for removed.
    pub value: Option<Vec<u8>>,
}

/// One balance change: the account's new balance.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BalanceChange {
    /// Account.
    pub account: Address,
    /// Asset.
    pub asset: AssetId,
    /// The balance after the execution.
    pub balance: Amount,
}

/// Every write of a successful execution, in a canonical order (sorted by key), for the runtime to apply.
/// Empty when the execution failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StateDiff {
    /// New code stored (hash, bytes): only by deploy, only when not already stored.
    pub codes: Vec<(Hash, Vec<u8>)>,
    /// Contract records created or changed (instantiate, upgrade).
    pub contracts: Vec<(Address, ContractInfo)>,
    /// Contract storage writes.
    pub storage: Vec<StorageChange>,
    /// Native balances changed by transfers.
    pub balances: Vec<BalanceChange>,
}

impl StateDiff {
    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
            && self.contracts.is_empty()
            && self.storage.is_empty()
            && self.balances.is_empty()
    }
}

#[derive(Debug)]
enum Undo {
    Storage { contract: Address, key: Vec<u8>, previous: Option<Option<Vec<u8>>> },
    Balance { account: Address, asset: AssetId, previous: Option<Amount> },
    Contract { address: Address, previous: Option<ContractInfo> },
    Code { hash: Hash, previous: Option<Vec<u8>> },
}

/// A point to roll back to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checkpoint {
    undo: usize,
    events: usize,
}

/// The writes of one execution over the base state, with an undo log for per-frame rollback.
/// What [`Journal::storage_scan`] found, and the work it took.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The entries, in key order.
    pub entries: Entries,
    /// Entries visited: fetched from the base state or passed over in the journal (every returned entry is one
    /// of them).
    pub visited: usize,
    /// The scan stopped at its budget; `entries` is incomplete.
    pub over_budget: bool,
}

#[derive(Default)]
pub(crate) struct Journal {
    storage: BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>,
    balances: BTreeMap<(Address, AssetId), Amount>,
    contracts: BTreeMap<Address, ContractInfo>,
    codes: BTreeMap<Hash, Vec<u8>>,
    undo: Vec<Undo>,
    pub(crate) events: Vec<Event>,
}

impl Journal {
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint { undo: self.undo.len(), events: self.events.len() }
    }

    pub(crate) fn revert(&mut self, to: Checkpoint) {
        while self.undo.len() > to.undo {
            match self.undo.pop() {
                Some(Undo::Storage { contract, key, previous }) => {
                    let k = (contract, key);
                    match previous {
                        Some(v) => self.storage.insert(k, v),
                        None => self.storage.remove(&k),
                    };
                }
                Some(Undo::Balance { account, asset, previous }) => {
                    let k = (account, asset);
                    match previous {
                        Some(v) => self.balances.insert(k, v),
                        None => self.balances.remove(&k),
                    };
                }
                Some(Undo::Contract { address, previous }) => {
                    match previous {
                        Some(v) => self.contracts.insert(address, v),
                        None => self.contracts.remove(&address),
                    };
                }
                Some(Undo::Code { hash, previous }) => {
                    match previous {
                        Some(v) => self.codes.insert(hash, v),
                        None => self.codes.remove(&hash),
                    };
                }
                None => break,
            }
        }
        self.events.truncate(to.events);
    }

    pub(crate) fn storage_get(
        &self,
        base: &dyn ContractState,
        contract: &Address,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StateError> {
        match self.storage.get(&(*contract, key.to_vec())) {
            Some(v) => Ok(v.clone()),
            None => base.storage_get(contract, key),
        }
    }

    pub(crate) fn storage_put(&mut self, contract: Address, key: Vec<u8>, value: Option<Vec<u8>>) {
        let previous = self.storage.insert((contract, key.clone()), value);
        self.undo.push(Undo::Storage { contract, key, previous });
    }

    /// Up to `limit` entries with `prefix`, keys `>= from`, merging the journal over the base state, visiting
    /// at most `budget` entries (base entries fetched plus journal entries passed over): entries deleted in the
    /// journal but still in the base state are fetched and skipped, so a scan can visit far more than it
    /// returns, and the caller charges for every one ([`Scan::visited`]). Past the budget the scan stops,
    /// incomplete, with [`Scan::over_budget`] set.
    pub(crate) fn storage_scan(
        &self,
        base: &dyn ContractState,
        contract: &Address,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
        budget: usize,
    ) -> Result<Scan, StateError> {
        let mut scan = Scan::default();
        if limit == 0 {
            return Ok(scan);
        }
        let mut cursor: Vec<u8> = if from < prefix { prefix.to_vec() } else { from.to_vec() };
        loop {
            let page = base.storage_scan(contract, prefix, &cursor, limit)?;
            scan.visited += page.len();
            if scan.visited > budget {
                scan.over_budget = true;
                return Ok(scan);
            }
            // When the base returned a full page, entries past its last key are unknown yet.
            let upper: Option<Vec<u8>> =
                if page.len() >= limit { page.last().map(|(k, _)| k.clone()) } else { None };
            let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = page
                .into_iter()
                .filter(|(k, _)| k.starts_with(prefix) && k.as_slice() >= cursor.as_slice())
                .collect();
            let start = (*contract, cursor.clone());
            for ((c, k), v) in self.storage.range(start..) {
                if c != contract || !k.starts_with(prefix) {
                    break;
                }
                if let Some(u) = &upper {
                    if k > u {
                        break;
                    }
                }
                scan.visited += 1;
                if scan.visited > budget {
                    scan.over_budget = true;
                    return Ok(scan);
                }
                match v {
                    Some(v) => merged.insert(k.clone(), v.clone()),
                    None => merged.remove(k),
                };
            }
            for (k, v) in merged {
                scan.entries.push((k, v));
                if scan.entries.len() == limit {
                    return Ok(scan);
                }
            }
            match upper {
                Some(mut u) => {
                    u.push(0);
                    cursor = u;
                }
                None => return Ok(scan),
            }
        }
    }

    pub(crate) fn balance(
        &self,
        base: &dyn ContractState,
        account: &Address,
        asset: &AssetId,
    ) -> Result<Amount, StateError> {
        match self.balances.get(&(*account, *asset)) {
            Some(v) => Ok(*v),
            None => base.balance(account, asset),
        }
    }

    pub(crate) fn set_balance(&mut self, account: Address, asset: AssetId, amount: Amount) {
        let previous = self.balances.insert((account, asset), amount);
        self.undo.push(Undo::Balance { account, asset, previous });
    }

    pub(crate) fn contract(
        &self,
        base: &dyn ContractState,
        address: &Address,
    ) -> Result<Option<ContractInfo>, StateError> {
        match self.contracts.get(address) {
            Some(c) => Ok(Some(c.clone())),
            None => base.contract(address),
        }
    }

    pub(crate) fn set_contract(&mut self, address: Address, info: ContractInfo) {
        let previous = self.contracts.insert(address, info);
        self.undo.push(Undo::Contract { address, previous });
    }

    pub(crate) fn has_code(&self, base: &dyn ContractState, hash: &Hash) -> Result<bool, StateError> {
        Ok(self.codes.contains_key(hash) || base.has_code(hash)?)
    }

    pub(crate) fn code(
        &self,
        base: &dyn ContractState,
        hash: &Hash,
    ) -> Result<Option<Arc<[u8]>>, StateError> {
        match self.codes.get(hash) {
            Some(c) => Ok(Some(Arc::from(c.as_slice()))),
            None => base.code(hash),
        }
    }

    pub(crate) fn put_code(&mut self, hash: Hash, code: Vec<u8>) {
        let previous = self.codes.insert(hash, code);
        self.undo.push(Undo::Code { hash, previous });
    }

    /// The accumulated writes, canonical order.
    pub(crate) fn into_diff(self) -> (StateDiff, Vec<Event>) {
        let diff = StateDiff {
            codes: self.codes.into_iter().collect(),
            contracts: self.contracts.into_iter().collect(),
            storage: self
                .storage
                .into_iter()
                .map(|((contract, key), value)| StorageChange { contract, key, value })
                .collect(),
            balances: self
                .balances
                .into_iter()
                .map(|((account, asset), balance)| BalanceChange { account, asset, balance })
                .collect(),
        };
        (diff, self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A base state holding one contract's storage.
    struct Base(BTreeMap<Vec<u8>, Vec<u8>>);

    impl ContractState for Base {
        fn storage_get(&self, _: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
            Ok(self.0.get(key).cloned())
        }
        fn storage_scan(
            &self,
            _: &Address,
            prefix: &[u8],
            from: &[u8],
            limit: usize,
        ) -> Result<Entries, StateError> {
            Ok(self
                .0
                .range(from.to_vec()..)
                .filter(|(k, _)| k.starts_with(prefix))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        }
        fn balance(&self, _: &Address, _: &AssetId) -> Result<Amount, StateError> {
            Ok(Amount(0))
        }
        fn code(&self, _: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
            Ok(None)
        }
        fn contract(&self, _: &Address) -> Result<Option<ContractInfo>, StateError> {
            Ok(None)
        }
        fn has_role(&self, _: &Address, _: purse_types::Role) -> Result<bool, StateError> {
            Ok(false)
        }
    }

    /// A transaction that deletes many stored keys and then scans for one entry makes the scan fetch and skip
    /// every deleted key: the scan counts them all (the host charges for each), and stops at its budget.
    #[test]
    fn a_scan_over_deleted_entries_counts_every_entry_it_skips_and_stops_at_its_budget() {
        let contract = Address([1; 32]);
        let keys: Vec<Vec<u8>> = (0..200u16).map(|i| format!("k/{i:04}").into_bytes()).collect();
        let base = Base(keys.iter().map(|k| (k.clone(), b"v".to_vec())).collect());
        let mut journal = Journal::default();
        for k in &keys[..150] {
            journal.storage_put(contract, k.clone(), None);
        }
        let scan = journal.storage_scan(&base, &contract, b"k/", b"", 1, usize::MAX).unwrap();
        assert_eq!(scan.entries, vec![(keys[150].clone(), b"v".to_vec())]);
        assert!(!scan.over_budget);
        // 151 fetched from the base state, 150 deletions passed over in the journal.
        assert_eq!(scan.visited, 301);
        // The same scan with less budget stops, incomplete, without doing the rest.
        let scan = journal.storage_scan(&base, &contract, b"k/", b"", 1, 100).unwrap();
        assert!(scan.over_budget);
        assert!(scan.entries.is_empty());
        assert!(scan.visited <= 101);
        // A scan with nothing deleted visits what it returns.
        let scan = Journal::default().storage_scan(&base, &contract, b"k/", b"", 10, usize::MAX).unwrap();
        assert_eq!((scan.entries.len(), scan.visited), (10, 10));
    }
}
