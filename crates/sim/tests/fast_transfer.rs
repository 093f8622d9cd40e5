//! Issue 3, shown on the simulator: window scaling and auto-tuning on a long fat pipe,
//! SACK recovery, the Mathis bound under random loss, tail loss probes, CUBIC fairness,
//! PAWS after a sequence wrap, RTT samples from timestamps, and option negotiation.
//!
//! Every figure is computed from a simulated run (virtual time, seeded randomness) and
//! checked with generous bounds; nothing here reads a wall clock. The figures are
//! printed (`cargo test --release -p synack-sim --test fast_transfer -- --nocapture`).

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use synack::{
    Config, CongestionAlgorithm, ConnId, ConnStats, Instant, ListenerId, State, TraceKind,
};
use synack_sim::{FilterAction, HostId, LinkConfig, Outcome, Sim};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr, Timestamps};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const PORT: u16 = 80;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The byte at stream offset `i`: a pattern that catches reordering and corruption.
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(31) % 251) as u8
}

/// One bulk transfer from `sender` to `receiver` over a connection.
struct Flow {
    sender: HostId,
    tx: ConnId,
    receiver: HostId,
    rx: ConnId,
    /// Bytes to send (`u64::MAX`: as long as the run lasts).
    total: u64,
    sent: u64,
    received: u64,
    /// Stream bytes received by each instant, sampled as they arrive.
    progress: Vec<(Instant, u64)>,
    /// The application may start writing at this time.
    start_at: Instant,
}

impl Flow {
    /// Time when `bytes` had been received.
    fn time_of(&self, bytes: u64) -> Option<Instant> {
        self.progress
            .iter()
            .find(|(_, b)| *b >= bytes)
            .map(|(t, _)| *t)
    }
    /// Bytes received by `t`.
    fn received_by(&self, t: Instant) -> u64 {
        self.progress
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(0, |(_, b)| *b)
    }
}

/// Two hosts, a link each way, and the flows between them.
struct Net {
    sim: Sim,
    client: HostId,
    server: HostId,
    listener: ListenerId,
    flows: Vec<Flow>,
    buf: Vec<u8>,
}

impl Net {
    fn new(seed: u64, client: Config, server: Config, up: LinkConfig, down: LinkConfig) -> Net {
        let mut sim = Sim::new(seed);
        let c = sim.add_host("client", client, &[CLIENT]);
        let s = sim.add_host("server", server, &[SERVER]);
        sim.set_link(c, s, up);
        sim.set_link(s, c, down);
        // Large runs: the endpoints' trace is not needed (statistics tell the story);
        // `traced` turns it back on for tests that look at it.
        sim.endpoint_mut(c).set_tracing(false);
        sim.endpoint_mut(s).set_tracing(false);
        sim.set_keep_delivered_bytes(false);
        sim.set_step_limit(50_000_000);
        let listener = sim
            .endpoint_mut(s)
            .listen(SocketAddr::new(SERVER, PORT), 64)
            .expect("listen");
        Net {
            sim,
            client: c,
            server: s,
            listener,
            flows: Vec::new(),
            buf: vec![0; 1 << 16],
        }
    }

    /// Open a connection from the client and return (client conn, server conn).
    fn connect(&mut self) -> (ConnId, ConnId) {
        let now = self.sim.now();
        let c = self
            .sim
            .endpoint_mut(self.client)
            .connect(
                now,
                SocketAddr::new(CLIENT, 0),
                SocketAddr::new(SERVER, PORT),
            )
            .expect("connect");
        let (client, server, listener) = (self.client, self.server, self.listener);
        let mut accepted = None;
        self.sim
            .run_while(|sim| {
                if accepted.is_none() {
                    accepted = sim.endpoint_mut(server).accept(listener).ok();
                }
                accepted.is_none() || sim.endpoint(client).state(c) != Some(State::Established)
            })
            .expect("handshake");
        (c, accepted.expect("accepted"))
    }

    /// A flow of `total` bytes from the client to the server on a new connection.
    fn add_upload(&mut self, total: u64, start_at: Instant) -> usize {
        let (c, s) = self.connect();
        self.flows.push(Flow {
            sender: self.client,
            tx: c,
            receiver: self.server,
            rx: s,
            total,
            sent: 0,
            received: 0,
            progress: Vec::new(),
            start_at,
        });
        self.flows.len() - 1
    }

    /// Play the applications: keep every sender's buffer full, read everything.
    fn pump(sim: &mut Sim, flows: &mut [Flow], buf: &mut [u8]) {
        let now = sim.now();
        for f in flows.iter_mut() {
            if now >= f.start_at {
                while f.sent < f.total {
                    let room = sim.endpoint(f.sender).send_capacity(f.tx);
                    let n = ((f.total - f.sent) as usize).min(buf.len()).min(room);
                    if n == 0 {
                        break;
                    }
                    for (k, b) in buf[..n].iter_mut().enumerate() {
                        *b = pattern(f.sent + k as u64);
                    }
                    match sim.endpoint_mut(f.sender).send(now, f.tx, &buf[..n]) {
                        Ok(m) if m > 0 => f.sent += m as u64,
                        _ => break,
                    }
                }
            }
            let before = f.received;
            while let Ok(n) = sim.endpoint_mut(f.receiver).recv(now, f.rx, buf) {
                if n == 0 {
                    break;
                }
                for (k, b) in buf[..n].iter().enumerate() {
                    assert_eq!(*b, pattern(f.received + k as u64), "stream corrupted");
                }
                f.received += n as u64;
            }
            if f.received > before {
                f.progress.push((now, f.received));
            }
        }
    }

    /// Step the simulation, playing the applications before every step, until `stop`
    /// says so or `end` is reached; a flow whose start time comes before the next
    /// event is started on time.
    fn run(&mut self, end: Instant, stop: impl Fn(&[Flow]) -> bool) {
        loop {
            Self::pump(&mut self.sim, &mut self.flows, &mut self.buf);
            let now = self.sim.now();
            if stop(&self.flows) || now >= end {
                return;
            }
            let wake = self
                .flows
                .iter()
                .map(|f| f.start_at)
                .filter(|t| *t > now)
                .min()
                .unwrap_or(end)
                .min(end);
            match self.sim.next_event_time() {
                Some(t) if t <= wake => {
                    self.sim.step().expect("simulation");
                }
                _ => self.sim.run_until(wake).expect("simulation"),
            }
        }
    }

    /// Run until every finite flow is complete, or `limit`.
    fn run_until_done(&mut self, limit: Instant) {
        self.run(limit, |flows| flows.iter().all(|f| f.received >= f.total));
    }

    /// Run for `d` of virtual time.
    fn run_for(&mut self, d: Duration) {
        let end = self.sim.now() + d;
        self.run(end, |_| false);
    }

    /// Record the endpoints' trace (and mark retransmissions in the packet records),
    /// and keep every datagram's bytes.
    fn traced(mut self) -> Net {
        let (c, s) = (self.client, self.server);
        self.sim.endpoint_mut(c).set_tracing(true);
        self.sim.endpoint_mut(s).set_tracing(true);
        self.sim.set_keep_delivered_bytes(true);
        self
    }

    fn stats(&self, host: HostId, conn: ConnId) -> ConnStats {
        self.sim
            .endpoint(host)
            .stats(conn)
            .expect("connection exists")
    }

    fn sender_stats(&self, flow: usize) -> ConnStats {
        let f = &self.flows[flow];
        self.stats(f.sender, f.tx)
    }
}

// ---- Long fat pipe ----

/// 1 Gbit/s, 100 ms RTT, no loss, a drop-tail queue of one bandwidth-delay product:
/// a 200 MB transfer with default configurations. Without window scaling the window
/// could not exceed 64 KiB (5 Mbit/s at this RTT); with it, and with the receive
/// buffer growing with the measured bandwidth-delay product (and the send buffer with
/// cwnd), the link runs at ≥ 90 % once slow start is over.
#[test]
fn long_fat_pipe_is_filled_after_slow_start() {
    let rate = 1_000_000_000u64;
    let bdp = (rate / 8) as usize / 10; // 12.5 MB
    let link = LinkConfig::default().latency(ms(50)).rate(rate).queue(bdp);
    let mut net = Net::new(1, Config::default(), Config::default(), link.clone(), link);
    let total = 200_000_000u64;
    let f = net.add_upload(total, Instant::ZERO);
    let t0 = net.sim.now();
    if std::env::var_os("SYNACK_TIMELINE").is_some() {
        let mut last = 0;
        while net.flows[f].received < total && net.sim.now() < t0 + secs(60) {
            net.run_for(ms(100));
            let st = net.sender_stats(f);
            let rx = net.stats(net.server, net.flows[f].rx);
            let got = net.flows[f].received;
            println!(
                "{} {:>6.0} Mbit/s cwnd {} snd_wnd {} flight {} sndbuf {} rcvbuf {} rcv_wnd {} srtt {:?}",
                net.sim.now(),
                (got - last) as f64 * 8.0 / 0.1 / 1e6,
                st.cwnd,
                st.snd_wnd,
                st.bytes_in_flight,
                st.send_buffer,
                rx.recv_buffer,
                rx.rcv_wnd,
                st.srtt
            );
            last = got;
        }
    }
    net.run_until_done(t0 + secs(60));
    let flow = &net.flows[f];
    assert_eq!(flow.received, total, "every byte arrived, in order");
    let done = flow.time_of(total).unwrap();
    let sender = net.sender_stats(f);
    let receiver = net.stats(flow.receiver, flow.rx);
    // Slow start ends when the window stops doubling: take the steady state as the
    // second half of the transfer (100 MB, far past the few round trips of slow start).
    let half = flow.time_of(total / 2).unwrap();
    let steady = (total - total / 2) as f64 * 8.0 / done.saturating_since(half).as_secs_f64();
    // Link utilisation counts what the wire carries: 1500-byte datagrams for 1448
    // bytes of payload (20 IP + 20 TCP + 12 timestamp option bytes).
    let wire = steady * 1500.0 / 1448.0;
    let overall = total as f64 * 8.0 / done.saturating_since(t0).as_secs_f64();
    println!(
        "long fat pipe: {:.0} Mbit/s goodput after slow start ({:.1} % of the link on the \
         wire), {:.0} Mbit/s overall over {:.2} s; receive buffer {} bytes, window scale {:?}, \
         cwnd {}, retransmissions {}",
        steady / 1e6,
        wire / rate as f64 * 100.0,
        overall / 1e6,
        done.saturating_since(t0).as_secs_f64(),
        receiver.recv_buffer,
        receiver.rcv_wscale,
        sender.cwnd,
        sender.segments_retransmitted
    );
    assert!(
        wire >= 0.9 * rate as f64,
        "link utilisation after slow start {:.1} %",
        wire / rate as f64 * 100.0
    );
    assert!(receiver.rcv_wscale.is_some() && sender.snd_wscale.is_some());
    assert!(
        receiver.recv_buffer >= bdp,
        "auto-tuning grew the receive buffer to the BDP: {}",
        receiver.recv_buffer
    );
    assert!(receiver.recv_buffer <= Config::default().recv_buffer_max);
}

// ---- Loss recovery ----

/// A filter that drops, once each, the data segments whose offset in the stream (from
/// the first data byte the filter sees) is one of `offsets`.
fn drop_offsets(offsets: Vec<u32>) -> impl FnMut(&synack_sim::FilterContext<'_>) -> FilterAction {
    let mut base: Option<u32> = None;
    let mut pending = offsets;
    move |ctx| {
        let Some(p) = ctx.packet.as_ref() else {
            return FilterAction::Deliver;
        };
        if p.payload.is_empty() {
            return FilterAction::Deliver;
        }
        let base = *base.get_or_insert(p.tcp.seq);
        let off = p.tcp.seq.wrapping_sub(base);
        if let Some(i) = pending.iter().position(|o| *o == off) {
            pending.swap_remove(i);
            return FilterAction::Drop;
        }
        FilterAction::Deliver
    }
}

const MSS: u32 = 1448; // 1500 − 40 − 12 bytes of timestamp option

/// When the sender got the first ACK at or beyond `seq` (from the packet records).
fn acked_at(net: &Net, seq: u32) -> Option<Instant> {
    net.sim.packets().iter().find_map(|r| {
        if r.from != Some(net.server) {
            return None;
        }
        let p = r.parse()?;
        let ahead = p.tcp.ack.wrapping_sub(seq) as i32 >= 0;
        match r.outcome {
            Outcome::Delivered { at } if ahead && p.tcp.flags.ack() => Some(at),
            _ => None,
        }
    })
}

/// The client's data segments that were retransmissions: (sent at, seq).
fn retransmissions(net: &Net) -> Vec<(Instant, u32)> {
    net.sim
        .packets()
        .iter()
        .filter(|r| r.from == Some(net.client) && r.retransmission)
        .filter_map(|r| {
            let p = r.parse()?;
            (!p.payload.is_empty()).then_some((r.sent_at, p.tcp.seq))
        })
        .collect()
}

/// Three segments of one window lost, SACK on (the default): one fast recovery, no
/// timeout, each lost segment retransmitted once, and the last hole filled about one
/// round trip after the first retransmission.
#[test]
fn three_losses_in_one_window_are_repaired_by_sack_in_about_one_rtt() {
    let rtt = ms(100);
    let link = LinkConfig::default().latency(rtt / 2).rate(100_000_000);
    let mut net = Net::new(2, Config::default(), Config::default(), link.clone(), link).traced();
    let f = net.add_upload(400_000, Instant::ZERO);
    // Segments 40, 43 and 46 belong to the third round trip's flight (IW10, then 20,
    // then 40 segments).
    let lost = [40u32, 43, 46];
    let (c, s) = (net.client, net.server);
    net.sim
        .set_filter(c, s, drop_offsets(lost.iter().map(|k| k * MSS).collect()));
    net.run_until_done(Instant::from_millis(60_000));
    assert_eq!(net.flows[f].received, 400_000);
    let st = net.sender_stats(f);
    let rtx = retransmissions(&net);
    let first_data_seq = net
        .sim
        .packets()
        .iter()
        .filter(|r| r.from == Some(c))
        .find_map(|r| {
            r.parse()
                .filter(|p| !p.payload.is_empty())
                .map(|p| p.tcp.seq)
        })
        .unwrap();
    let last_hole_end = first_data_seq.wrapping_add((lost[2] + 1) * MSS);
    let repaired = acked_at(&net, last_hole_end).expect("the last hole was acknowledged");
    let started = rtx.first().expect("a retransmission").0;
    let took = repaired.saturating_since(started);
    println!(
        "three losses in one window: {} retransmissions, {} fast recoveries, {} timeouts, \
         {} probes; last hole acknowledged {:.1} ms ({:.2} RTT) after the first \
         retransmission",
        st.segments_retransmitted,
        st.fast_recoveries,
        st.timeouts,
        st.tail_loss_probes,
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() / rtt.as_secs_f64()
    );
    assert_eq!(st.timeouts, 0, "no RTO");
    assert_eq!(st.fast_recoveries, 1, "one recovery episode");
    assert_eq!(rtx.len(), 3, "each lost segment resent once: {rtx:?}");
    let resent: Vec<u32> = rtx
        .iter()
        .map(|(_, seq)| seq.wrapping_sub(first_data_seq) / MSS)
        .collect();
    assert_eq!(resent, lost, "exactly the lost segments, in order");
    assert!(
        took >= rtt * 9 / 10 && took <= rtt * 3 / 2,
        "recovery took {took:?}, about one RTT ({rtt:?})"
    );
    assert!(st.sack && st.segments_lost == 3);
}

/// The last segment of a burst is lost. Nothing follows it to produce duplicate ACKs or
/// SACKs, so without RACK-TLP only the retransmission timer would notice; with it, a
/// tail loss probe resends the segment and the ACK it draws finishes the transfer, with
/// no timeout and no collapse of the congestion window. The same burst without SACK
/// (so without TLP) waits for the RTO.
#[test]
fn a_lost_tail_is_recovered_by_a_probe_not_a_timeout() {
    let rtt = ms(100);
    let link = LinkConfig::default().latency(rtt / 2);
    let mut results = Vec::new();
    for sack in [true, false] {
        let config = Config {
            sack,
            ..Config::default()
        };
        let mut net = Net::new(3, config.clone(), config, link.clone(), link.clone()).traced();
        // Warm the RTT estimate up with one exchange, then a burst of 20 segments.
        let f = net.add_upload(u64::from(20 * MSS), Instant::from_millis(400));
        let (c, s) = (net.client, net.server);
        net.sim.set_filter(c, s, drop_offsets(vec![19 * MSS]));
        net.run_until_done(Instant::from_millis(30_000));
        assert_eq!(net.flows[f].received, u64::from(20 * MSS));
        let st = net.sender_stats(f);
        let burst = net.flows[f].start_at;
        let done = net.flows[f].time_of(u64::from(20 * MSS)).unwrap();
        let rtx = retransmissions(&net);
        results.push((sack, st, done.saturating_since(burst), rtx.len()));
    }
    for (sack, st, took, rtx) in &results {
        println!(
            "tail loss, SACK {sack}: {rtx} retransmission(s), {} probe(s), {} timeout(s), \
             burst delivered in {:.0} ms, cwnd {} ssthresh {}",
            st.tail_loss_probes,
            st.timeouts,
            took.as_secs_f64() * 1e3,
            st.cwnd,
            st.ssthresh
        );
    }
    let (_, with, with_took, with_rtx) = results[0];
    assert_eq!(with.tail_loss_probes, 1, "one probe");
    assert_eq!(with.timeouts, 0, "no RTO");
    assert_eq!(with_rtx, 1, "the probe was the only retransmission");
    assert!(
        with.cwnd >= 10 * MSS,
        "no loss window: cwnd {} after the probe",
        with.cwnd
    );
    let (_, without, without_took, _) = results[1];
    assert_eq!(without.tail_loss_probes, 0);
    assert_eq!(without.timeouts, 1, "without SACK the RTO repairs the tail");
    assert!(
        with_took <= without_took,
        "{with_took:?} vs {without_took:?}"
    );
}

/// A filter that drops the first `times` transmissions of the data segment at stream
/// offset `offset` (from the first data byte it sees).
fn drop_repeatedly(
    offset: u32,
    times: u32,
) -> impl FnMut(&synack_sim::FilterContext<'_>) -> FilterAction {
    let mut base: Option<u32> = None;
    let mut left = times;
    move |ctx| {
        let Some(p) = ctx.packet.as_ref() else {
            return FilterAction::Deliver;
        };
        if p.payload.is_empty() {
            return FilterAction::Deliver;
        }
        let base = *base.get_or_insert(p.tcp.seq);
        if p.tcp.seq.wrapping_sub(base) == offset && left > 0 {
            left -= 1;
            return FilterAction::Drop;
        }
        FilterAction::Deliver
    }
}

/// A retransmission is lost too. Counting duplicate ACKs cannot see that (the hole is
/// already being repaired); RACK can: segments sent after the retransmission are
/// SACKed, so once a reordering window has passed the retransmission is deemed lost and
/// sent again — no timeout.
#[test]
fn rack_detects_a_lost_retransmission_without_a_timeout() {
    let rtt = ms(60);
    let link = LinkConfig::default().latency(rtt / 2).rate(50_000_000);
    let mut net = Net::new(9, Config::default(), Config::default(), link.clone(), link).traced();
    let f = net.add_upload(2_000_000, Instant::ZERO);
    let (c, s) = (net.client, net.server);
    net.sim.set_filter(c, s, drop_repeatedly(60 * MSS, 2));
    net.run_until_done(Instant::from_millis(60_000));
    assert_eq!(net.flows[f].received, 2_000_000);
    let st = net.sender_stats(f);
    let rtx = retransmissions(&net);
    println!(
        "lost retransmission: {} retransmissions, {} segments deemed lost, {} fast \
         recoveries, {} timeouts",
        rtx.len(),
        st.segments_lost,
        st.fast_recoveries,
        st.timeouts
    );
    assert_eq!(st.timeouts, 0, "no RTO");
    assert_eq!(
        rtx.len(),
        2,
        "the segment was sent three times in all: {rtx:?}"
    );
    assert_eq!(
        rtx[0].1, rtx[1].1,
        "both retransmissions are of the lost segment"
    );
    assert_eq!(
        st.segments_lost, 2,
        "the segment and then its retransmission"
    );
}

/// Limited transmit (RFC 3042): with a small window, the first two duplicate ACKs each
/// let one new segment out, so that a third duplicate ACK can come and start fast
/// retransmit instead of a timeout. With SACK the pipe estimate does this by itself
/// (RFC 6675 §5); without SACK each duplicate ACK counts as a segment delivered.
#[test]
fn limited_transmit_sends_new_data_on_the_first_duplicate_acks() {
    for sack in [true, false] {
        let config = Config {
            sack,
            initial_cwnd_segments: 4,
            ..Config::default()
        };
        let link = LinkConfig::default().latency(ms(30));
        let mut net = Net::new(10, config.clone(), config, link.clone(), link).traced();
        let f = net.add_upload(40_000, Instant::ZERO);
        let (c, s) = (net.client, net.server);
        let seg = MSS; // timestamps are on either way
        net.sim.set_filter(c, s, drop_offsets(vec![seg]));
        net.run_until_done(Instant::from_millis(60_000));
        assert_eq!(net.flows[f].received, 40_000);
        let st = net.sender_stats(f);
        // What the client sent between the first duplicate ACK's arrival and the fast
        // retransmission.
        let first_seq = net
            .sim
            .packets()
            .iter()
            .find_map(|r| {
                (r.from == Some(c))
                    .then(|| {
                        r.parse()
                            .filter(|p| !p.payload.is_empty())
                            .map(|p| p.tcp.seq)
                    })
                    .flatten()
            })
            .unwrap();
        let hole = first_seq.wrapping_add(seg);
        let first_dupack = net
            .sim
            .packets()
            .iter()
            .filter(|r| r.from == Some(s))
            .find_map(|r| {
                let p = r.parse()?;
                match r.outcome {
                    Outcome::Delivered { at } if p.tcp.ack == hole => Some(at),
                    _ => None,
                }
            })
            .expect("a duplicate ACK");
        let rtx_at = retransmissions(&net)[0].0;
        let new_between = net
            .sim
            .packets()
            .iter()
            .filter(|r| r.from == Some(c) && !r.retransmission)
            .filter(|r| r.sent_at >= first_dupack && r.sent_at <= rtx_at)
            .filter(|r| r.parse().is_some_and(|p| !p.payload.is_empty()))
            .count();
        println!(
            "limited transmit, SACK {sack}: {new_between} new segments between the first \
             duplicate ACK and the fast retransmission; {} fast recoveries, {} timeouts",
            st.fast_recoveries, st.timeouts
        );
        assert!(
            new_between >= 2,
            "two new segments on the first duplicate ACKs"
        );
        assert_eq!(st.timeouts, 0);
        assert_eq!(st.fast_recoveries, 1);
    }
}

/// A path that delays 2 % of the segments by 4 ms (about 16 segment times at
/// 50 Mbit/s): RACK learns that the path reorders (a segment delivered below one
/// already SACKed), uses its reordering window from then on, and lets late segments
/// arrive instead of retransmitting them; the link is kept busy. (The first reordered
/// segments, before anything is known, cost a spurious fast retransmit each; undoing
/// the window reduction they caused is not implemented.)
#[test]
fn reordering_is_tolerated_once_seen() {
    let rate = 50_000_000u64;
    let link = LinkConfig::default()
        .latency(ms(20))
        .rate(rate)
        .queue(500_000);
    let mut net = Net::new(
        11,
        Config::default(),
        Config::default(),
        link.clone().reorder(0.02, ms(4)),
        link,
    );
    let f = net.add_upload(u64::MAX, Instant::ZERO);
    net.run_for(secs(12));
    let from = net.sim.now();
    let before = net.flows[f].received;
    net.run_for(secs(8));
    let goodput = (net.flows[f].received - before) as f64 * 8.0
        / net.sim.now().saturating_since(from).as_secs_f64();
    let st = net.sender_stats(f);
    let sent = st.segments_sent;
    println!(
        "reordering 2 % by 4 ms: {:.1} Mbit/s over the last 8 s; reordering seen {}; {} of \
         {} segments retransmitted, {} D-SACKs, {} fast recoveries, {} timeouts",
        goodput / 1e6,
        st.reordering_seen,
        st.segments_retransmitted,
        sent,
        st.dsacks_received,
        st.fast_recoveries,
        st.timeouts
    );
    assert!(st.reordering_seen);
    assert!(
        st.segments_retransmitted * 200 < sent,
        "almost no spurious retransmission: {} of {sent}",
        st.segments_retransmitted
    );
    assert!(goodput >= 0.8 * rate as f64, "{goodput}");
}

// ---- Congestion control ----

/// Random loss of 1 % on a 100 Mbit/s bottleneck with a 50 ms round trip: the goodput
/// of NewReno and of CUBIC is within a factor of two of the Mathis et al. bound
/// `MSS / RTT × 1.22 / √p` (about 2.8 Mbit/s here: the loss, not the link, limits).
#[test]
fn goodput_under_random_loss_follows_the_mathis_bound() {
    let rtt = ms(50);
    let p: f64 = 0.01;
    let bound = f64::from(MSS) * 8.0 / rtt.as_secs_f64() * 1.22 / p.sqrt();
    for algo in [CongestionAlgorithm::NewReno, CongestionAlgorithm::Cubic] {
        let mut ratios = Vec::new();
        for seed in [10, 11, 12] {
            let config = Config {
                congestion_control: algo,
                ..Config::default()
            };
            let base = LinkConfig::default()
                .latency(rtt / 2)
                .rate(100_000_000)
                .queue(625_000);
            let mut net = Net::new(seed, config.clone(), config, base.clone().loss(p), base);
            let f = net.add_upload(u64::MAX, Instant::ZERO);
            net.run_for(secs(10));
            let from = net.sim.now();
            let before = net.flows[f].received;
            net.run_for(secs(60));
            let got = net.flows[f].received - before;
            let goodput = got as f64 * 8.0 / net.sim.now().saturating_since(from).as_secs_f64();
            let st = net.sender_stats(f);
            println!(
                "{:>5} seed {seed}: {:.2} Mbit/s, Mathis bound {:.2} Mbit/s, ratio {:.2}; \
                 {} lost, {} fast recoveries, {} timeouts, {} probes",
                algo.name(),
                goodput / 1e6,
                bound / 1e6,
                goodput / bound,
                st.segments_lost,
                st.fast_recoveries,
                st.timeouts,
                st.tail_loss_probes
            );
            assert_eq!(st.congestion_control, algo);
            ratios.push(goodput / bound);
        }
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        assert!(
            (0.5..=2.0).contains(&mean),
            "{}: goodput / Mathis bound = {mean:.2} ({ratios:?})",
            algo.name()
        );
    }
}

/// Two flows through one drop-tail bottleneck (20 Mbit/s, 40 ms, a queue of one
/// bandwidth-delay product), the second starting 10 s after the first. Two CUBIC flows
/// converge to within 25 % of each other's share; a CUBIC and a NewReno flow both make
/// progress (each gets a real part of the link).
#[test]
fn flows_sharing_a_bottleneck_converge_and_both_progress() {
    let rate = 20_000_000u64;
    let rtt = ms(40);
    let bdp = (rate / 8) as usize * 40 / 1000;
    let bottleneck = LinkConfig::default().latency(rtt / 2).rate(rate).queue(bdp);
    let back = LinkConfig::default().latency(rtt / 2).rate(rate);
    for (second, seed) in [
        (CongestionAlgorithm::Cubic, 20),
        (CongestionAlgorithm::NewReno, 21),
    ] {
        let mut net = Net::new(
            seed,
            Config::default(),
            Config::default(),
            bottleneck.clone(),
            back.clone(),
        );
        let a = net.add_upload(u64::MAX, Instant::ZERO);
        let b = net.add_upload(u64::MAX, Instant::from_millis(10_000));
        let (cl, tx) = (net.client, net.flows[b].tx);
        net.sim
            .endpoint_mut(cl)
            .set_congestion_control(tx, second)
            .unwrap();
        net.run_for(secs(100));
        let end = net.sim.now();
        let from = end - secs(60);
        let share = |f: &Flow| (f.received_by(end) - f.received_by(from)) as f64 * 8.0 / 60.0;
        let (ga, gb) = (share(&net.flows[a]), share(&net.flows[b]));
        let (sa, sb) = (net.sender_stats(a), net.sender_stats(b));
        println!(
            "cubic + {}: {:.2} and {:.2} Mbit/s over the last 60 s (link {:.0} Mbit/s, \
             {:.0} % used); ratio {:.2}; recoveries {} / {}, timeouts {} / {}",
            second.name(),
            ga / 1e6,
            gb / 1e6,
            rate as f64 / 1e6,
            (ga + gb) / rate as f64 * 100.0 * 1500.0 / f64::from(MSS),
            ga.min(gb) / ga.max(gb),
            sa.fast_recoveries,
            sb.fast_recoveries,
            sa.timeouts,
            sb.timeouts
        );
        assert_eq!(sb.congestion_control, second);
        assert!(
            (ga + gb) * 1500.0 / f64::from(MSS) >= 0.8 * rate as f64,
            "the bottleneck is kept busy"
        );
        match second {
            CongestionAlgorithm::Cubic => assert!(
                ga.min(gb) / ga.max(gb) >= 0.75,
                "two CUBIC flows within 25 % of each other: {ga:.0} vs {gb:.0}"
            ),
            CongestionAlgorithm::NewReno => assert!(
                ga.min(gb) >= 0.1 * rate as f64,
                "both make progress: {ga:.0} vs {gb:.0}"
            ),
        }
    }
}

// ---- Timestamps ----

/// The client's ISS in a simulator built from `seed` the way [`Net`] builds it.
fn client_iss(seed: u64) -> u32 {
    let mut sim = Sim::new(seed);
    let c = sim.add_host("client", Config::default(), &[CLIENT]);
    sim.add_host("server", Config::default(), &[SERVER]);
    sim.endpoint_mut(c)
        .connect(
            Instant::ZERO,
            SocketAddr::new(CLIENT, 0),
            SocketAddr::new(SERVER, PORT),
        )
        .expect("connect");
    let mut buf = [0u8; 1500];
    let n = sim
        .endpoint_mut(c)
        .poll_transmit(Instant::ZERO, &mut buf)
        .expect("a SYN");
    synack_wire::parse_packet(&buf[..n]).expect("valid").tcp.seq
}

/// PAWS (RFC 7323 §5): after the sequence numbers have wrapped, a segment that carries
/// an old timestamp is a duplicate from an earlier trip round the sequence space, even
/// though its sequence number lies in the window. The receiver drops it — its bytes
/// never reach the application — and answers with an ACK; the stream goes on intact.
#[test]
fn paws_drops_an_old_segment_after_the_sequence_numbers_wrap() {
    // A seed whose ISS lies a few megabytes below 2^32, so that the transfer wraps.
    let seed = (0..100_000u64)
        .find(|s| (1_000_000..4_000_000).contains(&0u32.wrapping_sub(client_iss(*s))))
        .expect("some seed puts the ISS just below the wrap");
    let iss = client_iss(seed);
    let link = LinkConfig::default().latency(ms(10)).rate(100_000_000);
    let mut net = Net::new(
        seed,
        Config::default(),
        Config::default(),
        link.clone(),
        link,
    )
    .traced();
    let total = 6_000_000u64;
    let f = net.add_upload(total, Instant::ZERO);
    net.run_until_done(Instant::from_millis(60_000));
    net.run_for(secs(1)); // everything acknowledged, the connection idle
                          // The oldest data segment of the connection: its timestamp is the one replayed.
    let (c, s) = (net.client, net.server);
    let old = net
        .sim
        .packets()
        .iter()
        .filter(|r| r.from == Some(c))
        .find_map(|r| r.parse().filter(|p| !p.payload.is_empty()).map(|p| p.tcp))
        .unwrap();
    // Where the connection is now: the last segment each way.
    let last_from = |host: HostId| {
        net.sim
            .packets()
            .iter()
            .rev()
            .find_map(|r| {
                (r.from == Some(host))
                    .then(|| r.parse().map(|p| p.tcp))
                    .flatten()
            })
            .unwrap()
    };
    let (client_now, server_now) = (last_from(c), last_from(s));
    let rcv_nxt = server_now.ack;
    assert!(
        (rcv_nxt.wrapping_sub(iss) as i32) > 0 && rcv_nxt < iss,
        "the sequence numbers wrapped: ISS {iss}, now {rcv_nxt}"
    );
    let old_ts = old.options.timestamps.expect("timestamps in use");
    let now_ts = client_now.options.timestamps.unwrap();
    assert!(
        (now_ts.tsval.wrapping_sub(old_ts.tsval) as i32) > 0,
        "the replayed timestamp is older"
    );
    // The old duplicate: an in-window sequence number (exactly RCV.NXT), old TSval.
    let forged = TcpRepr {
        seq: rcv_nxt,
        ack: client_now.ack,
        flags: TcpFlags::ACK | TcpFlags::PSH,
        window: client_now.window,
        options: TcpOptions {
            timestamps: Some(Timestamps {
                tsval: old_ts.tsval,
                tsecr: now_ts.tsecr,
            }),
            ..TcpOptions::default()
        },
        ..old
    };
    let mut buf = vec![0u8; 1500];
    let n = synack_wire::emit_packet(&mut buf, CLIENT, SERVER, 64, &forged, &[0xEE; 500])
        .expect("emit");
    let at = net.sim.now() + ms(1);
    let injected = net.sim.inject(s, at, buf[..n].to_vec());
    net.run_for(secs(1));
    let server = net.stats(s, net.flows[f].rx);
    assert_eq!(server.paws_rejected, 1, "PAWS dropped the old segment");
    assert_eq!(
        net.flows[f].received, total,
        "none of its bytes reached the application"
    );
    let answer = net
        .sim
        .packets()
        .iter()
        .skip(injected + 1)
        .filter(|r| r.from == Some(s))
        .find_map(|r| r.parse().map(|p| (r.sent_at, p.tcp)))
        .expect("an answer");
    assert_eq!(answer.0, at, "answered at once (RFC 7323 §5.3 R1)");
    assert!(
        answer.1.flags.ack() && answer.1.ack == rcv_nxt,
        "a duplicate ACK"
    );
    // The stream goes on, intact (the pump checks every byte).
    net.flows[f].total += 1_000_000;
    net.run_until_done(net.sim.now() + secs(60));
    assert_eq!(net.flows[f].received, total + 1_000_000);
    println!(
        "PAWS: seed {seed}, ISS {iss:#010x}, RCV.NXT after {total} bytes {rcv_nxt:#010x}; \
         TSval {} replayed against TS.Recent ≥ {}: dropped and answered with ACK={}",
        old_ts.tsval, now_ts.tsval, answer.1.ack
    );
}

/// Stop-and-wait writes over a path whose round trip jumps from 100 ms to 800 ms. The
/// first segment after the jump is retransmitted (the timer still expects 100 ms). With
/// timestamps, the ACK of that segment still yields an 800 ms sample — the echo says
/// which transmission it answers (RFC 7323 §4) — and the RTO follows at once. Without
/// them, Karn's rule forbids samples from retransmitted segments: the estimate learns
/// only from a later segment that was not retransmitted.
#[test]
fn timestamps_give_rtt_samples_for_retransmitted_segments() {
    let mut outcomes = Vec::new();
    for timestamps in [true, false] {
        let config = Config {
            timestamps,
            nodelay: true,
            ..Config::default()
        };
        let link = LinkConfig::default().latency(ms(50));
        let mut net = Net::new(5, config.clone(), config, link.clone(), link).traced();
        let f = net.add_upload(0, Instant::ZERO);
        let (c, s) = (net.client, net.server);
        let write = |net: &mut Net| {
            net.flows[f].total += 100;
            let total = net.flows[f].total;
            net.run(net.sim.now() + secs(30), |fl| fl[0].received >= total);
            // Wait for the ACK too.
            net.run_for(secs(2));
        };
        for _ in 0..4 {
            write(&mut net);
        }
        let before = net.sender_stats(f);
        let jump = net.sim.now();
        let slow = LinkConfig::default().latency(ms(400));
        net.sim.set_link(c, s, slow.clone());
        net.sim.set_link(s, c, slow);
        let mut per_write = Vec::new();
        for _ in 0..4 {
            let start = net.sim.now();
            write(&mut net);
            let st = net.sender_stats(f);
            // The samples this write's ACK gave, and whether its segment was resent.
            let samples: Vec<Duration> = net
                .sim
                .events_of(c)
                .filter(|e| e.at > start)
                .filter_map(|e| match &e.kind {
                    TraceKind::Metrics(m) => m.rtt_sample,
                    _ => None,
                })
                .collect();
            let resent = net.sim.events_of(c).any(|e| {
                e.at > start
                    && matches!(
                        e.kind,
                        TraceKind::Sent {
                            retransmission: true,
                            ..
                        }
                    )
            });
            per_write.push((resent, samples, st.rto, st.timeouts));
        }
        println!(
            "timestamps {timestamps}: before the jump SRTT {:?} RTO {:?}; after, per write \
             (resent, samples, RTO, timeouts so far): {:?}",
            before.srtt.unwrap(),
            before.rto,
            per_write
        );
        let _ = jump;
        outcomes.push((before.timeouts, per_write));
    }
    // The receiver delays its ACK of a lone small segment by 40 ms: the round trip an
    // ACK measures is 840 ms.
    let rtt = ms(840);
    let (_, with) = &outcomes[0];
    let (resent, samples, rto, timeouts) = &with[0];
    assert!(*resent, "the first write after the jump was retransmitted");
    assert_eq!(
        samples,
        &[rtt],
        "its ACK still gave the 840 ms sample (RFC 7323 §4)"
    );
    assert!(*rto >= rtt, "and the RTO follows it at once: {rto:?}");
    assert!(
        with.iter().all(|w| w.3 == *timeouts),
        "no timeout after the first write: {with:?}"
    );
    assert!(
        with.iter().all(|(_, samples, _, _)| samples == &[rtt]),
        "every write gives a sample, retransmitted or not"
    );
    let (timeouts_before, without) = &outcomes[1];
    for (resent, samples, _, _) in without {
        if *resent {
            assert!(
                samples.is_empty(),
                "Karn: no sample from a retransmitted segment: {samples:?}"
            );
        }
    }
    assert!(
        without[0].0,
        "without timestamps the first write is resent too"
    );
    assert!(
        without
            .iter()
            .any(|(resent, samples, _, _)| !resent && samples == &[rtt]),
        "the estimate learns from a later segment that was not resent: {without:?}"
    );
    assert!(without.last().unwrap().3 > *timeouts_before);
}

// ---- Negotiation ----

/// Every segment one host sent, parsed.
fn segments_from(net: &Net, host: HostId) -> Vec<TcpRepr> {
    net.sim
        .packets()
        .iter()
        .filter(|r| r.from == Some(host))
        .filter_map(|r| r.parse().map(|p| p.tcp))
        .collect()
}

/// Each option (window scale, timestamps, SACK) is used only when both SYNs carried it:
/// switched off on either side, the SYN-ACK does not carry it, no later segment uses it,
/// and both ends' statistics agree. A lost segment shows whether SACK blocks flow.
#[test]
fn each_option_is_used_only_when_both_syns_carry_it() {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Opt {
        WindowScale,
        Timestamps,
        Sack,
    }
    let off = |opt: Opt| {
        let mut c = Config::default();
        match opt {
            Opt::WindowScale => c.window_scaling = false,
            Opt::Timestamps => c.timestamps = false,
            Opt::Sack => c.sack = false,
        }
        c
    };
    for opt in [Opt::WindowScale, Opt::Timestamps, Opt::Sack] {
        for (client_on, server_on) in [(true, true), (false, true), (true, false)] {
            let cc = if client_on {
                Config::default()
            } else {
                off(opt)
            };
            let sc = if server_on {
                Config::default()
            } else {
                off(opt)
            };
            let link = LinkConfig::default().latency(ms(10));
            let mut net = Net::new(6, cc, sc, link.clone(), link).traced();
            let f = net.add_upload(200_000, Instant::ZERO);
            let (c, s) = (net.client, net.server);
            // Segments carry 1448 bytes with the timestamp option, 1460 without.
            let with_ts = opt != Opt::Timestamps || (client_on && server_on);
            let seg = if with_ts { 1448 } else { 1460 };
            net.sim.set_filter(c, s, drop_offsets(vec![20 * seg]));
            net.run_until_done(Instant::from_millis(60_000));
            assert_eq!(net.flows[f].received, 200_000);
            let both = client_on && server_on;
            let syn = segments_from(&net, c)[0];
            let syn_ack = segments_from(&net, s)[0];
            assert!(syn.flags.syn() && !syn.flags.ack() && syn_ack.flags.syn());
            let carries = |t: &TcpRepr| match opt {
                Opt::WindowScale => t.options.window_scale.is_some(),
                Opt::Timestamps => t.options.timestamps.is_some(),
                Opt::Sack => t.options.sack_permitted,
            };
            assert_eq!(
                carries(&syn),
                client_on,
                "{opt:?}: the SYN offers it if configured"
            );
            assert_eq!(
                carries(&syn_ack),
                both,
                "{opt:?}: the SYN-ACK only answers an offer"
            );
            let later: Vec<TcpRepr> = segments_from(&net, c)
                .into_iter()
                .chain(segments_from(&net, s))
                .filter(|t| !t.flags.syn() && !t.flags.rst())
                .collect();
            match opt {
                Opt::WindowScale => {
                    // The server's window, as the client reads it: scaled by the shift
                    // of the server's SYN-ACK only if both offered scaling. Auto-tuning
                    // takes it past 64 KiB only then.
                    let shift = syn_ack.options.window_scale.filter(|_| both).unwrap_or(0);
                    let widest = segments_from(&net, s)
                        .iter()
                        .filter(|t| !t.flags.syn())
                        .map(|t| u32::from(t.window) << shift)
                        .max()
                        .unwrap();
                    assert_eq!(
                        widest > 65_535,
                        both,
                        "{opt:?} {client_on}/{server_on}: {widest}"
                    );
                    let buffer = net.stats(s, net.flows[f].rx).recv_buffer;
                    assert_eq!(buffer > 65_535, both, "receive buffer {buffer}");
                }
                Opt::Timestamps => {
                    assert!(later.iter().all(|t| t.options.timestamps.is_some() == both));
                }
                Opt::Sack => {
                    let sacks = later.iter().filter(|t| !t.options.sack.is_empty()).count();
                    assert_eq!(
                        sacks > 0,
                        both,
                        "{opt:?}: {sacks} segments with SACK blocks"
                    );
                }
            }
            for (host, conn) in [(c, net.flows[f].tx), (s, net.flows[f].rx)] {
                let st = net.stats(host, conn);
                let used = match opt {
                    Opt::WindowScale => st.snd_wscale.is_some() && st.rcv_wscale.is_some(),
                    Opt::Timestamps => st.timestamps,
                    Opt::Sack => st.sack,
                };
                assert_eq!(used, both, "{opt:?} in the statistics");
            }
        }
    }
}

/// A peer that offers no option at all (as an RFC 793 stack would) gets a plain RFC
/// 9293 connection: only MSS in the SYN-ACK, no option on any later segment, windows of
/// at most 65,535 bytes, and loss repaired by duplicate ACKs (fast retransmit and
/// NewReno partial ACKs) instead of SACK.
#[test]
fn a_peer_without_options_gets_a_plain_rfc9293_connection() {
    let plain = Config {
        window_scaling: false,
        timestamps: false,
        sack: false,
        ..Config::default()
    };
    let link = LinkConfig::default().latency(ms(20));
    let mut net = Net::new(7, plain, Config::default(), link.clone(), link).traced();
    let f = net.add_upload(500_000, Instant::ZERO);
    let (c, s) = (net.client, net.server);
    net.sim
        .set_filter(c, s, drop_offsets(vec![30 * 1460, 34 * 1460, 60 * 1460]));
    net.run_until_done(Instant::from_millis(60_000));
    assert_eq!(net.flows[f].received, 500_000);
    let syn_ack = segments_from(&net, s)[0];
    assert_eq!(
        syn_ack.options,
        TcpOptions {
            mss: Some(1460),
            ..TcpOptions::default()
        },
        "the SYN-ACK carries the MSS only"
    );
    for t in segments_from(&net, s).iter().chain(&segments_from(&net, c)) {
        if !t.flags.syn() {
            assert_eq!(t.options, TcpOptions::default(), "no options: {t:?}");
        }
    }
    let server = net.stats(s, net.flows[f].rx);
    assert!(server.recv_buffer <= 65_535, "no window beyond 64 KiB");
    let client = net.sender_stats(f);
    assert!(!client.sack && !client.timestamps && client.snd_wscale.is_none());
    assert!(
        client.fast_recoveries >= 1,
        "duplicate ACKs started recovery"
    );
    assert_eq!(client.tail_loss_probes, 0, "no TLP without SACK");
    println!(
        "plain peer: {} fast recoveries, {} timeouts, {} retransmissions",
        client.fast_recoveries, client.timeouts, client.segments_retransmitted
    );
}

// ---- Receive-buffer auto-tuning ----

/// The receive buffer grows with the bandwidth-delay product the transfer measures, not
/// beyond: a short, slow path keeps a small buffer; a long fast one gets one that covers
/// its BDP; and `recv_buffer_max` bounds it (the sender is then window-limited to
/// `recv_buffer_max / RTT`).
#[test]
fn receive_buffer_follows_the_bandwidth_delay_product_up_to_the_bound() {
    let run = |rate: u64, rtt: Duration, server: Config| {
        let link = LinkConfig::default().latency(rtt / 2).rate(rate);
        let mut net = Net::new(8, Config::default(), server, link.clone(), link);
        let f = net.add_upload(u64::MAX, Instant::ZERO);
        net.run_for(secs(5));
        let from = net.sim.now();
        let before = net.flows[f].received;
        net.run_for(secs(5));
        let goodput = (net.flows[f].received - before) as f64 * 8.0 / 5.0;
        let _ = from;
        let st = net.stats(net.server, net.flows[f].rx);
        (st.recv_buffer, goodput)
    };
    let (small, small_rate) = run(10_000_000, ms(10), Config::default());
    let bdp = 100_000_000 / 8 / 10; // 100 Mbit/s × 100 ms = 1.25 MB
    let (large, large_rate) = run(100_000_000, ms(100), Config::default());
    let bounded_config = Config {
        recv_buffer_max: 512 * 1024,
        ..Config::default()
    };
    let (bounded, bounded_rate) = run(100_000_000, ms(100), bounded_config);
    println!(
        "auto-tuning: 10 Mbit/s × 10 ms → {small} bytes ({:.1} Mbit/s); 100 Mbit/s × \
         100 ms → {large} bytes ({:.1} Mbit/s); bounded at 512 KiB → {bounded} bytes \
         ({:.1} Mbit/s)",
        small_rate / 1e6,
        large_rate / 1e6,
        bounded_rate / 1e6
    );
    assert!(
        small <= 256 * 1024,
        "a 12.5 KB BDP needs no large buffer: {small}"
    );
    assert!(
        small_rate >= 9e6 * 0.9,
        "and the path is still filled: {small_rate}"
    );
    assert!(large >= bdp, "grown to the BDP: {large}");
    assert!(large_rate >= 90e6, "and the path is filled: {large_rate}");
    assert_eq!(bounded, 512 * 1024, "stopped at the bound");
    let window_limited = (512.0 * 1024.0) * 8.0 / 0.1;
    assert!(
        bounded_rate <= window_limited * 1.05 && bounded_rate >= window_limited * 0.8,
        "window-limited to about {window_limited:.0} bit/s: {bounded_rate:.0}"
    );
}

/// Slow start overshoots a shallow queue (1 Gbit/s, 100 ms, a queue of an eighth of
/// the BDP): thousands of segments of one window are dropped. SACK recovery (RFC 6675,
/// RACK, PRR) repairs all of it without a retransmission timeout, each lost segment
/// resent once or, if the retransmission is lost too, again.
#[test]
fn a_window_of_thousands_of_losses_is_repaired_without_a_timeout() {
    let rate = 1_000_000_000u64;
    let bdp = (rate / 8) as usize / 10;
    let link = LinkConfig::default()
        .latency(ms(50))
        .rate(rate)
        .queue(bdp / 8);
    let mut net = Net::new(1, Config::default(), Config::default(), link.clone(), link);
    let total = 60_000_000u64;
    let f = net.add_upload(total, Instant::ZERO);
    net.run_until_done(Instant::from_millis(60_000));
    assert_eq!(net.flows[f].received, total);
    let st = net.sender_stats(f);
    println!(
        "slow-start overshoot: {} segments lost, {} retransmitted, {} fast recoveries, \
         {} timeouts; 60 MB in {:.2} s",
        st.segments_lost,
        st.segments_retransmitted,
        st.fast_recoveries,
        st.timeouts,
        net.flows[f].time_of(total).unwrap().as_nanos() as f64 / 1e9
    );
    assert!(
        st.segments_lost > 1000,
        "the queue overflowed: {}",
        st.segments_lost
    );
    assert_eq!(st.timeouts, 0, "no RTO");
    assert_eq!(st.tail_loss_probes, 0);
    assert!(st.segments_retransmitted <= st.segments_lost);
}

/// Every other segment of 1,400 in one large flight (8 MB into a transfer at 1 Gbit/s
/// and 20 ms RTT, once slow start has opened the windows) is lost, so the receiver
/// holds 700 separate out-of-order ranges at once, as it does when a Linux sender with
/// a 16 MiB window goes through a lossy path. The receiver keeps every one of them and
/// SACKs them, so the sender repairs all 700 holes in one SACK recovery without a
/// timeout. (With room for only 32 ranges, the rest were dropped unSACKed, and a Linux
/// sender stalled on timeouts.)
#[test]
fn a_receiver_holds_hundreds_of_holes_and_sacks_them_all() {
    let link = LinkConfig::default().latency(ms(10)).rate(1_000_000_000);
    let mut net = Net::new(3, Config::default(), Config::default(), link.clone(), link);
    let total = 20_000_000u64;
    let f = net.add_upload(total, Instant::ZERO);
    let first = 5800u32; // 8.4 MB in
    let lost: Vec<u32> = (first..first + 1400).step_by(2).map(|k| k * MSS).collect();
    let (c, s) = (net.client, net.server);
    net.sim.set_filter(c, s, drop_offsets(lost.clone()));
    net.run_until_done(Instant::from_millis(60_000));
    assert_eq!(net.flows[f].received, total);
    let st = net.sender_stats(f);
    let rx = net.stats(net.server, net.flows[f].rx);
    println!(
        "{} holes at once: receiver refused {} segments; sender lost {}, retransmitted \
         {}, {} fast recoveries, {} timeouts",
        lost.len(),
        rx.out_of_order_refused,
        st.segments_lost,
        st.segments_retransmitted,
        st.fast_recoveries,
        st.timeouts
    );
    assert_eq!(
        rx.out_of_order_refused, 0,
        "every out-of-order segment kept"
    );
    assert_eq!(st.timeouts, 0, "no RTO");
    assert_eq!(st.fast_recoveries, 1, "one recovery episode");
    assert_eq!(st.segments_lost, lost.len() as u64);
    let resent = st.segments_retransmitted;
    let holes = lost.len() as u64;
    assert!(
        resent >= holes && resent <= holes + holes / 100,
        "each hole resent about once: {resent} for {holes}"
    );
}
