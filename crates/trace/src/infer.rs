//! From a capture to traces: split the TCP segments into connections and infer both
//! ends' RFC 9293 states from what each sent and received.
//!
//! # Connections
//!
//! Segments belong to the connection of their 4-tuple (in either direction). A SYN
//! (without ACK) carrying a new initial sequence number on a 4-tuple whose connection is
//! over (a RST was seen, or a FIN from each side) starts a new connection: the 4-tuple is
//! being reused. Connections are numbered from 1 in the order of their first segment.
//!
//! # Who is A
//!
//! "TCP Peer A" (the left column) is the end that sent the first SYN; failing that the
//! end that received the first SYN-ACK; failing that (a capture that starts mid-way) the
//! end with the higher port, which is usually the client's ephemeral port.
//!
//! # States
//!
//! A capture shows segments, not states, so states are inferred by running each end
//! through a small model of RFC 9293 §3.10: what an end sends moves it only where an
//! application call does (a SYN from CLOSED is an OPEN, a FIN is a CLOSE, a RST in its
//! own sequence space an ABORT); what it receives moves it as §3.10.7 says (SYN in
//! LISTEN, SYN-ACK in SYN-SENT, the ACK of its SYN or of its FIN, the peer's FIN, an
//! acceptable RST). Initial states: the SYN's sender starts CLOSED; the other end starts
//! LISTEN if it answered with a SYN-ACK, CLOSED if it answered with a RST or with a SYN of
//! its own (simultaneous open). A connection caught mid-way starts ESTABLISHED on both
//! sides, and the trace says so in its notes. TIME-WAIT's end is not on the wire, so an
//! end seen entering TIME-WAIT stays there.
//!
//! A capture has one time per segment. For synack's own pcapng files the comments add
//! the arrival time, losses and the sender's metrics ([`crate::annotations`]); the trace
//! then has both times, as a simulator trace does.

use crate::analyze::analyze;
use crate::annotations::Annotation;
use crate::capture::{Capture, Checksum, Frame, TcpPacket};
use crate::model::{Peer, SegmentId, Side, Trace};
use crate::seqspace::{after, at_or_after, later};
use core::net::SocketAddr;
use std::collections::HashMap;
use synack::{Instant, SegmentSummary, State};

/// One TCP connection found in a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Its number, from 1, in order of first appearance.
    pub number: usize,
    /// Peer A's address (the client, see the module documentation).
    pub a: SocketAddr,
    /// Peer B's address.
    pub b: SocketAddr,
    /// The numbers of the frames it is made of.
    pub frames: Vec<usize>,
    /// The trace, with inferred states, analysed ([`crate::analyze()`]).
    pub trace: Trace,
    /// What the reader should know about the inference (assumptions, bad checksums...).
    pub notes: Vec<String>,
}

impl Connection {
    /// Bytes of payload each side sent (A, B), retransmissions included.
    pub fn bytes(&self) -> [u64; 2] {
        let mut out = [0u64; 2];
        for s in self.trace.segments() {
            if !s.injected && !s.duplicate {
                out[s.from.index()] += u64::from(s.summary.len);
            }
        }
        out
    }

    /// Time from the first to the last segment.
    pub fn duration(&self) -> core::time::Duration {
        let times = self
            .trace
            .segments()
            .iter()
            .flat_map(|s| [Some(s.sent_at), s.arrived_at])
            .flatten();
        let (lo, hi) = times.fold((None::<Instant>, None::<Instant>), |(lo, hi), t| {
            (
                Some(lo.map_or(t, |l| l.min(t))),
                Some(hi.map_or(t, |h| h.max(t))),
            )
        });
        match (lo, hi) {
            (Some(l), Some(h)) => h.saturating_since(l),
            _ => core::time::Duration::ZERO,
        }
    }
}

/// Canonical key of a 4-tuple, whichever way the segment goes.
fn key(p: &TcpPacket) -> (SocketAddr, SocketAddr) {
    if p.src <= p.dst {
        (p.src, p.dst)
    } else {
        (p.dst, p.src)
    }
}

/// Segments of one connection before inference.
struct Group<'a> {
    items: Vec<(&'a Frame, &'a TcpPacket, Annotation)>,
    /// First SYN seq seen from each address.
    syn_seq: HashMap<SocketAddr, u32>,
    rst: bool,
    fin_from: Vec<SocketAddr>,
}

impl Group<'_> {
    fn over(&self) -> bool {
        self.rst || self.fin_from.len() >= 2
    }
}

/// Split a capture into connections and infer each one's trace.
pub fn connections(capture: &Capture) -> Vec<Connection> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut current: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    for (frame, p) in capture.tcp() {
        let ann = frame
            .comment
            .as_deref()
            .and_then(Annotation::parse)
            .unwrap_or_default();
        let k = key(p);
        let f = p.tcp.flags;
        let reuse = current
            .get(&k)
            .and_then(|&g| groups.get(g))
            .is_some_and(|g| {
                f.syn()
                    && !f.ack()
                    && !ann.injected
                    && g.over()
                    && g.syn_seq.get(&p.src).is_none_or(|&s| s != p.tcp.seq)
            });
        let index = match current.get(&k) {
            Some(&g) if !reuse => g,
            _ => {
                groups.push(Group {
                    items: Vec::new(),
                    syn_seq: HashMap::new(),
                    rst: false,
                    fin_from: Vec::new(),
                });
                current.insert(k, groups.len() - 1);
                groups.len() - 1
            }
        };
        let Some(g) = groups.get_mut(index) else {
            continue;
        };
        if f.syn() && !ann.injected {
            g.syn_seq.entry(p.src).or_insert(p.tcp.seq);
        }
        if !ann.lost && !ann.corrupted {
            g.rst |= f.rst();
            if f.fin() && !g.fin_from.contains(&p.src) {
                g.fin_from.push(p.src);
            }
        }
        g.items.push((frame, p, ann));
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| infer(i + 1, g))
        .collect()
}

/// Which address is peer A.
fn choose_a(items: &[(&Frame, &TcpPacket, Annotation)]) -> SocketAddr {
    let real = || items.iter().filter(|(_, _, a)| !a.injected);
    if let Some((_, p, _)) = real().find(|(_, p, _)| p.tcp.flags.syn() && !p.tcp.flags.ack()) {
        return p.src;
    }
    if let Some((_, p, _)) = real().find(|(_, p, _)| p.tcp.flags.syn() && p.tcp.flags.ack()) {
        return p.dst;
    }
    let first = items.first().map(|(_, p, _)| p);
    match first {
        Some(p) if p.dst.port() > p.src.port() => p.dst,
        Some(p) => p.src,
        None => SocketAddr::from(([0, 0, 0, 0], 0)),
    }
}

/// One end's inferred state and what it knows.
#[derive(Debug, Clone, Copy)]
struct End {
    state: State,
    /// Entered SYN-RECEIVED from LISTEN.
    passive: bool,
    /// Its initial sequence number (from its SYN).
    iss: Option<u32>,
    /// The sequence number after the last thing it sent.
    snd_nxt: Option<u32>,
    /// The sequence number of its FIN.
    fin_seq: Option<u32>,
    /// What it expects next from the peer.
    rcv_nxt: Option<u32>,
}

impl End {
    fn new(state: State) -> End {
        End {
            state,
            passive: false,
            iss: None,
            snd_nxt: None,
            fin_seq: None,
            rcv_nxt: None,
        }
    }

    /// `ack` acknowledges this end's SYN.
    fn syn_acked_by(&self, ack: u32) -> bool {
        self.iss
            .is_some_and(|iss| at_or_after(ack, iss.wrapping_add(1)))
            && self.snd_nxt.is_none_or(|n| at_or_after(n, ack))
    }

    /// `ack` acknowledges this end's FIN.
    fn fin_acked_by(&self, ack: u32) -> bool {
        self.fin_seq
            .is_some_and(|f| at_or_after(ack, f.wrapping_add(1)))
    }
}

struct Inference {
    trace: Trace,
    ends: [End; 2],
}

impl Inference {
    fn set(&mut self, side: Side, at: Instant, to: State) {
        let end = &mut self.ends[side.index()];
        if end.state != to {
            let from = end.state;
            end.state = to;
            self.trace.transition(side, at, from, to);
        }
    }

    /// State changes of the sender that sending this segment shows (application calls).
    fn on_send(&mut self, side: Side, at: Instant, s: &SegmentSummary) {
        let end = self.ends[side.index()];
        let f = s.flags;
        let space = s
            .len
            .wrapping_add(u32::from(f.syn()))
            .wrapping_add(u32::from(f.fin()));
        if f.rst() {
            // An ABORT if the RST is in the sender's own sequence space; otherwise it
            // answers an unacceptable segment and the sender's state does not change.
            let own = end.snd_nxt.is_some_and(|n| {
                s.seq == n || (end.iss.is_some_and(|i| after(s.seq, i)) && at_or_after(n, s.seq))
            });
            let aborts = own && !matches!(end.state, State::Closed | State::Listen);
            if aborts {
                self.set(side, at, State::Closed);
            }
            return;
        }
        if f.syn() && !f.ack() && matches!(end.state, State::Closed | State::Listen) {
            self.set(side, at, State::SynSent);
        }
        if f.syn() && f.ack() && end.state == State::Listen {
            self.ends[side.index()].passive = true;
            self.set(side, at, State::SynReceived);
        }
        if f.fin() {
            match end.state {
                State::Established | State::SynReceived => self.set(side, at, State::FinWait1),
                State::CloseWait => self.set(side, at, State::LastAck),
                _ => {}
            }
        }
        let end = &mut self.ends[side.index()];
        if f.syn() {
            end.iss.get_or_insert(s.seq);
        }
        let next = s.seq.wrapping_add(space);
        end.snd_nxt = Some(end.snd_nxt.map_or(next, |n| later(n, next)));
        if f.fin() {
            let fin = s.seq.wrapping_add(s.len).wrapping_add(u32::from(f.syn()));
            end.fin_seq.get_or_insert(fin);
        }
    }

    /// State changes of the receiver (RFC 9293 §3.10.7, in its order: RST, SYN, ACK,
    /// FIN).
    fn on_arrive(&mut self, side: Side, at: Instant, s: &SegmentSummary) {
        let f = s.flags;
        let end = self.ends[side.index()];
        if f.rst() {
            let to = match end.state {
                State::SynSent if f.ack() && end.syn_acked_by(s.ack) => Some(State::Closed),
                State::SynSent => None,
                State::SynReceived if end.passive => Some(State::Listen),
                State::SynReceived => Some(State::Closed),
                State::Closed | State::Listen => None,
                // Synchronized states: only a RST exactly at RCV.NXT resets (RFC 5961;
                // others draw a challenge ACK).
                _ if end.rcv_nxt.is_none_or(|n| n == s.seq) => Some(State::Closed),
                _ => None,
            };
            if let Some(to) = to {
                self.set(side, at, to);
            }
            return;
        }
        let space = s
            .len
            .wrapping_add(u32::from(f.syn()))
            .wrapping_add(u32::from(f.fin()));
        if f.syn() {
            match end.state {
                State::Listen if !f.ack() => {
                    self.ends[side.index()].passive = true;
                    self.set(side, at, State::SynReceived);
                }
                State::SynSent if !f.ack() => self.set(side, at, State::SynReceived),
                State::SynSent if end.syn_acked_by(s.ack) => self.set(side, at, State::Established),
                State::SynReceived if f.ack() && end.syn_acked_by(s.ack) => {
                    self.set(side, at, State::Established)
                }
                _ => {}
            }
            let e = &mut self.ends[side.index()];
            if matches!(e.state, State::SynReceived | State::Established) {
                let next = s.seq.wrapping_add(space);
                e.rcv_nxt = Some(e.rcv_nxt.map_or(next, |n| later(n, next)));
            }
            return;
        }
        if f.ack() {
            let end = self.ends[side.index()];
            if end.state == State::SynReceived && end.syn_acked_by(s.ack) {
                self.set(side, at, State::Established);
            }
            let end = self.ends[side.index()];
            if end.fin_acked_by(s.ack) {
                match end.state {
                    // RFC 9293 §3.10.7.4 processes the ACK (fifth step) before the FIN
                    // (eighth): a FIN that also acknowledges ours passes through
                    // FIN-WAIT-2 on its way to TIME-WAIT, as the real state machine does.
                    State::FinWait1 => self.set(side, at, State::FinWait2),
                    State::Closing => self.set(side, at, State::TimeWait),
                    State::LastAck => self.set(side, at, State::Closed),
                    _ => {}
                }
            }
        }
        // The receive sequence. A capture cannot see the receiver's reassembly queue, so
        // RCV.NXT is taken as the highest sequence number that arrived: holes left by
        // reordering or by losses before the capture point do not stall the inference.
        let e = &mut self.ends[side.index()];
        let in_order = e.rcv_nxt.is_none_or(|n| at_or_after(n, s.seq));
        if space > 0 {
            let next = s.seq.wrapping_add(space);
            e.rcv_nxt = Some(e.rcv_nxt.map_or(next, |n| later(n, next)));
        }
        if f.fin() && in_order {
            match self.ends[side.index()].state {
                State::Established | State::SynReceived => self.set(side, at, State::CloseWait),
                State::FinWait1 => self.set(side, at, State::Closing),
                State::FinWait2 => self.set(side, at, State::TimeWait),
                _ => {}
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Send(usize),
    Arrive(usize),
}

fn infer(number: usize, group: Group<'_>) -> Connection {
    let items = group.items;
    let a_addr = choose_a(&items);
    let side_of = |p: &TcpPacket| if p.src == a_addr { Side::A } else { Side::B };
    let b_addr = items
        .iter()
        .map(|(_, p, _)| if p.src == a_addr { p.dst } else { p.src })
        .next()
        .unwrap_or(a_addr);
    let mut notes = Vec::new();

    // Initial states.
    let real: Vec<&(&Frame, &TcpPacket, Annotation)> =
        items.iter().filter(|(_, _, a)| !a.injected).collect();
    let first = real.first().map(|(_, p, _)| (side_of(p), p.tcp.flags));
    let (a0, b0) = match first {
        Some((Side::A, f)) if f.syn() && !f.ack() => {
            let reply = real
                .iter()
                .find(|(_, p, a)| side_of(p) == Side::B && !a.lost)
                .map(|(_, p, _)| p.tcp.flags);
            let b0 = match reply {
                Some(r) if r.syn() && r.ack() => State::Listen,
                Some(r) if r.syn() || r.rst() => State::Closed,
                Some(_) => State::Listen,
                None => {
                    notes.push(
                        "peer B never answered: its LISTEN state is an assumption".to_string(),
                    );
                    State::Listen
                }
            };
            (State::Closed, b0)
        }
        Some((Side::B, f)) if f.syn() && f.ack() => {
            notes.push(
                "the capture starts after A's SYN: A is taken to be in SYN-SENT, B in LISTEN"
                    .to_string(),
            );
            (State::SynSent, State::Listen)
        }
        Some(_) => {
            notes.push(
                "the capture starts mid-connection: both ends are taken to be ESTABLISHED"
                    .to_string(),
            );
            (State::Established, State::Established)
        }
        None => (State::Closed, State::Listen),
    };
    let mut peer_a = Peer::new("TCP Peer A", a0);
    peer_a.addr = Some(a_addr);
    let mut peer_b = Peer::new("TCP Peer B", b0);
    peer_b.addr = Some(b_addr);
    let mut inf = Inference {
        trace: Trace::new(peer_a, peer_b),
        ends: [End::new(a0), End::new(b0)],
    };
    if a0 == State::SynSent {
        // We did not see A's SYN, but B's SYN-ACK tells what it acknowledged.
        if let Some((_, p, _)) = real.first() {
            inf.ends[0].iss = Some(p.tcp.ack.wrapping_sub(1));
            inf.ends[0].snd_nxt = Some(p.tcp.ack);
        }
    }

    // Sends and arrivals in time order (stable: a send before its own arrival).
    let mut steps: Vec<(Instant, usize, Step)> = Vec::new();
    for (i, (frame, _, ann)) in items.iter().enumerate() {
        if ann.injected {
            steps.push((
                ann.arrived.unwrap_or(frame.time),
                2 * i + 1,
                Step::Arrive(i),
            ));
            continue;
        }
        steps.push((frame.time, 2 * i, Step::Send(i)));
        if !ann.lost {
            let at = ann.arrived.unwrap_or(frame.time).max(frame.time);
            steps.push((at, 2 * i + 1, Step::Arrive(i)));
        }
    }
    steps.sort_by_key(|(t, order, _)| (*t, *order));
    let mut ids: Vec<Option<SegmentId>> = vec![None; items.len()];
    for (at, _, step) in steps {
        match step {
            Step::Send(i) => {
                let Some((_, p, ann)) = items.get(i) else {
                    continue;
                };
                let side = side_of(p);
                let summary = SegmentSummary::new(&p.tcp, p.payload_len as usize);
                if !ann.duplicate {
                    inf.on_send(side, at, &summary);
                }
                let id = inf.trace.send(side, at, summary);
                if let Some(seg) = inf.trace.segment_mut(id) {
                    seg.retransmission = ann.retransmission;
                    seg.duplicate = ann.duplicate;
                    seg.corrupted = ann.corrupted;
                }
                ids[i] = Some(id);
            }
            Step::Arrive(i) => {
                let Some((_, p, ann)) = items.get(i) else {
                    continue;
                };
                let side = side_of(p);
                let summary = SegmentSummary::new(&p.tcp, p.payload_len as usize);
                match ids.get(i).copied().flatten() {
                    Some(id) => {
                        inf.trace.arrive(id, at);
                    }
                    None => {
                        inf.trace.inject(side, at, summary);
                    }
                }
                if !ann.corrupted {
                    inf.on_arrive(side.other(), at, &summary);
                }
                if let Some(m) = ann.metrics {
                    inf.trace.sample(side.other(), at, m);
                }
            }
        }
    }
    let mut trace = inf.trace;
    analyze(&mut trace);

    let bad = items
        .iter()
        .filter(|(_, p, _)| p.checksum == Checksum::Bad)
        .count();
    if bad > 0 {
        notes.push(format!(
            "{bad} segment(s) with a wrong TCP checksum: usually checksum offload on the \
             capturing host (the NIC fills it in after capture), else corruption"
        ));
    }
    let bad_options = items.iter().filter(|(_, p, _)| !p.options_ok).count();
    if bad_options > 0 {
        notes.push(format!(
            "{bad_options} segment(s) with TCP options that do not parse (left out)"
        ));
    }
    Connection {
        number,
        a: a_addr,
        b: b_addr,
        frames: items.iter().map(|(f, _, _)| f.number).collect(),
        trace,
        notes,
    }
}

/// The options of `side`'s SYN, summarised: `MSS=1460 SACK-permitted TS WS=7 (×128)`.
/// `None` if the trace holds no SYN from it.
pub fn syn_options(trace: &Trace, side: Side) -> Option<String> {
    let syn = trace
        .segments()
        .iter()
        .find(|s| s.from == side && s.summary.flags.syn() && !s.injected)?;
    let o = &syn.summary.options;
    let mut parts = Vec::new();
    if let Some(mss) = o.mss {
        parts.push(format!("MSS={mss}"));
    }
    if o.sack_permitted {
        parts.push("SACK-permitted".to_string());
    }
    if o.timestamps.is_some() {
        parts.push("TS".to_string());
    }
    if let Some(ws) = o.window_scale {
        parts.push(format!("WS={ws} (\u{d7}{})", 1u32 << ws.min(14)));
    }
    if parts.is_empty() {
        parts.push("none".to_string());
    }
    Some(parts.join(" "))
}
