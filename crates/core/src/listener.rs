//! Listeners: a passive OPEN (RFC 9293 §3.10.1) with a real backlog — a bounded SYN queue
//! of half-open connections in SYN-RECEIVED and a bounded accept queue of established
//! connections waiting for the application.

use crate::{ConnId, Instant};
use core::net::SocketAddr;
use std::collections::VecDeque;

/// Which of its listener's queues a passive connection is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListenerQueue {
    None,
    Syn,
    Accept,
}

/// One listening socket.
pub(crate) struct Listener {
    pub local: SocketAddr,
    /// Most established connections waiting for `accept`.
    pub backlog: usize,
    /// Connections in SYN-RECEIVED (the SYN queue).
    pub syn_pending: usize,
    /// Established connections not yet accepted (stale handles are skipped on accept).
    pub accept_queue: VecDeque<ConnId>,
    /// Live connections in `accept_queue`.
    pub accept_pending: usize,
    /// An `Incoming` event is outstanding.
    pub incoming_signalled: bool,
    /// When this listener last answered a SYN with a cookie. ACKs are only checked as
    /// cookies for a while after (RFC 4987 §3.6): a listener that sent none has no
    /// cookie to accept, and a blind attacker gets no chance to guess one.
    pub cookie_sent_at: Option<Instant>,
}

impl Listener {
    pub(crate) fn new(local: SocketAddr, backlog: usize) -> Self {
        Listener {
            local,
            backlog: backlog.max(1),
            syn_pending: 0,
            accept_queue: VecDeque::new(),
            accept_pending: 0,
            incoming_signalled: false,
            cookie_sent_at: None,
        }
    }

    /// Room for one more established connection.
    pub(crate) fn can_accept_more(&self) -> bool {
        self.accept_pending < self.backlog
    }

    /// A cookie was sent within the last two cookie periods (the time a cookie lives).
    pub(crate) fn cookies_recent(&self, now: Instant) -> bool {
        let life = core::time::Duration::from_secs(2 * crate::syn_cookie::PERIOD_SECS);
        self.cookie_sent_at
            .is_some_and(|t| now.saturating_since(t) <= life)
    }

    pub(crate) fn leave(&mut self, queue: ListenerQueue) {
        match queue {
            ListenerQueue::Syn => self.syn_pending = self.syn_pending.saturating_sub(1),
            ListenerQueue::Accept => self.accept_pending = self.accept_pending.saturating_sub(1),
            ListenerQueue::None => {}
        }
    }
}
