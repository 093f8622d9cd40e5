//! The wire harness: arbitrary bytes through the parsers of `synack-wire`, and the
//! emit → parse round trip.
//!
//! The first byte of the input picks one of three shapes; the rest is the material:
//!
//! - **Raw datagram.** The bytes go to [`parse_packet`] as they are. What parses must
//!   re-emit (when its options fit a header) into a datagram that parses back to the
//!   same addresses, hop limit, header and payload.
//! - **TCP segment with a valid checksum.** The bytes are a TCP header and payload under
//!   an IPv4 or IPv6 header the harness writes, with the TCP checksum fixed up, so that
//!   every input reaches option parsing instead of dying on the checksum. Same
//!   round-trip check.
//! - **Structured header.** A [`TcpRepr`] built from arbitrary fields is emitted with
//!   [`emit_packet`]; if emission succeeds, parsing must give back exactly the repr and
//!   payload (the parser reads a window-scale shift above 14 as 14, RFC 7323 §2.3, so
//!   the repr is normalised that way first).
//!
//! Whatever [`emit_packet`] writes, [`emit_packet_in_place_summed`] (the sender's
//! emitter, with a path of its own for the usual IPv4 header) must write byte for
//! byte. Every view accessor is also exercised on whatever the structure check
//! accepts, and the option iterator is walked to its end. On every datagram,
//! [`parse_packet_unchecked`] must agree with [`parse_packet`]: the same packet and a
//! checksum that verifies (with the payload summed by it or by the caller) where
//! `parse_packet` accepts, and an error or a checksum that fails where it does not. A failed check panics: under cargo-fuzz
//! that is a finding, under `cargo test` a failed test.

use arbitrary::{Arbitrary, Unstructured};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use synack_wire::{
    checksum, emit_packet, emit_packet_in_place_summed, ip_protocol, ipv4, ipv6,
    options::MAX_OPTIONS_LEN, packet_len, parse_packet, parse_packet_unchecked, payload_offset,
    Ipv4Packet, Ipv6Packet, ParsedPacket, SackBlock, SackList, TcpFlags, TcpOptions, TcpRepr,
    TcpSegment, Timestamps,
};

/// Run one wire-harness input (see the module documentation). Panics on a violated
/// property.
pub fn run_wire(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        let _ = parse_packet(data);
        return;
    };
    match mode % 3 {
        0 => raw_datagram(rest),
        1 => checksummed_segment(rest),
        _ => structured(rest),
    }
}

fn raw_datagram(bytes: &[u8]) {
    exercise_views(bytes);
    unchecked_agrees(bytes);
    if let Ok(p) = parse_packet(bytes) {
        round_trip(&p);
    }
}

/// [`parse_packet_unchecked`] and its verification accept exactly what
/// [`parse_packet`] accepts, and give the same packet.
fn unchecked_agrees(bytes: &[u8]) {
    let checked = parse_packet(bytes);
    match parse_packet_unchecked(bytes) {
        Ok(u) => {
            let verified = u.checksum_ok();
            assert_eq!(
                verified,
                u.checksum_ok_with(checksum::sum(u.packet.payload)),
                "the two verifications disagree"
            );
            match checked {
                Ok(p) => {
                    assert!(verified, "parse_packet accepts what fails verification");
                    assert_eq!(p, u.packet, "the unchecked parse gives another packet");
                }
                Err(e) => assert!(!verified, "verified, but parse_packet says {e:?}"),
            }
        }
        Err(_) => assert!(checked.is_err(), "only the unchecked parse fails"),
    }
}

/// Read every field the views offer, so that an accessor that slices past its buffer
/// would show up.
fn exercise_views(bytes: &[u8]) {
    if let Ok(ip) = Ipv4Packet::new_checked(bytes) {
        let _ = (ip.src_addr(), ip.dst_addr(), ip.ttl(), ip.protocol());
        let _ = (ip.verify_checksum(), ip.is_fragment(), ip.dont_fragment());
        let payload = ip.into_payload();
        exercise_tcp(payload);
    }
    if let Ok(ip) = Ipv6Packet::new_checked(bytes) {
        let _ = (ip.src_addr(), ip.dst_addr(), ip.hop_limit());
        if let Ok((_, upper)) = ipv6::walk_extension_headers(ip.next_header(), ip.into_payload()) {
            exercise_tcp(upper);
        }
    }
    exercise_tcp(bytes);
}

fn exercise_tcp(bytes: &[u8]) {
    if let Ok(seg) = TcpSegment::new_checked(bytes) {
        let _ = (seg.src_port(), seg.dst_port(), seg.seq(), seg.ack());
        let _ = (seg.flags(), seg.window(), seg.urgent(), seg.checksum());
        let _ = (seg.header_len(), seg.payload().len(), seg.options().len());
        // The iterator must end (on error or exhaustion) within one step per byte.
        let mut steps = 0;
        for _ in seg.option_iter() {
            steps += 1;
            assert!(steps <= 40, "option iterator does not end");
        }
        let _ = TcpRepr::parse(&seg);
    }
}

/// `p` re-emitted must parse back to itself, unless its options cannot be emitted
/// (four SACK blocks with other options exceed 40 bytes).
fn round_trip(p: &ParsedPacket<'_>) {
    let options_len = p.tcp.options.wire_len();
    let mut buf = vec![0u8; packet_len(p.src.is_ipv6(), &p.tcp, p.payload.len())];
    match emit_packet(&mut buf, p.src, p.dst, p.hop_limit, &p.tcp, p.payload) {
        Ok(n) => {
            assert_eq!(n, buf.len(), "emit_packet length disagrees with packet_len");
            in_place_agrees(p.src, p.dst, p.hop_limit, &p.tcp, p.payload, &buf);
            let again = parse_packet(&buf[..n])
                .unwrap_or_else(|e| panic!("re-emitted packet does not parse: {e:?}\n{p:?}"));
            assert_eq!(&again, p, "re-emitted packet parses differently");
        }
        Err(e) => assert!(
            options_len > MAX_OPTIONS_LEN,
            "a parsed packet could not be re-emitted: {e:?}\n{p:?}"
        ),
    }
}

/// The sender's emitter, the payload already in place and its sum given (which takes
/// a path of its own for the usual IPv4 header), writes `want`, the datagram
/// [`emit_packet`] wrote for the same header and payload.
fn in_place_agrees(
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    repr: &TcpRepr,
    payload: &[u8],
    want: &[u8],
) {
    let mut buf = vec![0x5au8; want.len()];
    let at = payload_offset(src.is_ipv6(), repr);
    if let Some(place) = buf.get_mut(at..at + payload.len()) {
        place.copy_from_slice(payload);
    }
    let sum = checksum::sum(payload);
    let n = emit_packet_in_place_summed(&mut buf, src, dst, hop_limit, repr, payload.len(), sum);
    assert_eq!(
        n,
        Ok(want.len()),
        "the in-place emitter disagrees: {repr:?}"
    );
    assert_eq!(
        &buf[..],
        want,
        "the in-place emitter wrote another datagram: {repr:?}"
    );
}

/// Addresses chosen by the input: IPv4 or IPv6, never a mix.
fn addresses(u: &mut Unstructured<'_>) -> (IpAddr, IpAddr) {
    if u.arbitrary::<bool>().unwrap_or(false) {
        let s: [u8; 16] = u.arbitrary().unwrap_or_default();
        let d: [u8; 16] = u.arbitrary().unwrap_or_default();
        (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d)))
    } else {
        let s: [u8; 4] = u.arbitrary().unwrap_or_default();
        let d: [u8; 4] = u.arbitrary().unwrap_or_default();
        (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V4(Ipv4Addr::from(d)))
    }
}

fn checksummed_segment(bytes: &[u8]) {
    let mut u = Unstructured::new(bytes);
    let (src, dst) = addresses(&mut u);
    let ttl: u8 = u.arbitrary().unwrap_or(64);
    let segment = u.take_rest();
    let header = if src.is_ipv6() {
        ipv6::HEADER_LEN
    } else {
        ipv4::HEADER_LEN
    };
    let mut buf = vec![0u8; header + segment.len()];
    let (head, tail) = buf.split_at_mut(header);
    tail.copy_from_slice(segment);
    let written = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            ipv4::emit_header(head, s, d, ttl, ip_protocol::TCP, tail.len())
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            ipv6::emit_header(head, s, d, ttl, ip_protocol::TCP, tail.len())
        }
        _ => return,
    };
    if written.is_err() {
        return;
    }
    // The checksum field sits at bytes 16..18 of the TCP header; fix it up when the
    // segment is long enough to have one.
    if tail.len() >= 20 {
        let _ = TcpSegment::new_unchecked(&mut *tail).fill_checksum(src, dst);
    }
    exercise_views(&buf);
    unchecked_agrees(&buf);
    if let Ok(p) = parse_packet(&buf) {
        assert_eq!((p.src, p.dst, p.hop_limit), (src, dst, ttl));
        round_trip(&p);
    }
}

/// A TCP header as the fuzzer sees it (mirrors [`TcpRepr`]).
#[derive(Debug, Arbitrary)]
struct Header {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    urgent: u16,
    mss: Option<u16>,
    window_scale: Option<u8>,
    sack_permitted: bool,
    timestamps: Option<(u32, u32)>,
    sack: Vec<(u32, u32)>,
}

impl Header {
    fn repr(&self) -> TcpRepr {
        let mut sack = SackList::default();
        for &(left, right) in &self.sack {
            sack.push(SackBlock { left, right });
        }
        TcpRepr {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq: self.seq,
            ack: self.ack,
            flags: TcpFlags(self.flags),
            window: self.window,
            urgent: self.urgent,
            options: TcpOptions {
                mss: self.mss,
                window_scale: self.window_scale,
                sack_permitted: self.sack_permitted,
                timestamps: self
                    .timestamps
                    .map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
                sack,
            },
        }
    }
}

fn structured(bytes: &[u8]) {
    let mut u = Unstructured::new(bytes);
    let (src, dst) = addresses(&mut u);
    let Ok(header) = Header::arbitrary(&mut u) else {
        return;
    };
    let hop_limit: u8 = u.arbitrary().unwrap_or(64);
    let payload = u.take_rest();
    let repr = header.repr();
    let mut buf = vec![0u8; packet_len(src.is_ipv6(), &repr, payload.len())];
    let Ok(n) = emit_packet(&mut buf, src, dst, hop_limit, &repr, payload) else {
        assert!(
            repr.options.wire_len() > MAX_OPTIONS_LEN,
            "emit_packet refused an emittable header: {repr:?}"
        );
        return;
    };
    in_place_agrees(src, dst, hop_limit, &repr, payload, &buf[..n]);
    let parsed = parse_packet(&buf[..n])
        .unwrap_or_else(|e| panic!("an emitted packet does not parse: {e:?}\n{repr:?}"));
    let mut expected = repr;
    // RFC 7323 §2.3: a shift above 14 is read as 14.
    expected.options.window_scale = expected.options.window_scale.map(|s| s.min(14));
    assert_eq!(parsed.tcp, expected, "emit → parse changed the header");
    assert_eq!(parsed.payload, payload, "emit → parse changed the payload");
    assert_eq!((parsed.src, parsed.dst), (src, dst));
    assert_eq!(parsed.hop_limit, hop_limit);
}
