//! Async sockets: [`TcpListener`] and [`TcpStream`] with tokio's `AsyncRead` and
//! `AsyncWrite`, so `tokio::io::copy_bidirectional`, `BufReader`, codecs and the rest work
//! on synack connections.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use synack_io::tokio_net::TcpListener;
//! use synack_io::{Stack, StackConfig, TunConfig};
//!
//! let tun = TunConfig::new("synack0", "198.18.0.1/24".parse().unwrap(), "198.18.0.2".parse().unwrap());
//! let stack = Stack::start(StackConfig::new(tun))?;
//! let listener = TcpListener::bind(&stack, "198.18.0.2:7").await?;
//! loop {
//!     let (mut stream, _peer) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let (mut r, mut w) = tokio::io::split(&mut stream);
//!         let _ = tokio::io::copy(&mut r, &mut w).await;
//!     });
//! }
//! # }
//! ```
//!
//! The sockets need no tokio reactor: the stack's own event loop wakes the tasks, so they
//! work on any executor (tokio's current-thread or multi-thread runtime, or another).
//! Dropping a stream closes it like [`crate::TcpStream`] does.

use crate::net::StreamCore;
use crate::stack::{Key, Slot, Stack};
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use synack::{CloseReason, State};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A listening socket, like `tokio::net::TcpListener`.
#[derive(Debug)]
pub struct TcpListener {
    inner: crate::net::TcpListener,
}

impl TcpListener {
    /// Listen on `addr` (see [`crate::TcpListener::bind`]).
    pub async fn bind(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: crate::net::TcpListener::bind(stack, addr)?,
        })
    }

    /// Wait for the next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Poll for the next connection; the task is woken when one is ready.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let stack = &self.inner.stack;
        let id = self.inner.id;
        stack
            .shared()
            .poll(cx, Key::Listener(id), Slot::Read, |g, _| {
                let conn = g.ep.accept(id)?;
                StreamCore::adopt(stack, g, conn).map_err(|_| synack::Error::InvalidHandle)
            })
            .map_ok(|core| {
                let peer = core.peer;
                (TcpStream { core }, peer)
            })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The blocking listener (same socket).
    pub fn into_std(self) -> crate::net::TcpListener {
        self.inner
    }

    /// An async listener from a blocking one.
    pub fn from_std(inner: crate::net::TcpListener) -> TcpListener {
        TcpListener { inner }
    }
}

/// A TCP connection, like `tokio::net::TcpStream`.
pub struct TcpStream {
    core: Arc<StreamCore>,
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
    /// Open a connection to `addr`, waiting for the handshake.
    pub async fn connect(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_one(stack, a).await {
                Ok(s) => return Ok(s),
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

    async fn connect_one(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        let core = StreamCore::start_connect(stack, addr)?;
        poll_fn(|cx| {
            stack
                .shared()
                .poll(cx, Key::Conn(core.id), Slot::Read, |g, _| {
                    core.connect_progress(g)
                })
        })
        .await?;
        Ok(TcpStream { core })
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.core.peer)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.core.local)
    }

    /// Turn Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.core.set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.core.nodelay())
    }

    /// Shut down reading, writing or both (see [`crate::TcpStream::shutdown`]).
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.core.shutdown(how)
    }

    /// The connection's RFC 9293 state.
    pub fn state(&self) -> Option<State> {
        self.core.state()
    }

    /// Why the connection ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.core.close_reason()
    }

    /// Reset the connection now.
    pub fn abort(&self) -> io::Result<()> {
        self.core.abort()
    }

    /// R2: how long retransmission may go on (see [`crate::TcpStream::set_user_timeout`]).
    pub fn set_user_timeout(&self, timeout: Duration) -> io::Result<()> {
        crate::net::TcpStream {
            core: self.core.clone(),
        }
        .set_user_timeout(timeout)
    }

    /// The blocking stream (same connection).
    pub fn into_std(self) -> crate::net::TcpStream {
        crate::net::TcpStream { core: self.core }
    }

    /// An async stream from a blocking one (same connection).
    pub fn from_std(s: crate::net::TcpStream) -> TcpStream {
        TcpStream { core: s.core }
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let core = &self.core;
        let dst = buf.initialize_unfilled();
        match core
            .stack
            .shared()
            .poll(cx, Key::Conn(core.id), Slot::Read, |g, now| {
                core.recv(g, now, dst)
            }) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let core = &self.core;
        core.stack
            .shared()
            .poll(cx, Key::Conn(core.id), Slot::Write, |g, now| {
                g.ep.send(now, core.id, buf)
            })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Everything written is already in the stack's send buffer.
        Poll::Ready(Ok(()))
    }

    /// Send a FIN after the queued data (the read side stays open), like tokio's.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.core.shutdown(Shutdown::Write))
    }
}
