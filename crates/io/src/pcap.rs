//! `--pcap FILE`: every datagram that crosses the TUN device, as a classic pcap file with
//! link type RAW (101: the packet starts with its IPv4 or IPv6 header), which Wireshark,
//! tshark and tcpdump read directly.
//!
//! Timestamps are wall-clock time (pcap has no other notion of time). Datagrams the
//! kernel hands over as one GSO super-packet are recorded as the segments the stack
//! sees, and the ones the stack sends are recorded before the device's GRO merges them,
//! so the capture shows TCP's own segments.

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Largest datagram recorded whole (an IPv4 or IPv6 datagram of the largest MTU).
const SNAPLEN: u32 = 65_535 + 40;

/// Appends datagrams to a pcap file.
pub struct PcapRecorder {
    writer: PcapWriter<SharedFile>,
    /// The same buffered file, reachable for flushing (`PcapWriter` has no `get_mut`).
    file: SharedFile,
    packets: u64,
}

/// A buffered file two owners can write to.
#[derive(Clone)]
struct SharedFile(Arc<Mutex<BufWriter<File>>>);

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

impl PcapRecorder {
    /// Create (or truncate) `path` and write the pcap header.
    pub fn create(path: &Path) -> io::Result<PcapRecorder> {
        let file = File::create(path)?;
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: SNAPLEN,
            datalink: DataLink::RAW,
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::native(),
        };
        let file = SharedFile(Arc::new(Mutex::new(BufWriter::with_capacity(
            1 << 20,
            file,
        ))));
        let writer = PcapWriter::with_header(file.clone(), header).map_err(pcap_error)?;
        Ok(PcapRecorder {
            writer,
            file,
            packets: 0,
        })
    }

    /// Record one datagram, stamped now.
    pub fn record(&mut self, datagram: &[u8]) -> io::Result<()> {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let len = datagram.len().min(SNAPLEN as usize);
        let orig_len = u32::try_from(datagram.len()).unwrap_or(u32::MAX);
        self.writer
            .write_packet(&PcapPacket::new(ts, orig_len, &datagram[..len]))
            .map_err(pcap_error)?;
        self.packets += 1;
        Ok(())
    }

    /// Datagrams recorded so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Push buffered records to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn pcap_error(e: pcap_file::PcapError) -> io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;

    #[test]
    fn records_read_back_with_link_type_raw() {
        let dir = std::env::temp_dir().join(format!("synack-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        let mut rec = PcapRecorder::create(&path).unwrap();
        let a = [
            0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
        ];
        rec.record(&a).unwrap();
        rec.record(&a[..10]).unwrap();
        rec.flush().unwrap();
        assert_eq!(rec.packets(), 2);
        let mut reader = PcapReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.header().datalink, DataLink::RAW);
        let p = reader.next_packet().unwrap().unwrap();
        assert_eq!(&p.data[..], &a[..]);
        let p = reader.next_packet().unwrap().unwrap();
        assert_eq!(p.data.len(), 10);
        assert!(reader.next_packet().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
