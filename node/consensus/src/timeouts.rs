//! Timeout durations that grow linearly with the round (`timeoutX(r) = base + delta × r`).

use core::time::Duration;

use crate::context::Round;
use crate::types::TimeoutStep;

/// Base durations and per-round increments of the three timeouts.
///
/// Growing timeouts guarantee that after GST there is a round in which every honest node waits long enough
/// to hear from every other honest node (the paper's liveness argument, §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// `timeoutPropose(0)`.
    pub propose: Duration,
    /// Added to `timeoutPropose` per round.
    pub propose_delta: Duration,
    /// `timeoutPrevote(0)`.
    pub prevote: Duration,
    /// Added to `timeoutPrevote` per round.
    pub prevote_delta: Duration,
    /// `timeoutPrecommit(0)`.
    pub precommit: Duration,
    /// Added to `timeoutPrecommit` per round.
    pub precommit_delta: Duration,
}

impl Default for TimeoutConfig {
    /// CometBFT-like defaults: propose 3 s + 500 ms/round, prevote and precommit 1 s + 500 ms/round.
    fn default() -> Self {
        Self {
            propose: Duration::from_millis(3000),
            propose_delta: Duration::from_millis(500),
            prevote: Duration::from_millis(1000),
            prevote_delta: Duration::from_millis(500),
            precommit: Duration::from_millis(1000),
            precommit_delta: Duration::from_millis(500),
        }
    }
}

impl TimeoutConfig {
    /// The duration of `step`'s timeout in `round`: `base + delta × round` (saturating).
    pub fn duration(&self, step: TimeoutStep, round: Round) -> Duration {
        let (base, delta) = match step {
            TimeoutStep::Propose => (self.propose, self.propose_delta),
            TimeoutStep::Prevote => (self.prevote, self.prevote_delta),
            TimeoutStep::Precommit => (self.precommit, self.precommit_delta),
        };
        base.saturating_add(delta.saturating_mul(round))
    }
}
