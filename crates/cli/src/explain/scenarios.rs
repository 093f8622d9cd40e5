//! The `synack explain` scenarios, each played in the simulator with a fixed seed: a
//! client A (198.18.0.1) and a server B (198.18.0.2, port 80) on a link with 10 ms of
//! one-way latency, driven by application calls at chosen virtual times and, where the
//! story needs it, a link filter (drop or delay one segment), an injected old segment or
//! a crash.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use synack::{Config, ConnId, Endpoint, FourTuple, Instant, ListenerId, State};
use synack_sim::{FilterAction, HostId, LinkConfig, Sim};
use synack_trace::{Side, Trace};
use synack_wire::{emit_packet, TcpFlags, TcpRepr};

const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const A_PORT: u16 = 40000;
const B_PORT: u16 = 80;
const LATENCY: Duration = Duration::from_millis(10);
/// The seed of every scenario: the same story every time.
pub const SEED: u64 = 9293;

/// One scenario of `synack explain`.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Its name on the command line.
    pub name: &'static str,
    /// A title.
    pub title: &'static str,
    /// One line for `--list`.
    pub blurb: &'static str,
    /// Plays it; `None` if it cannot be played yet (and why).
    pub play: Result<fn() -> Result<Played, String>, &'static str>,
    /// Show sequence numbers relative to each ISN (false where an old duplicate's
    /// number would look odd relative to the new ISN).
    pub relative: bool,
    /// The closing paragraph: what the run shows.
    pub moral: &'static str,
}

/// A played scenario.
pub struct Played {
    /// The simulator after the run (for `--pcap`).
    pub sim: Sim,
    /// The connection's trace, A on the left.
    pub trace: Trace,
}

/// Every scenario, in teaching order.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "handshake",
            title: "The three-way handshake",
            blurb: "SYN, SYN-ACK, ACK: why it takes three segments to open",
            play: Ok(handshake),
            relative: true,
            moral: "Each end picks its own initial sequence number and must learn that the \
                    other received it. A's SYN carries A's ISN; B's SYN-ACK acknowledges it and \
                    carries B's; A's ACK acknowledges B's. Two segments cannot do it: B would \
                    never learn whether A got B's ISN.",
        },
        Scenario {
            name: "old-duplicate-syn",
            title: "Why not two: an old duplicate SYN is refused",
            blurb: "a delayed SYN from an earlier connection arrives first; the third segment saves the day",
            play: Ok(old_duplicate_syn),
            relative: false,
            moral: "With a two-way handshake B would have opened a connection for the old SYN \
                    and sent data into the void. Because B waits for the third segment, A — the \
                    only one who knows which SYN is current — can say no with a reset, B returns \
                    to LISTEN, and the real SYN then opens the connection normally (RFC 9293 \
                    Figure 8).",
        },
        Scenario {
            name: "simultaneous-open",
            title: "Simultaneous open",
            blurb: "both ends connect to each other at once: SYN-SENT, then SYN-RECEIVED on both",
            play: Ok(simultaneous_open),
            relative: true,
            moral: "Two active opens that cross make one connection, not two: each end sees a \
                    SYN while in SYN-SENT, answers it with a SYN-ACK, and becomes ESTABLISHED \
                    when its own SYN is acknowledged. Four segments instead of three \
                    (RFC 9293 Figure 7).",
        },
        Scenario {
            name: "close",
            title: "The four-way wave",
            blurb: "FIN, ACK, FIN, ACK: each direction closes on its own, then TIME-WAIT",
            play: Ok(close),
            relative: true,
            moral: "TCP is two byte streams, one each way, and each is closed by its own FIN \
                    and ACK: four segments (three if the second FIN rides on the first ACK). \
                    The end that closed first waits in TIME-WAIT for 2\u{d7}MSL (60 s here) \
                    before forgetting the connection.",
        },
        Scenario {
            name: "half-close",
            title: "Half-close: the server keeps sending after the client's FIN",
            blurb: "the client shuts down its side; the server still sends its answer, then closes",
            play: Ok(half_close),
            relative: true,
            moral: "A FIN only closes one direction. After A's FIN, B is in CLOSE-WAIT and \
                    sends as much as it likes, and A, in FIN-WAIT-2, receives and acknowledges \
                    it. This is how a client says \"that was my whole request\" and still reads \
                    the whole response.",
        },
        Scenario {
            name: "simultaneous-close",
            title: "Simultaneous close: CLOSING",
            blurb: "both ends close at once; the FINs cross; both go through CLOSING to TIME-WAIT",
            play: Ok(simultaneous_close),
            relative: true,
            moral: "When the FINs cross, each end receives the other's FIN while its own is \
                    unacknowledged: CLOSING. Each acknowledges the other's FIN, and when its own \
                    is acknowledged it enters TIME-WAIT: both ends wait 2\u{d7}MSL \
                    (RFC 9293 Figure 13).",
        },
        Scenario {
            name: "lost-last-ack",
            title: "The last ACK is lost, and TIME-WAIT repeats it",
            blurb: "the final ACK never arrives; the server resends its FIN; TIME-WAIT answers again",
            play: Ok(lost_last_ack),
            relative: true,
            moral: "The end that sends the last ACK cannot know whether it arrived — nobody \
                    acknowledges an ACK. TIME-WAIT is how it stays able to answer: the \
                    retransmitted FIN finds the connection still there and gets its ACK, \
                    instead of a reset that would make a clean close look like an error.",
        },
        Scenario {
            name: "time-wait-shield",
            title: "TIME-WAIT shields a new connection from an old duplicate",
            blurb: "a delayed data segment arrives after the close; TIME-WAIT absorbs it before the 4-tuple is reused",
            play: Ok(time_wait_shield),
            relative: true,
            moral: "A segment of the first connection spent 20 s in the network and arrived \
                    after the close. A was in TIME-WAIT, still holding the 4-tuple, so the stray \
                    data could not be taken for data of a new connection: A just answered with \
                    an ACK. (That ACK reached a B that had forgotten the connection, whose reset \
                    ended A's TIME-WAIT early: RFC 1337's \"assassination\", which Linux allows \
                    too.) The new connection on the same 4-tuple starts after 2\u{d7}MSL, with \
                    a new ISN, when no segment of the old one can still be alive.",
        },
        Scenario {
            name: "half-open-reset",
            title: "A reset on a half-open connection",
            blurb: "the server crashes and forgets; the client's next data draws a reset",
            play: Ok(half_open_reset),
            relative: true,
            moral: "After B's crash A still believes the connection is open: it is half-open. \
                    The next segment A sends reaches a B that has no such connection, and B \
                    answers with a reset whose sequence number is the one A expects, so A \
                    accepts it and reports \"connection reset\" (RFC 9293 Figure 10).",
        },
        Scenario {
            name: "syn-flood",
            title: "A SYN flood met by SYN cookies",
            blurb: "a listener under a flood of spoofed SYNs keeps accepting real clients",
            play: Ok(syn_flood),
            relative: true,
            moral: "B's SYN queue was full: 32 half-open connections (twice its backlog of 16) \
                    for SYNs from forged addresses that will never answer. Instead of dropping \
                    A's SYN, B answered with a SYN cookie (RFC 4987) and kept nothing: its ISN \
                    is a keyed hash of the 4-tuple, A's ISN and the time, with A's MSS folded \
                    in, and the window scale and SACK permission ride in the low bits of its \
                    timestamp. A's ACK brings the cookie back (ACK = ISN + 1); B checks the \
                    hash, rebuilds the connection from it and goes straight to ESTABLISHED. \
                    A flood of forged SYNs costs B a hash each, not memory, and real clients \
                    still get in.",
        },
    ]
}

fn a_addr() -> SocketAddr {
    SocketAddr::new(A_IP, A_PORT)
}

fn b_addr() -> SocketAddr {
    SocketAddr::new(B_IP, B_PORT)
}

fn a_tuple() -> FourTuple {
    FourTuple {
        local: a_addr(),
        remote: b_addr(),
    }
}

/// Two hosts, A and B, 10 ms apart.
struct Net {
    sim: Sim,
    a: HostId,
    b: HostId,
}

impl Net {
    fn new() -> Net {
        let mut sim = Sim::new(SEED);
        let a = sim.add_host("A", Config::default(), &[A_IP]);
        let b = sim.add_host("B", Config::default(), &[B_IP]);
        sim.link(a, b, LinkConfig::default().latency(LATENCY));
        Net { sim, a, b }
    }

    fn listen(&mut self) -> Result<ListenerId, String> {
        self.sim
            .endpoint_mut(self.b)
            .listen(b_addr(), 16)
            .map_err(|e| format!("listen: {e}"))
    }

    fn connect(&mut self) -> Result<ConnId, String> {
        let now = self.sim.now();
        self.sim
            .endpoint_mut(self.a)
            .connect(now, a_addr(), b_addr())
            .map_err(|e| format!("connect: {e}"))
    }

    fn run_for(&mut self, d: Duration) -> Result<(), String> {
        self.sim.run_for(d).map_err(|e| e.to_string())
    }

    /// Run until `host`'s end of the connection is in `state` (at most a minute).
    fn run_until(&mut self, host: HostId, tuple: FourTuple, state: State) -> Result<(), String> {
        let deadline = self.sim.now() + Duration::from_secs(600);
        let reached = |sim: &Sim| sim.endpoint(host).state_of(tuple) == Some(state);
        while !reached(&self.sim) {
            if self.sim.now() >= deadline || !self.sim.step().map_err(|e| e.to_string())? {
                return Err(format!("never reached {state}"));
            }
        }
        Ok(())
    }

    /// Accept on `listener` once the connection is ready.
    fn accept(&mut self, listener: ListenerId) -> Result<ConnId, String> {
        let deadline = self.sim.now() + Duration::from_secs(60);
        loop {
            while self.sim.endpoint_mut(self.b).poll_event().is_some() {}
            if let Ok(conn) = self.sim.endpoint_mut(self.b).accept(listener) {
                return Ok(conn);
            }
            if self.sim.now() >= deadline || !self.sim.step().map_err(|e| e.to_string())? {
                return Err("the server never accepted a connection".into());
            }
        }
    }

    fn established(&mut self) -> Result<(ConnId, ConnId, ListenerId), String> {
        let listener = self.listen()?;
        let client = self.connect()?;
        let server = self.accept(listener)?;
        self.run_until(self.a, a_tuple(), State::Established)?;
        Ok((client, server, listener))
    }

    fn send(&mut self, host: HostId, conn: ConnId, data: &[u8]) -> Result<(), String> {
        let now = self.sim.now();
        let n = self
            .sim
            .endpoint_mut(host)
            .send(now, conn, data)
            .map_err(|e| format!("send: {e}"))?;
        if n == data.len() {
            Ok(())
        } else {
            Err(format!("send took {n} of {} bytes", data.len()))
        }
    }

    fn shutdown(&mut self, host: HostId, conn: ConnId) -> Result<(), String> {
        let now = self.sim.now();
        self.sim
            .endpoint_mut(host)
            .shutdown(now, conn)
            .map_err(|e| format!("shutdown: {e}"))
    }

    fn close(&mut self, host: HostId, conn: ConnId) -> Result<(), String> {
        let now = self.sim.now();
        self.sim
            .endpoint_mut(host)
            .close(now, conn)
            .map_err(|e| format!("close: {e}"))
    }

    /// Read everything readable (the applications read what arrives).
    fn drain(&mut self, host: HostId, conn: ConnId) -> usize {
        let now = self.sim.now();
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while let Ok(n) = self.sim.endpoint_mut(host).recv(now, conn, &mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }

    fn played(mut self) -> Played {
        let mut trace = self.sim.trace_with_metrics(self.a, self.b, a_tuple());
        synack_trace::analyze(&mut trace);
        Played {
            sim: self.sim,
            trace,
        }
    }
}

fn handshake() -> Result<Played, String> {
    let mut net = Net::new();
    net.established()?;
    net.run_for(Duration::from_millis(50))?;
    Ok(net.played())
}

/// A hand-made segment from A to B.
fn a_to_b(seq: u32, flags: TcpFlags) -> Result<Vec<u8>, String> {
    let tcp = TcpRepr {
        src_port: A_PORT,
        dst_port: B_PORT,
        seq,
        ack: 0,
        flags,
        window: 65535,
        ..TcpRepr::default()
    };
    let mut buf = vec![0u8; 128];
    let n = emit_packet(&mut buf, A_IP, B_IP, 64, &tcp, &[]).map_err(|e| e.to_string())?;
    buf.truncate(n);
    Ok(buf)
}

fn old_duplicate_syn() -> Result<Played, String> {
    let mut net = Net::new();
    let listener = net.listen()?;
    // The real SYN is slow: it arrives after the old duplicate has been dealt with.
    net.sim.set_filter(net.a, net.b, |ctx| {
        if ctx.is_syn() && ctx.index == 0 {
            FilterAction::Delay(Duration::from_millis(30))
        } else {
            FilterAction::Deliver
        }
    });
    net.connect()?;
    net.sim.collect();
    let iss = net
        .sim
        .packets()
        .first()
        .and_then(|p| p.parse())
        .map(|p| p.tcp.seq)
        .ok_or("no SYN was sent")?;
    // An old SYN of an earlier incarnation, with a sequence number from back then.
    let old = a_to_b(iss.wrapping_sub(1000), TcpFlags::SYN)?;
    net.sim.inject(net.b, Instant::ZERO, old);
    net.accept(listener)?;
    net.run_until(net.a, a_tuple(), State::Established)?;
    net.run_for(Duration::from_millis(50))?;
    Ok(net.played())
}

fn simultaneous_open() -> Result<Played, String> {
    let mut net = Net::new();
    let now = net.sim.now();
    net.sim
        .endpoint_mut(net.a)
        .connect(now, a_addr(), b_addr())
        .map_err(|e| format!("connect: {e}"))?;
    net.sim
        .endpoint_mut(net.b)
        .connect(now, b_addr(), a_addr())
        .map_err(|e| format!("connect: {e}"))?;
    net.run_until(net.a, a_tuple(), State::Established)?;
    let b_tuple = FourTuple {
        local: b_addr(),
        remote: a_addr(),
    };
    net.run_until(net.b, b_tuple, State::Established)?;
    net.run_for(Duration::from_millis(50))?;
    Ok(net.played())
}

fn close() -> Result<Played, String> {
    let mut net = Net::new();
    let (client, server, _) = net.established()?;
    net.run_for(Duration::from_millis(100))?;
    net.close(net.a, client)?;
    net.run_for(Duration::from_millis(100))?;
    net.drain(net.b, server);
    net.close(net.b, server)?;
    net.run_for(Duration::from_secs(61))?;
    Ok(net.played())
}

fn half_close() -> Result<Played, String> {
    let mut net = Net::new();
    let (client, server, _) = net.established()?;
    net.send(net.a, client, &[b'?'; 100])?;
    net.shutdown(net.a, client)?;
    net.run_for(Duration::from_millis(50))?;
    net.drain(net.b, server);
    net.send(net.b, server, &[b'!'; 3000])?;
    net.run_for(Duration::from_millis(100))?;
    net.drain(net.a, client);
    net.close(net.b, server)?;
    net.run_for(Duration::from_millis(100))?;
    net.drain(net.a, client);
    net.close(net.a, client)?;
    net.run_for(Duration::from_secs(61))?;
    Ok(net.played())
}

fn simultaneous_close() -> Result<Played, String> {
    let mut net = Net::new();
    let (client, server, _) = net.established()?;
    net.run_for(Duration::from_millis(100))?;
    net.close(net.a, client)?;
    net.close(net.b, server)?;
    net.run_for(Duration::from_secs(61))?;
    Ok(net.played())
}

fn lost_last_ack() -> Result<Played, String> {
    let mut net = Net::new();
    let (client, server, _) = net.established()?;
    net.run_for(Duration::from_millis(100))?;
    // Drop A's first pure ACK sent after B's FIN has reached it: the last ACK of the close.
    let mut dropped = false;
    let b_fins = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let seen = b_fins.clone();
    net.sim.set_filter(net.b, net.a, move |ctx| {
        if ctx.is_fin() {
            seen.set(seen.get() + 1);
        }
        FilterAction::Deliver
    });
    net.sim.set_filter(net.a, net.b, move |ctx| {
        let last_ack =
            b_fins.get() == 1 && !ctx.is_fin() && !ctx.is_syn() && ctx.payload_len() == 0;
        if last_ack && !dropped {
            dropped = true;
            FilterAction::Drop
        } else {
            FilterAction::Deliver
        }
    });
    net.close(net.a, client)?;
    net.run_for(Duration::from_millis(100))?;
    net.close(net.b, server)?;
    net.run_for(Duration::from_secs(70))?;
    Ok(net.played())
}

fn time_wait_shield() -> Result<Played, String> {
    let mut net = Net::new();
    let (client, server, listener) = net.established()?;
    // B's first data segment is held up in the network for 20 s.
    let mut held = false;
    net.sim.set_filter(net.b, net.a, move |ctx| {
        if ctx.payload_len() > 0 && !held {
            held = true;
            FilterAction::Delay(Duration::from_secs(20))
        } else {
            FilterAction::Deliver
        }
    });
    net.send(net.b, server, &[b'x'; 500])?;
    // B's retransmission timer (1 s) resends it; A reads it.
    net.run_for(Duration::from_millis(1500))?;
    net.drain(net.a, client);
    net.close(net.a, client)?;
    net.run_for(Duration::from_millis(100))?;
    net.drain(net.b, server);
    net.close(net.b, server)?;
    // The old copy arrives during A's TIME-WAIT; then TIME-WAIT ends.
    net.run_for(Duration::from_secs(62))?;
    // A new connection on the very same 4-tuple.
    net.connect()?;
    net.accept(listener)?;
    net.run_until(net.a, a_tuple(), State::Established)?;
    net.run_for(Duration::from_millis(50))?;
    Ok(net.played())
}

fn half_open_reset() -> Result<Played, String> {
    let mut net = Net::new();
    let (client, _server, _) = net.established()?;
    net.run_for(Duration::from_millis(100))?;
    // B crashes: its endpoint restarts empty (same address, a listener again).
    let crash_at = net.sim.now();
    let mut fresh = Endpoint::new(Config::default(), [0x42; 16]);
    fresh.set_tracing(true);
    fresh.add_address(B_IP);
    fresh
        .listen(b_addr(), 16)
        .map_err(|e| format!("listen: {e}"))?;
    *net.sim.endpoint_mut(net.b) = fresh;
    net.run_for(Duration::from_millis(100))?;
    net.send(net.a, client, b"hello?")?;
    net.run_for(Duration::from_millis(200))?;
    let mut played = net.played();
    played
        .trace
        .transition(Side::B, crash_at, State::Established, State::Closed);
    Ok(played)
}

/// A SYN from `src` to B with sequence number `seq` and an MSS option.
fn syn_from(src: SocketAddr, seq: u32) -> Result<Vec<u8>, String> {
    let tcp = TcpRepr {
        src_port: src.port(),
        dst_port: B_PORT,
        seq,
        flags: TcpFlags::SYN,
        window: 65535,
        options: synack_wire::TcpOptions {
            mss: Some(1460),
            ..synack_wire::TcpOptions::default()
        },
        ..TcpRepr::default()
    };
    let mut buf = vec![0u8; 128];
    let n = emit_packet(&mut buf, src.ip(), B_IP, 64, &tcp, &[]).map_err(|e| e.to_string())?;
    buf.truncate(n);
    Ok(buf)
}

fn syn_flood() -> Result<Played, String> {
    let mut net = Net::new();
    let listener = net.listen()?;
    // 32 SYNs from forged sources fill B's SYN queue (twice the backlog of 16); B's
    // SYN-ACKs to them go nowhere.
    for i in 0..32u8 {
        let src = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(198, 19, 7, i + 1)),
            1024 + u16::from(i),
        );
        let syn = syn_from(src, 0x1000_0000u32.wrapping_mul(u32::from(i) + 1))?;
        net.sim.inject(net.b, Instant::ZERO, syn);
    }
    net.run_for(Duration::from_millis(5))?;
    net.connect()?;
    net.accept(listener)?;
    net.run_until(net.a, a_tuple(), State::Established)?;
    net.run_for(Duration::from_millis(50))?;
    let cookies = net
        .sim
        .endpoint(net.b)
        .endpoint_stats()
        .syn_cookies_validated;
    if cookies != 1 {
        return Err(format!(
            "expected one connection from a SYN cookie, got {cookies}"
        ));
    }
    Ok(net.played())
}
