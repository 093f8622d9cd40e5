//! The executor: one script against one [`synack::Endpoint`] on a virtual clock.
//!
//! **Time.** Script time is microseconds since the script's first event; the endpoint's
//! [`Instant`] is the same clock in nanoseconds. Before an inbound packet, a call or a
//! command at time `t` the executor runs the endpoint's timers up to `t`
//! ([`Exec::run_until`]), collecting every datagram the stack sends with the time it was
//! sent. Relative times (`+0.1`) count from the moment the previous event finished,
//! except that consecutive inbound packets count from each other's script times — both
//! exactly as packetdrill does (`adjust_relative_event_times` in its `run.c`).
//!
//! **Outbound packets.** Datagrams the stack sends wait in a queue, in order. A `>` line
//! takes the oldest; if there is none, the clock runs on, timer by timer, until the stack
//! sends one or the line's time plus the tolerance has passed. The datagram must have
//! been sent within `--tolerance_usecs` of the line's time and match its fields
//! ([`crate::matcher`]). A datagram nobody expected is caught by the next `>` line, as in
//! packetdrill; in `--strict` mode also at the end of the script.
//!
//! **Sequence numbers** are relative, as packetdrill writes them: the peer's ISN is what
//! the script's first SYN says; the stack's ISN is learned from its SYN or SYN-ACK and
//! mapped onto the script's (usually 0). SYN segments carry absolute numbers, all others
//! numbers relative to the ISN of their sender (packetdrill's `socket.h`).

use crate::ast::*;
use crate::matcher::{self, MatchConfig};
use crate::packet::{self, Decoded, IpFields, TcpOut, WireOption};
use crate::profile::Profile;
use crate::report::Failure;
use crate::sockets::{Pending, Socket};
use crate::RunOptions;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};
use synack::{Endpoint, Event as EpEvent, FourTuple, Instant};

/// Why execution stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    Fail(Box<Failure>),
    /// The script needs something the runner does not model.
    Skip(String),
}

pub(crate) type Step<T = ()> = Result<T, Stop>;

/// A datagram the stack sent, and when.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub at: Instant,
    pub bytes: Vec<u8>,
}

/// Which connection packets are about (packetdrill's "socket under test").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sut {
    None,
    /// A listening socket: the next inbound SYN starts a new connection from a fresh
    /// remote port.
    Listening,
    /// `connect` was called: the stack's SYN tells the local port and ISN.
    Connecting,
    /// A connection is under test.
    Connection,
}

/// The stack's initial sequence number: as the script writes it, and as sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Isn {
    pub script: u32,
    pub live: u32,
}

pub(crate) struct Exec<'o> {
    pub opts: &'o RunOptions,
    pub profile: Profile,
    pub ep: Option<Endpoint>,
    pub now: Instant,
    pub tolerance_us: i64,
    pub ipv6: bool,
    pub local_ip: IpAddr,
    pub remote_ip: IpAddr,
    pub bind_port: u16,
    pub connect_port: u16,
    pub remote_port: u16,
    next_remote_port: u16,
    pub local_port: Option<u16>,
    pub sut: Sut,
    /// The peer's ISN (script and live values are the same: the runner plays the peer).
    pub remote_isn: Option<u32>,
    pub local_isn: Option<Isn>,
    /// Script TS values of the stack's segments and what the stack really sent, so that
    /// an inbound `ecr` can echo the live value (packetdrill's `ts_val_map`).
    ts_map: Vec<(u32, u32)>,
    /// `--tcp_ts_tick_usecs`: check the stack's TS values advance at this rate.
    ts_tick_us: Option<i64>,
    /// The first (script, live) TS value pair, the origin for the rate check.
    ts_origin: Option<(u32, u32)>,
    /// Every 4-tuple packets were exchanged on (for `sockstat`).
    pub tuples: Vec<FourTuple>,
    pub sockets: BTreeMap<i64, Socket>,
    pub queue: VecDeque<Sent>,
    pub pending: Option<Pending>,
    /// The descriptor of the latest call (what `%{ tcpi_… }%` looks at).
    pub last_fd: Option<i64>,
    /// The script time of the previous event and whether it was an inbound packet.
    prev: Option<(bool, i64)>,
    pub non_fatal_syscall: bool,
    pub non_fatal_packet: bool,
    pub notes: Vec<String>,
    /// The event being executed: line and text, for failures.
    pub line: usize,
    pub text: String,
    pub transcript: Vec<String>,
}

/// How far a `*` outbound line waits at most.
const ANY_TIME_LIMIT: Duration = Duration::from_secs(3600);

/// The addresses the runner uses: the stack is `.1`, the scripted peer `.2`
/// (198.18.0.0/15 is the benchmarking range, RFC 2544; 2001:db8::/32 the IPv6
/// documentation prefix, RFC 3849).
pub(crate) const LOCAL_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub(crate) const REMOTE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub(crate) const LOCAL_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
pub(crate) const REMOTE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
/// The first remote port of a passive connection (each new one takes the next).
const FIRST_REMOTE_PORT: u16 = 41000;

pub(crate) fn us_to_instant(us: i64) -> Instant {
    Instant::from_micros(us.max(0) as u64)
}

pub(crate) fn instant_us(t: Instant) -> i64 {
    t.as_micros() as i64
}

/// Seconds, as the report prints times.
pub(crate) fn secs(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let us = us.unsigned_abs();
    format!("{sign}{}.{:06}", us / 1_000_000, us % 1_000_000)
}

impl<'o> Exec<'o> {
    pub(crate) fn new(opts: &'o RunOptions, profile: Profile) -> Self {
        Exec {
            opts,
            profile,
            ep: None,
            now: Instant::ZERO,
            tolerance_us: 4_000,
            ipv6: false,
            local_ip: IpAddr::V4(LOCAL_V4),
            remote_ip: IpAddr::V4(REMOTE_V4),
            bind_port: 8080,
            connect_port: 8080,
            remote_port: FIRST_REMOTE_PORT,
            next_remote_port: FIRST_REMOTE_PORT,
            local_port: None,
            sut: Sut::None,
            remote_isn: None,
            local_isn: None,
            ts_map: Vec::new(),
            ts_tick_us: None,
            ts_origin: None,
            tuples: Vec::new(),
            sockets: BTreeMap::new(),
            queue: VecDeque::new(),
            pending: None,
            last_fd: None,
            prev: None,
            non_fatal_syscall: false,
            non_fatal_packet: false,
            notes: Vec::new(),
            line: 0,
            text: String::new(),
            transcript: Vec::new(),
        }
    }

    /// A failure at the current event.
    pub(crate) fn fail(&self, message: impl Into<String>) -> Stop {
        Stop::Fail(Box::new(Failure {
            line: self.line,
            event: self.text.clone(),
            message: message.into(),
            expected: None,
            actual: None,
            at_us: instant_us(self.now),
        }))
    }

    /// Apply the header options (`--name=value`).
    pub(crate) fn header(&mut self, options: &[(String, Option<String>)]) -> Step {
        let mut mss = None;
        for (name, value) in options {
            let v = value.as_deref().unwrap_or("");
            let num = || -> Step<i64> {
                v.parse::<i64>()
                    .map_err(|_| Stop::Skip(format!("option --{name}={v}: not a number")))
            };
            match name.as_str() {
                "ip_version" => match v {
                    "ipv4" | "ipv4-mapped-ipv6" => self.ipv6 = false,
                    "ipv6" => self.ipv6 = true,
                    _ => return Err(Stop::Skip(format!("--ip_version={v}"))),
                },
                "tolerance_usecs" => self.tolerance_us = num()?,
                "tolerance_percent" => self
                    .notes
                    .push("--tolerance_percent is ignored: virtual time is exact".into()),
                "mtu" => {
                    let m = num()?;
                    self.profile.config.mtu =
                        u16::try_from(m).map_err(|_| Stop::Skip(format!("--mtu={v}")))?;
                }
                "mss" => mss = Some(num()?),
                "bind_port" => {
                    self.bind_port =
                        u16::try_from(num()?).map_err(|_| Stop::Skip(format!("--bind_port={v}")))?
                }
                "connect_port" => {
                    self.connect_port = u16::try_from(num()?)
                        .map_err(|_| Stop::Skip(format!("--connect_port={v}")))?
                }
                "tcp_ts_tick_usecs" => self.ts_tick_us = Some(num()?).filter(|&t| t > 0),
                "non_fatal" => {
                    for part in v.split(',') {
                        match part.trim() {
                            "syscall" => self.non_fatal_syscall = true,
                            "packet" => self.non_fatal_packet = true,
                            other => return Err(Stop::Skip(format!("--non_fatal={other}"))),
                        }
                    }
                }
                // Names only the runner's own fixed addresses can play.
                "local_ip" | "remote_ip" | "gateway_ip" | "netmask_ip" | "speed"
                | "wire_client" | "wire_server" | "wire_server_ip" | "define" | "init_scripts"
                | "verbose" | "dry_run" => self.notes.push(format!("--{name} ignored")),
                _ => {
                    return Err(Stop::Skip(format!(
                        "header option --{name} is not supported"
                    )))
                }
            }
        }
        if self.ipv6 {
            self.local_ip = IpAddr::V6(LOCAL_V6);
            self.remote_ip = IpAddr::V6(REMOTE_V6);
        }
        if let Some(mss) = mss {
            let overhead = if self.ipv6 { 60 } else { 40 };
            self.profile.config.mtu =
                u16::try_from(mss + overhead).map_err(|_| Stop::Skip(format!("--mss={mss}")))?;
        }
        Ok(())
    }

    /// The endpoint, built from the profile's configuration on first use (so that the
    /// `sysctl` lines at the top of a script shape it).
    pub(crate) fn ep(&mut self) -> &mut Endpoint {
        if self.ep.is_none() {
            let mut ep = Endpoint::new(self.profile.config.clone(), self.opts.secret);
            ep.add_address(self.local_ip);
            self.ep = Some(ep);
        }
        self.ep.as_mut().expect("just built")
    }

    // ---- Time ----

    /// Collect everything the stack sends now and every event it reports; finish a
    /// blocking call that can complete.
    pub(crate) fn pump(&mut self) -> Step {
        if self.ep.is_none() {
            return Ok(());
        }
        loop {
            let mut progressed = false;
            let now = self.now;
            let mut buf = vec![0u8; 65_536 + 120];
            while let Some(n) = self.ep().poll_transmit(now, &mut buf) {
                self.queue.push_back(Sent {
                    at: now,
                    bytes: buf[..n].to_vec(),
                });
                progressed = true;
            }
            while let Some(ev) = self.ep().poll_event() {
                self.on_endpoint_event(ev);
                progressed = true;
            }
            if self.pending.is_some() && self.retry_pending()? {
                progressed = true;
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    fn on_endpoint_event(&mut self, ev: EpEvent) {
        if let EpEvent::Closed(conn, reason) = ev {
            let errno = match reason {
                synack::CloseReason::Reset => Some("ECONNRESET"),
                synack::CloseReason::Refused => Some("ECONNREFUSED"),
                synack::CloseReason::TimedOut => Some("ETIMEDOUT"),
                synack::CloseReason::Normal | synack::CloseReason::Aborted => None,
            };
            for s in self.sockets.values_mut() {
                if s.conn() == Some(conn) {
                    if let Some(e) = errno {
                        s.pending_error = Some(e);
                    }
                }
            }
        }
    }

    /// Run the endpoint's timers up to `t` (script microseconds) and stop there.
    pub(crate) fn run_until(&mut self, t: i64) -> Step {
        let target = us_to_instant(t);
        self.pump()?;
        let mut guard = 0u32;
        while let Some(d) = self.ep.as_ref().and_then(Endpoint::poll_timeout) {
            if d > target {
                break;
            }
            guard += 1;
            if guard > 2_000_000 {
                return Err(self.fail("the endpoint's timers never settle (a timer loop)"));
            }
            if d > self.now {
                self.now = d;
            }
            let now = self.now;
            self.ep().handle_timeout(now);
            self.pump()?;
        }
        if target > self.now {
            self.now = target;
        }
        self.pump()
    }

    /// Run timers one at a time until a datagram is queued or `deadline` passes.
    fn wait_for_datagram(&mut self, deadline: Instant) -> Step<bool> {
        self.pump()?;
        let mut guard = 0u32;
        while self.queue.is_empty() {
            let Some(d) = self.ep.as_ref().and_then(Endpoint::poll_timeout) else {
                return Ok(false);
            };
            if d > deadline {
                return Ok(false);
            }
            guard += 1;
            if guard > 2_000_000 {
                return Err(self.fail("the endpoint's timers never settle (a timer loop)"));
            }
            if d > self.now {
                self.now = d;
            }
            let now = self.now;
            self.ep().handle_timeout(now);
            self.pump()?;
        }
        Ok(true)
    }

    /// When an event happens: (start, end) in script microseconds, and whether its time
    /// is checked at all.
    fn schedule(&self, time: TimeSpec, inbound: bool) -> (i64, i64, bool) {
        let now = instant_us(self.now);
        let base = match self.prev {
            Some((true, t)) if inbound => t,
            _ => now,
        };
        match time {
            TimeSpec::Absolute(t) => (t, t, true),
            TimeSpec::Relative(d) => (base + d, base + d, true),
            TimeSpec::AbsoluteRange(a, b) => (a, b, true),
            TimeSpec::RelativeRange(a, b) => (base + a, base + b, true),
            TimeSpec::Any => (now, now + ANY_TIME_LIMIT.as_micros() as i64, false),
            TimeSpec::Blocking {
                start,
                end,
                relative,
            } => {
                if relative {
                    (base + start, base + end, true)
                } else {
                    (start, end, true)
                }
            }
        }
    }

    // ---- Running a script ----

    pub(crate) fn run(&mut self, script: &Script) -> Step {
        self.header(&script.options)?;
        // Unsupported constructs anywhere make the whole script a skip, before anything
        // runs: a partial run would report failures that are the runner's.
        for ev in &script.events {
            if let Some(reason) = unsupported(ev) {
                self.line = ev.line;
                return Err(Stop::Skip(format!("line {}: {reason}", ev.line)));
            }
        }
        for ev in &script.events {
            self.line = ev.line;
            self.text = ev.text.clone();
            self.event(ev)?;
        }
        self.finish()
    }

    fn event(&mut self, ev: &Event) -> Step {
        let inbound = matches!(&ev.kind, EventKind::Packet(p) if p.direction == Direction::Inbound);
        let (start, end, checked) = self.schedule(ev.time, inbound);
        let outbound =
            matches!(&ev.kind, EventKind::Packet(p) if p.direction == Direction::Outbound);
        if !outbound {
            // A new call waits for a blocking one to return (packetdrill's
            // `await_idle_thread`), as does anything else that needs the clock.
            if matches!(ev.kind, EventKind::Syscall(_)) {
                self.await_pending()?;
            }
            if start > instant_us(self.now) {
                self.run_until(start)?;
            } else if checked && instant_us(self.now) > start.max(end) + self.tolerance_us {
                return Err(self.fail(format!(
                    "timing error: the event was due at {} s but the script could only reach it at {} s",
                    secs(start),
                    secs(instant_us(self.now))
                )));
            } else {
                self.pump()?;
            }
        }
        let result = match &ev.kind {
            EventKind::Packet(p) => match p.direction {
                Direction::Inbound => self.inbound(p),
                Direction::Outbound => self.outbound(p, start, end, checked),
            },
            EventKind::Syscall(call) => self.syscall(call, ev.time, start, end),
            EventKind::Command(cmd) => self.command(cmd),
            EventKind::Code(code) => self.code(code),
        };
        match result {
            Err(Stop::Fail(f)) if self.non_fatal(ev) => {
                self.notes
                    .push(format!("non-fatal: line {}: {}", f.line, f.message));
            }
            other => other?,
        }
        self.prev = Some((inbound, start));
        self.pump()
    }

    fn non_fatal(&self, ev: &Event) -> bool {
        match ev.kind {
            EventKind::Syscall(_) => self.non_fatal_syscall,
            EventKind::Packet(_) => self.non_fatal_packet,
            _ => false,
        }
    }

    /// The end of the script: a blocking call must have returned; in strict mode no
    /// segment may be left that no line expected.
    fn finish(&mut self) -> Step {
        if let Some(p) = &self.pending {
            let (line, text) = (p.line, p.text.clone());
            self.line = line;
            self.text = text;
            return Err(self.fail("the blocking call had not returned when the script ended"));
        }
        self.pump()?;
        if self.opts.strict && !self.queue.is_empty() {
            let lines: Vec<String> = self
                .queue
                .iter()
                .map(|s| match packet::decode(&s.bytes) {
                    Ok(d) => format!(
                        "{} s  > {}",
                        secs(instant_us(s.at)),
                        self.describe_actual(&d)
                    ),
                    Err(e) => format!("{} s  {e}", secs(instant_us(s.at))),
                })
                .collect();
            self.line = 0;
            self.text = String::from("(end of script)");
            return Err(Stop::Fail(Box::new(Failure {
                line: 0,
                event: "(end of script)".into(),
                message: format!(
                    "strict: {} segment(s) sent that no line of the script expected",
                    lines.len()
                ),
                expected: Some("nothing".into()),
                actual: Some(lines.join("\n")),
                at_us: instant_us(self.now),
            })));
        }
        Ok(())
    }

    // ---- Packets ----

    /// Offsets between script and live sequence numbers (packetdrill's `socket.h`).
    fn local_offset(&self, is_syn: bool) -> u32 {
        match self.local_isn {
            Some(isn) if is_syn => isn.live.wrapping_sub(isn.script),
            Some(isn) => isn.live,
            None => 0,
        }
    }

    fn remote_offset(&self, is_syn: bool) -> u32 {
        if is_syn {
            0
        } else {
            self.remote_isn.unwrap_or(0)
        }
    }

    fn tuple(&self) -> FourTuple {
        FourTuple {
            local: SocketAddr::new(self.local_ip, self.local_port.unwrap_or(self.bind_port)),
            remote: SocketAddr::new(self.remote_ip, self.remote_port),
        }
    }

    fn note_tuple(&mut self) {
        let t = self.tuple();
        if !self.tuples.contains(&t) {
            self.tuples.push(t);
        }
    }

    fn ip_fields(&self, spec: &PacketSpec) -> Step<IpFields> {
        let mut f = IpFields::default();
        for (name, value) in &spec.ip_fields {
            match name.as_str() {
                "ttl" | "hlim" => {
                    f.ttl = u8::try_from(*value)
                        .map_err(|_| self.fail(format!("{name} {value} too large")))?
                }
                "tos" | "class" => {
                    let v = u8::try_from(*value)
                        .map_err(|_| self.fail(format!("{name} {value} too large")))?;
                    f.dscp = v >> 2;
                    f.ecn = v & 3;
                }
                other => return Err(Stop::Skip(format!("IP header field `{other}`"))),
            }
        }
        if let Some(e) = spec.ecn {
            f.ecn = match e {
                EcnSpec::NotEct => 0,
                EcnSpec::Ect1 => 1,
                EcnSpec::Ect0 | EcnSpec::Ect01 => 2,
                EcnSpec::Ce => 3,
            };
        }
        Ok(f)
    }

    fn inbound(&mut self, spec: &PacketSpec) -> Step {
        let ip = self.ip_fields(spec)?;
        let bytes = match &spec.body {
            PacketBody::Tcp(t) => self.inbound_tcp(t, ip)?,
            PacketBody::Icmp(i) => self.inbound_icmp(i)?,
            PacketBody::Unsupported(what) => return Err(Stop::Skip(what.clone())),
        };
        self.transcript.push(format!(
            "{} s  < {}",
            secs(instant_us(self.now)),
            self.text_after_time()
        ));
        let now = self.now;
        self.ep().handle(now, &bytes);
        self.pump()
    }

    fn text_after_time(&self) -> String {
        let t = self.text.trim_start();
        match t.find(['<', '>']) {
            Some(i) => t[i + 1..].trim().to_string(),
            None => t.to_string(),
        }
    }

    fn inbound_tcp(&mut self, t: &TcpSpec, ip: IpFields) -> Step<Vec<u8>> {
        let is_syn = t.flags.syn;
        // A SYN to a listening socket under test starts a new connection from a new
        // remote port (packetdrill's `handle_listen_for_script_packet`).
        if is_syn && !t.flags.ack && self.sut == Sut::Listening {
            self.remote_port = self.next_remote_port;
            self.next_remote_port = self.next_remote_port.wrapping_add(1);
            self.sut = Sut::Connection;
            self.remote_isn = None;
            self.local_isn = None;
            self.local_port = Some(self.bind_port);
            self.ts_map.clear();
        }
        if is_syn && self.remote_isn.is_none() {
            self.remote_isn = Some(t.seq.map_or(0, |(s, _)| s));
        }
        let seq = t
            .seq
            .map_or(0, |(s, _)| s)
            .wrapping_add(self.remote_offset(is_syn));
        let ack = t
            .ack
            .map_or(0, |a| a.wrapping_add(self.local_offset(is_syn)));
        let win = match t.win {
            Some(w) => u16::try_from(w)
                .map_err(|_| self.fail(format!("window {w} does not fit 16 bits")))?,
            None => return Err(self.fail("an inbound segment needs a window (`win N`)")),
        };
        let options = match &t.options {
            OptionsSpec::None => Vec::new(),
            OptionsSpec::Any => {
                return Err(self.fail("an inbound segment cannot have `<...>` options"))
            }
            OptionsSpec::List(list) => {
                let mapped: Vec<OptionSpec> = list
                    .iter()
                    .map(|o| match o {
                        OptionSpec::Sack(blocks) => {
                            let off = self.local_offset(false);
                            OptionSpec::Sack(
                                blocks
                                    .iter()
                                    .map(|(l, r)| (l.wrapping_add(off), r.wrapping_add(off)))
                                    .collect(),
                            )
                        }
                        OptionSpec::Timestamps { val, ecr } => OptionSpec::Timestamps {
                            val: *val,
                            ecr: self.live_ecr(*ecr),
                        },
                        other => other.clone(),
                    })
                    .collect();
                packet::encode_options(&mapped)
                    .map_err(|e| Stop::Skip(format!("inbound options: {e}")))?
            }
        };
        let tuple = self.tuple();
        self.note_tuple();
        let seg = TcpOut {
            src: tuple.remote.ip(),
            dst: tuple.local.ip(),
            src_port: tuple.remote.port(),
            dst_port: tuple.local.port(),
            seq,
            ack,
            flags: t.flags.bits(),
            window: win,
            urgent: t.urg.unwrap_or(0),
            options,
            payload_len: t.len as usize,
            ip,
        };
        packet::build_tcp(&seg).map_err(|e| self.fail(format!("cannot build the segment: {e}")))
    }

    /// The live TS value an inbound `ecr` (written as one of the stack's script TS values)
    /// stands for.
    fn live_ecr(&self, script_ecr: u32) -> u32 {
        if script_ecr == 0 {
            return 0;
        }
        if let Some(&(_, live)) = self.ts_map.iter().rev().find(|(s, _)| *s == script_ecr) {
            return live;
        }
        // Not a value the stack was seen to send: keep its distance from the latest one
        // (both clocks tick in milliseconds).
        match self.ts_map.last() {
            Some(&(s, l)) => l.wrapping_add(script_ecr.wrapping_sub(s)),
            None => script_ecr,
        }
    }

    fn inbound_icmp(&mut self, i: &IcmpSpec) -> Step<Vec<u8>> {
        let Some((kind, code, rest)) =
            packet::icmp_numbers(self.ipv6, &i.kind, i.code.as_deref(), i.mtu)
        else {
            return Err(Stop::Skip(format!(
                "ICMP message `{} {}` is not modelled",
                i.kind,
                i.code.as_deref().unwrap_or("")
            )));
        };
        // The quoted datagram: one of ours, its IP header and the first 8 bytes of TCP
        // (ports and sequence number), as RFC 792 / RFC 4443 routers send back.
        let tuple = self.tuple();
        let seq = i.seq.unwrap_or(0).wrapping_add(self.local_offset(false));
        let mut tcp = vec![0u8; 8];
        tcp[0..2].copy_from_slice(&tuple.local.port().to_be_bytes());
        tcp[2..4].copy_from_slice(&tuple.remote.port().to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        let mut inner = packet::wrap_ip(
            tuple.local.ip(),
            tuple.remote.ip(),
            synack_wire::ip_protocol::TCP,
            IpFields::default(),
            &tcp,
        )
        .map_err(|e| self.fail(e))?;
        // The quoted header says the original was 20 + options + len bytes long.
        let total = inner.len() + 12 + i.len as usize;
        if self.ipv6 {
            let len = (total - 40) as u16;
            inner[4..6].copy_from_slice(&len.to_be_bytes());
        } else {
            inner[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            inner[10..12].copy_from_slice(&[0, 0]);
            let sum = synack_wire::checksum::checksum(&inner[..20]);
            inner[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        packet::build_icmp(
            tuple.remote.ip(),
            tuple.local.ip(),
            kind,
            code,
            rest,
            &inner,
        )
        .map_err(|e| self.fail(e))
    }

    fn outbound(&mut self, spec: &PacketSpec, start: i64, end: i64, checked: bool) -> Step {
        let deadline = us_to_instant(end + self.tolerance_us);
        let got = self.wait_for_datagram(deadline)?;
        let expected_text = self.text_after_time();
        if !got {
            return Err(Stop::Fail(Box::new(Failure {
                line: self.line,
                event: self.text.clone(),
                message: if checked {
                    format!(
                        "expected a segment at {} s (±{} ms); the stack sent nothing by {} s",
                        secs(start),
                        self.tolerance_us as f64 / 1000.0,
                        secs(instant_us(deadline))
                    )
                } else {
                    "expected a segment; the stack sent nothing".into()
                },
                expected: Some(format!("> {expected_text}")),
                actual: Some("(nothing)".into()),
                at_us: instant_us(self.now),
            })));
        }
        let sent = self.queue.pop_front().expect("waited for it");
        let at = instant_us(sent.at);
        let d = packet::decode(&sent.bytes)
            .map_err(|e| self.fail(format!("the stack sent a bad datagram: {e}")))?;
        let PacketBody::Tcp(t) = &spec.body else {
            return Err(Stop::Skip(
                "outbound non-TCP packets are not modelled".into(),
            ));
        };
        // Learn the stack's ISN (and for an active open its port) from its SYN.
        if d.flags.syn {
            let learn = match self.sut {
                Sut::Connecting => !d.flags.ack,
                _ => self.local_isn.is_none(),
            };
            if learn {
                self.local_isn = Some(Isn {
                    script: t.seq.map_or(0, |(s, _)| s),
                    live: d.seq,
                });
                if self.sut == Sut::Connecting {
                    self.local_port = Some(d.src_port);
                    self.remote_port = d.dst_port;
                    self.sut = Sut::Connection;
                }
            }
        }
        let actual_text = self.describe_actual(&d);
        self.transcript
            .push(format!("{} s  > {}", secs(at), actual_text));
        let mut problems = Vec::new();
        if checked && at < start - self.tolerance_us {
            problems.push(format!(
                "sent at {} s, expected at {} s (tolerance {} ms)",
                secs(at),
                secs(start),
                self.tolerance_us as f64 / 1000.0
            ));
        }
        let expected_tuple = self.tuple();
        if d.dst != expected_tuple.remote.ip()
            || (self.sut == Sut::Connection && d.dst_port != expected_tuple.remote.port())
        {
            problems.push(format!(
                "sent to {}:{} instead of {}",
                d.dst, d.dst_port, expected_tuple.remote
            ));
        }
        let cfg = MatchConfig {
            portable: self.opts.portable,
            ts_tick_us: self.ts_tick_us,
            tolerance_us: self.tolerance_us,
        };
        let ip = self.ip_fields(spec)?;
        let mapped = self.to_script_space(&d);
        problems.extend(matcher::compare(t, spec, ip, &mapped, &cfg, self.ts_origin));
        if !problems.is_empty() {
            return Err(Stop::Fail(Box::new(Failure {
                line: self.line,
                event: self.text.clone(),
                message: problems.join("; "),
                expected: Some(format!("> {expected_text}")),
                actual: Some(format!("> {actual_text}    (sent at {} s)", secs(at))),
                at_us: at,
            })));
        }
        // Remember the TS value mapping for inbound echoes.
        if let (OptionsSpec::List(list), Some(live)) = (
            &t.options,
            d.options.iter().find_map(|o| match o {
                WireOption::Timestamps { val, .. } => Some(*val),
                _ => None,
            }),
        ) {
            if let Some(script) = list.iter().find_map(|o| match o {
                OptionSpec::Timestamps { val, .. } => Some(*val),
                _ => None,
            }) {
                self.ts_map.push((script, live));
                if self.ts_origin.is_none() {
                    self.ts_origin = Some((script, live));
                }
            }
        }
        self.note_tuple();
        Ok(())
    }

    /// The decoded segment with sequence numbers, ACK and SACK blocks in script space.
    fn to_script_space(&self, d: &Decoded) -> Decoded {
        let mut m = d.clone();
        let is_syn = d.flags.syn;
        m.seq = d.seq.wrapping_sub(self.local_offset(is_syn));
        m.ack = d.ack.wrapping_sub(self.remote_offset(is_syn));
        let off = self.remote_offset(false);
        for o in &mut m.options {
            if let WireOption::Sack(blocks) = o {
                for b in blocks.iter_mut() {
                    *b = (b.0.wrapping_sub(off), b.1.wrapping_sub(off));
                }
            }
        }
        m
    }

    /// A sent segment in script notation and script space.
    pub(crate) fn describe_actual(&self, d: &Decoded) -> String {
        let m = self.to_script_space(d);
        let mut ip = Vec::new();
        if m.ip.ttl != 64 {
            ip.push(format!(
                "{} {}",
                if self.ipv6 { "hlim" } else { "ttl" },
                m.ip.ttl
            ));
        }
        if m.ip.dscp != 0 || m.ip.ecn != 0 {
            ip.push(format!(
                "{} {:#x}",
                if self.ipv6 { "class" } else { "tos" },
                (m.ip.dscp << 2) | m.ip.ecn
            ));
        }
        let prefix = if ip.is_empty() {
            String::new()
        } else {
            format!("({}) ", ip.join(", "))
        };
        format!(
            "{prefix}{}",
            packet::format_segment(
                m.flags,
                Some(m.seq),
                m.payload_len as u32,
                m.flags.ack.then_some(m.ack),
                Some(u32::from(m.window)),
                m.urgent,
                &packet::format_wire_options(&m.options),
            )
        )
    }
}

/// Constructs the runner cannot execute, found before the script runs.
fn unsupported(ev: &Event) -> Option<String> {
    match &ev.kind {
        EventKind::Packet(p) => match &p.body {
            PacketBody::Unsupported(what) => Some(format!("{what} are not modelled")),
            PacketBody::Tcp(t) => {
                if let OptionsSpec::List(l) = &t.options {
                    for o in l {
                        if let OptionSpec::Unsupported(name) = o {
                            return Some(format!("the TCP option `{name}` is not modelled"));
                        }
                    }
                }
                None
            }
            PacketBody::Icmp(_) => None,
        },
        EventKind::Command(cmd) => crate::shell::unsupported(cmd),
        EventKind::Code(code) => crate::shell::unsupported_code(code),
        EventKind::Syscall(call) => crate::sockets::unsupported(call),
    }
}
