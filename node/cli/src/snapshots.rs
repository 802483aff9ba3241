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
/// Smallest chunk a peer may send, but for a snapshot's last (servers send
/// `purse_network::config::MAX_SNAPSHOT_CHUNK_BYTES`, or less when their response limit is lower): bounds a
/// download to `MAX_STATE_SYNC_BYTES / MIN_SNAPSHOT_CHUNK_BYTES` requests.
pub const MIN_SNAPSHOT_CHUNK_BYTES: usize = 64 * 1024;
/// Slowest average rate at which a download may run: a peer slower than this is given up for the next offer.
pub const MIN_DOWNLOAD_BYTES_PER_SEC: u64 = 1024 * 1024;
/// Time a download may take on top of its bytes at [`MIN_DOWNLOAD_BYTES_PER_SEC`].
pub const DOWNLOAD_GRACE: Duration = Duration::from_secs(60);
/// Extension of a download in progress, in the data directory (`state-sync-<height>.download`).
const DOWNLOAD_SUFFIX: &str = "download";
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

    /// Deletes the exports a crash interrupted (`.partial` files): an export is only retried at the newest
    /// snapshot height, so an older one would stay.
    pub fn remove_partials(&self) {
        remove_with_suffix(&self.dir, purse_storage::PARTIAL_EXTENSION);
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
        dir.remove_partials();
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

/// The newest snapshot at least `min_height` each connected peer serves, newest first.
async fn offers(handle: &NetworkHandle, s: &StateSyncSettings) -> Vec<(PeerId, u64)> {
    let mut offers = Vec::new();
    for peer in handle.peers() {
        if let Some(SyncResponse::Snapshots(heights)) =
            ask(handle, peer, SyncRequest::Snapshots, s.request_timeout).await
        {
            if let Some(&h) = heights.iter().max().filter(|&&h| h >= s.min_height) {
                offers.push((peer, h));
            }
        }
    }
    offers.sort_by_key(|o| std::cmp::Reverse(o.1));
    offers
}

/// For a node with an empty store: finds the snapshots peers serve and, newest first, checks the block at a
/// snapshot's height against the genesis validators' signatures, downloads the snapshot and imports it (with
/// the genesis record and that block as anchors) into `store`. An offer that fails — a peer that does not
/// send the block or the snapshot, sends them wrong or too slowly, or a block the genesis validators did not
/// certify (the set may have changed since) — is reported and the next one tried. `Ok(None)`: no offer within
/// the wait, or none that worked — the caller falls back to block sync.
pub async fn state_sync(
    handle: &NetworkHandle,
    store: Arc<RocksStore>,
    genesis: &Genesis,
    data_dir: &Path,
    s: &StateSyncSettings,
) -> Result<Option<Storage<Arc<RocksStore>>>> {
    // Downloads a crash interrupted.
    remove_with_suffix(data_dir, DOWNLOAD_SUFFIX);
    let deadline = Instant::now() + s.wait;
    let offers = loop {
        let offers = offers(handle, s).await;
        if !offers.is_empty() {
            break offers;
        }
        if Instant::now() >= deadline {
            tracing::info!(wait = ?s.wait, "state sync: no peer offers a snapshot; syncing blocks from genesis");
            return Ok(None);
        }
        tokio::time::sleep(OFFER_POLL).await;
    };
    for (peer, height) in offers {
        match sync_from(handle, Arc::clone(&store), genesis, data_dir, s, peer, height).await {
            Ok(Some(storage)) => return Ok(Some(storage)),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%peer, height, error = %format!("{e:#}"), "state sync: this offer failed");
            }
        }
    }
    tracing::warn!("state sync: no offered snapshot could be used; syncing blocks from genesis");
    Ok(None)
}

/// One offer of [`state_sync`]: the snapshot at `height` from `peer`. `Ok(None)`: the block at that height is
/// not certified by the genesis validators.
async fn sync_from(
    handle: &NetworkHandle,
    store: Arc<RocksStore>,
    genesis: &Genesis,
    data_dir: &Path,
    s: &StateSyncSettings,
    peer: PeerId,
    height: u64,
) -> Result<Option<Storage<Arc<RocksStore>>>> {
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
            "state sync: the block is not certified by the genesis validators (the set may have changed)");
        return Ok(None);
    }
    let root = block.block.header.state_root;
    let partial = data_dir.join(format!("state-sync-{height}.{DOWNLOAD_SUFFIX}"));
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

/// Deletes the files of `dir` whose extension is `suffix` (best effort: a failure is logged).
fn remove_with_suffix(dir: &Path, suffix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_some_and(|e| e == suffix) {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "could not delete a leftover file");
            }
        }
    }
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

/// Fetches every chunk of the snapshot at `height` from `peer` into `path`: each checked by [`check_chunk`],
/// the whole within [`download_deadline`] of the start.
async fn download(
    handle: &NetworkHandle,
    peer: PeerId,
    height: u64,
    path: &Path,
    s: &StateSyncSettings,
) -> Result<()> {
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let started = Instant::now();
    let mut shape: Option<(u32, usize)> = None;
    let mut chunk = 0u32;
    let mut bytes = 0u64;
    while shape.is_none_or(|(total, _)| chunk < total) {
        if let Some((total, first)) = shape {
            if started.elapsed() > download_deadline(total, first) {
                bail!("peer {peer} sends snapshot {height} slower than {MIN_DOWNLOAD_BYTES_PER_SEC} bytes/s");
            }
        }
        let (t, data) =
            match ask(handle, peer, SyncRequest::Snapshot { height, chunk }, s.request_timeout).await {
                Some(SyncResponse::SnapshotChunk { total_chunks, data, .. }) => (total_chunks, data),
                other => bail!("peer {peer} did not send chunk {chunk} of snapshot {height}: {other:?}"),
            };
        let (total, first) = *shape.get_or_insert((t, data.len()));
        if total != t {
            bail!("peer {peer} changed the chunk count of snapshot {height}");
        }
        check_chunk(chunk, total, first, data.len())
            .map_err(|e| anyhow!("peer {peer}, snapshot {height}: {e}"))?;
        bytes += data.len() as u64;
        file.write_all(&data)?;
        chunk += 1;
    }
    file.sync_all()?;
    tracing::info!(height, chunks = chunk, bytes, took = ?started.elapsed(), "state sync: snapshot downloaded");
    Ok(())
}

/// Checks chunk `chunk`, of `len` bytes, of a snapshot announced as `total` chunks whose chunk 0 had `first`
/// bytes: no chunk is empty, every chunk but the last is as long as the first and the last no longer, the
/// first holds at least [`MIN_SNAPSHOT_CHUNK_BYTES`] unless it is the only one, and the announced size is at
/// most [`MAX_STATE_SYNC_BYTES`].
fn check_chunk(chunk: u32, total: u32, first: usize, len: usize) -> Result<(), String> {
    if total == 0 || chunk >= total {
        return Err(format!("chunk {chunk} of {total}"));
    }
    if len == 0 {
        return Err(format!("chunk {chunk} is empty"));
    }
    if total > 1 && first < MIN_SNAPSHOT_CHUNK_BYTES {
        return Err(format!("chunks of {first} bytes, fewer than {MIN_SNAPSHOT_CHUNK_BYTES}"));
    }
    let least = u64::from(total - 1).saturating_mul(first as u64).saturating_add(1);
    if least > MAX_STATE_SYNC_BYTES {
        return Err(format!("{total} chunks of {first} bytes exceed {MAX_STATE_SYNC_BYTES} bytes"));
    }
    let last = chunk + 1 == total;
    if (!last && len != first) || len > first {
        return Err(format!("chunk {chunk} has {len} bytes where chunk 0 had {first}"));
    }
    Ok(())
}

/// How long a download of `total` chunks of `first` bytes may take: [`DOWNLOAD_GRACE`] plus its bytes at
/// [`MIN_DOWNLOAD_BYTES_PER_SEC`].
fn download_deadline(total: u32, first: usize) -> Duration {
    let bytes = u64::from(total).saturating_mul(first as u64);
    DOWNLOAD_GRACE + Duration::from_secs(bytes / MIN_DOWNLOAD_BYTES_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: usize = MIN_SNAPSHOT_CHUNK_BYTES;

    #[test]
    fn chunks_must_have_the_shape_the_first_announced() {
        // A file of one chunk may be small; no chunk may be empty.
        assert_eq!(check_chunk(0, 1, 100, 100), Ok(()));
        assert!(check_chunk(0, 1, 0, 0).is_err());
        // Full chunks, then a shorter last one.
        assert_eq!(check_chunk(0, 3, C, C), Ok(()));
        assert_eq!(check_chunk(1, 3, C, C), Ok(()));
        assert_eq!(check_chunk(2, 3, C, 10), Ok(()));
        assert!(check_chunk(1, 3, C, C - 1).is_err(), "a short chunk before the last");
        assert!(check_chunk(2, 3, C, C + 1).is_err(), "a last chunk longer than the first");
        assert!(check_chunk(2, 3, C, 0).is_err(), "an empty last chunk");
        assert!(check_chunk(3, 3, C, C).is_err(), "a chunk past the announced count");
        assert!(check_chunk(0, 0, C, C).is_err(), "no chunks");
    }

    #[test]
    fn tiny_chunks_and_oversized_snapshots_are_refused_before_downloading_them() {
        // Many chunks of a few bytes would take billions of requests.
        assert!(check_chunk(0, u32::MAX, 1, 1).is_err());
        assert!(check_chunk(0, 2, C - 1, C - 1).is_err());
        // The announced size may not exceed what an import accepts.
        let most = u32::try_from(MAX_STATE_SYNC_BYTES / C as u64).unwrap();
        assert_eq!(check_chunk(0, most, C, C), Ok(()));
        assert!(check_chunk(0, most + 2, C, C).is_err());
    }

    #[test]
    fn a_download_may_take_its_bytes_at_the_slowest_rate_plus_a_grace() {
        assert_eq!(download_deadline(1, 100), DOWNLOAD_GRACE);
        let mib = 1024 * 1024;
        assert_eq!(download_deadline(100, mib), DOWNLOAD_GRACE + Duration::from_secs(100));
        // The largest snapshot an import accepts (about 1.1 GiB) gets about 19 minutes in all.
        let most = u32::try_from(MAX_STATE_SYNC_BYTES.div_ceil(mib as u64)).unwrap();
        assert!(download_deadline(most, mib) < Duration::from_secs(20 * 60));
    }

    #[test]
    fn leftover_partial_files_are_removed_and_snapshots_kept() {
        let dir = tempfile::tempdir().unwrap();
        let snapshots = SnapshotDir::new(dir.path().to_path_buf());
        std::fs::write(snapshots.path(16), b"snapshot").unwrap();
        std::fs::write(dir.path().join(format!("{:020}.{}", 32, purse_storage::PARTIAL_EXTENSION)), b"half")
            .unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"other").unwrap();
        snapshots.remove_partials();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec![format!("{:020}.snap", 16), "notes.txt".to_string()]);
        assert_eq!(snapshots.heights(), vec![16]);
    }
}
