//! Packets on the wire: building the datagrams a script injects (TCP with its options
//! exactly as written, and ICMP errors quoting one of our segments), decoding what the
//! stack sends, and printing either in the script's own notation.

use crate::ast::{FlagSpec, OptionSpec};
use core::fmt::Write as _;
use core::net::IpAddr;
use synack_wire::checksum::{self, Checksum};
use synack_wire::{
    ip_protocol, ipv4, ipv6, SackBlock, SackList, TcpOption, TcpOptionIter, Timestamps,
};

/// IP header fields a script may set (inbound) or check (outbound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpFields {
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// DSCP (the upper six bits of TOS / traffic class).
    pub dscp: u8,
    /// The two ECN bits.
    pub ecn: u8,
}

impl Default for IpFields {
    fn default() -> Self {
        IpFields {
            ttl: 64,
            dscp: 0,
            ecn: 0,
        }
    }
}

/// A TCP segment to build, every field already in live (wire) values.
#[derive(Debug, Clone)]
pub struct TcpOut {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub urgent: u16,
    /// Raw option bytes, in the order written; padded with EOL to a multiple of four.
    pub options: Vec<u8>,
    pub payload_len: usize,
    pub ip: IpFields,
}

/// Encode a script's option list (already mapped to live values) as raw bytes.
pub fn encode_options(list: &[OptionSpec]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for opt in list {
        let wire = match opt {
            OptionSpec::Eol => TcpOption::Eol,
            OptionSpec::Nop => TcpOption::Nop,
            OptionSpec::Mss(v) => TcpOption::Mss(*v),
            OptionSpec::WindowScale(v) => TcpOption::WindowScale(*v),
            OptionSpec::SackPermitted => TcpOption::SackPermitted,
            OptionSpec::Sack(blocks) => {
                let mut list = SackList::default();
                for &(left, right) in blocks {
                    if !list.push(SackBlock { left, right }) {
                        return Err("more than four SACK blocks".into());
                    }
                }
                if list.is_empty() {
                    return Err("a SACK option needs at least one block".into());
                }
                TcpOption::Sack(list)
            }
            OptionSpec::Timestamps { val, ecr } => TcpOption::Timestamps(Timestamps {
                tsval: *val,
                tsecr: *ecr,
            }),
            OptionSpec::Unsupported(name) => {
                return Err(format!("the `{name}` option is not supported"))
            }
        };
        let mut buf = [0u8; 40];
        let n = wire.emit(&mut buf).map_err(|e| e.to_string())?;
        out.extend_from_slice(&buf[..n]);
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    if out.len() > synack_wire::options::MAX_OPTIONS_LEN {
        return Err(format!(
            "{} bytes of TCP options do not fit a header",
            out.len()
        ));
    }
    Ok(out)
}

/// Build an IP datagram carrying `seg` (payload: zeros).
pub fn build_tcp(seg: &TcpOut) -> Result<Vec<u8>, String> {
    let doff = 20 + seg.options.len();
    let tcp_len = doff + seg.payload_len;
    let mut tcp = vec![0u8; tcp_len];
    tcp[0..2].copy_from_slice(&seg.src_port.to_be_bytes());
    tcp[2..4].copy_from_slice(&seg.dst_port.to_be_bytes());
    tcp[4..8].copy_from_slice(&seg.seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&seg.ack.to_be_bytes());
    tcp[12] = ((doff / 4) as u8) << 4;
    tcp[13] = seg.flags;
    tcp[14..16].copy_from_slice(&seg.window.to_be_bytes());
    tcp[18..20].copy_from_slice(&seg.urgent.to_be_bytes());
    tcp[20..doff].copy_from_slice(&seg.options);
    let mut c = checksum::pseudo_header(seg.src, seg.dst, ip_protocol::TCP, tcp_len)
        .map_err(|e| e.to_string())?;
    let sum = c.add_bytes(&tcp).finish();
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    wrap_ip(seg.src, seg.dst, ip_protocol::TCP, seg.ip, &tcp)
}

/// Put `payload` in an IP header from `src` to `dst`.
pub fn wrap_ip(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    f: IpFields,
    payload: &[u8],
) -> Result<Vec<u8>, String> {
    let tos = (f.dscp << 2) | (f.ecn & 3);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut buf = vec![0u8; ipv4::HEADER_LEN + payload.len()];
            ipv4::emit_header(&mut buf, s, d, f.ttl, protocol, payload.len())
                .map_err(|e| e.to_string())?;
            let mut p = synack_wire::Ipv4Packet::new_unchecked(&mut buf[..]);
            p.set_dscp_ecn(f.dscp, f.ecn);
            p.fill_checksum();
            buf[ipv4::HEADER_LEN..].copy_from_slice(payload);
            Ok(buf)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut buf = vec![0u8; ipv6::HEADER_LEN + payload.len()];
            ipv6::emit_header(&mut buf, s, d, f.ttl, protocol, payload.len())
                .map_err(|e| e.to_string())?;
            let mut p = synack_wire::Ipv6Packet::new_unchecked(&mut buf[..]);
            p.set_version_class_flow(tos, 0);
            buf[ipv6::HEADER_LEN..].copy_from_slice(payload);
            Ok(buf)
        }
        _ => Err("address families differ".into()),
    }
}

/// An ICMP or ICMPv6 error (RFC 792, RFC 4443) from `from` to `to`, quoting the start
/// of a datagram `quoted` (as the sender of the error received it).
pub fn build_icmp(
    from: IpAddr,
    to: IpAddr,
    kind: u8,
    code: u8,
    rest: u32,
    quoted: &[u8],
) -> Result<Vec<u8>, String> {
    let mut msg = vec![0u8; 8];
    msg[0] = kind;
    msg[1] = code;
    msg[4..8].copy_from_slice(&rest.to_be_bytes());
    msg.extend_from_slice(quoted);
    let protocol = if from.is_ipv4() {
        let sum = checksum::checksum(&msg);
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        1
    } else {
        let mut c: Checksum = checksum::pseudo_header(from, to, ip_protocol::ICMPV6, msg.len())
            .map_err(|e| e.to_string())?;
        let sum = c.add_bytes(&msg).finish();
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        ip_protocol::ICMPV6
    };
    wrap_ip(from, to, protocol, IpFields::default(), &msg)
}

/// ICMP type, code and the 32 bits after the checksum for a script's `icmp KIND CODE`.
pub fn icmp_numbers(
    ipv6: bool,
    kind: &str,
    code: Option<&str>,
    mtu: Option<u32>,
) -> Option<(u8, u8, u32)> {
    let code_n = |table: &[(&str, u8)]| -> Option<u8> {
        match code {
            None => Some(0),
            Some(c) => {
                if let Some(n) = c.strip_prefix("code_") {
                    return n.parse().ok();
                }
                table.iter().find(|(n, _)| *n == c).map(|(_, v)| *v)
            }
        }
    };
    let mtu = mtu.unwrap_or(0);
    if !ipv6 {
        match kind {
            "unreachable" => {
                let c = code_n(&[
                    ("net_unreachable", 0),
                    ("host_unreachable", 1),
                    ("protocol_unreachable", 2),
                    ("port_unreachable", 3),
                    ("frag_needed", 4),
                    ("source_route_failed", 5),
                    ("net_unknown", 6),
                    ("host_unknown", 7),
                    ("source_host_isolated", 8),
                    ("net_prohibited", 9),
                    ("host_prohibited", 10),
                    ("net_unreachable_for_tos", 11),
                    ("host_unreachable_for_tos", 12),
                    ("packet_filtered", 13),
                    ("precedence_violation", 14),
                    ("precedence_cutoff", 15),
                ])?;
                Some((3, c, if c == 4 { mtu & 0xffff } else { 0 }))
            }
            "source_quench" => Some((4, 0, 0)),
            "redirect" => Some((5, code_n(&[("net", 0), ("host", 1)])?, 0)),
            "time_exceeded" => Some((
                11,
                code_n(&[("ttl_exceeded_in_transit", 0), ("frag_reass_exceeded", 1)])?,
                0,
            )),
            "parameter_problem" => Some((12, code_n(&[])?, 0)),
            _ => None,
        }
    } else {
        match kind {
            "unreachable" => {
                // packetdrill accepts the ICMPv4 names in IPv6 scripts and maps them.
                let c = code_n(&[
                    ("no_route", 0),
                    ("net_unreachable", 0),
                    ("admin_prohibited", 1),
                    ("net_prohibited", 1),
                    ("host_prohibited", 1),
                    ("beyond_scope", 2),
                    ("not_neighbour", 2),
                    ("not_neighbor", 2),
                    ("address_unreachable", 3),
                    ("host_unreachable", 3),
                    ("port_unreachable", 4),
                    ("source_address_failed", 5),
                    ("reject_route", 6),
                ]);
                match (c, code) {
                    (Some(c), _) => Some((1, c, 0)),
                    // "protocol unreachable" is a Parameter Problem in IPv6 (RFC 4443 §3.4).
                    (None, Some("protocol_unreachable")) => Some((4, 1, 40 + 6)),
                    _ => None,
                }
            }
            "packet_too_big" => Some((2, 0, mtu)),
            "time_exceeded" => Some((
                3,
                code_n(&[
                    ("exceeded_hop_limit", 0),
                    ("ttl_exceeded_in_transit", 0),
                    ("frag_reass_exceeded", 1),
                    ("exceeded_frag_time", 1),
                ])?,
                0,
            )),
            "parameter_problem" => Some((
                4,
                code_n(&[
                    ("erroneous_header", 0),
                    ("header_field", 0),
                    ("unknown_next_header", 1),
                    ("unrecognized_option", 2),
                    ("unknown_option", 2),
                ])?,
                0,
            )),
            _ => None,
        }
    }
}

/// A segment the stack sent, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: FlagSpec,
    pub window: u16,
    pub urgent: u16,
    /// The options in wire order (NOP and EOL included).
    pub options: Vec<WireOption>,
    pub payload_len: usize,
    pub ip: IpFields,
}

/// One option as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireOption {
    Eol,
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(u32, u32)>),
    Timestamps { val: u32, ecr: u32 },
    Other(u8, Vec<u8>),
}

/// Decode a datagram the stack emitted. Checksums are verified: a segment with a bad
/// checksum is an error of the stack, not something to compare.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let parsed =
        synack_wire::parse_packet(bytes).map_err(|e| format!("malformed datagram: {e}"))?;
    let (ip_len, tos) = match bytes[0] >> 4 {
        4 => (usize::from(bytes[0] & 0x0f) * 4, bytes[1]),
        _ => {
            if bytes.get(6) != Some(&ip_protocol::TCP) {
                return Err("IPv6 extension headers in an emitted datagram".into());
            }
            (40, ((bytes[0] & 0x0f) << 4) | (bytes[1] >> 4))
        }
    };
    let tcp = &bytes[ip_len..];
    let doff = usize::from(tcp[12] >> 4) * 4;
    let mut options = Vec::new();
    let raw = &tcp[20..doff];
    let mut consumed = 0;
    for item in TcpOptionIter::new(raw) {
        let opt = item.map_err(|e| format!("malformed options: {e}"))?;
        consumed += opt.wire_len();
        options.push(match opt {
            TcpOption::Eol => WireOption::Eol,
            TcpOption::Nop => WireOption::Nop,
            TcpOption::Mss(v) => WireOption::Mss(v),
            TcpOption::WindowScale(v) => WireOption::WindowScale(v),
            TcpOption::SackPermitted => WireOption::SackPermitted,
            TcpOption::Sack(list) => {
                WireOption::Sack(list.as_slice().iter().map(|b| (b.left, b.right)).collect())
            }
            TcpOption::Timestamps(ts) => WireOption::Timestamps {
                val: ts.tsval,
                ecr: ts.tsecr,
            },
            TcpOption::Unknown { kind, data } => WireOption::Other(kind, data.to_vec()),
        });
    }
    // Bytes after an EOL are padding (MUST-69); report them as EOLs, as packetdrill would
    // when comparing bytes.
    for _ in consumed..raw.len() {
        options.push(WireOption::Eol);
    }
    Ok(Decoded {
        src: parsed.src,
        dst: parsed.dst,
        src_port: parsed.tcp.src_port,
        dst_port: parsed.tcp.dst_port,
        seq: parsed.tcp.seq,
        ack: parsed.tcp.ack,
        flags: FlagSpec::from_bits(parsed.tcp.flags.bits()),
        window: parsed.tcp.window,
        urgent: parsed.tcp.urgent,
        options,
        payload_len: parsed.payload.len(),
        ip: IpFields {
            ttl: parsed.hop_limit,
            dscp: tos >> 2,
            ecn: tos & 3,
        },
    })
}

/// A segment in script notation (`S. 0:0(0) ack 1 win 65535 <mss 1460,...>`), with
/// sequence numbers already mapped to script space.
pub fn format_segment(
    flags: FlagSpec,
    seq: Option<u32>,
    len: u32,
    ack: Option<u32>,
    win: Option<u32>,
    urg: u16,
    options: &str,
) -> String {
    let mut s = format!("{flags}");
    if s.is_empty() {
        s.push('-');
    }
    match seq {
        Some(seq) => {
            let _ = write!(s, " {seq}:{}({len})", seq.wrapping_add(len));
        }
        None => {
            let _ = write!(s, " ...({len})");
        }
    }
    if let Some(ack) = ack {
        let _ = write!(s, " ack {ack}");
    }
    if let Some(win) = win {
        let _ = write!(s, " win {win}");
    }
    if urg != 0 {
        let _ = write!(s, " urg {urg}");
    }
    if !options.is_empty() {
        let _ = write!(s, " {options}");
    }
    s
}

/// Options in script notation, `<mss 1460,nop,wscale 7>`.
pub fn format_wire_options(opts: &[WireOption]) -> String {
    if opts.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = opts
        .iter()
        .map(|o| match o {
            WireOption::Eol => "eol".into(),
            WireOption::Nop => "nop".into(),
            WireOption::Mss(v) => format!("mss {v}"),
            WireOption::WindowScale(v) => format!("wscale {v}"),
            WireOption::SackPermitted => "sackOK".into(),
            WireOption::Sack(blocks) => {
                let b: Vec<String> = blocks.iter().map(|(l, r)| format!("{l}:{r}")).collect();
                format!("sack {}", b.join(" "))
            }
            WireOption::Timestamps { val, ecr } => format!("TS val {val} ecr {ecr}"),
            WireOption::Other(kind, data) => format!("opt{kind}[{} bytes]", data.len()),
        })
        .collect();
    format!("<{}>", parts.join(","))
}

/// A script's option list in script notation.
pub fn format_spec_options(opts: &[OptionSpec]) -> String {
    let parts: Vec<String> = opts
        .iter()
        .map(|o| match o {
            OptionSpec::Eol => "eol".into(),
            OptionSpec::Nop => "nop".into(),
            OptionSpec::Mss(v) => format!("mss {v}"),
            OptionSpec::WindowScale(v) => format!("wscale {v}"),
            OptionSpec::SackPermitted => "sackOK".into(),
            OptionSpec::Sack(blocks) => {
                let b: Vec<String> = blocks.iter().map(|(l, r)| format!("{l}:{r}")).collect();
                format!("sack {}", b.join(" "))
            }
            OptionSpec::Timestamps { val, ecr } => format!("TS val {val} ecr {ecr}"),
            OptionSpec::Unsupported(name) => name.clone(),
        })
        .collect();
    format!("<{}>", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    #[test]
    fn built_segments_parse_back_with_options_in_script_order() {
        let options = encode_options(&[
            OptionSpec::Mss(1460),
            OptionSpec::SackPermitted,
            OptionSpec::Eol,
            OptionSpec::Eol,
        ])
        .unwrap();
        assert_eq!(options, vec![2, 4, 5, 0xb4, 4, 2, 0, 0]);
        let seg = TcpOut {
            src: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
            dst: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            src_port: 5000,
            dst_port: 8080,
            seq: 7,
            ack: 0,
            flags: 0x02,
            window: 32767,
            urgent: 0,
            options,
            payload_len: 3,
            ip: IpFields::default(),
        };
        let bytes = build_tcp(&seg).unwrap();
        let d = decode(&bytes).unwrap();
        assert_eq!((d.seq, d.window, d.payload_len), (7, 32767, 3));
        assert!(d.flags.syn && !d.flags.ack);
        assert_eq!(
            d.options,
            vec![
                WireOption::Mss(1460),
                WireOption::SackPermitted,
                WireOption::Eol,
                WireOption::Eol
            ]
        );
        assert_eq!(format_wire_options(&d.options), "<mss 1460,sackOK,eol,eol>");
    }

    #[test]
    fn odd_option_lengths_are_padded_and_too_many_blocks_rejected() {
        assert_eq!(
            encode_options(&[OptionSpec::Nop]).unwrap(),
            vec![1, 0, 0, 0]
        );
        assert!(encode_options(&[OptionSpec::Sack(vec![(1, 2); 5])]).is_err());
        assert!(encode_options(&[OptionSpec::Unsupported("md5".into())]).is_err());
    }

    #[test]
    fn icmp_codes() {
        assert_eq!(
            icmp_numbers(false, "unreachable", Some("port_unreachable"), None),
            Some((3, 3, 0))
        );
        assert_eq!(
            icmp_numbers(false, "unreachable", Some("frag_needed"), Some(1234)),
            Some((3, 4, 1234))
        );
        assert_eq!(
            icmp_numbers(true, "time_exceeded", Some("exceeded_hop_limit"), None),
            Some((3, 0, 0))
        );
        assert_eq!(
            icmp_numbers(false, "parameter_problem", Some("code_2"), None),
            Some((12, 2, 0))
        );
        assert_eq!(icmp_numbers(false, "bogus", None, None), None);
    }
}
