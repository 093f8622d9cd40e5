//! The trace model: one connection seen from outside, as two peers exchanging segments
//! and changing state.
//!
//! Producers (the simulator, later the TUN runtime and pcap import) build a [`Trace`] by
//! calling [`Trace::send`], [`Trace::arrive`] and [`Trace::transition`] **in the order
//! the things happened**. Every call takes a time stamp, but time stamps alone cannot
//! order events that happen at the same instant (a host that processes a SYN and answers
//! it with a SYN-ACK does both "at once" on a virtual clock), so the trace also remembers
//! the order of the calls and uses it to break ties. A consumer sees the merged,
//! time-ordered story through [`Trace::timeline`].

use core::net::SocketAddr;
use synack::{Instant, Metrics, SegmentSummary, State};

/// One end of the connection. By convention `A` is the end that opened actively (the
/// client) and is drawn on the left, as in RFC 9293's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The left-hand peer ("TCP Peer A").
    A,
    /// The right-hand peer ("TCP Peer B").
    B,
}

impl Side {
    /// The other end.
    pub const fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// 0 for `A`, 1 for `B`: an index into per-side arrays.
    pub const fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// One of the two peers of a traced connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Shown in the ladder's header, e.g. `TCP Peer A` or `client`.
    pub name: String,
    /// The peer's address and port, when known.
    pub addr: Option<SocketAddr>,
    /// The peer's state before the first event of the trace (`CLOSED` for an active
    /// opener, `LISTEN` for a server).
    pub initial_state: State,
}

impl Peer {
    /// A peer with this name, no address, starting in `initial_state`.
    pub fn new(name: impl Into<String>, initial_state: State) -> Peer {
        Peer {
            name: name.into(),
            addr: None,
            initial_state,
        }
    }
}

/// Names one segment of a [`Trace`] (its index in [`Trace::segments`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentId(pub usize);

/// One segment: who sent it, when, whether and when it arrived, and its header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The sending side; the receiver is `from.other()`.
    pub from: Side,
    /// When it was put on the wire (for an injected segment: when it was injected).
    pub sent_at: Instant,
    /// When it arrived at the other side; `None` if it never did (lost on the way, or
    /// still in the network when the trace ended).
    pub arrived_at: Option<Instant>,
    /// Header fields and payload length.
    pub summary: SegmentSummary,
    /// The sender says it is a retransmission.
    pub retransmission: bool,
    /// A second copy made by the network (not by the sender).
    pub duplicate: bool,
    /// It arrived damaged (a flipped bit), so the receiver's checksum rejected it.
    pub corrupted: bool,
    /// Not sent by the peer at all: put into the network by a test (an "old duplicate").
    /// Drawn as an arrival only.
    pub injected: bool,
    /// What an analysis of the whole trace noticed about it ([`crate::analyze()`]); empty
    /// until one is run.
    pub marks: Marks,
    sent_order: u64,
    arrived_order: u64,
}

/// What [`crate::analyze()`] (or a capture's own annotations) noticed about a segment,
/// in the sense Wireshark's TCP analysis gives these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Marks {
    /// It acknowledges nothing new and repeats the previous ACK while data is
    /// outstanding (RFC 5681 §2): the n-th duplicate (1, 2, 3...).
    pub dup_ack: Option<u32>,
    /// It advertises a zero receive window.
    pub zero_window: bool,
    /// It opens a window that was zero.
    pub window_update: bool,
    /// It arrived (or was seen) after a segment with higher sequence numbers that was
    /// not a retransmission of it: the receiver got it out of order.
    pub out_of_order: bool,
    /// A keep-alive: one byte (or none) below SND.NXT, sent to provoke an ACK.
    pub keep_alive: bool,
    /// A zero-window probe (RFC 9293 §3.8.6.1).
    pub window_probe: bool,
    /// It claims more data than the receiver's advertised window allowed.
    pub beyond_window: bool,
}

impl Marks {
    /// No mark at all.
    pub fn is_empty(&self) -> bool {
        *self == Marks::default()
    }
}

/// The sender's congestion-control and RTT numbers at one instant (see
/// [`synack::TraceKind::Metrics`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Whose numbers: the side that sends the data these ACKs acknowledge.
    pub side: Side,
    /// When (the ACK's arrival).
    pub at: Instant,
    /// The numbers.
    pub metrics: Metrics,
}

/// A state change of one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Whose state changed.
    pub side: Side,
    /// When.
    pub at: Instant,
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    order: u64,
}

/// One entry of a [`Trace::timeline`]: the things that happened, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineEvent {
    /// The segment left its sender (never produced for injected segments).
    Sent(SegmentId),
    /// The segment arrived at its receiver.
    Arrived(SegmentId),
    /// A state change: an index into [`Trace::transitions`].
    Transition(usize),
}

/// One traced connection: two peers, the segments between them and their state changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    peers: [Peer; 2],
    segments: Vec<Segment>,
    transitions: Vec<Transition>,
    samples: Vec<Sample>,
    next_order: u64,
}

impl Trace {
    /// An empty trace between `a` (drawn on the left) and `b`.
    pub fn new(a: Peer, b: Peer) -> Trace {
        Trace {
            peers: [a, b],
            segments: Vec::new(),
            transitions: Vec::new(),
            samples: Vec::new(),
            next_order: 0,
        }
    }

    fn take_order(&mut self) -> u64 {
        let order = self.next_order;
        self.next_order = self.next_order.saturating_add(1);
        order
    }

    /// One of the peers.
    pub fn peer(&self, side: Side) -> &Peer {
        &self.peers[side.index()]
    }

    /// One of the peers, to rename it or set its address or initial state.
    pub fn peer_mut(&mut self, side: Side) -> &mut Peer {
        &mut self.peers[side.index()]
    }

    /// Record that `from` sent a segment at `at`. It has not arrived (yet): call
    /// [`Trace::arrive`] when it does.
    pub fn send(&mut self, from: Side, at: Instant, summary: SegmentSummary) -> SegmentId {
        let order = self.take_order();
        self.segments.push(Segment {
            from,
            sent_at: at,
            arrived_at: None,
            summary,
            retransmission: false,
            duplicate: false,
            corrupted: false,
            injected: false,
            marks: Marks::default(),
            sent_order: order,
            arrived_order: 0,
        });
        SegmentId(self.segments.len() - 1)
    }

    /// Record a segment that nobody sent but that arrived at `from.other()` at `at`,
    /// claiming to come from `from` (e.g. an old duplicate SYN injected by a test).
    pub fn inject(&mut self, from: Side, at: Instant, summary: SegmentSummary) -> SegmentId {
        let id = self.send(from, at, summary);
        if let Some(seg) = self.segments.get_mut(id.0) {
            seg.injected = true;
        }
        self.arrive(id, at);
        id
    }

    /// Record that segment `id` arrived at its receiver at `at`. Returns false (and does
    /// nothing) if `id` does not name a segment of this trace.
    pub fn arrive(&mut self, id: SegmentId, at: Instant) -> bool {
        let order = self.take_order();
        match self.segments.get_mut(id.0) {
            Some(seg) => {
                seg.arrived_at = Some(at);
                seg.arrived_order = order;
                true
            }
            None => false,
        }
    }

    /// Record that `side` moved from state `from` to `to` at `at`.
    pub fn transition(&mut self, side: Side, at: Instant, from: State, to: State) {
        let order = self.take_order();
        self.transitions.push(Transition {
            side,
            at,
            from,
            to,
            order,
        });
    }

    /// Record the sender-side numbers `side` had at `at` (RTT, cwnd...).
    pub fn sample(&mut self, side: Side, at: Instant, metrics: Metrics) {
        self.samples.push(Sample { side, at, metrics });
    }

    /// The samples recorded with [`Trace::sample`], in the order recorded.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The segments, in the order they were sent.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// One segment, e.g. to mark it as a retransmission or a duplicate.
    pub fn segment_mut(&mut self, id: SegmentId) -> Option<&mut Segment> {
        self.segments.get_mut(id.0)
    }

    /// The state changes of both peers, in the order they happened.
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// The last state `side` reached, or its initial state if it never changed.
    pub fn final_state(&self, side: Side) -> State {
        self.timeline()
            .iter()
            .filter_map(|event| match event {
                TimelineEvent::Transition(i) => self.transitions.get(*i),
                _ => None,
            })
            .rfind(|t| t.side == side)
            .map_or(self.peer(side).initial_state, |t| t.to)
    }

    /// Every send, arrival and state change, ordered by time and, at equal times, by the
    /// order in which they were recorded.
    pub fn timeline(&self) -> Vec<TimelineEvent> {
        let mut keyed: Vec<((Instant, u64), TimelineEvent)> = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            if !seg.injected {
                keyed.push((
                    (seg.sent_at, seg.sent_order),
                    TimelineEvent::Sent(SegmentId(i)),
                ));
            }
            if let Some(at) = seg.arrived_at {
                keyed.push((
                    (at, seg.arrived_order),
                    TimelineEvent::Arrived(SegmentId(i)),
                ));
            }
        }
        for (i, t) in self.transitions.iter().enumerate() {
            keyed.push(((t.at, t.order), TimelineEvent::Transition(i)));
        }
        keyed.sort_by_key(|(key, _)| *key);
        keyed.into_iter().map(|(_, event)| event).collect()
    }

    /// The time of the first event, if any.
    pub fn start(&self) -> Option<Instant> {
        let seg = self.segments.iter().map(|s| s.sent_at).min();
        let tr = self.transitions.iter().map(|t| t.at).min();
        match (seg, tr) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The sequence number `side` started from: the `seq` of its first SYN or, if the
    /// trace holds no SYN from it, one less than the `seq` of its first segment (so that
    /// the first byte seen reads as relative sequence number 1, as in Wireshark).
    /// Injected segments don't count.
    pub fn initial_seq(&self, side: Side) -> Option<u32> {
        let own = || {
            self.segments
                .iter()
                .filter(|s| s.from == side && !s.injected)
        };
        own()
            .find(|s| s.summary.flags.syn())
            .map(|s| s.summary.seq)
            .or_else(|| own().next().map(|s| s.summary.seq.wrapping_sub(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack_wire::{TcpFlags, TcpOptions};

    fn seg(seq: u32, flags: TcpFlags) -> SegmentSummary {
        SegmentSummary {
            seq,
            ack: 0,
            flags,
            window: 0,
            len: 0,
            options: TcpOptions::default(),
        }
    }

    #[test]
    fn timeline_orders_by_time_then_by_recording_order() {
        let mut t = Trace::new(Peer::new("A", State::Closed), Peer::new("B", State::Listen));
        let late = t.send(Side::A, Instant::from_millis(5), seg(1, TcpFlags::ACK));
        let early = t.send(Side::B, Instant::from_millis(1), seg(9, TcpFlags::SYN));
        t.transition(
            Side::B,
            Instant::from_millis(1),
            State::Closed,
            State::SynSent,
        );
        t.arrive(early, Instant::from_millis(2));
        assert_eq!(
            t.timeline(),
            vec![
                TimelineEvent::Sent(early),
                TimelineEvent::Transition(0),
                TimelineEvent::Arrived(early),
                TimelineEvent::Sent(late),
            ]
        );
    }

    #[test]
    fn final_state_is_the_last_transition_or_the_initial_state() {
        let mut t = Trace::new(Peer::new("A", State::Closed), Peer::new("B", State::Listen));
        t.transition(
            Side::A,
            Instant::from_millis(1),
            State::Closed,
            State::SynSent,
        );
        t.transition(
            Side::A,
            Instant::from_millis(2),
            State::SynSent,
            State::Established,
        );
        assert_eq!(t.final_state(Side::A), State::Established);
        assert_eq!(t.final_state(Side::B), State::Listen);
    }

    #[test]
    fn initial_seq_prefers_the_syn_and_ignores_injected_segments() {
        let mut t = Trace::new(Peer::new("A", State::Closed), Peer::new("B", State::Listen));
        t.inject(Side::A, Instant::ZERO, seg(90, TcpFlags::SYN));
        t.send(Side::A, Instant::ZERO, seg(100, TcpFlags::SYN));
        t.send(Side::B, Instant::ZERO, seg(7, TcpFlags::ACK));
        assert_eq!(t.initial_seq(Side::A), Some(100));
        assert_eq!(t.initial_seq(Side::B), Some(6), "its first byte reads 1");
    }

    #[test]
    fn arrive_with_unknown_id_is_refused() {
        let mut t = Trace::new(Peer::new("A", State::Closed), Peer::new("B", State::Closed));
        assert!(!t.arrive(SegmentId(3), Instant::ZERO));
    }
}
