//! Packet captures in and out: pcap and pcapng files from any source (tcpdump,
//! Wireshark, synack's own `--pcap`), decoded down to TCP segments, and written from IP
//! datagrams.
//!
//! Reading ([`read_capture`]) detects the format from the file's magic number, handles
//! both byte orders, microsecond and nanosecond pcap, pcapng with several sections and
//! interfaces of different link types and time resolutions (`if_tsresol`), and keeps each
//! packet's comment. A file cut short (a capture killed mid-write) yields the frames
//! before the damage and a warning. Frames are decoded by [`decode`].
//!
//! Writing ([`write_capture`]) produces raw-IP captures (LINKTYPE_RAW, so IPv4 and IPv6
//! mix freely) with nanosecond time stamps, as pcap or as pcapng (which can carry a
//! comment per packet; synack uses them to record what only a simulator knows, see
//! [`crate::annotations`]).

pub mod decode;

pub use decode::{linktype, Checksum, Skip, TcpPacket};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgReader, PcapNgWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::borrow::Cow;
use std::io::Write;
use synack::Instant;

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The classic libpcap format.
    Pcap,
    /// pcapng (Wireshark's default).
    PcapNg,
}

impl Format {
    /// pcapng for a path ending in `.pcapng` (any case), pcap otherwise.
    pub fn for_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pcapng") => Format::PcapNg,
            _ => Format::Pcap,
        }
    }

    /// `pcap` or `pcapng`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        }
    }
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Its number in the file, from 1 (as Wireshark numbers frames).
    pub number: usize,
    /// Capture time, nanoseconds since the Unix epoch (for synack's own captures: since
    /// the start of the simulation).
    pub time: Instant,
    /// The link-layer type it was captured on.
    pub linktype: u32,
    /// The TCP segment in it, or why there is none.
    pub packet: Result<TcpPacket, Skip>,
    /// The packet's comment (pcapng only).
    pub comment: Option<String>,
}

/// A whole capture file, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The file's format.
    pub format: Format,
    /// Every packet, in file order.
    pub frames: Vec<Frame>,
    /// Set when the file ended in the middle of a record (what came before is kept).
    pub warning: Option<String>,
}

impl Capture {
    /// The frames that hold TCP segments.
    pub fn tcp(&self) -> impl Iterator<Item = (&Frame, &TcpPacket)> {
        self.frames
            .iter()
            .filter_map(|f| f.packet.as_ref().ok().map(|p| (f, p)))
    }
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file does not start like a pcap or pcapng file.
    #[error("not a pcap or pcapng file (unknown magic number {0:#010x})")]
    NotACapture(u32),
    /// The file is too short to hold a header.
    #[error("not a pcap or pcapng file (only {0} bytes)")]
    TooShort(usize),
    /// The header is damaged.
    #[error("cannot read the capture's header: {0}")]
    Header(String),
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Read a capture file.
pub fn read_capture_file(path: &std::path::Path) -> Result<Capture, CaptureError> {
    let bytes = std::fs::read(path).map_err(|source| CaptureError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_capture(&bytes)
}

/// Read a capture from its bytes; the format is detected from the magic number.
pub fn read_capture(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let magic: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(CaptureError::TooShort(bytes.len()))?;
    match u32::from_be_bytes(magic) {
        0xA1B2_C3D4 | 0xD4C3_B2A1 | 0xA1B2_3C4D | 0x4D3C_B2A1 => read_pcap(bytes),
        0x0A0D_0D0A => read_pcapng(bytes),
        other => Err(CaptureError::NotACapture(other)),
    }
}

fn instant(d: core::time::Duration) -> Instant {
    Instant::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn read_pcap(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let mut reader = PcapReader::new(bytes).map_err(|e| CaptureError::Header(e.to_string()))?;
    let linktype = u32::from(reader.header().datalink);
    let mut frames = Vec::new();
    let mut warning = None;
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(p) => frames.push(Frame {
                number: frames.len() + 1,
                time: instant(p.timestamp),
                linktype,
                packet: decode::decode_frame(linktype, &p.data),
                comment: None,
            }),
            Err(e) => {
                warning = Some(format!(
                    "the file ends in a damaged record after {} packets ({e})",
                    frames.len()
                ));
                break;
            }
        }
    }
    Ok(Capture {
        format: Format::Pcap,
        frames,
        warning,
    })
}

/// An interface of a pcapng section: its link type and time unit in nanoseconds
/// (as a fraction num/den).
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Nanoseconds per unit = num / den.
    num: u128,
    den: u128,
}

impl Interface {
    fn new(idb: &InterfaceDescriptionBlock<'_>) -> Interface {
        let tsresol = idb
            .options
            .iter()
            .find_map(|o| match o {
                InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
                _ => None,
            })
            .unwrap_or(6);
        let (num, den) = if tsresol & 0x80 == 0 {
            let exp = u32::from(tsresol.min(38));
            if exp <= 9 {
                (10u128.pow(9 - exp), 1)
            } else {
                (1, 10u128.pow(exp - 9))
            }
        } else {
            (1_000_000_000, 1u128 << u32::from((tsresol & 0x7F).min(100)))
        };
        Interface {
            linktype: u32::from(idb.linktype),
            num,
            den,
        }
    }

    fn time(&self, units: core::time::Duration) -> Instant {
        // pcap-file hands the raw 64-bit unit count over as nanoseconds.
        let raw = units.as_nanos();
        let ns = raw.saturating_mul(self.num) / self.den.max(1);
        Instant::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

fn read_pcapng(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let mut reader = PcapNgReader::new(bytes).map_err(|e| CaptureError::Header(e.to_string()))?;
    let mut interfaces: Vec<Interface> = reader.interfaces().iter().map(Interface::new).collect();
    let mut frames = Vec::new();
    let mut warning = None;
    let mut last_time = Instant::ZERO;
    while let Some(next) = reader.next_block() {
        let block = match next {
            Ok(b) => b,
            Err(e) => {
                warning = Some(format!(
                    "the file ends in a damaged block after {} packets ({e})",
                    frames.len()
                ));
                break;
            }
        };
        let (iface, time, data, comment) = match block {
            Block::SectionHeader(_) => {
                interfaces.clear();
                continue;
            }
            Block::InterfaceDescription(idb) => {
                interfaces.push(Interface::new(&idb));
                continue;
            }
            Block::EnhancedPacket(epb) => {
                let iface = interfaces.get(epb.interface_id as usize).copied();
                let time = iface.map_or(instant(epb.timestamp), |i| i.time(epb.timestamp));
                let comment = epb.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                });
                (iface, time, epb.data.into_owned(), comment)
            }
            Block::Packet(pb) => {
                let iface = interfaces.get(usize::from(pb.interface_id)).copied();
                let units = core::time::Duration::from_nanos(pb.timestamp);
                let time = iface.map_or(instant(units), |i| i.time(units));
                (iface, time, pb.data.into_owned(), None)
            }
            Block::SimplePacket(spb) => (
                interfaces.first().copied(),
                last_time,
                spb.data.into_owned(),
                None,
            ),
            _ => continue,
        };
        last_time = time;
        let linktype = iface.map_or(linktype::ETHERNET, |i| i.linktype);
        frames.push(Frame {
            number: frames.len() + 1,
            time,
            linktype,
            packet: decode::decode_frame(linktype, &data),
            comment,
        });
    }
    Ok(Capture {
        format: Format::PcapNg,
        frames,
        warning,
    })
}

/// One IP datagram to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPacket {
    /// Its time stamp.
    pub time: Instant,
    /// The IPv4 or IPv6 datagram.
    pub datagram: Vec<u8>,
    /// A comment (written in pcapng only).
    pub comment: Option<String>,
}

fn io_error(e: pcap_file::PcapError) -> std::io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}

/// Write `packets` as a raw-IP capture in `format`, nanosecond time stamps. `about`
/// names the program and run in a pcapng section comment.
pub fn write_capture<W: Write>(
    out: W,
    format: Format,
    packets: &[OutPacket],
    about: &str,
) -> std::io::Result<()> {
    let snaplen = 262_144;
    let orig_len = |p: &OutPacket| u32::try_from(p.datagram.len()).unwrap_or(u32::MAX);
    match format {
        Format::Pcap => {
            let header = PcapHeader {
                snaplen,
                datalink: DataLink::RAW,
                ts_resolution: TsResolution::NanoSecond,
                endianness: Endianness::Little,
                ..PcapHeader::default()
            };
            let mut w = PcapWriter::with_header(out, header).map_err(io_error)?;
            for p in packets {
                let ts = core::time::Duration::from_nanos(p.time.as_nanos());
                w.write_packet(&PcapPacket::new(ts, orig_len(p), &p.datagram))
                    .map_err(io_error)?;
            }
        }
        Format::PcapNg => {
            let section = pcap_file::pcapng::blocks::section_header::SectionHeaderBlock {
                endianness: Endianness::Little,
                options: vec![
                    pcap_file::pcapng::blocks::section_header::SectionHeaderOption::Comment(
                        Cow::Owned(about.to_string()),
                    ),
                    pcap_file::pcapng::blocks::section_header::SectionHeaderOption::UserApplication(
                        Cow::Owned(format!("synack {}", env!("CARGO_PKG_VERSION"))),
                    ),
                ],
                ..Default::default()
            };
            let mut w = PcapNgWriter::with_section_header(out, section).map_err(io_error)?;
            w.write_pcapng_block(InterfaceDescriptionBlock {
                linktype: DataLink::RAW,
                snaplen,
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Borrowed("synack")),
                    InterfaceDescriptionOption::IfTsResol(9),
                ],
            })
            .map_err(io_error)?;
            for p in packets {
                let options = p
                    .comment
                    .iter()
                    .map(|c| EnhancedPacketOption::Comment(Cow::Borrowed(c.as_str())))
                    .collect();
                w.write_pcapng_block(EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: core::time::Duration::from_nanos(p.time.as_nanos()),
                    original_len: orig_len(p),
                    data: Cow::Borrowed(&p.datagram),
                    options,
                })
                .map_err(io_error)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack_wire::{emit_packet, TcpFlags, TcpRepr};

    fn datagram(seq: u32) -> Vec<u8> {
        let tcp = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq,
            flags: TcpFlags::SYN,
            window: 1000,
            ..TcpRepr::default()
        };
        let mut buf = vec![0; 100];
        let n = emit_packet(
            &mut buf,
            "2001:2::1".parse().unwrap(),
            "2001:2::2".parse().unwrap(),
            64,
            &tcp,
            &[],
        )
        .unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn written_captures_read_back_in_both_formats() {
        let packets = vec![
            OutPacket {
                time: Instant::from_nanos(1_500_000_123),
                datagram: datagram(1),
                comment: Some("first".into()),
            },
            OutPacket {
                time: Instant::from_nanos(2_000_000_000),
                datagram: datagram(2),
                comment: None,
            },
        ];
        for format in [Format::Pcap, Format::PcapNg] {
            let mut bytes = Vec::new();
            write_capture(&mut bytes, format, &packets, "test").unwrap();
            let cap = read_capture(&bytes).unwrap();
            assert_eq!(cap.format, format);
            assert_eq!(cap.frames.len(), 2);
            assert_eq!(cap.frames[0].time, Instant::from_nanos(1_500_000_123));
            let p = cap.frames[1].packet.as_ref().unwrap();
            assert_eq!(p.tcp.seq, 2);
            assert_eq!(p.checksum, Checksum::Good);
            let comment = cap.frames[0].comment.as_deref();
            match format {
                Format::PcapNg => assert_eq!(comment, Some("first")),
                Format::Pcap => assert_eq!(comment, None),
            }
            assert!(cap.warning.is_none());
            // Cut short: the packets before the damage survive.
            let cut = read_capture(&bytes[..bytes.len() - 10]).unwrap();
            assert_eq!(cut.frames.len(), 1, "{format:?}");
            assert!(cut.warning.is_some());
        }
    }

    #[test]
    fn not_a_capture_is_an_error() {
        assert!(matches!(
            read_capture(b"hello world"),
            Err(CaptureError::NotACapture(_))
        ));
        assert!(matches!(
            read_capture(b"ab"),
            Err(CaptureError::TooShort(2))
        ));
    }

    #[test]
    fn pcapng_time_resolution_is_honoured() {
        let idb = |r: Option<u8>| InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: 0,
            options: r
                .into_iter()
                .map(InterfaceDescriptionOption::IfTsResol)
                .collect(),
        };
        let units = core::time::Duration::from_nanos(1_500_000);
        assert_eq!(
            Interface::new(&idb(None)).time(units).as_nanos(),
            1_500_000_000
        );
        assert_eq!(
            Interface::new(&idb(Some(9))).time(units).as_nanos(),
            1_500_000
        );
        assert_eq!(
            Interface::new(&idb(Some(3))).time(units).as_nanos(),
            1_500_000_000_000
        );
        // 2^-10 s units.
        assert_eq!(
            Interface::new(&idb(Some(0x80 | 10)))
                .time(core::time::Duration::from_nanos(1024))
                .as_nanos(),
            1_000_000_000
        );
    }
}
