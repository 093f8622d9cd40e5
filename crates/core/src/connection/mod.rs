//! One TCP connection: the Transmission Control Block of RFC 9293 §3.3.1 and the state
//! machine that moves it through §3.3.2's states.
//!
//! The code is split along the RFC's own seams:
//! - this file: the TCB, opening (§3.10.1) and the application's calls (§3.10.2–3.10.6);
//! - [`input`]: segment arrival, in the order of §3.10.7 (sequence number, RST, SYN, ACK,
//!   text, FIN), each step a function citing its section;
//! - [`output`]: deciding what to send next (§3.8.6 flow control, Nagle §3.7.4, SWS
//!   avoidance §3.8.6.2, delayed ACKs §3.8.6.3, zero-window probes §3.8.6.1);
//! - [`timers`]: retransmission (RFC 6298, §3.8.1–3.8.3), persist, delayed ACK,
//!   keep-alive (§3.8.4) and TIME-WAIT (§3.6.1).

mod input;
mod output;
mod timers;

pub(crate) use input::Segment;

use crate::congestion::NewReno;
use crate::endpoint::{CloseReason, ConnId, Event};
use crate::outbox::Ctx;
use crate::reassembly::ReceiveBuffer;
use crate::rtt::RttEstimator;
use crate::send_buffer::SendBuffer;
use crate::{Config, Error, FourTuple, Instant, Keepalive, SeqNum, State};
use core::time::Duration;
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// MUST-11: how SYN-RECEIVED was entered decides where a RST sends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Active OPEN: a RST in SYN-RECEIVED means "connection refused", to CLOSED.
    Active,
    /// Passive OPEN from the listener at this slab key: a RST returns it to LISTEN
    /// (the half-open connection is simply dropped from the listener's SYN queue).
    Passive { listener: u32, generation: u32 },
}

/// Who holds a handle to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Not yet accepted: owned by its listener's queues.
    Listener,
    /// The application holds the `ConnId`.
    App,
    /// The application closed or aborted it; the endpoint frees it when it ends.
    Released,
}

/// Largest window a header can carry without window scaling (RFC 9293 §3.1, MUST-1).
pub(crate) const MAX_UNSCALED_WINDOW: u32 = 65_535;

/// The TCB.
pub(crate) struct Connection {
    pub id: ConnId,
    pub tuple: FourTuple,
    pub state: State,
    pub origin: Origin,
    pub owner: Owner,
    pub close_reason: Option<CloseReason>,

    // Send sequence space (§3.3.1, Figure 3). `snd_max` is the highest sequence number
    // ever sent: after a timeout `snd_nxt` goes back to `snd_una` and climbs again.
    pub(crate) iss: SeqNum,
    pub(crate) snd_una: SeqNum,
    pub(crate) snd_nxt: SeqNum,
    pub(crate) snd_max: SeqNum,
    pub(crate) snd_wnd: u32,
    pub(crate) max_snd_wnd: u32,
    pub(crate) snd_wl1: SeqNum,
    pub(crate) snd_wl2: SeqNum,
    pub(crate) send_buf: SendBuffer,
    /// The application has closed its sending direction: a FIN follows the data.
    pub(crate) fin_queued: bool,
    /// Our FIN has been acknowledged.
    pub(crate) fin_was_acked: bool,

    // Receive sequence space (§3.3.1, Figure 4).
    pub(crate) irs: SeqNum,
    pub(crate) rcv_nxt: SeqNum,
    /// Right edge of the window last advertised (never moves left, §3.8.6).
    pub(crate) rcv_adv: SeqNum,
    pub(crate) recv_buf: ReceiveBuffer,
    /// Sequence number of a FIN that arrived ahead of a hole, processed once the hole fills.
    pub(crate) pending_fin: Option<SeqNum>,
    /// The peer's FIN has been processed: the receive direction is finished.
    pub(crate) fin_received: bool,

    /// Effective send MSS (MUST-16).
    pub(crate) smss: u16,
    /// The MSS we advertise.
    pub(crate) rcv_mss: u16,

    // Retransmission (RFC 6298) and timers.
    pub(crate) rtt: RttEstimator,
    /// The segment being timed for an RTT sample: (its end sequence, when sent). Karn's
    /// rule: cleared when anything is retransmitted.
    pub(crate) rtt_probe: Option<(SeqNum, Instant)>,
    pub(crate) rto_at: Option<Instant>,
    pub(crate) persist_at: Option<Instant>,
    pub(crate) persist_backoff: u32,
    pub(crate) delack_at: Option<Instant>,
    pub(crate) keepalive_at: Option<Instant>,
    pub(crate) time_wait_until: Option<Instant>,
    /// Consecutive timeouts of the same data (R1/R2 bookkeeping, §3.8.3).
    pub(crate) retransmits: u32,
    /// R2 (§3.8.3): when retransmitting the oldest unacknowledged segment must stop,
    /// counted from its original transmission; set at its first timeout.
    pub(crate) r2_deadline: Option<Instant>,

    // ACK policy (§3.8.6.3).
    pub(crate) ack_now: bool,
    /// Bytes received in order since we last sent an ACK.
    pub(crate) bytes_unacked: u32,

    // One-shot transmissions.
    pub(crate) retransmit_first: bool,
    pub(crate) probe_due: bool,
    pub(crate) keepalive_due: bool,
    pub(crate) rst_due: bool,
    /// A SYN-ACK has been sent: the next one is a retransmission.
    pub(crate) syn_ack_sent: bool,
    /// The ACK that completes an active open goes out on its own, before any data (as
    /// Linux does, and as RFC 9293 Figure 6 draws it).
    pub(crate) handshake_ack_due: bool,

    // Per-connection options the application may set.
    pub(crate) nodelay: bool,
    pub(crate) r2: Duration,
    pub(crate) keepalive: Option<Keepalive>,
    pub(crate) keepalive_sent: u32,
    pub(crate) last_received: Instant,

    pub(crate) cc: NewReno,

    // Endpoint bookkeeping.
    /// Earliest timer entry this connection has in the endpoint's timer queue.
    pub(crate) timer_entry: Option<Instant>,
    /// Queued in the endpoint's ready-to-send list.
    pub(crate) tx_queued: bool,
    /// Event coalescing: a `Readable`/`Writable` is outstanding.
    pub(crate) readable_signalled: bool,
    pub(crate) writable_signalled: bool,
    /// The application wanted to write but the buffer was full.
    pub(crate) write_blocked: bool,
    /// Which queue of its listener a passive connection is counted in.
    pub(crate) listener_queue: crate::listener::ListenerQueue,
    /// Statistics.
    pub(crate) retransmitted_segments: u64,
}

impl Connection {
    fn blank(id: ConnId, tuple: FourTuple, config: &Config, iss: SeqNum, now: Instant) -> Self {
        let ipv6 = tuple.local.is_ipv6();
        let rcv_mss = advertised_mss(config.mtu, ipv6);
        // MUST-15: without an MSS option assume 536 (IPv4) / 1220 (IPv6).
        let smss = if ipv6 { 1220 } else { 536 }.min(rcv_mss);
        Connection {
            id,
            tuple,
            state: State::Closed,
            origin: Origin::Active,
            owner: Owner::App,
            close_reason: None,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: SeqNum(0),
            send_buf: SendBuffer::new(config.send_buffer),
            fin_queued: false,
            fin_was_acked: false,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_adv: SeqNum(0),
            recv_buf: ReceiveBuffer::new(config.recv_buffer.min(MAX_UNSCALED_WINDOW as usize)),
            pending_fin: None,
            fin_received: false,
            smss,
            rcv_mss,
            rtt: RttEstimator::new(config.rto_initial, config.rto_min, config.rto_max),
            rtt_probe: None,
            rto_at: None,
            persist_at: None,
            persist_backoff: 0,
            delack_at: None,
            keepalive_at: None,
            time_wait_until: None,
            retransmits: 0,
            r2_deadline: None,
            ack_now: false,
            bytes_unacked: 0,
            retransmit_first: false,
            probe_due: false,
            keepalive_due: false,
            rst_due: false,
            syn_ack_sent: false,
            handshake_ack_due: false,
            nodelay: config.nodelay,
            r2: config.r2_data,
            keepalive: config.keepalive,
            keepalive_sent: 0,
            last_received: now,
            cc: NewReno::new(smss, config.initial_cwnd_segments),
            timer_entry: None,
            tx_queued: false,
            readable_signalled: false,
            writable_signalled: false,
            write_blocked: false,
            listener_queue: crate::listener::ListenerQueue::None,
            retransmitted_segments: 0,
        }
    }

    /// Active OPEN (§3.10.1): the TCB in SYN-SENT, its SYN ready to go.
    pub(crate) fn connect(ctx: &mut Ctx<'_>, id: ConnId, tuple: FourTuple, iss: SeqNum) -> Self {
        let mut c = Connection::blank(id, tuple, ctx.config, iss, ctx.now);
        c.set_state(ctx, State::SynSent);
        c
    }

    /// Passive OPEN meeting a SYN in LISTEN (§3.10.7.2): the TCB in SYN-RECEIVED, its
    /// SYN-ACK ready to go.
    pub(crate) fn accept_syn(
        ctx: &mut Ctx<'_>,
        id: ConnId,
        tuple: FourTuple,
        iss: SeqNum,
        listener: (u32, u32),
        syn: &Segment<'_>,
    ) -> Self {
        let mut c = Connection::blank(id, tuple, ctx.config, iss, ctx.now);
        c.origin = Origin::Passive {
            listener: listener.0,
            generation: listener.1,
        };
        c.owner = Owner::Listener;
        c.state = State::Listen;
        c.take_syn(ctx, syn);
        c.set_state(ctx, State::SynReceived);
        c
    }

    /// Record the peer's SYN: IRS, RCV.NXT, its MSS and window (§3.10.7.2, §3.10.7.3).
    pub(crate) fn take_syn(&mut self, ctx: &mut Ctx<'_>, syn: &Segment<'_>) {
        self.irs = syn.seq;
        self.rcv_nxt = syn.seq.add(1);
        self.rcv_adv = self.rcv_nxt.add_len(self.recv_buf.window());
        let peer_mss = syn.options.mss.unwrap_or(if self.tuple.local.is_ipv6() {
            1220
        } else {
            536
        });
        // MUST-16: min(SendMSS + 20, MMS_S) − 20 − IP options; we send no IP options and
        // MMS_S is our MTU minus the IP header, so this is min(SendMSS, our MSS).
        self.smss = peer_mss.min(self.rcv_mss).max(64);
        self.cc
            .set_smss(self.smss, ctx.config.initial_cwnd_segments);
        self.snd_wnd = u32::from(syn.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = syn.seq;
        self.snd_wl2 = syn.ack;
    }

    /// Move to `to`, recording the transition (and the close reason when reaching CLOSED).
    pub(crate) fn set_state(&mut self, ctx: &mut Ctx<'_>, to: State) {
        let from = self.state;
        ctx.out.state_change(ctx.now, self.tuple, from, to);
        self.state = to;
    }

    /// The connection ends (reaches CLOSED) for `reason`; tell the application.
    pub(crate) fn terminate(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason) {
        if self.state == State::Closed && self.close_reason.is_some() {
            return;
        }
        self.set_state(ctx, State::Closed);
        self.close_reason = Some(reason);
        self.clear_timers();
        self.retransmit_first = false;
        self.probe_due = false;
        self.keepalive_due = false;
        self.ack_now = false;
        self.send_buf = SendBuffer::new(0);
        if self.owner == Owner::App {
            ctx.out.events.push_back(Event::Closed(self.id, reason));
        } else {
            self.recv_buf = ReceiveBuffer::new(0);
        }
    }

    /// MUST-11: a passive connection reset in SYN-RECEIVED goes back to LISTEN, which
    /// for us means the listener forgets it (the trace shows the RFC's transition).
    pub(crate) fn return_to_listen(&mut self, ctx: &mut Ctx<'_>) {
        self.set_state(ctx, State::Listen);
        self.state = State::Closed;
        self.close_reason = Some(CloseReason::Reset);
        self.clear_timers();
        self.ack_now = false;
        self.send_buf = SendBuffer::new(0);
        self.recv_buf = ReceiveBuffer::new(0);
    }

    pub(crate) fn clear_timers(&mut self) {
        self.rto_at = None;
        self.persist_at = None;
        self.delack_at = None;
        self.keepalive_at = None;
        self.time_wait_until = None;
    }

    /// Queue a RST for this connection's peer (§3.5.2 / §3.10.5): `<SEQ=SND.NXT><CTL=RST>`.
    pub(crate) fn send_reset(&self, ctx: &mut Ctx<'_>) {
        let repr = TcpRepr {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq: self.snd_nxt.max(self.snd_max).raw(),
            ack: 0,
            flags: TcpFlags::RST,
            window: 0,
            urgent: 0,
            options: TcpOptions::default(),
        };
        ctx.out.reply(self.tuple, repr);
    }

    /// The window we advertise now: free receive buffer, at most 65,535 without scaling,
    /// never pulling the right edge back (§3.8.6) and applying receiver-side SWS
    /// avoidance (§3.8.6.2.2, MUST-39): the right edge only moves forward by at least
    /// min(buffer / 2, MSS).
    pub(crate) fn window_to_advertise(&self) -> u32 {
        let free = (self.recv_buf.window() as u32).min(MAX_UNSCALED_WINDOW);
        let current = self.rcv_adv.since(self.rcv_nxt);
        let step = (self.recv_buf.capacity() as u32 / 2)
            .min(u32::from(self.rcv_mss))
            .max(1);
        if free >= current.saturating_add(step) || free == current {
            free
        } else {
            current.min(MAX_UNSCALED_WINDOW)
        }
    }

    /// Our FIN has been sent and acknowledged.
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_was_acked
    }

    /// Bytes in flight: sent but not acknowledged (the SYN and FIN count one each).
    pub(crate) fn flight(&self) -> u32 {
        self.snd_nxt.since(self.snd_una)
    }

    // ---- Application calls (§3.10.2 – §3.10.6) ----

    /// SEND (§3.10.2).
    pub(crate) fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        if self.fin_queued || !self.state.can_send() {
            return Err(Error::BrokenPipe);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let n = self.send_buf.write(data);
        if n == 0 {
            self.write_blocked = true;
            return Err(Error::WouldBlock);
        }
        self.writable_signalled = false;
        Ok(n)
    }

    /// RECEIVE (§3.10.3). Returns `Ok(0)` at the end of the peer's stream.
    pub(crate) fn recv(&mut self, ctx: &mut Ctx<'_>, buf: &mut [u8]) -> Result<usize, Error> {
        self.readable_signalled = false;
        if self.recv_buf.readable() > 0 {
            if buf.is_empty() {
                return Ok(0);
            }
            let before = self.window_to_advertise();
            let n = self.recv_buf.read(buf);
            self.maybe_window_update(ctx, before);
            return Ok(n);
        }
        if self.fin_received {
            return Ok(0);
        }
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        match self.state {
            State::SynSent
            | State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2 => Err(Error::WouldBlock),
            _ => Ok(0),
        }
    }

    /// After the application read: if the window opened enough, send a window update
    /// (§3.8.6.2.2) so a sender blocked on a small or zero window can go on.
    fn maybe_window_update(&mut self, _ctx: &mut Ctx<'_>, before: u32) {
        let after = self.window_to_advertise();
        let advertised = self.rcv_adv.since(self.rcv_nxt);
        if after > before && after > advertised && self.state.is_synchronized() {
            let step = (self.recv_buf.capacity() as u32 / 2).min(u32::from(self.rcv_mss));
            if advertised < step || after - advertised >= 2 * u32::from(self.rcv_mss) {
                self.ack_now = true;
            }
        }
    }

    /// The error an I/O call gets once the connection has ended abnormally.
    fn closed_error(&self) -> Option<Error> {
        match self.close_reason {
            Some(CloseReason::Reset) => Some(Error::ConnectionReset),
            Some(CloseReason::Refused) => Some(Error::ConnectionRefused),
            Some(CloseReason::TimedOut) => Some(Error::TimedOut),
            Some(CloseReason::Aborted) => Some(Error::NotConnected),
            Some(CloseReason::Normal) | None => None,
        }
    }

    /// CLOSE (§3.10.4) for the sending direction: queue a FIN after the data.
    pub(crate) fn shutdown(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        match self.state {
            State::SynSent => {
                // Nothing was sent: delete the TCB (§3.10.4, SYN-SENT).
                self.terminate(ctx, CloseReason::Normal);
            }
            State::SynReceived | State::Established => {
                // FIN-WAIT-1 once the FIN can follow the queued data; we enter it now and
                // the FIN goes out after the data (in SYN-RECEIVED, after the handshake).
                self.fin_queued = true;
                if self.state == State::Established {
                    self.set_state(ctx, State::FinWait1);
                }
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.set_state(ctx, State::LastAck);
            }
            // Already closing in this direction: "ok" (the RFC's "error: connection
            // closing" is no use to a caller that only wants the FIN sent).
            _ => {}
        }
        Ok(())
    }

    /// Full close by the application: it will read nothing more. Unread data means data
    /// would be lost, so send a RST instead of a FIN (SHLD-3).
    pub(crate) fn close(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let unread = self.recv_buf.readable() > 0 || self.recv_buf.has_out_of_order();
        self.owner = Owner::Released;
        if self.state == State::Closed {
            return Ok(());
        }
        if unread && (self.state.is_synchronized() || self.state == State::SynReceived) {
            self.abort(ctx);
            return Ok(());
        }
        self.recv_buf = ReceiveBuffer::new(0);
        let _ = self.shutdown(ctx);
        Ok(())
    }

    /// ABORT (§3.10.5).
    pub(crate) fn abort(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait => self.send_reset(ctx),
            _ => {}
        }
        self.terminate(ctx, CloseReason::Aborted);
    }

    pub(crate) fn set_keepalive(&mut self, now: Instant, keepalive: Option<Keepalive>) {
        self.keepalive = keepalive;
        self.keepalive_sent = 0;
        self.keepalive_at = None;
        self.arm_keepalive(now);
    }
}

/// The MSS we advertise: the MTU less minimal IP and TCP headers (§3.7.1).
pub(crate) fn advertised_mss(mtu: u16, ipv6: bool) -> u16 {
    let overhead = if ipv6 { 60 } else { 40 };
    mtu.saturating_sub(overhead).max(64)
}

#[cfg(test)]
mod size_tests {
    /// An idle established connection must stay well under 1 KiB of heap (issue 2): the
    /// TCB itself (stored inline in the endpoint's slab) is the bulk of it, since buffers
    /// are released when drained.
    #[test]
    fn an_idle_tcb_stays_small() {
        let size = core::mem::size_of::<super::Connection>();
        assert!(size <= 640, "TCB grew to {size} bytes");
    }
}
