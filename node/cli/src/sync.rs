//! Block sync client: polls connected peers for their head; when one is ahead, fetches the missing committed
//! blocks with their commit certificates in batches, checks each certificate against the validator set, and
//! feeds them to the engine in order (the engine re-executes, checks the state root and commits).
//!
//! Serving the other side of the protocol is in [`crate::bridge`].

use futures::future::join_all;
use purse_engine::{Inbound, InboxSender, SyncedBlock, ValidatorWatch};
use purse_network::{Misbehaviour, NetworkHandle, PeerId, SyncRequest, SyncResponse};
use purse_state::KvStore;
use purse_storage::BlockReader;
use purse_types::ChainId;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::TrySendError;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Time limit of one status request.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// The node reports `syncing` when the best peer is more than this many blocks ahead.
pub const SYNCING_LAG: u64 = 2;
/// How long to wait for the engine to commit a batch of synced blocks before asking again.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(20);
/// Poll interval while waiting for the engine to commit synced blocks.
pub const APPLY_POLL: Duration = Duration::from_millis(10);
/// How long a peer that served none of the blocks it claimed to have (it answered `Unavailable`, nothing,
/// invalid blocks or not at all) is left out of block sync — its claimed height too, so a peer claiming a
/// height it cannot serve neither holds the sync nor keeps the node reporting `syncing`.
pub const SYNC_PEER_COOLDOWN: Duration = Duration::from_secs(30);

/// Block-sync progress, shared with status and metrics.
#[derive(Debug, Default)]
pub struct SyncProgress {
    /// Best height seen at a peer.
    target: AtomicU64,
    /// More than [`SYNCING_LAG`] blocks behind the best peer.
    syncing: AtomicBool,
    /// Blocks handed to the engine by sync.
    fed: AtomicU64,
    /// Responses refused (undecodable blocks, bad certificates, wrong heights).
    invalid: AtomicU64,
}

impl SyncProgress {
    /// The best height seen at a peer.
    pub fn target(&self) -> u64 {
        self.target.load(Ordering::Relaxed)
    }

    /// Whether the node is catching up.
    pub fn syncing(&self) -> bool {
        self.syncing.load(Ordering::Relaxed)
    }

    /// Blocks handed to the engine.
    pub fn fed(&self) -> u64 {
        self.fed.load(Ordering::Relaxed)
    }

    /// Responses refused.
    pub fn invalid(&self) -> u64 {
        self.invalid.load(Ordering::Relaxed)
    }

    fn update(&self, ours: u64, best: u64) {
        self.target.store(best, Ordering::Relaxed);
        self.syncing.store(best > ours.saturating_add(SYNCING_LAG), Ordering::Relaxed);
    }
}

/// The sync client's parameters.
#[derive(Clone, Debug)]
pub struct SyncSettings {
    /// Interval between status polls.
    pub interval: Duration,
    /// Blocks per request.
    pub batch: u64,
    /// Time limit of one blocks request.
    pub request_timeout: Duration,
}

/// The block sync client.
pub struct SyncClient<S> {
    /// The network.
    pub handle: NetworkHandle,
    /// The engine's inbox.
    pub inbox: InboxSender,
    /// Our committed blocks (for our head).
    pub reader: BlockReader<S>,
    /// Chain id (certificate checks).
    pub chain_id: ChainId,
    /// The committed validator schedule (certificate checks).
    pub validators: Arc<ValidatorWatch>,
    /// Shared progress.
    pub progress: Arc<SyncProgress>,
    /// Parameters.
    pub settings: SyncSettings,
}

enum Fetch {
    /// Blocks were fed; more may follow.
    Progress,
    /// Nothing (more) to get from this peer now.
    Stop,
    /// The engine's inbox was full before a block of the batch was fed: this node is busy, the peer owes
    /// nothing (it is not cooled down); the next poll tries again.
    Busy,
}

/// Whether a peer asked for blocks failed us, and is cooled down: it served none (`progressed` false), we
/// have not caught up with it meanwhile (by consensus, say), and our own inbox was not what stopped the batch
/// (`last`, the fetch that ended it, is not [`Fetch::Busy`]).
fn served_nothing(progressed: bool, caught_up: bool, last: &Fetch) -> bool {
    !progressed && !caught_up && !matches!(last, Fetch::Busy)
}

impl<S: KvStore + Clone + Send + Sync + 'static> SyncClient<S> {
    fn committed(&self) -> u64 {
        match self.reader.head() {
            Ok(h) => h.map(|h| h.height).unwrap_or(0),
            Err(e) => {
                tracing::warn!(error = %e, "sync: cannot read the head");
                0
            }
        }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(self.settings.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_ours: Option<u64> = None;
        let mut cooldowns = Cooldowns::default();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                r = shutdown.changed() => if r.is_err() || *shutdown.borrow() { break },
            }
            self.tick(&mut last_ours, &mut cooldowns).await;
        }
        tracing::debug!("block sync stopped");
    }

    /// One poll: asks every peer for its head and, when behind, syncs from the highest peer not cooling
    /// down; a peer that serves nothing cools down and the next highest is tried.
    async fn tick(&self, last_ours: &mut Option<u64>, cooldowns: &mut Cooldowns) {
        let ours = self.committed();
        let peers = self.handle.peers();
        let asks = peers.iter().map(|p| {
            let handle = self.handle.clone();
            let peer = *p;
            async move {
                match tokio::time::timeout(STATUS_TIMEOUT, handle.request(peer, SyncRequest::Status)).await {
                    Ok(Ok(SyncResponse::Status { height, .. })) => Some((peer, height)),
                    _ => None,
                }
            }
        });
        let statuses: Vec<(PeerId, u64)> = join_all(asks).await.into_iter().flatten().collect();
        cooldowns.prune(Instant::now());
        let candidates = cooldowns.candidates(statuses, Instant::now());
        // One block behind is normal for a moment (a peer committed first); act on it only when our head did
        // not move since the last poll.
        let stalled = *last_ours == Some(ours);
        *last_ours = Some(ours);
        let mut tried = false;
        for &(peer, best) in &candidates {
            // Highest first: once one is not ahead, none after it is.
            if !(best > ours + 1 || (best == ours + 1 && stalled)) {
                break;
            }
            tried = true;
            tracing::info!(%peer, ours, best, "behind a peer; syncing blocks");
            let mut progressed = false;
            let last = loop {
                match self.fetch(peer, best).await {
                    Fetch::Progress => progressed = true,
                    other => break other,
                }
            };
            if !served_nothing(progressed, self.committed() >= best, &last) {
                break;
            }
            tracing::info!(%peer, best, cooldown = ?SYNC_PEER_COOLDOWN,
                "the peer served none of the blocks it claimed; trying the next");
            cooldowns.cool(peer, Instant::now());
        }
        // The target counts the peers that are not cooling down now (a peer that just served nothing no
        // longer does).
        let now = if tried { self.committed() } else { ours };
        let best = cooldowns.candidates(candidates, Instant::now()).first().map_or(now, |c| c.1);
        self.progress.update(now, best.max(now));
        if tried {
            *last_ours = Some(now);
        }
    }

    /// Fetches and feeds one batch towards `target`.
    async fn fetch(&self, peer: PeerId, target: u64) -> Fetch {
        let ours = self.committed();
        if ours >= target {
            return Fetch::Stop;
        }
        let from = ours + 1;
        let to = target.min(from + self.settings.batch - 1);
        let request = SyncRequest::Blocks { from, to };
        let blocks =
            match tokio::time::timeout(self.settings.request_timeout, self.handle.request(peer, request))
                .await
            {
                Ok(Ok(SyncResponse::Blocks(b))) if !b.is_empty() => b,
                Ok(Ok(_)) => return Fetch::Stop,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "sync request failed");
                    return Fetch::Stop;
                }
                Err(_) => {
                    tracing::debug!(%peer, "sync request timed out");
                    return Fetch::Stop;
                }
            };
        let mut next = from;
        for bytes in blocks {
            let synced = match SyncedBlock::decode(&bytes) {
                Ok(s) => s,
                Err(e) => return self.invalid(peer, &format!("undecodable block {next}: {e}")),
            };
            let id = synced.block.id();
            if synced.block.header.height != next {
                return self.invalid(
                    peer,
                    &format!("block {} where {next} was expected", synced.block.header.height),
                );
            }
            // Sets are certain up to the horizon; beyond it, a certificate that fails against the latest known
            // set may be signed by a set a block not yet committed here installs: stop the batch there and
            // go on once the engine has committed what came before (it verifies every certificate again).
            let Some(set) = self.validators.set_at(next) else {
                return self.invalid(peer, &format!("block {next}: no validator set for its height"));
            };
            if let Err(e) = synced.certificate.verify_for(&self.chain_id, &set, next, &id) {
                if next > self.validators.horizon() {
                    break;
                }
                return self.invalid(peer, &format!("block {next}: bad commit certificate: {e}"));
            }
            match self.inbox.try_send(Inbound::SyncedBlock(Box::new(synced))) {
                Ok(()) => {
                    self.progress.fed.fetch_add(1, Ordering::Relaxed);
                    next += 1;
                }
                Err(TrySendError::Full(_)) if next == from => return Fetch::Busy,
                Err(TrySendError::Full(_)) => break,
                Err(TrySendError::Disconnected(_)) => return Fetch::Stop,
            }
        }
        if next == from {
            return Fetch::Stop;
        }
        // Wait until the engine has committed what it was given (it may also refuse a block whose execution
        // disagrees with its header; then the head stops short and the next poll tries again).
        let last = next - 1;
        let deadline = Instant::now() + APPLY_TIMEOUT;
        loop {
            let now = self.committed();
            if now >= last {
                self.progress.update(now, target);
                return Fetch::Progress;
            }
            if Instant::now() > deadline {
                tracing::warn!(
                    committed = now,
                    expected = last,
                    "the engine did not commit synced blocks in time"
                );
                return Fetch::Stop;
            }
            tokio::time::sleep(APPLY_POLL).await;
        }
    }

    fn invalid(&self, peer: PeerId, reason: &str) -> Fetch {
        self.progress.invalid.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%peer, reason, "invalid sync response");
        if let Err(e) = self.handle.report_peer(peer, Misbehaviour::InvalidResponse) {
            tracing::debug!(error = %e, "could not report peer");
        }
        Fetch::Stop
    }
}

/// The peers block sync leaves out for a while ([`SYNC_PEER_COOLDOWN`]): at most one entry per connected
/// peer (expired ones are pruned every poll), and the allow-list bounds the peers.
#[derive(Debug, Default)]
struct Cooldowns {
    until: std::collections::HashMap<PeerId, Instant>,
}

impl Cooldowns {
    /// Leaves `peer` out until [`SYNC_PEER_COOLDOWN`] after `now`.
    fn cool(&mut self, peer: PeerId, now: Instant) {
        self.until.insert(peer, now + SYNC_PEER_COOLDOWN);
    }

    /// Forgets the cooldowns over at `now`.
    fn prune(&mut self, now: Instant) {
        self.until.retain(|_, until| *until > now);
    }

    /// The `(peer, claimed height)` of `statuses` whose peer is not cooling down at `now`, highest first.
    fn candidates(&self, mut statuses: Vec<(PeerId, u64)>, now: Instant) -> Vec<(PeerId, u64)> {
        statuses.retain(|(peer, _)| self.until.get(peer).is_none_or(|until| *until <= now));
        statuses.sort_by_key(|&(_, height)| std::cmp::Reverse(height));
        statuses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_that_served_nothing_is_left_out_with_its_height_until_its_cooldown_ends() {
        let (liar, honest, behind) = (PeerId::random(), PeerId::random(), PeerId::random());
        let statuses = vec![(honest, 50), (behind, 10), (liar, u64::MAX)];
        let mut c = Cooldowns::default();
        let t0 = Instant::now();
        // Highest claim first.
        assert_eq!(c.candidates(statuses.clone(), t0), vec![(liar, u64::MAX), (honest, 50), (behind, 10)]);
        // Once it served nothing, the next highest leads, and the liar's height no longer counts.
        c.cool(liar, t0);
        assert_eq!(c.candidates(statuses.clone(), t0), vec![(honest, 50), (behind, 10)]);
        let later = t0 + SYNC_PEER_COOLDOWN - Duration::from_millis(1);
        c.prune(later);
        assert_eq!(c.candidates(statuses.clone(), later).first(), Some(&(honest, 50)));
        // After the cooldown it is tried again; pruning forgets it.
        let after = t0 + SYNC_PEER_COOLDOWN;
        assert_eq!(c.candidates(statuses.clone(), after).first(), Some(&(liar, u64::MAX)));
        c.prune(after);
        assert!(c.until.is_empty());
    }

    #[test]
    fn only_a_peer_that_served_nothing_while_we_could_take_blocks_is_blamed() {
        assert!(served_nothing(false, false, &Fetch::Stop));
        assert!(!served_nothing(false, false, &Fetch::Busy), "our inbox was full: the peer owes nothing");
        assert!(!served_nothing(true, false, &Fetch::Stop), "it served some");
        assert!(!served_nothing(false, true, &Fetch::Stop), "we caught up meanwhile");
    }

    #[test]
    fn progress_flags_syncing_only_beyond_the_lag() {
        let p = SyncProgress::default();
        p.update(10, 12);
        assert!(!p.syncing());
        p.update(10, 13);
        assert!(p.syncing());
        assert_eq!(p.target(), 13);
        p.update(13, 13);
        assert!(!p.syncing());
    }
}
