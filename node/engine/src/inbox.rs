//! The engine's inbox: a queue bounded both by messages ([`INBOX_CAPACITY`]) and by their encoded bytes
//! ([`INBOX_BYTES`]), so that a flood of large messages (proposals, synced blocks) cannot hold more memory
//! than a flood of small ones; and with room that transactions cannot take ([`INBOX_RESERVED_MESSAGES`],
//! [`INBOX_RESERVED_BYTES`]), so that a stream of transactions, small or large, cannot keep proposals, votes
//! or synced blocks out.

use crate::network::Inbound;
use crate::wire::{NetMessage, MAX_MESSAGE_BYTES};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SendError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// Most messages an engine's inbox holds. Senders of untrusted input never block on a full inbox: the gossip
/// bridge drops the message and counts it, block sync stops its batch and polls again, the RPC answers
/// `MEMPOOL_FULL`.
pub const INBOX_CAPACITY: usize = 65_536;

/// Most bytes of messages an engine's inbox holds, each weighed by [`Inbound::weight`]: about 31 messages of
/// the largest size ([`MAX_MESSAGE_BYTES`]), or every one of [`INBOX_CAPACITY`] votes and transactions of a
/// few kilobytes.
pub const INBOX_BYTES: usize = 256 * 1024 * 1024;

/// Bytes of [`INBOX_BYTES`] that transactions (gossiped, submitted or checked) may not fill: two messages of
/// the largest size, kept for proposals, votes and synced blocks.
pub const INBOX_RESERVED_BYTES: usize = 2 * MAX_MESSAGE_BYTES;

/// Messages of [`INBOX_CAPACITY`] that transactions may not fill, kept for proposals, votes and synced blocks
/// (a round of votes from a large validator set, a batch of synced blocks).
pub const INBOX_RESERVED_MESSAGES: usize = 1_024;

const _: () = assert!(
    INBOX_BYTES >= 4 * INBOX_RESERVED_BYTES && INBOX_CAPACITY >= 4 * INBOX_RESERVED_MESSAGES,
    "transactions must have most of the inbox"
);

/// Bytes counted for any message beside its contents (the queue's slot, a reply closure).
const MESSAGE_OVERHEAD: usize = 256;

/// How long a blocking [`InboxSender::send`] sleeps before it tries again while the inbox is full of bytes.
const SEND_RETRY: Duration = Duration::from_millis(1);

impl Inbound {
    /// The bytes this message is counted for in an inbox: its encoded contents plus a fixed overhead.
    pub fn weight(&self) -> usize {
        let contents = match self {
            Inbound::Net(NetMessage::Proposal { proposal, block }) => {
                object_length(proposal).saturating_add(object_length(block))
            }
            Inbound::Net(NetMessage::Vote(v)) => object_length(v),
            Inbound::Net(NetMessage::Tx(tx)) => object_length(tx),
            Inbound::Submit { tx, .. } | Inbound::Check { tx, .. } => object_length(tx),
            Inbound::SyncedBlock(synced) => object_length(synced),
            Inbound::Read(_) | Inbound::Stop => 0,
        };
        contents.saturating_add(MESSAGE_OVERHEAD)
    }

    /// Whether this is a transaction (gossiped, submitted or checked): those may not use the inbox's reserve.
    fn is_transaction(&self) -> bool {
        matches!(self, Inbound::Net(NetMessage::Tx(_)) | Inbound::Submit { .. } | Inbound::Check { .. })
    }
}

/// Encoded length of `value` (without encoding it into memory); `usize::MAX` if it cannot be measured.
fn object_length<T: borsh::BorshSerialize>(value: &T) -> usize {
    borsh::object_length(value).unwrap_or(usize::MAX)
}

/// A new inbox with the node's bounds ([`INBOX_CAPACITY`], [`INBOX_BYTES`], and the reserves
/// [`INBOX_RESERVED_MESSAGES`], [`INBOX_RESERVED_BYTES`]).
pub fn inbox() -> (InboxSender, InboxReceiver) {
    inbox_with_bounds(
        Bound { messages: INBOX_CAPACITY, bytes: INBOX_BYTES },
        Bound { messages: INBOX_RESERVED_MESSAGES, bytes: INBOX_RESERVED_BYTES },
    )
}

/// A number of messages and of their bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// Messages.
    pub messages: usize,
    /// Bytes (message weights, [`Inbound::weight`]).
    pub bytes: usize,
}

/// A new inbox holding at most `total` (at least one message), of which transactions may fill all but
/// `reserved`. A message heavier than what it may fill is taken only into an empty inbox, so that it is not
/// refused for ever.
pub fn inbox_with_bounds(total: Bound, reserved: Bound) -> (InboxSender, InboxReceiver) {
    let capacity = total.messages.max(1);
    let (tx, rx) = sync_channel(capacity);
    let held = Arc::new(Held::default());
    let limit = Bound { messages: capacity, bytes: total.bytes };
    let transaction_limit = Bound {
        messages: capacity.saturating_sub(reserved.messages).max(1),
        bytes: total.bytes.saturating_sub(reserved.bytes),
    };
    (InboxSender { tx, held: held.clone(), limit, transaction_limit }, InboxReceiver { rx, held })
}

/// What an inbox holds now: messages and bytes, each taken by a sender before it queues a message (given
/// back if it cannot) and given back by the receiver once it takes the message out, so neither is ever
/// below what the queue holds.
#[derive(Debug, Default)]
struct Held {
    messages: AtomicUsize,
    bytes: AtomicUsize,
    /// Set when the receiver is dropped: a full inbox is then reported gone, not full.
    closed: AtomicBool,
}

/// Takes `amount` of `counter` if the count stays within `limit` (or the counter is at zero, so that one
/// message heavier than the limit still passes into an empty inbox); whether it did.
fn take(counter: &AtomicUsize, amount: usize, limit: usize) -> bool {
    let mut now = counter.load(Ordering::Acquire);
    loop {
        let fits = now == 0 || now.checked_add(amount).is_some_and(|after| after <= limit);
        if !fits {
            return false;
        }
        match counter.compare_exchange_weak(
            now,
            now.saturating_add(amount),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return true,
            Err(seen) => now = seen,
        }
    }
}

/// The sending side of an inbox; clones send to the same inbox.
#[derive(Clone, Debug)]
pub struct InboxSender {
    tx: SyncSender<(Inbound, usize)>,
    /// What the queue holds, shared with the receiver.
    held: Arc<Held>,
    /// Most held after taking any message but a transaction.
    limit: Bound,
    /// Most held after taking a transaction.
    transaction_limit: Bound,
}

impl InboxSender {
    /// Queues `msg` without blocking. [`TrySendError::Full`] if either bound would be passed, and
    /// [`TrySendError::Disconnected`] if the engine is gone; the message is handed back with either.
    #[allow(clippy::result_large_err)] // std's channel errors: the message comes back (a `send` retries it)
    pub fn try_send(&self, msg: Inbound) -> Result<(), TrySendError<Inbound>> {
        let weight = msg.weight();
        self.try_send_weighed(msg, weight)
    }

    /// [`try_send`](Self::try_send) of `msg`, whose weight is `weight`.
    #[allow(clippy::result_large_err)] // as `try_send`
    fn try_send_weighed(&self, msg: Inbound, weight: usize) -> Result<(), TrySendError<Inbound>> {
        let limit = if msg.is_transaction() { self.transaction_limit } else { self.limit };
        let held = &self.held;
        if held.closed.load(Ordering::Acquire) {
            return Err(TrySendError::Disconnected(msg));
        }
        if !take(&held.messages, 1, limit.messages) {
            return Err(TrySendError::Full(msg));
        }
        if !take(&held.bytes, weight, limit.bytes) {
            held.messages.fetch_sub(1, Ordering::AcqRel);
            return Err(TrySendError::Full(msg));
        }
        self.tx.try_send((msg, weight)).map_err(|e| {
            held.messages.fetch_sub(1, Ordering::AcqRel);
            held.bytes.fetch_sub(weight, Ordering::AcqRel);
            match e {
                TrySendError::Full((m, _)) => TrySendError::Full(m),
                TrySendError::Disconnected((m, _)) => TrySendError::Disconnected(m),
            }
        })
    }

    /// Queues `msg`, waiting while the inbox is full: for the node's own control messages and trusted local
    /// drivers, never for input from peers or clients. Fails only if the engine is gone.
    #[allow(clippy::result_large_err)] // as `try_send`
    pub fn send(&self, mut msg: Inbound) -> Result<(), SendError<Inbound>> {
        let weight = msg.weight();
        loop {
            match self.try_send_weighed(msg, weight) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(m)) => {
                    msg = m;
                    std::thread::sleep(SEND_RETRY);
                }
                Err(TrySendError::Disconnected(m)) => return Err(SendError(m)),
            }
        }
    }

    /// Bytes of the messages queued now.
    pub fn queued_bytes(&self) -> usize {
        self.held.bytes.load(Ordering::Acquire)
    }

    /// Messages queued now.
    pub fn queued_messages(&self) -> usize {
        self.held.messages.load(Ordering::Acquire)
    }
}

/// The receiving side of an inbox: the engine's ([`Engine::run`](crate::Engine::run)).
#[derive(Debug)]
pub struct InboxReceiver {
    rx: Receiver<(Inbound, usize)>,
    held: Arc<Held>,
}

impl Drop for InboxReceiver {
    fn drop(&mut self) {
        self.held.closed.store(true, Ordering::Release);
    }
}

impl InboxReceiver {
    /// The next message, waiting at most `timeout`; its bytes leave the inbox's count.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Inbound, RecvTimeoutError> {
        let (msg, weight) = self.rx.recv_timeout(timeout)?;
        self.held.bytes.fetch_sub(weight, Ordering::AcqRel);
        self.held.messages.fetch_sub(1, Ordering::AcqRel);
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_types::{Address, Amount, ChainId, Hash, Keypair, Payload, SignedTransaction, Transaction};
    use std::sync::mpsc::TryRecvError;

    /// No reserve.
    const NONE: Bound = Bound { messages: 0, bytes: 0 };

    /// A signed deployment carrying `code_bytes` bytes of code: a message whose size the test chooses.
    fn tx(nonce: u64, code_bytes: usize) -> SignedTransaction {
        let key = Keypair::from_seed(&[7; 32]);
        Transaction {
            chain_id: ChainId::new("purse-test").expect("chain id"),
            sender: Address::from_hash(Hash([1; 32])),
            nonce,
            expiry_height: 100,
            max_fee: Amount(1),
            payload: Payload::Deploy {
                code: vec![0; code_bytes],
                init_args: Vec::new(),
                admin: None,
                fuel_limit: 1,
            },
        }
        .sign(&key)
    }

    fn submit(nonce: u64, code_bytes: usize) -> Inbound {
        Inbound::Submit { tx: tx(nonce, code_bytes), reply: None }
    }

    fn gossip(nonce: u64, code_bytes: usize) -> Inbound {
        Inbound::Net(NetMessage::Tx(Box::new(tx(nonce, code_bytes))))
    }

    fn nonce_of(m: &Inbound) -> u64 {
        match m {
            Inbound::Submit { tx, .. } => tx.tx.nonce,
            Inbound::Net(NetMessage::Tx(tx)) => tx.tx.nonce,
            _ => u64::MAX,
        }
    }

    #[test]
    fn a_message_weighs_its_encoded_bytes_and_the_overhead() {
        let t = tx(0, 10_000);
        let encoded = borsh::to_vec(&t).expect("encode").len();
        assert_eq!(submit(0, 10_000).weight(), encoded + MESSAGE_OVERHEAD);
        let m = NetMessage::Tx(Box::new(t));
        assert_eq!(
            Inbound::Net(m.clone()).weight(),
            m.encode().len() - 1 + MESSAGE_OVERHEAD,
            "the tag is not counted"
        );
        assert_eq!(Inbound::Stop.weight(), MESSAGE_OVERHEAD);
    }

    #[test]
    fn an_inbox_full_of_bytes_refuses_more_until_the_engine_reads() {
        let weight = gossip(0, 100_000).weight();
        let (tx, rx) = inbox_with_bounds(Bound { messages: 1_000, bytes: 3 * weight }, NONE);
        for n in 0..3 {
            tx.try_send(gossip(n, 100_000)).expect("room for three");
        }
        assert_eq!(tx.queued_bytes(), 3 * weight);
        // Far below the message count, the bytes are full: the message comes back.
        match tx.try_send(gossip(3, 100_000)) {
            Err(TrySendError::Full(m)) => assert_eq!(nonce_of(&m), 3),
            other => panic!("expected Full, got {:?}", other.map_err(|e| e.to_string())),
        }
        assert_eq!(tx.queued_bytes(), 3 * weight, "a refused message is not counted");
        // Not even a small message fits: no byte is left.
        assert!(tx.try_send(submit(9, 10)).is_err(), "no byte left at all");
        let first = rx.recv_timeout(Duration::from_secs(1)).expect("queued");
        assert_eq!(nonce_of(&first), 0);
        assert_eq!(tx.queued_bytes(), 2 * weight);
        tx.try_send(gossip(3, 100_000)).expect("room again after a read");
        for n in 1..4 {
            assert_eq!(nonce_of(&rx.recv_timeout(Duration::from_secs(1)).expect("queued")), n);
        }
        assert_eq!(tx.queued_bytes(), 0);
    }

    #[test]
    fn the_message_count_is_bounded_too() {
        let (tx, rx) = inbox_with_bounds(Bound { messages: 2, bytes: INBOX_BYTES }, NONE);
        tx.try_send(submit(0, 1)).expect("first");
        tx.try_send(submit(1, 1)).expect("second");
        assert!(matches!(tx.try_send(submit(2, 1)), Err(TrySendError::Full(_))));
        assert_eq!(
            tx.queued_bytes(),
            2 * submit(0, 1).weight(),
            "the refused message's bytes are given back"
        );
        drop(rx);
        assert!(matches!(tx.try_send(submit(3, 1)), Err(TrySendError::Disconnected(_))));
        assert_eq!(tx.queued_bytes(), 2 * submit(0, 1).weight());
    }

    #[test]
    fn a_message_heavier_than_the_bound_is_taken_only_into_an_empty_inbox() {
        let (tx, rx) = inbox_with_bounds(Bound { messages: 10, bytes: 1_000 }, NONE);
        tx.try_send(submit(0, 1)).expect("small");
        assert!(matches!(tx.try_send(gossip(1, 5_000)), Err(TrySendError::Full(_))));
        rx.recv_timeout(Duration::from_secs(1)).expect("queued");
        tx.try_send(gossip(1, 5_000)).expect("an empty inbox takes it");
        assert!(matches!(tx.try_send(submit(2, 1)), Err(TrySendError::Full(_))), "and is then full");
    }

    #[test]
    fn a_blocking_send_waits_for_room_and_fails_once_the_engine_is_gone() {
        let weight = submit(0, 50_000).weight();
        let (tx, rx) = inbox_with_bounds(Bound { messages: 100, bytes: weight }, NONE);
        tx.try_send(submit(0, 50_000)).expect("first");
        let reader = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let first = rx.recv_timeout(Duration::from_secs(5)).expect("first");
            let second = rx.recv_timeout(Duration::from_secs(5)).expect("second");
            (nonce_of(&first), nonce_of(&second), rx)
        });
        let started = std::time::Instant::now();
        tx.send(submit(1, 50_000)).expect("sent once there is room");
        assert!(started.elapsed() >= Duration::from_millis(40), "it waited for the read");
        let (first, second, rx) = reader.join().expect("reader");
        assert_eq!((first, second), (0, 1));
        assert!(matches!(rx.rx.try_recv(), Err(TryRecvError::Empty)));
        drop(rx);
        assert!(tx.send(Inbound::Stop).is_err());
    }

    #[test]
    fn transactions_cannot_take_the_room_kept_for_consensus_and_sync() {
        let weight = gossip(0, 100_000).weight();
        let (sender, rx) = inbox_with_bounds(
            Bound { messages: 1_000, bytes: 4 * weight },
            Bound { messages: 0, bytes: 2 * weight },
        );
        sender.try_send(gossip(0, 100_000)).expect("first transaction");
        sender.try_send(submit(1, 100_000)).expect("second transaction");
        assert!(
            matches!(sender.try_send(gossip(2, 100_000)), Err(TrySendError::Full(_))),
            "the rest is reserved"
        );
        assert!(matches!(sender.try_send(submit(2, 10)), Err(TrySendError::Full(_))), "even for a small one");
        // A synced block of the same size still gets in, twice.
        let synced = || {
            let key = Keypair::from_seed(&[8; 32]);
            let header = purse_types::Header {
                chain_id: ChainId::new("purse-test").expect("chain id"),
                height: 1,
                round: 0,
                parent: Hash::ZERO,
                timestamp_ms: 1,
                proposer: key.public(),
                tx_root: Hash::ZERO,
                state_root: Hash::ZERO,
                receipt_root: Hash::ZERO,
                validator_set_hash: Hash::ZERO,
                next_validator_set_hash: Hash::ZERO,
                last_commit_hash: Hash::ZERO,
                evidence_root: Hash::ZERO,
            };
            let block = purse_types::Block {
                header,
                txs: vec![tx(3, 99_000)],
                last_commit: None,
                evidence: Vec::new(),
            };
            let certificate = purse_types::CommitCertificate {
                height: 1,
                round: 0,
                block_id: Hash::ZERO,
                signatures: Vec::new(),
            };
            Inbound::SyncedBlock(Box::new(crate::SyncedBlock { block, certificate }))
        };
        assert!(synced().weight() <= weight, "{} > {weight}", synced().weight());
        sender.try_send(synced()).expect("reserved room");
        sender.try_send(synced()).expect("reserved room, again");
        assert!(matches!(sender.try_send(synced()), Err(TrySendError::Full(_))), "the whole bound is full");
        drop(rx);
    }

    #[test]
    fn transactions_cannot_take_the_message_slots_kept_for_consensus_and_sync() {
        let (sender, rx) =
            inbox_with_bounds(Bound { messages: 4, bytes: INBOX_BYTES }, Bound { messages: 2, bytes: 0 });
        sender.try_send(gossip(0, 10)).expect("first transaction");
        sender.try_send(submit(1, 10)).expect("second transaction");
        assert!(matches!(sender.try_send(gossip(2, 10)), Err(TrySendError::Full(_))), "the rest is reserved");
        assert_eq!((sender.queued_messages(), sender.queued_bytes()), (2, 2 * gossip(0, 10).weight()));
        // Other messages take the reserved slots, and then the inbox is full for them too.
        sender.try_send(Inbound::Read(Box::new(|_| {}))).expect("reserved slot");
        sender.try_send(Inbound::Stop).expect("reserved slot, again");
        assert!(matches!(sender.try_send(Inbound::Stop), Err(TrySendError::Full(_))));
        assert_eq!(sender.queued_messages(), 4);
        rx.recv_timeout(Duration::from_secs(1)).expect("queued");
        assert_eq!(sender.queued_messages(), 3);
        assert!(matches!(sender.try_send(gossip(2, 10)), Err(TrySendError::Full(_))), "still reserved");
        sender.try_send(Inbound::Stop).expect("a freed slot");
    }

    #[test]
    fn racing_senders_never_pass_the_bounds_and_the_count_ends_at_zero() {
        let weight = gossip(0, 1_000).weight();
        let total = Bound { messages: 64, bytes: 40 * weight };
        let (sender, rx) = inbox_with_bounds(total, Bound { messages: 8, bytes: 8 * weight });
        let senders: Vec<_> = (0..4u64)
            .map(|t| {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    let mut sent = 0u64;
                    for i in 0..2_000 {
                        let m = if i % 3 == 0 { Inbound::Stop } else { gossip(t * 10_000 + i, 1_000) };
                        if sender.try_send(m).is_ok() {
                            sent += 1;
                        }
                        assert!(sender.queued_messages() <= total.messages);
                        assert!(sender.queued_bytes() <= total.bytes);
                    }
                    sent
                })
            })
            .collect();
        // The reader drains until the end marker (a read), sent once every sender is done.
        let reader = std::thread::spawn(move || {
            let mut received = 0u64;
            loop {
                match rx.recv_timeout(Duration::from_secs(60)).expect("the end marker comes") {
                    Inbound::Read(_) => return received,
                    _ => received += 1,
                }
            }
        });
        let sent: u64 = senders.into_iter().map(|h| h.join().expect("sender")).sum();
        sender.send(Inbound::Read(Box::new(|_| {}))).expect("the reader is there");
        let received = reader.join().expect("reader");
        assert_eq!(sent, received, "every message taken in came out");
        assert!(sent > 0);
        assert_eq!((sender.queued_messages(), sender.queued_bytes()), (0, 0));
    }
}
