//! Shared set-up of the TUN tests: a namespace of their own, a stack in it.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use synack_io::netns::NetNs;
use synack_io::{Impairment, Stack, StackConfig, TunConfig};

pub const HOST4: &str = "198.18.0.1";
pub const STACK4: &str = "198.18.0.2";
pub const HOST6: &str = "fd00:5a:c4::1";
pub const STACK6: &str = "fd00:5a:c4::2";

pub struct Env {
    // Field order matters: the stack (and its device) goes before the namespace.
    pub stack: Stack,
    pub ns: NetNs,
}

pub struct Options {
    pub impair: Option<Impairment>,
    pub msl: Option<Duration>,
    pub mtu: u16,
    pub offload: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            impair: None,
            msl: None,
            mtu: 1500,
            offload: true,
        }
    }
}

/// A namespace with a synack stack on a TUN device in it (IPv4 and IPv6).
pub fn env(options: Options) -> Env {
    let ns = NetNs::create("synack-test").expect("ip netns add");
    let mut tun = TunConfig::new(
        "synack0",
        format!("{HOST4}/24").parse().unwrap(),
        STACK4.parse().unwrap(),
    )
    .with_addr(
        format!("{HOST6}/64").parse().unwrap(),
        STACK6.parse().unwrap(),
    );
    tun.netns = Some(ns.name().to_string());
    tun.mtu = options.mtu;
    tun.offload = options.offload;
    let mut config = StackConfig::new(tun);
    config.impair = options.impair;
    if let Some(msl) = options.msl {
        config.tcp.msl = msl;
    }
    let stack = Stack::start(config).expect("start the stack");
    Env { stack, ns }
}

pub fn stack_addr(v6: bool, port: u16) -> SocketAddr {
    let ip: IpAddr = if v6 { STACK6 } else { STACK4 }.parse().unwrap();
    SocketAddr::new(ip, port)
}

pub fn host_addr(v6: bool, port: u16) -> SocketAddr {
    let ip: IpAddr = if v6 { HOST6 } else { HOST4 }.parse().unwrap();
    SocketAddr::new(ip, port)
}

/// Deterministic pseudo-random bytes.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
