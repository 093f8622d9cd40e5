//! `etherparse`, an independent implementation, as an oracle: it reads what we emit the
//! way we meant it, and we read what it builds the way it meant it.

mod common;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    IpHeaders, IpNumber, Ipv4Extensions, Ipv4Header, Ipv6Extensions, Ipv6FlowLabel, Ipv6Header,
    Ipv6RawExtHeader, Ipv6RoutingExtensions, NetHeaders, PacketBuilder, PacketHeaders,
    PayloadSlice, TcpHeader, TcpOptionElement, TransportHeader,
};
use proptest::prelude::*;
use synack_wire::{
    parse_packet, SackBlock, SackList, TcpFlags, TcpOption, TcpOptionIter, TcpOptions, TcpSegment,
    Timestamps,
};

/// Our raw option list in etherparse's terms (EOL, which ends the list, dropped).
fn to_etherparse(options: &[u8]) -> Vec<TcpOptionElement> {
    TcpOptionIter::new(options)
        .map(|o| o.expect("valid options"))
        .filter(|o| *o != TcpOption::Eol)
        .map(|o| match o {
            TcpOption::Nop => TcpOptionElement::Noop,
            TcpOption::Mss(v) => TcpOptionElement::MaximumSegmentSize(v),
            TcpOption::WindowScale(v) => TcpOptionElement::WindowScale(v),
            TcpOption::SackPermitted => TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOption::Sack(list) => {
                let blocks = list.as_slice();
                let mut rest = [None; 3];
                for (slot, b) in rest.iter_mut().zip(&blocks[1..]) {
                    *slot = Some((b.left, b.right));
                }
                TcpOptionElement::SelectiveAcknowledgement((blocks[0].left, blocks[0].right), rest)
            }
            TcpOption::Timestamps(ts) => TcpOptionElement::Timestamp(ts.tsval, ts.tsecr),
            other => panic!("etherparse has no element for {other:?}"),
        })
        .collect()
}

/// The summary our parser should make of an etherparse option list: later options win,
/// window scale clamped to 14 (RFC 7323 §2.3).
fn summary(elements: &[TcpOptionElement]) -> TcpOptions {
    let mut opts = TcpOptions::default();
    for e in elements {
        match *e {
            TcpOptionElement::Noop => {}
            TcpOptionElement::MaximumSegmentSize(v) => opts.mss = Some(v),
            TcpOptionElement::WindowScale(v) => opts.window_scale = Some(v.min(14)),
            TcpOptionElement::SelectiveAcknowledgementPermitted => opts.sack_permitted = true,
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                let mut list = SackList::default();
                for (left, right) in core::iter::once(first).chain(rest.into_iter().flatten()) {
                    list.push(SackBlock { left, right });
                }
                opts.sack = list;
            }
            TcpOptionElement::Timestamp(tsval, tsecr) => {
                opts.timestamps = Some(Timestamps { tsval, tsecr })
            }
        }
    }
    opts
}

fn flags_of(h: &TcpHeader) -> TcpFlags {
    let mut f = TcpFlags::empty();
    for (on, flag) in [
        (h.fin, TcpFlags::FIN),
        (h.syn, TcpFlags::SYN),
        (h.rst, TcpFlags::RST),
        (h.psh, TcpFlags::PSH),
        (h.ack, TcpFlags::ACK),
        (h.urg, TcpFlags::URG),
        (h.ece, TcpFlags::ECE),
        (h.cwr, TcpFlags::CWR),
    ] {
        f = f.with(flag, on);
    }
    f
}

fn element() -> impl Strategy<Value = TcpOptionElement> {
    prop_oneof![
        Just(TcpOptionElement::Noop),
        any::<u16>().prop_map(TcpOptionElement::MaximumSegmentSize),
        any::<u8>().prop_map(TcpOptionElement::WindowScale),
        Just(TcpOptionElement::SelectiveAcknowledgementPermitted),
        (
            any::<(u32, u32)>(),
            proptest::collection::vec(any::<(u32, u32)>(), 0..=3)
        )
            .prop_map(|(first, more)| {
                let mut rest = [None; 3];
                for (slot, b) in rest.iter_mut().zip(more) {
                    *slot = Some(b);
                }
                TcpOptionElement::SelectiveAcknowledgement(first, rest)
            }),
        any::<(u32, u32)>().prop_map(|(a, b)| TcpOptionElement::Timestamp(a, b)),
    ]
}

fn element_len(e: &TcpOptionElement) -> usize {
    match e {
        TcpOptionElement::Noop => 1,
        TcpOptionElement::MaximumSegmentSize(_) => 4,
        TcpOptionElement::WindowScale(_) => 3,
        TcpOptionElement::SelectiveAcknowledgementPermitted => 2,
        TcpOptionElement::SelectiveAcknowledgement(_, rest) => {
            10 + 8 * rest.iter().flatten().count()
        }
        TcpOptionElement::Timestamp(..) => 10,
    }
}

/// Option lists of at most 40 bytes.
fn elements() -> impl Strategy<Value = Vec<TcpOptionElement>> {
    proptest::collection::vec(element(), 0..8).prop_map(|mut v| {
        while v.iter().map(element_len).sum::<usize>() > 40 {
            v.pop();
        }
        v
    })
}

prop_compose! {
    fn tcp_header()(
        ports in any::<(u16, u16)>(),
        seq in any::<u32>(),
        ack in any::<u32>(),
        bits in any::<[bool; 9]>(),
        window in any::<u16>(),
        urgent in any::<u16>(),
        elements in elements(),
    ) -> (TcpHeader, Vec<TcpOptionElement>) {
        let mut h = TcpHeader::new(ports.0, ports.1, seq, window);
        h.acknowledgment_number = ack;
        [h.ns, h.fin, h.syn, h.rst, h.psh, h.ack, h.urg, h.ece, h.cwr] = bits;
        h.urgent_pointer = urgent;
        h.options = etherparse::TcpOptions::try_from_elements(&elements).unwrap();
        (h, elements)
    }
}

/// IPv6 extension header payload made of one PadN option: 6 + 8k bytes.
fn padn_payload() -> impl Strategy<Value = Vec<u8>> {
    (0usize..3).prop_map(|k| {
        let mut p = vec![0u8; 6 + 8 * k];
        p[0] = 1;
        p[1] = (p.len() - 2) as u8;
        p
    })
}

/// A Routing header payload (type, segments left 0, data), 6 + 8k bytes.
fn routing_payload() -> impl Strategy<Value = Vec<u8>> {
    (0usize..3, any::<u8>(), any::<[u8; 20]>()).prop_map(|(k, kind, data)| {
        let mut p = vec![0u8; 6 + 8 * k];
        p[0] = kind;
        p[1] = 0;
        for (b, d) in p[2..].iter_mut().zip(data.iter().cycle()) {
            *b = *d;
        }
        p
    })
}

fn ip_headers() -> impl Strategy<Value = IpHeaders> {
    let v4 = (
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        any::<u8>(),
        0u8..64,
        0u8..4,
        any::<u16>(),
        any::<bool>(),
        (0usize..=10).prop_flat_map(|words| proptest::collection::vec(any::<u8>(), words * 4)),
    )
        .prop_map(|(s, d, ttl, dscp, ecn, ident, df, options)| {
            let mut h = Ipv4Header::new(0, ttl, IpNumber::TCP, s, d).unwrap();
            h.dscp = dscp.try_into().unwrap();
            h.ecn = ecn.try_into().unwrap();
            h.identification = ident;
            h.dont_fragment = df;
            h.options = options.as_slice().try_into().unwrap();
            IpHeaders::Ipv4(h, Ipv4Extensions::default())
        });
    let v6 = (
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<u8>(),
        any::<u8>(),
        0u32..(1 << 20),
        proptest::option::of(padn_payload()),
        proptest::option::of(padn_payload()),
        proptest::option::of(routing_payload()),
    )
        .prop_map(|(s, d, hop_limit, tc, flow, hbh, dst_opts, routing)| {
            let raw = |p: Vec<u8>| Ipv6RawExtHeader::new_raw(IpNumber::TCP, &p).unwrap();
            let h = Ipv6Header {
                traffic_class: tc,
                flow_label: Ipv6FlowLabel::try_new(flow).unwrap(),
                payload_length: 0,
                next_header: IpNumber::TCP,
                hop_limit,
                source: s,
                destination: d,
            };
            let exts = Ipv6Extensions {
                hop_by_hop_options: hbh.map(raw),
                destination_options: dst_opts.map(raw),
                routing: routing.map(|r| Ipv6RoutingExtensions {
                    routing: raw(r),
                    final_destination_options: None,
                }),
                fragment: None,
                auth: None,
            };
            IpHeaders::Ipv6(h, exts)
        });
    prop_oneof![v4, v6]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// etherparse reads every field of what we emit as we meant it, and finds both
    /// checksums valid by its own computation.
    #[test]
    fn etherparse_agrees_with_what_we_emit(
        (src, dst) in common::addrs(),
        hop_limit in any::<u8>(),
        repr in common::repr(),
        payload in common::payload(),
    ) {
        let buf = common::emit(src, dst, hop_limit, &repr, &payload);
        let headers = PacketHeaders::from_ip_slice(&buf).expect("etherparse parses it");

        let tcp = match headers.transport {
            Some(TransportHeader::Tcp(tcp)) => tcp,
            other => panic!("not TCP: {other:?}"),
        };
        let tcp_payload = match headers.payload {
            PayloadSlice::Tcp(p) => p,
            other => panic!("not a TCP payload: {other:?}"),
        };
        prop_assert_eq!(tcp_payload, &payload[..]);

        match headers.net {
            Some(NetHeaders::Ipv4(ip, exts)) => {
                prop_assert_eq!(IpAddr::V4(Ipv4Addr::from(ip.source)), src);
                prop_assert_eq!(IpAddr::V4(Ipv4Addr::from(ip.destination)), dst);
                prop_assert_eq!(ip.time_to_live, hop_limit);
                prop_assert_eq!(ip.protocol, IpNumber::TCP);
                prop_assert_eq!(ip.identification, 0);
                prop_assert!(ip.dont_fragment);
                prop_assert!(!ip.more_fragments);
                prop_assert_eq!(ip.fragment_offset.value(), 0);
                prop_assert_eq!(ip.dscp.value(), 0);
                prop_assert_eq!(ip.ecn.value(), 0);
                prop_assert_eq!(usize::from(ip.total_len), buf.len());
                prop_assert!(ip.options.is_empty());
                prop_assert!(exts.is_empty());
                prop_assert_eq!(ip.header_checksum, ip.calc_header_checksum());
                prop_assert_eq!(tcp.checksum, tcp.calc_checksum_ipv4(&ip, &payload).unwrap());
            }
            Some(NetHeaders::Ipv6(ip, exts)) => {
                prop_assert_eq!(IpAddr::V6(Ipv6Addr::from(ip.source)), src);
                prop_assert_eq!(IpAddr::V6(Ipv6Addr::from(ip.destination)), dst);
                prop_assert_eq!(ip.hop_limit, hop_limit);
                prop_assert_eq!(ip.next_header, IpNumber::TCP);
                prop_assert_eq!(ip.traffic_class, 0);
                prop_assert_eq!(ip.flow_label.value(), 0);
                prop_assert_eq!(usize::from(ip.payload_length) + 40, buf.len());
                prop_assert!(exts.is_empty());
                prop_assert_eq!(tcp.checksum, tcp.calc_checksum_ipv6(&ip, &payload).unwrap());
            }
            other => panic!("not IP: {other:?}"),
        }

        prop_assert_eq!(tcp.source_port, repr.src_port);
        prop_assert_eq!(tcp.destination_port, repr.dst_port);
        prop_assert_eq!(tcp.sequence_number, repr.seq);
        prop_assert_eq!(tcp.acknowledgment_number, repr.ack);
        prop_assert_eq!(flags_of(&tcp), repr.flags);
        prop_assert!(!tcp.ns);
        prop_assert_eq!(tcp.window_size, repr.window);
        prop_assert_eq!(tcp.urgent_pointer, repr.urgent);
        prop_assert_eq!(tcp.header_len(), repr.header_len());

        let theirs: Vec<TcpOptionElement> = tcp
            .options_iterator()
            .collect::<Result<_, _>>()
            .expect("etherparse reads our options");
        prop_assert_eq!(&theirs, &to_etherparse(tcp.options.as_slice()));
        prop_assert_eq!(summary(&theirs), repr.options);
    }

    /// We read every field of packets etherparse builds (IPv4 options, IPv6 extension
    /// headers, NS bit and any option list included) as etherparse meant it.
    #[test]
    fn we_agree_with_what_etherparse_builds(
        ip in ip_headers(),
        (tcp, elements) in tcp_header(),
        payload in common::payload(),
    ) {
        let (src, dst, hop_limit) = match &ip {
            IpHeaders::Ipv4(h, _) => (
                IpAddr::V4(h.source.into()),
                IpAddr::V4(h.destination.into()),
                h.time_to_live,
            ),
            IpHeaders::Ipv6(h, _) => (
                IpAddr::V6(h.source.into()),
                IpAddr::V6(h.destination.into()),
                h.hop_limit,
            ),
        };
        let builder = PacketBuilder::ip(ip).tcp_header(tcp.clone());
        let mut buf = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut buf, &payload).unwrap();

        let parsed = parse_packet(&buf).expect("we parse what etherparse builds");
        prop_assert_eq!(parsed.src, src);
        prop_assert_eq!(parsed.dst, dst);
        prop_assert_eq!(parsed.hop_limit, hop_limit);
        prop_assert_eq!(parsed.payload, &payload[..]);
        let r = parsed.tcp;
        prop_assert_eq!(r.src_port, tcp.source_port);
        prop_assert_eq!(r.dst_port, tcp.destination_port);
        prop_assert_eq!(r.seq, tcp.sequence_number);
        prop_assert_eq!(r.ack, tcp.acknowledgment_number);
        prop_assert_eq!(r.flags, flags_of(&tcp));
        prop_assert_eq!(r.window, tcp.window_size);
        prop_assert_eq!(r.urgent, tcp.urgent_pointer);
        prop_assert_eq!(r.options, summary(&elements));

        // The raw option list matches element for element.
        let tcp_start = buf.len() - payload.len() - tcp.header_len();
        let seg = TcpSegment::new_checked(&buf[tcp_start..]).unwrap();
        prop_assert_eq!(seg.reserved() & 1, u8::from(tcp.ns));
        prop_assert_eq!(to_etherparse(seg.options()), elements);
    }
}
