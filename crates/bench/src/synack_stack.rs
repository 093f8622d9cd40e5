//! synack driven back to back: two [`Endpoint`]s in one thread, every datagram emitted
//! by one (checksums computed) handed straight to the other's `handle` (checksums
//! verified), on a virtual clock.

use crate::{BulkRun, CycleRun, MIB};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use synack::{Config, ConnId, Endpoint, Instant, ListenerId};

const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
/// Client addresses: enough that a million connections fit the ephemeral port range.
const CLIENT_ADDRS: u8 = 32;

fn client_ip(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        198,
        18,
        1,
        1 + (i % u32::from(CLIENT_ADDRS)) as u8,
    ))
}

/// Two endpoints and the one datagram buffer between them.
pub struct Pair {
    /// The virtual clock.
    pub now: Instant,
    /// The active opener.
    pub client: Endpoint,
    /// The passive side.
    pub server: Endpoint,
    buf: Vec<u8>,
    /// Datagrams moved so far, both ways.
    pub datagrams: u64,
}

impl Pair {
    /// Two endpoints with `config`; the datagram buffer holds one MTU.
    pub fn new(config: Config) -> Pair {
        let mtu = usize::from(config.mtu);
        let mut client = Endpoint::new(config.clone(), [1; 16]);
        let mut server = Endpoint::new(config, [2; 16]);
        for i in 0..u32::from(CLIENT_ADDRS) {
            client.add_address(client_ip(i));
        }
        server.add_address(SERVER_IP);
        Pair {
            now: Instant::from_millis(1),
            client,
            server,
            buf: vec![0; mtu],
            datagrams: 0,
        }
    }

    /// Default endpoints with every port from 1024 up ephemeral, so that a million
    /// connections fit the client's 32 addresses.
    pub fn many_ports() -> Pair {
        Pair::new(Config {
            ephemeral_ports: 1024..=65535,
            ..Config::default()
        })
    }

    /// Client to server until the client has nothing more to send; true if anything moved.
    pub fn client_to_server(&mut self) -> bool {
        carry(
            self.now,
            &mut self.client,
            &mut self.server,
            &mut self.buf,
            &mut self.datagrams,
        )
    }

    /// Server to client until the server has nothing more to send; true if anything moved.
    pub fn server_to_client(&mut self) -> bool {
        carry(
            self.now,
            &mut self.server,
            &mut self.client,
            &mut self.buf,
            &mut self.datagrams,
        )
    }

    /// Move datagrams both ways until neither side has anything to send; application
    /// events are read and dropped (as an application that polls handles would).
    pub fn pump(&mut self) {
        while self.client_to_server() | self.server_to_client() {}
        while self.client.poll_event().is_some() {}
        while self.server.poll_event().is_some() {}
    }

    /// Run the timers of both endpoints that are due.
    pub fn timers(&mut self) {
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
    }

    /// Connect from `local` (port 0: ephemeral) to the listener and accept.
    pub fn open(
        &mut self,
        l: ListenerId,
        local: SocketAddr,
        port: u16,
    ) -> Option<(ConnId, ConnId)> {
        let c = self
            .client
            .connect(self.now, local, SocketAddr::new(SERVER_IP, port))
            .ok()?;
        self.pump();
        let s = self.server.accept(l).ok()?;
        Some((c, s))
    }
}

/// Every datagram `from` has to send, handed to `to` through `buf`, counted in
/// `datagrams`; true if anything moved.
fn carry(
    now: Instant,
    from: &mut Endpoint,
    to: &mut Endpoint,
    buf: &mut [u8],
    datagrams: &mut u64,
) -> bool {
    let mut moved = false;
    while let Some(n) = from.poll_transmit(now, buf) {
        to.handle(now, &buf[..n]);
        *datagrams += 1;
        moved = true;
    }
    moved
}

/// `total` bytes from client to server at `mtu` with 1 MiB buffers (CUBIC, SACK,
/// timestamps and window scaling on: the defaults). The receiving application copies
/// the bytes out into its own buffer (`recv`); with `in_place`, it is lent them in the
/// receive buffer and only counts them (`recv_with`), as [`crate::smol::bulk`] does
/// with smoltcp's closure-based `recv`.
pub fn bulk(mtu: u16, total: u64, in_place: bool) -> BulkRun {
    let config = Config {
        mtu,
        send_buffer: MIB,
        send_buffer_max: MIB,
        recv_buffer: MIB,
        recv_buffer_max: MIB,
        ..Config::default()
    };
    let mut p = Pair::new(config);
    let l = p
        .server
        .listen(SocketAddr::new(SERVER_IP, 80), 16)
        .expect("listen");
    let (c, s) = p
        .open(l, SocketAddr::new(client_ip(0), 0), 80)
        .expect("handshake");
    let data = crate::pattern_block();
    let mut rbuf = vec![0u8; 256 * 1024];
    let (mut sent, mut received) = (0u64, 0u64);
    p.datagrams = 0;
    let start = std::time::Instant::now();
    while received < total {
        while sent < total {
            let want = (total - sent).min(data.len() as u64) as usize;
            match p.client.send(p.now, c, &data[..want]) {
                Ok(n) if n > 0 => sent += n as u64,
                _ => break,
            }
        }
        let mut moved = p.client_to_server();
        loop {
            let r = if in_place {
                p.server.recv_with(p.now, s, <[u8]>::len)
            } else {
                p.server.recv(p.now, s, &mut rbuf)
            };
            match r {
                Ok(n) if n > 0 => received += n as u64,
                _ => break,
            }
        }
        moved |= p.server_to_client();
        while p.client.poll_event().is_some() {}
        while p.server.poll_event().is_some() {}
        if !moved {
            // Nothing to move: jump the clock to the next timer (a delayed ACK, say).
            let next = [p.client.poll_timeout(), p.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) => p.now = p.now.max(t),
                None => break,
            }
        }
        p.now = p.now + Duration::from_micros(1);
        p.timers();
    }
    BulkRun {
        bytes: received,
        secs: start.elapsed().as_secs_f64(),
        datagrams: p.datagrams,
    }
}

/// Connection cycles with idle established connections present: for each `(idle,
/// cycles)` in `plan` (idle rising), open idle connections up to `idle`, then time
/// `cycles` sequential cycles of connect, accept, four-way close and TIME-WAIT expiry.
pub fn cycles(plan: &[(usize, u32)]) -> Vec<CycleRun> {
    crate::cycles_rising(&mut Cycles::new(), plan)
}

/// Two endpoints set up for connection cycles: a listener for the cycles' connections
/// and one for the idle connections, which [`Cycles::grow_idle`] opens.
pub struct Cycles {
    p: Pair,
    l: ListenerId,
    idle_l: ListenerId,
    idle: usize,
}

impl Cycles {
    /// The two endpoints and their listeners, with no connection yet.
    pub fn new() -> Cycles {
        let mut p = Pair::many_ports();
        let l = p
            .server
            .listen(SocketAddr::new(SERVER_IP, 80), 1 << 20)
            .expect("listen");
        let idle_l = p
            .server
            .listen(SocketAddr::new(SERVER_IP, 81), 1 << 20)
            .expect("listen");
        Cycles {
            p,
            l,
            idle_l,
            idle: 0,
        }
    }
}

impl crate::CycleBench for Cycles {
    fn idle(&self) -> usize {
        self.idle
    }

    fn grow_idle(&mut self, idle: usize) {
        while self.idle < idle {
            self.p
                .open(
                    self.idle_l,
                    SocketAddr::new(client_ip(self.idle as u32), 0),
                    81,
                )
                .expect("idle connection");
            self.idle += 1;
        }
    }

    fn run(&mut self, n: u32) {
        run_cycles(&mut self.p, self.l, n);
    }
}

impl Default for Cycles {
    fn default() -> Self {
        Cycles::new()
    }
}

fn run_cycles(p: &mut Pair, l: ListenerId, n: u32) {
    for i in 0..n {
        let (c, s) = p
            .open(l, SocketAddr::new(client_ip(i), 0), 80)
            .expect("cycle handshake");
        p.client.close(p.now, c).expect("close");
        p.pump();
        p.server.close(p.now, s).expect("close");
        p.pump();
        // TIME-WAIT (2 MSL = 60 s) expires on the virtual clock.
        p.now = p.now + Duration::from_secs(61);
        p.timers();
    }
}

/// Heap bytes per idle established connection, counted by the global allocator:
/// `(client end, server end)` with `conns` connections open (default configuration).
pub fn memory(conns: usize) -> (f64, f64) {
    let mut p = Pair::many_ports();
    let l = p
        .server
        .listen(SocketAddr::new(SERVER_IP, 80), conns)
        .expect("listen");
    let before = crate::alloc::live_bytes();
    for i in 0..conns {
        p.open(l, SocketAddr::new(client_ip(i as u32), 0), 80)
            .expect("idle connection");
    }
    assert_eq!(p.server.connection_count(), conns);
    let both = crate::alloc::live_bytes() - before;
    // Drop the client to learn its share; the server's is the rest.
    let with_client = crate::alloc::live_bytes();
    let Pair { client, server, .. } = p;
    drop(client);
    let client_bytes = with_client - crate::alloc::live_bytes();
    drop(server);
    let server_bytes = both.saturating_sub(client_bytes);
    (
        client_bytes as f64 / conns as f64,
        server_bytes as f64 / conns as f64,
    )
}
