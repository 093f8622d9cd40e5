//! The runtime: one event-loop thread drives a [`synack::Endpoint`] from the TUN device and
//! the endpoint's timers; sockets on any thread talk to it through one mutex.
//!
//! ```text
//!  app threads / tokio tasks                     event-loop thread
//!  ─────────────────────────                     ─────────────────
//!  lock ─ endpoint.send/recv/… ─ transmit ─┐      ppoll(device fd, eventfd, poll_timeout)
//!        wait on the connection's condvar  │      read a batch of datagrams (outside the lock)
//!        (or store the task's waker)       │      lock ─ handle each ─ handle_timeout if due
//!  unlock; if the loop sleeps past the new │            ─ transmit ─ wake sockets whose
//!  earliest timer, write the eventfd ──────┘              events arrived ─ unlock
//! ```
//!
//! Whoever changes the endpoint transmits what it produced right away (an application's
//! `write` puts segments on the device from its own thread), so the loop only wakes for
//! datagrams, for timers (exactly at [`synack::Endpoint::poll_timeout`], through `ppoll`'s
//! nanosecond timeout) and when an application call brought the earliest timer forward.
//! There is no busy polling: an idle stack sleeps in `ppoll` with no timeout at all.

use crate::error::stopped;
use crate::impair::{Direction, ImpairedPath, Impairment, PathStats};
use crate::pcap::PcapRecorder;
use crate::tun::{AddrPair, Device, RxBatch, TunConfig, TxBuf, HEADROOM};
use nix::poll::{PollFd, PollFlags};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::time::TimeSpec;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::{Deref, DerefMut};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::thread::JoinHandle;
use std::time::Duration;
use synack::{Config, ConnId, Endpoint, Event, FourTuple, Instant, ListenerId, State};
use tun_rs::GROTable;

/// Datagrams written to the device in one batch at most (the GRO window).
const TX_BATCH: usize = 128;
/// Spare datagram buffers kept for reuse at most.
const SPARE_BUFFERS: usize = 2 * TX_BATCH;

/// Everything needed to start a [`Stack`].
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// The device and its addresses.
    pub tun: TunConfig,
    /// The TCP configuration. Its `mtu` is replaced by the device's.
    pub tcp: Config,
    /// The simulator's link model between the device and the stack, if any.
    pub impair: Option<Impairment>,
    /// Record every datagram crossing the device to this pcap file.
    pub pcap: Option<PathBuf>,
    /// The endpoint's secret (ISNs, ephemeral ports, hashing). `None` draws one from
    /// `/dev/urandom`.
    pub secret: Option<[u8; 16]>,
}

impl StackConfig {
    /// A stack on this device with the default TCP configuration, unimpaired, unrecorded.
    pub fn new(tun: TunConfig) -> StackConfig {
        StackConfig {
            tun,
            tcp: Config::default(),
            impair: None,
            pcap: None,
            secret: None,
        }
    }
}

/// Counters of the runtime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams read from the device (GSO super-packets counted as their segments).
    pub rx_datagrams: u64,
    /// Bytes of those datagrams.
    pub rx_bytes: u64,
    /// Datagrams written to the device (before GRO merges them).
    pub tx_datagrams: u64,
    /// Bytes of those datagrams.
    pub tx_bytes: u64,
    /// Device writes that failed (the datagrams are lost; TCP recovers).
    pub tx_errors: u64,
    /// Super-packets from the kernel the offload code could not split.
    pub rx_malformed: u64,
    /// Impairment towards the stack (datagrams the kernel sent).
    pub to_stack: PathStats,
    /// Impairment towards the kernel (datagrams the stack sent).
    pub to_host: PathStats,
    /// Datagrams recorded in the pcap file.
    pub pcap_packets: u64,
    /// Times the event loop woke up.
    pub loop_wakeups: u64,
}

/// A running synack stack on a TUN device: the handle sockets are made from.
///
/// Cloning is cheap (a reference count). The event loop runs while any clone or any
/// socket made from it is alive, or until [`Stack::stop`].
#[derive(Clone)]
pub struct Stack {
    handle: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.stop("stack dropped");
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(t) = thread {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("device", &self.handle.shared.info.device)
            .field("addrs", &self.handle.shared.info.addrs)
            .finish()
    }
}

/// What does not change after start.
pub(crate) struct Info {
    device: String,
    addrs: Vec<AddrPair>,
    mtu: u16,
    offload: bool,
}

/// The state shared by the loop and the sockets.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    wake: EventFd,
    epoch: std::time::Instant,
    /// Notified when the last connection (not counting TIME-WAIT) is gone.
    idle: Condvar,
    pub(crate) info: Info,
}

/// Which condvar/waker slot an operation waits on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key {
    Conn(ConnId),
    Listener(ListenerId),
}

/// Which task waker to store for a pending async operation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot {
    Read,
    Write,
}

/// Who is waiting for one connection or listener.
pub(crate) struct Waiters {
    cv: Arc<Condvar>,
    read: Option<Waker>,
    write: Option<Waker>,
    /// `shutdown(Read)` was called: reads return end of stream, arriving data is dropped.
    pub read_shut: bool,
}

impl Waiters {
    pub fn new() -> Waiters {
        Waiters {
            cv: Arc::new(Condvar::new()),
            read: None,
            write: None,
            read_shut: false,
        }
    }

    fn wake_read(&mut self, to_wake: &mut Vec<Waker>) {
        self.cv.notify_all();
        to_wake.extend(self.read.take());
    }

    fn wake_write(&mut self, to_wake: &mut Vec<Waker>) {
        self.cv.notify_all();
        to_wake.extend(self.write.take());
    }

    fn wake_all(&mut self, to_wake: &mut Vec<Waker>) {
        self.wake_read(to_wake);
        self.wake_write(to_wake);
    }
}

/// The lock on [`Inner`]. Task wakers found while it is held are woken when it is
/// released, so that no executor code ever runs under the stack's lock.
pub(crate) struct Locked<'a> {
    guard: Option<MutexGuard<'a, Inner>>,
}

impl Deref for Locked<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        self.guard.as_ref().expect("locked")
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        self.guard.as_mut().expect("locked")
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(mut g) = self.guard.take() {
            let wakers = std::mem::take(&mut g.to_wake);
            drop(g);
            for w in wakers {
                w.wake();
            }
        }
    }
}

impl<'a> Locked<'a> {
    /// Sleep on `cv` (at most `timeout`), releasing the lock meanwhile. With task wakers
    /// pending, it releases the lock, wakes them and returns at once instead (the caller
    /// re-checks its condition either way).
    fn wait(&mut self, shared: &'a Shared, cv: &Condvar, timeout: Option<Duration>) {
        let mut g = self.guard.take().expect("locked");
        if !g.to_wake.is_empty() {
            let wakers = std::mem::take(&mut g.to_wake);
            drop(g);
            for w in wakers {
                w.wake();
            }
            self.guard = Some(shared.inner.lock().unwrap_or_else(PoisonError::into_inner));
            return;
        }
        let g = match timeout {
            None => cv.wait(g).unwrap_or_else(PoisonError::into_inner),
            Some(t) => {
                cv.wait_timeout(g, t)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
        self.guard = Some(g);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopState {
    /// Running: it will look at the timers before it sleeps again.
    Awake,
    /// In `ppoll` until this instant (or forever).
    Sleeping(Option<Instant>),
}

/// Everything behind the mutex.
pub(crate) struct Inner {
    pub ep: Endpoint,
    pub conns: HashMap<ConnId, Waiters>,
    pub listeners: HashMap<ListenerId, Waiters>,
    /// Why the loop stopped, once it has.
    pub stopped: Option<String>,
    dev: Arc<Device>,
    /// The buffer `poll_transmit` writes into (full length, reused until it holds a
    /// datagram).
    stage: TxBuf,
    batch: Vec<TxBuf>,
    spare: Vec<TxBuf>,
    gro: GROTable,
    to_stack: Option<ImpairedPath>,
    to_host: Option<ImpairedPath>,
    pcap: Option<PcapRecorder>,
    pcap_error: Option<String>,
    loop_state: LoopState,
    stats: Stats,
    idle_waiters: usize,
    scratch: Vec<u8>,
    /// Task wakers to wake once the lock is released.
    to_wake: Vec<Waker>,
}

impl Stack {
    /// Create the device, configure it, and start the event loop.
    pub fn start(config: StackConfig) -> io::Result<Stack> {
        let dev = Arc::new(Device::open(&config.tun)?);
        let mut tcp = config.tcp.clone();
        tcp.mtu = config.tun.mtu;
        let secret = match config.secret {
            Some(s) => s,
            None => random_secret()?,
        };
        let mut ep = Endpoint::new(tcp, secret);
        for p in &config.tun.addrs {
            ep.add_address(p.stack);
        }
        let pcap = match &config.pcap {
            Some(path) => Some(PcapRecorder::create(path).map_err(|e| {
                io::Error::new(e.kind(), format!("pcap file {}: {e}", path.display()))
            })?),
            None => None,
        };
        let inner = Inner {
            ep,
            conns: HashMap::new(),
            listeners: HashMap::new(),
            stopped: None,
            dev: dev.clone(),
            stage: TxBuf::new(),
            batch: Vec::with_capacity(TX_BATCH),
            spare: Vec::new(),
            gro: GROTable::default(),
            to_stack: config
                .impair
                .as_ref()
                .map(|i| ImpairedPath::new(i, Direction::ToStack)),
            to_host: config
                .impair
                .as_ref()
                .map(|i| ImpairedPath::new(i, Direction::ToHost)),
            pcap,
            pcap_error: None,
            loop_state: LoopState::Awake,
            stats: Stats::default(),
            idle_waiters: 0,
            scratch: vec![0; 16 * 1024],
            to_wake: Vec::new(),
        };
        let wake = EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
            .map_err(io::Error::from)?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(inner),
            wake,
            epoch: std::time::Instant::now(),
            idle: Condvar::new(),
            info: Info {
                device: dev.name().to_string(),
                addrs: config.tun.addrs.clone(),
                mtu: config.tun.mtu,
                offload: dev.offload(),
            },
        });
        let loop_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("synack-io {}", dev.name()))
            .spawn(move || event_loop(&loop_shared, &dev))?;
        Ok(Stack {
            handle: Arc::new(Handle {
                shared,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// The device's interface name.
    pub fn device_name(&self) -> &str {
        &self.shared().info.device
    }

    /// The device's addresses (kernel side and stack side).
    pub fn addrs(&self) -> &[AddrPair] {
        &self.shared().info.addrs
    }

    /// The stack's own address of this family, if it has one.
    pub fn stack_addr(&self, ipv6: bool) -> Option<IpAddr> {
        self.addrs()
            .iter()
            .map(|p| p.stack)
            .find(|a| a.is_ipv6() == ipv6)
    }

    /// The device's MTU.
    pub fn mtu(&self) -> u16 {
        self.shared().info.mtu
    }

    /// Whether the device runs with the virtio-net header (GSO/GRO).
    pub fn offload(&self) -> bool {
        self.shared().info.offload
    }

    /// The runtime's counters so far.
    pub fn stats(&self) -> Stats {
        let g = self.shared().lock();
        let mut s = g.stats;
        if let Some(p) = &g.to_stack {
            s.to_stack = p.stats;
        }
        if let Some(p) = &g.to_host {
            s.to_host = p.stats;
        }
        s.pcap_packets = g.pcap.as_ref().map_or(0, PcapRecorder::packets);
        s
    }

    /// The TCP state of whatever the endpoint holds for this pair of addresses (a
    /// connection or a TIME-WAIT record), from the stack's point of view.
    pub fn state_of(&self, local: SocketAddr, remote: SocketAddr) -> Option<State> {
        self.shared()
            .lock()
            .ep
            .state_of(FourTuple { local, remote })
    }

    /// The endpoint's own counters: SYN cookies, challenge ACKs, drops at each limit,
    /// buffer memory (see [`synack::EndpointStats`]).
    pub fn endpoint_stats(&self) -> synack::EndpointStats {
        self.shared().lock().ep.endpoint_stats()
    }

    /// Connections the endpoint holds, not counting TIME-WAIT records.
    pub fn connection_count(&self) -> usize {
        self.shared().lock().ep.connection_count()
    }

    /// TIME-WAIT records the endpoint holds.
    pub fn time_wait_count(&self) -> usize {
        self.shared().lock().ep.time_wait_count()
    }

    /// Record the endpoint's trace events (segments, state changes) from now on, or stop.
    pub fn set_tracing(&self, on: bool) {
        self.shared().lock().ep.set_tracing(on);
    }

    /// Take the trace events recorded so far (times are since the stack started).
    pub fn drain_trace(&self) -> Vec<synack::TraceEvent> {
        self.shared().lock().ep.drain_trace()
    }

    /// Wait until every connection has finished (only TIME-WAIT records, if anything, are
    /// left), at most `timeout`. Returns whether that happened. Sockets still held by
    /// the application count as connections until they are dropped.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let shared = self.shared();
        let deadline = std::time::Instant::now() + timeout;
        let mut g = shared.lock();
        g.idle_waiters += 1;
        let done = loop {
            if g.ep.connection_count() == 0 {
                break true;
            }
            if g.stopped.is_some() {
                break false;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break false;
            }
            g.wait(shared, &shared.idle, Some(left));
        };
        g.idle_waiters -= 1;
        done
    }

    /// Stop the event loop now (connections vanish without a word; sockets get errors),
    /// flush the pcap file and wait for the loop thread to finish. Returns the pcap
    /// file's write error, if there was one.
    pub fn stop(&self) -> io::Result<()> {
        self.shared().stop("stopped");
        let thread = self
            .handle
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(t) = thread {
            let _ = t.join();
        }
        match self.shared().lock().pcap_error.clone() {
            Some(e) => Err(io::Error::other(e)),
            None => Ok(()),
        }
    }
}

impl Shared {
    /// Now, on the endpoint's clock (nanoseconds since the stack started).
    pub fn now(&self) -> Instant {
        Instant::from_nanos(u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    pub fn lock(&self) -> Locked<'_> {
        Locked {
            guard: Some(self.inner.lock().unwrap_or_else(PoisonError::into_inner)),
        }
    }

    fn stop(&self, reason: &str) {
        let mut g = self.lock();
        if g.stopped.is_none() {
            g.stopped = Some(reason.to_string());
        }
        drop(g);
        let _ = self.wake.write(1);
    }

    /// After an application call changed the endpoint: send what it produced, wake
    /// whoever its events concern, and wake the loop if it sleeps past the new earliest
    /// timer.
    pub fn settle(&self, g: &mut Inner, now: Instant) {
        g.flush(now);
        if g.dispatch(now) {
            g.flush(now);
        }
        if let LoopState::Sleeping(until) = g.loop_state {
            let next = g.next_deadline();
            let earlier = match (next, until) {
                (Some(n), Some(u)) => n < u,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if earlier {
                g.loop_state = LoopState::Awake;
                let _ = self.wake.write(1);
            }
        }
        if g.idle_waiters > 0 && g.ep.connection_count() == 0 {
            self.idle.notify_all();
        }
    }

    /// Run `op` until it stops saying `WouldBlock`, sleeping on `key`'s condvar in between
    /// (unless `nonblocking`), at most until `deadline` (then an error of `timeout_kind`).
    pub fn blocking<R>(
        &self,
        key: Key,
        deadline: Option<std::time::Instant>,
        nonblocking: bool,
        timeout_kind: io::ErrorKind,
        mut op: impl FnMut(&mut Inner, Instant) -> Result<R, synack::Error>,
    ) -> io::Result<R> {
        let mut g = self.lock();
        loop {
            if let Some(reason) = &g.stopped {
                return Err(stopped(reason));
            }
            let now = self.now();
            let r = op(&mut g, now);
            self.settle(&mut g, now);
            match r {
                Err(synack::Error::WouldBlock) => {}
                other => return other.map_err(crate::error::to_io),
            }
            if nonblocking {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "operation would block",
                ));
            }
            let cv = g
                .waiters(key)
                .map(|w| w.cv.clone())
                .ok_or_else(|| crate::error::to_io(synack::Error::InvalidHandle))?;
            match deadline {
                None => g.wait(self, &cv, None),
                Some(d) => {
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Err(io::Error::new(timeout_kind, "operation timed out"));
                    }
                    g.wait(self, &cv, Some(left));
                }
            }
        }
    }

    /// Run `op` once; if it says `WouldBlock`, keep the task's waker in `key`'s `slot`.
    pub fn poll<R>(
        &self,
        cx: &mut std::task::Context<'_>,
        key: Key,
        slot: Slot,
        op: impl FnOnce(&mut Inner, Instant) -> Result<R, synack::Error>,
    ) -> std::task::Poll<io::Result<R>> {
        use std::task::Poll;
        let mut g = self.lock();
        if let Some(reason) = &g.stopped {
            return Poll::Ready(Err(stopped(reason)));
        }
        let now = self.now();
        let r = op(&mut g, now);
        let pending = matches!(r, Err(synack::Error::WouldBlock));
        if pending {
            let Some(w) = g.waiters(key) else {
                return Poll::Ready(Err(crate::error::to_io(synack::Error::InvalidHandle)));
            };
            let slot = match slot {
                Slot::Read => &mut w.read,
                Slot::Write => &mut w.write,
            };
            match slot {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        self.settle(&mut g, now);
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(r.map_err(crate::error::to_io))
        }
    }

    /// Run `op` under the lock and settle (no waiting).
    pub fn with<R>(&self, op: impl FnOnce(&mut Inner, Instant) -> R) -> io::Result<R> {
        let mut g = self.lock();
        if let Some(reason) = &g.stopped {
            return Err(stopped(reason));
        }
        let now = self.now();
        let r = op(&mut g, now);
        self.settle(&mut g, now);
        Ok(r)
    }
}

impl Inner {
    pub fn waiters(&mut self, key: Key) -> Option<&mut Waiters> {
        match key {
            Key::Conn(c) => self.conns.get_mut(&c),
            Key::Listener(l) => self.listeners.get_mut(&l),
        }
    }

    /// Wake everyone waiting for `key` (e.g. after `shutdown(Read)`).
    pub fn wake(&mut self, key: Key) {
        let w = match key {
            Key::Conn(c) => self.conns.get_mut(&c),
            Key::Listener(l) => self.listeners.get_mut(&l),
        };
        if let Some(w) = w {
            w.wake_all(&mut self.to_wake);
        }
    }

    /// Drop whatever is readable on a connection whose reading side was shut down.
    pub fn discard_readable(&mut self, now: Instant, conn: ConnId) {
        while let Ok(n) = self.ep.recv(now, conn, &mut self.scratch) {
            if n == 0 {
                break;
            }
        }
    }

    /// The earliest instant the loop must act: a timer or an impaired datagram arriving.
    fn next_deadline(&self) -> Option<Instant> {
        [
            self.ep.poll_timeout(),
            self.to_stack.as_ref().and_then(ImpairedPath::next_due),
            self.to_host.as_ref().and_then(ImpairedPath::next_due),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A datagram read from the device.
    fn on_datagram(&mut self, now: Instant, d: &[u8]) {
        self.stats.rx_datagrams += 1;
        self.stats.rx_bytes += d.len() as u64;
        self.record(d);
        match &mut self.to_stack {
            Some(p) => p.offer(now, d),
            None => self.ep.handle(now, d),
        }
    }

    fn record(&mut self, d: &[u8]) {
        if let Some(p) = &mut self.pcap {
            if let Err(e) = p.record(d) {
                self.pcap_error = Some(format!("writing the pcap file: {e}"));
                self.pcap = None;
            }
        }
    }

    /// Everything due at `now` that is not an application's business.
    fn service(&mut self, now: Instant) {
        if let Some(p) = &mut self.to_stack {
            while let Some(d) = p.pop_due(now) {
                self.ep.handle(now, &d);
            }
        }
        if self.ep.poll_timeout().is_some_and(|t| t <= now) {
            self.ep.handle_timeout(now);
        }
    }

    /// A datagram buffer of `len` bytes. Its contents are whatever a previous datagram
    /// left (only growth is zeroed): every user overwrites what it uses.
    fn take_buffer(&mut self, len: usize) -> TxBuf {
        let mut b = self.spare.pop().unwrap_or_else(TxBuf::new);
        b.set_len(len);
        b
    }

    /// Put everything the endpoint wants to send (and every impaired datagram that has
    /// arrived) on the device.
    fn flush(&mut self, now: Instant) {
        let cap = HEADROOM + self.dev.datagram_capacity();
        if self.stage.len() != cap {
            self.stage.set_len(cap);
        }
        while let Some(n) = self.ep.poll_transmit(now, self.stage.datagram_mut()) {
            let fresh = self.take_buffer(cap);
            let mut buf = std::mem::replace(&mut self.stage, fresh);
            buf.set_len(HEADROOM + n);
            match &mut self.to_host {
                Some(p) => {
                    p.offer(now, buf.datagram());
                    self.spare.push(buf);
                }
                None => self.queue_out(buf),
            }
        }
        while let Some(d) = self.to_host.as_mut().and_then(|p| p.pop_due(now)) {
            let mut buf = self.take_buffer(HEADROOM + d.len());
            buf.datagram_mut().copy_from_slice(&d);
            self.queue_out(buf);
        }
        self.write_out();
    }

    fn queue_out(&mut self, buf: TxBuf) {
        self.stats.tx_datagrams += 1;
        self.stats.tx_bytes += buf.datagram().len() as u64;
        self.record(buf.datagram());
        self.batch.push(buf);
        if self.batch.len() >= TX_BATCH {
            self.write_out();
        }
    }

    fn write_out(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        self.stats.tx_errors += self.dev.write_batch(&mut self.gro, &mut self.batch);
        let room = SPARE_BUFFERS.saturating_sub(self.spare.len());
        self.spare.extend(self.batch.drain(..).take(room));
        self.batch.clear();
    }

    /// Wake the sockets the endpoint's events concern. Returns whether anything was done
    /// that may have something to transmit.
    fn dispatch(&mut self, now: Instant) -> bool {
        let mut touched = false;
        while let Some(ev) = self.ep.poll_event() {
            match ev {
                Event::Readable(c) | Event::PeerClosed(c) | Event::Urgent(c) => {
                    let shut = self.conns.get(&c).is_some_and(|w| w.read_shut);
                    if shut {
                        self.discard_readable(now, c);
                        touched = true;
                    }
                    if let Some(w) = self.conns.get_mut(&c) {
                        w.wake_read(&mut self.to_wake);
                    }
                }
                Event::Writable(c) => {
                    if let Some(w) = self.conns.get_mut(&c) {
                        w.wake_write(&mut self.to_wake);
                    }
                }
                Event::Connected(c) | Event::Closed(c, _) => {
                    if let Some(w) = self.conns.get_mut(&c) {
                        w.wake_all(&mut self.to_wake);
                    }
                }
                Event::Incoming(l) => {
                    if let Some(w) = self.listeners.get_mut(&l) {
                        w.wake_all(&mut self.to_wake);
                    }
                }
                Event::RetransmitThreshold(_) => {}
            }
        }
        touched
    }

    fn wake_everyone(&mut self) {
        for w in self.conns.values_mut().chain(self.listeners.values_mut()) {
            w.wake_all(&mut self.to_wake);
        }
    }
}

/// The event loop (runs on its own thread until the stack stops).
fn event_loop(shared: &Shared, dev: &Device) {
    // Wake as close to the requested instant as the kernel can (the default slack is
    // 50 µs).
    let _ = nix::sys::prctl::set_timerslack(1_000);
    let mut rx = RxBatch::new(dev);
    let mut g = shared.lock();
    loop {
        let now = shared.now();
        for i in 0..rx.count {
            g.on_datagram(now, rx.get(i));
        }
        g.stats.rx_malformed = rx.malformed;
        g.service(now);
        shared.settle(&mut g, now);
        if g.stopped.is_some() {
            break;
        }
        let deadline = g.next_deadline();
        g.loop_state = LoopState::Sleeping(deadline);
        if let Some(p) = &mut g.pcap {
            if let Err(e) = p.flush() {
                g.pcap_error = Some(format!("writing the pcap file: {e}"));
                g.pcap = None;
            }
        }
        drop(g);

        let timeout = deadline.map(|d| {
            let left = d.saturating_since(shared.now());
            // Round up: waking a nanosecond early would only mean one more turn.
            TimeSpec::from_duration(left + Duration::from_nanos(1))
        });
        let (dev_ready, wake_ready) = {
            let mut fds = [
                PollFd::new(dev.as_fd(), PollFlags::POLLIN),
                PollFd::new(shared.wake.as_fd(), PollFlags::POLLIN),
            ];
            match nix::poll::ppoll(&mut fds, timeout, None) {
                Ok(_) => {
                    let ready = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
                    (ready(&fds[0]), ready(&fds[1]))
                }
                Err(nix::errno::Errno::EINTR) => (false, false),
                Err(e) => {
                    g = shared.lock();
                    g.stopped = Some(format!("ppoll failed: {e}"));
                    break;
                }
            }
        };
        if wake_ready {
            let _ = shared.wake.read();
        }
        rx.count = 0;
        let read = if dev_ready {
            dev.read_batch(&mut rx)
        } else {
            Ok(())
        };
        g = shared.lock();
        g.stats.loop_wakeups += 1;
        g.loop_state = LoopState::Awake;
        if let Err(e) = read {
            g.stopped = Some(format!("reading the TUN device failed: {e}"));
            break;
        }
    }
    g.loop_state = LoopState::Awake;
    g.wake_everyone();
    if let Some(p) = &mut g.pcap {
        if let Err(e) = p.flush() {
            g.pcap_error = Some(format!("writing the pcap file: {e}"));
        }
    }
    drop(g);
    shared.idle.notify_all();
}

/// 16 bytes from the kernel's random pool, for the endpoint's secret.
fn random_secret() -> io::Result<[u8; 16]> {
    use std::io::Read;
    let mut s = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut s)?;
    Ok(s)
}
