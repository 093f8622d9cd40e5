//! Blocking sockets that mirror `std::net`: [`TcpListener`] and [`TcpStream`].
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use synack_io::{Stack, StackConfig, TcpListener, TunConfig};
//!
//! let tun = TunConfig::new("synack0", "198.18.0.1/24".parse()?, "198.18.0.2".parse()?);
//! let stack = Stack::start(StackConfig::new(tun))?;
//! let listener = TcpListener::bind(&stack, "198.18.0.2:7")?;
//! for stream in listener.incoming() {
//!     let mut stream = stream?;
//!     let mut buf = [0; 4096];
//!     loop {
//!         let n = stream.read(&mut buf)?;
//!         if n == 0 {
//!             break;
//!         }
//!         stream.write_all(&buf[..n])?;
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The differences from `std::net` come from there being no file descriptor: the
//! constructors take the [`Stack`] the socket lives on, and dropping the last handle of a
//! stream closes it the way `close(2)` does (a FIN after the queued data, or a RST if
//! received data was left unread).

use crate::error::to_io;
use crate::stack::{Inner, Key, Stack, Waiters};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use synack::{CloseReason, ConnId, Instant, ListenerId, State};

/// Connections a listener queues for `accept` at most (Linux's `somaxconn` is 4096).
pub const DEFAULT_BACKLOG: usize = 1024;

/// Options a stream's handles share (as socket options are shared by `dup`ed fds).
#[derive(Debug, Clone, Copy, Default)]
struct Options {
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    nonblocking: bool,
    nodelay: bool,
}

/// One connection, shared by the clones of a stream (blocking or async).
pub(crate) struct StreamCore {
    pub stack: Stack,
    pub id: ConnId,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    options: Mutex<Options>,
}

impl Drop for StreamCore {
    fn drop(&mut self) {
        let shared = self.stack.shared();
        let mut g = shared.lock();
        let now = shared.now();
        let _ = g.ep.close(now, self.id);
        g.conns.remove(&self.id);
        if g.stopped.is_none() {
            shared.settle(&mut g, now);
        }
    }
}

/// The error an I/O call gets on a connection that has reached CLOSED.
fn closed_error(reason: Option<CloseReason>) -> synack::Error {
    match reason {
        Some(CloseReason::Refused) => synack::Error::ConnectionRefused,
        Some(CloseReason::Reset) => synack::Error::ConnectionReset,
        Some(CloseReason::TimedOut) => synack::Error::TimedOut,
        _ => synack::Error::NotConnected,
    }
}

impl StreamCore {
    /// Wrap a connection the endpoint has just handed to the application.
    pub(crate) fn adopt(stack: &Stack, g: &mut Inner, id: ConnId) -> io::Result<Arc<StreamCore>> {
        let tuple =
            g.ep.tuple(id)
                .ok_or_else(|| to_io(synack::Error::InvalidHandle))?;
        g.conns.insert(id, Waiters::new());
        Ok(Arc::new(StreamCore {
            stack: stack.clone(),
            id,
            local: tuple.local,
            peer: tuple.remote,
            options: Mutex::new(Options {
                nodelay: g.ep.config().nodelay,
                ..Options::default()
            }),
        }))
    }

    /// Send a SYN to `remote`; the connection is in SYN-SENT when this returns.
    pub(crate) fn start_connect(stack: &Stack, remote: SocketAddr) -> io::Result<Arc<StreamCore>> {
        let local = if remote.is_ipv4() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
        } else {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
        };
        stack.shared().with(|g, now| {
            let id = g.ep.connect(now, local, remote).map_err(to_io)?;
            StreamCore::adopt(stack, g, id)
        })?
    }

    /// `Ok` once established, `WouldBlock` while the handshake goes on, the reason it
    /// failed otherwise.
    pub(crate) fn connect_progress(&self, g: &mut Inner) -> Result<(), synack::Error> {
        match g.ep.state(self.id) {
            Some(State::SynSent | State::SynReceived) => Err(synack::Error::WouldBlock),
            Some(State::Closed) => Err(closed_error(g.ep.close_reason(self.id))),
            Some(_) => Ok(()),
            None => Err(synack::Error::NotConnected),
        }
    }

    fn options(&self) -> Options {
        *self.options.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_options(&self, f: impl FnOnce(&mut Options)) {
        f(&mut self.options.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// RECEIVE, or end of stream after `shutdown(Read)`.
    pub(crate) fn recv(
        &self,
        g: &mut Inner,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<usize, synack::Error> {
        if g.conns.get(&self.id).is_some_and(|w| w.read_shut) {
            return Ok(0);
        }
        g.ep.recv(now, self.id, buf)
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.stack.shared().with(|g, now| {
            if matches!(how, Shutdown::Read | Shutdown::Both) {
                if let Some(w) = g.conns.get_mut(&self.id) {
                    w.read_shut = true;
                }
                g.discard_readable(now, self.id);
                g.wake(Key::Conn(self.id));
            }
            if matches!(how, Shutdown::Write | Shutdown::Both) {
                g.ep.shutdown(now, self.id).map_err(to_io)?;
                g.wake(Key::Conn(self.id));
            }
            Ok(())
        })?
    }

    pub(crate) fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.stack
            .shared()
            .with(|g, _| g.ep.set_nodelay(self.id, nodelay).map_err(to_io))??;
        self.set_options(|o| o.nodelay = nodelay);
        Ok(())
    }

    pub(crate) fn nodelay(&self) -> bool {
        self.options().nodelay
    }

    pub(crate) fn state(&self) -> Option<State> {
        self.stack.shared().lock().ep.state(self.id)
    }

    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.stack.shared().lock().ep.close_reason(self.id)
    }

    pub(crate) fn abort(&self) -> io::Result<()> {
        self.stack.shared().with(|g, now| {
            let r = g.ep.abort(now, self.id).map_err(to_io);
            g.wake(Key::Conn(self.id));
            r
        })?
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let o = self.options();
        self.stack.shared().blocking(
            Key::Conn(self.id),
            deadline(o.read_timeout),
            o.nonblocking,
            io::ErrorKind::WouldBlock,
            |g, now| self.recv(g, now, buf),
        )
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let o = self.options();
        self.stack.shared().blocking(
            Key::Conn(self.id),
            deadline(o.write_timeout),
            o.nonblocking,
            io::ErrorKind::WouldBlock,
            |g, now| g.ep.send(now, self.id, buf),
        )
    }
}

fn deadline(timeout: Option<Duration>) -> Option<std::time::Instant> {
    timeout.map(|t| std::time::Instant::now() + t)
}

fn check_timeout(t: Option<Duration>) -> io::Result<()> {
    if t == Some(Duration::ZERO) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        ));
    }
    Ok(())
}

/// Try `f` on every address `addrs` resolves to; the first success, or the last error.
pub(crate) fn each_addr<T>(
    addrs: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addrs.to_socket_addrs()? {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}

/// A TCP connection on a synack [`Stack`], like `std::net::TcpStream`.
///
/// Errors are `std::io::Error`s of the kinds std uses: `ConnectionRefused` when the peer
/// answers the SYN with a RST, `ConnectionReset` once the peer has reset the connection,
/// `TimedOut` when retransmission gives up (R2) or `connect_timeout` expires,
/// `BrokenPipe` for writing after `shutdown(Write)`, `NotConnected` after `abort` or once
/// the stack has stopped. Read and write timeouts end in `WouldBlock`, as on Linux.
pub struct TcpStream {
    pub(crate) core: Arc<StreamCore>,
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.core.local)
            .field("peer", &self.core.peer)
            .finish()
    }
}

impl TcpStream {
    /// Open a connection to `addr` (each address it resolves to in turn), blocking until
    /// the handshake completes or fails.
    pub fn connect(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |a| TcpStream::connect_inner(stack, a, None))
    }

    /// Like [`TcpStream::connect`], giving up (`TimedOut`) after `timeout`.
    pub fn connect_timeout(
        stack: &Stack,
        addr: &SocketAddr,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        check_timeout(Some(timeout))?;
        TcpStream::connect_inner(stack, *addr, Some(timeout))
    }

    fn connect_inner(
        stack: &Stack,
        addr: SocketAddr,
        timeout: Option<Duration>,
    ) -> io::Result<TcpStream> {
        let core = StreamCore::start_connect(stack, addr)?;
        stack.shared().blocking(
            Key::Conn(core.id),
            deadline(timeout),
            false,
            io::ErrorKind::TimedOut,
            |g, _| core.connect_progress(g),
        )?;
        Ok(TcpStream { core })
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.core.peer)
    }

    /// The local address (the stack's address and the port it chose).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.core.local)
    }

    /// Close the writing direction (`Write`: a FIN after the queued data), stop reading
    /// (`Read`: reads return 0 and arriving data is dropped), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.core.shutdown(how)
    }

    /// Another handle to the same connection; it closes when the last one is dropped.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(TcpStream {
            core: self.core.clone(),
        })
    }

    /// Reads fail with `WouldBlock` after waiting this long (`None`: wait forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        check_timeout(timeout)?;
        self.core.set_options(|o| o.read_timeout = timeout);
        Ok(())
    }

    /// Writes fail with `WouldBlock` after waiting this long (`None`: wait forever).
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        check_timeout(timeout)?;
        self.core.set_options(|o| o.write_timeout = timeout);
        Ok(())
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.core.options().read_timeout)
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.core.options().write_timeout)
    }

    /// Reads and writes return `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.core.set_options(|o| o.nonblocking = nonblocking);
        Ok(())
    }

    /// Turn Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.core.set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.core.nodelay())
    }

    /// The connection's RFC 9293 state (`None` once the stack has forgotten it).
    pub fn state(&self) -> Option<State> {
        self.core.state()
    }

    /// Why the connection ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.core.close_reason()
    }

    /// Reset the connection now (ABORT: a RST, queued data dropped). Later calls on any
    /// handle fail with `NotConnected`.
    pub fn abort(&self) -> io::Result<()> {
        self.core.abort()
    }

    /// How long retransmission may go on before the connection is declared dead (R2,
    /// RFC 9293 §3.8.3; Linux calls it `TCP_USER_TIMEOUT`).
    pub fn set_user_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.core
            .stack
            .shared()
            .with(|g, _| g.ep.set_user_timeout(self.core.id, timeout).map_err(to_io))?
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.core.read(buf)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.core.read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.core.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.core.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A listening socket on a synack [`Stack`], like `std::net::TcpListener`.
pub struct TcpListener {
    pub(crate) stack: Stack,
    pub(crate) id: ListenerId,
    local: SocketAddr,
    nonblocking: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("local", &self.local)
            .finish()
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let shared = self.stack.shared();
        let mut g = shared.lock();
        let now = shared.now();
        let _ = g.ep.unlisten(now, self.id);
        g.listeners.remove(&self.id);
        if g.stopped.is_none() {
            shared.settle(&mut g, now);
        }
    }
}

impl TcpListener {
    /// Listen on `addr`: one of the stack's addresses or the unspecified address of a
    /// family (every stack address of that family). Port 0 picks a free port.
    pub fn bind(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::bind_with_backlog(stack, addr, DEFAULT_BACKLOG)
    }

    /// Like [`TcpListener::bind`], with at most `backlog` connections waiting for `accept`.
    pub fn bind_with_backlog(
        stack: &Stack,
        addr: impl ToSocketAddrs,
        backlog: usize,
    ) -> io::Result<TcpListener> {
        each_addr(addr, |a| TcpListener::bind_one(stack, a, backlog.max(1)))
    }

    fn bind_one(stack: &Stack, addr: SocketAddr, backlog: usize) -> io::Result<TcpListener> {
        let ip = addr.ip();
        if !ip.is_unspecified() && !stack.addrs().iter().any(|p| p.stack == ip) {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{ip} is not an address of this stack"),
            ));
        }
        let (id, local) = stack.shared().with(|g, now| {
            let r = listen(g, now, addr, backlog);
            if let Ok((id, _)) = r {
                g.listeners.insert(id, Waiters::new());
            }
            r
        })??;
        Ok(TcpListener {
            stack: stack.clone(),
            id,
            local,
            nonblocking: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// Wait for a connection (already established: the handshake is done by the stack).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let nonblocking = self.nonblocking.load(std::sync::atomic::Ordering::Relaxed);
        let stack = &self.stack;
        let core = stack.shared().blocking(
            Key::Listener(self.id),
            None,
            nonblocking,
            io::ErrorKind::WouldBlock,
            |g, _| {
                let id = g.ep.accept(self.id)?;
                StreamCore::adopt(stack, g, id).map_err(|_| synack::Error::InvalidHandle)
            },
        )?;
        let peer = core.peer;
        Ok((TcpStream { core }, peer))
    }

    /// An endless iterator of accepted connections.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// `accept` returns `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.nonblocking
            .store(nonblocking, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// LISTEN on `addr`; port 0 takes the first free port of the ephemeral range, from a
/// time-dependent starting point.
fn listen(
    g: &mut Inner,
    now: Instant,
    addr: SocketAddr,
    backlog: usize,
) -> io::Result<(ListenerId, SocketAddr)> {
    if addr.port() != 0 {
        return g
            .ep
            .listen(addr, backlog)
            .map(|id| (id, addr))
            .map_err(to_io);
    }
    let range = g.ep.config().ephemeral_ports.clone();
    let (lo, hi) = (*range.start(), *range.end());
    let count = u32::from(hi.saturating_sub(lo)) + 1;
    let start = (now.as_nanos() % u64::from(count)) as u32;
    for i in 0..count {
        let port = lo + ((start + i) % count) as u16;
        let a = SocketAddr::new(addr.ip(), port);
        match g.ep.listen(a, backlog) {
            Ok(id) => return Ok((id, a)),
            Err(synack::Error::AddrInUse) => continue,
            Err(e) => return Err(to_io(e)),
        }
    }
    Err(to_io(synack::Error::AddrNotAvailable))
}

/// The iterator of [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}
