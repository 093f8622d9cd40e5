//! What connections hand back to their endpoint while processing: stateless segments to
//! send (resets, challenge ACKs, TIME-WAIT ACKs), application events and trace events.
//! Every queue here is bounded or coalesced, so a flood cannot grow memory.

use crate::connection::tx_pool::TxPool;
use crate::endpoint::Event;
use crate::reassembly::Staged;
use crate::{Config, EndpointStats, FourTuple, Instant, State, TraceEvent, TraceKind};
use std::collections::VecDeque;
use synack_wire::TcpRepr;

/// Stateless replies waiting for `poll_transmit` at most; more are dropped (they are
/// RSTs and ACKs, which the peer's retransmissions will provoke again).
const MAX_REPLIES: usize = 4096;

/// A header-only segment to send for a 4-tuple.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply {
    pub tuple: FourTuple,
    pub repr: TcpRepr,
}

/// RFC 5961 §7: challenge ACKs are rate limited, per endpoint, per second.
#[derive(Debug)]
pub(crate) struct ChallengeLimiter {
    window_start: Instant,
    sent: u32,
}

/// One connection's use of the challenge-ACK budget (kept in its TCB): a one-second
/// window on the timestamp clock, so that no connection uses more than
/// `Config::challenge_ack_per_conn` of the endpoint's budget per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChallengeShare {
    start_ms: u32,
    sent: u16,
}

/// The endpoint-wide queues a connection writes into.
pub(crate) struct Outbox {
    pub replies: VecDeque<Reply>,
    pub events: VecDeque<Event>,
    pub trace: Option<Vec<TraceEvent>>,
    pub challenge: ChallengeLimiter,
    /// Endpoint-wide counters (the connection and memory figures are filled in by the
    /// endpoint when read).
    pub stats: EndpointStats,
    /// Spare retransmission states, reused by the connections
    /// ([`crate::connection::tx_pool`]).
    pub tx_pool: TxPool,
    /// The TCP header of the segment a connection just produced for `poll_transmit`,
    /// written here in place (see [`crate::connection::output::Outgoing`]).
    pub header: TcpRepr,
    /// Where the payload of the segment being delivered was copied into its
    /// connection's receive buffer while its checksum was verified
    /// (`Connection::stage_text`), if it was: set by `Endpoint::handle` for the one
    /// segment it delivers, cleared after.
    pub staged: Option<Staged>,
}

impl Outbox {
    pub(crate) fn new() -> Self {
        Outbox {
            replies: VecDeque::new(),
            events: VecDeque::new(),
            trace: None,
            challenge: ChallengeLimiter {
                window_start: Instant::ZERO,
                sent: 0,
            },
            stats: EndpointStats::default(),
            tx_pool: TxPool::default(),
            header: TcpRepr::default(),
            staged: None,
        }
    }

    pub(crate) fn reply(&mut self, tuple: FourTuple, repr: TcpRepr) {
        if self.replies.len() < MAX_REPLIES {
            self.replies.push_back(Reply { tuple, repr });
        }
    }

    pub(crate) fn trace(&mut self, at: Instant, conn: FourTuple, kind: TraceKind) {
        if let Some(t) = self.trace.as_mut() {
            t.push(TraceEvent { at, conn, kind });
        }
    }

    /// Whether trace events are recorded: where they are not, a segment's summary
    /// need not be built (see [`Outbox::trace_with`]).
    #[inline]
    pub(crate) fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// [`Outbox::trace`] with the event built only when tracing is on: on the
    /// per-segment path a segment's summary, built and handed over whether or not
    /// anyone records it, costs a copy read back with wider loads than it was written
    /// with (a store-to-load forwarding stall) on every segment.
    #[inline(always)]
    pub(crate) fn trace_with(
        &mut self,
        at: Instant,
        conn: FourTuple,
        kind: impl FnOnce() -> TraceKind,
    ) {
        if let Some(t) = self.trace.as_mut() {
            t.push(TraceEvent {
                at,
                conn,
                kind: kind(),
            });
        }
    }

    pub(crate) fn state_change(&mut self, at: Instant, conn: FourTuple, from: State, to: State) {
        if from != to {
            self.trace(at, conn, TraceKind::StateChange { from, to });
        }
    }
}

impl ChallengeLimiter {
    /// May another challenge ACK be sent at `now`? (The endpoint-wide budget only.)
    pub(crate) fn allow(&mut self, now: Instant, limit: u32) -> bool {
        if now.saturating_since(self.window_start) >= core::time::Duration::from_secs(1) {
            self.window_start = now;
            self.sent = 0;
        }
        if self.sent < limit {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

impl Outbox {
    /// RFC 5961 §7: may a challenge ACK be sent now? First the connection's own share
    /// (`share`, at most `Config::challenge_ack_per_conn` a second; a TIME-WAIT record
    /// has one too; `None` means no share), then the endpoint's budget
    /// (`Config::challenge_ack_limit` a second). A refusal by the share does not use
    /// the endpoint's budget, so a connection under attack cannot exhaust it.
    ///
    /// The design: with the defaults (1,000 a second for the endpoint, 10 for each
    /// connection), forged segments aimed at one connection get it 10 challenge ACKs a
    /// second and leave 990 for everyone else; only an attack on more than 100
    /// connections at once reaches the endpoint's cap, which bounds what the endpoint
    /// sends whatever the attack (RFC 5961 §7).
    pub(crate) fn allow_challenge(
        &mut self,
        now: Instant,
        config: &Config,
        share: Option<&mut ChallengeShare>,
    ) -> bool {
        let ms = crate::timestamps::clock_ms(now);
        let mut share = share;
        if let Some(s) = share.as_deref_mut() {
            if s.sent == 0 || ms.wrapping_sub(s.start_ms) >= 1000 {
                s.start_ms = ms;
                s.sent = 0;
            }
            let per_conn = config.challenge_ack_per_conn;
            if per_conn > 0 && u32::from(s.sent) >= per_conn {
                self.stats.challenge_acks_suppressed += 1;
                return false;
            }
        }
        if !self.challenge.allow(now, config.challenge_ack_limit) {
            self.stats.challenge_acks_suppressed += 1;
            return false;
        }
        if let Some(s) = share {
            s.sent = s.sent.saturating_add(1);
        }
        self.stats.challenge_acks_sent += 1;
        true
    }

    /// Buffer memory is at its limit (`Config::max_buffer_memory`).
    pub(crate) fn memory_pressure(&self, config: &Config) -> bool {
        self.stats.buffer_memory >= config.max_buffer_memory
    }
}

/// What a connection needs from its endpoint while it runs.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub config: &'a Config,
    pub out: &'a mut Outbox,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Instant {
        Instant::from_millis(v)
    }

    #[test]
    fn a_connection_share_refills_after_a_second_and_spares_the_endpoint_budget() {
        let config = Config {
            challenge_ack_limit: 5,
            challenge_ack_per_conn: 2,
            ..Config::default()
        };
        let mut out = Outbox::new();
        let (mut a, mut b) = (ChallengeShare::default(), ChallengeShare::default());
        let t = ms(10_000);
        assert!(out.allow_challenge(t, &config, Some(&mut a)));
        assert!(out.allow_challenge(t, &config, Some(&mut a)));
        // A's share is spent; refusals do not touch the endpoint's budget...
        for _ in 0..100 {
            assert!(!out.allow_challenge(t, &config, Some(&mut a)));
        }
        // ...so B still has its two, and the endpoint one more after that.
        assert!(out.allow_challenge(t, &config, Some(&mut b)));
        assert!(out.allow_challenge(t, &config, Some(&mut b)));
        assert!(out.allow_challenge(t, &config, None));
        assert!(
            !out.allow_challenge(t, &config, None),
            "endpoint budget of 5 spent"
        );
        assert_eq!(out.stats.challenge_acks_sent, 5);
        assert_eq!(out.stats.challenge_acks_suppressed, 101);
        // A second later both are back.
        assert!(out.allow_challenge(ms(11_000), &config, Some(&mut a)));
        assert!(out.allow_challenge(ms(11_000), &config, Some(&mut b)));
    }

    #[test]
    fn a_zero_per_connection_limit_leaves_only_the_endpoint_cap() {
        let config = Config {
            challenge_ack_limit: 3,
            challenge_ack_per_conn: 0,
            ..Config::default()
        };
        let mut out = Outbox::new();
        let mut a = ChallengeShare::default();
        let allowed = (0..10)
            .filter(|_| out.allow_challenge(ms(1), &config, Some(&mut a)))
            .count();
        assert_eq!(allowed, 3);
    }
}
