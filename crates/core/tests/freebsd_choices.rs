//! The `Config` switches that give FreeBSD's answer where RFC 9293 leaves a choice
//! open (each field's documentation cites the section): with the switch on, FreeBSD's
//! behaviour; with the default, synack's own.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack::{CloseReason, Config, ConnId, Endpoint, Instant, State};
use synack_wire::{emit_packet, parse_packet, TcpFlags, TcpOptions, TcpRepr};

const LOCAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
/// The peer's initial sequence number.
const IRS: u32 = 5000;

struct Conn {
    ep: Endpoint,
    id: ConnId,
    port: u16,
    /// Our ISS + 1.
    snd: u32,
    now: Instant,
}

impl Conn {
    /// An active open to a peer whose SYN-ACK offers MSS 1460 and SACK but no window
    /// scaling and no timestamps, as the FreeBSD suite's scripts do.
    fn established(config: Config) -> Conn {
        let mut ep = Endpoint::new(config, [7; 16]);
        ep.add_address(IpAddr::V4(LOCAL));
        let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        let id = ep
            .connect(Instant::ZERO, any, SocketAddr::new(IpAddr::V4(PEER), 80))
            .unwrap();
        let port = ep.tuple(id).unwrap().local.port();
        let mut c = Conn {
            ep,
            id,
            port,
            snd: 0,
            now: Instant::ZERO,
        };
        let syn = c.drain().pop().unwrap();
        c.snd = syn.seq.wrapping_add(1);
        let options = TcpOptions {
            mss: Some(1460),
            sack_permitted: true,
            ..TcpOptions::default()
        };
        c.send(IRS, TcpFlags::SYN | TcpFlags::ACK, options);
        c.drain();
        assert_eq!(c.ep.state(id), Some(State::Established));
        c
    }

    fn send(&mut self, seq: u32, flags: TcpFlags, options: TcpOptions) {
        self.now = self.now + core::time::Duration::from_millis(100);
        self.segment(seq, flags, options, b"");
    }

    /// A segment at the current time (no time passes).
    fn segment(&mut self, seq: u32, flags: TcpFlags, options: TcpOptions, payload: &[u8]) {
        let repr = TcpRepr {
            src_port: 80,
            dst_port: self.port,
            seq,
            ack: if flags.ack() { self.snd } else { 0 },
            flags,
            window: 32767,
            urgent: 0,
            options,
        };
        let mut buf = vec![0u8; 1600];
        let n = emit_packet(
            &mut buf,
            IpAddr::V4(PEER),
            IpAddr::V4(LOCAL),
            64,
            &repr,
            payload,
        )
        .unwrap();
        self.ep.handle(self.now, &buf[..n]);
    }

    fn drain(&mut self) -> Vec<TcpRepr> {
        let mut out = Vec::new();
        let mut buf = [0u8; 1600];
        while let Some(n) = self.ep.poll_transmit(self.now, &mut buf) {
            out.push(parse_packet(&buf[..n]).unwrap().tcp);
        }
        out
    }
}

fn freebsd_like() -> Config {
    Config {
        rst_challenge: false,
        recv_buffer_whole_segments: true,
        accept_beyond_advertised: true,
        simultaneous_close_resends_fin: true,
        ack_every_second_segment: true,
        immediate_dsack: true,
        listen_ignores_syn_ack: true,
        ..Config::default()
    }
}

#[test]
fn the_receive_buffer_is_rounded_up_to_whole_segments() {
    let c = Conn::established(freebsd_like());
    // 64 KiB is 44.9 segments of 1460 bytes: 45 segments.
    assert_eq!(c.ep.stats(c.id).unwrap().recv_buffer, 65_700);
    let c = Conn::established(Config::default());
    // Without window scaling synack's own buffer is what the header can advertise.
    assert_eq!(c.ep.stats(c.id).unwrap().recv_buffer, 65_535);
}

#[test]
fn a_reset_inside_the_buffer_but_past_the_advertised_window_resets_when_switched_on() {
    // The window advertised is 65,535 (no window scaling); the buffer holds 65,700.
    let mut c = Conn::established(freebsd_like());
    c.send(IRS + 1 + 65_699, TcpFlags::RST, TcpOptions::default());
    assert_eq!(c.ep.close_reason(c.id), Some(CloseReason::Reset));
    // One past the buffer is outside the window either way.
    let mut c = Conn::established(freebsd_like());
    c.send(IRS + 1 + 65_700, TcpFlags::RST, TcpOptions::default());
    assert_eq!(c.ep.state(c.id), Some(State::Established));
}

#[test]
fn by_default_the_acceptability_test_uses_the_advertised_window() {
    let config = Config {
        rst_challenge: false,
        ..Config::default()
    };
    let mut c = Conn::established(config.clone());
    c.send(IRS + 1 + 65_535, TcpFlags::RST, TcpOptions::default());
    assert_eq!(c.ep.state(c.id), Some(State::Established));
    let mut c = Conn::established(config);
    c.send(IRS + 1 + 65_534, TcpFlags::RST, TcpOptions::default());
    assert_eq!(c.ep.close_reason(c.id), Some(CloseReason::Reset));
}

/// Our FIN goes out; the peer's FIN crosses it (not acknowledging ours): CLOSING.
fn simultaneous_close(config: Config) -> (Conn, Vec<TcpRepr>) {
    let mut c = Conn::established(config);
    c.ep.shutdown(c.now, c.id).unwrap();
    let fin = c.drain();
    assert_eq!(fin.len(), 1);
    assert!(fin[0].flags.fin());
    c.send(
        IRS + 1,
        TcpFlags::FIN | TcpFlags::ACK,
        TcpOptions::default(),
    );
    assert_eq!(c.ep.state(c.id), Some(State::Closing));
    let out = c.drain();
    (c, out)
}

#[test]
fn in_a_simultaneous_close_the_ack_of_the_peers_fin_repeats_ours_when_switched_on() {
    let (mut c, out) = simultaneous_close(freebsd_like());
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].flags, TcpFlags::FIN | TcpFlags::ACK);
    assert_eq!(out[0].seq, c.snd, "the FIN's own sequence number");
    assert_eq!(out[0].ack, IRS + 2, "acknowledges the peer's FIN");
    // Later ACKs in CLOSING are plain: an out-of-window segment gets one.
    c.send(IRS + 1 + 70_000, TcpFlags::ACK, TcpOptions::default());
    let out = c.drain();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].flags, TcpFlags::ACK);
    assert_eq!(out[0].seq, c.snd.wrapping_add(1));
}

#[test]
fn by_default_a_simultaneous_close_acknowledges_the_peers_fin_with_a_bare_ack() {
    // RFC 9293 §3.6 Figure 13, line 3: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    let (c, out) = simultaneous_close(Config::default());
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].flags, TcpFlags::ACK);
    assert_eq!(out[0].seq, c.snd.wrapping_add(1));
    assert_eq!(out[0].ack, IRS + 2);
}

/// Two small in-order data segments arrive back to back; what is sent at once.
fn two_small_segments(config: Config) -> Vec<TcpRepr> {
    let mut c = Conn::established(config);
    c.send(IRS + 1, TcpFlags::ACK, TcpOptions::default());
    c.drain();
    c.segment(IRS + 1, TcpFlags::ACK, TcpOptions::default(), &[1; 10]);
    let first = c.drain();
    assert!(
        first.is_empty(),
        "the first segment's ACK is delayed: {first:?}"
    );
    c.segment(IRS + 11, TcpFlags::ACK, TcpOptions::default(), &[2; 10]);
    c.drain()
}

#[test]
fn the_second_small_segment_is_acknowledged_at_once_when_switched_on() {
    let out = two_small_segments(freebsd_like());
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, IRS + 21);
}

#[test]
fn by_default_small_segments_wait_for_the_delayed_ack() {
    // SHLD-19 counts full-sized segments; 20 bytes wait for the timer (MUST-40).
    assert!(two_small_segments(Config::default()).is_empty());
}

/// 100 bytes in order, then a segment repeating them with 100 new bytes after them.
fn partly_duplicate_segment(config: Config) -> Vec<TcpRepr> {
    let mut c = Conn::established(config);
    c.send(IRS + 1, TcpFlags::ACK, TcpOptions::default());
    c.segment(IRS + 1, TcpFlags::ACK, TcpOptions::default(), &[1; 100]);
    c.now = c.now + core::time::Duration::from_secs(1);
    c.ep.handle_timeout(c.now);
    assert_eq!(c.drain().len(), 1, "the delayed ACK of the first 100 bytes");
    c.segment(IRS + 1, TcpFlags::ACK, TcpOptions::default(), &[1; 200]);
    c.drain()
}

#[test]
fn a_d_sack_is_sent_at_once_when_switched_on() {
    let out = partly_duplicate_segment(freebsd_like());
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, IRS + 201);
    let first = out[0].options.sack.as_slice()[0];
    assert_eq!(
        (first.left, first.right),
        (IRS + 1, IRS + 101),
        "the D-SACK"
    );
}

#[test]
fn by_default_a_d_sack_rides_on_the_delayed_ack() {
    assert!(partly_duplicate_segment(Config::default()).is_empty());
}

/// A SYN-ACK (and then a bare ACK) arrive for a listening socket: the answers.
fn syn_ack_to_a_listener(config: Config) -> (Vec<TcpRepr>, Vec<TcpRepr>) {
    let mut ep = Endpoint::new(config, [7; 16]);
    ep.add_address(IpAddr::V4(LOCAL));
    ep.listen(SocketAddr::new(IpAddr::V4(LOCAL), 80), 8)
        .unwrap();
    let mut answers = Vec::new();
    for flags in [TcpFlags::SYN | TcpFlags::ACK, TcpFlags::ACK] {
        let repr = TcpRepr {
            src_port: 5000,
            dst_port: 80,
            seq: 17,
            ack: 34,
            flags,
            window: 32767,
            urgent: 0,
            options: TcpOptions::default(),
        };
        let mut buf = vec![0u8; 1600];
        let n = emit_packet(
            &mut buf,
            IpAddr::V4(PEER),
            IpAddr::V4(LOCAL),
            64,
            &repr,
            b"",
        )
        .unwrap();
        ep.handle(Instant::ZERO, &buf[..n]);
        let mut out = Vec::new();
        let mut tx = [0u8; 1600];
        while let Some(n) = ep.poll_transmit(Instant::ZERO, &mut tx) {
            out.push(parse_packet(&tx[..n]).unwrap().tcp);
        }
        answers.push(out);
    }
    let ack = answers.pop().unwrap();
    (answers.pop().unwrap(), ack)
}

#[test]
fn a_syn_ack_to_a_listener_is_dropped_silently_when_switched_on() {
    let (syn_ack, ack) = syn_ack_to_a_listener(freebsd_like());
    assert!(syn_ack.is_empty(), "{syn_ack:?}");
    // A bare ACK still gets its reset.
    assert_eq!(ack.len(), 1);
    assert_eq!((ack[0].flags, ack[0].seq), (TcpFlags::RST, 34));
}

#[test]
fn by_default_a_syn_ack_to_a_listener_is_answered_with_a_reset() {
    // RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>.
    let (syn_ack, _) = syn_ack_to_a_listener(Config::default());
    assert_eq!(syn_ack.len(), 1, "{syn_ack:?}");
    assert_eq!((syn_ack[0].flags, syn_ack[0].seq), (TcpFlags::RST, 34));
}
