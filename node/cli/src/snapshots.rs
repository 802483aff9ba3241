//! State snapshots for state sync. The snapshotter writes the committed state at multiples of
//! `sync.snapshot_interval` into `<data_dir>/snapshots/` (checking every [`SNAPSHOT_POLL`], it writes the
//! newest multiple the head has reached: a chain that passes several multiples between checks skips the older
//! ones); the bridge serves the newest ones in chunks ([`SnapshotDir`]); a node whose store is empty fetches
//! one from a peer before its engine starts ([`state_sync`]) — trusting nothing but the genesis validators:
//! the snapshot must hash to the state root of a block they certified — and block sync carries it on to the
//! head.

use anyhow::{anyhow, bail, Context, Result};
use purse_engine::{genesis_record, SyncedBlock};
use purse_network::{NetworkHandle, PeerId, SyncRequest, SyncResponse, MAX_SNAPSHOTS_LISTED};
use purse_runtime::Genesis;
use purse_state::StateConfig;
use purse_storage::{BlockReader, CommitBundle, RocksStore, Storage};
use purse_types::encode;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Folder of the snapshots, under the data directory.
pub const SNAPSHOTS_DIR: &str = "snapshots";
/// How often the snapshotter looks at the head.
pub const SNAPSHOT_POLL: Duration = Duration::from_secs(1);
/// Bytes of a chunk response besides its data (enum tag, height, indices, length prefix), rounded up.
pub const CHUNK_RESPONSE_OVERHEAD: usize = 64;
/// Largest snapshot a state sync downloads: the largest file an import accepts.
pub const MAX_STATE_SYNC_BYTES: u64 = purse_storage::MAX_SNAPSHOT_FILE_BYTES;
/// Pause between looks for peers offering a snapshot.
pub const OFFER_POLL: Duration = Duration::from_millis(500);
const SUFFIX: &str = "snap";

/// The snapshots a node serves: `<height, 20 digits>.snap` files.
#[derive(Clone, Debug)]
pub struct SnapshotDir {
    dir: PathBuf,
}

impl SnapshotDir {
    /// The snapshots in `dir` (created when the first is written).
    pub fn new(dir: PathBuf) -> SnapshotDir {
        SnapshotDir { dir }
    }

    /// The file of the snapshot at `height`.
    pub fn path(&self, height: u64) -> PathBuf {
        self.dir.join(format!("{height:020}.{SUFFIX}"))
    }

    /// Heights of the complete snapshots, ascending (the newest [`MAX_SNAPSHOTS_LISTED`]).
    pub fn heights(&self) -> Vec<u64> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut heights: Vec<u64> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let (stem, ext) = name.to_str()?.split_once('.')?;
                (ext == SUFFIX && stem.len() == 20).then(|| stem.parse().ok()).flatten()
            })
            .collect();
        heights.sort_unstable();
        let skip = heights.len().saturating_sub(MAX_SNAPSHOTS_LISTED);
        heights.split_off(skip)
    }

    /// Chunk `chunk` of the snapshot at `height` in pieces of `chunk_bytes`: `(total chunks, data)`.
    pub fn chunk(&self, height: u64, chunk: u32, chunk_bytes: usize) -> Option<(u32, Vec<u8>)> {
        if chunk_bytes == 0 {
            return None;
        }
        let mut file = File::open(self.path(height)).ok()?;
        let len = file.metadata().ok()?.len();
        let total = u32::try_from(len.div_ceil(chunk_bytes as u64).max(1)).ok()?;
        if chunk >= total {
            return None;
        }
        file.seek(SeekFrom::Start(u64::from(chunk) * chunk_bytes as u64)).ok()?;
        let mut data = Vec::with_capacity(chunk_bytes);
        file.take(chunk_bytes as u64).read_to_end(&mut data).ok()?;
        Some((total, data))
    }

    /// Deletes all but the newest `keep` snapshots.
    pub fn prune(&self, keep: usize) {
        let heights = self.heights();
        for h in &heights[..heights.len().saturating_sub(keep)] {
            if let Err(e) = std::fs::remove_file(self.path(*h)) {
                tracing::warn!(height = h, error = %e, "could not delete an old snapshot");
            }
        }
    }
}

/// The snapshotter thread; stops when dropped or [`Snapshotter::stop`]ped.
pub struct Snapshotter {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Snapshotter {
    /// Writes a snapshot of `store` at the newest multiple of `interval` the head has reached, checked every
    /// [`SNAPSHOT_POLL`] (multiples passed between two checks are skipped), keeping the newest `keep`.
    pub fn start(
        store: Arc<RocksStore>,
        chain_id: String,
        dir: SnapshotDir,
        interval: u64,
        keep: usize,
    ) -> Result<Snapshotter> {
        if interval == 0 {
            bail!("the snapshot interval must be positive");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("snapshotter".into())
            .spawn(move || snapshot_loop(&store, &chain_id, &dir, interval, keep, &flag))?;
        Ok(Snapshotter { stop, thread: Some(thread) })
    }

    /// Stops the thread (after the snapshot in progress, if any) and waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Snapshotter {
    fn drop(&mut self) {
        self.stop();
    }
}

fn snapshot_loop(
    store: &Arc<RocksStore>,
    chain_id: &str,
    dir: &SnapshotDir,
    interval: u64,
    keep: usize,
    stop: &AtomicBool,
) {
    let reader = BlockReader::new(Arc::clone(store));
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(SNAPSHOT_POLL);
        let head = match reader.head() {
            Ok(Some(h)) => h.height,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "snapshotter: cannot read the head");
                continue;
            }
        };
        let target = head - head % interval;
        if target == 0 || dir.path(target).exists() {
            continue;
        }
        if let Err(e) = std::fs::create_dir_all(&dir.dir) {
            tracing::warn!(error = %e, dir = %dir.dir.display(), "snapshotter: cannot create the folder");
            continue;
        }
        let started = Instant::now();
        match purse_storage::export_snapshot_of_store(Arc::clone(store), chain_id, target, &dir.path(target))
        {
            Ok(h) => {
                tracing::info!(height = h.height, entries = h.count, took = ?started.elapsed(), "state snapshot written");
                dir.prune(keep);
            }
            Err(e) => tracing::warn!(height = target, error = %e, "state snapshot failed"),
        }
    }
}

/// How a state sync looks for and fetches a snapshot.
#[derive(Clone, Debug)]
pub struct StateSyncSettings {
    /// Lowest snapshot height worth it.
    pub min_height: u64,
    /// How long to look for an offer.
    pub wait: Duration,
    /// Time limit of one request.
    pub request_timeout: Duration,
}

async fn ask(
    handle: &NetworkHandle,
    peer: PeerId,
    request: SyncRequest,
    timeout: Duration,
) -> Option<SyncResponse> {
    match tokio::time::timeout(timeout, handle.request(peer, request)).await {
        Ok(Ok(r)) => Some(r),
        _ => None,
    }
}

/// The highest snapshot at least `min_height` any connected peer serves.
async fn best_offer(handle: &NetworkHandle, s: &StateSyncSettings) -> Option<(PeerId, u64)> {
    let mut best: Option<(PeerId, u64)> = None;
    for peer in handle.peers() {
        if let Some(SyncResponse::Snapshots(heights)) =
            ask(handle, peer, SyncRequest::Snapshots, s.request_timeout).await
        {
            if let Some(&h) = heights.iter().max() {
                if h >= s.min_height && best.is_none_or(|(_, b)| h > b) {
                    best = Some((peer, h));
                }
            }
        }
    }
    best
}

/// For a node with an empty store: finds the newest snapshot a peer serves, checks the block at its height
/// against the genesis validators' signatures, downloads it, and imports it (with the genesis record and that
/// block as anchors) into `store`. `Ok(None)`: no usable snapshot within the wait (or the validators changed
/// since genesis, so the certificate cannot be checked here) — the caller falls back to block sync.
pub async fn state_sync(
    handle: &NetworkHandle,
    store: Arc<RocksStore>,
    genesis: &Genesis,
    data_dir: &Path,
    s: &StateSyncSettings,
) -> Result<Option<Storage<Arc<RocksStore>>>> {
    let deadline = Instant::now() + s.wait;
    let (peer, height) = loop {
        if let Some(offer) = best_offer(handle, s).await {
            break offer;
        }
        if Instant::now() >= deadline {
            tracing::info!(wait = ?s.wait, "state sync: no peer offers a snapshot; syncing blocks from genesis");
            return Ok(None);
        }
        tokio::time::sleep(OFFER_POLL).await;
    };
    tracing::info!(%peer, height, "state sync: fetching the snapshot");
    let block =
        match ask(handle, peer, SyncRequest::Blocks { from: height, to: height }, s.request_timeout).await {
            Some(SyncResponse::Blocks(b)) if b.len() == 1 => {
                SyncedBlock::decode(&b[0]).map_err(|e| anyhow!("block {height} from {peer}: {e}"))?
            }
            other => bail!("peer {peer} did not send block {height}: {other:?}"),
        };
    let validators = genesis.validator_set()?;
    let id = block.block.id();
    if block.block.header.height != height || block.block.header.chain_id != genesis.chain_id {
        bail!("peer {peer} sent another block than {height} of {}", genesis.chain_id);
    }
    if let Err(e) = block.certificate.verify_for(&genesis.chain_id, &validators, height, &id) {
        tracing::warn!(%peer, height, error = %e,
            "state sync: the block is not certified by the genesis validators (the set may have changed); syncing blocks instead");
        return Ok(None);
    }
    let root = block.block.header.state_root;
    let partial = data_dir.join(format!("state-sync-{height}.download"));
    let result = download(handle, peer, height, &partial, s).await;
    let imported = match result {
        Ok(()) => {
            let anchors = vec![genesis_record(genesis)?, anchor(&block)];
            let chain_id = genesis.chain_id.to_string();
            let path = partial.clone();
            tokio::task::spawn_blocking(move || {
                purse_storage::import_snapshot_with_blocks(
                    store,
                    &chain_id,
                    StateConfig::default(),
                    &path,
                    &root,
                    &anchors,
                )
            })
            .await
            .context("the import task failed")?
            .with_context(|| format!("importing the snapshot of height {height} from {peer}"))
        }
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&partial);
    let storage = imported?;
    tracing::info!(height, %root, "state sync: snapshot imported; block sync continues from here");
    Ok(Some(storage))
}

/// The records of the certified block a snapshot is anchored to.
fn anchor(b: &SyncedBlock) -> CommitBundle {
    CommitBundle {
        height: b.block.header.height,
        block_hash: b.block.id(),
        state_root: b.block.header.state_root,
        header: encode(&b.block.header),
        block: encode(&b.block),
        certificate: Some(encode(&b.certificate)),
        receipts: Vec::new(),
        parties: Vec::new(),
    }
}

/// Fetches every chunk of the snapshot at `height` from `peer` into `path`.
async fn download(
    handle: &NetworkHandle,
    peer: PeerId,
    height: u64,
    path: &Path,
    s: &StateSyncSettings,
) -> Result<()> {
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut total: Option<u32> = None;
    let mut chunk = 0u32;
    let mut bytes = 0u64;
    while total.is_none_or(|t| chunk < t) {
        let (t, data) =
            match ask(handle, peer, SyncRequest::Snapshot { height, chunk }, s.request_timeout).await {
                Some(SyncResponse::SnapshotChunk { total_chunks, data, .. }) => (total_chunks, data),
                other => bail!("peer {peer} did not send chunk {chunk} of snapshot {height}: {other:?}"),
            };
        if *total.get_or_insert(t) != t {
            bail!("peer {peer} changed the chunk count of snapshot {height}");
        }
        bytes += data.len() as u64;
        if bytes > MAX_STATE_SYNC_BYTES {
            bail!("snapshot {height} is larger than {MAX_STATE_SYNC_BYTES} bytes");
        }
        file.write_all(&data)?;
        chunk += 1;
    }
    file.sync_all()?;
    tracing::info!(height, chunks = chunk, bytes, "state sync: snapshot downloaded");
    Ok(())
}
