//! Block sync for the in-process net. The libp2p node has a sync client that fetches certified blocks a node
//! missed; the hub has none, so a node that falls more than a height behind (its proposal for the next height
//! arrived too early and was dropped) would wait forever. This thread plays the sync client: a node whose head
//! stalled below the best head is fed the certified blocks it lacks, which its engine verifies (certificate
//! against the validator set its state records, parent, re-execution) before committing.

use purse_engine::{Inbound, InboxSender, SyncedBlock};
use purse_storage::{BlockReader, RocksStore};
use purse_types::decode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::TrySendError;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often heads are compared. A node whose head did not move for one interval while others are ahead is
/// fed blocks.
pub const CATCH_UP_INTERVAL: Duration = Duration::from_millis(250);
/// Most blocks fed to one node per interval.
pub const CATCH_UP_BATCH: u64 = 64;

/// One node as the catch-up thread sees it: its committed blocks and its inbox.
pub struct Follower {
    /// Its store's blocks.
    pub reader: BlockReader<Arc<RocksStore>>,
    /// Its engine's inbox.
    pub inbox: InboxSender,
}

/// The running catch-up thread; stopping it releases every store it reads.
pub struct CatchUp {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CatchUp {
    /// Starts the thread over `nodes`.
    pub fn start(nodes: Vec<Follower>) -> std::io::Result<CatchUp> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new().name("catch-up".into()).spawn(move || run(&nodes, &flag))?;
        Ok(CatchUp { stop, thread: Some(thread) })
    }

    /// Stops the thread and waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for CatchUp {
    fn drop(&mut self) {
        self.stop();
    }
}

fn head(reader: &BlockReader<Arc<RocksStore>>) -> u64 {
    reader.head().ok().flatten().map(|h| h.height).unwrap_or(0)
}

fn certified(reader: &BlockReader<Arc<RocksStore>>, height: u64) -> Option<SyncedBlock> {
    let block = decode(&reader.block(height).ok()??).ok()?;
    let certificate = decode(&reader.certificate(height).ok()??).ok()?;
    Some(SyncedBlock { block, certificate })
}

fn run(nodes: &[Follower], stop: &AtomicBool) {
    let mut last: Vec<u64> = nodes.iter().map(|n| head(&n.reader)).collect();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(CATCH_UP_INTERVAL);
        let heads: Vec<u64> = nodes.iter().map(|n| head(&n.reader)).collect();
        let Some((best, &best_head)) = heads.iter().enumerate().max_by_key(|(_, h)| **h) else { return };
        for (i, node) in nodes.iter().enumerate() {
            if heads[i] >= best_head || heads[i] != last[i] {
                continue;
            }
            for h in heads[i] + 1..=best_head.min(heads[i] + CATCH_UP_BATCH) {
                let Some(synced) = certified(&nodes[best].reader, h) else { break };
                match node.inbox.try_send(Inbound::SyncedBlock(Box::new(synced))) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => break,
                }
            }
        }
        last = heads;
    }
}
