//! Keeps the validator mesh connected: remembers where each known peer listens and redials lost peers with
//! exponential backoff, so a restarted validator comes back into the mesh.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use crate::config::MAX_ADDRESSES_PER_PEER;

#[derive(Debug)]
struct Target {
    addrs: Vec<Multiaddr>,
    backoff: Duration,
    /// When to dial next; `None` while connected or while a dial is in flight.
    next: Option<Instant>,
    connected_since: Option<Instant>,
}

/// The redial schedule. Only allow-listed peers are added (the caller checks), so it is bounded by the
/// allow-list.
#[derive(Debug)]
pub(crate) struct Redialer {
    targets: HashMap<PeerId, Target>,
    initial: Duration,
    max: Duration,
}

impl Redialer {
    pub(crate) fn new(initial: Duration, max: Duration) -> Redialer {
        Redialer { targets: HashMap::new(), initial, max }
    }

    /// Remembers addresses of `peer`; a peer seen for the first time is due at once unless `connected`.
    pub(crate) fn add_addresses(
        &mut self,
        peer: PeerId,
        addrs: impl IntoIterator<Item = Multiaddr>,
        now: Instant,
        connected: bool,
    ) {
        let initial = self.initial;
        let t = self.targets.entry(peer).or_insert_with(|| Target {
            addrs: Vec::new(),
            backoff: initial,
            next: if connected { None } else { Some(now) },
            connected_since: if connected { Some(now) } else { None },
        });
        for a in addrs {
            if !t.addrs.contains(&a) {
                if t.addrs.len() >= MAX_ADDRESSES_PER_PEER {
                    t.addrs.remove(0);
                }
                t.addrs.push(a);
            }
        }
    }

    pub(crate) fn on_connected(&mut self, peer: &PeerId, now: Instant) {
        if let Some(t) = self.targets.get_mut(peer) {
            t.next = None;
            t.connected_since = Some(now);
        }
    }

    /// The last connection to `peer` closed: schedule a redial. A connection that lasted longer than the
    /// maximum backoff resets the backoff; a short-lived one (e.g. refused by the remote right after the
    /// handshake) keeps growing it.
    pub(crate) fn on_disconnected(&mut self, peer: &PeerId, now: Instant) {
        let (initial, max) = (self.initial, self.max);
        if let Some(t) = self.targets.get_mut(peer) {
            if let Some(since) = t.connected_since.take() {
                if now.saturating_duration_since(since) > max {
                    t.backoff = initial;
                }
            }
            t.next = Some(now + t.backoff);
            t.backoff = (t.backoff * 2).min(max);
        }
    }

    /// A dial to `peer` failed: try again after the backoff, which doubles.
    pub(crate) fn on_dial_failed(&mut self, peer: &PeerId, now: Instant) {
        let max = self.max;
        if let Some(t) = self.targets.get_mut(peer) {
            if t.connected_since.is_some() {
                return; // another connection is up
            }
            t.next = Some(now + t.backoff);
            t.backoff = (t.backoff * 2).min(max);
        }
    }

    /// Forgets `peer` (it left the allow-list).
    pub(crate) fn remove(&mut self, peer: &PeerId) {
        self.targets.remove(peer);
    }

    /// Do not dial `peer` before `until` (it is banned).
    pub(crate) fn defer(&mut self, peer: &PeerId, until: Instant) {
        if let Some(t) = self.targets.get_mut(peer) {
            t.next = Some(until);
        }
    }

    /// The peers to dial now, with their addresses; each is marked in flight until connected or failed.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut out = Vec::new();
        for (peer, t) in self.targets.iter_mut() {
            if t.next.is_some_and(|n| n <= now) && !t.addrs.is_empty() {
                t.next = None;
                out.push((*peer, t.addrs.clone()));
            }
        }
        out
    }

    #[cfg(test)]
    fn next(&self, peer: &PeerId) -> Option<Instant> {
        self.targets.get(peer).and_then(|t| t.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
    }

    #[test]
    fn backoff_doubles_and_caps_and_resets_after_a_stable_connection() {
        let ms = Duration::from_millis;
        let mut r = Redialer::new(ms(100), ms(400));
        let p = PeerId::random();
        let t0 = Instant::now();
        r.add_addresses(p, [addr(1)], t0, false);
        assert_eq!(r.due(t0), vec![(p, vec![addr(1)])]);
        assert!(r.due(t0).is_empty(), "in flight until it fails or connects");
        r.on_dial_failed(&p, t0);
        assert_eq!(r.next(&p), Some(t0 + ms(100)));
        assert!(r.due(t0 + ms(99)).is_empty());
        assert_eq!(r.due(t0 + ms(100)).len(), 1);
        r.on_dial_failed(&p, t0);
        assert_eq!(r.next(&p), Some(t0 + ms(200)));
        r.on_dial_failed(&p, t0);
        assert_eq!(r.next(&p), Some(t0 + ms(400)));
        r.on_dial_failed(&p, t0);
        assert_eq!(r.next(&p), Some(t0 + ms(400)), "capped");
        // A short connection keeps the backoff high.
        r.on_connected(&p, t0);
        assert_eq!(r.next(&p), None);
        r.on_disconnected(&p, t0 + ms(10));
        assert_eq!(r.next(&p), Some(t0 + ms(410)));
        // A long one resets it.
        r.on_connected(&p, t0);
        r.on_disconnected(&p, t0 + ms(1000));
        assert_eq!(r.next(&p), Some(t0 + ms(1100)));
    }

    #[test]
    fn addresses_are_bounded_and_deduplicated_and_bans_defer() {
        let mut r = Redialer::new(Duration::from_millis(10), Duration::from_millis(20));
        let p = PeerId::random();
        let t0 = Instant::now();
        for port in 0..20 {
            r.add_addresses(p, [addr(port), addr(port)], t0, true);
        }
        assert!(r.due(t0).is_empty(), "connected peers are not dialled");
        r.on_disconnected(&p, t0);
        let until = t0 + Duration::from_secs(60);
        r.defer(&p, until);
        assert!(r.due(t0 + Duration::from_secs(59)).is_empty());
        let due = r.due(until);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].1.len(), MAX_ADDRESSES_PER_PEER);
        assert_eq!(due[0].1.last(), Some(&addr(19)));
    }
}
