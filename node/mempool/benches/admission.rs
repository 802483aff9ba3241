//! Admission throughput with 100,000 pending transactions from 10,000 senders, signature verification rate
//! (reported separately: admission is measured without it), and memory per pending transaction.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use purse_mempool::{Mempool, PoolConfig, Verdict};
use purse_runtime::{Genesis, GenesisAccount, Params, StateRead};
use purse_types::*;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

const SENDERS: usize = 10_000;
const PER_SENDER: u64 = 10;

fn key(i: usize) -> Keypair {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Keypair::from_seed(&seed)
}

fn chain() -> ChainId {
    ChainId::new("purse-bench").unwrap()
}

fn state(keys: &[Keypair]) -> Map {
    let g = Genesis {
        chain_id: chain(),
        genesis_time_ms: 0,
        validators: vec![Validator { public_key: Keypair::from_seed(&[1; 32]).public(), power: 1 }],
        accounts: keys
            .iter()
            .map(|k| GenesisAccount {
                public_key: k.public(),
                tier: 1,
                roles: vec![],
                native_balance: Amount(1_000_000_000),
            })
            .collect(),
        assets: vec![],
        params: Params::default(),
        contracts: Vec::new(),
        governance: Default::default(),
    };
    let mut map = Map::new();
    let o = g.build_state(&map).unwrap();
    for (k, v) in o.iter() {
        if let Some(v) = v {
            map.insert(k.to_vec(), v.to_vec());
        }
    }
    map
}

fn transfer(keys: &[Keypair], from: usize, nonce: u64) -> SignedTransaction {
    let to = keys[(from + 1) % keys.len()].public().address();
    Transaction {
        chain_id: chain(),
        sender: keys[from].public().address(),
        nonce,
        expiry_height: 1_000_000,
        max_fee: Amount(10_000),
        payload: Payload::Transfer { to, coin: Coin { asset: AssetId::native(), amount: Amount(1_000) } },
    }
    .sign(&keys[from])
}

fn rss_bytes() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn filled_pool<S: StateRead>(pool: &mut Mempool<S>, txs: Vec<SignedTransaction>) {
    for t in txs {
        assert_eq!(pool.admit_verified(t).unwrap(), Verdict::Valid);
    }
}

fn bench(c: &mut Criterion) {
    let keys: Vec<Keypair> = (0..SENDERS).map(key).collect();
    let map = state(&keys);
    let fill: Vec<SignedTransaction> = (0..PER_SENDER)
        .flat_map(|n| (0..SENDERS).map(move |s| (s, n)))
        .map(|(s, n)| transfer(&keys, s, n))
        .collect();
    let probe: Vec<SignedTransaction> = (0..SENDERS).map(|s| transfer(&keys, s, PER_SENDER)).collect();

    let mut pool = Mempool::new(map.clone(), 0, 0, PoolConfig::default()).unwrap();
    let rss0 = rss_bytes();
    let t = Instant::now();
    let n_fill = fill.len();
    filled_pool(&mut pool, fill.clone());
    let fill_s = t.elapsed().as_secs_f64();
    let rss1 = rss_bytes();
    assert_eq!(pool.stats().pending, SENDERS * PER_SENDER as usize);

    // Steady-state checks (validate-only, no insertion) against the full pool.
    let rounds = 5;
    let t = Instant::now();
    for _ in 0..rounds {
        for tx in &probe {
            assert_eq!(pool.check_verified(black_box(tx)).unwrap(), Verdict::Valid);
        }
    }
    let check_rate = (rounds * probe.len()) as f64 / t.elapsed().as_secs_f64();

    // Signature verification, single and batched, for comparison.
    let sample = &fill[..2_000];
    let t = Instant::now();
    for tx in sample {
        tx.verify_signature().unwrap();
    }
    let single_rate = sample.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for chunk in sample.chunks(256) {
        assert!(purse_runtime::verify_signatures(chunk).iter().all(|ok| *ok));
    }
    let batch_rate = sample.len() as f64 / t.elapsed().as_secs_f64();

    let est = pool.memory_estimate() as f64 / pool.len() as f64;
    let rss = match (rss0, rss1) {
        (Some(a), Some(b)) => format!("{:.0}", b.saturating_sub(a) as f64 / n_fill as f64),
        _ => "n/a".into(),
    };
    println!("mempool: {} pending from {} senders", pool.len(), SENDERS);
    println!("mempool: admission (insert, signatures pre-verified): {:.0} tx/s", n_fill as f64 / fill_s);
    println!("mempool: admission checks against the full pool (no signature): {check_rate:.0} checks/s");
    println!("mempool: signature verification: single {single_rate:.0}/s, batch(256) {batch_rate:.0}/s");
    println!("mempool: memory per pending tx: estimate {est:.0} B, RSS delta {rss} B");

    let mut g = c.benchmark_group("mempool");
    g.sample_size(10);
    let mut i = 0usize;
    g.bench_function("check_verified_100k_pending", |b| {
        b.iter(|| {
            i = (i + 1) % probe.len();
            black_box(pool.check_verified(&probe[i]).unwrap())
        })
    });
    g.bench_function("check_with_signature_100k_pending", |b| {
        b.iter(|| {
            i = (i + 1) % probe.len();
            black_box(pool.check(&probe[i]).unwrap())
        })
    });
    g.bench_function("on_commit_recheck_100k_pending", |b| {
        b.iter(|| black_box(pool.on_commit(map.clone(), 0, 0, &[]).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
