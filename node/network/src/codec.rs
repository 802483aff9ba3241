//! The block-sync protocol: request and response types and their size-bounded borsh framing.
//!
//! Each message on a stream is a little-endian `u32` length followed by that many bytes of borsh. A length
//! above the reader's limit fails the stream before anything is allocated for it.

use std::io;

use borsh::{BorshDeserialize, BorshSerialize};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;
use libp2p::StreamProtocol;
use purse_types::{ChainId, Hash};

use crate::config::{MAX_BLOCKS_PER_REQUEST, MAX_SNAPSHOT_CHUNK_BYTES};
use crate::error::NetworkError;

/// The sync protocol's name for a chain: `/purse/<chain id>/sync/1`.
pub fn sync_protocol_name(chain_id: &ChainId) -> String {
    format!("/purse/{}/sync/1", chain_id.as_str())
}

/// A block-sync request.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SyncRequest {
    /// The peer's latest committed height and block hash.
    Status,
    /// Committed blocks `from..=to` (with their commit certificates), at most [`MAX_BLOCKS_PER_REQUEST`].
    Blocks {
        /// First height.
        from: u64,
        /// Last height (inclusive).
        to: u64,
    },
    /// One chunk of the state snapshot taken at `height`.
    Snapshot {
        /// Snapshot height.
        height: u64,
        /// Chunk index, from 0.
        chunk: u32,
    },
    /// The heights of the state snapshots the peer serves.
    Snapshots,
}

impl SyncRequest {
    /// Checks the request is well-formed: a non-empty block range of at most [`MAX_BLOCKS_PER_REQUEST`].
    pub fn validate(&self) -> Result<(), NetworkError> {
        if let SyncRequest::Blocks { from, to } = *self {
            if to < from {
                return Err(NetworkError::InvalidRequest(format!("empty block range {from}..={to}")));
            }
            if to - from >= MAX_BLOCKS_PER_REQUEST {
                return Err(NetworkError::InvalidRequest(format!(
                    "block range {from}..={to} is longer than {MAX_BLOCKS_PER_REQUEST}"
                )));
            }
        }
        Ok(())
    }
}

/// A block-sync response. Block and chunk contents are opaque bytes produced by the application (encoded
/// blocks with certificates, snapshot chunks); this crate only bounds them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SyncResponse {
    /// Answer to [`SyncRequest::Status`].
    Status {
        /// Latest committed height.
        height: u64,
        /// Hash of the block at that height.
        hash: Hash,
    },
    /// Answer to [`SyncRequest::Blocks`]: consecutive blocks starting at `from`, possibly fewer than asked
    /// (the responder stops at its head or at the response size limit), never more.
    Blocks(Vec<Vec<u8>>),
    /// Answer to [`SyncRequest::Snapshot`].
    SnapshotChunk {
        /// Snapshot height (as requested).
        height: u64,
        /// Chunk index (as requested).
        chunk: u32,
        /// Number of chunks in the snapshot.
        total_chunks: u32,
        /// The chunk, at most [`MAX_SNAPSHOT_CHUNK_BYTES`].
        data: Vec<u8>,
    },
    /// The responder cannot serve the request (unknown height, no such snapshot, response too large...).
    Unavailable,
    /// Answer to [`SyncRequest::Snapshots`]: heights of the snapshots served, ascending, at most
    /// [`MAX_SNAPSHOTS_LISTED`].
    Snapshots(Vec<u64>),
}

/// Most snapshot heights one [`SyncResponse::Snapshots`] lists.
pub const MAX_SNAPSHOTS_LISTED: usize = 16;

impl SyncResponse {
    /// Bounds that hold whatever the request was.
    pub(crate) fn check_bounds(&self) -> Result<(), String> {
        match self {
            SyncResponse::Blocks(blocks) if blocks.len() as u64 > MAX_BLOCKS_PER_REQUEST => {
                Err(format!("{} blocks, more than {MAX_BLOCKS_PER_REQUEST}", blocks.len()))
            }
            SyncResponse::SnapshotChunk { data, .. } if data.len() > MAX_SNAPSHOT_CHUNK_BYTES => {
                Err(format!("snapshot chunk of {} bytes, more than {MAX_SNAPSHOT_CHUNK_BYTES}", data.len()))
            }
            SyncResponse::SnapshotChunk { chunk, total_chunks, .. } if chunk >= total_chunks => {
                Err(format!("chunk {chunk} of {total_chunks}"))
            }
            SyncResponse::Snapshots(heights) if heights.len() > MAX_SNAPSHOTS_LISTED => {
                Err(format!("{} snapshot heights, more than {MAX_SNAPSHOTS_LISTED}", heights.len()))
            }
            _ => Ok(()),
        }
    }

    /// Checks that this response answers `request`.
    pub fn check_answers(&self, request: &SyncRequest) -> Result<(), String> {
        self.check_bounds()?;
        match (request, self) {
            (_, SyncResponse::Unavailable) => Ok(()),
            (SyncRequest::Status, SyncResponse::Status { .. }) => Ok(()),
            (SyncRequest::Blocks { from, to }, SyncResponse::Blocks(blocks)) => {
                let asked = to.saturating_sub(*from).saturating_add(1);
                if blocks.len() as u64 > asked {
                    return Err(format!("{} blocks for a request of {asked}", blocks.len()));
                }
                Ok(())
            }
            (
                SyncRequest::Snapshot { height, chunk },
                SyncResponse::SnapshotChunk { height: h, chunk: c, .. },
            ) => {
                if height != h || chunk != c {
                    return Err(format!("chunk {h}/{c} for a request of {height}/{chunk}"));
                }
                Ok(())
            }
            (SyncRequest::Snapshots, SyncResponse::Snapshots(_)) => Ok(()),
            _ => Err("response kind does not match the request".into()),
        }
    }

    /// The encoded size of this response (what the size limit applies to, without the 4-byte length).
    pub fn encoded_len(&self) -> usize {
        borsh::object_length(self).unwrap_or(usize::MAX)
    }
}

/// The request-response codec: borsh with a length prefix and hard size limits in both directions.
#[derive(Clone, Debug)]
pub struct SyncCodec {
    max_request_bytes: usize,
    max_response_bytes: usize,
}

impl SyncCodec {
    /// A codec with the given limits (see [`crate::NetworkConfig`]).
    pub fn new(max_request_bytes: usize, max_response_bytes: usize) -> SyncCodec {
        SyncCodec { max_request_bytes, max_response_bytes }
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(invalid(format!("frame of {len} bytes exceeds the {max}-byte limit")));
    }
    // Read through `take` so a peer that lies about the length cannot make us allocate it up front.
    let mut buf = Vec::new();
    io.take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "frame truncated"));
    }
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send, M: BorshSerialize>(
    io: &mut T,
    msg: &M,
    max: usize,
) -> io::Result<()> {
    let bytes = borsh::to_vec(msg)?;
    if bytes.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("message of {} bytes exceeds the {max}-byte limit", bytes.len()),
        ));
    }
    let len = u32::try_from(bytes.len()).map_err(|_| invalid("message too large for a frame".into()))?;
    io.write_all(&len.to_le_bytes()).await?;
    io.write_all(&bytes).await?;
    io.flush().await
}

impl request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_frame(io, self.max_request_bytes).await?;
        let req: SyncRequest = borsh::from_slice(&bytes)?;
        req.validate().map_err(|e| invalid(e.to_string()))?;
        Ok(req)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_frame(io, self.max_response_bytes).await?;
        let resp: SyncResponse = borsh::from_slice(&bytes)?;
        resp.check_bounds().map_err(invalid)?;
        Ok(resp)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: SyncRequest) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req, self.max_request_bytes).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, res: SyncResponse) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max_response_bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::Cursor;
    use request_response::Codec;

    fn proto() -> StreamProtocol {
        StreamProtocol::new("/purse/test/sync/1")
    }

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as u32).to_le_bytes().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn round_trips() {
        let mut c = SyncCodec::new(1024, 1 << 20);
        for req in [
            SyncRequest::Status,
            SyncRequest::Blocks { from: 5, to: 9 },
            SyncRequest::Snapshot { height: 100, chunk: 3 },
            SyncRequest::Snapshots,
        ] {
            let mut buf = Cursor::new(Vec::new());
            block_on(c.write_request(&proto(), &mut buf, req.clone())).unwrap();
            let mut r = Cursor::new(buf.into_inner());
            assert_eq!(block_on(c.read_request(&proto(), &mut r)).unwrap(), req);
        }
        for resp in [
            SyncResponse::Status { height: 7, hash: Hash([9; 32]) },
            SyncResponse::Blocks(vec![vec![1, 2, 3], vec![]]),
            SyncResponse::SnapshotChunk { height: 1, chunk: 0, total_chunks: 2, data: vec![5; 100] },
            SyncResponse::Snapshots(vec![1_000, 2_000]),
            SyncResponse::Unavailable,
        ] {
            let mut buf = Cursor::new(Vec::new());
            block_on(c.write_response(&proto(), &mut buf, resp.clone())).unwrap();
            let bytes = buf.into_inner();
            assert_eq!(bytes.len(), 4 + resp.encoded_len());
            let mut r = Cursor::new(bytes);
            assert_eq!(block_on(c.read_response(&proto(), &mut r)).unwrap(), resp);
        }
    }

    #[test]
    fn oversized_frames_are_errors() {
        let mut c = SyncCodec::new(64, 1000);
        // A request frame claiming more than the limit fails before the body is read.
        let mut r = Cursor::new(framed(&[0u8; 65]));
        let e = block_on(c.read_request(&proto(), &mut r)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // A length prefix of 4 GiB with no body: an error, no allocation.
        let mut r = Cursor::new(u32::MAX.to_le_bytes().to_vec());
        assert!(block_on(c.read_response(&proto(), &mut r)).is_err());
        // Writing a response above the limit fails instead of sending it.
        let big = SyncResponse::Blocks(vec![vec![0u8; 2000]]);
        let mut buf = Cursor::new(Vec::new());
        let e = block_on(c.write_response(&proto(), &mut buf, big.clone())).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(buf.into_inner().is_empty());
        // Reading a response above the limit fails.
        let mut r = Cursor::new(framed(&borsh::to_vec(&big).unwrap()));
        assert!(block_on(c.read_response(&proto(), &mut r)).is_err());
    }

    #[test]
    fn malformed_input_is_an_error() {
        let mut c = SyncCodec::new(1024, 1024);
        for bad in [
            framed(&[]),
            framed(&[9]),                         // unknown variant
            framed(&[0, 0]),                      // trailing byte
            vec![1, 0],                           // truncated length
            framed(&[1, 1, 0, 0, 0, 0, 0, 0, 0]), // truncated body
        ] {
            assert!(block_on(c.read_request(&proto(), &mut Cursor::new(bad))).is_err());
        }
        // Truncated frame: length says 10, 3 bytes follow.
        let mut v = 10u32.to_le_bytes().to_vec();
        v.extend_from_slice(&[0, 0, 0]);
        assert!(block_on(c.read_response(&proto(), &mut Cursor::new(v))).is_err());
        // Invalid block ranges are rejected when read.
        let bad_range = borsh::to_vec(&SyncRequest::Blocks { from: 10, to: 5 }).unwrap();
        assert!(block_on(c.read_request(&proto(), &mut Cursor::new(framed(&bad_range)))).is_err());
        let too_long = borsh::to_vec(&SyncRequest::Blocks { from: 0, to: MAX_BLOCKS_PER_REQUEST }).unwrap();
        assert!(block_on(c.read_request(&proto(), &mut Cursor::new(framed(&too_long)))).is_err());
        // A response with too many blocks is rejected when read.
        let many =
            borsh::to_vec(&SyncResponse::Blocks(vec![vec![]; MAX_BLOCKS_PER_REQUEST as usize + 1])).unwrap();
        assert!(block_on(c.read_response(&proto(), &mut Cursor::new(framed(&many)))).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut c = SyncCodec::new(1024, 1024);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let body: Vec<u8> = (0..len).map(|i| (x >> (i % 8 * 8)) as u8).collect();
            let _ = block_on(c.read_request(&proto(), &mut Cursor::new(framed(&body))));
            let _ = block_on(c.read_response(&proto(), &mut Cursor::new(framed(&body))));
        }
    }

    #[test]
    fn request_validation_and_response_matching() {
        assert!(SyncRequest::Blocks { from: 1, to: MAX_BLOCKS_PER_REQUEST }.validate().is_ok());
        assert!(SyncRequest::Blocks { from: 1, to: MAX_BLOCKS_PER_REQUEST + 1 }.validate().is_err());
        assert!(SyncRequest::Blocks { from: 2, to: 1 }.validate().is_err());
        assert!(SyncRequest::Blocks { from: 0, to: u64::MAX }.validate().is_err());
        let blocks = SyncRequest::Blocks { from: 1, to: 2 };
        assert!(SyncResponse::Blocks(vec![vec![], vec![]]).check_answers(&blocks).is_ok());
        assert!(SyncResponse::Blocks(vec![vec![]; 3]).check_answers(&blocks).is_err());
        assert!(SyncResponse::Unavailable.check_answers(&blocks).is_ok());
        assert!(SyncResponse::Status { height: 1, hash: Hash::ZERO }.check_answers(&blocks).is_err());
        let snap = SyncRequest::Snapshot { height: 5, chunk: 1 };
        let ok = SyncResponse::SnapshotChunk { height: 5, chunk: 1, total_chunks: 2, data: vec![] };
        assert!(ok.check_answers(&snap).is_ok());
        let wrong = SyncResponse::SnapshotChunk { height: 5, chunk: 0, total_chunks: 2, data: vec![] };
        assert!(wrong.check_answers(&snap).is_err());
        let out_of_range = SyncResponse::SnapshotChunk { height: 5, chunk: 1, total_chunks: 1, data: vec![] };
        assert!(out_of_range.check_answers(&snap).is_err());
        let list = SyncRequest::Snapshots;
        assert!(SyncResponse::Snapshots(vec![10, 20]).check_answers(&list).is_ok());
        assert!(SyncResponse::Snapshots(vec![1; MAX_SNAPSHOTS_LISTED + 1]).check_answers(&list).is_err());
        assert!(SyncResponse::Snapshots(vec![]).check_answers(&snap).is_err());
        assert!(ok.check_answers(&list).is_err());
    }
}
