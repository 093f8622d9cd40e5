//! What `serve` and `connect` share: the TUN device options, starting the stack, the
//! byte counts and digests they report, and interrupts (SIGINT/SIGTERM).

use clap::Args;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use synack_io::{HostAddr, Impairment, Stack, StackConfig, TunConfig};

/// Options of the TUN device synack runs on.
#[derive(Debug, Args)]
pub struct TunArgs {
    /// Name of the TUN device to create (e.g. synack0).
    #[arg(long, value_name = "NAME")]
    pub tun: String,
    /// The kernel's address on the device, with the prefix it routes into the device.
    /// Give it twice (IPv4 and IPv6) for both families.
    #[arg(long = "host-addr", value_name = "ADDR/PREFIX", required = true)]
    pub host_addr: Vec<HostAddr>,
    /// synack's own address, inside the host prefix of the same family.
    #[arg(long = "stack-addr", value_name = "ADDR", required = true)]
    pub stack_addr: Vec<IpAddr>,
    /// MTU of the device (576..65535; 1280 or more with IPv6).
    #[arg(long, default_value_t = 1500)]
    pub mtu: u16,
    /// Impair the path between the device and the stack, both ways, with the simulator's
    /// link model: loss=P,dup=P,reorder=P,delay=20ms,corrupt=P,seed=N (also
    /// reorder-delay=10ms, rate=100mbit, queue=64k).
    #[arg(long, value_name = "SPEC")]
    pub impair: Option<Impairment>,
    /// Record every datagram crossing the device to this pcap file (Wireshark reads it).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Do not use the device's GSO/GRO offloads (one datagram per system call).
    #[arg(long)]
    pub no_offload: bool,
    /// Maximum segment lifetime in seconds; TIME-WAIT lasts twice this.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub msl: f64,
}

impl TunArgs {
    /// The stack configuration these options describe.
    pub fn stack_config(&self) -> Result<StackConfig, String> {
        if self.host_addr.len() != self.stack_addr.len() {
            return Err(format!(
                "{} --host-addr but {} --stack-addr: give one of each per address family",
                self.host_addr.len(),
                self.stack_addr.len()
            ));
        }
        let mut pairs = Vec::new();
        for h in &self.host_addr {
            let s = self
                .stack_addr
                .iter()
                .find(|s| s.is_ipv4() == h.addr.is_ipv4())
                .ok_or_else(|| format!("no --stack-addr of the same family as {h}"))?;
            pairs.push((*h, *s));
        }
        let mut tun = TunConfig::new(&self.tun, pairs[0].0, pairs[0].1);
        for (h, s) in pairs.into_iter().skip(1) {
            tun = tun.with_addr(h, s);
        }
        tun.mtu = self.mtu;
        tun.offload = !self.no_offload;
        tun.validate().map_err(|e| e.to_string())?;
        let mut config = StackConfig::new(tun);
        config.impair = self.impair.clone();
        config.pcap = self.pcap.clone();
        if !(self.msl.is_finite() && self.msl >= 0.0) {
            return Err(format!("--msl {} is not a number of seconds", self.msl));
        }
        config.tcp.msl = Duration::from_secs_f64(self.msl);
        Ok(config)
    }

    /// Start the stack, or say why not.
    pub fn start(&self) -> Result<Stack, String> {
        let config = self.stack_config()?;
        Stack::start(config).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                format!("{e} (creating a TUN device needs root or CAP_NET_ADMIN)")
            } else {
                e.to_string()
            }
        })
    }
}

/// One line describing the device, for the start-up message.
pub fn describe(stack: &Stack) -> String {
    let addrs: Vec<String> = stack
        .addrs()
        .iter()
        .map(|p| format!("{} <-> {}", p.host, p.stack))
        .collect();
    format!(
        "device {} ({}), mtu {}, offload {}",
        stack.device_name(),
        addrs.join(", "),
        stack.mtu(),
        if stack.offload() { "on" } else { "off" }
    )
}

/// The closing summary of the runtime's counters.
pub fn summary(stack: &Stack) -> String {
    let s = stack.stats();
    let mut out = format!(
        "{} datagrams in ({} bytes), {} out ({} bytes)",
        s.rx_datagrams, s.rx_bytes, s.tx_datagrams, s.tx_bytes
    );
    if s.to_stack.offered + s.to_host.offered > 0 {
        for (name, p) in [("to synack", s.to_stack), ("to kernel", s.to_host)] {
            let _ = write!(
                out,
                "; impaired {name}: {} offered, {} lost, {} duplicated, {} corrupted",
                p.offered, p.lost, p.duplicated, p.corrupted
            );
        }
    }
    if s.pcap_packets > 0 {
        let _ = write!(out, "; {} datagrams in the pcap file", s.pcap_packets);
    }
    let e = stack.endpoint_stats();
    if e.syn_cookies_sent > 0 {
        let _ = write!(
            out,
            "; SYN cookies: {} sent, {} validated, {} rejected",
            e.syn_cookies_sent, e.syn_cookies_validated, e.syn_cookies_rejected
        );
    }
    out
}

/// Bytes seen in one direction: how many, and their SHA-256.
pub struct Tally {
    pub bytes: u64,
    hash: Sha256,
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            bytes: 0,
            hash: Sha256::new(),
        }
    }

    pub fn add(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.hash.update(data);
    }

    /// `N bytes (sha256 HEX)`.
    pub fn finish(self) -> String {
        let digest = self.hash.finalize();
        let mut hex = String::with_capacity(64);
        for b in digest {
            let _ = write!(hex, "{b:02x}");
        }
        format!("{} bytes (sha256 {hex})", self.bytes)
    }
}

/// SIGINT and SIGTERM, taken out of the default "die at once" handling so that the
/// command can close its connections and flush its pcap file.
pub struct Interrupts {
    set: nix::sys::signal::SigSet,
}

impl Interrupts {
    /// Block SIGINT and SIGTERM in this thread and every thread started after it. Call
    /// before starting any thread.
    pub fn block() -> Interrupts {
        use nix::sys::signal::{SigSet, Signal};
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        let _ = set.thread_block();
        Interrupts { set }
    }

    /// Call `f` (on a thread of its own) when SIGINT or SIGTERM arrives.
    pub fn on_interrupt(self, f: impl FnOnce(&'static str) + Send + 'static) {
        std::thread::spawn(move || {
            if let Ok(sig) = self.set.wait() {
                f(sig.as_str());
            }
        });
    }
}

/// `100`, `64k`, `100M`, `1G` (powers of 1000), `64Ki`, `100Mi`, `1Gi` (powers of 1024).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a byte count such as 1000, 64k or 100Mi"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "k" | "K" | "kB" | "KB" => 1_000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        "Ki" | "KiB" => 1 << 10,
        "Mi" | "MiB" => 1 << 20,
        "Gi" | "GiB" => 1 << 30,
        other => return Err(format!("unknown unit `{other}` in `{s}`")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// The bytes `serve --source` sends: a fixed pseudo-random stream (xorshift64*), so a
/// client can check what it got; `serve` prints its SHA-256 too.
pub struct Pattern {
    state: u64,
}

impl Pattern {
    pub fn new() -> Pattern {
        Pattern {
            state: 0x5EED_5A1A_C4C4_0001,
        }
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            let v = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_parse_with_units() {
        assert_eq!(parse_bytes("100").unwrap(), 100);
        assert_eq!(parse_bytes("64k").unwrap(), 64_000);
        assert_eq!(parse_bytes("100Mi").unwrap(), 100 << 20);
        assert_eq!(parse_bytes("1G").unwrap(), 1_000_000_000);
        assert!(parse_bytes("x").is_err());
        assert!(parse_bytes("10q").is_err());
        assert!(parse_bytes("99999999999999999999Gi").is_err());
    }

    #[test]
    fn tally_digests_like_sha256() {
        let mut t = Tally::new();
        t.add(b"ab");
        t.add(b"c");
        assert_eq!(
            t.finish(),
            "3 bytes (sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad)"
        );
    }

    #[test]
    fn the_pattern_is_the_same_in_chunks_of_eight() {
        let mut whole = vec![0; 1000];
        Pattern::new().fill(&mut whole);
        let mut p = Pattern::new();
        let mut parts = vec![0; 1000];
        for c in parts.chunks_mut(8 * 7) {
            p.fill(c);
        }
        assert_eq!(whole, parts);
    }
}
