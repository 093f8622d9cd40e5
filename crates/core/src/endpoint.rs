//! The endpoint: every connection, listener and TIME-WAIT record of one host.

mod listen;

use crate::addresses::{AddressSet, ListenTable};
use crate::connection::{Connection, Owner, Segment};
use crate::demux::{Demux, Holder, KeyedHasher};
use crate::isn::IsnGenerator;
use crate::listener::{Listener, ListenerQueue};
use crate::outbox::{Ctx, Outbox};
use crate::reassembly::Staged;
use crate::slab::Slab;
use crate::syn_cookie::SynCookies;
use crate::time_wait::{TimeWait, TimeWaitAction};
use crate::timer::TimerQueue;
use crate::{
    Config, DropReason, Error, FourTuple, Instant, SegmentSummary, SeqNum, State, TraceEvent,
    TraceKind,
};
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::collections::VecDeque;
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// Names one connection of an endpoint. Stale handles are detected (generation count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// Names one listener of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// How a connection ended (MUST-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Both FINs were exchanged and acknowledged.
    Normal,
    /// The peer sent a RST.
    Reset,
    /// The peer refused our SYN with a RST.
    Refused,
    /// R2 was reached, or keep-alive probes went unanswered.
    TimedOut,
    /// The application aborted the connection.
    Aborted,
}

/// Something the application may want to act on. Read them with
/// [`Endpoint::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An active open reached ESTABLISHED.
    Connected(ConnId),
    /// A listener has a connection ready for [`Endpoint::accept`].
    Incoming(ListenerId),
    /// Data, or the end of the peer's stream, can be read.
    Readable(ConnId),
    /// Send-buffer space became available.
    Writable(ConnId),
    /// The peer closed its direction normally (its FIN arrived in order).
    PeerClosed(ConnId),
    /// One segment has been retransmitted R1 times (RFC 9293 §3.8.3).
    RetransmitThreshold(ConnId),
    /// The connection reached CLOSED (or TIME-WAIT, where the application is done).
    Closed(ConnId, CloseReason),
    /// The peer's urgent pointer appeared or advanced (§3.8.5, MUST-32):
    /// [`Endpoint::urgent_remaining`] says how much to read to reach its end.
    Urgent(ConnId),
}

/// A TCP endpoint: the sans-IO core. It owns every connection, listener and TIME-WAIT
/// record of one host and is driven by four calls: [`Endpoint::handle`] for each
/// arriving datagram, [`Endpoint::poll_transmit`] until it returns `None`,
/// [`Endpoint::poll_timeout`] to learn when to wake, and [`Endpoint::handle_timeout`]
/// then. Every per-packet and per-poll path is O(1) in the number of connections
/// (hash-map demux, one timer heap, a ready queue).
pub struct Endpoint {
    config: Config,
    isn: IsnGenerator,
    addrs: AddressSet,
    conns: Slab<Connection>,
    /// Every connection's and TIME-WAIT record's 4-tuple.
    demux: Demux,
    listeners: Slab<Listener>,
    listen_by_addr: ListenTable,
    time_waits: Slab<TimeWait>,
    timers: TimerQueue<TimerKey>,
    /// Connections that may have something to send.
    ready: VecDeque<u32>,
    out: Outbox,
    ephemeral_counter: u32,
    /// SYN cookies (RFC 4987), keyed from the secret.
    cookies: SynCookies,
}

/// What a timer queue entry refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKey {
    Conn(u32, u32),
    TimeWait(u32, u32),
}

/// Largest payload `poll_transmit` stages at once.
const MAX_SEGMENT_PAYLOAD: usize = 65_535;

impl Endpoint {
    /// A new endpoint. `secret` keys the ISN generator, the ephemeral port choice and the
    /// demultiplexing hash (MUST-9); give each host a different one.
    pub fn new(config: Config, secret: [u8; 16]) -> Self {
        let isn = IsnGenerator::new(secret);
        let cookies = SynCookies::new(&secret);
        let hasher = KeyedHasher(isn.keyed_hash(1, b"demux"), isn.keyed_hash(2, b"demux"));
        Endpoint {
            config,
            isn,
            addrs: AddressSet::default(),
            conns: Slab::new(),
            demux: Demux::new(hasher),
            listeners: Slab::new(),
            listen_by_addr: ListenTable::default(),
            time_waits: Slab::new(),
            timers: TimerQueue::new(),
            ready: VecDeque::new(),
            out: Outbox::new(),
            ephemeral_counter: 0,
            cookies,
        }
    }

    /// The configuration this endpoint was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Claim `addr` as one of this host's addresses. Datagrams to other addresses are
    /// ignored (an endpoint with no addresses accepts any destination).
    pub fn add_address(&mut self, addr: IpAddr) {
        self.addrs.add(addr);
    }

    /// Record trace events from now on (or stop and discard them).
    pub fn set_tracing(&mut self, on: bool) {
        self.out.trace = if on {
            Some(self.out.trace.take().unwrap_or_default())
        } else {
            None
        };
    }

    /// Take the trace events recorded so far.
    pub fn drain_trace(&mut self) -> Vec<TraceEvent> {
        match self.out.trace.as_mut() {
            Some(t) => std::mem::take(t),
            None => Vec::new(),
        }
    }

    // ---- Application calls ----

    /// Passive OPEN (RFC 9293 §3.10.1): listen on `local` (its IP may be unspecified to
    /// listen on every address), with at most `backlog` established connections waiting
    /// for `accept` (capped at [`Config::max_backlog`]). A port already listened on gives
    /// [`Error::AddrInUse`].
    pub fn listen(&mut self, local: SocketAddr, backlog: usize) -> Result<ListenerId, Error> {
        if local.port() == 0 {
            return Err(Error::InvalidInput);
        }
        if self.listen_by_addr.get(local).is_some() {
            return Err(Error::AddrInUse);
        }
        let backlog = backlog.min(self.config.max_backlog);
        let (index, generation) = self.listeners.insert(Listener::new(local, backlog));
        self.listen_by_addr.insert(local, index);
        Ok(ListenerId { index, generation })
    }

    /// Stop listening. Connections not yet accepted are reset.
    pub fn unlisten(&mut self, now: Instant, listener: ListenerId) -> Result<(), Error> {
        if self
            .listeners
            .get(listener.index, listener.generation)
            .is_none()
        {
            return Err(Error::InvalidHandle);
        }
        let Some(l) = self.listeners.remove(listener.index) else {
            return Err(Error::InvalidHandle);
        };
        self.listen_by_addr.remove(l.local);
        for id in l.accept_queue {
            if let Some(c) = self.conns.get_mut(id.index, id.generation) {
                if c.owner == Owner::Listener {
                    let mut ctx = Ctx {
                        now,
                        config: &self.config,
                        out: &mut self.out,
                    };
                    c.owner = Owner::Released;
                    c.abort(&mut ctx);
                    self.settle(now, id.index);
                }
            }
        }
        // Half-open connections find their listener gone when they complete, and are
        // reset then (see `deliver`).
        Ok(())
    }

    /// Take one established connection from the listener's accept queue.
    pub fn accept(&mut self, listener: ListenerId) -> Result<ConnId, Error> {
        let l = self
            .listeners
            .get_mut(listener.index, listener.generation)
            .ok_or(Error::InvalidHandle)?;
        l.incoming_signalled = false;
        while let Some(id) = l.accept_queue.pop_front() {
            if let Some(c) = self.conns.get_mut(id.index, id.generation) {
                if c.owner == Owner::Listener && c.listener_queue == ListenerQueue::Accept {
                    l.leave(ListenerQueue::Accept);
                    c.owner = Owner::App;
                    c.listener_queue = ListenerQueue::None;
                    return Ok(id);
                }
            }
        }
        Err(Error::WouldBlock)
    }

    /// Active OPEN (RFC 9293 §3.10.1): send a SYN from `local` to `remote`. An
    /// unspecified local IP picks one of this host's addresses of the same family; local
    /// port 0 picks an ephemeral port (RFC 6056, algorithm 3).
    pub fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<ConnId, Error> {
        // MUST-46 (§3.9.1.1): an OPEN to a broadcast or multicast address is an error.
        if remote.port() == 0
            || remote.ip().is_unspecified()
            || remote.ip().is_multicast()
            || is_limited_broadcast(remote.ip())
            || local.is_ipv4() != remote.is_ipv4()
        {
            return Err(Error::InvalidInput);
        }
        let mut local = local;
        if local.ip().is_unspecified() {
            let ip = self
                .addrs
                .first_like(remote.ip())
                .ok_or(Error::AddrNotAvailable)?;
            local.set_ip(ip);
        }
        if local.port() == 0 {
            // The search only returns a port whose 4-tuple is free.
            local.set_port(self.ephemeral_port(local.ip(), remote)?);
        } else if self.demux.contains(&FourTuple { local, remote }) {
            return Err(Error::AddrInUse);
        }
        let tuple = FourTuple { local, remote };
        if self.conns.len() >= self.config.max_connections {
            self.out.stats.connection_limit_drops += 1;
            return Err(Error::ConnectionLimit);
        }
        let isn = self.isn.isn_and_ts_offset(now, local, remote);
        let id = self.add_conn(now, tuple, isn, |c, ctx| c.connect(ctx));
        self.settle(now, id.index);
        Ok(id)
    }

    /// Store a blank TCB for `tuple` in the slab, set it up there with `init` (given a
    /// context), and map `tuple` to it. The one way a connection comes into being: by
    /// `connect`, a SYN a listener queues, or a SYN cookie that comes back. The TCB is
    /// built in its slot and never moved: it is large, and each move is a copy.
    pub(crate) fn add_conn(
        &mut self,
        now: Instant,
        tuple: FourTuple,
        (iss, ts_offset): (SeqNum, u32),
        init: impl FnOnce(&mut Connection, &mut Ctx<'_>),
    ) -> ConnId {
        let (index, generation) = self.conns.next_key();
        let id = ConnId { index, generation };
        let config = &self.config;
        let (key, conn) = self
            .conns
            .insert_with(|| Connection::blank(id, tuple, config, iss, ts_offset, now));
        debug_assert_eq!(key, (index, generation));
        let mut ctx = Ctx {
            now,
            config: &self.config,
            out: &mut self.out,
        };
        init(conn, &mut ctx);
        // The only place the count grows.
        let live = self.conns.len();
        self.out.stats.connections_peak = self.out.stats.connections_peak.max(live);
        // Every caller has just found the tuple free (`connect` by its port search or
        // `contains`, a listener by the lookup that found no connection).
        self.demux.insert_new(tuple, Holder::Conn(index));
        id
    }

    /// RFC 6056 §3.3.3 (algorithm 3): start at a keyed hash of the addresses, step until
    /// a free 4-tuple is found. Only `connect` pays for the search.
    fn ephemeral_port(&mut self, local: IpAddr, remote: SocketAddr) -> Result<u16, Error> {
        let lo = *self.config.ephemeral_ports.start();
        let hi = *self.config.ephemeral_ports.end();
        if hi < lo {
            return Err(Error::AddrNotAvailable);
        }
        let count = u32::from(hi - lo) + 1;
        let offset = self.isn.port_offset(local, remote);
        for _ in 0..count {
            let port = lo + ((offset.wrapping_add(self.ephemeral_counter)) % count) as u16;
            self.ephemeral_counter = self.ephemeral_counter.wrapping_add(1);
            let tuple = FourTuple {
                local: SocketAddr::new(local, port),
                remote,
            };
            if !self.demux.contains(&tuple) {
                return Ok(port);
            }
        }
        Err(Error::AddrNotAvailable)
    }

    /// The application's connection for `id`.
    fn app_conn(&mut self, id: ConnId) -> Result<&mut Connection, Error> {
        match self.conns.get_mut(id.index, id.generation) {
            Some(c) if c.owner == Owner::App => Ok(c),
            _ => Err(Error::InvalidHandle),
        }
    }

    /// SEND (§3.10.2): queue bytes; returns how many fit in the send buffer.
    pub fn send(&mut self, now: Instant, conn: ConnId, data: &[u8]) -> Result<usize, Error> {
        let n = self.with_app_conn(now, conn, |c, ctx| c.send(ctx, data))??;
        Ok(n)
    }

    /// SEND with the urgent flag (§3.10.2, §3.8.5): like [`Endpoint::send`], and the end
    /// of what was queued becomes the urgent pointer the peer is shown (SND.UP) until
    /// it has acknowledged that far. The data itself stays in line (RFC 6093); new
    /// applications should not use this (SHLD-13), it exists for old protocols such as
    /// Telnet.
    pub fn send_urgent(&mut self, now: Instant, conn: ConnId, data: &[u8]) -> Result<usize, Error> {
        self.with_app_conn(now, conn, |c, ctx| c.send_urgent(ctx, data))?
    }

    /// How many bytes must still be read to reach the end of the peer's urgent data, or
    /// `None` when none is pending (MUST-33). An [`Event::Urgent`] announces each new
    /// or advanced urgent pointer (MUST-32).
    pub fn urgent_remaining(&mut self, conn: ConnId) -> Result<Option<usize>, Error> {
        Ok(self.app_conn(conn)?.urgent_remaining())
    }

    /// Run `f` on the application's connection `conn` with a context, then settle it
    /// (free, move between queues, queue for sending, reschedule its timer).
    fn with_app_conn<R>(
        &mut self,
        now: Instant,
        conn: ConnId,
        f: impl FnOnce(&mut Connection, &mut Ctx<'_>) -> R,
    ) -> Result<R, Error> {
        let c = match self.conns.get_mut(conn.index, conn.generation) {
            Some(c) if c.owner == Owner::App => c,
            _ => return Err(Error::InvalidHandle),
        };
        let mut ctx = Ctx {
            now,
            config: &self.config,
            out: &mut self.out,
        };
        let r = f(c, &mut ctx);
        self.settle(now, conn.index);
        Ok(r)
    }

    /// RECEIVE (§3.10.3): copy received bytes out. `Ok(0)` means the peer closed and
    /// everything has been read; `Err(WouldBlock)` means nothing yet.
    pub fn recv(&mut self, now: Instant, conn: ConnId, buf: &mut [u8]) -> Result<usize, Error> {
        self.with_app_conn(now, conn, |c, ctx| c.recv(ctx, buf))?
    }

    /// RECEIVE without a copy: `f` is lent the received bytes that lie in one piece of
    /// the receive buffer (all that are readable, or up to where the buffer wraps:
    /// call again for the rest) and returns how many it took; those are gone, and the
    /// window opens as after [`Endpoint::recv`]. A count above what `f` was lent counts
    /// as all of it, never more. Returns how many were taken. As with
    /// `recv`, `Ok(0)` without `f` being called means the peer closed and everything
    /// has been read, and `Err(WouldBlock)` nothing yet; `f` is called only when at
    /// least one byte is readable.
    ///
    /// ```
    /// # use synack::{Config, Endpoint, Error, Instant};
    /// # let mut ep = Endpoint::new(Config::default(), [0; 16]);
    /// # ep.add_address("198.18.0.1".parse().unwrap());
    /// # let now = Instant::ZERO;
    /// # let conn = ep
    /// #     .connect(now, "198.18.0.1:0".parse().unwrap(), "198.18.0.2:80".parse().unwrap())
    /// #     .unwrap();
    /// // Count the bytes without copying them out (nothing has arrived yet here).
    /// let mut seen = 0;
    /// let r = ep.recv_with(now, conn, |bytes| {
    ///     seen += bytes.len();
    ///     bytes.len()
    /// });
    /// assert_eq!(r, Err(Error::WouldBlock));
    /// ```
    pub fn recv_with(
        &mut self,
        now: Instant,
        conn: ConnId,
        f: impl FnOnce(&[u8]) -> usize,
    ) -> Result<usize, Error> {
        self.with_app_conn(now, conn, |c, ctx| c.recv_with(ctx, f))?
    }

    /// Half-close (RFC 9293 CLOSE, §3.10.4): send a FIN after queued data; reading goes on.
    pub fn shutdown(&mut self, now: Instant, conn: ConnId) -> Result<(), Error> {
        self.with_app_conn(now, conn, |c, ctx| c.shutdown(ctx))?
    }

    /// Full close: like `shutdown`, and the application gives up the handle. Unread data,
    /// or data arriving later, makes the endpoint send a RST instead (SHLD-3).
    pub fn close(&mut self, now: Instant, conn: ConnId) -> Result<(), Error> {
        self.with_app_conn(now, conn, |c, ctx| c.close(ctx))?
    }

    /// ABORT (§3.10.5): send a RST if synchronized, drop everything, free the handle.
    pub fn abort(&mut self, now: Instant, conn: ConnId) -> Result<(), Error> {
        self.with_app_conn(now, conn, |c, ctx| {
            c.owner = Owner::Released;
            c.abort(ctx);
        })
    }

    /// Turn Nagle's algorithm off (`true`) or on (MUST-17).
    pub fn set_nodelay(&mut self, conn: ConnId, nodelay: bool) -> Result<(), Error> {
        self.app_conn(conn)?.nodelay = nodelay;
        if !self
            .conns
            .get(conn.index, conn.generation)
            .is_some_and(|c| c.tx_queued)
        {
            self.queue_tx(conn.index);
        }
        Ok(())
    }

    /// Set R2 for this connection (MUST-21): retransmission goes on this long before the
    /// connection is declared dead.
    pub fn set_user_timeout(&mut self, conn: ConnId, r2: Duration) -> Result<(), Error> {
        self.app_conn(conn)?.r2 = r2;
        Ok(())
    }

    /// Switch keep-alive on (with these parameters) or off for this connection (MUST-24).
    pub fn set_keepalive(
        &mut self,
        now: Instant,
        conn: ConnId,
        keepalive: Option<crate::Keepalive>,
    ) -> Result<(), Error> {
        self.app_conn(conn)?.set_keepalive(now, keepalive);
        self.settle(now, conn.index);
        Ok(())
    }

    /// The connection's state, or `None` for a stale handle.
    pub fn state(&self, conn: ConnId) -> Option<State> {
        self.conns.get(conn.index, conn.generation).map(|c| c.state)
    }

    /// The state of whatever this endpoint holds for a 4-tuple (connection or TIME-WAIT).
    pub fn state_of(&self, tuple: FourTuple) -> Option<State> {
        match self.demux.get(&tuple)? {
            Holder::Conn(i) => self.conns.get_any(i).map(|c| c.state),
            Holder::TimeWait(_) => Some(State::TimeWait),
        }
    }

    /// The connection's 4-tuple.
    pub fn tuple(&self, conn: ConnId) -> Option<FourTuple> {
        self.conns.get(conn.index, conn.generation).map(|c| c.tuple)
    }

    /// Why the connection closed, once it has.
    pub fn close_reason(&self, conn: ConnId) -> Option<CloseReason> {
        self.conns
            .get(conn.index, conn.generation)
            .and_then(|c| c.close_reason)
    }

    /// Bytes waiting to be read on this connection.
    pub fn readable_bytes(&self, conn: ConnId) -> usize {
        self.conns
            .get(conn.index, conn.generation)
            .map_or(0, |c| c.recv_buf.readable())
    }

    /// Free space in this connection's send buffer.
    pub fn send_capacity(&self, conn: ConnId) -> usize {
        self.conns
            .get(conn.index, conn.generation)
            .filter(|c| c.state.can_send() && !c.fin_queued)
            .map_or(0, |c| c.send_buf.free())
    }

    /// The random offset of a connection's timestamp clock (RFC 7323 §7.1): a keyed
    /// hash of the 4-tuple, so timestamps reveal no uptime and increase across
    /// incarnations of the same 4-tuple ([`crate::isn::IsnGenerator::ts_offset`]).
    fn ts_offset(&self, tuple: FourTuple) -> u32 {
        self.isn.ts_offset(tuple.local, tuple.remote)
    }

    /// A `TCP_INFO`-like snapshot of the connection: state, RTT estimates, windows,
    /// negotiated options and counters. `None` for a stale handle.
    pub fn stats(&self, conn: ConnId) -> Option<crate::ConnStats> {
        self.conns
            .get(conn.index, conn.generation)
            .map(|c| c.stats())
    }

    /// Choose this connection's congestion controller (the default comes from
    /// [`Config::congestion_control`]); the window carries over.
    pub fn set_congestion_control(
        &mut self,
        conn: ConnId,
        algorithm: crate::CongestionAlgorithm,
    ) -> Result<(), Error> {
        self.app_conn(conn)?.set_congestion_control(algorithm);
        Ok(())
    }

    /// Segments this connection has retransmitted.
    pub fn retransmissions(&self, conn: ConnId) -> u64 {
        self.conns
            .get(conn.index, conn.generation)
            .map_or(0, |c| c.retransmitted_segments)
    }

    /// Next application event.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.events.pop_front()
    }

    // ---- The network side ----

    /// Process one arriving IP datagram.
    pub fn handle(&mut self, now: Instant, packet: &[u8]) {
        // Borrowed where it was returned: moving the parsed header out of the `Result`
        // copied it with wider loads than it was written with, which stalls.
        let parsed = synack_wire::parse_packet_unchecked(packet);
        let Ok(unchecked) = &parsed else {
            // Not a TCP segment: an ICMP error about one of ours (MUST-54), or nothing.
            if let Some(err) = crate::icmp::parse(packet) {
                self.handle_icmp(now, &err);
            }
            return; // MUST-3: a malformed header is dropped silently
        };
        let pkt = &unchecked.packet;
        if !self.addrs.accepts(pkt.dst) {
            return;
        }
        // MUST-57, MUST-63 (§3.9.2.3): nothing from an invalid source address, nothing
        // to a broadcast or multicast one.
        if pkt.src.is_unspecified()
            || pkt.src.is_multicast()
            || is_limited_broadcast(pkt.src)
            || pkt.dst.is_multicast()
            || is_limited_broadcast(pkt.dst)
        {
            return;
        }
        let tuple = FourTuple {
            local: SocketAddr::new(pkt.dst, pkt.tcp.dst_port),
            remote: SocketAddr::new(pkt.src, pkt.tcp.src_port),
        };
        let seg = Segment::new(&pkt.tcp, pkt.payload);
        // One lookup finds a connection or a TIME-WAIT record.
        let holder = self.demux.get(&tuple);
        // MUST-3: a segment whose checksum is wrong is dropped silently, before anything
        // acts on it. A connection's next data in order is summed as it is copied into
        // the receive buffer, where it waits, not yet readable (`stage_text`): one pass
        // over the payload instead of a sum and then a copy.
        let staged = if pkt.payload.is_empty() {
            if !unchecked.checksum_ok_with(0) {
                return;
            }
            None
        } else {
            match self.verify_payload(holder, unchecked) {
                Ok(staged) => staged,
                Err(()) => return,
            }
        };
        // Built only where it is used: on the connection's path only when tracing.
        let summary = || SegmentSummary::new(&pkt.tcp, pkt.payload.len());
        if let Some(Holder::Conn(index)) = holder {
            self.out
                .trace_with(now, tuple, || TraceKind::Received { seg: summary() });
            self.out.staged = staged;
            self.deliver(now, index, &seg);
            self.out.staged = None;
        } else if let Some(Holder::TimeWait(index)) = holder {
            let summary = summary();
            self.out
                .trace(now, tuple, TraceKind::Received { seg: summary });
            self.time_wait_segment(now, index, tuple, &seg, summary);
        } else if let Some(index) = self.find_listener(tuple.local) {
            self.listen_segment(now, index, tuple, &seg, summary());
        } else {
            self.out.trace(
                now,
                tuple,
                TraceKind::Dropped {
                    seg: Some(summary()),
                    reason: DropReason::NotOurs,
                },
            );
            self.reset_for_closed(tuple, &seg);
        }
    }

    /// The checksum of a segment that carries data (MUST-3), its payload copied into
    /// the connection's receive buffer in the same pass when it is the next data in
    /// order ([`Connection::stage_text`]): `Ok` with where the copy went, if it was
    /// made; `Err` when the checksum is wrong. Out of line: the segments of a
    /// connection's opening and closing carry no data.
    #[inline(never)]
    fn verify_payload(
        &mut self,
        holder: Option<Holder>,
        unchecked: &synack_wire::UncheckedPacket<'_>,
    ) -> Result<Option<Staged>, ()> {
        let pkt = &unchecked.packet;
        let staging = match holder {
            Some(Holder::Conn(index)) => self
                .conns
                .get_any_mut(index)
                .and_then(|c| c.stage_text(SeqNum(pkt.tcp.seq), pkt.payload)),
            _ => None,
        };
        match staging {
            Some((sum, token)) if unchecked.checksum_ok_with(sum) => Ok(Some(token)),
            None if unchecked.checksum_ok() => Ok(None),
            _ => Err(()),
        }
    }

    /// An ICMP error quoting one of our segments goes to the connection that sent it
    /// (MUST-54, §3.9.2.2; see [`crate::icmp`]). The error must be addressed to us, and
    /// the quoted segment must come from us.
    fn handle_icmp(&mut self, now: Instant, err: &crate::icmp::IcmpError) {
        if !self.addrs.accepts(err.dst)
            || err.tuple.local.ip() != err.dst
            || err.src.is_multicast()
            || is_limited_broadcast(err.src)
        {
            return;
        }
        let Some(Holder::Conn(index)) = self.demux.get(&err.tuple) else {
            return;
        };
        let Some(c) = self.conns.get_any_mut(index) else {
            return;
        };
        let mut ctx = Ctx {
            now,
            config: &self.config,
            out: &mut self.out,
        };
        c.on_icmp_error(&mut ctx, err);
        self.settle(now, index);
    }

    fn find_listener(&self, local: SocketAddr) -> Option<u32> {
        self.listen_by_addr.find(local)
    }

    /// A segment for a connection's 4-tuple. Inline: every segment of an open
    /// connection comes this way from `handle`, and the call's entry and exit showed in
    /// a connection cycle's profile (crates/bench/README.md).
    #[inline(always)]
    fn deliver(&mut self, now: Instant, index: u32, seg: &Segment<'_>) {
        let Some(c) = self.conns.get_any_mut(index) else {
            return;
        };
        let mut can_establish = true;
        if let crate::connection::Origin::Passive {
            listener,
            generation,
        } = c.origin
        {
            if c.state == State::SynReceived {
                match self.listeners.get(listener, generation) {
                    Some(l) => can_establish = l.can_accept_more(),
                    None => {
                        // The listener went away: this half-open connection has no home.
                        let mut ctx = Ctx {
                            now,
                            config: &self.config,
                            out: &mut self.out,
                        };
                        c.owner = Owner::Released;
                        if seg.flags.rst() {
                            // A RST is never answered with a RST (§3.10.7.4): just forget it.
                            c.terminate(&mut ctx, CloseReason::Reset);
                        } else {
                            c.abort(&mut ctx);
                        }
                        self.settle(now, index);
                        return;
                    }
                }
            }
        }
        let mut ctx = Ctx {
            now,
            config: &self.config,
            out: &mut self.out,
        };
        c.on_segment(&mut ctx, seg, can_establish);
        self.settle(now, index);
    }

    /// A segment for a TIME-WAIT record.
    fn time_wait_segment(
        &mut self,
        now: Instant,
        index: u32,
        tuple: FourTuple,
        seg: &Segment<'_>,
        summary: SegmentSummary,
    ) {
        let Some(tw) = self.time_waits.get_any_mut(index) else {
            return;
        };
        let action = tw.on_segment(
            now,
            &self.config,
            &mut self.out,
            seg.seq,
            seg.flags,
            seg.payload.len(),
        );
        match action {
            TimeWaitAction::Keep => self.schedule_time_wait(index),
            TimeWaitAction::Close => self.remove_time_wait(now, index),
            TimeWaitAction::Reopen => {
                self.remove_time_wait(now, index);
                match self.find_listener(tuple.local) {
                    Some(l) => self.listen_segment(now, l, tuple, seg, summary),
                    None => self.reset_for_closed(tuple, seg),
                }
            }
        }
    }

    fn remove_time_wait(&mut self, now: Instant, index: u32) {
        if let Some(tw) = self.time_waits.remove(index) {
            self.demux.remove_if(tw.tuple, Holder::TimeWait(index));
            self.out
                .state_change(now, tw.tuple, State::TimeWait, State::Closed);
        }
    }

    /// §3.10.7.1: no TCB. A RST is dropped; anything else is answered with a RST that the
    /// sender will find acceptable.
    fn reset_for_closed(&mut self, tuple: FourTuple, seg: &Segment<'_>) {
        if seg.flags.rst() {
            return;
        }
        if seg.flags.ack() {
            self.reply(tuple, seg.ack, None, TcpFlags::RST);
        } else {
            let ack = seg.seq.add(seg.len());
            self.reply(tuple, SeqNum(0), Some(ack), TcpFlags::RST | TcpFlags::ACK);
        }
    }

    fn reply(&mut self, tuple: FourTuple, seq: SeqNum, ack: Option<SeqNum>, flags: TcpFlags) {
        let repr = TcpRepr {
            src_port: tuple.local.port(),
            dst_port: tuple.remote.port(),
            seq: seq.raw(),
            ack: ack.map_or(0, SeqNum::raw),
            flags,
            window: 0,
            urgent: 0,
            options: TcpOptions::default(),
        };
        self.out.reply(tuple, repr);
    }

    /// After anything touched connection `index`: free it if it is finished and nobody
    /// holds it, move it between its listener's queues, turn a released TIME-WAIT into a
    /// compact record, queue it for transmission and schedule its timer.
    fn settle(&mut self, now: Instant, index: u32) {
        let Some(c) = self.conns.get_any_mut(index) else {
            return;
        };
        // Under memory pressure drained buffers are freed at once, not after
        // BUFFER_LINGER.
        if self.out.memory_pressure(&self.config) {
            c.release_drained_buffers();
        }
        // Buffer memory accounting (Config::max_buffer_memory): O(1), by difference.
        let bytes = u32::try_from(c.buffer_bytes()).unwrap_or(u32::MAX);
        if bytes != c.mem_charged {
            let stats = &mut self.out.stats;
            stats.buffer_memory = stats
                .buffer_memory
                .saturating_sub(c.mem_charged as usize)
                .saturating_add(bytes as usize);
            stats.buffer_memory_peak = stats.buffer_memory_peak.max(stats.buffer_memory);
            c.mem_charged = bytes;
        }
        // Listener bookkeeping, for passive connections their listener still counts
        // (`listener_queue` is `None` for every other connection).
        let counted = c.listener_queue != ListenerQueue::None;
        if let (
            true,
            crate::connection::Origin::Passive {
                listener,
                generation,
            },
        ) = (counted, c.origin)
        {
            let leaving_syn =
                c.listener_queue == ListenerQueue::Syn && c.state != State::SynReceived;
            let dead = c.state == State::Closed;
            if leaving_syn || dead {
                if let Some(l) = self.listeners.get_mut(listener, generation) {
                    l.leave(c.listener_queue);
                    if leaving_syn && c.state != State::Closed && c.owner == Owner::Listener {
                        l.accept_queue.push_back(c.id);
                        l.accept_pending += 1;
                        c.listener_queue = ListenerQueue::Accept;
                        if !l.incoming_signalled {
                            l.incoming_signalled = true;
                            self.out.events.push_back(Event::Incoming(ListenerId {
                                index: listener,
                                generation,
                            }));
                        }
                    } else {
                        c.listener_queue = ListenerQueue::None;
                    }
                } else {
                    c.listener_queue = ListenerQueue::None;
                }
            }
        }
        if c.state == State::Closed {
            self.demux.remove_if(c.tuple, Holder::Conn(index));
            if c.owner != Owner::App && !c.tx_queued {
                self.remove_conn(index);
            }
            return;
        }
        if c.state == State::TimeWait && c.owner == Owner::Released {
            let tw = TimeWait {
                tuple: c.tuple,
                snd_nxt: c.snd_nxt.max(c.snd_max),
                rcv_nxt: c.rcv_nxt,
                expires: c.time_wait_until.unwrap_or(now + 2 * self.config.msl),
                timer_entry: None,
                // The window last offered, as the header carried it (RFC 9293 §3.8.6:
                // the right edge must not move left in the record's ACKs).
                window: {
                    let offered = c.rcv_adv.since(c.rcv_nxt);
                    let field = if c.wscale_ok {
                        offered >> c.rcv_wscale
                    } else {
                        offered
                    };
                    field.min(u32::from(u16::MAX)) as u16
                },
                ts: c.ts_ok.then_some((c.ts.offset, c.ts.recent)),
                challenge: c.challenge,
            };
            let ack_owed = c.ack_now;
            let tuple = c.tuple;
            if !c.tx_queued {
                self.remove_conn(index);
            } else {
                c.state = State::Closed; // freed when the ready queue reaches it
                c.close_reason = Some(CloseReason::Normal);
            }
            if ack_owed {
                tw.ack(now, &mut self.out);
            }
            if self.time_waits.len() >= self.config.max_time_wait {
                // The table is full (Config::max_time_wait): close without a record.
                self.out.stats.time_wait_overflows += 1;
                self.demux.remove_if(tuple, Holder::Conn(index));
                self.out
                    .state_change(now, tuple, State::TimeWait, State::Closed);
                return;
            }
            let (twi, _) = self.time_waits.insert(tw);
            // The record takes the connection's place in the map (one hash).
            self.demux.insert(tuple, Holder::TimeWait(twi));
            self.schedule_time_wait(twi);
            return;
        }
        if !c.tx_queued {
            if c.may_send() {
                c.tx_queued = true;
                self.ready.push_back(index);
            } else {
                // The poll would find nothing and only update the persist timer
                // (`Connection::may_send`); debug builds run that poll to check.
                #[cfg(debug_assertions)]
                {
                    let mut ctx = Ctx {
                        now,
                        config: &self.config,
                        out: &mut self.out,
                    };
                    let out = c.poll_segment(&mut ctx, MAX_SEGMENT_PAYLOAD);
                    assert!(
                        out.is_none(),
                        "may_send said no to a connection with a segment to send"
                    );
                }
                #[cfg(not(debug_assertions))]
                c.update_persist(now);
            }
        }
        c.arm_buffer_release(now);
        schedule_timer(&mut self.timers, c, index);
    }

    /// Free a connection's slot, and its buffers from the memory count.
    fn remove_conn(&mut self, index: u32) {
        if let Some(c) = self.conns.get_any(index) {
            let stats = &mut self.out.stats;
            stats.buffer_memory = stats.buffer_memory.saturating_sub(c.mem_charged as usize);
        }
        // Dropped in place: a TCB is large, and moving it out costs a copy.
        self.conns.free(index);
    }

    /// Keep one timer-queue entry per connection at (or before) its earliest deadline
    /// ([`schedule_timer`]).
    fn schedule_conn_timer(&mut self, index: u32) {
        if let Some(c) = self.conns.get_any_mut(index) {
            schedule_timer(&mut self.timers, c, index);
        }
    }

    fn queue_tx(&mut self, index: u32) {
        if let Some(c) = self.conns.get_any_mut(index) {
            if !c.tx_queued {
                c.tx_queued = true;
                self.ready.push_back(index);
            }
        }
    }

    fn schedule_time_wait(&mut self, index: u32) {
        let generation = self.time_waits.generation_of(index);
        if let Some(tw) = self.time_waits.get_any_mut(index) {
            if tw.timer_entry.is_none_or(|e| tw.expires < e) {
                tw.timer_entry = Some(tw.expires);
                self.timers
                    .schedule(tw.expires, TimerKey::TimeWait(index, generation));
            }
        }
    }

    /// Write the next datagram to send into `buf` (which should hold an MTU); returns its
    /// length, or `None` when there is nothing to send now.
    #[inline]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        // Callers poll until `None`: that last call, the commonest, costs two loads
        // here rather than the whole function's entry and exit.
        if self.out.replies.is_empty() && self.ready.is_empty() {
            return None;
        }
        self.transmit_next(now, buf)
    }

    /// [`Endpoint::poll_transmit`] when a reply or a connection is queued.
    fn transmit_next(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        while let Some(r) = self.out.replies.pop_front() {
            let hop = self.config.hop_limit;
            // A reply carries no payload (its sum is 0). It goes through the same
            // emitter as connections' segments, so that a connection's life runs one
            // copy of the emitting code, not two (see crates/bench/README.md on the
            // instruction cache).
            if let Ok(n) = synack_wire::emit_packet_in_place_summed(
                buf,
                r.tuple.local.ip(),
                r.tuple.remote.ip(),
                hop,
                &r.repr,
                0,
                0,
            ) {
                let seg = SegmentSummary::new(&r.repr, 0);
                self.out.trace(
                    now,
                    r.tuple,
                    TraceKind::Sent {
                        seg,
                        retransmission: false,
                    },
                );
                return Some(n);
            }
        }
        while let Some(index) = self.ready.pop_front() {
            let Some(c) = self.conns.get_any_mut(index) else {
                continue;
            };
            c.tx_queued = false;
            let ipv6 = c.tuple.local.is_ipv6();
            let ip_header = if ipv6 { 40 } else { 20 };
            let avail = buf.len().saturating_sub(ip_header);
            // Options and data together never exceed the send MSS plus the timestamps
            // option (MUST-16, `fit_options`), so a buffer with room for that takes a
            // full-sized segment; a smaller one keeps room for the largest header.
            let ts = if c.ts_ok {
                crate::connection::TIMESTAMPS_OPTION_LEN
            } else {
                0
            };
            let full = usize::from(c.smss) + usize::from(ts);
            let room = if avail >= 20 + full {
                avail - 20 - usize::from(ts)
            } else {
                avail.saturating_sub(60)
            }
            .min(MAX_SEGMENT_PAYLOAD);
            let mut ctx = Ctx {
                now,
                config: &self.config,
                out: &mut self.out,
            };
            let out = c.poll_segment(&mut ctx, room);
            if let Some(out) = out {
                // The addresses only: the whole tuple (two socket addresses, 64 bytes)
                // is copied only when tracing.
                let (src, dst) = (c.tuple.local.ip(), c.tuple.remote.ip());
                let repr = &self.out.header;
                // The payload goes from the send buffer straight to its place in the
                // datagram; the headers are written around it.
                let at = synack_wire::payload_offset(ipv6, repr);
                let emitted = match buf.get_mut(at..at + out.len) {
                    Some(payload) => {
                        let sum = if out.len == 0 {
                            0
                        } else {
                            c.send_buf.peek_summed(out.data_offset, payload).1
                        };
                        synack_wire::emit_packet_in_place_summed(
                            buf,
                            src,
                            dst,
                            self.config.hop_limit,
                            repr,
                            out.len,
                            sum,
                        )
                    }
                    None => Err(synack_wire::WireError::BufferTooSmall),
                };
                if self.out.tracing() {
                    let kind = TraceKind::Sent {
                        seg: SegmentSummary::new(&self.out.header, out.len),
                        retransmission: out.retransmission,
                    };
                    self.out.trace(now, c.tuple, kind);
                }
                self.settle(now, index);
                if let Ok(n) = emitted {
                    return Some(n);
                }
            } else if c.state == State::Closed && c.owner != Owner::App {
                self.remove_conn(index);
            } else {
                // Nothing more to send now; the persist timer may have been armed.
                self.schedule_conn_timer(index);
            }
        }
        None
    }

    /// When [`Endpoint::handle_timeout`] must next be called, if ever. It may be early
    /// (a timer that was pushed back); calling `handle_timeout` then is harmless.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Run every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, key)) = self.timers.pop_due(now) {
            match key {
                TimerKey::Conn(index, generation) => {
                    let Some(c) = self.conns.get_mut(index, generation) else {
                        continue;
                    };
                    if c.timer_entry != at {
                        continue; // stale entry (lazy deletion)
                    }
                    c.timer_entry = Instant::FAR_FUTURE;
                    let mut ctx = Ctx {
                        now,
                        config: &self.config,
                        out: &mut self.out,
                    };
                    c.on_timeout(&mut ctx);
                    self.settle(now, index);
                }
                TimerKey::TimeWait(index, generation) => {
                    if self.time_waits.generation_of(index) != generation {
                        continue;
                    }
                    let Some(tw) = self.time_waits.get_any_mut(index) else {
                        continue;
                    };
                    if tw.timer_entry != Some(at) {
                        continue;
                    }
                    tw.timer_entry = None;
                    if tw.expires <= now {
                        self.remove_time_wait(now, index);
                    } else {
                        self.schedule_time_wait(index);
                    }
                }
            }
        }
    }

    /// Number of connections (not counting TIME-WAIT records).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Number of TIME-WAIT records.
    pub fn time_wait_count(&self) -> usize {
        self.time_waits.len()
    }

    /// What the endpoint's defences and limits have done (SYN cookies, challenge ACKs,
    /// drops at each limit) and how much memory it holds. O(1).
    pub fn endpoint_stats(&self) -> crate::EndpointStats {
        let mut s = self.out.stats;
        s.connections = self.conns.len();
        s.time_wait_records = self.time_waits.len();
        s.memory_estimate = self.conns.slots() * core::mem::size_of::<Connection>()
            + self.time_waits.slots() * core::mem::size_of::<TimeWait>()
            + self.listeners.slots() * core::mem::size_of::<Listener>()
            + self.demux.table_bytes()
            + self.out.replies.capacity() * core::mem::size_of::<crate::outbox::Reply>()
            + self.ready.capacity() * 4
            + self.timers.len() * 32
            + self.out.tx_pool.heap_bytes()
            + s.buffer_memory;
        s
    }
}

/// 255.255.255.255, the IPv4 limited broadcast address (RFC 919). Directed broadcasts
/// depend on subnet masks the endpoint does not know; they are not our addresses
/// either, and `add_address` filters them out.
fn is_limited_broadcast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

/// Keep one timer-queue entry for connection `c` (at slab `index`) at (or before) its
/// earliest deadline. The deadline is recomputed only when a timer was armed since the
/// last time (`Connection::earliest_armed`): most events push timers later, not
/// earlier.
#[inline]
fn schedule_timer(timers: &mut TimerQueue<TimerKey>, c: &mut Connection, index: u32) {
    let entry = c.timer_entry;
    if entry != Instant::FAR_FUTURE && !c.deadline_may_precede(entry) {
        debug_assert!(
            c.next_deadline().is_none_or(|d| d >= entry),
            "a timer was armed without Connection::arm"
        );
        return;
    }
    reschedule_timer(timers, c, index);
}

/// [`schedule_timer`] when a timer was armed since the last look: recompute the
/// earliest deadline and queue an entry if it moved earlier.
fn reschedule_timer(timers: &mut TimerQueue<TimerKey>, c: &mut Connection, index: u32) {
    c.earliest_armed = Instant::FAR_FUTURE;
    if let Some(d) = c.next_deadline() {
        if d < c.timer_entry {
            c.timer_entry = d;
            timers.schedule(d, TimerKey::Conn(index, c.id.generation));
        }
    }
}
