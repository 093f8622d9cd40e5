//! smoltcp driven the same way: two `Interface`s, each with its own `SocketSet`, joined
//! by an in-memory link (a `phy::Device` written here), on a virtual clock. Checksums
//! are left at smoltcp's default (computed on transmit, verified on receive).

use crate::{BulkRun, CycleRun, MIB};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp::{self, CongestionControl, State};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

const CLIENT_IP: IpAddress = IpAddress::v4(198, 18, 0, 1);
const SERVER_IP: IpAddress = IpAddress::v4(198, 18, 0, 2);

/// A queue of datagrams: (buffer of MTU size, length used).
type Queue = VecDeque<(Vec<u8>, usize)>;

/// The in-memory link: one queue per direction and a pool of MTU-sized buffers, so the
/// link itself allocates nothing per datagram once warm.
struct Link {
    to_server: Queue,
    to_client: Queue,
    pool: RefCell<Vec<Vec<u8>>>,
    mtu: usize,
    /// Datagrams transmitted so far, both ways.
    count: Cell<u64>,
}

/// One side's view of the link: a `phy::Device`.
struct Port<'a> {
    rx: &'a mut Queue,
    count: &'a Cell<u64>,
    tx: &'a mut Queue,
    pool: &'a RefCell<Vec<Vec<u8>>>,
    mtu: usize,
}

struct Rx<'a> {
    buf: Vec<u8>,
    len: usize,
    pool: &'a RefCell<Vec<Vec<u8>>>,
}

struct Tx<'a> {
    tx: &'a mut Queue,
    count: &'a Cell<u64>,
    pool: &'a RefCell<Vec<Vec<u8>>>,
    mtu: usize,
}

impl RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.buf[..self.len]);
        self.pool.borrow_mut().push(self.buf);
        r
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self
            .pool
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| vec![0; self.mtu]);
        if buf.len() < len {
            buf.resize(len, 0);
        }
        let r = f(&mut buf[..len]);
        self.tx.push_back((buf, len));
        self.count.set(self.count.get() + 1);
        r
    }
}

impl Device for Port<'_> {
    type RxToken<'b>
        = Rx<'b>
    where
        Self: 'b;
    type TxToken<'b>
        = Tx<'b>
    where
        Self: 'b;

    fn receive(&mut self, _: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        let (buf, len) = self.rx.pop_front()?;
        Some((
            Rx {
                buf,
                len,
                pool: self.pool,
            },
            Tx {
                tx: self.tx,
                count: self.count,
                pool: self.pool,
                mtu: self.mtu,
            },
        ))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx {
            tx: self.tx,
            count: self.count,
            pool: self.pool,
            mtu: self.mtu,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        caps
    }
}

impl Link {
    fn client(&mut self) -> Port<'_> {
        Port {
            rx: &mut self.to_client,
            tx: &mut self.to_server,
            pool: &self.pool,
            count: &self.count,
            mtu: self.mtu,
        }
    }
    fn server(&mut self) -> Port<'_> {
        Port {
            rx: &mut self.to_server,
            tx: &mut self.to_client,
            pool: &self.pool,
            count: &self.count,
            mtu: self.mtu,
        }
    }
}

/// Two interfaces, their socket sets and the link.
pub struct Pair {
    now: Instant,
    link: Link,
    client: Interface,
    server: Interface,
    client_set: SocketSet<'static>,
    server_set: SocketSet<'static>,
}

fn socket(rx: usize, tx: usize) -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; rx]),
        tcp::SocketBuffer::new(vec![0; tx]),
    );
    s.set_congestion_control(CongestionControl::Cubic);
    s
}

impl Pair {
    fn new(mtu: usize) -> Pair {
        let mut link = Link {
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            pool: RefCell::new(Vec::new()),
            mtu,
            count: Cell::new(0),
        };
        let now = Instant::from_millis(1);
        let iface = |port: &mut Port<'_>, ip: IpAddress, seed: u64| {
            let mut config = Config::new(HardwareAddress::Ip);
            config.random_seed = seed;
            let mut iface = Interface::new(config, port, now);
            iface.update_ip_addrs(|a| {
                a.push(IpCidr::new(ip, 24)).expect("one address");
            });
            iface
        };
        let client = iface(&mut link.client(), CLIENT_IP, 1);
        let server = iface(&mut link.server(), SERVER_IP, 2);
        Pair {
            now,
            link,
            client,
            server,
            client_set: SocketSet::new(Vec::new()),
            server_set: SocketSet::new(Vec::new()),
        }
    }

    fn poll_client(&mut self) {
        self.client
            .poll(self.now, &mut self.link.client(), &mut self.client_set);
    }

    fn poll_server(&mut self) {
        self.server
            .poll(self.now, &mut self.link.server(), &mut self.server_set);
    }

    fn in_flight(&self) -> bool {
        !self.link.to_server.is_empty() || !self.link.to_client.is_empty()
    }

    /// Poll both interfaces until no datagram is in flight.
    fn pump(&mut self) {
        loop {
            self.poll_client();
            self.poll_server();
            if !self.in_flight() {
                break;
            }
        }
    }

    fn next_poll_at(&mut self) -> Option<Instant> {
        let a = self.client.poll_at(self.now, &self.client_set);
        let b = self.server.poll_at(self.now, &self.server_set);
        [a, b].into_iter().flatten().min()
    }

    fn client_sock(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.client_set.get_mut::<tcp::Socket>(h)
    }

    fn server_sock(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.server_set.get_mut::<tcp::Socket>(h)
    }

    /// Open `count` connections at once in scratch socket sets (so that building them
    /// costs O(count²), not O(total²), under smoltcp's linear socket scans), then move
    /// the established sockets into the interfaces' sets, where they stay idle.
    fn add_idle(&mut self, first: usize, count: usize, rx: usize, tx: usize) {
        let mut cset = SocketSet::new(Vec::new());
        let mut sset = SocketSet::new(Vec::new());
        let mut handles = Vec::with_capacity(count);
        for i in first..first + count {
            let port = 81 + (i / 60_000) as u16;
            let mut s = socket(rx, tx);
            s.listen(port).expect("listen");
            let sh = sset.add(s);
            let mut c = socket(rx, tx);
            c.connect(
                self.client.context(),
                (SERVER_IP, port),
                1024 + (i % 60_000) as u16,
            )
            .expect("connect");
            let ch = cset.add(c);
            handles.push((ch, sh));
        }
        loop {
            self.client
                .poll(self.now, &mut self.link.client(), &mut cset);
            self.server
                .poll(self.now, &mut self.link.server(), &mut sset);
            if !self.in_flight() {
                break;
            }
        }
        for (ch, sh) in handles {
            let c = cset.remove(ch);
            let s = sset.remove(sh);
            assert!(
                matches!(&c, smoltcp::socket::Socket::Tcp(t) if t.state() == State::Established)
            );
            assert!(
                matches!(&s, smoltcp::socket::Socket::Tcp(t) if t.state() == State::Established)
            );
            self.client_set.add(c);
            self.server_set.add(s);
        }
    }
}

/// `total` bytes from client to server at `mtu` with 1 MiB socket buffers, CUBIC. The
/// receiving application copies the bytes out (`recv_slice`); with `in_place`, it is
/// lent them by the closure-based `recv` and only counts them.
pub fn bulk(mtu: u16, total: u64, in_place: bool) -> BulkRun {
    let mut p = Pair::new(usize::from(mtu));
    let mut s = socket(MIB, MIB);
    s.listen(80).expect("listen");
    let sh = p.server_set.add(s);
    let mut c = socket(MIB, MIB);
    c.connect(p.client.context(), (SERVER_IP, 80), 40000)
        .expect("connect");
    let ch = p.client_set.add(c);
    while !(p.client_sock(ch).state() == State::Established
        && p.server_sock(sh).state() == State::Established)
    {
        p.pump();
    }
    let data = crate::pattern_block();
    let mut rbuf = vec![0u8; 256 * 1024];
    let (mut sent, mut received) = (0u64, 0u64);
    p.link.count.set(0);
    let start = std::time::Instant::now();
    while received < total {
        let mut moved = false;
        while sent < total {
            let want = (total - sent).min(data.len() as u64) as usize;
            match p.client_sock(ch).send_slice(&data[..want]) {
                Ok(n) if n > 0 => sent += n as u64,
                _ => break,
            }
        }
        p.poll_client();
        moved |= !p.link.to_server.is_empty();
        p.poll_server();
        loop {
            let sock = p.server_sock(sh);
            let r = if in_place {
                sock.recv(|bytes| (bytes.len(), bytes.len()))
            } else {
                sock.recv_slice(&mut rbuf)
            };
            match r {
                Ok(n) if n > 0 => {
                    received += n as u64;
                    moved = true;
                }
                _ => break,
            }
        }
        // Let the window update and ACKs out now rather than at the next round.
        p.poll_server();
        moved |= !p.link.to_client.is_empty();
        if !moved {
            match p.next_poll_at() {
                Some(t) => p.now = p.now.max(t),
                None => break,
            }
        }
        p.now += Duration::from_micros(1);
    }
    BulkRun {
        bytes: received,
        secs: start.elapsed().as_secs_f64(),
        datagrams: p.link.count.get(),
    }
}

/// Bytes of socket buffer each idle socket gets in the cycles benchmark (what they
/// hold does not change the scans being measured).
const IDLE_BUFFER: usize = 4096;

/// Connection cycles with idle established connections present, as
/// [`crate::synack_stack::cycles`]: connect, accept (the listening socket becomes the
/// connection; smoltcp has no backlog), four-way close, TIME-WAIT expiry on the virtual
/// clock, then the same two sockets are reused.
pub fn cycles(plan: &[(usize, u32)]) -> Vec<CycleRun> {
    crate::cycles_rising(&mut Cycles::new(), plan)
}

/// Two interfaces set up for connection cycles: one socket on each side for the
/// cycles, reused by each, and the idle connections [`Cycles::grow_idle`] adds.
pub struct Cycles {
    p: Pair,
    ch: SocketHandle,
    sh: SocketHandle,
    idle: usize,
    port: u32,
}

impl Cycles {
    /// The two interfaces and the cycles' two sockets, with no connection yet.
    pub fn new() -> Cycles {
        let mut p = Pair::new(1500);
        let sh = p.server_set.add(socket(64 * 1024, 64 * 1024));
        let ch = p.client_set.add(socket(64 * 1024, 64 * 1024));
        Cycles {
            p,
            ch,
            sh,
            idle: 0,
            port: 0,
        }
    }
}

impl crate::CycleBench for Cycles {
    fn idle(&self) -> usize {
        self.idle
    }

    fn grow_idle(&mut self, idle: usize) {
        while self.idle < idle {
            let count = (idle - self.idle).min(1000);
            self.p.add_idle(self.idle, count, IDLE_BUFFER, IDLE_BUFFER);
            self.idle += count;
        }
    }

    fn run(&mut self, n: u32) {
        run_cycles(&mut self.p, self.ch, self.sh, n, &mut self.port);
    }
}

impl Default for Cycles {
    fn default() -> Self {
        Cycles::new()
    }
}

fn run_cycles(p: &mut Pair, ch: SocketHandle, sh: SocketHandle, n: u32, port: &mut u32) {
    for _ in 0..n {
        *port = (*port + 1) % 60_000;
        p.server_sock(sh).listen(80).expect("listen");
        let cx = p.client.context();
        p.client_set
            .get_mut::<tcp::Socket>(ch)
            .connect(cx, (SERVER_IP, 80), 1024 + *port as u16)
            .expect("connect");
        while p.server_sock(sh).state() != State::Established
            || p.client_sock(ch).state() != State::Established
        {
            p.pump();
        }
        p.client_sock(ch).close();
        while p.server_sock(sh).state() != State::CloseWait {
            p.pump();
        }
        p.server_sock(sh).close();
        while p.server_sock(sh).state() != State::Closed
            || p.client_sock(ch).state() != State::TimeWait
        {
            p.pump();
        }
        // TIME-WAIT (10 s in smoltcp) expires on the virtual clock.
        p.now += Duration::from_secs(61);
        while p.client_sock(ch).state() != State::Closed {
            p.pump();
        }
    }
}

/// Heap bytes per idle established connection end with `rx`/`tx` byte buffers per
/// socket, counted by the global allocator over `conns` connections.
pub fn memory(conns: usize, rx: usize, tx: usize) -> f64 {
    let mut p = Pair::new(1500);
    let before = crate::alloc::live_bytes();
    let mut done = 0;
    while done < conns {
        let count = (conns - done).min(1000);
        p.add_idle(done, count, rx, tx);
        done += count;
    }
    let after = crate::alloc::live_bytes();
    (after - before) as f64 / (2 * conns) as f64
}
