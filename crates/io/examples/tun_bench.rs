//! Throughput over the TUN device, next to the kernel talking to itself over a veth pair.
//!
//! ```text
//! cargo run --release -p synack-io --example tun_bench -- [BYTES] [SECONDS] [MTU]
//! ```
//!
//! Needs root. For each MTU (1500 and 65535) it measures, inside private network
//! namespaces: kernel → synack (a kernel socket writes, a synack socket reads),
//! synack → kernel (the other way), and kernel → kernel over a veth pair between two
//! namespaces. Each run moves BYTES (default 2 GB) or stops after SECONDS (default 5), and
//! prints Gbit/s as a Markdown table. Giving an MTU measures that MTU only; with
//! `SYNACK_OFFLOAD=0` in the environment the device runs without GSO/GRO. Addresses
//! come from 198.18.0.0/15; nothing leaves the namespaces.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};
use synack_io::netns::NetNs;
use synack_io::{Stack, StackConfig, TcpListener, TcpStream, TunConfig};

const CHUNK: usize = 256 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(why) = synack_io::netns::missing_prerequisite() {
        return Err(why.into());
    }
    let mut args = std::env::args().skip(1);
    let bytes: u64 = args.next().map_or(Ok(2_000_000_000), |s| s.parse())?;
    let secs: u64 = args.next().map_or(Ok(5), |s| s.parse())?;
    let limit = Duration::from_secs(secs);
    let mtus: Vec<u16> = match args.next() {
        Some(m) => vec![m.parse()?],
        None => vec![1500, 65535],
    };
    println!("| MTU | kernel → synack | synack → kernel | kernel → kernel (veth) |");
    println!("|---:|---:|---:|---:|");
    for mtu in mtus {
        let (k2s, s2k) = tun_runs(mtu, bytes, limit)?;
        let veth = veth_run(mtu, bytes, limit)?;
        println!(
            "| {mtu} | {:.2} Gbit/s | {:.2} Gbit/s | {:.2} Gbit/s |",
            k2s, s2k, veth
        );
    }
    Ok(())
}

fn gbps(n: u64, d: Duration) -> f64 {
    n as f64 * 8.0 / d.as_secs_f64() / 1e9
}

/// Write until `bytes` or `limit`, then shut down; returns bytes written.
fn pump(mut w: impl Write, bytes: u64, limit: Duration) -> std::io::Result<u64> {
    let buf = vec![0x5a_u8; CHUNK];
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < bytes && start.elapsed() < limit {
        let n = (bytes - sent).min(CHUNK as u64) as usize;
        w.write_all(&buf[..n])?;
        sent += n as u64;
    }
    Ok(sent)
}

/// Read to the end; returns bytes read and the time from the first byte to the last.
fn drain(mut r: impl Read) -> std::io::Result<(u64, Duration)> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    let mut start = None;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        start.get_or_insert_with(Instant::now);
        total += n as u64;
    }
    Ok((total, start.map_or(Duration::ZERO, |s| s.elapsed())))
}

fn tun_runs(
    mtu: u16,
    bytes: u64,
    limit: Duration,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let ns = NetNs::create("synack-bench")?;
    let mut tun = TunConfig::new("synack0", "198.18.0.1/24".parse()?, "198.18.0.2".parse()?);
    tun.mtu = mtu;
    tun.offload = std::env::var("SYNACK_OFFLOAD").map_or(true, |v| v != "0");
    tun.netns = Some(ns.name().to_string());
    let stack = Stack::start(StackConfig::new(tun))?;

    // kernel -> synack
    let listener = TcpListener::bind(&stack, "198.18.0.2:5001")?;
    let reader = std::thread::spawn(move || {
        let (s, _) = listener.accept()?;
        drain(&s)
    });
    let k = ns.run(|| std::net::TcpStream::connect("198.18.0.2:5001"))??;
    pump(&k, bytes, limit)?;
    k.shutdown(Shutdown::Write)?;
    let (n, d) = reader.join().map_err(|_| "reader panicked")??;
    let k2s = gbps(n, d);

    // synack -> kernel
    let kl = ns.run(|| std::net::TcpListener::bind("198.18.0.1:5002"))??;
    let reader = std::thread::spawn(move || {
        let (s, _) = kl.accept()?;
        drain(&s)
    });
    let s = TcpStream::connect(&stack, "198.18.0.1:5002")?;
    pump(&s, bytes, limit)?;
    s.shutdown(Shutdown::Write)?;
    let (n, d) = reader.join().map_err(|_| "reader panicked")??;
    let s2k = gbps(n, d);
    drop(s);
    let _ = stack.stop();
    Ok((k2s, s2k))
}

fn veth_run(mtu: u16, bytes: u64, limit: Duration) -> Result<f64, Box<dyn std::error::Error>> {
    let a = NetNs::create("synack-bench-a")?;
    let b = NetNs::create("synack-bench-b")?;
    let sh = |cmd: &mut std::process::Command| -> Result<(), Box<dyn std::error::Error>> {
        let st = cmd.status()?;
        if st.success() {
            Ok(())
        } else {
            Err(format!("{cmd:?} failed").into())
        }
    };
    sh(a.command("ip").args([
        "link",
        "add",
        "veth0",
        "type",
        "veth",
        "peer",
        "name",
        "veth1",
        "netns",
        b.name(),
    ]))?;
    let mtu = mtu.to_string();
    sh(a.command("ip")
        .args(["link", "set", "veth0", "mtu", &mtu, "up"]))?;
    sh(b.command("ip")
        .args(["link", "set", "veth1", "mtu", &mtu, "up"]))?;
    sh(a.command("ip")
        .args(["addr", "add", "198.18.1.1/24", "dev", "veth0"]))?;
    sh(b.command("ip")
        .args(["addr", "add", "198.18.1.2/24", "dev", "veth1"]))?;
    let listener = b.run(|| std::net::TcpListener::bind("198.18.1.2:5003"))??;
    let reader = std::thread::spawn(move || {
        let (s, _) = listener.accept()?;
        drain(&s)
    });
    let addr: SocketAddr = "198.18.1.2:5003".parse()?;
    let k = a.run(|| std::net::TcpStream::connect(addr))??;
    pump(&k, bytes, limit)?;
    k.shutdown(Shutdown::Write)?;
    let (n, d) = reader.join().map_err(|_| "reader panicked")??;
    Ok(gbps(n, d))
}
