//! Configuration profiles: which [`synack::Config`] a script runs against, the socket
//! defaults of the runner's socket layer, the `#ifdef` names defined, and how `sysctl`
//! lines map onto all of that.
//!
//! - `synack` (the default): `Config::default()`, synack's own (Linux-like) defaults.
//! - `freebsd`: the defaults a FreeBSD 12–14 host has where scripts of the FreeBSD TCP
//!   test suite depend on them — receive buffer 64 KiB and send buffer 32 KiB
//!   (`recvspace`, `sendspace`), `kern.ipc.maxsockbuf` = 2 MiB (so the window scale
//!   offered is 6), 100 ms delayed ACKs (`delacktime`), a 75 s connection-establishment
//!   timeout (`keepinit`), the RTO floor `rexmit_min` + `rexmit_slop` = 230 ms,
//!   keep-alive defaults 7200 s / 75 s / 8 probes, ephemeral ports 49152–65535; and
//!   FreeBSD's answer where RFC 9293 leaves a choice open, through `Config` switches
//!   that are off by default (`recv_buffer_whole_segments`, `accept_beyond_advertised`,
//!   `simultaneous_close_resends_fin`, `ack_every_second_segment`, `immediate_dsack`,
//!   `listen_ignores_syn_ack`; each field's documentation cites the section).
//!
//! Both define `STANDARD` for `#ifdef`: where a script offers a FreeBSD block and a
//! STANDARD block, synack (which implements RFC 9293, not FreeBSD's deviations) is held
//! to the standard one. `--define NAME` adds names.

use core::time::Duration;
use synack::Config;

/// A named set of defaults.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: &'static str,
    pub config: Config,
    pub socket: SocketDefaults,
    /// Names `#ifdef` sees as defined.
    pub defines: Vec<String>,
    /// The value of `O_NONBLOCK` in `fcntl` results.
    pub o_nonblock: i64,
    /// Whether an accepted socket inherits `O_NONBLOCK` from the listening one (BSD
    /// does, Linux does not).
    pub accept_inherits_nonblock: bool,
}

/// Defaults the runner's socket layer gives a new socket (the per-socket options that a
/// kernel inherits from sysctls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketDefaults {
    pub keepidle: Duration,
    pub keepintvl: Duration,
    pub keepcnt: u32,
}

/// What became of a `sysctl` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysctlEffect {
    /// The configuration changed (or already had this value).
    Applied,
    /// Nothing in synack corresponds to it, and the value asks for what synack does
    /// anyway (e.g. flushing a host cache synack does not have).
    NoOp(&'static str),
    /// The value asks for a behaviour synack cannot be configured to have.
    Unsupported(String),
    /// The name is not known to the runner.
    Unknown,
}

/// The profiles, by name.
pub const PROFILES: &[&str] = &["synack", "freebsd"];

impl Profile {
    /// A profile by name (`synack`/`default`/`linux`, or `freebsd`).
    pub fn named(name: &str) -> Option<Profile> {
        match name {
            "synack" | "default" | "linux" => Some(Profile::synack()),
            "freebsd" => Some(Profile::freebsd()),
            _ => None,
        }
    }

    /// synack's own defaults.
    pub fn synack() -> Profile {
        Profile {
            name: "synack",
            config: Config::default(),
            socket: SocketDefaults {
                keepidle: Duration::from_secs(7200),
                keepintvl: Duration::from_secs(75),
                keepcnt: 9,
            },
            defines: vec!["STANDARD".into()],
            o_nonblock: 0x800,
            accept_inherits_nonblock: false,
        }
    }

    /// FreeBSD-like defaults (see the module documentation).
    pub fn freebsd() -> Profile {
        let config = Config {
            recv_buffer: 65_536,
            send_buffer: 32_768,
            recv_buffer_max: 2_097_152,
            send_buffer_max: 2_097_152,
            delayed_ack: Duration::from_millis(100),
            r2_syn: Duration::from_secs(75),
            rto_min: Duration::from_millis(230),
            ephemeral_ports: 49152..=65535,
            // FreeBSD's choices where RFC 9293 leaves one open (see each field's doc).
            recv_buffer_whole_segments: true,
            accept_beyond_advertised: true,
            simultaneous_close_resends_fin: true,
            ack_every_second_segment: true,
            immediate_dsack: true,
            listen_ignores_syn_ack: true,
            ..Config::default()
        };
        Profile {
            name: "freebsd",
            config,
            socket: SocketDefaults {
                keepidle: Duration::from_secs(7200),
                keepintvl: Duration::from_secs(75),
                keepcnt: 8,
            },
            defines: vec!["STANDARD".into()],
            o_nonblock: 0x4,
            accept_inherits_nonblock: true,
        }
    }

    /// Apply `sysctl -w name=value` (FreeBSD and Linux names).
    pub fn apply_sysctl(&mut self, name: &str, value: &str) -> SysctlEffect {
        let num = value.trim().parse::<u64>().ok();
        let Some(v) = num else {
            return SysctlEffect::Unsupported(format!("non-numeric value `{value}`"));
        };
        let ms = Duration::from_millis(v);
        let c = &mut self.config;
        match name {
            // ---- FreeBSD ----
            "net.inet.tcp.rfc1323" => {
                // RFC 1323 = window scale and timestamps together (FreeBSD 2 and 3 mean
                // one of them only).
                match v {
                    0 => (c.window_scaling, c.timestamps) = (false, false),
                    1 => (c.window_scaling, c.timestamps) = (true, true),
                    2 => (c.window_scaling, c.timestamps) = (true, false),
                    3 => (c.window_scaling, c.timestamps) = (false, true),
                    _ => return SysctlEffect::Unsupported(format!("rfc1323={v}")),
                }
                SysctlEffect::Applied
            }
            "net.inet.tcp.sack.enable" | "net.ipv4.tcp_sack" => {
                c.sack = v != 0;
                SysctlEffect::Applied
            }
            "net.inet.tcp.recvspace" => {
                c.recv_buffer = v as usize;
                SysctlEffect::Applied
            }
            "net.inet.tcp.sendspace" => {
                c.send_buffer = v as usize;
                SysctlEffect::Applied
            }
            "kern.ipc.maxsockbuf" => {
                // FreeBSD sizes the window scale from sb_max (tcp_syncache/tcp_connect:
                // the smallest shift with TCP_MAXWIN << shift >= sb_max); synack sizes it
                // from the largest receive buffer, which is the same rule.
                c.recv_buffer_max = v as usize;
                c.send_buffer_max = v as usize;
                SysctlEffect::Applied
            }
            "net.inet.tcp.delacktime" => {
                c.delayed_ack = ms;
                SysctlEffect::Applied
            }
            "net.inet.tcp.keepinit" => {
                c.r2_syn = ms;
                SysctlEffect::Applied
            }
            "net.inet.tcp.keepidle" => {
                self.socket.keepidle = ms;
                SysctlEffect::Applied
            }
            "net.inet.tcp.keepintvl" => {
                self.socket.keepintvl = ms;
                SysctlEffect::Applied
            }
            "net.inet.tcp.keepcnt" | "net.ipv4.tcp_keepalive_probes" => {
                self.socket.keepcnt = v as u32;
                SysctlEffect::Applied
            }
            "net.inet.tcp.rexmit_initial" => {
                c.rto_initial = ms;
                SysctlEffect::Applied
            }
            "net.inet.tcp.rexmit_slop" => {
                // FreeBSD's RTO floor is rexmit_min (30 ms) plus the slop.
                c.rto_min = Duration::from_millis(30) + ms;
                SysctlEffect::Applied
            }
            "net.inet.ip.ttl" | "net.ipv4.ip_default_ttl" | "net.inet6.ip6.hlim" | "net.ipv6.conf.all.hop_limit" => {
                let Ok(ttl) = u8::try_from(v) else {
                    return SysctlEffect::Unsupported(format!("TTL {v} does not fit 8 bits"));
                };
                c.hop_limit = ttl;
                SysctlEffect::Applied
            }
            "net.inet.tcp.msl" => {
                c.msl = ms;
                SysctlEffect::Applied
            }
            "net.inet.tcp.insecure_rst" => {
                c.rst_challenge = v == 0;
                SysctlEffect::Applied
            }
            "net.inet.tcp.insecure_syn" => {
                c.syn_challenge = v == 0;
                SysctlEffect::Applied
            }
            "net.inet.tcp.hostcache.purgenow" => SysctlEffect::NoOp("synack keeps no host cache"),
            "net.inet.tcp.blackhole" if v == 0 => {
                SysctlEffect::NoOp("synack always answers segments for closed ports with RST")
            }
            "net.inet.tcp.blackhole" => {
                SysctlEffect::Unsupported("synack cannot drop segments for closed ports silently".into())
            }
            "net.inet.tcp.ecn.enable" if v == 0 || v == 2 => {
                SysctlEffect::NoOp("synack never asks for ECN (RFC 3168 is not implemented)")
            }
            "net.inet.tcp.ecn.enable" => SysctlEffect::Unsupported(
                "ECN (RFC 3168, SHLD-8) is not implemented: synack cannot request it".into(),
            ),
            "net.inet.tcp.ecn.maxretries" => SysctlEffect::NoOp("ECN is not implemented"),
            "net.inet.tcp.rexmit_drop_options" if v == 0 => {
                SysctlEffect::NoOp("synack keeps its options on retransmitted SYNs")
            }
            "net.inet.tcp.rexmit_drop_options" => SysctlEffect::Unsupported(
                "synack never drops options from retransmitted SYNs".into(),
            ),
            "net.inet.tcp.drop_synfin" => SysctlEffect::NoOp(
                "synack processes SYN+FIN like RFC 9293 says; scripts check FreeBSD's dropping only in #ifdef FreeBSD blocks",
            ),
            "net.inet.tcp.icmp_may_rst" => {
                c.icmp_hard_errors_abort = v != 0;
                SysctlEffect::Applied
            }
            "net.inet.tcp.syncookies" | "net.inet.tcp.syncookies_only" => {
                SysctlEffect::NoOp("the SYN queue does not overflow in these scripts")
            }
            "net.inet.tcp.tolerate_missing_ts" => SysctlEffect::NoOp(
                "synack follows RFC 7323 §3.2 for segments without timestamps",
            ),
            "net.inet.tcp.udp_tunneling_port" | "net.inet.tcp.udp_tunneling_overhead" if v == 0 => {
                SysctlEffect::NoOp("no UDP tunneling")
            }
            "net.inet.tcp.udp_tunneling_port" | "net.inet.tcp.udp_tunneling_overhead" => {
                SysctlEffect::Unsupported("TCP over UDP encapsulation (RFC 6951-style) is not implemented".into())
            }
            // ---- Linux ----
            "net.ipv4.tcp_challenge_ack_limit" => {
                c.challenge_ack_limit = u32::try_from(v).unwrap_or(u32::MAX);
                SysctlEffect::Applied
            }
            "net.ipv4.tcp_timestamps" => {
                c.timestamps = v != 0;
                SysctlEffect::Applied
            }
            "net.ipv4.tcp_window_scaling" => {
                c.window_scaling = v != 0;
                SysctlEffect::Applied
            }
            "net.ipv4.tcp_keepalive_time" => {
                self.socket.keepidle = Duration::from_secs(v);
                SysctlEffect::Applied
            }
            "net.ipv4.tcp_keepalive_intvl" => {
                self.socket.keepintvl = Duration::from_secs(v);
                SysctlEffect::Applied
            }
            "net.ipv4.tcp_syn_retries" | "net.ipv4.tcp_synack_retries" => SysctlEffect::Unsupported(
                "synack bounds SYN retransmission by time (R2), not by count".into(),
            ),
            "net.ipv4.tcp_ecn" if v == 0 || v == 2 => SysctlEffect::NoOp("ECN is not implemented"),
            "net.ipv4.tcp_ecn" => SysctlEffect::Unsupported("ECN is not implemented".into()),
            _ => SysctlEffect::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctls_change_the_config() {
        let mut p = Profile::freebsd();
        assert_eq!(
            p.apply_sysctl("net.inet.tcp.rfc1323", "0"),
            SysctlEffect::Applied
        );
        assert!(!p.config.window_scaling && !p.config.timestamps);
        assert_eq!(
            p.apply_sysctl("net.inet.tcp.keepinit", "5000"),
            SysctlEffect::Applied
        );
        assert_eq!(p.config.r2_syn, Duration::from_secs(5));
        assert_eq!(
            p.apply_sysctl("net.inet.tcp.insecure_rst", "1"),
            SysctlEffect::Applied
        );
        assert!(!p.config.rst_challenge);
        assert!(matches!(
            p.apply_sysctl("net.inet.tcp.ecn.enable", "1"),
            SysctlEffect::Unsupported(_)
        ));
        assert_eq!(p.apply_sysctl("no.such.thing", "1"), SysctlEffect::Unknown);
        assert!(matches!(
            p.apply_sysctl("net.inet.tcp.msl", "x"),
            SysctlEffect::Unsupported(_)
        ));
    }
}
