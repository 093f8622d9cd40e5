//! ICMP and ICMPv6 errors about our segments (RFC 9293 §3.9.2.2, MUST-54): an error
//! message quotes the start of the datagram that caused it, which names the connection
//! (its 4-tuple) and the segment (its sequence number).
//!
//! - **Validation** (RFC 5927 §4.1): an error is believed only if the quoted sequence
//!   number lies in SND.UNA ≤ seq < SND.MAX — data we sent and is not yet
//!   acknowledged. Anything else is a stale or forged message and is ignored.
//! - **Hard errors** (§3.9.2.2: Destination Unreachable codes 2–3, protocol and port
//!   unreachable; the "administratively prohibited" codes 9, 10, 13 of RFC 1812 §5.2.7.1;
//!   ICMPv6 codes 1, 4, 5, 6 of RFC 4443 §3.1 and Parameter Problem code 1, the IPv6
//!   "protocol unreachable", RFC 4443 §3.4): "a TCP implementation SHOULD abort the
//!   connection" (SHLD-26). synack aborts while the connection is being opened
//!   (SYN-SENT) and treats them as soft errors once it is synchronized, as RFC 5461 §4
//!   recommends (a hard error for an established connection is too easy to forge and
//!   often transient). `Config::icmp_hard_errors_abort` switches the abort off.
//! - **Soft errors** (Destination Unreachable codes 0, 1, 5 and the rest, Time
//!   Exceeded, Parameter Problem): "a TCP implementation MUST NOT abort the connection"
//!   (MUST-56); Source Quench is discarded (MUST-55). They change nothing.
//! - **Packet Too Big** (ICMPv6 type 2, and IPv4 code 4 "fragmentation needed", which
//!   RFC 1191 turns from a hard error into path MTU news): not acted on — path MTU
//!   discovery is not implemented (our MSS follows the configured MTU).

use crate::connection::Connection;
use crate::endpoint::CloseReason;
use crate::outbox::Ctx;
use crate::{FourTuple, SeqNum, State};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack_wire::{checksum, ip_protocol, ipv6, Ipv4Packet, Ipv6Packet};

/// IPv4's protocol number for ICMP (RFC 792).
const ICMPV4: u8 = 1;

/// What an ICMP error means for TCP (RFC 9293 §3.9.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IcmpClass {
    /// Protocol or port unreachable, administratively prohibited.
    Hard,
    /// Everything else that may concern TCP: MUST-56, never abort.
    Soft,
    /// Packet Too Big / Fragmentation Needed: path MTU news.
    PacketTooBig,
}

/// An ICMP error about one of our TCP segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IcmpError {
    pub class: IcmpClass,
    /// The connection, as we see it: the quoted datagram's source is our side.
    pub tuple: FourTuple,
    /// The quoted segment's sequence number.
    pub seq: SeqNum,
    /// The error's own source and destination (the reporting router, and us).
    pub src: IpAddr,
    pub dst: IpAddr,
}

/// Classify ICMPv4 `(type, code)` (RFC 792, RFC 1122 §4.2.3.9, RFC 1812 §5.2.7.1);
/// `None` for messages that are not errors TCP cares about (Source Quench, MUST-55;
/// Redirect, which is the IP layer's; queries).
fn class_v4(kind: u8, code: u8) -> Option<IcmpClass> {
    match (kind, code) {
        (3, 2 | 3 | 9 | 10 | 13) => Some(IcmpClass::Hard),
        (3, 4) => Some(IcmpClass::PacketTooBig),
        (3, _) | (11, _) | (12, _) => Some(IcmpClass::Soft),
        _ => None,
    }
}

/// Classify ICMPv6 `(type, code)` (RFC 4443 §3).
fn class_v6(kind: u8, code: u8) -> Option<IcmpClass> {
    match (kind, code) {
        (1, 1 | 4 | 5 | 6) | (4, 1) => Some(IcmpClass::Hard),
        (2, _) => Some(IcmpClass::PacketTooBig),
        (1, _) | (3, _) | (4, _) => Some(IcmpClass::Soft),
        _ => None,
    }
}

/// Parse `packet` as an ICMP or ICMPv6 error quoting a TCP segment. `None` for anything
/// else, or anything malformed (a bad checksum included): dropped silently.
pub(crate) fn parse(packet: &[u8]) -> Option<IcmpError> {
    let first = *packet.first()?;
    let (src, dst, kind, code, quoted) = match first >> 4 {
        4 => {
            let ip = Ipv4Packet::new_checked(packet).ok()?;
            if !ip.verify_checksum() || ip.is_fragment() || ip.protocol() != ICMPV4 {
                return None;
            }
            let (src, dst) = (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()));
            let msg = ip.into_payload();
            if msg.len() < 8 || checksum::sum(msg) != 0xffff {
                return None;
            }
            (src, dst, msg[0], msg[1], &msg[8..])
        }
        6 => {
            let ip = Ipv6Packet::new_checked(packet).ok()?;
            let (src, dst) = (IpAddr::V6(ip.src_addr()), IpAddr::V6(ip.dst_addr()));
            let (proto, msg) =
                ipv6::walk_extension_headers(ip.next_header(), ip.into_payload()).ok()?;
            if proto != ip_protocol::ICMPV6 || msg.len() < 8 {
                return None;
            }
            let mut c = checksum::pseudo_header(src, dst, ip_protocol::ICMPV6, msg.len()).ok()?;
            if c.add_bytes(msg).sum() != 0xffff {
                return None;
            }
            (src, dst, msg[0], msg[1], &msg[8..])
        }
        _ => return None,
    };
    let class = if src.is_ipv4() {
        class_v4(kind, code)?
    } else {
        class_v6(kind, code)?
    };
    let (local, remote, tcp) = quoted_tcp(quoted)?;
    // The first 8 bytes of the quoted TCP header: ports and sequence number.
    let port = |i: usize| u16::from_be_bytes([tcp[i], tcp[i + 1]]);
    let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    Some(IcmpError {
        class,
        tuple: FourTuple {
            local: SocketAddr::new(local, port(0)),
            remote: SocketAddr::new(remote, port(2)),
        },
        seq: SeqNum(seq),
        src,
        dst,
    })
}

/// The quoted datagram's addresses and at least 8 bytes of its TCP header (the quote
/// is truncated, so the header is read by hand, not checked as a whole datagram).
fn quoted_tcp(quoted: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    match quoted.first()? >> 4 {
        4 => {
            let ihl = usize::from(quoted[0] & 0x0f) * 4;
            if ihl < 20 || quoted.len() < ihl + 8 || quoted[9] != ip_protocol::TCP {
                return None;
            }
            let a =
                |i: usize| Ipv4Addr::new(quoted[i], quoted[i + 1], quoted[i + 2], quoted[i + 3]);
            Some((IpAddr::V4(a(12)), IpAddr::V4(a(16)), &quoted[ihl..ihl + 8]))
        }
        6 => {
            if quoted.len() < 48 || quoted[6] != ip_protocol::TCP {
                return None;
            }
            let a = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&quoted[i..i + 16]);
                Ipv6Addr::from(o)
            };
            Some((IpAddr::V6(a(8)), IpAddr::V6(a(24)), &quoted[40..48]))
        }
        _ => None,
    }
}

impl Connection {
    /// An ICMP error about this connection (see the module documentation).
    pub(crate) fn on_icmp_error(&mut self, ctx: &mut Ctx<'_>, err: &IcmpError) {
        // RFC 5927 §4.1: only for data in flight.
        if !(err.seq.ge(self.snd_una) && err.seq.lt(self.snd_max)) {
            return;
        }
        match err.class {
            // SHLD-26 while opening; RFC 5461 §4: soft once synchronized.
            IcmpClass::Hard
                if self.state == State::SynSent && ctx.config.icmp_hard_errors_abort =>
            {
                self.terminate(ctx, CloseReason::Refused);
            }
            // MUST-56 (soft); path MTU discovery is not implemented.
            IcmpClass::Hard | IcmpClass::Soft | IcmpClass::PacketTooBig => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_and_soft_errors_are_told_apart_as_section_3_9_2_2_says() {
        assert_eq!(class_v4(3, 3), Some(IcmpClass::Hard)); // port unreachable
        assert_eq!(class_v4(3, 2), Some(IcmpClass::Hard)); // protocol unreachable
        assert_eq!(class_v4(3, 13), Some(IcmpClass::Hard)); // administratively prohibited
        for code in [0, 1, 5] {
            assert_eq!(class_v4(3, code), Some(IcmpClass::Soft), "code {code}");
        }
        assert_eq!(class_v4(3, 4), Some(IcmpClass::PacketTooBig));
        assert_eq!(class_v4(11, 0), Some(IcmpClass::Soft)); // time exceeded
        assert_eq!(class_v4(4, 0), None); // source quench: discarded (MUST-55)
        assert_eq!(class_v6(1, 4), Some(IcmpClass::Hard)); // port unreachable
        assert_eq!(class_v6(4, 1), Some(IcmpClass::Hard)); // unknown next header
        assert_eq!(class_v6(1, 0), Some(IcmpClass::Soft)); // no route
        assert_eq!(class_v6(2, 0), Some(IcmpClass::PacketTooBig));
        assert_eq!(class_v6(128, 0), None); // echo request
    }

    #[test]
    fn truncated_or_foreign_quotes_are_not_believed() {
        assert!(quoted_tcp(&[]).is_none());
        // An IPv4 header quoting UDP.
        let mut q = [0u8; 28];
        q[0] = 0x45;
        q[9] = 17;
        assert!(quoted_tcp(&q).is_none());
        q[9] = ip_protocol::TCP;
        assert!(quoted_tcp(&q).is_some());
        assert!(quoted_tcp(&q[..27]).is_none());
        assert!(parse(&[0x45; 10]).is_none());
    }
}
