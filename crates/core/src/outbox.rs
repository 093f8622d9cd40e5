//! What connections hand back to their endpoint while processing: stateless segments to
//! send (resets, challenge ACKs, TIME-WAIT ACKs), application events and trace events.
//! Every queue here is bounded or coalesced, so a flood cannot grow memory.

use crate::endpoint::Event;
use crate::{Config, FourTuple, Instant, State, TraceEvent, TraceKind};
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

/// The endpoint-wide queues a connection writes into.
pub(crate) struct Outbox {
    pub replies: VecDeque<Reply>,
    pub events: VecDeque<Event>,
    pub trace: Option<Vec<TraceEvent>>,
    pub challenge: ChallengeLimiter,
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

    pub(crate) fn state_change(&mut self, at: Instant, conn: FourTuple, from: State, to: State) {
        if from != to {
            self.trace(at, conn, TraceKind::StateChange { from, to });
        }
    }
}

impl ChallengeLimiter {
    /// May another challenge ACK be sent at `now`?
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

/// What a connection needs from its endpoint while it runs.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub config: &'a Config,
    pub out: &'a mut Outbox,
}
