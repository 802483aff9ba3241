//! A validator-set change voted by governance, end to end on a 4-validator net with one standby node: the
//! change passes in block `h` and the new set signs from `h + VALIDATOR_SET_CHANGE_DELAY` on (docs/governance.md).
//! Headers name the old set before that height and the new one from it; once two of the original validators
//! stop (the removed one and one that stays), the chain still commits, which only the new set's quorum
//! (with the standby node voting) can do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use purse_engine::{EngineConfig, EngineEvent};
use purse_runtime::governance::VALIDATOR_SET_CHANGE_DELAY;
use purse_testnet::localnet::open_storage;
use purse_testnet::{LocalNet, LocalNetConfig};
use purse_types::{
    decode, proposal_id, Amount, CommitCertificate, GovernanceAction, GovernanceOp, Hash, Header, Keypair,
    Payload, Receipt, SignedTransaction, Transaction, TxStatus, ValidatorUpdate,
};
use std::time::{Duration, Instant};

/// Longest wait for one expected commit.
const WAIT: Duration = Duration::from_secs(90);

fn tx(net: &LocalNet, key: &Keypair, nonce: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: net.genesis.chain_id.clone(),
        sender: key.public().address(),
        nonce,
        expiry_height: u64::MAX,
        max_fee: Amount(1_000_000),
        payload,
    }
    .sign(key)
}

/// Reads validator 0's commit events until `done(height, tx_ids)`; returns that height.
fn wait_until(net: &LocalNet, mut done: impl FnMut(u64, &[Hash]) -> bool) -> u64 {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let mut last = 0;
            while let Ok((_, EngineEvent::Committed { height, .. })) = net.standby_events.try_recv() {
                last = height;
            }
            panic!("timed out waiting for a commit; standby at {last}");
        }
        if let Ok((0, EngineEvent::Committed { height, tx_ids, .. })) = net.events.recv_timeout(left) {
            if done(height, &tx_ids) {
                return height;
            }
        }
    }
}

fn committed_in(net: &LocalNet, id: Hash) -> u64 {
    wait_until(net, |_, ids| ids.contains(&id))
}

#[test]
fn a_passed_validator_set_change_takes_effect_two_blocks_after_it_passes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = EngineConfig { commit_delay: Duration::from_millis(20), ..EngineConfig::default() };
    let cfg = LocalNetConfig {
        validators: 4,
        wallets: 0,
        merchants: 0,
        standby: 1,
        dir: dir.path().to_path_buf(),
        engine,
    };
    let mut net = LocalNet::start(&cfg).unwrap();
    let newcomer = net.keys.standby[0].public();
    let leaving = net.keys.validators[3].public();
    let updates = vec![
        ValidatorUpdate { public_key: newcomer, power: 10 },
        ValidatorUpdate { public_key: leaving, power: 0 },
    ];
    let old_set = net.genesis.validator_set().unwrap();
    let new_set = old_set.apply(&updates).unwrap();
    assert!(new_set.find(&leaving).is_none() && new_set.find(&newcomer).is_some());

    // Governor 0 proposes (its approval counts), governor 1's vote reaches the threshold of 2.
    let propose = tx(
        &net,
        &net.keys.governors[0],
        0,
        Payload::Governance(GovernanceOp::Propose {
            action: GovernanceAction::ValidatorSetChange { updates: updates.clone() },
        }),
    );
    net.submit(0, propose.clone()).unwrap();
    committed_in(&net, propose.id());
    let vote = tx(
        &net,
        &net.keys.governors[1],
        0,
        Payload::Governance(GovernanceOp::Vote { proposal: proposal_id(&propose.id()), approve: true }),
    );
    net.submit(1, vote.clone()).unwrap();
    let passed_at = committed_in(&net, vote.id());
    let effective = passed_at + VALIDATOR_SET_CHANGE_DELAY;
    wait_until(&net, |h, _| h >= effective + 2);

    // Two of the original four stop: the removed validator and one that stays. The old set could not commit
    // with the remaining two (20 of 40); the new set can (30 of 40) only because the newcomer votes.
    let stopped_at = wait_until(&net, |_, _| true);
    net.nodes[3].stop().unwrap();
    net.nodes[2].stop().unwrap();
    let target = stopped_at + 6;
    wait_until(&net, |h, _| h >= target);
    net.stop().unwrap();

    let storage = open_storage(&net.nodes[0].dir, net.genesis.chain_id.as_str()).unwrap();
    for id in [propose.id(), vote.id()] {
        let (_, bytes) = storage.receipt(&id).unwrap().expect("receipt");
        let receipt: Receipt = decode(&bytes).unwrap();
        assert_eq!(receipt.status, TxStatus::Success, "governance transaction failed: {receipt:?}");
    }
    let header = |h: u64| -> Header { decode(&storage.header(h).unwrap().unwrap()).unwrap() };
    let cert = |h: u64| -> CommitCertificate { decode(&storage.certificate(h).unwrap().unwrap()).unwrap() };
    let head = storage.head().unwrap().height;
    assert!(head >= target);
    for h in 1..=head {
        let header = header(h);
        let (set, next) = match h {
            h if h + 1 < effective => (&old_set, &old_set),
            h if h + 1 == effective => (&old_set, &new_set),
            _ => (&new_set, &new_set),
        };
        assert_eq!(header.validator_set_hash, set.hash(), "validator set of block {h}");
        assert_eq!(header.next_validator_set_hash, next.hash(), "next validator set of block {h}");
        let c = cert(h);
        c.verify_for(&net.genesis.chain_id, set, h, &header.id()).unwrap();
        let newcomer_index = new_set.find(&newcomer).unwrap().0;
        let newcomer_signed =
            h >= effective && c.signatures.iter().any(|s| usize::from(s.validator_index) == newcomer_index);
        if h > stopped_at + 1 {
            assert!(newcomer_signed, "block {h} was committed without the new validator");
        }
    }

    // The standby node followed the whole chain, before and after it became a validator.
    let standby = open_storage(&net.standby[0].dir, net.genesis.chain_id.as_str()).unwrap();
    let standby_head = standby.head().unwrap();
    assert!(standby_head.height >= target, "standby node at {}", standby_head.height);
    assert_eq!(
        standby.block_info(standby_head.height).unwrap().unwrap().state_root,
        storage.block_info(standby_head.height).unwrap().unwrap().state_root
    );
}
