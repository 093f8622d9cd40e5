//! One test per TCP mechanism, each proving an RFC 9293 requirement (its ID is in the
//! test's comment) on the simulator's virtual clock, by looking at what went on the wire
//! (`Sim::packets`) and what the applications were told (`Endpoint::poll_event`).

use core::cell::Cell;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use std::rc::Rc;
use synack::{
    CloseReason, Config, ConnId, Error, Event, FourTuple, Instant, Keepalive, ListenerId, State,
};
use synack_sim::{FilterAction, HostId, LinkConfig, Outcome, Sim};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

const C4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const S4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const C6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
const S6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
const PORT: u16 = 80;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// RFC 9293 alone: no window scaling, timestamps or SACK (so no RACK-TLP either), and
/// fixed buffers, for tests that check the base mechanisms' exact numbers. (With
/// timestamps RFC 7323 §4 lets RTT samples come from retransmissions; a tail loss probe
/// adds a retransmission before the first timeout; scaling quantizes windows.)
fn classic() -> Config {
    let d = Config::default();
    Config {
        window_scaling: false,
        timestamps: false,
        sack: false,
        recv_buffer_max: d.recv_buffer,
        send_buffer_max: d.send_buffer,
        ..d
    }
}

// ---- A small harness over the simulator ----

/// Two hosts, a link, and every application event with the time it was read.
struct Net {
    sim: Sim,
    c: HostId,
    s: HostId,
    log: Vec<(Instant, HostId, Event)>,
}

fn pump(sim: &mut Sim, log: &mut Vec<(Instant, HostId, Event)>) {
    let hosts: Vec<HostId> = sim.hosts().collect();
    for h in hosts {
        while let Some(e) = sim.endpoint_mut(h).poll_event() {
            log.push((sim.now(), h, e));
        }
    }
}

impl Net {
    fn new(client: Config, server: Config, link: LinkConfig) -> Net {
        Net::with_addrs(client, server, link, C4, S4)
    }

    fn with_addrs(client: Config, server: Config, link: LinkConfig, ca: IpAddr, sa: IpAddr) -> Net {
        let mut sim = Sim::new(7);
        let c = sim.add_host("client", client, &[ca]);
        let s = sim.add_host("server", server, &[sa]);
        sim.link(c, s, link);
        Net {
            sim,
            c,
            s,
            log: Vec::new(),
        }
    }

    fn now(&self) -> Instant {
        self.sim.now()
    }

    fn server_addr(&self) -> SocketAddr {
        SocketAddr::new(self.sim.addresses(self.s)[0], PORT)
    }

    fn client_any(&self) -> SocketAddr {
        SocketAddr::new(self.sim.addresses(self.c)[0], 0)
    }

    /// Step while `cond` holds, at most until `limit`; events are logged as they come.
    fn run_while(
        &mut self,
        limit: Instant,
        mut cond: impl FnMut(&mut Sim, &[(Instant, HostId, Event)]) -> bool,
    ) {
        let log = &mut self.log;
        self.sim
            .run_while(|sim| {
                pump(sim, log);
                let go = cond(sim, log);
                // Put what application calls queued on the wire, so it counts as pending.
                sim.collect();
                go && sim.next_event_time().is_some_and(|t| t <= limit)
            })
            .expect("simulator step limit");
        pump(&mut self.sim, &mut self.log);
    }

    /// Run everything up to `now + d`.
    fn run_for(&mut self, d: Duration) {
        let end = self.now() + d;
        self.run_while(end, |_, _| true);
        self.sim.run_until(end).expect("simulator step limit");
        pump(&mut self.sim, &mut self.log);
    }

    fn events(&self, host: HostId) -> impl Iterator<Item = (Instant, Event)> + '_ {
        self.log
            .iter()
            .filter(move |(_, h, _)| *h == host)
            .map(|(t, _, e)| (*t, *e))
    }

    fn closed(&self, host: HostId, conn: ConnId) -> Option<(Instant, CloseReason)> {
        self.events(host).find_map(|(t, e)| match e {
            Event::Closed(c, r) if c == conn => Some((t, r)),
            _ => None,
        })
    }

    /// Listen, connect, run until the client is connected and the server accepted.
    fn establish(&mut self, backlog: usize) -> (ConnId, ConnId, ListenerId) {
        let addr = self.server_addr();
        let l = self.sim.endpoint_mut(self.s).listen(addr, backlog).unwrap();
        let (c, s) = self.connect(l);
        (c, s, l)
    }

    fn connect(&mut self, l: ListenerId) -> (ConnId, ConnId) {
        let now = self.now();
        let (local, remote) = (self.client_any(), self.server_addr());
        let c = self
            .sim
            .endpoint_mut(self.c)
            .connect(now, local, remote)
            .unwrap();
        let host = self.s;
        let mut accepted = None;
        let limit = now + secs(10);
        self.run_while(limit, |sim, log| {
            if accepted.is_none() {
                accepted = sim.endpoint_mut(host).accept(l).ok();
            }
            let connected = log
                .iter()
                .any(|(_, _, e)| matches!(e, Event::Connected(x) if *x == c));
            !(connected && accepted.is_some())
        });
        (c, accepted.expect("the server accepted the connection"))
    }

    fn send_all(&mut self, host: HostId, conn: ConnId, data: &[u8]) -> usize {
        let now = self.now();
        let mut sent = 0;
        while sent < data.len() {
            match self.sim.endpoint_mut(host).send(now, conn, &data[sent..]) {
                Ok(n) if n > 0 => sent += n,
                _ => break,
            }
        }
        sent
    }
}

/// Read everything readable now; `true` at end of stream.
fn read_into(sim: &mut Sim, host: HostId, conn: ConnId, out: &mut Vec<u8>, max: usize) -> bool {
    let now = sim.now();
    let mut buf = vec![0u8; max.max(1)];
    loop {
        match sim.endpoint_mut(host).recv(now, conn, &mut buf) {
            Ok(0) => return true,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if n < buf.len() || max < 65_536 {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// One datagram on the wire, parsed.
#[derive(Debug, Clone)]
struct Seg {
    sent: Instant,
    from: Option<HostId>,
    to: Option<HostId>,
    dst: IpAddr,
    tcp: TcpRepr,
    len: usize,
    delivered: Option<Instant>,
    rtx: bool,
}

impl Seg {
    fn flags(&self) -> TcpFlags {
        self.tcp.flags
    }
    fn is_data(&self) -> bool {
        self.len > 0
    }
    fn right_edge(&self) -> u32 {
        self.tcp.ack.wrapping_add(u32::from(self.tcp.window))
    }
}

fn segs(sim: &Sim) -> Vec<Seg> {
    sim.packets()
        .iter()
        .filter(|p| p.duplicate_of.is_none())
        .filter_map(|p| {
            let pkt = p.parse()?;
            Some(Seg {
                sent: p.sent_at,
                from: p.from,
                to: p.to,
                dst: pkt.dst,
                tcp: pkt.tcp,
                len: pkt.payload.len(),
                delivered: match p.outcome {
                    Outcome::Delivered { at } => Some(at),
                    _ => None,
                },
                rtx: p.retransmission,
            })
        })
        .collect()
}

fn segs_from(sim: &Sim, host: HostId) -> Vec<Seg> {
    segs(sim)
        .into_iter()
        .filter(|s| s.from == Some(host))
        .collect()
}

/// With `SYNACK_DUMP` set, print every datagram (a debugging aid for failing tests).
#[allow(dead_code)]
fn dump(sim: &Sim) {
    if std::env::var_os("SYNACK_DUMP").is_none() {
        return;
    }
    for x in segs(sim) {
        eprintln!(
            "{:>14} {:?}->{:?} {:?} seq={} ack={} win={} len={} rtx={} delivered={:?}",
            x.sent.to_string(),
            x.from.map(|h| h.index()),
            x.to.map(|h| h.index()),
            x.tcp.flags,
            x.tcp.seq,
            x.tcp.ack,
            x.tcp.window,
            x.len,
            x.rtx,
            x.delivered.map(|d| d.to_string())
        );
    }
}

/// Wrapping sequence comparison: a < b.
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// A filter that drops the next `budget` data segments (and lets everything else pass).
fn drop_data(budget: Rc<Cell<u32>>) -> impl FnMut(&synack_sim::FilterContext<'_>) -> FilterAction {
    move |ctx| {
        if ctx.payload_len() > 0 && budget.get() > 0 {
            budget.set(budget.get() - 1);
            FilterAction::Drop
        } else {
            FilterAction::Deliver
        }
    }
}

// ---- Retransmission timer ----

/// MUST-18 (RFC 6298 with Karn's rule) and MUST-19 (exponential backoff).
///
/// The path has a 100 ms round trip and the receiver ACKs at once, so the handshake's
/// sample gives SRTT = 100 ms, RTTVAR = 50 ms, RTO = 300 ms. Then:
/// 1. X is dropped four times: it is resent after 300, 600, 1200 and 2400 ms (doubling).
/// 2. Y, the next new segment, is dropped once. X's ACK gave no RTT sample (Karn), so the
///    backed-off RTO (16 × 300 ms) stays until a valid sample (RFC 6298 §5 note; Karn and
///    Partridge's timer backoff; Linux keeps `icsk_rto` the same way).
/// 3. Z goes through: a valid 100 ms sample collapses the RTO to 100 + 4 × 37.5 = 250 ms.
/// 4. W is dropped once and resent after exactly 250 ms, which also shows that neither
///    X's nor Y's ambiguous ACK was ever taken as a sample (either would have made SRTT
///    seconds long).
#[test]
fn rto_doubles_on_each_timeout_and_karn_keeps_ambiguous_acks_out_of_the_estimate() {
    let client = Config {
        nodelay: true,
        ..classic()
    };
    let server = Config {
        delayed_ack: Duration::ZERO,
        ..classic()
    };
    let mut net = Net::new(client, server, LinkConfig::default().latency(ms(50)));
    let (c, s, _) = net.establish(4);
    let budget = Rc::new(Cell::new(0));
    net.sim.set_filter(net.c, net.s, drop_data(budget.clone()));
    let mut got = Vec::new();
    let mut phase = |net: &mut Net, byte: u8, drops: u32| -> Vec<Instant> {
        budget.set(drops);
        let start = net.now();
        assert_eq!(net.send_all(net.c, c, &[byte; 100]), 100);
        net.run_for(secs(20));
        read_into(&mut net.sim, net.s, s, &mut got, 65_536);
        segs_from(&net.sim, net.c)
            .into_iter()
            .filter(|x| x.is_data() && x.sent >= start)
            .map(|x| x.sent)
            .collect()
    };
    let gaps = |times: &[Instant]| -> Vec<Duration> {
        times
            .windows(2)
            .map(|w| w[1].saturating_since(w[0]))
            .collect()
    };
    let x = phase(&mut net, b'x', 4);
    assert_eq!(x.len(), 5, "X sent once and retransmitted four times");
    assert_eq!(
        gaps(&x),
        [ms(300), ms(600), ms(1200), ms(2400)],
        "MUST-19: RTO doubles"
    );
    let y = phase(&mut net, b'y', 1);
    assert_eq!(y.len(), 2);
    assert_eq!(
        gaps(&y),
        [ms(4800)],
        "Karn: without a valid sample the backed-off RTO is kept"
    );
    let z = phase(&mut net, b'z', 0);
    assert_eq!(z.len(), 1, "Z needs no retransmission");
    let w = phase(&mut net, b'w', 1);
    assert_eq!(
        gaps(&w),
        [ms(250)],
        "MUST-18: RTO = SRTT + 4·RTTVAR from valid samples only (100 ms, 37.5 ms)"
    );
    let expected: Vec<u8> = [b'x', b'y', b'z', b'w']
        .iter()
        .flat_map(|b| [*b; 100])
        .collect();
    assert_eq!(got, expected);
    assert_eq!(net.sim.endpoint(net.c).retransmissions(c), 4 + 1 + 1);
}

// ---- R1 and R2 ----

/// MUST-20, MUST-21, SHLD-9, SHLD-10: after R1 = 3 retransmissions the application gets
/// `RetransmitThreshold`; with R2 set to 20 s by the application and the path dead, the
/// connection closes with `TimedOut` once 20 s of retransmission have passed, and
/// `recv`/`send` report `Error::TimedOut` (MUST-12).
#[test]
fn r1_warns_after_three_retransmissions_and_user_timeout_r2_closes_with_timed_out() {
    assert!(
        Config::default().r2_data >= secs(100),
        "SHLD-11: R2 of at least 100 s"
    );
    assert!(Config::default().r1_retransmissions >= 3, "SHLD-10");
    for (config, exact) in [(classic(), true), (Config::default(), false)] {
        let mut net = Net::new(config.clone(), config.clone(), LinkConfig::default());
        let (c, _s, _) = net.establish(4);
        net.sim
            .endpoint_mut(net.c)
            .set_user_timeout(c, secs(20))
            .unwrap();
        // The path dies.
        net.sim.set_filter(net.c, net.s, |_| FilterAction::Drop);
        net.sim.set_filter(net.s, net.c, |_| FilterAction::Drop);
        let start = net.now();
        net.send_all(net.c, c, &[7; 1000]);
        let host = net.c;
        net.run_while(start + secs(600), |_, log| {
            !log.iter()
                .any(|(_, h, e)| *h == host && matches!(e, Event::Closed(..)))
        });
        let rtx: Vec<Instant> = segs_from(&net.sim, net.c)
            .into_iter()
            .filter(|x| x.is_data() && x.rtx)
            .map(|x| x.sent)
            .collect();
        let warned = net
            .events(net.c)
            .find_map(|(t, e)| matches!(e, Event::RetransmitThreshold(x) if x == c).then_some(t))
            .expect("MUST-20: RetransmitThreshold event at R1");
        let before = rtx.iter().filter(|t| **t <= warned).count();
        if exact {
            assert_eq!(
                before, 3,
                "the R1 advice comes with the third retransmission"
            );
        } else {
            // A tail loss probe (RFC 8985) may come before the timeouts.
            assert!(
                (3..=4).contains(&before),
                "R1 after {before} retransmissions"
            );
        }
        let (closed_at, reason) = net.closed(net.c, c).expect("closed at R2");
        assert_eq!(reason, CloseReason::TimedOut);
        // R2 counts from the segment's first transmission (Linux's TCP_USER_TIMEOUT does
        // too); it may end at R2 exactly or at the first timeout after it.
        let outstanding = closed_at.saturating_since(start);
        assert!(
            outstanding >= secs(20) && outstanding <= secs(20) + ms(12_800),
            "R2 = 20 s, not {outstanding:?} (retransmissions at {rtx:?})"
        );
        let now = net.now();
        let mut buf = [0u8; 16];
        assert_eq!(
            net.sim.endpoint_mut(net.c).recv(now, c, &mut buf),
            Err(Error::TimedOut)
        );
        assert_eq!(
            net.sim.endpoint_mut(net.c).send(now, c, b"x"),
            Err(Error::TimedOut)
        );
    }
}

/// MUST-22, MUST-23: SYN retransmission follows the same R1/R2 procedure, and R2 for a
/// SYN allows at least three minutes.
#[test]
fn syn_retransmission_warns_at_r1_and_gives_up_only_after_three_minutes() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    net.sim.set_filter(net.c, net.s, |_| FilterAction::Drop);
    let now = net.now();
    let (local, remote) = (net.client_any(), net.server_addr());
    let c = net
        .sim
        .endpoint_mut(net.c)
        .connect(now, local, remote)
        .unwrap();
    let host = net.c;
    net.run_while(now + secs(3600), |_, log| {
        !log.iter()
            .any(|(_, h, e)| *h == host && matches!(e, Event::Closed(..)))
    });
    let syns: Vec<Instant> = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.flags().syn())
        .map(|x| x.sent)
        .collect();
    let warned = net
        .events(net.c)
        .find_map(|(t, e)| matches!(e, Event::RetransmitThreshold(x) if x == c).then_some(t))
        .expect("MUST-22: R1 applies to SYNs too");
    assert_eq!(syns.iter().filter(|t| **t <= warned).count(), 1 + 3);
    let (closed_at, reason) = net.closed(net.c, c).expect("the SYN gives up at R2");
    assert_eq!(reason, CloseReason::TimedOut);
    assert!(
        closed_at.saturating_since(now) >= secs(180),
        "MUST-23: at least 3 minutes of SYN retransmission, not {closed_at}"
    );
    assert!(
        syns.len() >= 6,
        "the SYN kept being retransmitted: {}",
        syns.len()
    );
}

// ---- Zero window and persist ----

/// MUST-34, MUST-35, MUST-36, MUST-37, SHLD-29, SHLD-30: the receiving application does not
/// read for 30 minutes. The sender fills the 64 KiB window and stops there, probes the
/// zero window after an RTO with exponentially growing intervals (capped), the connection
/// stays open although the window stays zero far longer than R2 (15 min), and when the
/// application finally reads, the window update lets the transfer finish with every byte
/// intact.
#[test]
fn zero_window_is_probed_with_backoff_and_transfer_resumes_when_the_reader_reads() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    let data = pattern(300_000);
    let mut sent = net.send_all(net.c, c, &data);
    let start = net.now();
    let first_seq = segs_from(&net.sim, net.c)
        .last()
        .map(|x| x.tcp.seq)
        .unwrap();
    net.run_for(secs(30 * 60));
    assert_eq!(
        net.sim.endpoint(net.c).state(c),
        Some(State::Established),
        "MUST-37"
    );
    assert_eq!(net.sim.endpoint(net.s).state(s), Some(State::Established));
    assert!(net.closed(net.c, c).is_none());
    let server_segs = segs_from(&net.sim, net.s);
    let window_closed_at = server_segs
        .iter()
        .find(|x| x.sent > start && x.tcp.window == 0)
        .map(|x| x.delivered.unwrap())
        .expect("the window closed");
    let right_edge = server_segs
        .iter()
        .filter(|x| x.sent > start)
        .map(|x| x.right_edge())
        .max_by(|a, b| {
            if seq_lt(*a, *b) {
                core::cmp::Ordering::Less
            } else {
                core::cmp::Ordering::Greater
            }
        })
        .unwrap();
    let client_data: Vec<Seg> = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.is_data())
        .collect();
    for x in &client_data {
        let end = x.tcp.seq.wrapping_add(x.len as u32);
        let probe = x.len == 1 && x.sent > window_closed_at;
        assert!(
            probe || !seq_lt(right_edge, end),
            "data beyond the offered window (MUST-34): {x:?}"
        );
    }
    let probes: Vec<Instant> = client_data
        .iter()
        .filter(|x| x.sent > window_closed_at)
        .map(|x| {
            assert_eq!(x.len, 1, "a zero-window probe carries one byte");
            x.sent
        })
        .collect();
    assert!(
        probes.len() >= 20,
        "probed all along: {} probes",
        probes.len()
    );
    let first = probes[0].saturating_since(window_closed_at);
    assert!(
        first >= ms(200),
        "SHLD-29: the first probe waits an RTO, not {first:?}"
    );
    let gaps: Vec<Duration> = probes
        .windows(2)
        .map(|w| w[1].saturating_since(w[0]))
        .collect();
    for w in gaps.windows(2) {
        // Doubling, up to a cap of one minute.
        assert_eq!(
            w[1],
            (w[0] * 2).min(secs(60)),
            "SHLD-30: exponential backoff: {gaps:?}"
        );
    }
    assert_eq!(
        *gaps.last().unwrap(),
        secs(60),
        "backoff is capped: {gaps:?}"
    );
    assert!(probes.iter().all(|t| *t > start));
    assert!(seq_lt(first_seq.wrapping_sub(1), right_edge));
    // Every probe was answered, with a zero window.
    let answers = server_segs
        .iter()
        .filter(|x| x.sent > window_closed_at && x.tcp.window == 0)
        .count();
    assert!(answers >= probes.len());
    // The reader wakes up.
    let mut got = Vec::new();
    let (ch, sh) = (net.c, net.s);
    net.run_while(net.now() + secs(600), |sim, _| {
        read_into(sim, sh, s, &mut got, 65_536);
        if sent < data.len() {
            let now = sim.now();
            if let Ok(n) = sim.endpoint_mut(ch).send(now, c, &data[sent..]) {
                sent += n;
            }
        }
        got.len() < data.len()
    });
    assert_eq!(got.len(), data.len());
    assert!(got == data, "every byte arrives intact and in order");
}

// ---- Silly window syndrome ----

/// MUST-39 (receiver) and MUST-38 (sender): the receiving application reads 100 bytes at a
/// time. The receiver never moves its window's right edge forward by less than
/// min(buffer / 2, MSS) (nor ever back, SHLD-14); the sender never answers a small window
/// with a small segment — a segment shorter than the MSS goes out only as the last piece
/// of the data or when the override (persist) timer fires, never on an ACK's arrival.
#[test]
fn slow_reader_gets_no_tiny_window_updates_and_the_sender_sends_no_tiny_segments() {
    let server = Config {
        recv_buffer: 8192,
        recv_buffer_max: 8192,
        ..classic()
    };
    let mut net = Net::new(classic(), server, LinkConfig::default().latency(ms(5)));
    let (c, s, _) = net.establish(4);
    let data = pattern(100_000);
    assert_eq!(net.send_all(net.c, c, &data), data.len());
    let mut got = Vec::new();
    let limit = net.now() + secs(600);
    while got.len() < data.len() && net.now() < limit {
        read_into(&mut net.sim, net.s, s, &mut got, 100);
        net.run_for(ms(10));
    }
    assert!(got == data, "read {} of {}", got.len(), data.len());
    let mss = 1460u32;
    let threshold = mss.min(8192 / 2);
    let server_segs: Vec<Seg> = segs_from(&net.sim, net.s)
        .into_iter()
        .filter(|x| x.flags().ack() && !x.flags().syn() && !x.flags().rst())
        .collect();
    let mut small_windows = 0;
    for w in server_segs.windows(2) {
        let (a, b) = (w[0].right_edge(), w[1].right_edge());
        assert!(
            !seq_lt(b, a),
            "SHLD-14: the right edge moved left: {:?} -> {:?}",
            w[0],
            w[1]
        );
        let step = b.wrapping_sub(a);
        assert!(
            step == 0 || step >= threshold,
            "MUST-39: the right edge moved by {step} (< {threshold}): {:?} -> {:?}",
            w[0].tcp,
            w[1].tcp
        );
        if w[1].tcp.window > 0 && u32::from(w[1].tcp.window) < mss {
            small_windows += 1;
        }
    }
    assert!(
        small_windows > 10,
        "the test offered the sender small windows ({small_windows})"
    );
    // Sender side.
    let arrivals: Vec<Instant> = segs_from(&net.sim, net.s)
        .iter()
        .filter_map(|x| x.delivered)
        .collect();
    let client_data: Vec<Seg> = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.is_data())
        .collect();
    let last_end = client_data
        .iter()
        .map(|x| x.tcp.seq.wrapping_add(x.len as u32))
        .max_by(|a, b| {
            if seq_lt(*a, *b) {
                core::cmp::Ordering::Less
            } else {
                core::cmp::Ordering::Greater
            }
        })
        .unwrap();
    let mut small = 0;
    for x in &client_data {
        if x.len as u32 >= mss || x.tcp.seq.wrapping_add(x.len as u32) == last_end {
            continue;
        }
        small += 1;
        assert!(
            !arrivals.contains(&x.sent),
            "MUST-38: a {}-byte segment was sent in answer to an ACK at {}",
            x.len,
            x.sent
        );
    }
    let full = client_data.iter().filter(|x| x.len as u32 == mss).count();
    assert!(
        small * 4 < full,
        "mostly full-sized segments: {small} small, {full} full"
    );
}

// ---- Nagle ----

/// SHLD-7 and MUST-17: 40 writes of 10 bytes, one every 5 ms, over a 100 ms round trip.
/// With Nagle (the default) at most one small segment is unacknowledged at a time, so the
/// writes coalesce; with `set_nodelay(true)` on that one connection every write leaves at
/// once as its own segment.
#[test]
fn nagle_keeps_one_small_segment_in_flight_and_nodelay_sends_each_write_at_once() {
    for nodelay in [false, true] {
        let mut net = Net::new(
            Config::default(),
            Config::default(),
            LinkConfig::default().latency(ms(50)),
        );
        let (c, s, _) = net.establish(4);
        net.sim.endpoint_mut(net.c).set_nodelay(c, nodelay).unwrap();
        let start = net.now();
        let mut writes = Vec::new();
        let mut got = Vec::new();
        for i in 0..40u8 {
            net.run_for(ms(5));
            writes.push(net.now());
            assert_eq!(net.send_all(net.c, c, &[i; 10]), 10);
            read_into(&mut net.sim, net.s, s, &mut got, 65_536);
        }
        net.run_for(secs(2));
        read_into(&mut net.sim, net.s, s, &mut got, 65_536);
        let expected: Vec<u8> = (0..40u8).flat_map(|i| [i; 10]).collect();
        assert_eq!(got, expected);
        let data: Vec<Seg> = segs_from(&net.sim, net.c)
            .into_iter()
            .filter(|x| x.is_data() && x.sent >= start)
            .collect();
        let acks: Vec<Seg> = segs_from(&net.sim, net.s)
            .into_iter()
            .filter(|x| x.sent >= start)
            .collect();
        if nodelay {
            assert_eq!(
                data.len(),
                40,
                "MUST-17: with Nagle off each write is a segment"
            );
            for (seg, at) in data.iter().zip(&writes) {
                assert_eq!(seg.len, 10);
                assert_eq!(seg.sent, *at, "sent the moment it was written");
            }
        } else {
            assert!(
                data.len() < 10,
                "Nagle coalesces small writes: {} segments",
                data.len()
            );
            assert_eq!(data[0].len, 10, "the first small write goes at once");
            for w in data.windows(2) {
                // Everything before the later segment was acknowledged when it left.
                let acked = acks.iter().any(|a| {
                    a.delivered.is_some_and(|d| d <= w[1].sent) && !seq_lt(a.tcp.ack, w[1].tcp.seq)
                });
                assert!(
                    acked,
                    "SHLD-7: two small segments in flight: {:?}",
                    w[1].tcp
                );
            }
        }
    }
}

// ---- Delayed ACKs ----

/// SHLD-18, SHLD-19, MUST-40: a single small segment is acknowledged after the delayed-ACK
/// time (40 ms, well under 0.5 s), not at once; during a bulk transfer the receiver
/// acknowledges at least every second full-sized segment (full-sized: the MSS less the
/// options every segment carries), and not every segment (ACKs, window updates after
/// reads included, number well under one per segment).
#[test]
fn acks_are_delayed_but_every_second_full_segment_is_acked_at_once() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    net.run_for(secs(1));
    let start = net.now();
    net.send_all(net.c, c, &[1; 100]);
    net.run_for(secs(1));
    let data = segs_from(&net.sim, net.c)
        .into_iter()
        .find(|x| x.is_data() && x.sent >= start)
        .unwrap();
    let arrived = data.delivered.unwrap();
    let ack = segs_from(&net.sim, net.s)
        .into_iter()
        .find(|x| x.sent >= start)
        .expect("the segment was acknowledged");
    assert_eq!(ack.tcp.ack, data.tcp.seq.wrapping_add(100));
    assert_eq!(
        ack.sent.saturating_since(arrived),
        net.sim.endpoint(net.s).config().delayed_ack,
        "SHLD-18: the ACK waited for the delayed-ACK timer"
    );
    assert!(ack.sent.saturating_since(arrived) < ms(500), "MUST-40");
    // Bulk.
    let mut got = Vec::new();
    read_into(&mut net.sim, net.s, s, &mut got, 65_536);
    let start = net.now();
    let bulk = pattern(200_000);
    let mut sent = 0;
    let (ch, sh) = (net.c, net.s);
    net.run_while(start + secs(60), |sim, _| {
        let now = sim.now();
        if sent < bulk.len() {
            if let Ok(n) = sim.endpoint_mut(ch).send(now, c, &bulk[sent..]) {
                sent += n;
            }
        }
        read_into(sim, sh, s, &mut got, 65_536);
        got.len() < 100 + bulk.len()
    });
    assert_eq!(&got[100..], &bulk[..]);
    // The largest data segment is a full one (1460 less any options every segment has).
    let mss = segs_from(&net.sim, net.c)
        .iter()
        .map(|x| x.len as u32)
        .max()
        .unwrap();
    let acks: Vec<Seg> = segs_from(&net.sim, net.s)
        .into_iter()
        .filter(|x| x.sent >= start && x.len == 0)
        .collect();
    let full = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.sent >= start && x.len as u32 == mss)
        .count();
    for w in acks.windows(2) {
        let advance = w[1].tcp.ack.wrapping_sub(w[0].tcp.ack);
        assert!(
            advance <= 2 * mss,
            "SHLD-19: {advance} bytes acknowledged at once (more than two full segments)"
        );
    }
    let advancing = acks
        .windows(2)
        .filter(|w| w[1].tcp.ack != w[0].tcp.ack)
        .count();
    assert!(
        advancing * 4 < full * 3,
        "SHLD-18: ACKs are delayed/combined ({advancing} ACKs for {full} segments)"
    );
}

// ---- MSS ----

/// MUST-14, MUST-16, SHLD-5: both SYNs carry an MSS option derived from the MTU, and
/// against a peer with a 1000-byte MTU no segment in either direction exceeds 960 bytes.
#[test]
fn both_syns_carry_mss_and_segments_never_exceed_the_smaller_mss() {
    let server = Config {
        mtu: 1000,
        ..Config::default()
    };
    let mut net = Net::new(Config::default(), server, LinkConfig::default());
    let (c, s, _) = net.establish(4);
    let all = segs(&net.sim);
    let syn = all
        .iter()
        .find(|x| x.flags().syn() && !x.flags().ack())
        .unwrap();
    let syn_ack = all
        .iter()
        .find(|x| x.flags().syn() && x.flags().ack())
        .unwrap();
    assert_eq!(syn.tcp.options.mss, Some(1460), "client SYN: 1500 - 40");
    assert_eq!(
        syn_ack.tcp.options.mss,
        Some(960),
        "server SYN-ACK: 1000 - 40"
    );
    let data = pattern(50_000);
    net.send_all(net.c, c, &data);
    net.send_all(net.s, s, &data);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (ch, sh) = (net.c, net.s);
    net.run_while(net.now() + secs(60), |sim, _| {
        read_into(sim, sh, s, &mut a, 65_536);
        read_into(sim, ch, c, &mut b, 65_536);
        a.len() < data.len() || b.len() < data.len()
    });
    assert!(a == data && b == data);
    let all = segs(&net.sim);
    // MUST-16: data plus TCP options never exceed the MSS (which counts no options), so
    // no datagram exceeds the smaller MTU.
    for x in &all {
        assert!(x.len + x.tcp.options.wire_len() <= 960, "MUST-16: {x:?}");
    }
    for p in net.sim.packets() {
        assert!(p.bytes.len() <= 1000, "a {}-byte datagram", p.bytes.len());
    }
    let full = all.iter().map(|x| x.len).max().unwrap();
    assert!(full >= 960 - 12, "full segments used ({full})");
    assert!(all.iter().any(|x| x.from == Some(net.c) && x.len == full));
    assert!(all.iter().any(|x| x.from == Some(net.s) && x.len == full));
    assert!(
        all.iter()
            .all(|x| x.flags().syn() || x.tcp.options.mss.is_none()),
        "MUST-65: no MSS option outside SYNs"
    );
}

/// Complete a handshake with a listener by injected segments from `peer`, whose SYN
/// carries `syn_options`; returns the accepted connection.
fn inject_handshake(
    sim: &mut Sim,
    server: HostId,
    l: ListenerId,
    peer: SocketAddr,
    local: SocketAddr,
    syn_options: TcpOptions,
) -> ConnId {
    let mut buf = vec![0u8; 1500];
    let mut syn = TcpRepr {
        src_port: peer.port(),
        dst_port: local.port(),
        seq: 1000,
        ack: 0,
        flags: TcpFlags::SYN,
        window: 65_535,
        urgent: 0,
        options: syn_options,
    };
    let n = synack_wire::emit_packet(&mut buf, peer.ip(), local.ip(), 64, &syn, &[]).unwrap();
    let now = sim.now();
    sim.inject(server, now, buf[..n].to_vec());
    sim.run_for(ms(1)).unwrap();
    let syn_ack = segs(sim)
        .into_iter()
        .find(|x| x.dst == peer.ip() && x.flags().syn() && x.flags().ack())
        .expect("a SYN-ACK to the injected SYN");
    assert!(
        syn_ack.tcp.options.mss.is_some(),
        "MUST-14: the SYN-ACK carries our MSS"
    );
    syn.seq = 1001;
    syn.ack = syn_ack.tcp.seq.wrapping_add(1);
    syn.flags = TcpFlags::ACK;
    syn.options = TcpOptions::default();
    let n = synack_wire::emit_packet(&mut buf, peer.ip(), local.ip(), 64, &syn, &[]).unwrap();
    let now = sim.now();
    sim.inject(server, now, buf[..n].to_vec());
    sim.run_for(ms(1)).unwrap();
    sim.endpoint_mut(server)
        .accept(l)
        .expect("handshake completed")
}

/// MUST-15: a SYN without an MSS option means the peer takes 536 bytes (IPv4) or 1220
/// bytes (IPv6) per segment, whatever our own MTU allows.
#[test]
fn without_an_mss_option_we_send_at_most_536_bytes_over_ipv4_and_1220_over_ipv6() {
    for (server_ip, peer_ip, limit) in [
        (S4, IpAddr::V4(Ipv4Addr::new(198, 18, 0, 99)), 536),
        (
            S6,
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99)),
            1220,
        ),
    ] {
        let mut sim = Sim::new(1);
        let server = sim.add_host("server", Config::default(), &[server_ip]);
        let local = SocketAddr::new(server_ip, PORT);
        let l = sim.endpoint_mut(server).listen(local, 4).unwrap();
        let peer = SocketAddr::new(peer_ip, 5555);
        let conn = inject_handshake(&mut sim, server, l, peer, local, TcpOptions::default());
        let now = sim.now();
        assert_eq!(
            sim.endpoint_mut(server).send(now, conn, &pattern(20_000)),
            Ok(20_000)
        );
        sim.run_for(ms(10)).unwrap();
        let data: Vec<Seg> = segs(&sim)
            .into_iter()
            .filter(|x| x.dst == peer_ip && x.is_data())
            .collect();
        assert!(data.len() >= 5, "the first flight went out");
        assert!(
            data.iter().all(|x| x.len <= limit),
            "MUST-15: at most {limit} bytes"
        );
        assert!(
            data.iter().any(|x| x.len == limit),
            "full {limit}-byte segments"
        );
    }
}

// ---- Reordering ----

/// SHLD-31: segments that arrive out of order are kept, not dropped: with reordering only
/// (one segment in seven held back by 2 ms on a 10 Mbit/s link, so one or two later
/// segments overtake it) and no loss, the sender never retransmits anything.
#[test]
fn out_of_order_segments_are_queued_so_reordering_alone_causes_no_retransmission() {
    let link = LinkConfig::default().latency(ms(20)).rate(10_000_000);
    let mut net = Net::new(Config::default(), Config::default(), link);
    let (c, s, _) = net.establish(4);
    let n = Rc::new(Cell::new(0u32));
    let counter = n.clone();
    net.sim.set_filter(net.c, net.s, move |ctx| {
        if ctx.payload_len() > 0 {
            counter.set(counter.get() + 1);
            if counter.get() % 7 == 3 {
                return FilterAction::Delay(ms(2));
            }
        }
        FilterAction::Deliver
    });
    let data = pattern(300_000);
    let mut sent = 0;
    let mut got = Vec::new();
    let (ch, sh) = (net.c, net.s);
    net.run_while(net.now() + secs(120), |sim, _| {
        let now = sim.now();
        if sent < data.len() {
            if let Ok(k) = sim.endpoint_mut(ch).send(now, c, &data[sent..]) {
                sent += k;
            }
        }
        read_into(sim, sh, s, &mut got, 65_536);
        got.len() < data.len()
    });
    assert!(got == data);
    // The reordering happened: data arrived beyond a hole many times.
    let mut arrivals: Vec<Seg> = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.is_data())
        .collect();
    arrivals.sort_by_key(|x| x.delivered);
    let mut next = arrivals[0].tcp.seq;
    let mut out_of_order = 0;
    for x in &arrivals {
        if seq_lt(next, x.tcp.seq) {
            out_of_order += 1;
        }
        let end = x.tcp.seq.wrapping_add(x.len as u32);
        if seq_lt(next, end) && !seq_lt(next, x.tcp.seq) {
            next = end;
        }
    }
    assert!(out_of_order >= 20, "reordered {out_of_order} times");
    assert!(n.get() > 100);
    assert_eq!(
        net.sim.retransmissions(net.c),
        0,
        "SHLD-31: nothing was resent"
    );
    assert_eq!(net.sim.endpoint(net.c).retransmissions(c), 0);
}

// ---- Keep-alive ----

/// MUST-25, MUST-28: keep-alive is off by default (an idle connection sends nothing for
/// ten hours) and its default idle time is at least two hours.
#[test]
fn keepalive_is_off_by_default_and_an_idle_connection_stays_silent_for_hours() {
    assert_eq!(Config::default().keepalive, None, "MUST-25");
    assert!(Keepalive::default().idle >= secs(2 * 3600), "MUST-28");
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    net.run_for(secs(1));
    let before = net.sim.packets().len();
    net.run_for(secs(10 * 3600));
    assert_eq!(
        net.sim.packets().len(),
        before,
        "not one segment in ten idle hours"
    );
    assert_eq!(net.sim.endpoint(net.c).state(c), Some(State::Established));
    assert_eq!(net.sim.endpoint(net.s).state(s), Some(State::Established));
}

/// MUST-24, MUST-26, MUST-27, SHLD-12: switched on for one connection, keep-alive probes
/// (no data, SEQ = SND.NXT − 1) go out only after the configured idle time, the peer
/// answers them and the connection stays open; MUST-29: a dead peer is declared dead
/// (`TimedOut`) only after several unanswered probes, not one.
#[test]
fn keepalive_probes_an_idle_peer_and_declares_a_dead_one_dead_only_after_several_probes() {
    let ka = Keepalive {
        idle: secs(60),
        interval: secs(10),
        probes: 3,
    };
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    net.run_for(secs(1));
    let on = net.now();
    net.sim
        .endpoint_mut(net.c)
        .set_keepalive(on, c, Some(ka))
        .unwrap();
    net.run_for(secs(10 * 60));
    let probes: Vec<Seg> = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.sent > on)
        .collect();
    assert!(
        probes.len() >= 9 && probes.len() <= 11,
        "about one probe a minute: {}",
        probes.len()
    );
    let last_activity = segs(&net.sim)
        .iter()
        .filter(|x| x.sent <= on && x.to == Some(net.c))
        .map(|x| x.delivered.unwrap_or(x.sent))
        .max()
        .unwrap();
    assert!(
        probes[0].sent.saturating_since(last_activity) >= secs(60),
        "MUST-26"
    );
    for p in &probes {
        assert_eq!(p.len, 0, "SHLD-12: no data in a probe");
        assert!(p.delivered.is_some());
    }
    let answers = segs_from(&net.sim, net.s)
        .into_iter()
        .filter(|x| x.sent > on)
        .count();
    assert_eq!(answers, probes.len(), "every probe answered");
    assert_eq!(net.sim.endpoint(net.c).state(c), Some(State::Established));
    assert!(net.closed(net.c, c).is_none());
    // The peer dies.
    net.sim.set_filter(net.s, net.c, |_| FilterAction::Drop);
    let died = net.now();
    let host = net.c;
    net.run_while(died + secs(3600), |_, log| {
        !log.iter()
            .any(|(_, h, e)| *h == host && matches!(e, Event::Closed(..)))
    });
    let (closed_at, reason) = net.closed(net.c, c).expect("declared dead");
    assert_eq!(reason, CloseReason::TimedOut);
    let unanswered = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.sent > died && x.sent <= closed_at)
        .count();
    assert!(
        unanswered >= 2,
        "MUST-29: more than one unanswered probe ({unanswered})"
    );
    assert_eq!(unanswered, 3, "the configured number of probes");
    let now = net.now();
    let mut buf = [0u8; 8];
    assert_eq!(
        net.sim.endpoint_mut(net.c).recv(now, c, &mut buf),
        Err(Error::TimedOut)
    );
    let _ = s;
}

// ---- Closing: Normal, Reset, TimedOut (MUST-12) ----

/// MUST-12: after a normal four-way close both applications are told `Normal` (the
/// passive closer when its FIN is acknowledged, the active one when TIME-WAIT ends) and
/// read end of stream, not an error.
#[test]
fn orderly_close_is_reported_as_normal_to_both_applications() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    let now = net.now();
    net.sim.endpoint_mut(net.c).shutdown(now, c).unwrap();
    net.run_for(secs(1));
    let mut buf = [0u8; 8];
    let now = net.now();
    assert_eq!(net.sim.endpoint_mut(net.s).recv(now, s, &mut buf), Ok(0));
    assert!(net.events(net.s).any(|(_, e)| e == Event::PeerClosed(s)));
    net.sim.endpoint_mut(net.s).shutdown(now, s).unwrap();
    net.run_for(secs(1));
    assert_eq!(net.closed(net.s, s).map(|x| x.1), Some(CloseReason::Normal));
    assert_eq!(net.sim.endpoint(net.c).state(c), Some(State::TimeWait));
    net.run_for(secs(61));
    assert_eq!(net.closed(net.c, c).map(|x| x.1), Some(CloseReason::Normal));
    let now = net.now();
    assert_eq!(net.sim.endpoint_mut(net.c).recv(now, c, &mut buf), Ok(0));
    assert_eq!(net.sim.endpoint_mut(net.s).recv(now, s, &mut buf), Ok(0));
}

/// SHLD-3 and MUST-12: closing with unread data sends a RST (not a FIN), and the peer's
/// application is told `Reset` and gets `ConnectionReset`.
#[test]
fn close_with_unread_data_sends_rst_and_the_peer_learns_reset() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    net.send_all(net.s, s, &[9; 1000]);
    net.run_for(secs(1));
    assert_eq!(net.sim.endpoint(net.c).readable_bytes(c), 1000);
    let closed_at = net.now();
    net.sim.endpoint_mut(net.c).close(closed_at, c).unwrap();
    net.run_for(secs(1));
    let after: Vec<Seg> = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.sent >= closed_at)
        .collect();
    assert!(
        after.iter().any(|x| x.flags().rst()),
        "SHLD-3: RST on close with unread data"
    );
    assert!(
        after.iter().all(|x| !x.flags().fin()),
        "no FIN: the data was lost"
    );
    assert_eq!(net.closed(net.s, s).map(|x| x.1), Some(CloseReason::Reset));
    let now = net.now();
    let mut buf = [0u8; 8];
    assert_eq!(
        net.sim.endpoint_mut(net.s).recv(now, s, &mut buf),
        Err(Error::ConnectionReset)
    );
    assert_eq!(
        net.sim.endpoint(net.c).connection_count(),
        0,
        "the handle is released"
    );
}

/// SHLD-3: data arriving after the application closed (it can never read it) is answered
/// with a RST, and the sender learns `Reset`.
#[test]
fn data_arriving_after_close_is_answered_with_rst() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    let now = net.now();
    net.sim.endpoint_mut(net.c).close(now, c).unwrap();
    net.run_for(secs(1));
    assert!(
        segs_from(&net.sim, net.c).iter().any(|x| x.flags().fin()),
        "a FIN first"
    );
    let sent_at = net.now();
    net.send_all(net.s, s, &[1; 100]);
    net.run_for(secs(1));
    assert!(segs_from(&net.sim, net.c)
        .iter()
        .any(|x| x.sent >= sent_at && x.flags().rst()));
    assert_eq!(net.closed(net.s, s).map(|x| x.1), Some(CloseReason::Reset));
}

/// §3.10.5 and MUST-12: `abort` sends a RST, frees the handle at once, and the peer is
/// told `Reset`.
#[test]
fn abort_sends_rst_and_the_peer_learns_reset() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let (c, s, _) = net.establish(4);
    net.send_all(net.c, c, &[1; 10_000]);
    let at = net.now();
    net.sim.endpoint_mut(net.c).abort(at, c).unwrap();
    assert!(
        matches!(net.sim.endpoint(net.c).state(c), None | Some(State::Closed)),
        "the connection is over"
    );
    assert_eq!(
        net.sim.endpoint_mut(net.c).send(at, c, b"x"),
        Err(Error::InvalidHandle)
    );
    net.run_for(secs(1));
    let sent: Vec<Seg> = segs_from(&net.sim, net.c)
        .into_iter()
        .filter(|x| x.sent >= at)
        .collect();
    assert_eq!(sent.len(), 1, "only the RST: {sent:?}");
    assert!(sent[0].flags().rst());
    assert_eq!(net.closed(net.s, s).map(|x| x.1), Some(CloseReason::Reset));
    assert_eq!(net.sim.endpoint(net.c).connection_count(), 0);
}

// ---- Listener backlog ----

fn server_state(net: &Net, client_conn: ConnId) -> Option<State> {
    let t = net.sim.endpoint(net.c).tuple(client_conn)?;
    net.sim.endpoint(net.s).state_of(FourTuple {
        local: t.remote,
        remote: t.local,
    })
}

/// With backlog 2 and nobody accepting, two connections complete; SYNs arriving while the
/// accept queue is full are not answered; once the application accepts, the waiting
/// clients' retransmitted SYNs are answered and every connection completes.
#[test]
fn backlog_bounds_completed_connections_until_the_application_accepts() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let addr = net.server_addr();
    let l = net.sim.endpoint_mut(net.s).listen(addr, 2).unwrap();
    let mut conns = Vec::new();
    for _ in 0..2 {
        let now = net.now();
        let (local, remote) = (net.client_any(), net.server_addr());
        conns.push(
            net.sim
                .endpoint_mut(net.c)
                .connect(now, local, remote)
                .unwrap(),
        );
        net.run_for(ms(100));
    }
    for &c in &conns {
        assert_eq!(server_state(&net, c), Some(State::Established));
    }
    let late_start = net.now();
    for _ in 0..4 {
        let now = net.now();
        let (local, remote) = (net.client_any(), net.server_addr());
        conns.push(
            net.sim
                .endpoint_mut(net.c)
                .connect(now, local, remote)
                .unwrap(),
        );
    }
    net.run_for(secs(5));
    let syn_acks_to_late = segs_from(&net.sim, net.s)
        .into_iter()
        .filter(|x| x.sent >= late_start && x.flags().syn())
        .count();
    assert_eq!(
        syn_acks_to_late, 0,
        "SYNs beyond the backlog are not answered"
    );
    let established = conns
        .iter()
        .filter(|c| server_state(&net, **c) == Some(State::Established))
        .count();
    assert_eq!(established, 2, "at most backlog connections completed");
    assert!(net.sim.endpoint(net.s).connection_count() <= 2);
    // The application starts accepting.
    let mut accepted = Vec::new();
    let sh = net.s;
    net.run_while(net.now() + secs(120), |sim, _| {
        while let Ok(a) = sim.endpoint_mut(sh).accept(l) {
            accepted.push(a);
        }
        accepted.len() < 6
    });
    assert_eq!(accepted.len(), 6, "every client got in once there was room");
    for &c in &conns {
        assert_eq!(server_state(&net, c), Some(State::Established));
    }
}

/// The SYN queue is bounded however many SYNs arrive (here 3,000 from spoofed sources
/// that never answer): at most max(2 × backlog, 16) half-open connections exist; they
/// expire at R2 for SYNs, after which a real client connects.
#[test]
fn syn_flood_is_bounded_by_the_syn_queue_and_the_listener_recovers() {
    let mut net = Net::new(Config::default(), Config::default(), LinkConfig::default());
    let local = net.server_addr();
    let l = net.sim.endpoint_mut(net.s).listen(local, 2).unwrap();
    let mut buf = vec![0u8; 100];
    for i in 0..3000u32 {
        let src = IpAddr::V4(Ipv4Addr::new(
            198,
            18,
            1 + (i / 250) as u8,
            (i % 250) as u8 + 1,
        ));
        let syn = TcpRepr {
            src_port: 10_000 + (i % 5000) as u16,
            dst_port: PORT,
            seq: i.wrapping_mul(7919),
            ack: 0,
            flags: TcpFlags::SYN,
            window: 65_535,
            urgent: 0,
            options: TcpOptions::default(),
        };
        let n = synack_wire::emit_packet(&mut buf, src, local.ip(), 64, &syn, &[]).unwrap();
        let at = net.now() + Duration::from_micros(u64::from(i) * 10);
        net.sim.inject(net.s, at, buf[..n].to_vec());
    }
    let mut peak = 0;
    let sh = net.s;
    net.run_while(net.now() + secs(1), |sim, _| {
        peak = peak.max(sim.endpoint(sh).connection_count());
        true
    });
    assert!(peak <= 16, "SYN queue bound: {peak} half-open connections");
    assert!(peak >= 4, "the flood did fill the queue ({peak})");
    net.run_for(secs(240));
    assert_eq!(
        net.sim.endpoint(net.s).connection_count(),
        0,
        "half-open ones expired"
    );
    let (c, s) = net.connect(l);
    assert_eq!(net.sim.endpoint(net.s).state(s), Some(State::Established));
    assert_eq!(net.sim.endpoint(net.c).state(c), Some(State::Established));
}

// ---- Ephemeral ports ----

/// RFC 6056: many connections from one host to the same server get distinct local ports,
/// all within `Config::ephemeral_ports`, and when the range is exhausted `connect` says
/// `AddrNotAvailable` instead of reusing one.
#[test]
fn connects_to_one_server_get_distinct_ephemeral_ports_within_the_range() {
    let client = Config {
        ephemeral_ports: 50_000..=50_063,
        ..Config::default()
    };
    let mut net = Net::new(client, Config::default(), LinkConfig::default());
    let addr = net.server_addr();
    let l = net.sim.endpoint_mut(net.s).listen(addr, 128).unwrap();
    let mut ports = std::collections::BTreeSet::new();
    let mut conns = Vec::new();
    for _ in 0..64 {
        let now = net.now();
        let (local, remote) = (net.client_any(), net.server_addr());
        let c = net
            .sim
            .endpoint_mut(net.c)
            .connect(now, local, remote)
            .unwrap();
        let port = net.sim.endpoint(net.c).tuple(c).unwrap().local.port();
        assert!(
            (50_000..=50_063).contains(&port),
            "port {port} outside the range"
        );
        assert!(ports.insert(port), "port {port} used twice");
        conns.push(c);
    }
    let now = net.now();
    let (local, remote) = (net.client_any(), net.server_addr());
    assert_eq!(
        net.sim.endpoint_mut(net.c).connect(now, local, remote),
        Err(Error::AddrNotAvailable)
    );
    let mut accepted = 0;
    let sh = net.s;
    net.run_while(net.now() + secs(10), |sim, _| {
        while sim.endpoint_mut(sh).accept(l).is_ok() {
            accepted += 1;
        }
        accepted < 64
    });
    assert_eq!(accepted, 64, "all 64 connections complete");
    // The default range.
    let mut sim = Sim::new(3);
    let h = sim.add_host("client", Config::default(), &[C4]);
    let mut ports = std::collections::BTreeSet::new();
    for _ in 0..2000 {
        let now = sim.now();
        let c = sim
            .endpoint_mut(h)
            .connect(now, SocketAddr::new(C4, 0), SocketAddr::new(S4, PORT))
            .unwrap();
        let port = sim.endpoint(h).tuple(c).unwrap().local.port();
        assert!((32_768..=60_999).contains(&port));
        assert!(ports.insert(port));
    }
}

// ---- IPv6 ----

/// The whole life of a connection over IPv6 (documentation addresses 2001:db8::/32):
/// handshake with MSS = MTU − 60, data both ways, four-way close, TIME-WAIT, nothing left.
#[test]
fn ipv6_handshake_data_and_close_end_to_end() {
    let mut net = Net::with_addrs(
        Config::default(),
        Config::default(),
        LinkConfig::default().latency(ms(15)),
        C6,
        S6,
    );
    let (c, s, _) = net.establish(4);
    let up = pattern(100_000);
    let down: Vec<u8> = pattern(70_000).into_iter().rev().collect();
    let (mut su, mut sd) = (0, 0);
    let (mut got_up, mut got_down) = (Vec::new(), Vec::new());
    let (mut c_eof, mut s_eof) = (false, false);
    let (ch, sh) = (net.c, net.s);
    net.run_while(net.now() + secs(600), |sim, _| {
        let now = sim.now();
        if su < up.len() {
            su += sim.endpoint_mut(ch).send(now, c, &up[su..]).unwrap_or(0);
            if su == up.len() {
                sim.endpoint_mut(ch).shutdown(now, c).unwrap();
            }
        }
        if sd < down.len() {
            sd += sim.endpoint_mut(sh).send(now, s, &down[sd..]).unwrap_or(0);
        }
        s_eof |= read_into(sim, sh, s, &mut got_up, 65_536);
        c_eof |= read_into(sim, ch, c, &mut got_down, 65_536);
        if s_eof && sd == down.len() && sim.endpoint(sh).state(s) == Some(State::CloseWait) {
            sim.endpoint_mut(sh).close(now, s).unwrap();
        }
        !(c_eof && s_eof)
    });
    assert!(got_up == up && got_down == down);
    let now = net.now();
    net.sim.endpoint_mut(net.c).close(now, c).unwrap();
    net.run_for(secs(120));
    for h in [net.c, net.s] {
        assert_eq!(net.sim.endpoint(h).connection_count(), 0);
        assert_eq!(net.sim.endpoint(h).time_wait_count(), 0);
    }
    let all = segs(&net.sim);
    assert!(
        net.sim.packets().iter().all(|p| p.bytes[0] >> 4 == 6),
        "IPv6 datagrams only"
    );
    let syn = all.iter().find(|x| x.flags().syn()).unwrap();
    assert_eq!(
        syn.tcp.options.mss,
        Some(1440),
        "1500 − 40 (IPv6) − 20 (TCP)"
    );
    assert!(all.iter().all(|x| x.len <= 1440));
    assert!(all.iter().any(|x| x.flags().fin() && x.from == Some(net.c)));
    assert!(all.iter().any(|x| x.flags().fin() && x.from == Some(net.s)));
    assert!(all.iter().all(|x| !x.flags().rst()), "a clean close");
}
