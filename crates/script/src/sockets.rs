//! The runner's socket layer: file descriptors and the BSD socket calls scripts make,
//! mapped onto synack's application interface.
//!
//! | call | synack |
//! |---|---|
//! | `socket` | a descriptor with no connection yet (options are kept until one exists) |
//! | `bind` | remembers the local address (`...` = the stack's address, port 8080) |
//! | `listen` | [`Endpoint::listen`] |
//! | `accept` | [`Endpoint::accept`] |
//! | `connect` | [`Endpoint::connect`] (`EINPROGRESS` when non-blocking) |
//! | `read`, `recv` | [`Endpoint::recv`]; `MSG_PEEK` reads [`Endpoint::readable_bytes`] |
//! | `write`, `send` | [`Endpoint::send`] (a blocking write waits until everything is queued) |
//! | `shutdown` | `SHUT_WR`: [`Endpoint::shutdown`]; `SHUT_RD`: reads return 0 from then on |
//! | `close` | [`Endpoint::close`] (with `SO_LINGER` 0: [`Endpoint::abort`]); listeners [`Endpoint::unlisten`] |
//! | `setsockopt` | `TCP_NODELAY`: [`Endpoint::set_nodelay`]; `SO_KEEPALIVE`, `TCP_KEEPIDLE/INTVL/CNT`: [`Endpoint::set_keepalive`]; `TCP_USER_TIMEOUT`: [`Endpoint::set_user_timeout`]; `SO_REUSEADDR`, `SO_LINGER`: kept by the socket layer |
//! | `getsockopt` | the same options; `SO_ERROR`; `SO_RCVBUF`/`SO_SNDBUF` report the configured buffer sizes; `TCP_KEEPINIT` the SYN R2 |
//! | `fcntl` | `F_GETFL`/`F_SETFL` with `O_NONBLOCK` |
//!
//! Errors follow BSD sockets: a connection that ends abnormally leaves its error
//! (`ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`) pending on the socket, reported once by
//! `SO_ERROR` or by the next call that fails because of it; afterwards reads see end of
//! stream and writes `EPIPE`. Options synack has no per-connection control for
//! (`IP_TTL`, `IP_TOS`, `TCP_MD5SIG`, `TCP_NOOPT`, buffer sizes…) fail with `ENOPROTOOPT`,
//! so a script that relies on them fails where it sets them.

use crate::ast::{Expr, Syscall, TimeSpec};
use crate::exec::{instant_us, secs, Exec, Step, Stop, Sut};
use crate::report::Failure;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use synack::{ConnId, Endpoint, Error, Keepalive, ListenerId, State};

/// What a descriptor refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Fresh,
    Bound(SocketAddr),
    Listening(ListenerId),
    Conn(ConnId),
    /// Dropped by `tcpdrop`: the connection is gone, the descriptor still open.
    Gone,
}

/// Per-socket options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opts {
    pub nodelay: bool,
    pub keepalive: bool,
    pub keepidle: Duration,
    pub keepintvl: Duration,
    pub keepcnt: u32,
    pub keepinit: Duration,
    pub reuseaddr: bool,
    /// `SO_LINGER` with a zero timeout: close aborts.
    pub linger_zero: bool,
    pub user_timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub(crate) struct Socket {
    pub kind: Kind,
    pub nonblocking: bool,
    pub opts: Opts,
    pub pending_error: Option<&'static str>,
    pub shut_rd: bool,
}

impl Socket {
    pub(crate) fn conn(&self) -> Option<ConnId> {
        match self.kind {
            Kind::Conn(c) => Some(c),
            _ => None,
        }
    }
}

/// A blocking call waiting to return.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub line: usize,
    pub text: String,
    pub call: Syscall,
    /// When the script says it returns (script microseconds).
    pub end_us: i64,
    /// Bytes a blocking write has queued so far.
    pub progress: usize,
}

/// What a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub ret: i64,
    pub errno: Option<&'static str>,
    /// For `getsockopt`: the value written to the option buffer.
    pub out: Option<OutVal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OutVal {
    Int(i64),
    /// `SO_ERROR`: the pending error, if any.
    Errno(Option<&'static str>),
}

pub(crate) enum Attempt {
    Done(Outcome),
    Block { progress: usize },
}

fn ok(ret: i64) -> Attempt {
    Attempt::Done(Outcome {
        ret,
        errno: None,
        out: None,
    })
}

fn err(errno: &'static str) -> Attempt {
    Attempt::Done(Outcome {
        ret: -1,
        errno: Some(errno),
        out: None,
    })
}

/// The errno an endpoint error stands for.
fn errno_of(e: Error) -> &'static str {
    match e {
        Error::InvalidHandle => "EBADF",
        Error::WouldBlock => "EAGAIN",
        Error::NotConnected => "ENOTCONN",
        Error::ConnectionRefused => "ECONNREFUSED",
        Error::ConnectionReset => "ECONNRESET",
        Error::TimedOut => "ETIMEDOUT",
        Error::BrokenPipe => "EPIPE",
        Error::AddrInUse => "EADDRINUSE",
        Error::AddrNotAvailable => "EADDRNOTAVAIL",
        Error::InvalidInput => "EINVAL",
        _ => "EIO",
    }
}

fn same_errno(a: &str, b: &str) -> bool {
    let norm = |s: &str| if s == "EWOULDBLOCK" { "EAGAIN" } else { s }.to_string();
    norm(a) == norm(b)
}

const SYSCALLS: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "accept",
    "connect",
    "read",
    "recv",
    "recvfrom",
    "write",
    "send",
    "sendto",
    "shutdown",
    "close",
    "getsockopt",
    "setsockopt",
    "fcntl",
];

/// Calls the runner cannot make, found before the script runs.
pub(crate) fn unsupported(call: &Syscall) -> Option<String> {
    if !SYSCALLS.contains(&call.name.as_str()) {
        return Some(format!("the system call `{}` is not modelled", call.name));
    }
    match call.name.as_str() {
        "socket" => match call.args.get(1) {
            Some(Expr::Symbol(s)) if s == "SOCK_STREAM" => None,
            Some(other) => Some(format!("socket type {other} (only SOCK_STREAM is TCP)")),
            None => Some("socket() without a type".into()),
        },
        "bind" | "connect" if !matches!(call.args.get(1), Some(Expr::Ellipsis)) => Some(format!(
            "{}() with an explicit address (the runner supplies it: `...`)",
            call.name
        )),
        _ => None,
    }
}

impl Exec<'_> {
    fn fd_arg(&self, call: &Syscall) -> Step<i64> {
        match call.args.first() {
            Some(Expr::Int(fd)) => Ok(*fd),
            _ => Err(self.fail(format!(
                "{}: the first argument must be a descriptor number",
                call.name
            ))),
        }
    }

    fn int_arg(&self, call: &Syscall, i: usize) -> Step<i64> {
        match call.args.get(i) {
            Some(e) => self.eval(e),
            None => Err(self.fail(format!("{}: argument {} is missing", call.name, i + 1))),
        }
    }

    /// The value of a constant expression.
    pub(crate) fn eval(&self, e: &Expr) -> Step<i64> {
        match e {
            Expr::Int(v) => Ok(*v),
            Expr::List(v) if v.len() == 1 => self.eval(&v[0]),
            Expr::Or(parts) => {
                let mut acc = 0;
                for p in parts {
                    acc |= self.eval(p)?;
                }
                Ok(acc)
            }
            Expr::Symbol(s) => match s.as_str() {
                "O_RDONLY" => Ok(0),
                "O_WRONLY" => Ok(1),
                "O_RDWR" => Ok(2),
                "O_NONBLOCK" => Ok(self.profile.o_nonblock),
                "MSG_PEEK" => Ok(2),
                "MSG_DONTWAIT" => Ok(MSG_DONTWAIT),
                "MSG_WAITALL" => Ok(MSG_WAITALL),
                "MSG_NOSIGNAL" => Ok(0),
                "SHUT_RD" => Ok(0),
                "SHUT_WR" => Ok(1),
                "SHUT_RDWR" => Ok(2),
                "F_GETFD" => Ok(1),
                "F_SETFD" => Ok(2),
                "F_GETFL" => Ok(3),
                "F_SETFL" => Ok(4),
                "FD_CLOEXEC" => Ok(1),
                "NULL" => Ok(0),
                // DSCP code points (RFC 2474), as <netinet/ip.h> spells them.
                d if d.starts_with("IPTOS_DSCP_CS") => d["IPTOS_DSCP_CS".len()..]
                    .parse::<i64>()
                    .map(|n| n << 5)
                    .map_err(|_| Stop::Skip(format!("the constant `{d}` is not modelled"))),
                "IPTOS_DSCP_EF" => Ok(0xb8),
                other => Err(Stop::Skip(format!(
                    "the constant `{other}` is not modelled"
                ))),
            },
            other => Err(self.fail(format!("`{other}` is not a number"))),
        }
    }

    fn socket_mut(&mut self, fd: i64) -> Option<&mut Socket> {
        self.sockets.get_mut(&fd)
    }

    fn new_fd(&self, wanted: &Expr) -> i64 {
        if let Expr::Int(n) = wanted {
            if *n >= 0 && !self.sockets.contains_key(n) {
                return *n;
            }
        }
        (3..)
            .find(|fd| !self.sockets.contains_key(fd))
            .expect("a free descriptor")
    }

    fn fresh_opts(&self) -> Opts {
        Opts {
            nodelay: self.profile.config.nodelay,
            keepalive: self.profile.config.keepalive.is_some(),
            keepidle: self.profile.socket.keepidle,
            keepintvl: self.profile.socket.keepintvl,
            keepcnt: self.profile.socket.keepcnt,
            keepinit: self.profile.config.r2_syn,
            reuseaddr: false,
            linger_zero: false,
            user_timeout: None,
        }
    }

    /// Give a new connection the options its socket has.
    fn apply_opts(&mut self, conn: ConnId, o: Opts) {
        let now = self.now;
        let ep = self.ep();
        if o.nodelay {
            let _ = ep.set_nodelay(conn, true);
        }
        if o.keepalive {
            let ka = Keepalive {
                idle: o.keepidle,
                interval: o.keepintvl,
                probes: o.keepcnt,
            };
            let _ = ep.set_keepalive(now, conn, Some(ka));
        }
        if let Some(t) = o.user_timeout {
            let _ = ep.set_user_timeout(conn, t);
        }
    }

    fn sock_addr(&self, ip: IpAddr, port: u16) -> SocketAddr {
        SocketAddr::new(ip, port)
    }

    // ---- The calls ----

    pub(crate) fn syscall(&mut self, call: &Syscall, time: TimeSpec, start: i64, end: i64) -> Step {
        let blocking_spec = matches!(time, TimeSpec::Blocking { .. });
        if call.name != "socket" {
            if let Some(Expr::Int(fd)) = call.args.first() {
                self.last_fd = Some(*fd);
            }
        }
        match self.attempt(call, 0)? {
            Attempt::Done(o) => {
                if blocking_spec && instant_us(self.now) < end - self.tolerance_us {
                    return Err(self.fail(format!(
                        "the call returned at once ({} s); the script expects it to block until {} s",
                        secs(instant_us(self.now)),
                        secs(end)
                    )));
                }
                self.check(call, &o)
            }
            Attempt::Block { progress } => {
                self.pending = Some(Pending {
                    line: self.line,
                    text: self.text.clone(),
                    call: call.clone(),
                    end_us: if blocking_spec { end } else { start },
                    progress,
                });
                Ok(())
            }
        }
    }

    /// Try the pending blocking call again. Returns whether it returned.
    pub(crate) fn retry_pending(&mut self) -> Step<bool> {
        let Some(p) = self.pending.take() else {
            return Ok(false);
        };
        let (line, text) = (self.line, self.text.clone());
        self.line = p.line;
        self.text = p.text.clone();
        let result = match self.attempt(&p.call, p.progress) {
            Ok(Attempt::Done(o)) => {
                let now = instant_us(self.now);
                if (now - p.end_us).abs() > self.tolerance_us {
                    Err(self.fail(format!(
                        "timing error: the blocking call returned at {} s, expected at {} s",
                        secs(now),
                        secs(p.end_us)
                    )))
                } else {
                    self.check(&p.call, &o).map(|()| true)
                }
            }
            Ok(Attempt::Block { progress }) => {
                self.pending = Some(Pending { progress, ..p });
                Ok(false)
            }
            Err(e) => Err(e),
        };
        self.line = line;
        self.text = text;
        result
    }

    /// Let the clock run until the pending blocking call returns (it must by its time
    /// plus the tolerance).
    pub(crate) fn await_pending(&mut self) -> Step {
        let mut guard = 0u32;
        while let Some(p) = &self.pending {
            let deadline = p.end_us + self.tolerance_us;
            let next = self.ep.as_ref().and_then(Endpoint::poll_timeout);
            match next {
                Some(d) if instant_us(d) <= deadline => {
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
                _ => {
                    if instant_us(self.now) < deadline {
                        self.now = crate::exec::us_to_instant(deadline);
                        self.pump()?;
                    }
                    if let Some(p) = &self.pending {
                        self.line = p.line;
                        self.text = p.text.clone();
                        return Err(self.fail(format!(
                            "the blocking call had not returned by {} s (expected at {} s)",
                            secs(deadline),
                            secs(p.end_us)
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Compare what a call did with what the script expects.
    fn check(&mut self, call: &Syscall, o: &Outcome) -> Step {
        let describe = |o: &Outcome| match (o.ret, o.errno) {
            (r, Some(e)) => format!("{r} {e}"),
            (r, None) => format!("{r}"),
        };
        let mut problems = Vec::new();
        match &call.ret {
            Expr::Ellipsis => {}
            e => {
                let want = self.eval(e)?;
                if want != o.ret {
                    problems.push(format!("returned {}", describe(o)));
                } else if let Some(want_errno) = &call.errno {
                    match o.errno {
                        Some(got) if same_errno(got, want_errno) => {}
                        Some(got) => problems.push(format!("failed with {got}, not {want_errno}")),
                        None => problems.push(format!("did not fail with {want_errno}")),
                    }
                }
            }
        }
        if let (Some(out), Some(expected)) = (&o.out, call.args.get(3)) {
            match (out, expected) {
                (_, Expr::Ellipsis) => {}
                (OutVal::Int(v), e) => {
                    let want = self.eval(e)?;
                    if want != *v {
                        let portable_ok = self.opts.portable && is_buffer_size(call);
                        if !portable_ok {
                            problems.push(format!("option value {v}, expected {want}"));
                        }
                    }
                }
                (OutVal::Errno(got), e) => {
                    let want = match e {
                        Expr::List(v) if v.len() == 1 => &v[0],
                        other => other,
                    };
                    let matches = match (got, want) {
                        (None, Expr::Int(0)) => true,
                        (Some(g), Expr::Symbol(w)) => same_errno(g, w),
                        _ => false,
                    };
                    if !matches {
                        problems.push(format!(
                            "SO_ERROR is {}, expected {want}",
                            got.unwrap_or("0")
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        let mut actual = format!("= {}", describe(o));
        if let Some(out) = &o.out {
            actual.push_str(&match out {
                OutVal::Int(v) => format!("  (option value [{v}])"),
                OutVal::Errno(e) => format!("  (option value [{}])", e.unwrap_or("0")),
            });
        }
        Err(Stop::Fail(Box::new(Failure {
            line: self.line,
            event: self.text.clone(),
            message: format!("{}(): {}", call.name, problems.join("; ")),
            expected: Some(self.text.clone()),
            actual: Some(actual),
            at_us: instant_us(self.now),
        })))
    }

    /// Make the call once: it returns, or it would block.
    fn attempt(&mut self, call: &Syscall, progress: usize) -> Step<Attempt> {
        let name = call.name.as_str();
        if name == "socket" {
            let fd = self.new_fd(&call.ret);
            let opts = self.fresh_opts();
            self.sockets.insert(
                fd,
                Socket {
                    kind: Kind::Fresh,
                    nonblocking: false,
                    opts,
                    pending_error: None,
                    shut_rd: false,
                },
            );
            self.last_fd = Some(fd);
            return Ok(ok(fd));
        }
        let fd = self.fd_arg(call)?;
        let Some(sock) = self.sockets.get(&fd).cloned() else {
            return Ok(err("EBADF"));
        };
        let now = self.now;
        Ok(match name {
            "bind" => match sock.kind {
                Kind::Fresh => {
                    let addr = self.sock_addr(self.local_ip, self.bind_port);
                    self.socket_mut(fd).expect("exists").kind = Kind::Bound(addr);
                    ok(0)
                }
                _ => err("EINVAL"),
            },
            "listen" => {
                let backlog = self.int_arg(call, 1)?.max(1) as usize;
                match sock.kind {
                    Kind::Fresh | Kind::Bound(_) => {
                        let addr = match sock.kind {
                            Kind::Bound(a) => a,
                            _ => self.sock_addr(self.local_ip, self.bind_port),
                        };
                        match self.ep().listen(addr, backlog) {
                            Ok(l) => {
                                self.socket_mut(fd).expect("exists").kind = Kind::Listening(l);
                                self.sut = Sut::Listening;
                                ok(0)
                            }
                            Err(e) => err(errno_of(e)),
                        }
                    }
                    Kind::Listening(_) => ok(0),
                    _ => err("EINVAL"),
                }
            }
            "accept" => match sock.kind {
                Kind::Listening(l) => match self.ep().accept(l) {
                    Ok(conn) => {
                        let new = self.new_fd(&call.ret);
                        let nonblocking = sock.nonblocking && self.profile.accept_inherits_nonblock;
                        self.sockets.insert(
                            new,
                            Socket {
                                kind: Kind::Conn(conn),
                                nonblocking,
                                opts: sock.opts,
                                pending_error: None,
                                shut_rd: false,
                            },
                        );
                        self.apply_opts(conn, sock.opts);
                        self.last_fd = Some(new);
                        ok(new)
                    }
                    Err(Error::WouldBlock) if sock.nonblocking => err("EAGAIN"),
                    Err(Error::WouldBlock) => Attempt::Block { progress: 0 },
                    Err(e) => err(errno_of(e)),
                },
                _ => err("EINVAL"),
            },
            "connect" => self.connect(fd, &sock, progress)?,
            "read" | "recv" | "recvfrom" => self.read(call, fd, &sock)?,
            "write" | "send" | "sendto" => self.write(call, fd, &sock, progress)?,
            "shutdown" => {
                let how = self.int_arg(call, 1)?;
                match sock.kind {
                    Kind::Conn(c) => {
                        if how == 0 || how == 2 {
                            self.socket_mut(fd).expect("exists").shut_rd = true;
                        }
                        if how == 1 || how == 2 {
                            match self.ep().shutdown(now, c) {
                                Ok(()) => ok(0),
                                Err(
                                    Error::ConnectionReset
                                    | Error::ConnectionRefused
                                    | Error::TimedOut,
                                ) => err("ENOTCONN"),
                                Err(e) => err(errno_of(e)),
                            }
                        } else {
                            ok(0)
                        }
                    }
                    _ => err("ENOTCONN"),
                }
            }
            "close" => {
                self.sockets.remove(&fd);
                match sock.kind {
                    Kind::Conn(c) => {
                        let r = if sock.opts.linger_zero {
                            self.ep().abort(now, c)
                        } else {
                            self.ep().close(now, c)
                        };
                        match r {
                            Ok(()) | Err(Error::InvalidHandle) => ok(0),
                            Err(e) => err(errno_of(e)),
                        }
                    }
                    Kind::Listening(l) => {
                        let _ = self.ep().unlisten(now, l);
                        ok(0)
                    }
                    _ => ok(0),
                }
            }
            "getsockopt" => self.getsockopt(call, fd, &sock)?,
            "setsockopt" => self.setsockopt(call, fd, &sock)?,
            "fcntl" => {
                let cmd = self.int_arg(call, 1)?;
                match cmd {
                    3 => ok(2 | if sock.nonblocking {
                        self.profile.o_nonblock
                    } else {
                        0
                    }),
                    4 => {
                        let flags = self.int_arg(call, 2)?;
                        self.socket_mut(fd).expect("exists").nonblocking =
                            flags & self.profile.o_nonblock != 0;
                        ok(0)
                    }
                    1 | 2 => ok(0),
                    _ => err("EINVAL"),
                }
            }
            other => {
                return Err(Stop::Skip(format!(
                    "the system call `{other}` is not modelled"
                )))
            }
        })
    }

    /// `progress` is 1 when a blocking connect is tried again.
    fn connect(&mut self, fd: i64, sock: &Socket, progress: usize) -> Step<Attempt> {
        let now = self.now;
        match sock.kind {
            Kind::Fresh | Kind::Bound(_) => {
                let local = match sock.kind {
                    Kind::Bound(a) => a,
                    _ => SocketAddr::new(
                        if self.ipv6 {
                            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                        } else {
                            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                        },
                        0,
                    ),
                };
                let remote = SocketAddr::new(self.remote_ip, self.connect_port);
                match self.ep().connect(now, local, remote) {
                    Ok(conn) => {
                        self.socket_mut(fd).expect("exists").kind = Kind::Conn(conn);
                        self.apply_opts(conn, sock.opts);
                        // A new connection under test: its numbers are learned afresh.
                        self.sut = Sut::Connecting;
                        self.local_isn = None;
                        self.remote_isn = None;
                        if sock.nonblocking {
                            Ok(err("EINPROGRESS"))
                        } else {
                            Ok(Attempt::Block { progress: 1 })
                        }
                    }
                    Err(e) => Ok(err(errno_of(e))),
                }
            }
            Kind::Conn(c) => {
                let state = self.ep().state(c);
                if let Some(e) = self.take_error(fd) {
                    return Ok(err(e));
                }
                Ok(match state {
                    Some(State::SynSent | State::SynReceived) if sock.nonblocking => {
                        err("EALREADY")
                    }
                    Some(State::SynSent | State::SynReceived) => Attempt::Block { progress: 1 },
                    // The return of a blocking connect, or a repeated call (EISCONN).
                    Some(s) if s.is_synchronized() && progress == 1 => ok(0),
                    Some(s) if s.is_synchronized() => err("EISCONN"),
                    _ => err("ECONNREFUSED"),
                })
            }
            Kind::Listening(_) => Ok(err("EINVAL")),
            Kind::Gone => Ok(err("EINVAL")),
        }
    }

    fn take_error(&mut self, fd: i64) -> Option<&'static str> {
        self.socket_mut(fd).and_then(|s| s.pending_error.take())
    }

    fn read(&mut self, call: &Syscall, fd: i64, sock: &Socket) -> Step<Attempt> {
        let len = self.int_arg(call, 2)?.max(0) as usize;
        let flags = match call.args.get(3) {
            Some(e) => self.eval(e)?,
            None => 0,
        };
        let peek = flags & 2 != 0;
        let dontwait = flags & MSG_DONTWAIT != 0 || sock.nonblocking;
        let Kind::Conn(c) = sock.kind else {
            return Ok(err("ENOTCONN"));
        };
        if sock.shut_rd {
            return Ok(ok(0));
        }
        let now = self.now;
        let readable = self.ep().readable_bytes(c);
        if readable > 0 && len > 0 {
            if peek {
                return Ok(ok(len.min(readable) as i64));
            }
            let mut buf = vec![0u8; len];
            return Ok(match self.ep().recv(now, c, &mut buf) {
                Ok(n) => ok(n as i64),
                Err(e) => err(errno_of(e)),
            });
        }
        if let Some(e) = self.take_error(fd) {
            return Ok(err(e));
        }
        if len == 0 {
            return Ok(ok(0));
        }
        Ok(match self.ep().recv(now, c, &mut []) {
            Ok(_) => ok(0),
            Err(Error::WouldBlock) if dontwait => err("EAGAIN"),
            Err(Error::WouldBlock) => Attempt::Block { progress: 0 },
            // The error was reported once already: end of stream from now on.
            Err(Error::ConnectionReset | Error::ConnectionRefused | Error::TimedOut) => ok(0),
            Err(Error::InvalidHandle) => err("ENOTCONN"),
            Err(e) => err(errno_of(e)),
        })
    }

    fn write(&mut self, call: &Syscall, fd: i64, sock: &Socket, progress: usize) -> Step<Attempt> {
        let len = self.int_arg(call, 2)?.max(0) as usize;
        let flags = match call.args.get(3) {
            Some(e) => self.eval(e)?,
            None => 0,
        };
        let dontwait = flags & MSG_DONTWAIT != 0 || sock.nonblocking;
        let Kind::Conn(c) = sock.kind else {
            return Ok(err("ENOTCONN"));
        };
        if let Some(e) = self.take_error(fd) {
            return Ok(err(e));
        }
        if len == 0 {
            return Ok(ok(0));
        }
        let now = self.now;
        let data = vec![0u8; len - progress];
        Ok(match self.ep().send(now, c, &data) {
            Ok(n) => {
                let total = progress + n;
                if total < len && !dontwait {
                    Attempt::Block { progress: total }
                } else {
                    ok(total as i64)
                }
            }
            Err(Error::WouldBlock) if progress > 0 && dontwait => ok(progress as i64),
            Err(Error::WouldBlock) if dontwait => err("EAGAIN"),
            Err(Error::WouldBlock) => Attempt::Block { progress },
            Err(Error::ConnectionReset | Error::ConnectionRefused | Error::TimedOut) => {
                err("EPIPE")
            }
            Err(Error::InvalidHandle) => err("ENOTCONN"),
            Err(e) => err(errno_of(e)),
        })
    }

    fn option_name(&self, call: &Syscall) -> Step<(String, String)> {
        match (call.args.get(1), call.args.get(2)) {
            (Some(Expr::Symbol(level)), Some(Expr::Symbol(name))) => {
                Ok((level.clone(), name.clone()))
            }
            _ => Err(Stop::Skip(format!(
                "{}() with a numeric level or option name",
                call.name
            ))),
        }
    }

    fn getsockopt(&mut self, call: &Syscall, fd: i64, sock: &Socket) -> Step<Attempt> {
        let (_, name) = self.option_name(call)?;
        let int = |v: i64| {
            Attempt::Done(Outcome {
                ret: 0,
                errno: None,
                out: Some(OutVal::Int(v)),
            })
        };
        let c = &self.profile.config;
        Ok(match name.as_str() {
            "SO_ERROR" => {
                let e = self.take_error(fd);
                Attempt::Done(Outcome {
                    ret: 0,
                    errno: None,
                    out: Some(OutVal::Errno(e)),
                })
            }
            // A connection's own buffers (auto-tuning may have grown them), else the
            // configured size a new connection starts with.
            "SO_RCVBUF" | "SO_SNDBUF" => {
                let (rcv, snd) = (c.recv_buffer, c.send_buffer);
                let stats = sock.conn().and_then(|conn| self.ep().stats(conn));
                int(match (name.as_str(), stats) {
                    ("SO_RCVBUF", Some(st)) => st.recv_buffer as i64,
                    ("SO_RCVBUF", None) => rcv as i64,
                    (_, Some(st)) => st.send_buffer as i64,
                    (_, None) => snd as i64,
                })
            }
            "SO_REUSEADDR" => int(i64::from(sock.opts.reuseaddr)),
            "SO_KEEPALIVE" => int(i64::from(sock.opts.keepalive)),
            "TCP_NODELAY" => int(i64::from(sock.opts.nodelay)),
            "TCP_KEEPIDLE" => int(sock.opts.keepidle.as_secs() as i64),
            "TCP_KEEPINTVL" => int(sock.opts.keepintvl.as_secs() as i64),
            "TCP_KEEPCNT" => int(i64::from(sock.opts.keepcnt)),
            "TCP_KEEPINIT" => int(sock.opts.keepinit.as_secs() as i64),
            "TCP_USER_TIMEOUT" => int(sock.opts.user_timeout.map_or(0, |d| d.as_millis() as i64)),
            _ => err("ENOPROTOOPT"),
        })
    }

    fn setsockopt(&mut self, call: &Syscall, fd: i64, sock: &Socket) -> Step<Attempt> {
        let (_, name) = self.option_name(call)?;
        let value = match call.args.get(3) {
            Some(Expr::Struct(fields)) => {
                // struct linger {l_onoff, l_linger}
                if name != "SO_LINGER" {
                    return Ok(err("EINVAL"));
                }
                let get = |n: &str, i: usize| {
                    fields
                        .iter()
                        .find(|(f, _)| f.as_deref() == Some(n))
                        .or_else(|| fields.get(i))
                        .map(|(_, e)| e.clone())
                };
                let on = get("l_onoff", 0)
                    .map(|e| self.eval(&e))
                    .transpose()?
                    .unwrap_or(0);
                let secs = get("l_linger", 1)
                    .map(|e| self.eval(&e))
                    .transpose()?
                    .unwrap_or(0);
                if on != 0 && secs != 0 {
                    // A lingering close that waits is not modelled (close never blocks).
                    return Ok(err("ENOPROTOOPT"));
                }
                self.socket_mut(fd).expect("exists").opts.linger_zero = on != 0;
                return Ok(ok(0));
            }
            Some(e) => self.eval(e)?,
            None => return Ok(err("EINVAL")),
        };
        let conn = sock.conn();
        let now = self.now;
        let mut o = sock.opts;
        match name.as_str() {
            "SO_REUSEADDR" | "SO_REUSEPORT" => o.reuseaddr = value != 0,
            "TCP_NODELAY" => {
                o.nodelay = value != 0;
                if let Some(c) = conn {
                    let _ = self.ep().set_nodelay(c, value != 0);
                }
            }
            "SO_KEEPALIVE" | "TCP_KEEPIDLE" | "TCP_KEEPINTVL" | "TCP_KEEPCNT" => {
                if value < 0 || (value == 0 && name != "SO_KEEPALIVE") {
                    return Ok(err("EINVAL"));
                }
                match name.as_str() {
                    "SO_KEEPALIVE" => o.keepalive = value != 0,
                    "TCP_KEEPIDLE" => o.keepidle = Duration::from_secs(value as u64),
                    "TCP_KEEPINTVL" => o.keepintvl = Duration::from_secs(value as u64),
                    _ => o.keepcnt = value as u32,
                }
                if let Some(c) = conn {
                    let ka = o.keepalive.then_some(Keepalive {
                        idle: o.keepidle,
                        interval: o.keepintvl,
                        probes: o.keepcnt,
                    });
                    let _ = self.ep().set_keepalive(now, c, ka);
                }
            }
            "TCP_USER_TIMEOUT" => {
                if value < 0 {
                    return Ok(err("EINVAL"));
                }
                let t = Duration::from_millis(value as u64);
                o.user_timeout = Some(t);
                if let Some(c) = conn {
                    let _ = self.ep().set_user_timeout(c, t);
                }
            }
            _ => return Ok(err("ENOPROTOOPT")),
        }
        self.socket_mut(fd).expect("exists").opts = o;
        Ok(ok(0))
    }
}

const MSG_DONTWAIT: i64 = 0x80;
const MSG_WAITALL: i64 = 0x100;

fn is_buffer_size(call: &Syscall) -> bool {
    matches!(call.args.get(2), Some(Expr::Symbol(s)) if s == "SO_RCVBUF" || s == "SO_SNDBUF")
}
