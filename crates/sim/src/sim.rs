//! The simulator: hosts, links and the event loop.

use crate::filter::{Filter, FilterAction, FilterContext};
use crate::link::{Carried, DropCause, Link, LinkConfig, Transit};
use crate::record::{HostEvent, Outcome, PacketRecord};
use crate::rng::Rng;
use core::net::IpAddr;
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use synack::{Config, Endpoint, Instant, TraceEvent, TraceKind};
use synack_wire::parse_packet;

/// Names one host of a [`Sim`]. Only [`Sim::add_host`] makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(usize);

impl HostId {
    /// The host's position in the order hosts were added (0, 1, ...).
    pub const fn index(self) -> usize {
        self.0
    }
}

/// Why a run stopped without finishing what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The run took more steps than [`Sim::set_step_limit`] allows: probably a loop.
    #[error("step limit reached after {steps} steps (virtual time {at})")]
    StepLimit {
        /// Steps taken by this simulator so far.
        steps: u64,
        /// The virtual time then.
        at: Instant,
    },
    /// [`Sim::run_until_idle`] reached its limit with datagrams still in flight.
    #[error("not idle by {limit}: datagrams still in flight")]
    NotIdle {
        /// The limit given.
        limit: Instant,
    },
}

/// Why [`Sim::run_while`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The condition became false.
    Condition,
    /// Nothing was left to do: no datagram in flight, no timer set.
    Idle,
}

/// The order things happened in, for turning records into traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogEntry {
    /// A datagram was sent (or dropped on sending): an index into `packets`.
    Sent(usize),
    /// A datagram was handed to its receiver: an index into `packets`.
    Delivered(usize),
    /// An endpoint trace event: an index into `events`.
    Event(usize),
}

struct Host {
    name: String,
    addrs: Vec<IpAddr>,
    endpoint: Endpoint,
}

/// A datagram waiting to arrive. Ordered by time, then by scheduling order, so that
/// datagrams due at the same instant arrive in the order they were sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    at: Instant,
    order: u64,
    packet: usize,
}

/// Most datagrams taken from one endpoint in one go; an endpoint that never stops
/// producing is a bug, and this keeps it from hanging the simulator.
const MAX_BURST: usize = 65_536;

/// Default for [`Sim::set_step_limit`].
pub const DEFAULT_STEP_LIMIT: u64 = 1_000_000;

/// A deterministic simulated network of hosts running synack endpoints. See the crate
/// documentation for an example.
pub struct Sim {
    seed: u64,
    now: Instant,
    hosts: Vec<Host>,
    routes: BTreeMap<IpAddr, HostId>,
    links: BTreeMap<(HostId, HostId), Link>,
    filters: BTreeMap<(HostId, HostId), Filter>,
    pending: BinaryHeap<Reverse<Pending>>,
    next_order: u64,
    packets: Vec<PacketRecord>,
    events: Vec<HostEvent>,
    pub(crate) log: Vec<LogEntry>,
    steps: u64,
    step_limit: u64,
    buf: Vec<u8>,
    /// Keep each datagram's bytes in its record after delivery (see
    /// [`Sim::set_keep_delivered_bytes`]).
    keep_delivered_bytes: bool,
}

impl core::fmt::Debug for Sim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("now", &self.now)
            .field(
                "hosts",
                &self.hosts.iter().map(|h| &h.name).collect::<Vec<_>>(),
            )
            .field("packets", &self.packets.len())
            .field("in_flight", &self.pending.len())
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// An empty network at virtual time zero. Everything random in it (link impairments,
    /// the endpoints' secrets) derives from `seed`.
    pub fn new(seed: u64) -> Sim {
        Sim {
            seed,
            now: Instant::ZERO,
            hosts: Vec::new(),
            routes: BTreeMap::new(),
            links: BTreeMap::new(),
            filters: BTreeMap::new(),
            pending: BinaryHeap::new(),
            next_order: 0,
            packets: Vec::new(),
            events: Vec::new(),
            log: Vec::new(),
            steps: 0,
            step_limit: DEFAULT_STEP_LIMIT,
            buf: vec![0; 65_536],
            keep_delivered_bytes: true,
        }
    }

    /// Whether a datagram's bytes stay in its [`PacketRecord`] once delivered (the
    /// default). Long bulk transfers can turn this off to keep memory flat: the records
    /// remain (times, outcome, duplicate and corruption marks), but `bytes` is emptied
    /// on delivery, so [`PacketRecord::parse`] returns `None` for them.
    pub fn set_keep_delivered_bytes(&mut self, keep: bool) {
        self.keep_delivered_bytes = keep;
    }

    /// The seed this simulator was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Allow at most `steps` steps in total (default [`DEFAULT_STEP_LIMIT`]); past it,
    /// every run method returns [`SimError::StepLimit`].
    pub fn set_step_limit(&mut self, steps: u64) {
        self.step_limit = steps;
    }

    /// Add a host with an endpoint built from `config` (with tracing on and a secret
    /// derived from the seed) owning `addrs`. Datagrams to those addresses are routed to
    /// it. A later host claiming an address takes it over.
    pub fn add_host(&mut self, name: &str, config: Config, addrs: &[IpAddr]) -> HostId {
        let id = HostId(self.hosts.len());
        let mut secret = [0u8; 16];
        Rng::derive(self.seed, 0x5EC2_E700_0000_0000 ^ id.0 as u64).fill(&mut secret);
        let mut endpoint = Endpoint::new(config, secret);
        endpoint.set_tracing(true);
        for addr in addrs {
            endpoint.add_address(*addr);
            self.routes.insert(*addr, id);
        }
        self.hosts.push(Host {
            name: name.to_string(),
            addrs: addrs.to_vec(),
            endpoint,
        });
        id
    }

    /// Give `host` one more address.
    pub fn add_address(&mut self, host: HostId, addr: IpAddr) {
        let h = self.host_mut(host);
        h.endpoint.add_address(addr);
        h.addrs.push(addr);
        self.routes.insert(addr, host);
    }

    fn host(&self, host: HostId) -> &Host {
        match self.hosts.get(host.0) {
            Some(h) => h,
            None => panic!("{host:?} does not belong to this simulator"),
        }
    }

    fn host_mut(&mut self, host: HostId) -> &mut Host {
        match self.hosts.get_mut(host.0) {
            Some(h) => h,
            None => panic!("{host:?} does not belong to this simulator"),
        }
    }

    /// Every host, in the order added.
    pub fn hosts(&self) -> impl Iterator<Item = HostId> {
        (0..self.hosts.len()).map(HostId)
    }

    /// The name `host` was added with.
    ///
    /// # Panics
    /// If `host` came from another simulator (as do all methods taking a `HostId`).
    pub fn host_name(&self, host: HostId) -> &str {
        &self.host(host).name
    }

    /// The addresses of `host`, first one first.
    pub fn addresses(&self, host: HostId) -> &[IpAddr] {
        &self.host(host).addrs
    }

    /// The host owning `addr`, if any.
    pub fn host_of(&self, addr: IpAddr) -> Option<HostId> {
        self.routes.get(&addr).copied()
    }

    /// The endpoint of `host`.
    pub fn endpoint(&self, host: HostId) -> &Endpoint {
        &self.host(host).endpoint
    }

    /// The endpoint of `host`, to call `connect`, `send`, `poll_event`... on. What those
    /// calls make it send goes out at the current virtual time, when the simulator next
    /// runs.
    pub fn endpoint_mut(&mut self, host: HostId) -> &mut Endpoint {
        &mut self.host_mut(host).endpoint
    }

    /// Join `a` and `b` with a link behaving as `config` in both directions.
    pub fn link(&mut self, a: HostId, b: HostId, config: LinkConfig) {
        self.set_link(a, b, config.clone());
        self.set_link(b, a, config);
    }

    /// Set how the direction `from` → `to` behaves (making it if needed). Changing an
    /// existing link keeps its queue and random stream.
    pub fn set_link(&mut self, from: HostId, to: HostId, config: LinkConfig) {
        let (_, _) = (self.host(from), self.host(to));
        match self.links.get_mut(&(from, to)) {
            Some(link) => link.set_config(config),
            None => {
                let stream = ((from.0 as u64) << 32) | to.0 as u64;
                let link = Link::new(config, Rng::derive(self.seed, stream));
                self.links.insert((from, to), link);
            }
        }
    }

    /// How the direction `from` → `to` behaves, if there is such a link.
    pub fn link_config(&self, from: HostId, to: HostId) -> Option<&LinkConfig> {
        self.links.get(&(from, to)).map(Link::config)
    }

    /// Let `filter` decide the fate of each datagram offered to the direction `from` →
    /// `to` before the link's own impairments. It replaces any earlier filter there.
    ///
    /// The filter may keep state of its own (it is `FnMut`): to drop the second FIN
    /// from `server`, count FINs in it. See the crate documentation for an example.
    pub fn set_filter(
        &mut self,
        from: HostId,
        to: HostId,
        filter: impl FnMut(&FilterContext<'_>) -> FilterAction + 'static,
    ) {
        self.filters.insert((from, to), Box::new(filter));
    }

    /// Remove the filter of the direction `from` → `to`.
    pub fn clear_filter(&mut self, from: HostId, to: HostId) {
        self.filters.remove(&(from, to));
    }

    /// Deliver `datagram` to `host` at `at` (or now, if `at` has passed), as if the
    /// network had carried it: an old duplicate, a forged RST, a malformed packet...
    /// Returns its id in [`Sim::packets`].
    pub fn inject(&mut self, host: HostId, at: Instant, datagram: Vec<u8>) -> usize {
        let _ = self.host(host);
        let at = at.max(self.now);
        let id = self.packets.len();
        self.packets.push(PacketRecord {
            id,
            from: None,
            to: Some(host),
            sent_at: at,
            outcome: Outcome::InFlight { arrives_at: at },
            duplicate_of: None,
            corrupt_bit: None,
            retransmission: false,
            bytes: datagram,
        });
        self.schedule(at, id);
        id
    }

    /// Every datagram sent so far, by id.
    pub fn packets(&self) -> &[PacketRecord] {
        &self.packets
    }

    /// Every endpoint trace event so far, in the order recorded. Events caused by
    /// application calls made since the last step appear after the next step (or
    /// [`Sim::collect`]).
    pub fn events(&self) -> &[HostEvent] {
        &self.events
    }

    /// The trace events of one host.
    pub fn events_of(&self, host: HostId) -> impl Iterator<Item = &TraceEvent> {
        self.events
            .iter()
            .filter(move |e| e.host == host)
            .map(|e| &e.event)
    }

    /// Segments `host` traced as retransmissions.
    pub fn retransmissions(&self, host: HostId) -> usize {
        self.events_of(host)
            .filter(|e| {
                matches!(
                    e.kind,
                    TraceKind::Sent {
                        retransmission: true,
                        ..
                    }
                )
            })
            .count()
    }

    /// Datagrams in the network now.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    fn schedule(&mut self, at: Instant, packet: usize) {
        let order = self.next_order;
        self.next_order = self.next_order.wrapping_add(1);
        self.pending.push(Reverse(Pending { at, order, packet }));
    }

    /// The earliest timer of any host.
    fn next_timer(&self) -> Option<Instant> {
        self.hosts
            .iter()
            .filter_map(|h| h.endpoint.poll_timeout())
            .min()
    }

    /// When the next thing happens: a datagram arrives or a timer fires.
    pub fn next_event_time(&self) -> Option<Instant> {
        let packet = self.pending.peek().map(|p| p.0.at);
        let timer = self.next_timer();
        let next = match (packet, timer) {
            (Some(p), Some(t)) => Some(p.min(t)),
            (p, t) => p.or(t),
        };
        next.map(|t| t.max(self.now))
    }

    /// Take the trace events recorded by `host`'s endpoint since last time.
    fn drain_events(&mut self, host: HostId) {
        let Some(h) = self.hosts.get_mut(host.0) else {
            return;
        };
        for event in h.endpoint.drain_trace() {
            self.log.push(LogEntry::Event(self.events.len()));
            self.events.push(HostEvent { host, event });
        }
    }

    /// Record what application calls did since the last step and put every datagram the
    /// endpoints want to send on the links, at the current time. The run methods do this
    /// themselves; call it before reading [`Sim::events`] or [`Sim::packets`] right after
    /// an application call.
    pub fn collect(&mut self) {
        for i in 0..self.hosts.len() {
            let host = HostId(i);
            self.drain_events(host);
            for _ in 0..MAX_BURST {
                let now = self.now;
                let Some(h) = self.hosts.get_mut(i) else {
                    break;
                };
                let Some(len) = h.endpoint.poll_transmit(now, &mut self.buf) else {
                    break;
                };
                let datagram = self.buf.get(..len).unwrap_or(&self.buf).to_vec();
                let first_event = self.events.len();
                let id = self.transmit(host, datagram);
                self.drain_events(host);
                let retransmission = self.events.get(first_event..).is_some_and(|new| {
                    new.iter().any(|e| {
                        matches!(
                            e.event.kind,
                            TraceKind::Sent {
                                retransmission: true,
                                ..
                            }
                        )
                    })
                });
                if retransmission {
                    for record in self.packets.iter_mut().skip(id) {
                        if record.id == id || record.duplicate_of == Some(id) {
                            record.retransmission = true;
                        }
                    }
                }
            }
        }
    }

    /// Destination address of an IP datagram, read straight from the header.
    fn destination(datagram: &[u8]) -> Option<IpAddr> {
        match datagram.first().map(|b| b >> 4) {
            Some(4) => {
                let b: [u8; 4] = datagram.get(16..20)?.try_into().ok()?;
                Some(IpAddr::from(b))
            }
            Some(6) => {
                let b: [u8; 16] = datagram.get(24..40)?.try_into().ok()?;
                Some(IpAddr::from(b))
            }
            _ => None,
        }
    }

    /// Put one datagram from `from` on the link towards its destination; returns its id.
    fn transmit(&mut self, from: HostId, datagram: Vec<u8>) -> usize {
        let now = self.now;
        let id = self.packets.len();
        let to = Self::destination(&datagram).and_then(|dst| self.host_of(dst));
        let mut record = PacketRecord {
            id,
            from: Some(from),
            to,
            sent_at: now,
            outcome: Outcome::Dropped {
                reason: DropCause::NoRoute,
            },
            duplicate_of: None,
            corrupt_bit: None,
            retransmission: false,
            bytes: Vec::new(),
        };
        let link = to.and_then(|to| self.links.get_mut(&(from, to)).map(|l| (to, l)));
        let Some((to, link)) = link else {
            record.bytes = datagram;
            self.packets.push(record);
            self.log.push(LogEntry::Sent(id));
            return id;
        };
        let index = link.offered;
        link.offered = link.offered.saturating_add(1);
        let action = match self.filters.get_mut(&(from, to)) {
            Some(filter) => filter(&FilterContext {
                from,
                to,
                now,
                index,
                bytes: &datagram,
                packet: parse_packet(&datagram).ok(),
            }),
            None => FilterAction::Deliver,
        };
        let carried = match action {
            FilterAction::Drop => Carried {
                original: Err(DropCause::Filtered),
                duplicate: None,
            },
            FilterAction::Deliver => link.carry(now, &datagram, Duration::ZERO),
            FilterAction::Delay(extra) => link.carry(now, &datagram, extra),
        };
        let apply = |record: &mut PacketRecord, transit: Transit| {
            record.outcome = Outcome::InFlight {
                arrives_at: transit.arrives_at,
            };
            record.corrupt_bit = transit.corrupt_bit;
        };
        match carried.original {
            Ok(transit) => apply(&mut record, transit),
            Err(reason) => record.outcome = Outcome::Dropped { reason },
        }
        let copy = carried.duplicate.map(|transit| {
            let mut copy = record.clone();
            copy.id = id + 1;
            copy.duplicate_of = Some(id);
            apply(&mut copy, transit);
            copy.bytes = datagram.clone();
            (copy, transit.arrives_at)
        });
        record.bytes = datagram;
        if let Outcome::InFlight { arrives_at } = record.outcome {
            self.schedule(arrives_at, id);
        }
        self.packets.push(record);
        self.log.push(LogEntry::Sent(id));
        if let Some((copy, at)) = copy {
            self.schedule(at, copy.id);
            self.log.push(LogEntry::Sent(copy.id));
            self.packets.push(copy);
        }
        id
    }

    /// Advance to the next event and handle it: fire every timer due then (timers
    /// before datagrams at the same instant) or deliver the next datagram; then put
    /// whatever the endpoints want to send on the links. Returns `Ok(false)` when there
    /// is nothing left to do (no datagram in flight, no timer set).
    pub fn step(&mut self) -> Result<bool, SimError> {
        self.collect();
        let Some(at) = self.next_event_time() else {
            return Ok(false);
        };
        if self.steps >= self.step_limit {
            return Err(SimError::StepLimit {
                steps: self.steps,
                at: self.now,
            });
        }
        self.steps += 1;
        self.now = at;
        let timer_due = self.next_timer().is_some_and(|t| t <= at);
        if timer_due {
            for i in 0..self.hosts.len() {
                let Some(h) = self.hosts.get_mut(i) else {
                    continue;
                };
                if h.endpoint.poll_timeout().is_some_and(|t| t <= at) {
                    h.endpoint.handle_timeout(at);
                    self.drain_events(HostId(i));
                }
            }
        } else if let Some(Reverse(next)) = self.pending.pop() {
            self.deliver(next.packet);
        }
        self.collect();
        Ok(true)
    }

    fn deliver(&mut self, id: usize) {
        let now = self.now;
        let Some(record) = self.packets.get_mut(id) else {
            return;
        };
        record.outcome = Outcome::Delivered { at: now };
        let Some(to) = record.to else {
            return;
        };
        let bytes = if self.keep_delivered_bytes {
            record.delivered_bytes()
        } else {
            let mut bytes = core::mem::take(&mut record.bytes);
            if let Some(bit) = record.corrupt_bit {
                crate::link::flip_bit(&mut bytes, bit);
            }
            bytes
        };
        self.log.push(LogEntry::Delivered(id));
        if let Some(h) = self.hosts.get_mut(to.0) {
            h.endpoint.handle(now, &bytes);
        }
        self.drain_events(to);
    }

    /// Run every event up to and including `deadline`, then move the clock to
    /// `deadline`.
    pub fn run_until(&mut self, deadline: Instant) -> Result<(), SimError> {
        loop {
            self.collect();
            match self.next_event_time() {
                Some(t) if t <= deadline => {
                    self.step()?;
                }
                _ => break,
            }
        }
        self.now = self.now.max(deadline);
        self.collect();
        Ok(())
    }

    /// Run for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) -> Result<(), SimError> {
        self.run_until(self.now + duration)
    }

    /// Call `condition` before every step (it may act on the endpoints: accept, send,
    /// close...) and step while it returns true. Returns why it stopped.
    pub fn run_while(
        &mut self,
        mut condition: impl FnMut(&mut Sim) -> bool,
    ) -> Result<Stop, SimError> {
        loop {
            if !condition(self) {
                return Ok(Stop::Condition);
            }
            if !self.step()? {
                return Ok(Stop::Idle);
            }
        }
    }

    /// Run until nothing is in flight and no timer is due before `limit` (timers set
    /// for later, such as keep-alive, don't count). Returns the time it became idle, or
    /// [`SimError::NotIdle`] if datagrams are still in flight at `limit`.
    pub fn run_until_idle(&mut self, limit: Instant) -> Result<Instant, SimError> {
        loop {
            self.collect();
            match self.next_event_time() {
                Some(t) if t <= limit => {
                    self.step()?;
                }
                _ => break,
            }
        }
        if self.pending.is_empty() {
            Ok(self.now)
        } else {
            Err(SimError::NotIdle { limit })
        }
    }
}
