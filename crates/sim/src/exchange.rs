//! A ready-made scenario: an echo exchange between a client and a server.
//!
//! The server listens; the client connects and sends its bytes; the server echoes every
//! byte it reads; once the client has read the whole echo it shuts down its sending
//! direction (FIN); the server reads to end of stream and closes (its FIN); the client
//! reads end of stream and its connection waits out TIME-WAIT. Both sides check what
//! they read. This is what `synack demo` runs, and a convenient load for scenario tests
//! (wrap it with link impairments and filters).
//!
//! The applications are played by [`Exchange::drive`], which must be called between
//! simulator steps; [`Exchange::run`] does that until both connections are gone.

use crate::sim::{HostId, Sim, SimError, Stop};
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use synack::{ConnId, Error, Event, FourTuple, Instant, ListenerId, State};

/// One side's application: what it sent and read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppState {
    /// The connection, once connected (client) or accepted (server).
    pub conn: Option<ConnId>,
    /// Its 4-tuple, from this side's point of view, once known.
    pub tuple: Option<FourTuple>,
    /// Bytes accepted by `send` so far.
    pub sent: usize,
    /// Bytes read by `recv` so far.
    pub received: Vec<u8>,
    /// `recv` returned end of stream.
    pub eof: bool,
    /// This side has called `shutdown` (client) or `close` (server).
    pub closed: bool,
    /// Application calls that failed in a way the exchange does not expect.
    pub errors: Vec<String>,
}

/// The echo exchange. See the module documentation.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The client host.
    pub client: HostId,
    /// The server host.
    pub server: HostId,
    listener: ListenerId,
    data: Vec<u8>,
    /// The client application's progress.
    pub client_side: AppState,
    /// The server application's progress.
    pub server_side: AppState,
    /// Received by the server but not yet accepted by its `send` (the echo backlog).
    echo_backlog: Vec<u8>,
    started_at: Instant,
}

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Bytes the client meant to send.
    pub expected: usize,
    /// Bytes the client's `send` accepted.
    pub client_sent: usize,
    /// Bytes the server read.
    pub server_received: usize,
    /// The server read exactly the client's bytes.
    pub server_received_intact: bool,
    /// Bytes the server's `send` accepted (the echo).
    pub server_sent: usize,
    /// Bytes the client read.
    pub client_received: usize,
    /// The client read back exactly its own bytes.
    pub client_received_intact: bool,
    /// The client's connection state now (`None`: gone, i.e. CLOSED, or never made).
    pub client_state: Option<State>,
    /// The server's connection state now (`None`: gone, i.e. CLOSED, or never made).
    pub server_state: Option<State>,
    /// Application calls that failed unexpectedly, prefixed with the side.
    pub errors: Vec<String>,
    /// The server accepted the connection.
    pub server_accepted: bool,
    /// Virtual time from the start of the exchange to now.
    pub elapsed: Duration,
    /// Both applications are done (or failed) and both connections are gone.
    pub finished: bool,
    /// The run reached its deadline before the exchange finished.
    pub timed_out: bool,
}

impl Report {
    /// Data arrived intact both ways, no call failed, both connections reached CLOSED.
    pub fn success(&self) -> bool {
        self.finished
            && self.server_accepted
            && self.server_received_intact
            && self.client_received_intact
            && self.errors.is_empty()
            && matches!(self.client_state, None | Some(State::Closed))
            && matches!(self.server_state, None | Some(State::Closed))
    }
}

/// An error an application call may return in normal operation: try again later.
fn transient(e: Error) -> bool {
    matches!(e, Error::WouldBlock | Error::NotConnected)
}

impl Exchange {
    /// Make `server` listen on `server_addr` and `client` connect to it from
    /// `client_addr` (ephemeral port), at the current virtual time; the client will send
    /// `data`.
    pub fn start(
        sim: &mut Sim,
        client: HostId,
        client_addr: IpAddr,
        server: HostId,
        server_addr: SocketAddr,
        data: Vec<u8>,
    ) -> Result<Exchange, Error> {
        let listener = sim.endpoint_mut(server).listen(server_addr, 16)?;
        let now = sim.now();
        let conn =
            sim.endpoint_mut(client)
                .connect(now, SocketAddr::new(client_addr, 0), server_addr)?;
        let tuple = sim.endpoint(client).tuple(conn);
        Ok(Exchange {
            client,
            server,
            listener,
            data,
            client_side: AppState {
                conn: Some(conn),
                tuple,
                ..AppState::default()
            },
            server_side: AppState::default(),
            echo_backlog: Vec::new(),
            started_at: now,
        })
    }

    /// The bytes the client sends.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Play both applications once: accept, send what fits, read what is there, echo,
    /// shut down and close when it is time. Call before every simulator step.
    pub fn drive(&mut self, sim: &mut Sim) {
        let now = sim.now();
        // Events only tell us to look; the calls below find out what there is.
        while sim.endpoint_mut(self.client).poll_event().is_some() {}
        let mut incoming = false;
        while let Some(event) = sim.endpoint_mut(self.server).poll_event() {
            incoming |= matches!(event, Event::Incoming(_));
        }
        self.drive_client(sim, now);
        if self.server_side.conn.is_none() || incoming {
            self.accept(sim);
        }
        self.drive_server(sim, now);
    }

    fn accept(&mut self, sim: &mut Sim) {
        if self.server_side.conn.is_some() {
            return;
        }
        match sim.endpoint_mut(self.server).accept(self.listener) {
            Ok(conn) => {
                self.server_side.conn = Some(conn);
                self.server_side.tuple = sim.endpoint(self.server).tuple(conn);
            }
            Err(Error::WouldBlock) => {}
            Err(e) => self.server_side.errors.push(format!("accept: {e}")),
        }
    }

    /// Read everything available into `side.received`; returns the new bytes.
    fn read(sim: &mut Sim, host: HostId, now: Instant, side: &mut AppState) -> Vec<u8> {
        let mut fresh = Vec::new();
        let Some(conn) = side.conn else {
            return fresh;
        };
        if side.eof || !side.errors.is_empty() {
            return fresh;
        }
        let mut buf = [0u8; 4096];
        loop {
            match sim.endpoint_mut(host).recv(now, conn, &mut buf) {
                Ok(0) => {
                    side.eof = true;
                    break;
                }
                Ok(n) => fresh.extend_from_slice(buf.get(..n).unwrap_or(&[])),
                Err(e) if transient(e) => break,
                Err(e) => {
                    side.errors.push(format!("recv: {e}"));
                    break;
                }
            }
        }
        side.received.extend_from_slice(&fresh);
        fresh
    }

    /// Send as much of `pending` as the endpoint takes; returns how much it took.
    fn write(
        sim: &mut Sim,
        host: HostId,
        now: Instant,
        side: &mut AppState,
        pending: &[u8],
    ) -> usize {
        let Some(conn) = side.conn else {
            return 0;
        };
        let mut taken = 0;
        while let Some(rest) = pending.get(taken..).filter(|r| !r.is_empty()) {
            match sim.endpoint_mut(host).send(now, conn, rest) {
                Ok(0) => break,
                Ok(n) => taken += n,
                Err(e) if transient(e) => break,
                Err(e) => {
                    side.errors.push(format!("send: {e}"));
                    break;
                }
            }
        }
        side.sent += taken;
        taken
    }

    fn drive_client(&mut self, sim: &mut Sim, now: Instant) {
        let side = &mut self.client_side;
        if side.tuple.is_none() {
            side.tuple = side.conn.and_then(|c| sim.endpoint(self.client).tuple(c));
        }
        if !side.errors.is_empty() {
            return;
        }
        if let Some(rest) = self.data.get(side.sent..) {
            Self::write(sim, self.client, now, side, rest);
        }
        Self::read(sim, self.client, now, side);
        // Shut down only once connected: CLOSE in SYN-SENT would abandon the connection
        // (RFC 9293 §3.10.4).
        let connected = side
            .conn
            .and_then(|c| sim.endpoint(self.client).state(c))
            .is_some_and(State::is_synchronized);
        let echoed = side.received.len() >= self.data.len();
        if connected && (echoed || side.eof) && !side.closed && side.errors.is_empty() {
            if let Some(conn) = side.conn {
                match sim.endpoint_mut(self.client).shutdown(now, conn) {
                    Ok(()) => side.closed = true,
                    Err(e) if transient(e) => {}
                    Err(e) => side.errors.push(format!("shutdown: {e}")),
                }
            }
        }
    }

    fn drive_server(&mut self, sim: &mut Sim, now: Instant) {
        let side = &mut self.server_side;
        if side.conn.is_none() || !side.errors.is_empty() {
            return;
        }
        let fresh = Self::read(sim, self.server, now, side);
        self.echo_backlog.extend_from_slice(&fresh);
        if !self.echo_backlog.is_empty() && side.errors.is_empty() {
            let taken = Self::write(sim, self.server, now, side, &self.echo_backlog);
            self.echo_backlog
                .drain(..taken.min(self.echo_backlog.len()));
        }
        if side.eof && self.echo_backlog.is_empty() && !side.closed && side.errors.is_empty() {
            if let Some(conn) = side.conn {
                match sim.endpoint_mut(self.server).close(now, conn) {
                    Ok(()) => side.closed = true,
                    Err(e) if transient(e) => {}
                    Err(e) => side.errors.push(format!("close: {e}")),
                }
            }
        }
    }

    /// The state of one side's connection now; `None` once the endpoint holds nothing
    /// for it any more (CLOSED).
    fn state(sim: &Sim, host: HostId, side: &AppState) -> Option<State> {
        let tuple = side.tuple?;
        sim.endpoint(host).state_of(tuple)
    }

    /// Both applications are done (or one failed) and both connections are gone (past
    /// TIME-WAIT), or were never made.
    pub fn finished(&self, sim: &Sim) -> bool {
        let gone = |host, side: &AppState| {
            matches!(Self::state(sim, host, side), None | Some(State::Closed))
        };
        let failed = !self.client_side.errors.is_empty() || !self.server_side.errors.is_empty();
        let done = self.client_side.closed && self.client_side.eof && self.server_side.closed;
        (done || failed)
            && gone(self.client, &self.client_side)
            && gone(self.server, &self.server_side)
    }

    /// Drive the exchange until it is finished, the network is idle, or the virtual
    /// clock passes `deadline`; then report.
    pub fn run(&mut self, sim: &mut Sim, deadline: Instant) -> Result<Report, SimError> {
        let stop = sim.run_while(|sim| {
            self.drive(sim);
            !self.finished(sim) && sim.now() < deadline
        })?;
        if stop == Stop::Idle {
            // One last look: the final events may have made something readable.
            self.drive(sim);
        }
        let mut report = self.report(sim);
        report.timed_out = !report.finished && sim.now() >= deadline;
        Ok(report)
    }

    /// Where the exchange stands now.
    pub fn report(&self, sim: &Sim) -> Report {
        let mut errors = Vec::new();
        errors.extend(
            self.client_side
                .errors
                .iter()
                .map(|e| format!("client {e}")),
        );
        errors.extend(
            self.server_side
                .errors
                .iter()
                .map(|e| format!("server {e}")),
        );
        Report {
            expected: self.data.len(),
            client_sent: self.client_side.sent,
            server_received: self.server_side.received.len(),
            server_received_intact: self.server_side.received == self.data,
            server_sent: self.server_side.sent,
            client_received: self.client_side.received.len(),
            client_received_intact: self.client_side.received == self.data,
            client_state: Self::state(sim, self.client, &self.client_side),
            server_state: Self::state(sim, self.server, &self.server_side),
            errors,
            server_accepted: self.server_side.conn.is_some(),
            elapsed: sim.now().saturating_since(self.started_at),
            finished: self.finished(sim),
            timed_out: false,
        }
    }
}
