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
}

impl Default for Params {
    fn default() -> Self {
        Params { fee_base: 1_000, fee_per_byte: 1, max_block_bytes: 4 * 1024 * 1024, max_block_txs: 20_000 }
    }
}

const NAMES: [&str; 4] = ["fee_base", "fee_per_byte", "max_block_bytes", "max_block_txs"];

impl Params {
    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_block_bytes == 0 || self.max_block_bytes > purse_types::block::MAX_BLOCK_BYTES as u64 {
            return Err("max_block_bytes must be in 1..=8 MiB".into());
        }
        if self.max_block_txs == 0 {
            return Err("max_block_txs must be positive".into());
        }
        Ok(())
    }

    /// Writes every parameter.
    pub fn write<R: StateRead + ?Sized>(&self, st: &mut BlockState<'_, R>) {
        let values = [
            self.fee_base,
            self.fee_per_byte,
            u128::from(self.max_block_bytes),
            u128::from(self.max_block_txs),
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
        })
    }

    /// The fee for a transaction of `encoded_len` bytes.
    pub fn fee_for(&self, encoded_len: usize) -> u128 {
        self.fee_base.saturating_add(self.fee_per_byte.saturating_mul(encoded_len as u128))
    }
}
