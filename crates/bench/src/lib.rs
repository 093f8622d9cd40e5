//! # synack-bench: synack side by side with smoltcp and the Linux kernel
//!
//! `cargo run --release -p synack-bench -- [--json] [--quick] [--tiny]` runs each
//! measurement on one core (Linux bulk uses a sender and a receiver thread) and prints
//! a table with ratios, or one JSON object with `--json`:
//!
//! 1. bulk transfer in memory at MTU 1500 and 65535 ([`synack_stack::bulk`],
//!    [`smol::bulk`], [`linux::bulk`]); the application copies what it receives into
//!    its own buffer, and, as an extra figure, synack and smoltcp again with the
//!    application lent the received bytes in place (`bulk_in_place`);
//! 2. connection cycles with 0, 1,000 and 100,000 idle connections present
//!    ([`synack_stack::cycles`], [`smol::cycles`], [`linux::cycles`]);
//! 3. heap per idle established connection ([`synack_stack::memory`], [`smol::memory`]);
//! 4. many concurrent flows in the simulator ([`flows::run`]).
//!
//! The criterion micro-benchmarks are in `benches/micro.rs`. Memory figures need the
//! counting allocator ([`alloc::Counting`]) installed as the global allocator, as the
//! binary does.

pub mod alloc;
pub mod flows;
pub mod linux;
pub mod smol;
pub mod synack_stack;

use serde_json::{json, Value};

/// One mebibyte: the socket buffer size of the bulk runs.
pub const MIB: usize = 1 << 20;

/// 64 KiB of a repeating pattern: what the bulk senders write.
pub fn pattern_block() -> Vec<u8> {
    (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(31) % 251) as u8)
        .collect()
}

/// A bulk run: bytes delivered to the receiving application and the wall time.
#[derive(Debug, Clone, Copy)]
pub struct BulkRun {
    /// Bytes received.
    pub bytes: u64,
    /// Wall-clock seconds.
    pub secs: f64,
    /// Datagrams carried by the link, both directions (0 where not counted).
    pub datagrams: u64,
}

impl BulkRun {
    /// Goodput in Gbit/s.
    pub fn gbps(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.secs / 1e9
    }
}

/// A stack set up for connection cycles with some idle connections present
/// ([`synack_stack::Cycles`], [`smol::Cycles`]).
pub trait CycleBench {
    /// Idle established connections present.
    fn idle(&self) -> usize;
    /// Open idle connections until `idle` are open.
    fn grow_idle(&mut self, idle: usize);
    /// `n` cycles, one after the other.
    fn run(&mut self, n: u32);
}

/// Connection cycles with idle established connections present, on one stack's
/// endpoints: for each `(idle, cycles)` in `plan` (idle rising), open idle connections
/// up to `idle`, then time `cycles` sequential cycles ([`CycleRun::time`]). The
/// `--only` pieces' way; a whole run times both stacks in turn
/// ([`CycleRun::time_in_turn`]).
pub fn cycles_rising(bench: &mut impl CycleBench, plan: &[(usize, u32)]) -> Vec<CycleRun> {
    plan.iter()
        .map(|&(idle, n)| {
            bench.grow_idle(idle);
            CycleRun::time(bench.idle(), n, |n| bench.run(n))
        })
        .collect()
}

/// A connection-cycle run.
#[derive(Debug, Clone, Copy)]
pub struct CycleRun {
    /// Idle established connections present.
    pub idle: usize,
    /// Cycles timed.
    pub cycles: u64,
    /// Wall-clock seconds.
    pub secs: f64,
}

impl CycleRun {
    /// `n` cycles with `idle` idle connections present, timed by `run(n)`: a few
    /// cycles first so the first timed run does not pay for warming up, then the
    /// fastest of [`RUNS`] runs.
    pub fn time(idle: usize, n: u32, mut run: impl FnMut(u32)) -> CycleRun {
        run(n / 10 + 1);
        let secs = (0..RUNS)
            .map(|_| Self::once(n, &mut run))
            .fold(f64::INFINITY, f64::min);
        CycleRun {
            idle,
            cycles: u64::from(n),
            secs,
        }
    }

    /// [`CycleRun::time`] for several measurements at once, their runs taken in turn
    /// (first, second, …, first, second, …; as [`best_of_alternated`] does for bulk
    /// transfers): each `(cycles, bench)` gives one `CycleRun`. A drift in the
    /// machine's speed then falls on every measurement's best run alike: on the two
    /// stacks at one idle count, and on one stack at each idle count, whose ratio is
    /// the flatness figure.
    ///
    /// Each timed run follows a few untimed cycles of its own: the run before it, of
    /// another measurement, has pushed this one's tables out of the caches (smoltcp's
    /// with 100,000 idle sockets touches gigabytes), which a run that came alone after
    /// its own set-up did not face.
    pub fn time_in_turn(runs: &mut [(u32, &mut dyn CycleBench)]) -> Vec<CycleRun> {
        let mut best = vec![f64::INFINITY; runs.len()];
        for _ in 0..RUNS {
            for (b, (n, bench)) in best.iter_mut().zip(runs.iter_mut()) {
                bench.run(*n / 10 + 1);
                *b = b.min(Self::once(*n, &mut |n| bench.run(n)));
            }
        }
        runs.iter()
            .zip(best)
            .map(|((n, bench), secs)| CycleRun {
                idle: bench.idle(),
                cycles: u64::from(*n),
                secs,
            })
            .collect()
    }

    /// Seconds `run(n)` takes.
    fn once(n: u32, run: &mut impl FnMut(u32)) -> f64 {
        let start = std::time::Instant::now();
        run(n);
        start.elapsed().as_secs_f64()
    }

    /// Cycles per second.
    pub fn per_s(&self) -> f64 {
        self.cycles as f64 / self.secs
    }
}

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The figures the README quotes (minutes).
    Full,
    /// Every measurement, small (seconds).
    Quick,
    /// Smallest that exercises every code path: the smoke test's size.
    Tiny,
}

/// Sizes of every measurement.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Bytes per bulk transfer.
    pub bulk_bytes: u64,
    /// (idle connections, cycles timed) for synack.
    pub synack_cycles: Vec<(usize, u32)>,
    /// (idle connections, cycles timed) for smoltcp: the same idle counts as synack's,
    /// each timed in turn with synack's at that count.
    pub smoltcp_cycles: Vec<(usize, u32)>,
    /// Cycles timed for Linux.
    pub linux_cycles: u32,
    /// Connections of the synack memory count.
    pub synack_memory_conns: usize,
    /// Connections of the smoltcp memory count (per-connection cost is constant there:
    /// no index grows with the count, so a sample is exact up to `Vec` growth).
    pub smoltcp_memory_conns: usize,
    /// Concurrent flows and bytes per flow in the simulator.
    pub flows: (usize, u64),
}

impl Plan {
    /// The plan for `size`.
    pub fn new(size: Size) -> Plan {
        match size {
            Size::Full => Plan {
                bulk_bytes: 1 << 30,
                synack_cycles: vec![(0, 200_000), (1_000, 200_000), (100_000, 200_000)],
                smoltcp_cycles: vec![(0, 200_000), (1_000, 2_000), (100_000, 20)],
                linux_cycles: 50_000,
                synack_memory_conns: 1_000_000,
                smoltcp_memory_conns: 1_000,
                flows: (1_000, 1 << 20),
            },
            Size::Quick => Plan {
                bulk_bytes: 64 << 20,
                // 10,000 idle rather than 100,000: smoltcp's `SocketSet::add` looks for
                // a free slot from the start, so even moving n sockets in is O(n²).
                synack_cycles: vec![(0, 20_000), (1_000, 20_000), (10_000, 20_000)],
                smoltcp_cycles: vec![(0, 20_000), (1_000, 200), (10_000, 20)],
                linux_cycles: 5_000,
                synack_memory_conns: 100_000,
                smoltcp_memory_conns: 1_000,
                flows: (1_000, 64 << 10),
            },
            Size::Tiny => Plan {
                bulk_bytes: 1 << 20,
                synack_cycles: vec![(0, 50), (10, 50), (100, 50)],
                smoltcp_cycles: vec![(0, 50), (10, 50), (100, 5)],
                linux_cycles: 50,
                synack_memory_conns: 1_000,
                smoltcp_memory_conns: 100,
                flows: (20, 16 << 10),
            },
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Results {
    /// The size it ran at.
    pub size: Size,
    /// (mtu, synack, smoltcp, linux); Linux is `None` if loopback was unavailable.
    pub bulk: Vec<(u16, BulkRun, BulkRun, Option<BulkRun>)>,
    /// The same transfers with the receiving application lent the bytes in place
    /// (synack's `recv_with`, smoltcp's closure-based `recv`), counting them and
    /// copying nothing out: (MTU, synack, smoltcp). Not issue 6's figure, which copies.
    pub bulk_in_place: Vec<(u16, BulkRun, BulkRun)>,
    /// Cycle runs of synack, smoltcp (paired by position) and Linux (0 idle).
    pub cycles: Vec<(CycleRun, CycleRun)>,
    /// Linux cycles with 0 idle.
    pub linux_cycles: Option<CycleRun>,
    /// synack heap per connection: (client end, server end), and the count.
    pub synack_memory: (f64, f64, usize),
    /// smoltcp heap per connection end with equal buffers, and the count sampled.
    pub smoltcp_memory: (f64, usize),
    /// smoltcp heap per connection end with empty buffers (the socket alone).
    pub smoltcp_memory_bare: f64,
    /// The buffers given to smoltcp sockets for the memory count: (rx, tx).
    pub smoltcp_memory_buffers: (usize, usize),
    /// The many-flows run.
    pub flows: flows::FlowsRun,
}

/// How many times each timed measurement runs; the fastest run is reported (the
/// others were slowed by something else on the machine, not by the stack).
pub const RUNS: usize = 3;

/// The fastest of [`RUNS`] runs of each of two measurements, taken in turn (first,
/// second, first, second, …) rather than all of one and then all of the other: on a
/// machine whose speed drifts (a shared host's did by a factor of two within minutes;
/// `README.md`), each stack's best run then comes from the same stretch of time.
fn best_of_alternated(
    mut first: impl FnMut() -> BulkRun,
    mut second: impl FnMut() -> BulkRun,
) -> (BulkRun, BulkRun) {
    let faster = |best: BulkRun, r: BulkRun| if r.secs < best.secs { r } else { best };
    let (mut a, mut b) = (first(), second());
    for _ in 1..RUNS {
        a = faster(a, first());
        b = faster(b, second());
    }
    (a, b)
}

/// synack's and smoltcp's transfers of `bytes` at `mtu`, taken in turn
/// ([`best_of_alternated`]); `in_place` as [`synack_stack::bulk`] has it.
fn bulk_in_turn(mtu: u16, bytes: u64, in_place: bool) -> (BulkRun, BulkRun) {
    best_of_alternated(
        || synack_stack::bulk(mtu, bytes, in_place),
        || smol::bulk(mtu, bytes, in_place),
    )
}

/// Run every measurement at `size`, reporting progress on stderr.
pub fn run(size: Size) -> Results {
    let plan = Plan::new(size);
    let mut bulk = Vec::new();
    for mtu in [1500u16, 65535] {
        eprintln!("bulk MTU {mtu}: synack and smoltcp, in turn");
        let (s, m) = bulk_in_turn(mtu, plan.bulk_bytes, false);
        eprintln!("bulk MTU {mtu}: Linux loopback");
        let l = (0..RUNS)
            .filter_map(|_| {
                linux::bulk(mtu, plan.bulk_bytes)
                    .map_err(|e| eprintln!("Linux loopback bulk failed: {e}"))
                    .ok()
            })
            .min_by(|a, b| a.secs.total_cmp(&b.secs));
        bulk.push((mtu, s, m, l));
    }
    // One pair of endpoints (interfaces) per stack and idle count, all set up first,
    // then every measurement timed in turn.
    let mut benches = Vec::new();
    for (&(idle, n), &(smol_idle, smol_n)) in plan.synack_cycles.iter().zip(&plan.smoltcp_cycles) {
        eprintln!("cycles: setting up {idle} idle connections in each stack");
        let mut s = synack_stack::Cycles::new();
        s.grow_idle(idle);
        let mut m = smol::Cycles::new();
        m.grow_idle(smol_idle);
        benches.push(((s, n), (m, smol_n)));
    }
    eprintln!("cycles: synack and smoltcp at each idle count, in turn");
    let mut runs: Vec<(u32, &mut dyn CycleBench)> = Vec::new();
    for ((s, n), (m, smol_n)) in &mut benches {
        runs.push((*n, s));
        runs.push((*smol_n, m));
    }
    let timed = CycleRun::time_in_turn(&mut runs);
    drop(runs);
    drop(benches);
    let cycles: Vec<(CycleRun, CycleRun)> = timed
        .chunks_exact(2)
        .map(|pair| (pair[0], pair[1]))
        .collect();
    eprintln!("cycles: Linux loopback");
    let linux_cycles = linux::cycles(plan.linux_cycles)
        .map_err(|e| eprintln!("Linux loopback cycles failed: {e}"))
        .ok();
    // After the cycles, so that those are measured in the process state of the rounds
    // before. Run before them (a22fd76), five full runs gave synack's cycles with
    // 100,000 idle connections +5 % to +102 % against none; whether that was these
    // transfers or the machine, whose speed moved by half in the same minutes, is not
    // settled.
    let mut bulk_in_place = Vec::new();
    for mtu in [1500u16, 65535] {
        eprintln!("bulk MTU {mtu}, received in place: synack and smoltcp, in turn");
        let (s, m) = bulk_in_turn(mtu, plan.bulk_bytes, true);
        bulk_in_place.push((mtu, s, m));
    }
    eprintln!("memory: synack, {} connections", plan.synack_memory_conns);
    let (c, sv) = synack_stack::memory(plan.synack_memory_conns);
    let config = synack::Config::default();
    let buffers = (config.recv_buffer, config.send_buffer);
    eprintln!("memory: smoltcp, {} connections", plan.smoltcp_memory_conns);
    let smol_mem = smol::memory(plan.smoltcp_memory_conns, buffers.0, buffers.1);
    let smol_bare = smol::memory(plan.smoltcp_memory_conns, 0, 0);
    eprintln!("many flows: {} × {} bytes", plan.flows.0, plan.flows.1);
    let flows = flows::run(plan.flows.0, plan.flows.1);
    Results {
        size,
        bulk,
        bulk_in_place,
        cycles,
        linux_cycles,
        synack_memory: (c, sv, plan.synack_memory_conns),
        smoltcp_memory: (smol_mem, plan.smoltcp_memory_conns),
        smoltcp_memory_bare: smol_bare,
        smoltcp_memory_buffers: buffers,
        flows,
    }
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl Results {
    /// The heap per connection end that the `memory` figures quote: the larger end.
    pub fn synack_bytes_per_conn(&self) -> f64 {
        self.synack_memory.0.max(self.synack_memory.1)
    }

    /// The JSON object of issue 6 (with more keys).
    pub fn to_json(&self) -> Value {
        let bulk: Vec<Value> = self
            .bulk
            .iter()
            .map(|(mtu, s, m, l)| {
                json!({
                    "mtu": mtu,
                    "bytes": s.bytes,
                    "synack_gbps": round(s.gbps(), 3),
                    "smoltcp_gbps": round(m.gbps(), 3),
                    "linux_loopback_gbps": l.map(|l| round(l.gbps(), 3)),
                    "synack_vs_smoltcp": round(s.gbps() / m.gbps(), 3),
                })
            })
            .collect();
        let bulk_in_place: Vec<Value> = self
            .bulk_in_place
            .iter()
            .map(|(mtu, s, m)| {
                json!({
                    "mtu": mtu,
                    "bytes": s.bytes,
                    "synack_gbps": round(s.gbps(), 3),
                    "smoltcp_gbps": round(m.gbps(), 3),
                    "synack_vs_smoltcp": round(s.gbps() / m.gbps(), 3),
                })
            })
            .collect();
        let linux = self.linux_cycles.map(|l| round(l.per_s(), 0));
        let cycles: Vec<Value> = self
            .cycles
            .iter()
            .map(|(s, m)| {
                json!({
                    "idle": s.idle,
                    "synack_per_s": round(s.per_s(), 0),
                    "smoltcp_per_s": round(m.per_s(), 0),
                    "linux_loopback_per_s": if s.idle == 0 { linux } else { None },
                    "synack_cycles_timed": s.cycles,
                    "smoltcp_cycles_timed": m.cycles,
                    "synack_vs_smoltcp": round(s.per_s() / m.per_s(), 3),
                })
            })
            .collect();
        let f = &self.flows;
        json!({
            "size": format!("{:?}", self.size).to_lowercase(),
            "bulk": bulk,
            "bulk_in_place": bulk_in_place,
            "cycles": cycles,
            "memory": {
                "connections": self.synack_memory.2,
                "synack_bytes_per_conn": round(self.synack_bytes_per_conn(), 1),
                "synack_client_bytes_per_conn": round(self.synack_memory.0, 1),
                "synack_server_bytes_per_conn": round(self.synack_memory.1, 1),
                "smoltcp_bytes_per_conn": round(self.smoltcp_memory.0, 1),
                "smoltcp_connections_sampled": self.smoltcp_memory.1,
                "smoltcp_rx_buffer": self.smoltcp_memory_buffers.0,
                "smoltcp_tx_buffer": self.smoltcp_memory_buffers.1,
                "smoltcp_bytes_per_conn_without_buffers": round(self.smoltcp_memory_bare, 1),
            },
            "flows": {
                "flows": f.flows,
                "bytes": f.bytes,
                "link_gbps": f.link_bps as f64 / 1e9,
                "virtual_secs": round(f.virtual_secs, 6),
                "virtual_gbps": round(f.bytes as f64 * 8.0 / f.virtual_secs / 1e9, 3),
                "wall_secs": round(f.wall_secs, 3),
                "wall_gbps": round(f.bytes as f64 * 8.0 / f.wall_secs / 1e9, 3),
            },
        })
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "synack-bench ({:?} size): each figure the best of {RUNS} runs, each stack on one core\n",
            self.size
        );
        let mb = self.bulk.first().map_or(0, |b| b.1.bytes) as f64 / MIB as f64;
        let _ = writeln!(
            t,
            "Bulk transfer in memory: {mb:.0} MiB, 1 MiB buffers, CUBIC, checksums computed and verified"
        );
        let _ = writeln!(
            t,
            "  {:>6} {:>15} {:>15} {:>8} {:>22}",
            "MTU", "synack Gbit/s", "smoltcp Gbit/s", "ratio", "Linux loopback Gbit/s"
        );
        for (mtu, s, m, l) in &self.bulk {
            let _ = writeln!(
                t,
                "  {:>6} {:>15.2} {:>15.2} {:>7.2}× {:>22}",
                mtu,
                s.gbps(),
                m.gbps(),
                s.gbps() / m.gbps(),
                l.map_or("-".into(), |l| format!("{:.2}", l.gbps()))
            );
        }
        let _ = writeln!(
            t,
            "  received in place (synack recv_with, smoltcp recv closure; the bytes counted, not copied out):"
        );
        for (mtu, s, m) in &self.bulk_in_place {
            let _ = writeln!(
                t,
                "  {:>6} {:>15.2} {:>15.2} {:>7.2}×",
                mtu,
                s.gbps(),
                m.gbps(),
                s.gbps() / m.gbps()
            );
        }
        let _ = writeln!(
            t,
            "\nConnection cycles per second: connect, accept, four-way close, TIME-WAIT expiry (virtual clock)"
        );
        let _ = writeln!(
            t,
            "  {:>7} {:>12} {:>12} {:>8} {:>16} {:>16}",
            "idle", "synack/s", "smoltcp/s", "ratio", "Linux loopback/s", "smoltcp sampled"
        );
        for (s, m) in &self.cycles {
            let linux = match (s.idle, self.linux_cycles) {
                (0, Some(l)) => format!("{:.0}", l.per_s()),
                _ => "-".into(),
            };
            let _ = writeln!(
                t,
                "  {:>7} {:>12.0} {:>12.0} {:>7.2}× {:>16} {:>16}",
                s.idle,
                s.per_s(),
                m.per_s(),
                s.per_s() / m.per_s(),
                linux,
                format!("{} cycles", m.cycles)
            );
        }
        if let (Some(first), Some(last)) = (self.cycles.first(), self.cycles.last()) {
            let _ = writeln!(
                t,
                "  synack per cycle: {:.2} µs with {} idle, {:.2} µs with {} idle ({:+.0}%)",
                1e6 / first.0.per_s(),
                first.0.idle,
                1e6 / last.0.per_s(),
                last.0.idle,
                (first.0.per_s() / last.0.per_s() - 1.0) * 100.0
            );
        }
        let _ = writeln!(
            t,
            "  Linux: connect + accept + server FIN + client RST (SO_LINGER 0), no TIME-WAIT; 0 idle only"
        );
        let (c, s, n) = self.synack_memory;
        let (m, k) = self.smoltcp_memory;
        let _ = writeln!(
            t,
            "\nHeap per idle established connection end (counting allocator)"
        );
        let _ = writeln!(
            t,
            "  synack, {n} connections: {c:.0} B client end, {s:.0} B server end (buffers allocated on demand)"
        );
        let _ = writeln!(
            t,
            "  smoltcp, {k} connections sampled, {} KiB rx + {} KiB tx buffers (synack's defaults): {m:.0} B ({:.0} B without buffers)",
            self.smoltcp_memory_buffers.0 / 1024,
            self.smoltcp_memory_buffers.1 / 1024,
            self.smoltcp_memory_bare
        );
        let f = &self.flows;
        let _ = writeln!(
            t,
            "\nMany flows in the simulator: {} flows × {} KiB over {} Gbit/s, 1 ms each way",
            f.flows,
            f.bytes / f.flows.max(1) as u64 / 1024,
            f.link_bps / 1_000_000_000
        );
        let _ = writeln!(
            t,
            "  aggregate {:.2} Gbit/s of virtual time ({:.3} s); simulated at {:.2} Gbit/s of wall time ({:.2} s)",
            f.bytes as f64 * 8.0 / f.virtual_secs / 1e9,
            f.virtual_secs,
            f.bytes as f64 * 8.0 / f.wall_secs / 1e9,
            f.wall_secs
        );
        t
    }
}

/// One piece alone, for profilers: `synack-1500`, `synack-65535`, `smoltcp-1500`,
/// `smoltcp-65535` (and each of the four with `-inplace`: the receiving application lent
/// the bytes in place and only counting them, not the benchmark's copy),
/// `cycles` (synack's), `cycles-0` (synack's, no idle connections),
/// `cycles-idle` (synack's, the largest idle count only),
/// `smoltcp-cycles-0` or `flows`. Prints what it measured.
pub fn profile(size: Size, what: &str) -> bool {
    let plan = Plan::new(size);
    match what {
        "synack-1500" => eprintln!("{:?}", synack_stack::bulk(1500, plan.bulk_bytes, false)),
        "synack-65535" => eprintln!("{:?}", synack_stack::bulk(65535, plan.bulk_bytes, false)),
        "smoltcp-1500" => eprintln!("{:?}", smol::bulk(1500, plan.bulk_bytes, false)),
        "smoltcp-65535" => eprintln!("{:?}", smol::bulk(65535, plan.bulk_bytes, false)),
        "synack-1500-inplace" => eprintln!("{:?}", synack_stack::bulk(1500, plan.bulk_bytes, true)),
        "synack-65535-inplace" => {
            eprintln!("{:?}", synack_stack::bulk(65535, plan.bulk_bytes, true))
        }
        "smoltcp-1500-inplace" => eprintln!("{:?}", smol::bulk(1500, plan.bulk_bytes, true)),
        "smoltcp-65535-inplace" => eprintln!("{:?}", smol::bulk(65535, plan.bulk_bytes, true)),
        "cycles" => eprintln!("{:?}", synack_stack::cycles(&plan.synack_cycles)),
        "cycles-0" => eprintln!("{:?}", synack_stack::cycles(&plan.synack_cycles[..1])),
        "cycles-idle" => {
            // Only the largest idle count: its profile, set against cycles-0's, shows
            // what idle connections cost a cycle.
            let last = plan.synack_cycles.len() - 1;
            eprintln!("{:?}", synack_stack::cycles(&plan.synack_cycles[last..]))
        }
        "smoltcp-cycles-0" => eprintln!("{:?}", smol::cycles(&plan.smoltcp_cycles[..1])),
        "flows" => eprintln!("{:?}", flows::run(plan.flows.0, plan.flows.1)),
        _ => return false,
    }
    true
}
