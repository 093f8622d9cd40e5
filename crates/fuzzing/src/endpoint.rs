//! The endpoint harness: two real [`Endpoint`]s, `A` and `B`, joined by a wire the
//! input controls, driven by an arbitrary sequence of [`Action`]s.
//!
//! `A` is an honest peer that makes realistic traffic; `B` is the endpoint under attack.
//! Structured segments are aimed at the 4-tuples `B` has actually used, with sequence,
//! acknowledgment and timestamp values *near* the ones `B` last sent and expects, so
//! the fuzzer reaches deep states (recovery, zero windows, half-closes, TIME-WAIT)
//! instead of bouncing off the sequence check. Raw TCP bytes get a correct checksum and
//! the ports of a live connection, so they reach option parsing and the state machine.
//!
//! After every action the harness checks what must hold ([`World::drain`],
//! [`World::check_handles`], [`World::advance`]):
//!
//! - every datagram `poll_transmit` writes parses, comes from one of the sender's
//!   addresses, fits its MTU (MUST-16), carries an MSS option only on a SYN (MUST-65)
//!   and an ACK unless it is a SYN or RST; a RST is never answered with a RST
//!   (§3.10.7); a drain of `poll_transmit` and of `poll_event` ends;
//! - after `handle_timeout(now)` no timer is due at or before `now`, and no timer lies
//!   absurdly far ahead (an overflow);
//! - each live handle's 4-tuple maps back to the same connection state, and its
//!   buffers stay within the configured maxima;
//! - at the end, once every handle is aborted and every listener closed, letting the
//!   clock run empties both endpoints (no connection, no TIME-WAIT record) and leaves
//!   no timer.

use arbitrary::{Arbitrary, Unstructured};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use synack::{
    Config, CongestionAlgorithm, ConnId, Endpoint, Event, FourTuple, Instant, Keepalive,
    ListenerId, State,
};
use synack_wire::{
    ip_protocol, ipv4, ipv6, parse_packet, SackBlock, SackList, TcpFlags, TcpOptions, TcpRepr,
    TcpSegment, Timestamps,
};

/// A's IPv4 address.
pub const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
/// B's IPv4 address.
pub const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
/// A's IPv6 address.
pub const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
/// B's IPv6 address.
pub const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));

/// Most datagrams one drain of `poll_transmit` may give before it counts as a loop.
const MAX_DRAIN: usize = 20_000;
/// Most datagrams kept on the wire; older ones are lost.
const MAX_WIRE: usize = 2_000;
/// Most actions run from one input (keeps each run short).
const MAX_ACTIONS: usize = 256;
/// No timer may be set further ahead than this (the longest legitimate one is a user
/// timeout of at most an hour, which the harness caps, or keep-alive idle time).
const TIMER_HORIZON: Duration = Duration::from_secs(30 * 24 * 3600);
/// The clock may run this long during teardown before the endpoints must be empty.
const TEARDOWN_HORIZON: Duration = Duration::from_secs(10 * 24 * 3600);

/// Configuration choices for one endpoint.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct ConfigChoice {
    /// Switch SACK off.
    pub no_sack: bool,
    /// Switch timestamps off.
    pub no_timestamps: bool,
    /// Switch window scaling off.
    pub no_window_scaling: bool,
    /// 2 KiB receive and 4 KiB send buffers (zero windows come fast).
    pub small_buffers: bool,
    /// A 576-byte MTU.
    pub small_mtu: bool,
    /// NewReno instead of CUBIC.
    pub newreno: bool,
    /// Nagle off.
    pub nodelay: bool,
    /// Keep-alive on for every connection: 5 s idle, 1 s interval, 3 probes.
    pub keepalive: bool,
    /// RFC 793 rules for in-window RSTs and SYNs instead of RFC 5961's challenge ACKs.
    pub insecure: bool,
    /// Short timers: MSL 1 s, R2 20 s, R2 for SYNs 10 s.
    pub short_timers: bool,
}

impl ConfigChoice {
    fn config(&self) -> Config {
        let mut c = Config {
            sack: !self.no_sack,
            timestamps: !self.no_timestamps,
            window_scaling: !self.no_window_scaling,
            nodelay: self.nodelay,
            rst_challenge: !self.insecure,
            syn_challenge: !self.insecure,
            ..Config::default()
        };
        if self.small_buffers {
            c.recv_buffer = 2048;
            c.recv_buffer_max = 4096;
            c.send_buffer = 4096;
            c.send_buffer_max = 8192;
        }
        if self.small_mtu {
            c.mtu = 576;
        }
        if self.newreno {
            c.congestion_control = CongestionAlgorithm::NewReno;
        }
        if self.keepalive {
            c.keepalive = Some(Keepalive {
                idle: Duration::from_secs(5),
                interval: Duration::from_secs(1),
                probes: 3,
            });
        }
        if self.short_timers {
            c.msl = Duration::from_secs(1);
            c.r2_data = Duration::from_secs(20);
            c.r2_syn = Duration::from_secs(10);
        }
        c
    }
}

/// A whole endpoint-harness input.
#[derive(Debug, Arbitrary)]
pub struct EndpointInput {
    /// A's configuration, then B's.
    pub configs: [ConfigChoice; 2],
    /// Open one IPv4 connection from A to B before the actions start.
    pub preconnect: bool,
    /// What happens, in order.
    pub actions: Vec<Action>,
}

/// One of the two endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum Side {
    /// The honest peer.
    A,
    /// The endpoint under attack.
    B,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// A number relative to one the harness knows (the value `B` last sent or expects).
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Num {
    /// Exactly the known value.
    Exact,
    /// The known value plus a small offset.
    Near(i16),
    /// The known value plus a large offset (× 1024).
    Scaled(i16),
    /// Any value.
    Far(u32),
}

impl Num {
    fn resolve(self, known: u32) -> u32 {
        match self {
            Num::Exact => known,
            Num::Near(d) => known.wrapping_add(d as i32 as u32),
            Num::Scaled(d) => known.wrapping_add((d as i32).wrapping_mul(1024) as u32),
            Num::Far(v) => v,
        }
    }
}

/// Where an injected segment goes.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Target {
    /// One of the 4-tuples B has used (index modulo their number).
    Conn(u8),
    /// B's listener on port 80 (IPv4 or IPv6), from this port of A's.
    Listener(bool, u16),
    /// Any port pair between A's and B's IPv4 addresses.
    Ports(u16, u16),
}

/// The timestamps option of an injected segment.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum TsChoice {
    /// None.
    None,
    /// TSval near A's latest (B's TS.Recent), TSecr near what B last sent.
    Echo(i16, i16),
    /// Anything.
    Raw(u32, u32),
}

/// The payload of an injected segment.
#[derive(Debug, Clone, Arbitrary)]
pub enum Payload {
    /// No data.
    Empty,
    /// These bytes.
    Bytes(Vec<u8>),
    /// `len % 2000` copies of a byte.
    Filled(u16, u8),
}

impl Payload {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Payload::Empty => Vec::new(),
            Payload::Bytes(b) => b.clone(),
            Payload::Filled(len, byte) => vec![*byte; usize::from(*len % 2000)],
        }
    }
}

/// The control bits of an injected segment.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Flags {
    /// ACK.
    Ack,
    /// PSH, ACK.
    PshAck,
    /// FIN, ACK.
    FinAck,
    /// SYN.
    Syn,
    /// SYN, ACK.
    SynAck,
    /// RST.
    Rst,
    /// RST, ACK.
    RstAck,
    /// Any bits.
    Raw(u8),
}

impl Flags {
    fn bits(self) -> TcpFlags {
        match self {
            Flags::Ack => TcpFlags::ACK,
            Flags::PshAck => TcpFlags::PSH | TcpFlags::ACK,
            Flags::FinAck => TcpFlags::FIN | TcpFlags::ACK,
            Flags::Syn => TcpFlags::SYN,
            Flags::SynAck => TcpFlags::SYN | TcpFlags::ACK,
            Flags::Rst => TcpFlags::RST,
            Flags::RstAck => TcpFlags::RST | TcpFlags::ACK,
            Flags::Raw(b) => TcpFlags(b),
        }
    }
}

/// A segment built from fields, aimed at B.
#[derive(Debug, Clone, Arbitrary)]
pub struct Seg {
    /// Where it goes.
    pub target: Target,
    /// Control bits.
    pub flags: Flags,
    /// SEQ, relative to B's RCV.NXT (the ACK B last sent).
    pub seq: Num,
    /// ACK, relative to B's SND.NXT (the end of what B last sent).
    pub ack: Num,
    /// Window field.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// MSS option.
    pub mss: Option<u16>,
    /// Window scale option.
    pub window_scale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// Timestamps option.
    pub timestamps: TsChoice,
    /// SACK blocks: left edge relative to B's SND.UNA guess, length.
    pub sack: Vec<(Num, u16)>,
    /// Data.
    pub payload: Payload,
}

/// A listening or destination port.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Port {
    /// 80, where B listens from the start.
    P80,
    /// 81.
    P81,
    /// Any.
    Any(u16),
}

impl Port {
    fn get(self) -> u16 {
        match self {
            Port::P80 => 80,
            Port::P81 => 81,
            Port::Any(p) => p,
        }
    }
}

/// An application call on one endpoint. Handles are indices (modulo) into every
/// connection handle either endpoint ever had, stale ones and the other side's included.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum AppCall {
    /// `listen` on this port, on the unspecified address or the side's own.
    Listen(Port, bool, bool, u8),
    /// `unlisten` a listener.
    Unlisten(u8),
    /// `connect` to the other side (IPv6?) on this port, from an ephemeral port or 80.
    Connect(bool, Port, bool),
    /// `accept` on a listener.
    Accept(u8),
    /// `send` this many bytes.
    Send(u8, u16),
    /// `recv` into a buffer of this size.
    Recv(u8, u16),
    /// `shutdown`.
    Shutdown(u8),
    /// `close`.
    Close(u8),
    /// `abort`.
    Abort(u8),
    /// `set_nodelay`.
    Nodelay(u8, bool),
    /// `set_keepalive`: idle seconds, interval milliseconds, probes.
    Keepalive(u8, Option<(u16, u16, u8)>),
    /// `set_user_timeout` in milliseconds (at most an hour).
    UserTimeout(u8, u32),
    /// `set_congestion_control` (NewReno?).
    Congestion(u8, bool),
    /// Every query: state, tuple, stats, counts, urgent data pending.
    Query(u8),
    /// `send_urgent` this many bytes (RFC 9293 §3.8.5).
    SendUrgent(u8, u16),
}

/// How far the clock moves.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Advance {
    /// Milliseconds.
    Millis(u8),
    /// Tens of milliseconds.
    Tens(u16),
    /// Seconds.
    Seconds(u16),
    /// To the earliest timer of either endpoint.
    NextTimer,
}

/// One step of the harness.
#[derive(Debug, Clone, Arbitrary)]
pub enum Action {
    /// Raw bytes to an endpoint as a datagram.
    Raw(Side, Vec<u8>),
    /// Raw TCP bytes under a valid IP header with a correct checksum, the ports of one
    /// of B's 4-tuples written over the first four bytes, to B.
    RawTcp(u8, Vec<u8>),
    /// A recent datagram from A to B with one byte changed, to B.
    Mutate(u8, u16, u8),
    /// A structured segment to B.
    Segment(Box<Seg>),
    /// Move the clock and fire due timers.
    Advance(Advance),
    /// Deliver the next `n % 16 + 1` datagrams on the wire.
    Deliver(u8),
    /// Lose the next datagram on the wire.
    DropNext,
    /// Swap the next two datagrams on the wire.
    Reorder,
    /// Duplicate the next datagram on the wire.
    Duplicate,
    /// Normal traffic: up to `n` deliveries or timer firings (none further than 5 s).
    Exchange(u8),
    /// An application call on one side.
    App(Side, AppCall),
}

/// What B last sent on one of its 4-tuples (B's view: local = B).
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    /// End of the sequence space of B's last segment: about SND.NXT.
    snd_end: u32,
    /// B's last ACK field: about RCV.NXT.
    ack: u32,
    /// B's last TSval.
    tsval: u32,
    /// The last TSval A sent on the 4-tuple (B's TS.Recent once it arrives).
    peer_tsval: u32,
}

/// The two endpoints and the wire between them.
pub struct World {
    now: Instant,
    eps: [Endpoint; 2],
    mtu: [usize; 2],
    addrs: [[IpAddr; 2]; 2],
    /// Datagrams in flight: (to, bytes), oldest first.
    wire: VecDeque<(usize, Vec<u8>)>,
    /// Every connection handle either side ever had, with its side.
    handles: Vec<(usize, ConnId)>,
    listeners: Vec<(usize, ListenerId)>,
    /// B's 4-tuples (B's view), in the order first seen.
    tuples: Vec<FourTuple>,
    seen: HashMap<FourTuple, Seen>,
    /// Recent datagrams from A to B.
    recent: VecDeque<Vec<u8>>,
    /// Room for one datagram from `poll_transmit` (more than any MTU, to catch one
    /// over it).
    buf: Vec<u8>,
}

fn endpoint(choice: &ConfigChoice, secret: u8, addrs: [IpAddr; 2]) -> Endpoint {
    let mut ep = Endpoint::new(choice.config(), [secret; 16]);
    for a in addrs {
        ep.add_address(a);
    }
    ep
}

/// Check one datagram an endpoint sent; panics on a violation.
fn check_output(bytes: &[u8], own: &[IpAddr], mtu: usize, answering_rst: bool, who: &str) {
    let pkt = parse_packet(bytes)
        .unwrap_or_else(|e| panic!("{who} emitted a datagram that does not parse: {e:?}"));
    assert!(
        own.contains(&pkt.src),
        "{who} sent from {}, not its address",
        pkt.src
    );
    assert!(
        bytes.len() <= mtu,
        "{who} sent a {}-byte datagram over its {mtu}-byte MTU",
        bytes.len()
    );
    let t = pkt.tcp;
    if !t.flags.syn() {
        assert!(t.options.mss.is_none(), "{who}: MSS on a non-SYN: {t:?}");
    }
    if !t.flags.syn() && !t.flags.rst() {
        assert!(t.flags.ack(), "{who}: a segment without ACK: {t:?}");
    }
    if answering_rst {
        assert!(!t.flags.rst(), "{who} answered a RST with a RST: {t:?}");
    }
}

impl World {
    /// Two endpoints; B listens on port 80 (IPv4 any, and its IPv6 address).
    pub fn new(configs: &[ConfigChoice; 2]) -> World {
        let addrs = [[A4, A6], [B4, B6]];
        let eps = [
            endpoint(&configs[0], 1, addrs[0]),
            endpoint(&configs[1], 2, addrs[1]),
        ];
        let mtu = [
            usize::from(eps[0].config().mtu),
            usize::from(eps[1].config().mtu),
        ];
        let mut w = World {
            now: Instant::ZERO,
            eps,
            mtu,
            addrs,
            wire: VecDeque::new(),
            handles: Vec::new(),
            listeners: Vec::new(),
            tuples: Vec::new(),
            seen: HashMap::new(),
            recent: VecDeque::new(),
            buf: vec![0; 65_536],
        };
        for local in [
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80),
            SocketAddr::new(B6, 80),
        ] {
            if let Ok(l) = w.eps[1].listen(local, 8) {
                w.listeners.push((1, l));
            }
        }
        w
    }

    /// Open one IPv4 connection from A to B, let it establish, accept it and exchange
    /// a little data.
    pub fn preconnect(&mut self) {
        self.app(Side::A, AppCall::Connect(false, Port::P80, false));
        self.exchange(20);
        self.app(Side::B, AppCall::Accept(0));
        for side in [Side::A, Side::B] {
            let h = (self.handles.len() - 1) as u8;
            self.app(side, AppCall::Send(h, 3000));
            self.app(side, AppCall::Send(h.wrapping_sub(1), 3000));
        }
        self.exchange(40);
    }

    /// Take everything both endpoints want to send and every event, checking each.
    /// `b_got_rst`: B's last input was a RST, so B must not send one now.
    fn drain(&mut self, b_got_rst: bool) {
        let mut buf = core::mem::take(&mut self.buf);
        buf.resize(65_536, 0);
        for side in [1, 0] {
            let mut n = 0;
            while let Some(len) = self.eps[side].poll_transmit(self.now, &mut buf) {
                n += 1;
                assert!(
                    n < MAX_DRAIN,
                    "endpoint {side}: poll_transmit does not stop"
                );
                let bytes = buf[..len].to_vec();
                let who = ["A", "B"][side];
                check_output(
                    &bytes,
                    &self.addrs[side],
                    self.mtu[side],
                    side == 1 && b_got_rst,
                    who,
                );
                if side == 1 {
                    self.learn_from_b(&bytes);
                } else {
                    self.learn_from_a(&bytes);
                    if self.recent.len() >= 16 {
                        self.recent.pop_front();
                    }
                    self.recent.push_back(bytes.clone());
                }
                if self.wire.len() >= MAX_WIRE {
                    self.wire.pop_front();
                }
                self.wire.push_back((1 - side, bytes));
            }
            let mut n = 0;
            while let Some(e) = self.eps[side].poll_event() {
                n += 1;
                assert!(
                    n < 1_000_000,
                    "endpoint {side}: the event queue does not drain"
                );
                if let Event::Connected(c) = e {
                    if !self.handles.contains(&(side, c)) {
                        self.handles.push((side, c));
                    }
                }
            }
        }
        self.buf = buf;
    }

    /// Remember what B said on a 4-tuple.
    fn learn_from_b(&mut self, bytes: &[u8]) {
        let Ok(p) = parse_packet(bytes) else { return };
        let t = p.tcp;
        if t.flags.rst() {
            return;
        }
        let tuple = FourTuple {
            local: SocketAddr::new(p.src, t.src_port),
            remote: SocketAddr::new(p.dst, t.dst_port),
        };
        let len = p.payload.len() as u32 + u32::from(t.flags.syn()) + u32::from(t.flags.fin());
        let ts = t.options.timestamps.unwrap_or_default();
        let known = self.seen.contains_key(&tuple);
        let seen = self.seen.entry(tuple).or_insert(Seen {
            peer_tsval: ts.tsecr,
            ..Seen::default()
        });
        seen.snd_end = t.seq.wrapping_add(len);
        seen.ack = t.ack;
        seen.tsval = ts.tsval;
        if !known && self.tuples.len() < 64 {
            self.tuples.push(tuple);
        }
    }

    /// Remember A's latest TSval on a 4-tuple B knows.
    fn learn_from_a(&mut self, bytes: &[u8]) {
        let Ok(p) = parse_packet(bytes) else { return };
        let tuple = FourTuple {
            local: SocketAddr::new(p.dst, p.tcp.dst_port),
            remote: SocketAddr::new(p.src, p.tcp.src_port),
        };
        if let (Some(seen), Some(ts)) = (self.seen.get_mut(&tuple), p.tcp.options.timestamps) {
            seen.peer_tsval = ts.tsval;
        }
    }

    /// Hand one datagram to an endpoint and drain.
    fn deliver_to(&mut self, side: usize, bytes: &[u8]) {
        let rst = parse_packet(bytes).is_ok_and(|p| p.tcp.flags.rst());
        self.eps[side].handle(self.now, bytes);
        self.drain(side == 1 && rst);
    }

    /// Move the clock to `to` (never back), fire both endpoints' timers, check them.
    fn advance(&mut self, to: Instant) {
        self.now = self.now.max(to);
        for side in 0..2 {
            self.eps[side].handle_timeout(self.now);
        }
        self.drain(false);
        self.check_timers();
    }

    fn check_timers(&self) {
        for (side, ep) in self.eps.iter().enumerate() {
            if let Some(t) = ep.poll_timeout() {
                assert!(
                    t > self.now,
                    "endpoint {side}: after handle_timeout({}) a timer is still due at {t}",
                    self.now
                );
                assert!(
                    t <= self.now + TIMER_HORIZON,
                    "endpoint {side}: a timer at {t}, absurdly far beyond {}",
                    self.now
                );
            }
        }
    }

    /// The earliest timer of either endpoint.
    fn next_timer(&self) -> Option<Instant> {
        self.eps.iter().filter_map(Endpoint::poll_timeout).min()
    }

    /// Up to `steps` deliveries or timer firings, never more than 5 s ahead.
    fn exchange(&mut self, steps: usize) {
        for _ in 0..steps {
            if let Some((to, bytes)) = self.wire.pop_front() {
                self.deliver_to(to, &bytes);
                continue;
            }
            match self.next_timer() {
                Some(t) if t <= self.now + Duration::from_secs(5) => self.advance(t),
                _ => return,
            }
        }
    }

    fn handle(&self, h: u8) -> Option<(usize, ConnId)> {
        if self.handles.is_empty() {
            return None;
        }
        self.handles
            .get(usize::from(h) % self.handles.len())
            .copied()
    }

    /// An application call; `side` is who calls. Handles of the other side are passed
    /// as they are (they must be refused or name an unrelated connection safely).
    fn app(&mut self, side: Side, call: AppCall) {
        let s = side.index();
        let now = self.now;
        let conn = |h: u8, w: &World| w.handle(h).map(|(_, c)| c);
        match call {
            AppCall::Listen(port, any, v6, backlog) => {
                let ip = match (any, v6) {
                    (true, false) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    (true, true) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                    (false, v6) => self.addrs[s][usize::from(v6)],
                };
                if let Ok(l) =
                    self.eps[s].listen(SocketAddr::new(ip, port.get()), usize::from(backlog))
                {
                    if self.listeners.len() < 32 {
                        self.listeners.push((s, l));
                    }
                }
            }
            AppCall::Unlisten(i) => {
                if let Some(&(_, l)) = self
                    .listeners
                    .get(usize::from(i) % self.listeners.len().max(1))
                {
                    let _ = self.eps[s].unlisten(now, l);
                }
            }
            AppCall::Connect(v6, port, from80) => {
                let local =
                    SocketAddr::new(self.addrs[s][usize::from(v6)], if from80 { 80 } else { 0 });
                let remote = SocketAddr::new(self.addrs[1 - s][usize::from(v6)], port.get());
                if let Ok(c) = self.eps[s].connect(now, local, remote) {
                    if self.handles.len() < 256 {
                        self.handles.push((s, c));
                    }
                }
            }
            AppCall::Accept(i) => {
                if let Some(&(_, l)) = self
                    .listeners
                    .get(usize::from(i) % self.listeners.len().max(1))
                {
                    while let Ok(c) = self.eps[s].accept(l) {
                        if self.handles.len() < 256 {
                            self.handles.push((s, c));
                        }
                    }
                }
            }
            AppCall::Send(h, len) => {
                if let Some(c) = conn(h, self) {
                    let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
                    let _ = self.eps[s].send(now, c, &data);
                }
            }
            AppCall::Recv(h, len) => {
                if let Some(c) = conn(h, self) {
                    let mut buf = vec![0u8; usize::from(len)];
                    if let Ok(n) = self.eps[s].recv(now, c, &mut buf) {
                        assert!(n <= buf.len(), "recv claims {n} bytes into {}", buf.len());
                    }
                }
            }
            AppCall::Shutdown(h) => {
                if let Some(c) = conn(h, self) {
                    let _ = self.eps[s].shutdown(now, c);
                }
            }
            AppCall::Close(h) => {
                if let Some(c) = conn(h, self) {
                    let _ = self.eps[s].close(now, c);
                }
            }
            AppCall::Abort(h) => {
                if let Some(c) = conn(h, self) {
                    let _ = self.eps[s].abort(now, c);
                }
            }
            AppCall::Nodelay(h, on) => {
                if let Some(c) = conn(h, self) {
                    let _ = self.eps[s].set_nodelay(c, on);
                }
            }
            AppCall::Keepalive(h, k) => {
                if let Some(c) = conn(h, self) {
                    let k = k.map(|(idle, interval, probes)| Keepalive {
                        idle: Duration::from_secs(u64::from(idle)),
                        interval: Duration::from_millis(u64::from(interval)),
                        probes: u32::from(probes),
                    });
                    let _ = self.eps[s].set_keepalive(now, c, k);
                }
            }
            AppCall::UserTimeout(h, ms) => {
                if let Some(c) = conn(h, self) {
                    let ms = u64::from(ms) % 3_600_000;
                    let _ = self.eps[s].set_user_timeout(c, Duration::from_millis(ms));
                }
            }
            AppCall::Congestion(h, newreno) => {
                if let Some(c) = conn(h, self) {
                    let a = if newreno {
                        CongestionAlgorithm::NewReno
                    } else {
                        CongestionAlgorithm::Cubic
                    };
                    let _ = self.eps[s].set_congestion_control(c, a);
                }
            }
            AppCall::Query(h) => {
                if let Some(c) = conn(h, self) {
                    let ep = &self.eps[s];
                    let _ = (ep.state(c), ep.tuple(c), ep.close_reason(c), ep.stats(c));
                    let _ = (
                        ep.readable_bytes(c),
                        ep.send_capacity(c),
                        ep.retransmissions(c),
                    );
                    if let Ok(Some(n)) = self.eps[s].urgent_remaining(c) {
                        assert!(n > 0, "urgent data pending but none to read");
                    }
                }
            }
            AppCall::SendUrgent(h, len) => {
                if let Some(c) = conn(h, self) {
                    let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
                    let _ = self.eps[s].send_urgent(now, c, &data);
                }
            }
        }
        self.drain(false);
    }

    /// Every live handle: its 4-tuple leads back to its state; buffers within bounds.
    fn check_handles(&self) {
        for &(side, c) in &self.handles {
            let ep = &self.eps[side];
            let Some(state) = ep.state(c) else { continue };
            let tuple = ep
                .tuple(c)
                .unwrap_or_else(|| panic!("endpoint {side}: {c:?} has a state but no tuple"));
            if state != State::Closed {
                assert_eq!(
                    ep.state_of(tuple),
                    Some(state),
                    "endpoint {side}: {c:?} is {state} but its 4-tuple says otherwise"
                );
            }
            let config = ep.config();
            assert!(
                ep.readable_bytes(c) <= config.recv_buffer_max.max(config.recv_buffer),
                "endpoint {side}: {} readable bytes beyond the receive buffer maximum",
                ep.readable_bytes(c)
            );
            assert!(
                ep.send_capacity(c) <= config.send_buffer_max.max(config.send_buffer),
                "endpoint {side}: send capacity {} beyond the send buffer maximum",
                ep.send_capacity(c)
            );
        }
    }

    /// Build and deliver a structured segment to B.
    fn segment(&mut self, seg: &Seg) {
        let (src, dst) = match seg.target {
            Target::Conn(i) if !self.tuples.is_empty() => {
                let t = self.tuples[usize::from(i) % self.tuples.len()];
                (t.remote, t.local)
            }
            Target::Conn(_) => (SocketAddr::new(A4, 40_000), SocketAddr::new(B4, 80)),
            Target::Listener(v6, port) => (
                SocketAddr::new(self.addrs[0][usize::from(v6)], port),
                SocketAddr::new(self.addrs[1][usize::from(v6)], 80),
            ),
            Target::Ports(s, d) => (SocketAddr::new(A4, s), SocketAddr::new(B4, d)),
        };
        let key = FourTuple {
            local: dst,
            remote: src,
        };
        let seen = self.seen.get(&key).copied().unwrap_or_default();
        let mut sack = SackList::default();
        for &(left, len) in seg.sack.iter().take(3) {
            let l = left.resolve(seen.snd_end);
            sack.push(SackBlock {
                left: l,
                right: l.wrapping_add(u32::from(len)),
            });
        }
        let timestamps = match seg.timestamps {
            TsChoice::None => None,
            TsChoice::Echo(v, e) => Some(Timestamps {
                tsval: seen.peer_tsval.wrapping_add(v as i32 as u32),
                tsecr: seen.tsval.wrapping_add(e as i32 as u32),
            }),
            TsChoice::Raw(tsval, tsecr) => Some(Timestamps { tsval, tsecr }),
        };
        let mut options = TcpOptions {
            mss: seg.mss,
            window_scale: seg.window_scale,
            sack_permitted: seg.sack_permitted,
            timestamps,
            sack,
        };
        while options.wire_len() > 40 {
            let n = options.sack.len().saturating_sub(1);
            options.sack.truncate(n);
        }
        let repr = TcpRepr {
            src_port: src.port(),
            dst_port: dst.port(),
            seq: seg.seq.resolve(seen.ack),
            ack: seg.ack.resolve(seen.snd_end),
            flags: seg.flags.bits(),
            window: seg.window,
            urgent: seg.urgent,
            options,
        };
        let payload = seg.payload.bytes();
        let mut buf = vec![0u8; 120 + payload.len()];
        if let Ok(n) = synack_wire::emit_packet(&mut buf, src.ip(), dst.ip(), 64, &repr, &payload) {
            buf.truncate(n);
            self.deliver_to(1, &buf);
        }
    }

    /// Raw TCP bytes to B on one of its 4-tuples, with a correct checksum.
    fn raw_tcp(&mut self, i: u8, bytes: &[u8]) {
        let t = if self.tuples.is_empty() {
            FourTuple {
                local: SocketAddr::new(B4, 80),
                remote: SocketAddr::new(A4, 40_000),
            }
        } else {
            self.tuples[usize::from(i) % self.tuples.len()]
        };
        let (src, dst) = (t.remote, t.local);
        let header = if src.is_ipv6() {
            ipv6::HEADER_LEN
        } else {
            ipv4::HEADER_LEN
        };
        let mut buf = vec![0u8; header + bytes.len()];
        let (head, tail) = buf.split_at_mut(header);
        tail.copy_from_slice(bytes);
        let ok = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                ipv4::emit_header(head, s, d, 64, ip_protocol::TCP, tail.len()).is_ok()
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                ipv6::emit_header(head, s, d, 64, ip_protocol::TCP, tail.len()).is_ok()
            }
            _ => false,
        };
        if !ok {
            return;
        }
        if tail.len() >= 20 {
            let mut seg = TcpSegment::new_unchecked(&mut *tail);
            seg.set_src_port(src.port());
            seg.set_dst_port(dst.port());
            let _ = seg.fill_checksum(src.ip(), dst.ip());
        }
        self.deliver_to(1, &buf);
    }

    /// Run one action, then check the handles.
    pub fn act(&mut self, action: &Action) {
        match action {
            Action::Raw(side, bytes) => self.deliver_to(side.index(), bytes),
            Action::RawTcp(i, bytes) => self.raw_tcp(*i, bytes),
            Action::Mutate(i, at, xor) => {
                if !self.recent.is_empty() {
                    let mut bytes = self.recent[usize::from(*i) % self.recent.len()].clone();
                    let at = usize::from(*at) % bytes.len().max(1);
                    if let Some(b) = bytes.get_mut(at) {
                        *b ^= xor;
                    }
                    self.deliver_to(1, &bytes);
                }
            }
            Action::Segment(seg) => self.segment(seg),
            Action::Advance(a) => {
                let to = match a {
                    Advance::Millis(ms) => self.now + Duration::from_millis(u64::from(*ms)),
                    Advance::Tens(t) => self.now + Duration::from_millis(10 * u64::from(*t)),
                    Advance::Seconds(s) => self.now + Duration::from_secs(u64::from(*s)),
                    Advance::NextTimer => self.next_timer().unwrap_or(self.now),
                };
                self.advance(to);
            }
            Action::Deliver(n) => {
                for _ in 0..=(n % 16) {
                    let Some((to, bytes)) = self.wire.pop_front() else {
                        break;
                    };
                    self.deliver_to(to, &bytes);
                }
            }
            Action::DropNext => {
                self.wire.pop_front();
            }
            Action::Reorder => {
                if self.wire.len() >= 2 {
                    self.wire.swap(0, 1);
                }
            }
            Action::Duplicate => {
                if let Some(front) = self.wire.front().cloned() {
                    if self.wire.len() < MAX_WIRE {
                        self.wire.push_front(front);
                    }
                }
            }
            Action::Exchange(n) => self.exchange(usize::from(*n)),
            Action::App(side, call) => self.app(*side, *call),
        }
        self.check_handles();
    }

    /// Abort every handle, close every listener, and let the network and the clock run:
    /// both endpoints must end up empty, with no timer left.
    pub fn teardown(&mut self) {
        for (side, c) in self.handles.clone() {
            let _ = self.eps[side].abort(self.now, c);
        }
        for (side, l) in self.listeners.clone() {
            let _ = self.eps[side].unlisten(self.now, l);
        }
        self.drain(false);
        let start = self.now;
        for _ in 0..100_000 {
            if let Some((to, bytes)) = self.wire.pop_front() {
                self.deliver_to(to, &bytes);
                continue;
            }
            match self.next_timer() {
                Some(t) => {
                    assert!(
                        t <= start + TEARDOWN_HORIZON,
                        "not quiescent: a timer at {t} after teardown began at {start} \
                         ({} connections, {} TIME-WAIT records left on B)",
                        self.eps[1].connection_count(),
                        self.eps[1].time_wait_count()
                    );
                    self.advance(t);
                }
                None => break,
            }
        }
        for (side, ep) in self.eps.iter().enumerate() {
            assert_eq!(
                (ep.connection_count(), ep.time_wait_count()),
                (0, 0),
                "endpoint {side}: connections or TIME-WAIT records left after teardown"
            );
            assert_eq!(
                ep.poll_timeout(),
                None,
                "endpoint {side}: a timer left after teardown"
            );
        }
    }
}

/// Run one endpoint-harness input: build the world, run the actions (at most
/// [`MAX_ACTIONS`]), then tear down. Panics on a violated property.
pub fn run_endpoint(data: &[u8]) {
    let u = Unstructured::new(data);
    let Ok(input) = EndpointInput::arbitrary_take_rest(u) else {
        return;
    };
    run_input(&input);
}

/// [`run_endpoint`] on an already-built input.
pub fn run_input(input: &EndpointInput) {
    let mut world = World::new(&input.configs);
    if input.preconnect {
        world.preconnect();
    }
    for action in input.actions.iter().take(MAX_ACTIONS) {
        world.act(action);
    }
    world.teardown();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> ConfigChoice {
        ConfigChoice {
            no_sack: false,
            no_timestamps: false,
            no_window_scaling: false,
            small_buffers: false,
            small_mtu: false,
            newreno: false,
            nodelay: false,
            keepalive: false,
            insecure: false,
            short_timers: false,
        }
    }

    #[test]
    fn preconnect_reaches_established_and_teaches_the_harness_the_tuple() {
        let mut w = World::new(&[quiet(), quiet()]);
        w.preconnect();
        assert_eq!(w.tuples.len(), 1, "B's 4-tuple learned from its output");
        let established = w
            .handles
            .iter()
            .filter(|(side, c)| w.eps[*side].state(*c) == Some(State::Established))
            .count();
        assert_eq!(established, 2, "both ends established: {:?}", w.handles);
        w.teardown();
    }

    #[test]
    fn a_segment_near_rcv_nxt_is_taken_as_data() {
        let mut w = World::new(&[quiet(), quiet()]);
        w.preconnect();
        let (_, server) = *w.handles.iter().find(|(side, _)| *side == 1).unwrap();
        let before = w.eps[1].readable_bytes(server);
        w.act(&Action::Segment(Box::new(Seg {
            target: Target::Conn(0),
            flags: Flags::PshAck,
            seq: Num::Exact,
            ack: Num::Exact,
            window: 1000,
            urgent: 0,
            mss: None,
            window_scale: None,
            sack_permitted: false,
            timestamps: TsChoice::Echo(1, 0),
            sack: Vec::new(),
            payload: Payload::Filled(100, b'x'),
        })));
        assert_eq!(w.eps[1].readable_bytes(server), before + 100);
        w.teardown();
    }

    #[test]
    #[should_panic(expected = "does not parse")]
    fn output_that_does_not_parse_is_a_finding() {
        check_output(&[0x45, 0, 0], &[B4], 1500, false, "B");
    }

    #[test]
    #[should_panic(expected = "answered a RST with a RST")]
    fn a_rst_answering_a_rst_is_a_finding() {
        let repr = TcpRepr {
            src_port: 80,
            dst_port: 40_000,
            flags: TcpFlags::RST,
            ..TcpRepr::default()
        };
        let mut buf = [0u8; 100];
        let n = synack_wire::emit_packet(&mut buf, B4, A4, 64, &repr, b"").unwrap();
        check_output(&buf[..n], &[B4], 1500, true, "B");
    }
}
