//! Helpers shared by the RFC 9293 scenario tests: two hosts on a 10 ms link, a way to
//! read the wire back in the notation of RFC 9293 §3.5 (`<SEQ=100><CTL=SYN>`, with each
//! side's numbers shifted so that they read like the figures), state paths from the
//! trace, and hand-made segments for `Sim::inject`.
#![allow(dead_code)]

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::collections::HashMap;
use synack::{Config, ConnId, Event, FourTuple, Instant, ListenerId, State, TraceKind};
use synack_sim::{FilterAction, FilterContext, HostId, LinkConfig, Outcome, Sim};
use synack_trace::{render_ladder, LadderOptions, SegmentId, Side, TimelineEvent, Trace};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// The client's (peer A's) address.
pub const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
/// The server's (peer B's) address.
pub const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
/// The client's port: fixed, so that every test knows the 4-tuple in advance.
pub const A_PORT: u16 = 40_000;
/// The server's port.
pub const B_PORT: u16 = 80;
/// One-way latency of the link.
pub const LATENCY: Duration = Duration::from_millis(10);
/// Default MSL: TIME-WAIT lasts twice this.
pub const MSL: Duration = Duration::from_secs(30);
/// A generous end for runs that must finish long before.
pub const LIMIT: Instant = Instant::from_millis(3_600_000);

pub fn a_addr() -> SocketAddr {
    SocketAddr::new(A_IP, A_PORT)
}

pub fn b_addr() -> SocketAddr {
    SocketAddr::new(B_IP, B_PORT)
}

/// The connection as peer A sees it.
pub fn a_tuple() -> FourTuple {
    FourTuple {
        local: a_addr(),
        remote: b_addr(),
    }
}

/// The connection as peer B sees it.
pub fn b_tuple() -> FourTuple {
    FourTuple {
        local: b_addr(),
        remote: a_addr(),
    }
}

/// Two hosts, "A" and "B", joined by a perfect 10 ms link.
pub struct Net {
    pub sim: Sim,
    pub a: HostId,
    pub b: HostId,
}

impl Net {
    pub fn new(seed: u64) -> Net {
        Net::with_configs(seed, Config::default(), Config::default())
    }

    pub fn with_configs(seed: u64, a_config: Config, b_config: Config) -> Net {
        let mut sim = Sim::new(seed);
        let a = sim.add_host("A", a_config, &[A_IP]);
        let b = sim.add_host("B", b_config, &[B_IP]);
        sim.link(a, b, LinkConfig::default().latency(LATENCY));
        Net { sim, a, b }
    }

    /// B listens on `b_addr()`.
    pub fn listen(&mut self) -> ListenerId {
        self.sim
            .endpoint_mut(self.b)
            .listen(b_addr(), 16)
            .expect("listen")
    }

    /// A connects from `a_addr()` to `b_addr()` now.
    pub fn connect(&mut self) -> ConnId {
        let now = self.sim.now();
        let conn = self
            .sim
            .endpoint_mut(self.a)
            .connect(now, a_addr(), b_addr())
            .expect("connect");
        self.sim.collect();
        conn
    }

    /// Active OPEN from both ends towards each other at the same instant (simultaneous
    /// open, RFC 9293 Figure 7): A's connection, then B's.
    pub fn connect_both(&mut self) -> (ConnId, ConnId) {
        let now = self.sim.now();
        let a = self.sim.endpoint_mut(self.a);
        let ca = a.connect(now, a_addr(), b_addr()).expect("connect from A");
        let b = self.sim.endpoint_mut(self.b);
        let cb = b.connect(now, b_addr(), a_addr()).expect("connect from B");
        (ca, cb)
    }

    /// Listen, connect, run until B has accepted and both ends are ESTABLISHED.
    pub fn establish(&mut self) -> (ConnId, ConnId, ListenerId) {
        let listener = self.listen();
        let client = self.connect();
        let server = accept_when_ready(&mut self.sim, self.b, listener);
        let (a, b) = (self.a, self.b);
        run_until(&mut self.sim, |sim| {
            sim.endpoint(a).state(client) == Some(State::Established)
                && sim.endpoint(b).state(server) == Some(State::Established)
        });
        (client, server, listener)
    }

    /// The segments of the A–B 4-tuple, in the order they were put on the wire.
    pub fn wire(&self) -> Vec<Wire> {
        wire(&self.sim, a_addr(), b_addr())
    }

    /// Print the ladder of the A–B connection (seen with `--nocapture`).
    pub fn print_ladder(&mut self, title: &str) {
        let (a, b) = (self.a, self.b);
        print_ladder(&mut self.sim, a, b, a_tuple(), title);
    }
}

/// Run until `done` holds (checked before every step); panics if the network goes idle
/// first or the step limit is hit.
pub fn run_until(sim: &mut Sim, mut done: impl FnMut(&mut Sim) -> bool) {
    let stop = sim
        .run_while(|sim| !done(sim) && sim.now() < LIMIT)
        .expect("simulation ran away");
    assert!(
        done(sim),
        "condition not reached (stopped: {stop:?}, at {})",
        sim.now()
    );
}

/// Run until `listener` has a connection to accept, and accept it.
pub fn accept_when_ready(sim: &mut Sim, host: HostId, listener: ListenerId) -> ConnId {
    let mut accepted = None;
    run_until(sim, |sim| {
        if accepted.is_none() {
            accepted = sim.endpoint_mut(host).accept(listener).ok();
        }
        accepted.is_some()
    });
    accepted.expect("accepted")
}

/// Run until `host` holds `tuple` in `state`.
pub fn run_until_state(sim: &mut Sim, host: HostId, tuple: FourTuple, state: State) {
    run_until(sim, |sim| sim.endpoint(host).state_of(tuple) == Some(state));
}

/// Every application event `host` has queued, oldest first.
pub fn drain_events(sim: &mut Sim, host: HostId) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(e) = sim.endpoint_mut(host).poll_event() {
        events.push(e);
    }
    events
}

/// Direction of a segment on the A–B connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From A to B (`-->` in the figures).
    AtoB,
    /// From B to A (`<--`).
    BtoA,
}

/// One segment on the wire, as the tests look at it.
#[derive(Debug, Clone)]
pub struct Wire {
    /// Its id in `Sim::packets`.
    pub id: usize,
    pub dir: Dir,
    /// Sending host; `None` when a test injected it.
    pub from: Option<HostId>,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub len: usize,
    pub sent_at: Instant,
    pub outcome: Outcome,
    pub retransmission: bool,
}

impl Wire {
    pub fn injected(&self) -> bool {
        self.from.is_none()
    }
    pub fn lost(&self) -> bool {
        matches!(self.outcome, Outcome::Dropped { .. })
    }
    pub fn arrived_at(&self) -> Option<Instant> {
        match self.outcome {
            Outcome::Delivered { at } => Some(at),
            _ => None,
        }
    }
    pub fn is(&self, flags: TcpFlags) -> bool {
        control(self.flags) == flags
    }
}

/// The control bits the figures show (PSH and the ECN bits are left out).
pub fn control(flags: TcpFlags) -> TcpFlags {
    TcpFlags(flags.0 & (TcpFlags::SYN.0 | TcpFlags::FIN.0 | TcpFlags::RST.0 | TcpFlags::ACK.0))
}

/// Every datagram between `a` and `b` (either direction), sent or injected, in the
/// order it entered the network.
pub fn wire(sim: &Sim, a: SocketAddr, b: SocketAddr) -> Vec<Wire> {
    let mut out = Vec::new();
    for record in sim.packets() {
        if record.duplicate_of.is_some() {
            continue;
        }
        let Some(p) = record.parse() else { continue };
        let src = SocketAddr::new(p.src, p.tcp.src_port);
        let dst = SocketAddr::new(p.dst, p.tcp.dst_port);
        let dir = if src == a && dst == b {
            Dir::AtoB
        } else if src == b && dst == a {
            Dir::BtoA
        } else {
            continue;
        };
        out.push(Wire {
            id: record.id,
            dir,
            from: record.from,
            seq: p.tcp.seq,
            ack: p.tcp.ack,
            flags: p.tcp.flags,
            window: p.tcp.window,
            len: p.payload.len(),
            sent_at: record.sent_at,
            outcome: record.outcome,
            retransmission: record.retransmission,
        });
    }
    out
}

/// Shows sequence numbers the way RFC 9293's figures do: A's numbers around 100, B's
/// around 300. Each side has one or more *bases*, pairs (number on the wire, number in
/// the figure); a number is shown relative to the closest base at or below it (so
/// that, as in Figure 8, an old duplicate SYN at ISS − 10 shows as 90 and B's second
/// ISS as 400).
#[derive(Debug, Clone, Default)]
pub struct Figure {
    a: Vec<(u32, u32)>,
    b: Vec<(u32, u32)>,
}

impl Figure {
    /// A's number `actual` is shown as `shown`.
    pub fn a(mut self, actual: u32, shown: u32) -> Self {
        self.a.push((actual, shown));
        self
    }

    /// B's number `actual` is shown as `shown`.
    pub fn b(mut self, actual: u32, shown: u32) -> Self {
        self.b.push((actual, shown));
        self
    }

    /// The usual figure numbering: A's ISS is 100, B's is 300.
    pub fn isns(iss_a: u32, iss_b: u32) -> Self {
        Figure::default().a(iss_a, 100).b(iss_b, 300)
    }

    fn show(bases: &[(u32, u32)], v: u32) -> u32 {
        bases
            .iter()
            .min_by_key(|(actual, _)| v.wrapping_sub(*actual))
            .map_or(v, |(actual, shown)| {
                shown.wrapping_add(v.wrapping_sub(*actual))
            })
    }

    /// One segment in the notation of the figures: `--> <SEQ=100><CTL=SYN>`, with
    /// ` (lost)` for a segment the network dropped and ` (injected)` for one a test made.
    pub fn render(&self, w: &Wire) -> String {
        let (arrow, own, theirs) = match w.dir {
            Dir::AtoB => ("-->", &self.a, &self.b),
            Dir::BtoA => ("<--", &self.b, &self.a),
        };
        let mut s = format!("{arrow} <SEQ={}>", Self::show(own, w.seq));
        if w.flags.ack() {
            s += &format!("<ACK={}>", Self::show(theirs, w.ack));
        }
        s += &format!("<CTL={}>", control(w.flags));
        if w.len > 0 {
            s += &format!("<DATA={}>", w.len);
        }
        if w.injected() {
            s += " (injected)";
        }
        if w.lost() {
            s += " (lost)";
        }
        s
    }

    pub fn lines(&self, wire: &[Wire]) -> Vec<String> {
        wire.iter().map(|w| self.render(w)).collect()
    }
}

/// The states `host` took `tuple` through, in order, starting with the state before the
/// first change (e.g. `[CLOSED, SYN-SENT, ESTABLISHED]`).
pub fn states(sim: &Sim, host: HostId, tuple: FourTuple) -> Vec<State> {
    let mut path: Vec<State> = Vec::new();
    for e in sim.events_of(host) {
        if e.conn != tuple {
            continue;
        }
        if let TraceKind::StateChange { from, to } = e.kind {
            if path.last() != Some(&from) {
                path.push(from);
            }
            path.push(to);
        }
    }
    path
}

/// When `host` moved `tuple` into `to` (the first time after `after`).
pub fn entered(
    sim: &Sim,
    host: HostId,
    tuple: FourTuple,
    to: State,
    after: Instant,
) -> Option<Instant> {
    sim.events_of(host).find_map(|e| match e.kind {
        TraceKind::StateChange { to: t, .. } if e.conn == tuple && t == to && e.at >= after => {
            Some(e.at)
        }
        _ => None,
    })
}

/// Print the ladder of one connection between `a` (left) and `b`.
pub fn print_ladder(sim: &mut Sim, a: HostId, b: HostId, tuple: FourTuple, title: &str) {
    let trace = sim.trace_connection(a, b, tuple);
    print_trace(sim, &trace, title);
}

/// Print the ladder of what happened on one connection from `since` on, with each
/// side's column starting in the state it was in then (or in `initial`, for a side
/// whose state the endpoint does not trace, such as a listener).
pub fn print_ladder_since(
    sim: &mut Sim,
    a: HostId,
    b: HostId,
    tuple: FourTuple,
    since: Instant,
    initial: [Option<State>; 2],
    title: &str,
) {
    let full = sim.trace_connection(a, b, tuple);
    let state_at = |side: Side| {
        full.transitions()
            .iter()
            .rfind(|t| t.side == side && t.at < since)
            .map_or(full.peer(side).initial_state, |t| t.to)
    };
    let mut peer_a = full.peer(Side::A).clone();
    peer_a.initial_state = initial[0].unwrap_or_else(|| state_at(Side::A));
    let mut peer_b = full.peer(Side::B).clone();
    peer_b.initial_state = initial[1].unwrap_or_else(|| state_at(Side::B));
    let mut trace = Trace::new(peer_a, peer_b);
    let mut ids: HashMap<usize, SegmentId> = HashMap::new();
    for event in full.timeline() {
        match event {
            TimelineEvent::Sent(id) => {
                let seg = &full.segments()[id.0];
                if seg.sent_at >= since {
                    let new = trace.send(seg.from, seg.sent_at, seg.summary);
                    if let Some(s) = trace.segment_mut(new) {
                        s.retransmission = seg.retransmission;
                        s.duplicate = seg.duplicate;
                        s.corrupted = seg.corrupted;
                    }
                    ids.insert(id.0, new);
                }
            }
            TimelineEvent::Arrived(id) => {
                let seg = &full.segments()[id.0];
                let Some(at) = seg.arrived_at else { continue };
                if seg.injected && at >= since {
                    trace.inject(seg.from, at, seg.summary);
                } else if let Some(new) = ids.get(&id.0) {
                    trace.arrive(*new, at);
                }
            }
            TimelineEvent::Transition(i) => {
                let t = full.transitions()[i];
                if t.at >= since {
                    trace.transition(t.side, t.at, t.from, t.to);
                }
            }
        }
    }
    print_trace(sim, &trace, title);
}

fn print_trace(sim: &Sim, trace: &Trace, title: &str) {
    let options = LadderOptions {
        times: true,
        ..LadderOptions::default()
    };
    println!("---- {title} (seed {}) ----", sim.seed());
    println!("{}", render_ladder(trace, &options));
}

/// A hand-made datagram from `src` to `dst`.
pub fn segment(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload: &[u8],
) -> Vec<u8> {
    let options = if flags.syn() {
        TcpOptions {
            mss: Some(1460),
            ..TcpOptions::default()
        }
    } else {
        TcpOptions::default()
    };
    let repr = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        seq,
        ack,
        flags,
        window: 65_535,
        urgent: 0,
        options,
    };
    let mut buf = vec![0u8; 100 + payload.len()];
    let n = synack_wire::emit_packet(&mut buf, src.ip(), dst.ip(), 64, &repr, payload)
        .expect("emit test segment");
    buf.truncate(n);
    buf
}

/// Hand-made datagram from A to B.
pub fn a_to_b(seq: u32, ack: u32, flags: TcpFlags) -> Vec<u8> {
    segment(a_addr(), b_addr(), seq, ack, flags, &[])
}

/// Hand-made datagram from B to A.
pub fn b_to_a(seq: u32, ack: u32, flags: TcpFlags) -> Vec<u8> {
    segment(b_addr(), a_addr(), seq, ack, flags, &[])
}

/// Sequence number just past a segment (SYN and FIN count one each).
pub fn seg_end(w: &Wire) -> u32 {
    w.seq
        .wrapping_add(w.len as u32)
        .wrapping_add(u32::from(w.flags.syn()) + u32::from(w.flags.fin()))
}

/// The next sequence number the sender in `dir` will use (its SND.NXT, as high as it
/// ever went), read off the wire.
pub fn snd_nxt(wire: &[Wire], dir: Dir) -> u32 {
    let own: Vec<&Wire> = wire
        .iter()
        .filter(|w| w.dir == dir && !w.injected())
        .collect();
    let base = own.first().expect("a segment in that direction").seq;
    own.iter()
        .map(|w| seg_end(w))
        .max_by_key(|s| s.wrapping_sub(base))
        .unwrap_or(base)
}

/// Make the link `from` → `to` lose the first `n` datagrams for which `pred` holds
/// (replacing any filter it had).
pub fn drop_first(
    sim: &mut Sim,
    from: HostId,
    to: HostId,
    n: usize,
    mut pred: impl FnMut(&FilterContext<'_>) -> bool + 'static,
) {
    let mut left = n;
    sim.set_filter(from, to, move |ctx| {
        if left > 0 && pred(ctx) {
            left -= 1;
            FilterAction::Drop
        } else {
            FilterAction::Deliver
        }
    });
}

/// Make the link `from` → `to` lose everything (a black hole).
pub fn black_hole(sim: &mut Sim, from: HostId, to: HostId) {
    sim.set_filter(from, to, |_| FilterAction::Drop);
}

/// A pure ACK: ACK set, nothing else that the figures show, no data.
pub fn is_pure_ack(ctx: &FilterContext<'_>) -> bool {
    ctx.flags().is_some_and(|f| control(f) == TcpFlags::ACK) && ctx.payload_len() == 0
}

/// The next sequence number the receiver in `dir` expects (its RCV.NXT), counting only
/// the segments that reached it in order of their numbers.
pub fn rcv_nxt(wire: &[Wire], dir: Dir) -> u32 {
    let own: Vec<&Wire> = wire
        .iter()
        .filter(|w| w.dir == dir && !w.injected() && w.arrived_at().is_some())
        .collect();
    let base = own
        .first()
        .expect("a delivered segment in that direction")
        .seq;
    own.iter()
        .map(|w| seg_end(w))
        .max_by_key(|s| s.wrapping_sub(base))
        .unwrap_or(base)
}

/// What `host` put on the wire from packet id `mark` on (on the A–B connection).
pub fn sent_since(sim: &Sim, host: HostId, mark: usize) -> Vec<Wire> {
    wire(sim, a_addr(), b_addr())
        .into_iter()
        .filter(|w| w.id >= mark && w.from == Some(host))
        .collect()
}
