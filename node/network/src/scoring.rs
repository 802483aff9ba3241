//! Application-driven peer scoring: misbehaviour lowers a peer's score, the score recovers slowly, and a peer
//! whose score falls to the ban threshold is disconnected and banned for a while.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

use crate::error::NetworkError;

/// Something a peer did wrong, as judged by the application (or by this crate for malformed traffic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// A gossip message that is provably invalid (undecodable, bad signature...). Messages that are merely
    /// useless in the local state (stale, duplicate, nonce too low) should be ignored, not reported.
    InvalidMessage,
    /// A sync response that is malformed or does not match its request.
    InvalidResponse,
    /// Something that warrants an immediate ban (e.g. a proof of a protocol violation).
    Severe,
}

/// Scoring parameters. A peer's score starts at 0, drops by a penalty per misbehaviour, recovers towards 0 at
/// a constant rate, and a score at or below `ban_threshold` bans the peer.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoringConfig {
    /// Score lost per [`Misbehaviour::InvalidMessage`].
    pub invalid_message_penalty: f64,
    /// Score lost per [`Misbehaviour::InvalidResponse`].
    pub invalid_response_penalty: f64,
    /// A score at or below this (negative) value bans the peer.
    pub ban_threshold: f64,
    /// How long a ban lasts; the peer is disconnected and may neither connect nor be dialled meanwhile.
    pub ban_duration: Duration,
    /// Score regained per second, up to 0.
    pub recovery_per_second: f64,
}

impl Default for ScoringConfig {
    /// Five provably invalid messages in quick succession ban a peer for ten minutes.
    fn default() -> Self {
        ScoringConfig {
            invalid_message_penalty: 20.0,
            invalid_response_penalty: 20.0,
            ban_threshold: -100.0,
            ban_duration: Duration::from_secs(600),
            recovery_per_second: 0.5,
        }
    }
}

impl ScoringConfig {
    /// Checks the parameters are usable.
    pub fn validate(&self) -> Result<(), NetworkError> {
        let finite = [
            self.invalid_message_penalty,
            self.invalid_response_penalty,
            self.ban_threshold,
            self.recovery_per_second,
        ];
        if finite.iter().any(|v| !v.is_finite()) {
            return Err(NetworkError::Config("scoring parameters must be finite".into()));
        }
        if self.invalid_message_penalty < 0.0
            || self.invalid_response_penalty < 0.0
            || self.recovery_per_second < 0.0
        {
            return Err(NetworkError::Config("scoring penalties and recovery must not be negative".into()));
        }
        if self.ban_threshold >= 0.0 {
            return Err(NetworkError::Config("scoring ban_threshold must be negative".into()));
        }
        if self.ban_duration.is_zero() {
            return Err(NetworkError::Config("scoring ban_duration must be positive".into()));
        }
        Ok(())
    }

    fn penalty(&self, m: Misbehaviour) -> f64 {
        match m {
            Misbehaviour::InvalidMessage => self.invalid_message_penalty,
            Misbehaviour::InvalidResponse => self.invalid_response_penalty,
            Misbehaviour::Severe => f64::INFINITY,
        }
    }
}

/// What the caller must do after a penalty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing; the peer stays.
    Keep,
    /// Disconnect and ban the peer until the given instant.
    Ban(Instant),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    score: f64,
    updated: Instant,
}

/// Scores of the peers that misbehaved recently. Only allow-listed peers can ever be connected, so the map is
/// bounded by the allow-list; entries that have fully recovered are pruned.
#[derive(Debug)]
pub(crate) struct PeerScores {
    config: ScoringConfig,
    entries: HashMap<PeerId, Entry>,
}

impl PeerScores {
    pub(crate) fn new(config: ScoringConfig) -> PeerScores {
        PeerScores { config, entries: HashMap::new() }
    }

    fn recovered(&self, e: Entry, now: Instant) -> f64 {
        let secs = now.saturating_duration_since(e.updated).as_secs_f64();
        (e.score + secs * self.config.recovery_per_second).min(0.0)
    }

    /// The peer's current score (0 for a peer that never misbehaved).
    pub(crate) fn score(&self, peer: &PeerId, now: Instant) -> f64 {
        self.entries.get(peer).map_or(0.0, |e| self.recovered(*e, now))
    }

    /// Applies a penalty; a peer that reaches the threshold is banned and its score reset (it starts afresh
    /// when the ban ends).
    pub(crate) fn penalise(&mut self, peer: PeerId, m: Misbehaviour, now: Instant) -> Verdict {
        let score = self.score(&peer, now) - self.config.penalty(m);
        if score <= self.config.ban_threshold {
            self.entries.remove(&peer);
            return Verdict::Ban(now + self.config.ban_duration);
        }
        self.entries.insert(peer, Entry { score, updated: now });
        Verdict::Keep
    }

    /// Drops entries whose score has recovered to 0.
    pub(crate) fn prune(&mut self, now: Instant) {
        let cfg_rate = self.config.recovery_per_second;
        self.entries.retain(|_, e| {
            let secs = now.saturating_duration_since(e.updated).as_secs_f64();
            e.score + secs * cfg_rate < 0.0
        });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ScoringConfig {
        ScoringConfig {
            invalid_message_penalty: 30.0,
            invalid_response_penalty: 10.0,
            ban_threshold: -100.0,
            ban_duration: Duration::from_secs(60),
            recovery_per_second: 1.0,
        }
    }

    #[test]
    fn repeated_invalid_messages_ban() {
        let mut s = PeerScores::new(cfg());
        let p = PeerId::random();
        let t = Instant::now();
        assert_eq!(s.penalise(p, Misbehaviour::InvalidMessage, t), Verdict::Keep);
        assert_eq!(s.penalise(p, Misbehaviour::InvalidMessage, t), Verdict::Keep);
        assert_eq!(s.penalise(p, Misbehaviour::InvalidMessage, t), Verdict::Keep);
        assert_eq!(s.score(&p, t), -90.0);
        assert_eq!(s.penalise(p, Misbehaviour::InvalidMessage, t), Verdict::Ban(t + Duration::from_secs(60)));
        // The ban resets the score: after the ban the peer starts afresh.
        assert_eq!(s.score(&p, t), 0.0);
    }

    #[test]
    fn score_recovers_over_time() {
        let mut s = PeerScores::new(cfg());
        let p = PeerId::random();
        let t = Instant::now();
        for _ in 0..3 {
            s.penalise(p, Misbehaviour::InvalidMessage, t);
        }
        let later = t + Duration::from_secs(50);
        assert_eq!(s.score(&p, later), -40.0);
        // Slow misbehaviour below the recovery rate never bans.
        assert_eq!(s.penalise(p, Misbehaviour::InvalidMessage, later), Verdict::Keep);
        assert_eq!(s.score(&p, later), -70.0);
        assert_eq!(s.score(&p, later + Duration::from_secs(1000)), 0.0);
        s.prune(later + Duration::from_secs(1000));
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn severe_bans_at_once_and_peers_are_independent() {
        let mut s = PeerScores::new(cfg());
        let (a, b) = (PeerId::random(), PeerId::random());
        let t = Instant::now();
        s.penalise(a, Misbehaviour::InvalidResponse, t);
        assert!(matches!(s.penalise(b, Misbehaviour::Severe, t), Verdict::Ban(_)));
        assert_eq!(s.score(&a, t), -10.0);
    }

    #[test]
    fn config_validation() {
        assert!(ScoringConfig::default().validate().is_ok());
        let mut c = cfg();
        c.ban_threshold = 1.0;
        assert!(c.validate().is_err());
        let mut c = cfg();
        c.recovery_per_second = f64::NAN;
        assert!(c.validate().is_err());
        let mut c = cfg();
        c.ban_duration = Duration::ZERO;
        assert!(c.validate().is_err());
    }
}
