//! Counters for metrics: lock-free atomics shared between the network task and its handles.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! stats {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// Live counters of one node's network (read them with [`NetworkStats::snapshot`]).
        #[derive(Debug, Default)]
        pub struct NetworkStats {
            $( pub(crate) $name: AtomicU64, )*
        }

        /// A point-in-time copy of [`NetworkStats`].
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct NetworkStatsSnapshot {
            $( $(#[$doc])* pub $name: u64, )*
        }

        impl NetworkStats {
            /// Reads every counter.
            pub fn snapshot(&self) -> NetworkStatsSnapshot {
                NetworkStatsSnapshot { $( $name: self.$name.load(Ordering::Relaxed), )* }
            }
        }
    };
}

stats! {
    /// Peers with at least one established connection (a gauge).
    connected_peers,
    /// Inbound connections refused (not allow-listed, banned, or over a connection limit).
    rejected_connections,
    /// Outbound dials that failed or were refused.
    failed_dials,
    /// Gossip messages received (before application validation).
    gossip_received,
    /// Gossip messages dropped because the application's event queue was full.
    dropped_inbound_gossip,
    /// Inbound sync requests dropped (event queue full or too many pending).
    dropped_inbound_requests,
    /// Peer events (connected/disconnected/banned) dropped because the event queue was full.
    dropped_peer_events,
    /// Gossip messages this node published.
    gossip_published,
    /// Publications gossipsub refused (no subscribed peer yet, duplicate, queues full).
    publish_failures,
    /// Gossip messages the application rejected as invalid.
    rejected_messages,
    /// Misbehaviour penalties applied (rejected messages, invalid responses, reports).
    penalties,
    /// Peers banned.
    bans,
    /// Sync requests sent.
    sync_requests_sent,
    /// Sync requests that failed (timeout, connection, invalid response).
    sync_request_failures,
    /// Sync requests answered.
    sync_requests_served,
    /// Sync responses the application produced above the size limit (replaced by `Unavailable`).
    oversized_responses,
}

impl NetworkStats {
    /// Adds one to a counter.
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_connected_peers(&self, n: usize) {
        self.connected_peers.store(n as u64, Ordering::Relaxed);
    }
}
