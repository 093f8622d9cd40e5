//! The soak: random scenarios on hostile networks, each reproducible from its seed,
//! with the invariants a TCP must keep whatever happens (issue 7).
//!
//! A seed decides everything about one [`Scenario`]: the address family and MTU; per
//! direction, the link's latency, loss (up to 30 %), duplication, reordering and
//! corruption; per side, buffer sizes, how many bytes it sends, how it writes and reads,
//! whether its reader stops reading for a while (a zero window for the peer), when it
//! half-closes; and one [`Fate`] — a clean run, an abort by one application, a full
//! close with unread data, or a crash of one host (it vanishes and never answers
//! again, or it reboots and answers everything with a RST). Every connection has
//! keep-alive on (short timers), so a peer that vanished is found out.
//!
//! [`run`] plays the scenario on a [`Sim`] and checks:
//!
//! - **Data**: each application has read an exact prefix of what its peer wrote; an
//!   application whose connection ended normally has read all of it.
//! - **Errors are reported, and only when allowed**: a connection that did not end
//!   normally reported why (`Reset`, `TimedOut`, `Refused`), and only in a scenario
//!   where that may happen (a crash, an abort, an early close, or a lossy link).
//! - **Nothing stuck**: every surviving application sees its connection end (normally
//!   or with an error) within [`DEADLINE`] of virtual time, even when its peer is gone.
//! - **Quiescence and memory**: once the applications are done and the clock has run
//!   past TIME-WAIT and every retransmission limit, every surviving endpoint holds no
//!   connection and no TIME-WAIT record, and has no timer left.
//!
//! A failure names the seed and the command that replays it alone
//! ([`reproduce_command`]).

use crate::{FilterAction, HostId, LinkConfig, Rng, Sim};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use synack::{CloseReason, Config, ConnId, Endpoint, Error, Event, Instant, Keepalive, ListenerId};

/// Virtual time by which every surviving application must be done.
pub const DEADLINE: Duration = Duration::from_secs(3 * 3600);
/// Loss above which a clean scenario may still end in an error (a retransmission
/// limit reached by bad luck); at or below it, a clean scenario must succeed.
pub const LOSSY: f64 = 0.10;
/// R2 for data in the soak (the default is 15 minutes; shorter runs the clock less).
const R2_DATA: Duration = Duration::from_secs(300);
/// The keep-alive every connection uses: a vanished peer is found within a minute of
/// silence.
const KEEPALIVE: Keepalive = Keepalive {
    idle: Duration::from_secs(30),
    interval: Duration::from_secs(5),
    probes: 4,
};
/// The server's port.
const PORT: u16 = 443;

/// One of the two hosts of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The host that connects.
    Client,
    /// The host that listens and accepts.
    Server,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// What happens to the connection besides the transfer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fate {
    /// Nothing: both sides transfer, half-close and close.
    Clean,
    /// The application of `side` aborts its connection at `at` (a RST, if still
    /// synchronized).
    Abort {
        /// Who aborts.
        side: Side,
        /// When.
        at: Duration,
    },
    /// The application of `side` closes fully at `at`, whatever it has not read: unread
    /// data makes its endpoint send a RST (SHLD-3).
    EarlyClose {
        /// Who closes.
        side: Side,
        /// When.
        at: Duration,
    },
    /// The host of `side` crashes at `at`. It vanishes (drops everything, never
    /// answers), or, with `reboot`, comes straight back with no memory of the
    /// connection (and no service listening yet) and answers what arrives with RSTs.
    Crash {
        /// Who crashes.
        side: Side,
        /// When.
        at: Duration,
        /// Back at once with an empty endpoint, instead of gone for good.
        reboot: bool,
    },
}

/// A reader that stops reading for a while, so that its window closes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stall {
    /// It stops once it has read this fraction of the peer's bytes.
    pub after: f64,
    /// For this long.
    pub pause: Duration,
}

/// Everything one seed decides.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The seed.
    pub seed: u64,
    /// IPv6 instead of IPv4.
    pub ipv6: bool,
    /// Both hosts' MTU.
    pub mtu: u16,
    /// Client → server, then server → client.
    pub links: [LinkConfig; 2],
    /// Loss probability of each direction (as in `links`).
    pub loss: [f64; 2],
    /// Bytes each side sends.
    pub sizes: [usize; 2],
    /// Receive and send buffer of each side.
    pub recv_buffer: [usize; 2],
    /// Send buffer of each side.
    pub send_buffer: [usize; 2],
    /// Nagle off on each side.
    pub nodelay: [bool; 2],
    /// Most bytes per `send` / `recv` call.
    pub write_chunk: [usize; 2],
    /// Most bytes per `recv` call.
    pub read_chunk: [usize; 2],
    /// Chance that an application looks at its connection after a network event;
    /// otherwise it looks within `think`.
    pub activity: [f64; 2],
    /// How long an application may put off looking.
    pub think: [Duration; 2],
    /// A reader pause, per side.
    pub stall: [Option<Stall>; 2],
    /// Fraction of the peer's bytes each side reads before it half-closes (once its
    /// own are queued).
    pub shutdown_after: [f64; 2],
    /// What else happens.
    pub fate: Fate,
}

fn range_f64(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.next_f64()
}

fn range_u64(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    lo + rng.below(hi - lo + 1)
}

fn random_link(rng: &mut Rng) -> (LinkConfig, f64) {
    let latency = Duration::from_micros(range_u64(rng, 100, 50_000));
    let mut link = LinkConfig::default().latency(latency);
    let loss = match rng.below(4) {
        0 => 0.0,
        1 => range_f64(rng, 0.0, 0.05),
        2 => range_f64(rng, 0.0, 0.15),
        _ => range_f64(rng, 0.0, 0.30),
    };
    link = link.loss(loss);
    if rng.chance(0.4) {
        link = link.duplicate(range_f64(rng, 0.0, 0.1));
    }
    if rng.chance(0.4) {
        let extra = Duration::from_micros(range_u64(rng, 100, 50_000));
        link = link.reorder(range_f64(rng, 0.0, 0.3), extra);
    }
    if rng.chance(0.4) {
        link = link.corrupt(range_f64(rng, 0.0, 0.05));
    }
    if rng.chance(0.2) {
        link = link
            .rate(range_u64(rng, 1_000_000, 100_000_000))
            .queue(128 * 1024);
    }
    (link, loss)
}

fn random_size(rng: &mut Rng) -> usize {
    match rng.below(8) {
        0 => 0,
        1 => range_u64(rng, 1, 100) as usize,
        2 | 3 => range_u64(rng, 100, 5_000) as usize,
        4 | 5 => range_u64(rng, 5_000, 50_000) as usize,
        6 => range_u64(rng, 50_000, 300_000) as usize,
        _ => range_u64(rng, 300_000, 1_000_000) as usize,
    }
}

impl Scenario {
    /// The scenario of `seed`.
    pub fn from_seed(seed: u64) -> Scenario {
        let mut rng = Rng::derive(seed, 0x50A4_5CE4);
        let ipv6 = rng.chance(0.25);
        let mtu = if rng.chance(0.7) {
            1500
        } else {
            range_u64(&mut rng, 600, 1500) as u16
        };
        let (l0, loss0) = random_link(&mut rng);
        let (l1, loss1) = random_link(&mut rng);
        let side = |rng: &mut Rng| {
            let size = random_size(rng);
            let recv_buffer = match rng.below(4) {
                0 => range_u64(rng, 512, 4096) as usize,
                1 => range_u64(rng, 4096, 64 * 1024) as usize,
                _ => 64 * 1024,
            };
            let send_buffer = match rng.below(4) {
                0 => range_u64(rng, 1024, 16 * 1024) as usize,
                _ => 256 * 1024,
            };
            let stall = rng.chance(0.3).then(|| Stall {
                after: rng.next_f64(),
                pause: Duration::from_millis(range_u64(rng, 100, 60_000)),
            });
            (
                size,
                recv_buffer,
                send_buffer,
                rng.chance(0.3),
                [1, 100, 1460, 8192, 1 << 20][rng.below(5) as usize],
                [7, 536, 4096, 65_536][rng.below(4) as usize],
                range_f64(rng, 0.1, 1.0),
                Duration::from_millis([0, 1, 20, 200][rng.below(4) as usize]),
                stall,
                rng.next_f64(),
            )
        };
        let c = side(&mut rng);
        let s = side(&mut rng);
        let who = |rng: &mut Rng| {
            if rng.chance(0.5) {
                Side::Client
            } else {
                Side::Server
            }
        };
        // Most of a run's traffic happens in its first seconds.
        let when = |rng: &mut Rng| Duration::from_millis(range_u64(rng, 0, 4_000));
        let fate = match rng.below(10) {
            0..=4 => Fate::Clean,
            5 => Fate::Abort {
                side: who(&mut rng),
                at: when(&mut rng),
            },
            6 => Fate::EarlyClose {
                side: who(&mut rng),
                at: when(&mut rng),
            },
            _ => Fate::Crash {
                side: who(&mut rng),
                at: when(&mut rng),
                reboot: rng.chance(0.4),
            },
        };
        Scenario {
            seed,
            ipv6,
            mtu,
            links: [l0, l1],
            loss: [loss0, loss1],
            sizes: [c.0, s.0],
            recv_buffer: [c.1, s.1],
            send_buffer: [c.2, s.2],
            nodelay: [c.3, s.3],
            write_chunk: [c.4, s.4],
            read_chunk: [c.5, s.5],
            activity: [c.6, s.6],
            think: [c.7, s.7],
            stall: [c.8, s.8],
            shutdown_after: [c.9, s.9],
            fate,
        }
    }

    /// May a connection of this scenario end in an error without that being a bug?
    pub fn errors_allowed(&self) -> bool {
        self.fate != Fate::Clean || self.loss.iter().any(|&l| l > LOSSY)
    }

    fn config(&self, i: usize) -> Config {
        Config {
            mtu: self.mtu,
            nodelay: self.nodelay[i],
            recv_buffer: self.recv_buffer[i],
            send_buffer: self.send_buffer[i],
            r2_data: R2_DATA,
            keepalive: Some(KEEPALIVE),
            ..Config::default()
        }
    }
}

/// How one seed ended, when every check held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Both connections ended normally with every byte delivered.
    pub completed: bool,
    /// Some connection ended in an error the scenario allows.
    pub errored: bool,
    /// Simulator steps taken.
    pub steps: u64,
    /// Virtual time at the end.
    pub end: Instant,
}

/// A seed whose run broke an invariant.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// What went wrong, with the state of both applications.
    pub message: String,
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "soak seed {} failed: {}\n  scenario: {:?}\n  reproduce: {}",
            self.seed,
            self.message,
            Scenario::from_seed(self.seed),
            reproduce_command(self.seed)
        )
    }
}

/// The one-line command that replays `seed` alone.
pub fn reproduce_command(seed: u64) -> String {
    format!("cargo run --release -p synack-sim --example soak -- --seeds 1 --from {seed}")
}

/// One application.
#[derive(Debug)]
struct App {
    host: HostId,
    conn: Option<ConnId>,
    data: Vec<u8>,
    sent: usize,
    received: Vec<u8>,
    eof: bool,
    shut: bool,
    /// The handle is given back (closed, aborted) or the host crashed.
    done: bool,
    /// How the connection ended, from a `Closed` event or an error from a call.
    ended: Option<CloseReason>,
    /// The first error a call returned (other than WouldBlock).
    error: Option<Error>,
    /// This side's application went away on purpose (abort, early close, crash): its
    /// reads and writes stop counting.
    gone: bool,
    /// The reader is paused until then.
    stalled_until: Option<Instant>,
    stall_used: bool,
}

impl App {
    fn new(host: HostId, data: Vec<u8>) -> App {
        App {
            host,
            conn: None,
            data,
            sent: 0,
            received: Vec::new(),
            eof: false,
            shut: false,
            done: false,
            ended: None,
            error: None,
            gone: false,
            stalled_until: None,
            stall_used: false,
        }
    }

    fn failed(&self) -> bool {
        self.error.is_some() || self.ended.is_some_and(|r| r != CloseReason::Normal)
    }

    fn note_error(&mut self, e: Error) {
        if e != Error::WouldBlock && self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn write(&mut self, ep: &mut Endpoint, now: Instant, chunk: usize) {
        let (Some(conn), false) = (self.conn, self.shut) else {
            return;
        };
        while self.sent < self.data.len() {
            let end = self.data.len().min(self.sent + chunk);
            match ep.send(now, conn, &self.data[self.sent..end]) {
                Ok(n) => self.sent += n,
                Err(e) => {
                    self.note_error(e);
                    break;
                }
            }
        }
    }

    fn read(&mut self, ep: &mut Endpoint, now: Instant, chunk: usize, buf: &mut Vec<u8>) {
        let (Some(conn), false) = (self.conn, self.eof) else {
            return;
        };
        if self.stalled_until.is_some_and(|t| now < t) {
            return;
        }
        buf.resize(chunk, 0);
        loop {
            match ep.recv(now, conn, buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.received.extend_from_slice(&buf[..n]),
                Err(e) => {
                    self.note_error(e);
                    break;
                }
            }
        }
    }

    /// Give the handle back.
    fn close(&mut self, ep: &mut Endpoint, now: Instant) {
        if let Some(conn) = self.conn {
            if let Err(e) = ep.close(now, conn) {
                self.note_error(e);
            }
        }
        self.shut = true;
        self.done = true;
    }
}

/// The two applications playing one scenario.
struct Run {
    sc: Scenario,
    rng: Rng,
    /// The server's listener while it listens.
    listener: Option<ListenerId>,
    apps: [App; 2],
    /// When each application will look at its connection, having put it off.
    wake: [Option<Instant>; 2],
    /// The fate has happened.
    fate_done: bool,
    buf: Vec<u8>,
}

impl Run {
    fn fate_time(&self) -> Option<Instant> {
        let at = match self.sc.fate {
            Fate::Clean => return None,
            Fate::Abort { at, .. } | Fate::EarlyClose { at, .. } | Fate::Crash { at, .. } => at,
        };
        (!self.fate_done).then_some(Instant::ZERO + at)
    }

    /// The scenario's fate, when its time has come.
    fn apply_fate(&mut self, sim: &mut Sim) {
        if self.fate_time().is_none_or(|t| sim.now() < t) {
            return;
        }
        self.fate_done = true;
        let now = sim.now();
        match self.sc.fate {
            Fate::Clean => {}
            Fate::Abort { side, .. } => {
                let app = &mut self.apps[side.index()];
                if !app.done {
                    if let Some(conn) = app.conn {
                        let _ = sim.endpoint_mut(app.host).abort(now, conn);
                    }
                    app.done = true;
                    app.gone = true;
                    self.exit(sim, side);
                }
            }
            Fate::EarlyClose { side, .. } => {
                let app = &mut self.apps[side.index()];
                if !app.done {
                    let host = app.host;
                    app.close(sim.endpoint_mut(host), now);
                    app.gone = true;
                    self.exit(sim, side);
                }
            }
            Fate::Crash { side, reboot, .. } => {
                let i = side.index();
                let host = self.apps[i].host;
                self.apps[i].done = true;
                self.apps[i].gone = true;
                // The endpoint loses everything; a fresh one (new secret) takes its place.
                let mut secret = [0u8; 16];
                self.rng.fill(&mut secret);
                let mut fresh = Endpoint::new(self.sc.config(i), secret);
                for &addr in sim.addresses(host) {
                    fresh.add_address(addr);
                }
                *sim.endpoint_mut(host) = fresh;
                if side == Side::Server {
                    self.listener = None;
                }
                // A rebooted host's service is not back yet: it listens on nothing, so
                // everything that arrives is answered with a RST (§3.10.7.1).
                if !reboot {
                    let peer = self.apps[1 - i].host;
                    sim.set_filter(host, peer, |_| FilterAction::Drop);
                    sim.set_filter(peer, host, |_| FilterAction::Drop);
                }
            }
        }
    }

    /// The application of `side` goes away: a server stops listening too (connections
    /// still in its accept queue are reset).
    fn exit(&mut self, sim: &mut Sim, side: Side) {
        if side == Side::Server {
            if let Some(l) = self.listener.take() {
                let now = sim.now();
                let _ = sim.endpoint_mut(self.apps[1].host).unlisten(now, l);
            }
        }
    }

    /// Play both applications once.
    fn drive(&mut self, sim: &mut Sim) {
        self.apply_fate(sim);
        for app in &mut self.apps {
            if app.done {
                // Events of a crashed or finished application go unread; drain them.
                while sim.endpoint_mut(app.host).poll_event().is_some() {}
                continue;
            }
            while let Some(ev) = sim.endpoint_mut(app.host).poll_event() {
                if let Event::Closed(c, reason) = ev {
                    if Some(c) == app.conn {
                        app.ended = Some(reason);
                    }
                }
            }
        }
        if self.apps[1].conn.is_none() && !self.apps[1].done {
            let accepted = self
                .listener
                .and_then(|l| sim.endpoint_mut(self.apps[1].host).accept(l).ok());
            if let Some(c) = accepted {
                self.apps[1].conn = Some(c);
            } else if self.apps[0].done {
                // The client is finished or gone before the server saw a connection.
                self.apps[1].done = true;
            }
        }
        let now = sim.now();
        let mut active = [false; 2];
        for (i, act) in active.iter_mut().enumerate() {
            *act = self.wake[i].is_some_and(|w| w <= now) || self.rng.chance(self.sc.activity[i]);
            if *act {
                self.wake[i] = None;
            } else if self.wake[i].is_none() {
                let think = self.sc.think[i].as_micros() as u64;
                self.wake[i] = Some(now + Duration::from_micros(self.rng.below(think + 1)));
            }
        }
        for (i, &act) in active.iter().enumerate() {
            let peer_len = self.apps[1 - i].data.len();
            let app = &mut self.apps[i];
            if !act || app.done {
                continue;
            }
            let ep = sim.endpoint_mut(app.host);
            // A reader stall starts once its share of the peer's bytes is read.
            if let Some(stall) = self.sc.stall[i] {
                if !app.stall_used && app.received.len() as f64 >= stall.after * peer_len as f64 {
                    app.stall_used = true;
                    app.stalled_until = Some(now + stall.pause);
                    let until = now + stall.pause;
                    self.wake[i] = Some(self.wake[i].map_or(until, |w| w.min(until)));
                }
            }
            if let Some(until) = app.stalled_until {
                if now >= until {
                    app.stalled_until = None;
                }
            }
            app.write(ep, now, self.sc.write_chunk[i]);
            app.read(ep, now, self.sc.read_chunk[i], &mut self.buf);
            let connected = app
                .conn
                .and_then(|c| ep.state(c))
                .is_some_and(|s| s != synack::State::SynSent);
            if app.failed() {
                // The connection is over: give the handle back.
                app.close(ep, now);
            } else if connected
                && !app.shut
                && app.sent == app.data.len()
                && (app.eof
                    || app.received.len() as f64 >= self.sc.shutdown_after[i] * peer_len as f64)
            {
                if let Some(conn) = app.conn {
                    match ep.shutdown(now, conn) {
                        Ok(()) => app.shut = true,
                        Err(e) => app.note_error(e),
                    }
                }
            }
            if app.shut && app.eof && !app.done && !app.failed() {
                app.close(ep, now);
            }
        }
        // A paused reader wakes up when its pause ends.
        for (i, app) in self.apps.iter().enumerate() {
            if let (Some(until), false) = (app.stalled_until, app.done) {
                self.wake[i] = Some(self.wake[i].map_or(until, |w| w.min(until)));
            }
        }
    }

    fn done(&self) -> bool {
        self.apps.iter().all(|a| a.done)
    }

    /// The next time an application or the fate wants to act.
    fn next_wake(&self) -> Option<Instant> {
        let mut t = self.fate_time();
        for (i, w) in self.wake.iter().enumerate() {
            if self.apps[i].done {
                continue;
            }
            if let Some(w) = *w {
                t = Some(t.map_or(w, |x| x.min(w)));
            }
        }
        t
    }

    fn describe(&self, sim: &Sim) -> String {
        let mut s = format!("at {} after {} steps", sim.now(), sim.steps());
        for (i, a) in self.apps.iter().enumerate() {
            s += &format!(
                "; {}: sent {}/{} read {}/{} eof {} shut {} done {} gone {} ended {:?} error {:?} state {:?}",
                ["client", "server"][i],
                a.sent,
                a.data.len(),
                a.received.len(),
                self.apps[1 - i].data.len(),
                a.eof,
                a.shut,
                a.done,
                a.gone,
                a.ended,
                a.error,
                a.conn.and_then(|c| sim.endpoint(a.host).state(c)),
            );
        }
        s
    }
}

fn addrs(ipv6: bool) -> (IpAddr, IpAddr) {
    if ipv6 {
        (
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
        )
    } else {
        (
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
        )
    }
}

/// Run the scenario of `seed` and check every invariant (see the module
/// documentation).
pub fn run(seed: u64) -> Result<Summary, Failure> {
    let fail = |message: String| Failure { seed, message };
    let sc = Scenario::from_seed(seed);
    let (cip, sip) = addrs(sc.ipv6);
    let mut sim = Sim::new(seed);
    sim.set_step_limit(2_000_000);
    let dump = std::env::var_os("SYNACK_DUMP").is_some();
    sim.set_keep_delivered_bytes(dump);
    let client = sim.add_host("client", sc.config(0), &[cip]);
    let server = sim.add_host("server", sc.config(1), &[sip]);
    for h in [client, server] {
        sim.endpoint_mut(h).set_tracing(false);
    }
    sim.set_link(client, server, sc.links[0].clone());
    sim.set_link(server, client, sc.links[1].clone());
    let mut data_rng = Rng::derive(seed, 0xDA7A);
    let mut data = |n: usize| {
        let mut v = vec![0u8; n];
        data_rng.fill(&mut v);
        v
    };
    let server_addr = SocketAddr::new(sip, PORT);
    let listener = sim
        .endpoint_mut(server)
        .listen(server_addr, 4)
        .map_err(|e| fail(format!("listen: {e}")))?;
    let conn = sim
        .endpoint_mut(client)
        .connect(Instant::ZERO, SocketAddr::new(cip, 0), server_addr)
        .map_err(|e| fail(format!("connect: {e}")))?;
    let mut client_app = App::new(client, data(sc.sizes[0]));
    client_app.conn = Some(conn);
    let server_app = App::new(server, data(sc.sizes[1]));
    let mut run = Run {
        rng: Rng::derive(seed, 0xA995),
        sc: sc.clone(),
        listener: Some(listener),
        apps: [client_app, server_app],
        wake: [None; 2],
        fate_done: false,
        buf: Vec::new(),
    };
    let deadline = Instant::ZERO + DEADLINE;
    loop {
        run.drive(&mut sim);
        if run.done() {
            break;
        }
        sim.collect();
        let net = sim.next_event_time();
        let app = run.next_wake();
        let result = match (net, app) {
            (None, None) => {
                return Err(fail(format!(
                    "stuck: network idle, no timer, applications waiting; {}",
                    run.describe(&sim)
                )))
            }
            (Some(n), Some(a)) if a < n => sim.run_until(a),
            (None, Some(a)) => sim.run_until(a),
            (Some(_), _) => sim.step().map(|_| ()),
        };
        if dump && result.is_err() {
            dump_packets(&sim, usize::MAX);
        }
        result.map_err(|e| fail(format!("{e}; {}", run.describe(&sim))))?;
        if sim.now() > deadline {
            return Err(fail(format!(
                "stuck: not done by the {}s deadline; {}",
                DEADLINE.as_secs(),
                run.describe(&sim)
            )));
        }
    }
    check_data(&run, &sim).map_err(fail)?;
    // The server application exits: it stops listening.
    run.exit(&mut sim, Side::Server);
    // TIME-WAIT, FIN-WAIT-2 and LAST-ACK retransmissions (up to R2) run out.
    let limit = sim.now() + Duration::from_secs(3600);
    sim.run_until_idle(limit)
        .map_err(|e| fail(format!("after the applications finished: {e}")))?;
    // A crashed host's endpoint is the fresh one it came back with: empty too.
    for (i, host) in [client, server].into_iter().enumerate() {
        let ep = sim.endpoint(host);
        let side = ["client", "server"][i];
        if ep.connection_count() != 0 || ep.time_wait_count() != 0 {
            return Err(fail(format!(
                "{side} not back to baseline an hour after the applications finished: \
                 {} connections, {} TIME-WAIT records",
                ep.connection_count(),
                ep.time_wait_count()
            )));
        }
        if let Some(t) = ep.poll_timeout() {
            return Err(fail(format!(
                "{side}: timers not quiescent, one at {t} with nothing left (now {})",
                sim.now()
            )));
        }
    }
    let completed = run.apps.iter().all(|a| !a.failed() && !a.gone);
    Ok(Summary {
        completed,
        errored: run.apps.iter().any(App::failed),
        steps: sim.steps(),
        end: sim.now(),
    })
}

/// With `SYNACK_DUMP` set, a run that breaks down prints its last `n` datagrams.
fn dump_packets(sim: &Sim, n: usize) {
    for p in sim.packets().iter().take(n) {
        eprintln!("{}", p.dump_line());
    }
}

/// Data and error checks once both applications are done.
fn check_data(run: &Run, sim: &Sim) -> Result<(), String> {
    for (i, app) in run.apps.iter().enumerate() {
        let side = ["client", "server"][i];
        let peer = &run.apps[1 - i];
        if !peer.data.starts_with(&app.received) {
            let at = app
                .received
                .iter()
                .zip(&peer.data)
                .position(|(a, b)| a != b)
                .unwrap_or(peer.data.len());
            return Err(format!(
                "{side} read {} bytes that are not a prefix of the {} its peer sent \
                 (first difference at {at}); {}",
                app.received.len(),
                peer.data.len(),
                run.describe(sim)
            ));
        }
        if app.gone || app.conn.is_none() {
            // Gone on purpose, or never had a connection (its peer went first).
            continue;
        }
        if app.failed() {
            if !run.sc.errors_allowed() {
                return Err(format!(
                    "{side}'s connection failed in a clean scenario with loss at most {}; {}",
                    LOSSY,
                    run.describe(sim)
                ));
            }
            if app.ended == Some(CloseReason::Aborted) {
                return Err(format!(
                    "{side}'s connection reports Aborted, but its application did not abort; {}",
                    run.describe(sim)
                ));
            }
            continue;
        }
        // Ended normally: everything arrived, and the peer wrote all of it unless the
        // peer went away (in which case only a prefix was ever meant to arrive).
        if !app.eof {
            return Err(format!(
                "{side} finished without reading end of stream; {}",
                run.describe(sim)
            ));
        }
        if !peer.gone && app.received.len() != peer.data.len() {
            return Err(format!(
                "{side} read end of stream after {} of {} bytes; {}",
                app.received.len(),
                peer.data.len(),
                run.describe(sim)
            ));
        }
    }
    Ok(())
}

/// Run `count` seeds from `from`; returns the failures (at most `max_failures` kept)
/// and totals.
pub fn run_many(from: u64, count: u64, max_failures: usize) -> Totals {
    let mut t = Totals::default();
    for seed in from..from.saturating_add(count) {
        t.seeds += 1;
        match std::panic::catch_unwind(|| run(seed)) {
            Ok(Ok(s)) => {
                t.steps += s.steps;
                t.completed += u64::from(s.completed);
                t.errored += u64::from(s.errored);
            }
            Ok(Err(f)) => {
                if t.failures.len() < max_failures {
                    t.failures.push(f);
                }
                t.failed += 1;
            }
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default();
                if t.failures.len() < max_failures {
                    t.failures.push(Failure {
                        seed,
                        message: format!("panicked: {msg}"),
                    });
                }
                t.failed += 1;
            }
        }
    }
    t
}

/// What a batch of seeds came to.
#[derive(Debug, Default)]
pub struct Totals {
    /// Seeds run.
    pub seeds: u64,
    /// Seeds where every connection ended normally with all data delivered.
    pub completed: u64,
    /// Seeds that passed with some connection ending in an allowed error.
    pub errored: u64,
    /// Seeds that broke an invariant.
    pub failed: u64,
    /// The first failures, for the report.
    pub failures: Vec<Failure>,
    /// Simulator steps over the passing seeds.
    pub steps: u64,
}
