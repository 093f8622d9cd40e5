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
//!   keep-alive (§3.8.4) and TIME-WAIT (§3.6.1);
//! - [`recovery`]: loss recovery on the SACK scoreboard (RFC 6675), RACK-TLP (RFC 8985),
//!   PRR (RFC 9937) and the congestion controller (RFC 5681, RFC 9438).
//!
//! The options negotiated in the SYNs — window scale, timestamps, SACK (RFC 7323,
//! RFC 2018) — are used only when both SYNs carried them; a peer that offers none gets
//! a plain RFC 9293 connection.

mod input;
mod output;
mod recovery;
mod timers;
pub(crate) mod tx_pool;
mod urgent;

pub(crate) use input::Segment;

use crate::congestion::{CongestionControl, Controller};
use crate::endpoint::{CloseReason, ConnId, Event};
use crate::outbox::Ctx;
use crate::rack::RackPersistent;
use crate::reassembly::ReceiveBuffer;
use crate::rtt::RttEstimator;
use crate::sack::SackReceiver;
use crate::send_buffer::SendBuffer;
use crate::stats::{ConnStats, Counters};
use crate::timestamps::TsState;
use crate::window::{self, RcvTuning, Tune};
use crate::{Config, Error, FourTuple, Instant, Keepalive, SeqNum, State};
use core::time::Duration;
use recovery::TxState;
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

/// Bytes the timestamps option takes in every segment (NOP, NOP, kind, length, 8 bytes).
pub(crate) const TIMESTAMPS_OPTION_LEN: u16 = 12;

/// The segment being timed for an RTT sample (RFC 6298 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RttProbe {
    /// Its end: an ACK at or beyond this completes the measurement.
    pub end: SeqNum,
    /// When it was sent.
    pub sent: Instant,
    /// It was retransmitted since: with timestamps the timing goes on and the sample
    /// comes from the echo (RFC 7323 §4); without, the probe is dropped (Karn).
    pub ambiguous: bool,
}

/// Keep-alive state (§3.8.4), boxed: most connections never switch it on.
#[derive(Debug, Clone)]
pub(crate) struct KeepaliveState {
    pub params: Keepalive,
    /// When the next probe (or the check for idleness) is due.
    pub at: Option<Instant>,
    /// Probes sent without an answer.
    pub sent: u32,
}

impl KeepaliveState {
    fn new(params: Keepalive) -> Box<Self> {
        Box::new(KeepaliveState {
            params,
            at: None,
            sent: 0,
        })
    }
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
    /// Text that came on the peer's SYN in SYN-SENT (a simultaneous open), queued "for
    /// processing after the ESTABLISHED state has been reached" (§3.10.7.3).
    pub(crate) syn_text: Option<Box<[u8]>>,
    /// The peer's FIN has been processed: the receive direction is finished.
    pub(crate) fin_received: bool,

    /// Effective send MSS (MUST-16).
    pub(crate) smss: u16,
    /// The MSS we advertise.
    pub(crate) rcv_mss: u16,

    // Options negotiated in the SYNs (RFC 7323, RFC 2018): each is used only if both
    // SYNs carried it.
    pub(crate) wscale_ok: bool,
    pub(crate) sack_ok: bool,
    pub(crate) ts_ok: bool,
    /// Shift applied to windows the peer sends us (its SYN's Window Scale).
    pub(crate) snd_wscale: u8,
    /// Shift applied to windows we send (our SYN's Window Scale).
    pub(crate) rcv_wscale: u8,
    /// Timestamps (RFC 7323): our clock offset, TS.Recent, Last.ACK.sent.
    pub(crate) ts: TsState,
    /// Receive-buffer auto-tuning.
    pub(crate) rcv_tune: RcvTuning,
    /// SACK blocks to send (RFC 2018 §4, RFC 2883), while out-of-order data is held.
    pub(crate) sack_rx: Option<Box<SackReceiver>>,
    /// SND.UP and RCV.UP (§3.8.5), only while something is urgent.
    pub(crate) urgent: Option<Box<urgent::Urgent>>,

    // Retransmission (RFC 6298) and timers.
    pub(crate) rtt: RttEstimator,
    /// The segment being timed for an RTT sample: (its end sequence, when sent). Karn's
    /// rule: cleared when anything is retransmitted.
    pub(crate) rtt_probe: Option<RttProbe>,
    pub(crate) rto_at: Option<Instant>,
    pub(crate) persist_at: Option<Instant>,
    pub(crate) persist_backoff: u8,
    pub(crate) delack_at: Option<Instant>,
    pub(crate) time_wait_until: Option<Instant>,
    /// When to free send and receive buffers that are empty but still allocated
    /// ([`Connection::arm_buffer_release`]).
    pub(crate) buffers_release_at: Option<Instant>,
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
    pub(crate) probe_due: bool,
    pub(crate) keepalive_due: bool,
    pub(crate) rst_due: bool,
    /// A SYN-ACK has been sent: the next one is a retransmission.
    pub(crate) syn_ack_sent: bool,
    /// The ACK that completes an active open goes out on its own, before any data (as
    /// Linux does, and as RFC 9293 Figure 6 draws it).
    pub(crate) handshake_ack_due: bool,
    /// `Config::simultaneous_close_resends_fin`: the peer's FIN moved us to CLOSING and
    /// its acknowledgment is to carry our FIN again.
    pub(crate) fin_resend_due: bool,

    // Per-connection options the application may set.
    pub(crate) nodelay: bool,
    pub(crate) r2: Duration,
    /// Keep-alive, when switched on (§3.8.4; off by default, MUST-25).
    pub(crate) keepalive: Option<Box<KeepaliveState>>,
    pub(crate) last_received: Instant,
    /// When we last answered an unacceptable pure ACK, in milliseconds of the caller's
    /// clock truncated to 32 bits and compared wrapping (4 bytes rather than the 16 of
    /// an `Option<Instant>`; see `input::OUT_OF_WINDOW_ACK_INTERVAL`).
    pub(crate) out_of_window_ack_ms: Option<core::num::NonZeroU32>,

    /// The congestion controller (RFC 5681 / RFC 9438).
    pub(crate) cc: Controller,
    /// Scoreboard, RACK, PRR and recovery state, while data is outstanding.
    pub(crate) tx: Option<Box<TxState>>,
    /// What RACK learned about the path (RFC 8985 §6.2).
    pub(crate) rack_p: RackPersistent,
    /// RACK.min_RTT in µs (0: none yet) and when it was taken (seconds of `now`).
    pub(crate) min_rtt_us: u32,
    pub(crate) min_rtt_at: u32,

    // Endpoint bookkeeping.
    /// Earliest timer entry this connection has in the endpoint's timer queue
    /// (`Instant::FAR_FUTURE`: none; no entry is ever made for that instant, which
    /// [`Connection::next_deadline`] counts as never).
    pub(crate) timer_entry: Instant,
    /// The earliest deadline any timer was armed for since the endpoint last computed
    /// [`Connection::next_deadline`] (`Instant::FAR_FUTURE`: none). Only a timer armed
    /// since can be due before `timer_entry`, so while this is not earlier than
    /// `timer_entry` the endpoint need not look at the timers at all
    /// ([`Connection::arm`]).
    pub(crate) earliest_armed: Instant,
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
    pub(crate) counters: Counters,
    /// This connection's use of the challenge-ACK budget (RFC 5961 §7).
    pub(crate) challenge: crate::outbox::ChallengeShare,
    /// Buffer bytes the endpoint has counted for this connection (see `settle`).
    pub(crate) mem_charged: u32,
}

impl Connection {
    /// A TCB in CLOSED with everything at its initial value: what
    /// `Endpoint::add_conn` builds in the connection's slot before `connect` or
    /// `accept_syn` sets it up there. Inline, so that the TCB is written straight into
    /// its slot rather than built on the stack and copied there (680 bytes).
    #[inline(always)]
    pub(crate) fn blank(
        id: ConnId,
        tuple: FourTuple,
        config: &Config,
        iss: SeqNum,
        ts_offset: u32,
        now: Instant,
    ) -> Self {
        let ipv6 = tuple.local.is_ipv6();
        let rcv_mss = advertised_mss(config.mtu, ipv6);
        // MUST-15: without an MSS option assume 536 (IPv4) / 1220 (IPv6).
        let smss = if ipv6 { 1220 } else { 536 }.min(rcv_mss);
        // The shift we offer covers the largest buffer auto-tuning may reach.
        let rcv_wscale = if config.window_scaling {
            window::shift_for(config.recv_buffer_max.max(config.recv_buffer))
        } else {
            0
        };
        let initial_recv = if config.window_scaling {
            config.recv_buffer
        } else {
            config.recv_buffer.min(MAX_UNSCALED_WINDOW as usize)
        };
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
            recv_buf: ReceiveBuffer::new(initial_recv),
            pending_fin: None,
            syn_text: None,
            fin_received: false,
            smss,
            rcv_mss,
            wscale_ok: false,
            sack_ok: false,
            ts_ok: false,
            snd_wscale: 0,
            rcv_wscale,
            ts: TsState::new(ts_offset),
            rcv_tune: RcvTuning::new(SeqNum(0), rcv_mss, now),
            sack_rx: None,
            urgent: None,
            rtt: RttEstimator::new(config.rto_initial, config.rto_min, config.rto_max),
            rtt_probe: None,
            rto_at: None,
            persist_at: None,
            persist_backoff: 0,
            delack_at: None,
            time_wait_until: None,
            buffers_release_at: None,
            retransmits: 0,
            r2_deadline: None,
            ack_now: false,
            bytes_unacked: 0,
            probe_due: false,
            keepalive_due: false,
            rst_due: false,
            syn_ack_sent: false,
            handshake_ack_due: false,
            fin_resend_due: false,
            nodelay: config.nodelay,
            r2: config.r2_data,
            keepalive: config.keepalive.map(KeepaliveState::new),
            last_received: now,
            out_of_window_ack_ms: None,
            cc: Controller::new(
                config.congestion_control,
                smss,
                config.initial_cwnd_segments,
            ),
            tx: None,
            rack_p: RackPersistent::default(),
            min_rtt_us: 0,
            min_rtt_at: 0,
            timer_entry: Instant::FAR_FUTURE,
            earliest_armed: Instant::FAR_FUTURE,
            tx_queued: false,
            readable_signalled: false,
            writable_signalled: false,
            write_blocked: false,
            listener_queue: crate::listener::ListenerQueue::None,
            retransmitted_segments: 0,
            counters: Counters::default(),
            challenge: crate::outbox::ChallengeShare::default(),
            mem_charged: 0,
        }
    }

    /// Active OPEN (§3.10.1): a blank TCB into SYN-SENT, its SYN ready to go.
    pub(crate) fn connect(&mut self, ctx: &mut Ctx<'_>) {
        self.set_state(ctx, State::SynSent);
    }

    /// Passive OPEN meeting a SYN in LISTEN (§3.10.7.2): a blank TCB into SYN-RECEIVED, its
    /// SYN-ACK ready to go.
    pub(crate) fn accept_syn(
        &mut self,
        ctx: &mut Ctx<'_>,
        listener: (u32, u32),
        syn: &Segment<'_>,
    ) {
        self.origin = Origin::Passive {
            listener: listener.0,
            generation: listener.1,
        };
        self.owner = Owner::Listener;
        self.state = State::Listen;
        self.take_syn(ctx, syn);
        self.set_state(ctx, State::SynReceived);
    }

    /// Record the peer's SYN: IRS, RCV.NXT, its MSS and window (§3.10.7.2, §3.10.7.3),
    /// and settle which options both sides offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
    pub(crate) fn take_syn(&mut self, ctx: &mut Ctx<'_>, syn: &Segment<'_>) {
        self.irs = syn.seq;
        self.rcv_nxt = syn.seq.add(1);
        let config = ctx.config;
        self.wscale_ok = config.window_scaling && syn.options.window_scale.is_some();
        if self.wscale_ok {
            self.snd_wscale = syn.options.window_scale.unwrap_or(0).min(window::MAX_SHIFT);
        } else {
            self.snd_wscale = 0;
            self.rcv_wscale = 0;
            if self.recv_buf.capacity() > MAX_UNSCALED_WINDOW as usize {
                // Nothing has been received yet: the buffer can simply be replaced.
                self.recv_buf = ReceiveBuffer::new(MAX_UNSCALED_WINDOW as usize);
            }
        }
        self.sack_ok = config.sack && syn.options.sack_permitted;
        self.ts_ok = false;
        if config.timestamps {
            if let Some(ts) = syn.options.timestamps {
                self.ts_ok = true;
                self.ts.take_syn(ts.tsval, ctx.now);
            }
        }
        self.rcv_tune = RcvTuning::new(self.rcv_nxt, self.rcv_mss, ctx.now);
        self.rcv_adv = self
            .rcv_nxt
            .add_len(self.recv_buf.window().min(MAX_UNSCALED_WINDOW as usize));
        let peer_mss = syn.options.mss.unwrap_or(if self.tuple.local.is_ipv6() {
            1220
        } else {
            536
        });
        // MUST-16: min(SendMSS + 20, MMS_S) − 20 − IP options; we send no IP options and
        // MMS_S is our MTU minus the IP header, so this is min(SendMSS, our MSS).
        // A floor protects against peers announcing absurdly small MSSs, but our own
        // MTU bound (rcv_mss, from MMS_S) always holds: a floor above it would send
        // datagrams larger than the link takes.
        self.smss = peer_mss.max(64).min(self.rcv_mss);
        if self.ts_ok {
            // MUST-16 counts TCP options in the header size: every segment now carries
            // the 12-byte timestamps option, so it carries 12 bytes less data (as
            // Linux's `mss_cache`); otherwise full segments exceed the MTU.
            self.smss = self.smss.saturating_sub(TIMESTAMPS_OPTION_LEN).max(64);
        }
        self.cc
            .set_smss(self.smss, ctx.config.initial_cwnd_segments);
        if config.recv_buffer_whole_segments {
            // A whole number of segments (FreeBSD's tcp_mss; RFC 9293 §3.8.6 leaves the
            // buffer behind the window to the receiver). Nothing is held yet.
            let mss = usize::from(self.smss.max(1));
            let cap = self.recv_buf.capacity();
            if cap >= mss {
                let rounded = cap.div_ceil(mss).saturating_mul(mss);
                self.recv_buf
                    .set_capacity(rounded.min(config.recv_buffer_max.max(cap)));
            }
        }
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
        self.probe_due = false;
        self.keepalive_due = false;
        self.ack_now = false;
        self.send_buf = SendBuffer::new(0);
        self.drop_tx_state(&mut ctx.out.tx_pool);
        self.sack_rx = None;
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
        self.drop_tx_state(&mut ctx.out.tx_pool);
        self.sack_rx = None;
    }

    pub(crate) fn clear_timers(&mut self) {
        self.rto_at = None;
        if let Some(tx) = self.tx.as_mut() {
            tx.loss_timer = None;
        }
        self.persist_at = None;
        self.delack_at = None;
        if let Some(k) = self.keepalive.as_mut() {
            k.at = None;
        }
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

    /// The largest window the header can carry on this connection: 65,535 without
    /// window scaling (MUST-1), 65,535 × 2^shift with it (RFC 7323 §2).
    pub(crate) fn max_advertisable(&self) -> u32 {
        if self.wscale_ok {
            window::max_window(self.rcv_wscale)
        } else {
            MAX_UNSCALED_WINDOW
        }
    }

    /// The window we advertise now: free receive buffer, at most what the header can
    /// carry, never pulling the right edge back (§3.8.6) and applying receiver-side SWS
    /// avoidance (§3.8.6.2.2, MUST-39): the right edge only moves forward by at least
    /// min(buffer / 2, MSS). (The header rounds it to the window scale.)
    pub(crate) fn window_to_advertise(&self) -> u32 {
        let max = self.max_advertisable();
        let free = u32::try_from(self.recv_buf.window())
            .unwrap_or(u32::MAX)
            .min(max);
        let current = self.rcv_adv.since(self.rcv_nxt);
        let step = (self.recv_buf.capacity() as u32 / 2)
            .min(u32::from(self.rcv_mss))
            .max(1);
        if free >= current.saturating_add(step) || free == current {
            free
        } else {
            current.min(max)
        }
    }

    /// Heap bytes of the send and receive buffers now.
    pub(crate) fn buffer_bytes(&self) -> usize {
        self.send_buf.heap_bytes() + self.recv_buf.heap_bytes()
    }

    /// RCV.WND for the acceptability test (§3.10.7.4, first check): the window last
    /// advertised, or with `Config::accept_beyond_advertised` the larger of that and
    /// the free receive buffer — where the connection has a buffer of its own: not a
    /// passive one still in its listener's SYN queue, nor one in TIME-WAIT.
    #[inline(always)]
    pub(crate) fn rcv_wnd(&self, config: &Config) -> u32 {
        let advertised = self.rcv_adv.since(self.rcv_nxt);
        let own_buffer = match self.state {
            State::SynReceived => self.origin == Origin::Active,
            State::TimeWait => false,
            s => s.is_synchronized(),
        };
        if config.accept_beyond_advertised && own_buffer {
            let free = u32::try_from(self.recv_buf.window()).unwrap_or(u32::MAX);
            advertised.max(free)
        } else {
            advertised
        }
    }

    /// Our FIN has been sent and not yet acknowledged (it is the last sequence number
    /// sent).
    pub(crate) fn fin_in_flight(&self) -> bool {
        self.fin_queued
            && !self.fin_was_acked
            && self.snd_max == self.snd_una.add_len(self.send_buf.len()).add(1)
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
    ///
    /// Under memory pressure (`Config::max_buffer_memory` reached) only what fits the
    /// buffer's current allocation is taken; if nothing does, `NoBufferSpace`.
    pub(crate) fn send(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> Result<usize, Error> {
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        if self.fin_queued || !self.state.can_send() {
            return Err(Error::BrokenPipe);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let mut data = data;
        if ctx.out.memory_pressure(ctx.config) && self.send_buf.free() > 0 {
            let room = self.send_buf.allocated_free();
            if room == 0 {
                ctx.out.stats.memory_drops += 1;
                return Err(Error::NoBufferSpace);
            }
            data = &data[..data.len().min(room)];
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
        self.recv_by(ctx, |rb| rb.read(buf))
    }

    /// RECEIVE without a copy: `f` is lent the readable bytes that lie in one piece
    /// ([`ReceiveBuffer::readable_front`]) and returns how many of them it took, which
    /// are then gone from the buffer (more than it was lent counts as all of them).
    /// Otherwise as [`Connection::recv`].
    pub(crate) fn recv_with(
        &mut self,
        ctx: &mut Ctx<'_>,
        f: impl FnOnce(&[u8]) -> usize,
    ) -> Result<usize, Error> {
        self.recv_by(ctx, |rb| {
            let front = rb.readable_front();
            // Never more than was lent: past a wrap lie bytes the reader has not seen.
            let taken = f(front).min(front.len());
            rb.discard(taken)
        })
    }

    /// RECEIVE (§3.10.3) with `take` removing bytes from the receive buffer when some are
    /// readable: then the window may open (auto-tuning, a window update); otherwise the
    /// end of stream, the connection's error or `WouldBlock`.
    fn recv_by(
        &mut self,
        ctx: &mut Ctx<'_>,
        take: impl FnOnce(&mut ReceiveBuffer) -> usize,
    ) -> Result<usize, Error> {
        self.readable_signalled = false;
        if self.recv_buf.readable() > 0 {
            let before = self.window_to_advertise();
            let n = take(&mut self.recv_buf);
            if n > 0 {
                self.tune_recv_buffer(ctx);
                self.maybe_window_update(ctx, before);
            }
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

    /// Receive-buffer auto-tuning after the application read (see [`crate::window`]).
    fn tune_recv_buffer(&mut self, ctx: &mut Ctx<'_>) {
        if !self.state.is_synchronized() {
            return;
        }
        let read_seq = self.rcv_nxt.sub(self.recv_buf.readable() as u32);
        let max = ctx
            .config
            .recv_buffer_max
            .max(ctx.config.recv_buffer)
            .min(self.max_advertisable() as usize);
        let tune = self.rcv_tune.on_read(
            read_seq,
            ctx.now,
            self.rtt.srtt(),
            self.rcv_mss,
            self.recv_buf.capacity(),
            max,
        );
        if let Tune::Grow(n) = tune {
            self.recv_buf.set_capacity(n);
        }
    }

    /// Tell the application it may write again, once per transition.
    pub(crate) fn signal_writable(&mut self, ctx: &mut Ctx<'_>) {
        if self.write_blocked && self.send_buf.free() > 0 && self.owner == Owner::App {
            self.write_blocked = false;
            if !self.writable_signalled {
                self.writable_signalled = true;
                ctx.out.events.push_back(Event::Writable(self.id));
            }
        }
    }

    /// Switch the congestion controller, keeping the current window.
    pub(crate) fn set_congestion_control(&mut self, algo: crate::CongestionAlgorithm) {
        self.cc.switch_to(algo);
    }

    /// A `TCP_INFO`-like snapshot.
    pub(crate) fn stats(&self) -> ConnStats {
        let c = &self.counters;
        ConnStats {
            state: self.state,
            congestion_control: self.cc.algorithm(),
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            min_rtt: self.min_rtt(),
            rto: self.rtt.rto(),
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            snd_wnd: self.snd_wnd,
            rcv_wnd: self.window_to_advertise(),
            snd_mss: self.smss,
            rcv_mss: self.rcv_mss,
            send_buffer: self.send_buf.capacity(),
            recv_buffer: self.recv_buf.capacity(),
            bytes_in_flight: self.flight(),
            pipe: self.pipe(),
            in_recovery: self.tx.as_ref().is_some_and(|t| t.in_fast_recovery()),
            snd_wscale: self.wscale_ok.then_some(self.snd_wscale),
            rcv_wscale: self.wscale_ok.then_some(self.rcv_wscale),
            sack: self.sack_ok,
            timestamps: self.ts_ok,
            bytes_sent: c.bytes_sent,
            bytes_retransmitted: c.bytes_retransmitted,
            bytes_acked: c.bytes_acked,
            bytes_received: c.bytes_received,
            segments_sent: c.segments_sent,
            segments_received: c.segments_received,
            segments_retransmitted: self.retransmitted_segments,
            segments_lost: c.segments_lost,
            fast_recoveries: c.fast_recoveries,
            timeouts: c.timeouts,
            tail_loss_probes: c.tail_loss_probes,
            dsacks_received: c.dsacks_received,
            paws_rejected: c.paws_rejected,
            out_of_order_refused: c.out_of_order_refused,
            reordering_seen: self.rack_p.reordering_seen,
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
        self.keepalive = keepalive.map(KeepaliveState::new);
        self.arm_keepalive(now);
    }
}

/// The MSS we advertise: the MTU less minimal IP and TCP headers (§3.7.1). No floor
/// above that: MUST-67 says the MSS advertised is at most MMS_R − 20 (an MTU of 72
/// gives 32, not more).
pub(crate) fn advertised_mss(mtu: u16, ipv6: bool) -> u16 {
    let overhead = if ipv6 { 60 } else { 40 };
    mtu.saturating_sub(overhead).max(1)
}

#[cfg(test)]
mod size_tests {
    /// An idle established connection must stay well under 1 KiB of heap (issue 2): the
    /// TCB itself (stored inline in the endpoint's slab) is the bulk of it, since buffers
    /// are released once drained.
    ///
    /// Issue 3 raised the bound from 640 to 656 bytes: the negotiated options, the
    /// timestamp state (RFC 7323), receive auto-tuning, the RACK path state and min RTT,
    /// the CUBIC controller and the `TCP_INFO` counters are per connection (about 190
    /// bytes), while everything that only matters with data outstanding (scoreboard,
    /// RACK, PRR, recovery, loss timer) and the receiver's SACK blocks live in boxes
    /// that idle connections do not have, and keep-alive state moved to a box too.
    ///
    /// Issue 7 raised it to 672: each connection's share of the challenge-ACK budget
    /// (RFC 5961 §7, 6 bytes) and the buffer bytes charged to the endpoint's memory limit
    /// (4 bytes), padded. The urgent mechanism (§3.8.5) added one pointer, and issue 6
    /// the deadline for freeing drained buffers (a bulk transfer no longer frees and
    /// reallocates them on every drain); the rate limit on answers to unacceptable ACKs
    /// (which stops two ends trading ACKs for ever), 4 bytes: 696. The receive buffer's
    /// out-of-order ranges then moved into a box allocated with the first hole (a
    /// deque, so that filling the first of many holes is O(1)): 16 bytes fewer, 680.
    #[test]
    fn an_idle_tcb_stays_small() {
        let size = core::mem::size_of::<super::Connection>();
        assert!(size <= 680, "TCB grew to {size} bytes");
    }
}
