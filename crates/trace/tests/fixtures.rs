//! Real captures, made once with tcpdump between two Linux network namespaces (see
//! `fixtures/README.md`): the kernel talking to itself, drawn with the right states for
//! both ends.
//!
//! Golden files live in `tests/golden/`; `SYNACK_UPDATE_GOLDEN=1 cargo test` rewrites
//! them after a deliberate change (then read the diff).

use std::path::{Path, PathBuf};
use std::process::Command;
use synack::State;
use synack_trace::capture::{
    linktype, read_capture, read_capture_file, write_capture, Format, OutPacket,
};
use synack_trace::plot::{render_plot, PlotKind, PlotOptions};
use synack_trace::{
    connections, render_ladder, render_svg_ladder, LadderOptions, Side, SvgLadderOptions,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("SYNACK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).expect("write golden file");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (SYNACK_UPDATE_GOLDEN=1 makes it)", path.display()));
    assert!(got == want, "{} differs; got:\n{got}", path.display());
}

/// Every connection of a capture as `synack ladder` draws it (times relative to the
/// first packet, SYN options).
fn ladders(file: &str) -> String {
    let capture = read_capture_file(&fixture(file)).expect("read the fixture");
    let origin = capture.frames.first().map(|f| f.time);
    let mut out = String::new();
    for c in connections(&capture) {
        out.push_str(&format!("connection {}: {} -> {}\n", c.number, c.a, c.b));
        for note in &c.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        out.push_str(&render_ladder(
            &c.trace,
            &LadderOptions {
                times: true,
                time_origin: origin,
                syn_options: true,
                ..LadderOptions::default()
            },
        ));
    }
    out
}

#[test]
fn kernel_ipv4_capture_has_both_ends_states_right() {
    let capture = read_capture_file(&fixture("kernel_ipv4.pcap")).unwrap();
    assert_eq!(capture.format, Format::Pcap);
    assert_eq!(capture.frames.len(), 12);
    assert!(capture
        .frames
        .iter()
        .all(|f| f.linktype == linktype::ETHERNET));
    let conns = connections(&capture);
    assert_eq!(conns.len(), 2, "an echo connection and a refused one");

    // 1: the client sends, shuts down (FIN), the server answers after the FIN, closes.
    let t = &conns[0].trace;
    let states = |side: Side| -> Vec<State> {
        let mut v = vec![t.peer(side).initial_state];
        v.extend(
            t.transitions()
                .iter()
                .filter(|x| x.side == side)
                .map(|x| x.to),
        );
        v
    };
    use State::*;
    assert_eq!(
        states(Side::A),
        [Closed, SynSent, Established, FinWait1, FinWait2, TimeWait]
    );
    assert_eq!(
        states(Side::B),
        [Listen, SynReceived, Established, CloseWait, LastAck, Closed]
    );
    assert_eq!(conns[0].bytes(), [66, 3013]);
    // 2: nobody listens on 8081: SYN, RST.
    let t2 = &conns[1].trace;
    assert_eq!(t2.peer(Side::B).initial_state, Closed);
    assert_eq!(t2.final_state(Side::A), Closed);
    assert_eq!(t2.final_state(Side::B), Closed);

    golden("kernel_ipv4.txt", &ladders("kernel_ipv4.pcap"));
}

#[test]
fn pcapng_of_the_same_capture_draws_the_same() {
    let a = read_capture_file(&fixture("kernel_ipv4.pcap")).unwrap();
    let b = read_capture_file(&fixture("kernel_ipv4.pcapng")).unwrap();
    assert_eq!(b.format, Format::PcapNg);
    let times =
        |c: &synack_trace::capture::Capture| c.frames.iter().map(|f| f.time).collect::<Vec<_>>();
    assert_eq!(
        times(&a),
        times(&b),
        "same time stamps, whatever the time resolution"
    );
    assert_eq!(ladders("kernel_ipv4.pcap"), ladders("kernel_ipv4.pcapng"));
}

#[test]
fn ipv6_linux_cooked_v2_capture_is_drawn_too() {
    let capture = read_capture_file(&fixture("kernel_ipv6_sll2.pcap")).unwrap();
    assert!(capture
        .frames
        .iter()
        .all(|f| f.linktype == linktype::LINUX_SLL2));
    let conns = connections(&capture);
    assert_eq!(conns.len(), 1);
    assert!(conns[0].a.is_ipv6());
    assert_eq!(conns[0].trace.final_state(Side::A), State::TimeWait);
    assert_eq!(conns[0].trace.final_state(Side::B), State::Closed);
    golden("kernel_ipv6_sll2.txt", &ladders("kernel_ipv6_sll2.pcap"));
}

/// Rewrap the IPv4 fixture's datagrams in other link layers: raw IP (written by our own
/// writer, as pcap and pcapng), Linux cooked v1, BSD null and OpenBSD loopback.
#[test]
fn every_link_layer_gives_the_same_ladders() {
    let capture = read_capture_file(&fixture("kernel_ipv4.pcap")).unwrap();
    let want = ladders("kernel_ipv4.pcap");
    let bytes = std::fs::read(fixture("kernel_ipv4.pcap")).unwrap();
    // The IP datagrams: each Ethernet frame without its 14-byte header.
    let mut reader = pcap_reader_frames(&bytes);
    let datagrams: Vec<Vec<u8>> = reader.drain(..).map(|f| f[14..].to_vec()).collect();
    assert_eq!(datagrams.len(), capture.frames.len());
    let packets: Vec<OutPacket> = capture
        .frames
        .iter()
        .zip(&datagrams)
        .map(|(f, d)| OutPacket {
            time: f.time,
            datagram: d.clone(),
            comment: None,
        })
        .collect();
    for format in [Format::Pcap, Format::PcapNg] {
        let mut out = Vec::new();
        write_capture(&mut out, format, &packets, "test").unwrap();
        let again = read_capture(&out).unwrap();
        assert!(again.frames.iter().all(|f| f.linktype == linktype::RAW));
        assert_eq!(draw(&again, capture.frames[0].time), want, "{format:?}");
    }
    // Hand-made pcap files with other link types.
    for (lt, header) in [
        (linktype::LINUX_SLL, {
            let mut h = vec![0u8; 14];
            h.extend_from_slice(&[0x08, 0x00]);
            h
        }),
        (linktype::NULL, 2u32.to_le_bytes().to_vec()),
        (linktype::LOOP, 2u32.to_be_bytes().to_vec()),
        (linktype::IPV4, Vec::new()),
    ] {
        let frames: Vec<Vec<u8>> = datagrams
            .iter()
            .map(|d| [header.clone(), d.clone()].concat())
            .collect();
        let file = pcap_file_bytes(lt, &capture, &frames);
        let again = read_capture(&file).unwrap();
        assert_eq!(draw(&again, capture.frames[0].time), want, "linktype {lt}");
    }
}

fn draw(capture: &synack_trace::capture::Capture, origin: synack::Instant) -> String {
    let mut out = String::new();
    for c in connections(capture) {
        out.push_str(&format!("connection {}: {} -> {}\n", c.number, c.a, c.b));
        for note in &c.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        out.push_str(&render_ladder(
            &c.trace,
            &LadderOptions {
                times: true,
                time_origin: Some(origin),
                syn_options: true,
                ..LadderOptions::default()
            },
        ));
    }
    out
}

/// The frames of a little-endian microsecond pcap file (as tcpdump writes).
fn pcap_reader_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(bytes[at + 16..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    out
}

/// A microsecond pcap file, written by hand (not by the code under test).
fn pcap_file_bytes(
    lt: u32,
    capture: &synack_trace::capture::Capture,
    frames: &[Vec<u8>],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&lt.to_le_bytes());
    for (f, data) in capture.frames.iter().zip(frames) {
        let us = f.time.as_micros();
        out.extend_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// Count the pixels of a PNG that are not white; check its size.
fn non_white_pixels(png_bytes: &[u8], width: u32, height: u32) -> (usize, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!((info.width, info.height), (width, height));
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut ink = 0;
    for px in pixels.chunks(channels) {
        colours.insert(px.to_vec());
        if px.iter().take(3).any(|&c| c < 200) {
            ink += 1;
        }
    }
    (ink, colours.len())
}

#[test]
fn every_plot_kind_renders_a_valid_non_blank_png_from_a_kernel_capture() {
    let capture = read_capture_file(&fixture("kernel_ipv4.pcap")).unwrap();
    let conn = &connections(&capture)[0];
    for kind in PlotKind::ALL {
        let options = PlotOptions::new(kind);
        let svg = render_plot(&conn.trace, &options).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
        let png = synack_trace::svg::to_png(&svg, 1.0).unwrap();
        let (ink, colours) = non_white_pixels(&png, 960, 540);
        assert!(ink > 2_000, "{kind}: only {ink} dark pixels");
        assert!(colours > 8, "{kind}: only {colours} colours");
    }
    // B sent the 3013 bytes: it is the default sender; A's 66 bytes plot too.
    let a = PlotOptions {
        sender: Some(Side::A),
        ..PlotOptions::new(PlotKind::Tcptrace)
    };
    assert!(render_plot(&conn.trace, &a).is_ok());
    // The refused connection carried no data: a clear error, not an empty picture.
    let refused = &connections(&capture)[1];
    let err = render_plot(&refused.trace, &PlotOptions::new(PlotKind::Tcptrace)).unwrap_err();
    assert!(err.contains("no data"), "{err}");
}

#[test]
fn svg_ladder_of_a_capture_has_states_and_arrows() {
    let capture = read_capture_file(&fixture("kernel_ipv4.pcap")).unwrap();
    let conn = &connections(&capture)[0];
    let svg = render_svg_ladder(&conn.trace, &SvgLadderOptions::default());
    for state in [
        "LISTEN",
        "SYN-SENT",
        "SYN-RECEIVED",
        "CLOSE-WAIT",
        "LAST-ACK",
        "TIME-WAIT",
    ] {
        assert!(svg.contains(&format!(">{state}</text>")), "{state}");
    }
    assert_eq!(
        svg.matches("<polygon").count(),
        10,
        "one arrow head per segment"
    );
    assert!(synack_trace::svg::to_png(&svg, 1.0).is_ok());
}

/// tshark's reading of the fixture agrees with ours: relative sequence and
/// acknowledgment numbers and payload lengths, frame by frame.
#[test]
fn tshark_agrees_with_our_sequence_numbers_on_the_kernel_capture() {
    let path = fixture("kernel_ipv4.pcap");
    let Some(rows) = tshark_fields(&path, &["tcp.seq", "tcp.ack", "tcp.len"]) else {
        return;
    };
    let capture = read_capture_file(&path).unwrap();
    let mut ours: Vec<(usize, [u32; 3])> = Vec::new();
    for c in connections(&capture) {
        let t = &c.trace;
        for (frame, seg) in c.frames.iter().zip(t.segments()) {
            let own = t.initial_seq(seg.from).unwrap();
            let peer = t.initial_seq(seg.from.other()).unwrap_or(0);
            let ack = if seg.summary.flags.ack() {
                seg.summary.ack.wrapping_sub(peer)
            } else {
                0
            };
            ours.push((
                *frame,
                [seg.summary.seq.wrapping_sub(own), ack, seg.summary.len],
            ));
        }
    }
    ours.sort();
    let theirs: Vec<(usize, [u32; 3])> = rows
        .iter()
        .map(|r| {
            let n = |i: usize| r[i].parse::<u32>().unwrap_or(0);
            (r[0].parse().unwrap(), [n(1), n(2), n(3)])
        })
        .collect();
    assert_eq!(ours, theirs);
}

/// Run tshark for some fields (frame number first); `None` (and a note) without tshark.
fn tshark_fields(path: &Path, fields: &[&str]) -> Option<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(["-T", "fields", "-e", "frame.number"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    cmd.args(["-E", "separator=,"]);
    let out = match cmd.output() {
        Ok(o) => o,
        Err(_) => {
            eprintln!("tshark is not installed: skipping (CI installs it; apt-get install tshark)");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect(),
    )
}
