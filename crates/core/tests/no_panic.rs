//! No input makes the endpoint panic (DESIGN.md: "No panics on input"; RFC 9293 MUST-7).
//!
//! Two endpoints are wired back to back (as in `pair.rs`): the client `A` opens a few
//! connections to the server `B`, which listens on port 80 over IPv4 and IPv6. Then
//! proptest drives `B` with an arbitrary interleaving of
//!
//! - arbitrary bytes;
//! - *valid-looking* segments built with `synack_wire::emit_packet` (correct checksums):
//!   random flags, SEQ/ACK near the connection's real numbers or anywhere, random windows,
//!   options (including raw option bytes with odd kinds and lengths) and payloads,
//!   addressed to the open 4-tuples, to the listener, to random ports;
//! - real packets from `A` with one byte changed;
//! - jumps of the virtual clock with `handle_timeout`;
//! - application calls — send / recv / shutdown / close / abort / accept / connect /
//!   options — on random handles, stale ones and the other endpoint's included;
//! - stretches of normal traffic between `A` and `B`.
//!
//! After every step, what must hold holds: every datagram `poll_transmit` writes parses
//! with `synack_wire::parse_packet`, fits the MTU (MUST-16), comes from one of the
//! endpoint's addresses, never carries an MSS option outside a SYN (MUST-65) and, unless
//! a SYN or RST, carries an ACK; a RST never answers a RST; a drain of `poll_transmit`
//! ends; after `handle_timeout(now)` no timer is left due at or before `now` (so a driver
//! that sleeps until `poll_timeout` cannot spin, nor `handle_timeout` itself); the event
//! queue drains.
//!
//! `PROPTEST_CASES=N` runs more cases; `SYNACK_CASE_LOG=path` writes each case to `path`
//! before running it, so a case that hangs can be found.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use proptest::prelude::*;
use std::collections::HashMap;
use synack::{Config, ConnId, Endpoint, Instant, Keepalive, ListenerId};
use synack_wire::{SackBlock, SackList, TcpFlags, TcpOptions, TcpRepr, Timestamps};

const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
/// One-way delay of the wire between A and B.
const DELAY: Duration = Duration::from_millis(10);
/// Most datagrams one drain of `poll_transmit` may produce before we call it a loop.
const MAX_DRAIN: usize = 20_000;

/// What we last saw `B` send on a 4-tuple (from B's side): its SEQ and ACK fields, i.e.
/// roughly B's SND.NXT and RCV.NXT.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    seq: u32,
    ack: u32,
}

struct World {
    now: Instant,
    a: Endpoint,
    b: Endpoint,
    /// (deliver at, to B?, bytes)
    wire: Vec<(Instant, bool, Vec<u8>)>,
    /// Every handle either side ever had: valid, stale and the other endpoint's.
    handles: Vec<ConnId>,
    listeners: Vec<ListenerId>,
    /// Open 4-tuples from A's point of view (local = A, remote = B).
    tuples: Vec<(SocketAddr, SocketAddr)>,
    seen: HashMap<(SocketAddr, SocketAddr), Seen>,
    /// Recent real datagrams from A, templates for byte mutation.
    recent_from_a: Vec<Vec<u8>>,
    /// B just received a RST: none of what it sends in answer may be a RST.
    last_input_was_rst: bool,
}

fn check_output(bytes: &[u8], own: &[IpAddr], input_was_rst: bool, who: &str) -> TcpRepr {
    let pkt = synack_wire::parse_packet(bytes)
        .unwrap_or_else(|e| panic!("{who} emitted a datagram that does not parse: {e:?}"));
    assert!(
        own.contains(&pkt.src),
        "{who} sent from {} which is not its address",
        pkt.src
    );
    let t = pkt.tcp;
    if !t.flags.syn() {
        // MUST-65: the MSS option only on SYNs.
        assert!(
            t.options.mss.is_none(),
            "{who}: MSS option on a non-SYN: {t:?}"
        );
    }
    if !t.flags.syn() && !t.flags.rst() {
        // §3.10.7: once a SYN has been seen every segment carries an acknowledgment.
        assert!(t.flags.ack(), "{who}: a segment without ACK: {t:?}");
    }
    if input_was_rst {
        // §3.10.7: a RST is never answered with a RST.
        assert!(!t.flags.rst(), "{who} answered a RST with a RST: {t:?}");
    }
    t
}

impl World {
    fn new() -> World {
        World::with_server_config(Config::default())
    }

    /// The same world with `B` built from `config`.
    fn with_server_config(config: Config) -> World {
        let mut a = Endpoint::new(Config::default(), [1; 16]);
        let mut b = Endpoint::new(config, [2; 16]);
        a.add_address(A4);
        a.add_address(A6);
        b.add_address(B4);
        b.add_address(B6);
        let mut w = World {
            now: Instant::ZERO,
            a,
            b,
            wire: Vec::new(),
            handles: Vec::new(),
            listeners: Vec::new(),
            tuples: Vec::new(),
            seen: HashMap::new(),
            recent_from_a: Vec::new(),
            last_input_was_rst: false,
        };
        let l4 =
            w.b.listen(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80), 8)
                .unwrap();
        let l6 = w.b.listen(SocketAddr::new(B6, 80), 8).unwrap();
        w.listeners.extend([l4, l6]);
        // Three connections over IPv4, one over IPv6, with a little data each way.
        for server in [B4, B4, B4, B6] {
            let local = SocketAddr::new(if server.is_ipv4() { A4 } else { A6 }, 0);
            let c =
                w.a.connect(w.now, local, SocketAddr::new(server, 80))
                    .unwrap();
            w.handles.push(c);
            let t = w.a.tuple(c).unwrap();
            w.tuples.push((t.local, t.remote));
        }
        w.exchange(40);
        for l in [l4, l6] {
            while let Ok(c) = w.b.accept(l) {
                w.handles.push(c);
                let _ = w.b.send(w.now, c, b"hello from B");
            }
        }
        for &h in &w.handles.clone() {
            let _ = w.a.send(w.now, h, b"hello from A");
        }
        w.exchange(40);
        w
    }

    /// Take everything both endpoints want to send, checking B's (and A's) output.
    /// After the inputs: time runs on until no timer is due (200 rounds at most), which
    /// settles everything without panicking and without a timer loop (every connection
    /// ends within R2 / TIME-WAIT / keep-alive bounds or stays idle with no timer due);
    /// then aborting everything leaves the endpoints able to drain.
    fn run_out(&mut self) {
        for _ in 0..200 {
            self.exchange(50);
            match [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
            {
                Some(t) => self.advance(t),
                None => break,
            }
        }
        for h in self.handles.clone() {
            let _ = self.b.abort(self.now, h);
        }
        self.drain();
    }

    fn drain(&mut self) {
        // Room for more than an MTU, to see whether a datagram ever exceeds it.
        let mut buf = vec![0u8; 65_536];
        let mut n = 0;
        while let Some(len) = self.b.poll_transmit(self.now, &mut buf) {
            n += 1;
            assert!(n < MAX_DRAIN, "B's poll_transmit does not stop");
            assert!(
                len <= 1500,
                "B sent a {len}-byte datagram, over its 1500-byte MTU"
            );
            let bytes = buf[..len].to_vec();
            let t = check_output(&bytes, &[B4, B6], self.last_input_was_rst, "B");
            if let Ok(p) = synack_wire::parse_packet(&bytes) {
                let key = (
                    SocketAddr::new(p.dst, t.dst_port),
                    SocketAddr::new(p.src, t.src_port),
                );
                if !t.flags.rst() {
                    self.seen.insert(
                        key,
                        Seen {
                            seq: t.seq,
                            ack: t.ack,
                        },
                    );
                }
            }
            self.wire.push((self.now + DELAY, false, bytes));
        }
        self.last_input_was_rst = false;
        let mut n = 0;
        while let Some(len) = self.a.poll_transmit(self.now, &mut buf) {
            n += 1;
            assert!(n < MAX_DRAIN, "A's poll_transmit does not stop");
            let bytes = buf[..len].to_vec();
            check_output(&bytes, &[A4, A6], false, "A");
            if self.recent_from_a.len() >= 16 {
                self.recent_from_a.remove(0);
            }
            self.recent_from_a.push(bytes.clone());
            self.wire.push((self.now + DELAY, true, bytes));
        }
        for ep in [&mut self.a, &mut self.b] {
            let mut n = 0;
            while ep.poll_event().is_some() {
                n += 1;
                assert!(n < 1_000_000, "the event queue does not drain");
            }
        }
    }

    /// Hand one datagram to B (as if from the network) and drain.
    fn deliver_to_b(&mut self, bytes: &[u8]) {
        self.last_input_was_rst = synack_wire::parse_packet(bytes).is_ok_and(|p| p.tcp.flags.rst());
        self.b.handle(self.now, bytes);
        self.drain();
    }

    /// Let the clock run to `now` and fire both endpoints' timers.
    fn advance(&mut self, to: Instant) {
        self.now = self.now.max(to);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.drain();
        for (who, ep) in [("A", &self.a), ("B", &self.b)] {
            if let Some(t) = ep.poll_timeout() {
                assert!(
                    t > self.now,
                    "{who}: after handle_timeout({}) a timer is still due at {t}",
                    self.now
                );
            }
        }
    }

    /// Up to `steps` events of normal traffic between A and B.
    fn exchange(&mut self, steps: usize) {
        for _ in 0..steps {
            self.drain();
            let next_pkt = self.wire.iter().map(|p| p.0).min();
            let next_timer = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = [next_pkt, next_timer].into_iter().flatten().min() else {
                return;
            };
            if next_pkt.is_none() && next > self.now + Duration::from_secs(5) {
                return; // only far timers left: leave them to the Time op
            }
            self.now = self.now.max(next);
            let now = self.now;
            let (due, rest): (Vec<_>, Vec<_>) = self.wire.drain(..).partition(|p| p.0 <= now);
            self.wire = rest;
            for (_, to_b, bytes) in due {
                if to_b {
                    self.deliver_to_b(&bytes);
                } else {
                    self.a.handle(now, &bytes);
                }
            }
            self.advance(now);
        }
    }
}

// ---- Strategies ----

#[derive(Debug, Clone)]
enum Target {
    /// One of the open 4-tuples (index modulo their number).
    Conn(usize),
    /// The listener, from a fresh source port.
    Listener(u16),
    /// A random destination port from A's address.
    Port(u16, u16),
    /// A destination address B does not own.
    Elsewhere,
}

#[derive(Debug, Clone)]
enum Num {
    /// Offset from the real value.
    Near(i32),
    /// Anything.
    Far(u32),
}

#[derive(Debug, Clone)]
struct Seg {
    target: Target,
    flags: u8,
    seq: Num,
    ack: Num,
    window: u16,
    urgent: u16,
    options: TcpOptions,
    /// Raw option bytes instead of `options` (odd kinds, bad lengths, no padding...).
    raw_options: Option<Vec<u8>>,
    payload: Vec<u8>,
}

#[derive(Debug, Clone)]
enum App {
    Send(usize, usize),
    Recv(usize, usize),
    Shutdown(usize),
    Close(usize),
    Abort(usize),
    Accept(usize),
    Connect(bool, u16),
    Nodelay(usize, bool),
    Keepalive(usize, Option<(u64, u64, u32)>),
    UserTimeout(usize, u64),
    Unlisten(usize),
    Listen(u16, usize),
    Queries(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Raw(Vec<u8>),
    Mutate(usize, usize, u8),
    Segment(Box<Seg>),
    Time(u64),
    App(App),
    Exchange(u8),
}

fn num() -> impl Strategy<Value = Num> {
    prop_oneof![
        4 => (-70_000i32..70_000).prop_map(Num::Near),
        2 => (-3i32..3).prop_map(Num::Near),
        1 => any::<u32>().prop_map(Num::Far),
    ]
}

fn options() -> impl Strategy<Value = TcpOptions> {
    (
        proptest::option::of(any::<u16>()),
        proptest::option::of(0u8..20),
        any::<bool>(),
        proptest::option::of((any::<u32>(), any::<u32>())),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 0..3),
    )
        .prop_map(|(mss, ws, sack_permitted, ts, blocks)| {
            let mut sack = SackList::default();
            for (left, right) in blocks {
                sack.push(SackBlock { left, right });
            }
            let mut o = TcpOptions {
                mss,
                window_scale: ws,
                sack_permitted,
                timestamps: ts.map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
                sack,
            };
            if o.wire_len() > 40 {
                o.sack = SackList::default();
            }
            o
        })
}

fn segment() -> impl Strategy<Value = Seg> {
    let target = prop_oneof![
        6 => (0usize..8).prop_map(Target::Conn),
        2 => any::<u16>().prop_map(Target::Listener),
        1 => (any::<u16>(), any::<u16>()).prop_map(|(s, d)| Target::Port(s, d)),
        1 => Just(Target::Elsewhere),
    ];
    let flags = prop_oneof![
        // Mostly plausible combinations, sometimes anything.
        3 => Just(0x10u8),
        1 => Just(0x18u8),
        1 => Just(0x11u8),
        1 => Just(0x02u8),
        1 => Just(0x12u8),
        1 => Just(0x04u8),
        1 => Just(0x14u8),
        2 => any::<u8>(),
    ];
    let payload = prop_oneof![
        3 => Just(Vec::new()),
        2 => proptest::collection::vec(any::<u8>(), 1..64),
        1 => proptest::collection::vec(any::<u8>(), 500..1460),
    ];
    let raw = proptest::option::weighted(
        0.15,
        proptest::collection::vec(
            prop_oneof![
                Just(0u8),
                Just(1u8),
                Just(2u8),
                Just(3u8),
                Just(8u8),
                any::<u8>()
            ],
            0..40,
        ),
    );
    let window = prop_oneof![Just(0u16), Just(65_535u16), any::<u16>()];
    (
        target,
        flags,
        num(),
        num(),
        window,
        prop_oneof![Just(0u16), any::<u16>()],
        options(),
        raw,
        payload,
    )
        .prop_map(
            |(target, flags, seq, ack, window, urgent, options, raw_options, payload)| Seg {
                target,
                flags,
                seq,
                ack,
                window,
                urgent,
                options,
                raw_options,
                payload,
            },
        )
}

fn app() -> impl Strategy<Value = App> {
    let h = 0usize..32;
    prop_oneof![
        3 => (h.clone(), 0usize..100_000).prop_map(|(h, n)| App::Send(h, n)),
        3 => (h.clone(), 0usize..70_000).prop_map(|(h, n)| App::Recv(h, n)),
        1 => h.clone().prop_map(App::Shutdown),
        1 => h.clone().prop_map(App::Close),
        1 => h.clone().prop_map(App::Abort),
        1 => (0usize..4).prop_map(App::Accept),
        1 => (any::<bool>(), prop_oneof![Just(80u16), Just(81u16), any::<u16>()])
            .prop_map(|(v6, p)| App::Connect(v6, p)),
        1 => (h.clone(), any::<bool>()).prop_map(|(h, on)| App::Nodelay(h, on)),
        1 => (
            h.clone(),
            proptest::option::of((0u64..10_000, 0u64..1_000, 0u32..12))
        )
            .prop_map(|(h, k)| App::Keepalive(h, k)),
        1 => (h.clone(), 0u64..1_000_000).prop_map(|(h, ms)| App::UserTimeout(h, ms)),
        1 => (0usize..4).prop_map(App::Unlisten),
        1 => (prop_oneof![Just(80u16), any::<u16>()], 0usize..4)
            .prop_map(|(p, b)| App::Listen(p, b)),
        1 => h.prop_map(App::Queries),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..120).prop_map(Op::Raw),
        2 => (0usize..16, 0usize..1500, any::<u8>()).prop_map(|(t, i, v)| Op::Mutate(t, i, v)),
        10 => segment().prop_map(|s| Op::Segment(Box::new(s))),
        3 => prop_oneof![
            3 => 0u64..1_000,
            2 => 1_000u64..200_000,
            1 => 200_000u64..20_000_000,
        ]
        .prop_map(Op::Time),
        5 => app().prop_map(Op::App),
        3 => (1u8..30).prop_map(Op::Exchange),
    ]
}

// ---- Applying the operations ----

fn resolve(v: &Num, real: u32) -> u32 {
    match *v {
        Num::Near(d) => real.wrapping_add_signed(d),
        Num::Far(x) => x,
    }
}

/// Replace the options of an emitted datagram with raw bytes (padded to 32 bits) and fix
/// the data offset, the lengths and both checksums.
fn splice_raw_options(dgram: &[u8], ipv6: bool, raw: &[u8]) -> Option<Vec<u8>> {
    use synack_wire::checksum;
    let ip_len = if ipv6 { 40 } else { 20 };
    let mut opts = raw.to_vec();
    opts.resize(raw.len().div_ceil(4) * 4, 0);
    if opts.len() > 40 {
        return None;
    }
    let tcp = dgram.get(ip_len..)?;
    let hl = usize::from(tcp.get(12)? >> 4) * 4;
    let mut seg = Vec::new();
    seg.extend_from_slice(tcp.get(..20)?);
    seg.extend_from_slice(&opts);
    seg.extend_from_slice(tcp.get(hl..)?);
    seg[12] = (((20 + opts.len()) / 4) as u8) << 4 | (seg[12] & 0x0f);
    seg[16] = 0;
    seg[17] = 0;
    let mut out = dgram.get(..ip_len)?.to_vec();
    let (src, dst): (IpAddr, IpAddr) = if ipv6 {
        let s: [u8; 16] = out[8..24].try_into().ok()?;
        let d: [u8; 16] = out[24..40].try_into().ok()?;
        (s.into(), d.into())
    } else {
        let s: [u8; 4] = out[12..16].try_into().ok()?;
        let d: [u8; 4] = out[16..20].try_into().ok()?;
        (s.into(), d.into())
    };
    let mut c = checksum::pseudo_header(src, dst, 6, seg.len()).ok()?;
    c.add_bytes(&seg);
    let ck = c.finish().to_be_bytes();
    seg[16] = ck[0];
    seg[17] = ck[1];
    if ipv6 {
        let len = u16::try_from(seg.len()).ok()?.to_be_bytes();
        out[4] = len[0];
        out[5] = len[1];
    } else {
        let total = u16::try_from(20 + seg.len()).ok()?.to_be_bytes();
        out[2] = total[0];
        out[3] = total[1];
        out[10] = 0;
        out[11] = 0;
        let ck = checksum::checksum(&out[..20]).to_be_bytes();
        out[10] = ck[0];
        out[11] = ck[1];
    }
    out.extend_from_slice(&seg);
    Some(out)
}

impl World {
    fn handle(&self, i: usize) -> Option<ConnId> {
        if self.handles.is_empty() {
            None
        } else {
            Some(self.handles[i % self.handles.len()])
        }
    }

    fn segment(&mut self, s: &Seg) {
        let (src, dst) = match s.target {
            Target::Conn(i) => {
                let (a, b) = self.tuples[i % self.tuples.len()];
                (a, b)
            }
            Target::Listener(sport) => (SocketAddr::new(A4, sport), SocketAddr::new(B4, 80)),
            Target::Port(sport, dport) => (SocketAddr::new(A4, sport), SocketAddr::new(B4, dport)),
            Target::Elsewhere => (
                SocketAddr::new(A4, 1234),
                SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 9, 9)), 80),
            ),
        };
        // From B's point of view the tuple is (local = dst, remote = src).
        let seen = self.seen.get(&(src, dst)).copied().unwrap_or_default();
        let repr = TcpRepr {
            src_port: src.port(),
            dst_port: dst.port(),
            seq: resolve(&s.seq, seen.ack),
            ack: resolve(&s.ack, seen.seq),
            flags: TcpFlags(s.flags),
            window: s.window,
            urgent: s.urgent,
            options: if s.raw_options.is_some() {
                TcpOptions::default()
            } else {
                s.options
            },
        };
        let mut buf = vec![0u8; 2000];
        let Ok(n) = synack_wire::emit_packet(&mut buf, src.ip(), dst.ip(), 64, &repr, &s.payload)
        else {
            return;
        };
        let mut dgram = buf[..n].to_vec();
        if let Some(raw) = &s.raw_options {
            match splice_raw_options(&dgram, src.is_ipv6(), raw) {
                Some(d) => dgram = d,
                None => return,
            }
        }
        self.deliver_to_b(&dgram);
    }

    fn app(&mut self, a: &App) {
        let now = self.now;
        match *a {
            App::Send(h, n) => {
                if let Some(h) = self.handle(h) {
                    let data = vec![0x5a; n];
                    let _ = self.b.send(now, h, &data);
                }
            }
            App::Recv(h, n) => {
                if let Some(h) = self.handle(h) {
                    let mut buf = vec![0; n];
                    if let Ok(got) = self.b.recv(now, h, &mut buf) {
                        assert!(got <= n, "recv returned more than the buffer holds");
                    }
                }
            }
            App::Shutdown(h) => {
                if let Some(h) = self.handle(h) {
                    let _ = self.b.shutdown(now, h);
                }
            }
            App::Close(h) => {
                if let Some(h) = self.handle(h) {
                    let _ = self.b.close(now, h);
                }
            }
            App::Abort(h) => {
                if let Some(h) = self.handle(h) {
                    let _ = self.b.abort(now, h);
                }
            }
            App::Accept(l) => {
                let l = self.listeners[l % self.listeners.len()];
                while let Ok(c) = self.b.accept(l) {
                    self.handles.push(c);
                }
            }
            App::Connect(v6, port) => {
                let (local, remote) = if v6 { (B6, A6) } else { (B4, A4) };
                if let Ok(c) = self.b.connect(
                    now,
                    SocketAddr::new(local, 0),
                    SocketAddr::new(remote, port),
                ) {
                    self.handles.push(c);
                }
            }
            App::Nodelay(h, on) => {
                if let Some(h) = self.handle(h) {
                    let _ = self.b.set_nodelay(h, on);
                }
            }
            App::Keepalive(h, k) => {
                if let Some(h) = self.handle(h) {
                    let k = k.map(|(idle, interval, probes)| Keepalive {
                        idle: Duration::from_millis(idle),
                        interval: Duration::from_millis(interval),
                        probes,
                    });
                    let _ = self.b.set_keepalive(now, h, k);
                }
            }
            App::UserTimeout(h, ms) => {
                if let Some(h) = self.handle(h) {
                    let _ = self.b.set_user_timeout(h, Duration::from_millis(ms));
                }
            }
            App::Unlisten(l) => {
                let l = self.listeners[l % self.listeners.len()];
                let _ = self.b.unlisten(now, l);
            }
            App::Listen(port, backlog) => {
                if let Ok(l) = self.b.listen(
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
                    backlog,
                ) {
                    self.listeners.push(l);
                }
            }
            App::Queries(h) => {
                if let Some(h) = self.handle(h) {
                    let _ = self.b.state(h);
                    let _ = self.b.tuple(h);
                    let _ = self.b.close_reason(h);
                    let _ = self.b.readable_bytes(h);
                    let _ = self.b.send_capacity(h);
                    let _ = self.b.retransmissions(h);
                }
            }
        }
        self.drain();
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Raw(bytes) => self.deliver_to_b(bytes),
            Op::Mutate(t, i, v) => {
                if self.recent_from_a.is_empty() {
                    return;
                }
                let mut d = self.recent_from_a[t % self.recent_from_a.len()].clone();
                let i = i % d.len();
                d[i] = *v;
                self.deliver_to_b(&d);
            }
            Op::Segment(s) => self.segment(s),
            Op::Time(ms) => self.advance(self.now + Duration::from_millis(*ms)),
            Op::App(a) => self.app(a),
            Op::Exchange(n) => self.exchange(usize::from(*n)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_048,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_input_or_call_sequence_makes_the_endpoint_panic(
        ops in proptest::collection::vec(op(), 1..200)
    ) {
        if let Some(path) = std::env::var_os("SYNACK_CASE_LOG") {
            let _ = std::fs::write(path, format!("{ops:#?}"));
        }
        let mut w = World::new();
        for op in &ops {
            w.apply(op);
        }
        w.run_out();
    }
}

/// `B` at every limit at once (issue 7): every SYN is answered with a SYN cookie (no SYN
/// queue), and the connection table, TIME-WAIT table, buffer memory, out-of-order
/// ranges and challenge-ACK budgets are tiny, so the arbitrary inputs reach every
/// limit's code path.
fn hostile_server_config() -> Config {
    Config {
        max_syn_backlog: 0,
        max_connections: 6,
        max_time_wait: 2,
        max_buffer_memory: 100_000,
        max_out_of_order: 2,
        challenge_ack_limit: 5,
        challenge_ack_per_conn: 2,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_input_or_call_sequence_makes_an_endpoint_at_its_limits_panic(
        ops in proptest::collection::vec(op(), 1..200)
    ) {
        let mut w = World::with_server_config(hostile_server_config());
        for op in &ops {
            w.apply(op);
        }
        w.run_out();
        let s = w.b.endpoint_stats();
        prop_assert!(s.connections <= 6, "{:?}", s);
        prop_assert!(s.time_wait_records <= 2, "{:?}", s);
    }
}

#[test]
fn the_hostile_setup_opens_its_connections_through_syn_cookies() {
    let w = World::with_server_config(hostile_server_config());
    assert_eq!(w.b.connection_count(), 4);
    let s = w.b.endpoint_stats();
    assert_eq!(s.syn_cookies_validated, 4, "{s:?}");
}

#[test]
fn setup_opens_the_connections_the_fuzzer_aims_at() {
    let w = World::new();
    assert_eq!(w.tuples.len(), 4);
    assert_eq!(
        w.b.connection_count(),
        4,
        "B has the four accepted connections"
    );
    for (a, b) in &w.tuples {
        assert!(w.seen.contains_key(&(*a, *b)), "B has sent on {a} -> {b}");
    }
}

/// Regression: keep-alive parameters of zero (idle, interval) made the keep-alive timer
/// re-arm itself at `now` for ever inside `handle_timeout` while data was in flight.
#[test]
fn zero_keepalive_parameters_cannot_spin_handle_timeout() {
    let mut w = World::new();
    let h = w.handles[w.handles.len() - 1]; // one of B's accepted connections
    let now = w.now;
    w.b.send(now, h, &[1; 3000]).unwrap();
    w.drain(); // in flight, not yet acknowledged
    let zero = Keepalive {
        idle: Duration::ZERO,
        interval: Duration::ZERO,
        probes: 0,
    };
    let _ = w.b.set_keepalive(now, h, Some(zero));
    w.advance(now + Duration::from_millis(1));
    w.advance(now + Duration::from_millis(2));
    w.exchange(100);
    w.advance(w.now + Duration::from_secs(10));
}
