//! Chain parameters: fees and limits, set at genesis and changed by governance.

use crate::error::RuntimeError;
use crate::schema;
use crate::state::{BlockState, StateRead};

/// Chain parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Params {
    /// Fee charged per transaction, in native smallest units.
    pub fee_base: u128,
    /// Fee charged per encoded byte of the transaction.
    pub fee_per_byte: u128,
    /// Largest encoded block body the proposer may build, in bytes.
    pub max_block_bytes: u64,
    /// Most transactions per block.
    pub max_block_txs: u64,
    /// Fee per 1,000 units of contract fuel (rounded up), in native smallest units.
    pub fee_per_kfuel: u128,
    /// Highest fuel limit one transaction may declare.
    pub max_tx_fuel: u64,
    /// Most fuel the transactions of one block may declare together (block building stops below it).
    pub max_block_fuel: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            fee_base: 1_000,
            fee_per_byte: 1,
            max_block_bytes: 4 * 1024 * 1024,
            max_block_txs: 20_000,
            fee_per_kfuel: 1,
            max_tx_fuel: 100_000_000,
            max_block_fuel: 2_000_000_000,
        }
    }
}

const NAMES: [&str; 7] = [
    "fee_base",
    "fee_per_byte",
    "max_block_bytes",
    "max_block_txs",
    "fee_per_kfuel",
    "max_tx_fuel",
    "max_block_fuel",
];

impl Params {
    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_block_bytes == 0 || self.max_block_bytes > purse_types::block::MAX_BLOCK_BYTES as u64 {
            return Err("max_block_bytes must be in 1..=8 MiB".into());
        }
        if self.max_block_txs == 0 {
            return Err("max_block_txs must be positive".into());
        }
        if self.max_tx_fuel > self.max_block_fuel {
            return Err("max_tx_fuel must not exceed max_block_fuel".into());
        }
        Ok(())
    }

    /// The names `SetParameter` proposals may use, in storage order.
    pub const NAMES: [&'static str; 7] = NAMES;

    /// Sets the parameter `name` to `value` and checks the result ([`Params::validate`]).
    pub fn set(&mut self, name: &str, value: u128) -> Result<(), String> {
        let small = || u64::try_from(value).map_err(|_| format!("{name} must fit in 64 bits"));
        match name {
            "fee_base" => self.fee_base = value,
            "fee_per_byte" => self.fee_per_byte = value,
            "max_block_bytes" => self.max_block_bytes = small()?,
            "max_block_txs" => self.max_block_txs = small()?,
            "fee_per_kfuel" => self.fee_per_kfuel = value,
            "max_tx_fuel" => self.max_tx_fuel = small()?,
            "max_block_fuel" => self.max_block_fuel = small()?,
            _ => return Err(format!("unknown parameter {name:?} (one of {})", NAMES.join(", "))),
        }
        self.validate()
    }

    /// Writes every parameter.
    pub fn write<R: StateRead + ?Sized>(&self, st: &mut BlockState<'_, R>) {
        let values = [
            self.fee_base,
            self.fee_per_byte,
            u128::from(self.max_block_bytes),
            u128::from(self.max_block_txs),
            self.fee_per_kfuel,
            u128::from(self.max_tx_fuel),
            u128::from(self.max_block_fuel),
        ];
        for (name, v) in NAMES.iter().zip(values) {
            st.put_record(schema::param_key(name), &v);
        }
    }

    /// Reads every parameter (defaults where absent).
    pub fn read<R: StateRead + ?Sized>(st: &BlockState<'_, R>) -> Result<Params, RuntimeError> {
        let d = Params::default();
        let get = |name: &str, default: u128| -> Result<u128, RuntimeError> {
            Ok(st.get_record::<u128>(&schema::param_key(name))?.unwrap_or(default))
        };
        Ok(Params {
            fee_base: get("fee_base", d.fee_base)?,
            fee_per_byte: get("fee_per_byte", d.fee_per_byte)?,
            max_block_bytes: u64::try_from(get("max_block_bytes", u128::from(d.max_block_bytes))?)
                .unwrap_or(u64::MAX),
            max_block_txs: u64::try_from(get("max_block_txs", u128::from(d.max_block_txs))?)
                .unwrap_or(u64::MAX),
            fee_per_kfuel: get("fee_per_kfuel", d.fee_per_kfuel)?,
            max_tx_fuel: u64::try_from(get("max_tx_fuel", u128::from(d.max_tx_fuel))?).unwrap_or(u64::MAX),
            max_block_fuel: u64::try_from(get("max_block_fuel", u128::from(d.max_block_fuel))?)
                .unwrap_or(u64::MAX),
        })
    }

    /// The fee for `fuel` units of contract fuel: `ceil(fuel / 1000) × fee_per_kfuel`.
    pub fn fuel_fee(&self, fuel: u64) -> u128 {
        u128::from(fuel.div_ceil(1_000)).saturating_mul(self.fee_per_kfuel)
    }

    /// How many of `txs`, from the front, fit in one block: at most `max_block_txs` transactions,
    /// `max_block_bytes` encoded bytes and `max_block_fuel` declared fuel. Block building takes this prefix;
    /// validation rejects a block that does not fit entirely.
    pub fn fitting_prefix(&self, txs: &[purse_types::SignedTransaction]) -> usize {
        let (mut bytes, mut fuel) = (0u64, 0u64);
        for (i, tx) in txs.iter().enumerate() {
            bytes = bytes.saturating_add(purse_types::encode(tx).len() as u64);
            fuel = fuel.saturating_add(crate::executor::declared_fuel(tx));
            if i as u64 >= self.max_block_txs || bytes > self.max_block_bytes || fuel > self.max_block_fuel {
                return i;
            }
        }
        txs.len()
    }

    /// The fee for a transaction of `encoded_len` bytes.
    pub fn fee_for(&self, encoded_len: usize) -> u128 {
        self.fee_base.saturating_add(self.fee_per_byte.saturating_mul(encoded_len as u128))
    }
}
