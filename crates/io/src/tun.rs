//! The TUN device: created with the `tun-rs` crate, given the kernel-side address, brought
//! up, and read and written in batches.
//!
//! The kernel's end of the device gets the *host* address (e.g. `198.18.0.1/24`); the
//! kernel then routes the whole prefix into the device, and synack answers for the
//! *stack* address (e.g. `198.18.0.2`) itself. With offload on (the default) the device
//! carries a virtio-net header: the kernel may hand over one 64 KB TCP super-packet
//! (GSO) instead of 45 segments, and consecutive segments synack sends are merged into
//! one write (GRO), which is what makes more than a few Gbit/s possible over one file
//! descriptor.

use core::fmt;
use core::str::FromStr;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};
use tun_rs::{DeviceBuilder, GROTable, SyncDevice, VIRTIO_NET_HDR_LEN};

/// Bytes kept free in front of every datagram we write, for the virtio-net header.
pub(crate) const HEADROOM: usize = VIRTIO_NET_HDR_LEN;

/// Largest datagram GRO may build by merging segments: the IPv4 total length is 16 bits.
const MAX_MERGED: usize = 65_535;

/// A buffer on the device's write path: [`HEADROOM`] bytes, then a datagram.
///
/// GRO (tun-rs, after wireguard-go) appends the following segments of a flow to the
/// first one's buffer for as long as that buffer's *capacity* allows, so the capacity is
/// what bounds a merged super-packet. Every `TxBuf` reports the capacity of exactly a
/// 65,535-byte datagram (and is allocated with a little more, for the room
/// `poll_transmit` wants beyond the largest datagram): merging never builds a datagram
/// whose length field would overflow (which the kernel would drop), and never
/// reallocates.
pub(crate) struct TxBuf(Vec<u8>);

impl TxBuf {
    /// What GRO is told: headroom, a 65,535-byte datagram, and the headroom GRO reserves.
    const MERGE_CAPACITY: usize = 2 * HEADROOM + MAX_MERGED;
    const ALLOCATION: usize = HEADROOM + MAX_MERGED + 128;

    pub fn new() -> TxBuf {
        TxBuf(Vec::with_capacity(TxBuf::ALLOCATION))
    }

    /// Make it `len` bytes long (keeping whatever bytes it held; growth is zeroed).
    pub fn set_len(&mut self, len: usize) {
        self.0.resize(len.min(TxBuf::ALLOCATION), 0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The datagram (after the headroom).
    pub fn datagram(&self) -> &[u8] {
        &self.0[HEADROOM..]
    }

    /// Room for the datagram (after the headroom).
    pub fn datagram_mut(&mut self) -> &mut [u8] {
        &mut self.0[HEADROOM..]
    }
}

impl AsRef<[u8]> for TxBuf {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl AsMut<[u8]> for TxBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl tun_rs::ExpandBuffer for TxBuf {
    fn buf_capacity(&self) -> usize {
        self.0.capacity().min(TxBuf::MERGE_CAPACITY)
    }

    fn buf_resize(&mut self, new_len: usize, value: u8) {
        self.0.resize(new_len, value);
    }

    fn buf_extend_from_slice(&mut self, src: &[u8]) {
        self.0.extend_from_slice(src);
    }
}

/// An address of the kernel's end of the device with its prefix length, e.g.
/// `198.18.0.1/24` or `fd00::1/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostAddr {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length: the kernel routes this whole prefix into the device.
    pub prefix: u8,
}

impl HostAddr {
    /// Whether `ip` lies in this address's prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for HostAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not ADDRESS/PREFIX (e.g. 198.18.0.1/24)"))?;
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("`{a}` is not an IP address"))?;
        let prefix: u8 = p
            .parse()
            .map_err(|_| format!("`{p}` is not a prefix length"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("prefix /{prefix} is longer than {max} bits"));
        }
        Ok(HostAddr { addr, prefix })
    }
}

impl fmt::Display for HostAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// One address family's addressing: the kernel's end and synack's own address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrPair {
    /// The kernel's address on the device, with the prefix routed into it.
    pub host: HostAddr,
    /// The address synack owns (inside the host prefix).
    pub stack: IpAddr,
}

/// How to create the TUN device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunConfig {
    /// Interface name (at most 15 bytes), e.g. `synack0`.
    pub name: String,
    /// At most one IPv4 and one IPv6 pair.
    pub addrs: Vec<AddrPair>,
    /// The device's MTU (the stack's MSS follows from it). Default 1500.
    pub mtu: u16,
    /// Use the virtio-net header (GSO from the kernel, GRO towards it). Default on.
    pub offload: bool,
    /// Create the device inside this network namespace (a name under `/run/netns`, as
    /// `ip netns add` makes, or a path to a namespace file) instead of the caller's. Only
    /// the device is created there; the caller's threads stay where they are.
    pub netns: Option<String>,
}

impl TunConfig {
    /// A device `name` whose kernel end is `host` and whose other end is synack at `stack`.
    pub fn new(name: impl Into<String>, host: HostAddr, stack: IpAddr) -> TunConfig {
        TunConfig {
            name: name.into(),
            addrs: vec![AddrPair { host, stack }],
            mtu: 1500,
            offload: true,
            netns: None,
        }
    }

    /// Add a second address family.
    pub fn with_addr(mut self, host: HostAddr, stack: IpAddr) -> TunConfig {
        self.addrs.push(AddrPair { host, stack });
        self
    }

    /// Check names, families and prefixes before touching the system.
    pub fn validate(&self) -> io::Result<()> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        if self.name.is_empty() || self.name.len() > 15 || self.name.contains('/') {
            return Err(invalid(format!(
                "`{}` is not a valid interface name (1 to 15 bytes, no '/')",
                self.name
            )));
        }
        if self.addrs.is_empty() {
            return Err(invalid("the device needs at least one address".into()));
        }
        let v4 = self.addrs.iter().filter(|p| p.stack.is_ipv4()).count();
        if v4 > 1 || self.addrs.len() - v4 > 1 {
            return Err(invalid(
                "at most one IPv4 and one IPv6 address pair are supported".into(),
            ));
        }
        for p in &self.addrs {
            if p.host.addr.is_ipv4() != p.stack.is_ipv4() {
                return Err(invalid(format!(
                    "{} and {} are of different address families",
                    p.host, p.stack
                )));
            }
            if p.host.addr == p.stack {
                return Err(invalid(format!(
                    "the stack address {} is the kernel's own address",
                    p.stack
                )));
            }
            if !p.host.contains(p.stack) {
                return Err(invalid(format!(
                    "the stack address {} is outside {}: the kernel would not route it into the device",
                    p.stack, p.host
                )));
            }
        }
        let min_mtu = if self.addrs.iter().any(|p| p.stack.is_ipv6()) {
            1280
        } else {
            576
        };
        if self.mtu < min_mtu {
            return Err(invalid(format!(
                "MTU {} is below the minimum of {min_mtu}",
                self.mtu
            )));
        }
        Ok(())
    }
}

/// The open device.
pub(crate) struct Device {
    dev: SyncDevice,
    vnet: bool,
    mtu: u16,
    name: String,
}

impl Device {
    /// Create and configure the device (in `config.netns` if given).
    pub fn open(config: &TunConfig) -> io::Result<Device> {
        config.validate()?;
        match &config.netns {
            None => Device::open_here(config),
            Some(ns) => in_netns(ns, || Device::open_here(config)),
        }
    }

    fn open_here(config: &TunConfig) -> io::Result<Device> {
        let mut builder = DeviceBuilder::new()
            .name(config.name.clone())
            .mtu(config.mtu)
            .enable(true);
        for p in config.addrs.iter().filter(|p| p.host.addr.is_ipv4()) {
            let IpAddr::V4(a) = p.host.addr else {
                continue;
            };
            builder = builder.ipv4(a, p.host.prefix, None);
        }
        let offload = config.offload;
        builder = builder.with(|b| {
            b.offload(offload);
        });
        let dev = builder.build_sync().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("creating TUN device {}: {e}", config.name),
            )
        })?;
        for p in config.addrs.iter().filter(|p| p.host.addr.is_ipv6()) {
            // No duplicate address detection: nobody else is on this link, and DAD would
            // keep the address "tentative" (unusable) for a second or more.
            let dad = format!("/proc/sys/net/ipv6/conf/{}/accept_dad", config.name);
            std::fs::write(&dad, "0").map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("{dad}: {e} (is IPv6 disabled on this host?)"),
                )
            })?;
            let IpAddr::V6(a) = p.host.addr else {
                continue;
            };
            dev.add_address_v6(a, p.host.prefix).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("adding {} to {}: {e}", p.host, config.name),
                )
            })?;
        }
        dev.set_nonblocking(true)?;
        let vnet = dev.tcp_gso();
        Ok(Device {
            dev,
            vnet,
            mtu: config.mtu,
            name: config.name.clone(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn offload(&self) -> bool {
        self.vnet
    }

    /// Read every datagram waiting, up to the batch's capacity.
    pub fn read_batch(&self, rx: &mut RxBatch) -> io::Result<()> {
        rx.count = 0;
        while rx.bufs.len() - rx.count >= rx.max_segments {
            let r = if self.vnet {
                self.dev.recv_multiple(
                    &mut rx.raw,
                    &mut rx.bufs[rx.count..],
                    &mut rx.sizes[rx.count..],
                    0,
                )
            } else {
                let i = rx.count;
                self.dev.recv(&mut rx.bufs[i]).map(|n| {
                    rx.sizes[i] = n;
                    1
                })
            };
            match r {
                Ok(n) => rx.count += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // An error without an errno is the offload code refusing a malformed
                // super-packet: that datagram is lost, the device is fine.
                Err(e) if e.raw_os_error().is_none() => rx.malformed += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Write `bufs` (each a datagram after [`HEADROOM`] bytes), merging consecutive TCP
    /// segments of one flow when offload is on. Returns the number of failed writes.
    pub fn write_batch(&self, gro: &mut GROTable, bufs: &mut [TxBuf]) -> u64 {
        if bufs.is_empty() {
            return 0;
        }
        if self.vnet {
            match self.dev.send_multiple(gro, bufs, HEADROOM) {
                Ok(_) => 0,
                Err(_) => 1,
            }
        } else {
            let mut failed = 0;
            for b in bufs.iter() {
                if self.dev.send(b.datagram()).is_err() {
                    failed += 1;
                }
            }
            failed
        }
    }

    /// Size of the buffers datagrams are built in.
    pub fn datagram_capacity(&self) -> usize {
        // Room for an MTU-sized datagram plus TCP options the core may still add.
        usize::from(self.mtu) + 80
    }
}

impl AsFd for Device {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.as_fd()
    }
}

/// The loop thread's receive buffers.
pub(crate) struct RxBatch {
    raw: Vec<u8>,
    bufs: Vec<Vec<u8>>,
    sizes: Vec<usize>,
    /// Datagrams in the batch.
    pub count: usize,
    /// Free buffers one read may need at most (one GSO super-packet's segments).
    max_segments: usize,
    /// Super-packets the offload code refused.
    pub malformed: u64,
}

impl RxBatch {
    pub fn new(device: &Device) -> RxBatch {
        let mtu = usize::from(device.mtu);
        let (count, max_segments) = if device.vnet {
            // A 64 KB super-packet cut at the smallest MSS the kernel would use.
            let max_segments = 65_535 / mtu.saturating_sub(100).max(64) + 2;
            let count = ((8 << 20) / mtu).clamp(max_segments * 2, 512);
            (count, max_segments)
        } else {
            (((8 << 20) / mtu).clamp(16, 256), 1)
        };
        RxBatch {
            raw: vec![0; VIRTIO_NET_HDR_LEN + 65_535 + 64],
            bufs: vec![vec![0; mtu.max(1280) + 64]; count],
            sizes: vec![0; count],
            count: 0,
            max_segments,
            malformed: 0,
        }
    }

    /// Datagram `i` of the batch.
    pub fn get(&self, i: usize) -> &[u8] {
        &self.bufs[i][..self.sizes[i].min(self.bufs[i].len())]
    }
}

/// Run `f` on a short-lived thread that has joined the network namespace `ns`.
fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> io::Result<T> + Send) -> io::Result<T> {
    let path = if ns.contains('/') {
        ns.to_string()
    } else {
        format!("/run/netns/{ns}")
    };
    let file = std::fs::File::open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("network namespace {path}: {e}")))?;
    std::thread::scope(|s| {
        s.spawn(move || {
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                io::Error::new(
                    io::Error::from(e).kind(),
                    format!("joining network namespace {path}: {e}"),
                )
            })?;
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("device set-up thread panicked")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> HostAddr {
        s.parse().unwrap()
    }

    #[test]
    fn host_addresses_parse_and_contain() {
        let h = host("198.18.0.1/24");
        assert_eq!(h.to_string(), "198.18.0.1/24");
        assert!(h.contains("198.18.0.2".parse().unwrap()));
        assert!(!h.contains("198.18.1.2".parse().unwrap()));
        assert!(!h.contains("fd00::2".parse().unwrap()));
        let h6 = host("fd00::1/64");
        assert!(h6.contains("fd00::2".parse().unwrap()));
        assert!(!h6.contains("fd01::2".parse().unwrap()));
        assert!(host("0.0.0.0/0").contains("1.2.3.4".parse().unwrap()));
        assert!("198.18.0.1".parse::<HostAddr>().is_err());
        assert!("198.18.0.1/33".parse::<HostAddr>().is_err());
        assert!("x/24".parse::<HostAddr>().is_err());
    }

    /// Consecutive segments of one flow with these payload lengths, as the stack emits them.
    fn segments(lens: &[usize]) -> Vec<TxBuf> {
        let (src, dst) = ("198.18.0.2".parse().unwrap(), "198.18.0.1".parse().unwrap());
        let mut seq = 1_000u32;
        lens.iter()
            .map(|&len| {
                let repr = synack_wire::TcpRepr {
                    src_port: 80,
                    dst_port: 40_000,
                    seq,
                    ack: 1,
                    flags: synack_wire::TcpFlags::ACK,
                    window: 65_535,
                    urgent: 0,
                    options: synack_wire::TcpOptions::default(),
                };
                seq = seq.wrapping_add(len as u32);
                let mut b = TxBuf::new();
                b.set_len(HEADROOM + len + 80);
                let n =
                    synack_wire::emit_packet(b.datagram_mut(), src, dst, 64, &repr, &vec![7; len])
                        .unwrap();
                b.set_len(HEADROOM + n);
                b
            })
            .collect()
    }

    /// What GRO hands the device: the merged datagrams' lengths.
    fn merged(mut bufs: Vec<TxBuf>) -> Vec<usize> {
        let mut gro = GROTable::new();
        gro.apply_gro(&mut bufs, HEADROOM, false).unwrap();
        // Merged-away buffers are left as they were; the first of each flow grew.
        bufs.iter().map(|b| b.datagram().len()).collect()
    }

    #[test]
    fn gro_merges_full_sized_segments_up_to_64_kib() {
        // 44 segments of 1460 bytes merge into one 64,280-byte super-packet...
        let lens = merged(segments(&[1460; 44]));
        assert_eq!(lens[0], 40 + 44 * 1460);
        // ... but never past 65,535 bytes: the 45th starts a new one.
        let lens = merged(segments(&[1460; 46]));
        assert_eq!(lens[0], 40 + 44 * 1460);
        assert!(lens.iter().all(|&l| l <= 65_535), "{lens:?}");
    }

    #[test]
    fn gro_never_merges_past_an_ip_length_field() {
        // Two 32,767-byte segments would make a 65,574-byte datagram: they stay apart.
        let lens = merged(segments(&[32_767, 32_767]));
        assert_eq!(lens, vec![40 + 32_767, 40 + 32_767]);
        // A full jumbo segment and a small one, likewise.
        let lens = merged(segments(&[65_495, 10]));
        assert_eq!(lens, vec![65_535, 50]);
    }

    #[test]
    fn configs_are_validated() {
        let ok = TunConfig::new(
            "synack0",
            host("198.18.0.1/24"),
            "198.18.0.2".parse().unwrap(),
        );
        ok.validate().unwrap();
        let dual = ok
            .clone()
            .with_addr(host("fd00::1/64"), "fd00::2".parse().unwrap());
        dual.validate().unwrap();
        let bad = [
            TunConfig {
                name: "a-name-far-too-long".into(),
                ..ok.clone()
            },
            TunConfig::new("t", host("198.18.0.1/24"), "198.18.1.2".parse().unwrap()),
            TunConfig::new("t", host("198.18.0.1/24"), "198.18.0.1".parse().unwrap()),
            TunConfig::new("t", host("198.18.0.1/24"), "fd00::2".parse().unwrap()),
            ok.clone()
                .with_addr(host("198.18.1.1/24"), "198.18.1.2".parse().unwrap()),
            TunConfig { mtu: 500, ..ok },
        ];
        for c in bad {
            assert_eq!(
                c.validate().unwrap_err().kind(),
                io::ErrorKind::InvalidInput,
                "{c:?}"
            );
        }
    }
}
