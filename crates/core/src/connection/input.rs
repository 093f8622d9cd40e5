//! Segment arrival (RFC 9293 §3.10.7.3 for SYN-SENT, §3.10.7.4 for the other states),
//! in the RFC's order: sequence number, RST, SYN, ACK, URG, text, FIN. LISTEN and
//! CLOSED (§3.10.7.1–2) belong to the endpoint, which owns listeners and resets.

use super::recovery::AckInfo;
use super::{Connection, Origin, Owner};
use crate::endpoint::{CloseReason, Event};
use crate::outbox::Ctx;
use crate::reassembly::Staged;
use crate::scoreboard::Update;
use crate::{Instant, SeqNum, State};
use core::time::Duration;
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// Least time between two answers to unacceptable pure ACKs on one connection (Linux's
/// `tcp_invalid_ratelimit` default).
pub(crate) const OUT_OF_WINDOW_ACK_INTERVAL: Duration = Duration::from_millis(500);

/// An arriving segment, as the state machine sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub flags: TcpFlags,
    pub window: u16,
    /// Borrowed from the parsed header: a segment is built for every arrival, and a
    /// copy of the options (SACK blocks included) was some twenty instructions.
    pub options: &'a TcpOptions,
    /// SEG.UP, meaningful only with URG.
    pub urgent: u16,
    pub payload: &'a [u8],
}

impl<'a> Segment<'a> {
    /// From a parsed header and its payload.
    pub(crate) fn new(tcp: &'a TcpRepr, payload: &'a [u8]) -> Self {
        Segment {
            seq: SeqNum(tcp.seq),
            ack: SeqNum(tcp.ack),
            flags: tcp.flags,
            window: tcp.window,
            options: &tcp.options,
            urgent: tcp.urgent,
            payload,
        }
    }

    /// SEG.LEN: payload plus one for each of SYN and FIN (§3.4).
    pub(crate) fn len(&self) -> u32 {
        let data = u32::try_from(self.payload.len()).unwrap_or(u32::MAX);
        data.saturating_add(u32::from(self.flags.syn()) + u32::from(self.flags.fin()))
    }
}

/// The four cases of the acceptability test (§3.10.7.4, "first, check sequence number").
pub(crate) fn seq_acceptable(seq: SeqNum, len: u32, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    match (len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => seq.in_window(rcv_nxt, rcv_wnd),
        (_, 0) => false,
        (_, _) => seq.in_window(rcv_nxt, rcv_wnd) || seq.add(len - 1).in_window(rcv_nxt, rcv_wnd),
    }
}

impl Connection {
    /// Process one arriving segment. `can_establish` is false when a passive connection's
    /// listener has no room in its accept queue: the handshake's last ACK is then
    /// ignored, as if lost, and the SYN-ACK retransmission will try again.
    pub(crate) fn on_segment(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>, can_establish: bool) {
        self.last_received = ctx.now;
        self.counters.segments_received = self.counters.segments_received.saturating_add(1);
        match self.state {
            State::Closed | State::Listen => {}
            State::SynSent => self.on_segment_syn_sent(ctx, seg),
            _ => {
                if !self.in_order_data(ctx, seg) {
                    self.on_segment_synchronized(ctx, seg, can_establish);
                }
            }
        }
        self.arm_keepalive(ctx.now);
        self.update_persist(ctx.now);
    }

    /// §3.10.7.3: SYN-SENT.
    fn on_segment_syn_sent(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        // First, check the ACK bit.
        let mut ack_acceptable = false;
        if seg.flags.ack() {
            if seg.ack.le(self.iss) || seg.ack.gt(self.snd_max) {
                if !seg.flags.rst() {
                    self.reply_reset_for(ctx, seg);
                }
                return;
            }
            ack_acceptable = seg.ack.gt(self.snd_una);
        }
        // Second, check the RST bit: only a RST that acknowledges our SYN is believed
        // (RFC 5961 §3.2 for SYN-SENT); it means the peer refused the connection.
        if seg.flags.rst() {
            if ack_acceptable {
                self.terminate(ctx, CloseReason::Refused);
            }
            return;
        }
        // Third (security) does not apply. Fourth, check the SYN bit.
        if !seg.flags.syn() {
            return;
        }
        self.take_syn(ctx, seg);
        if ack_acceptable {
            // Our SYN is acknowledged: ESTABLISHED, and ACK their SYN.
            let tsecr = self.echoed_timestamp(seg);
            self.on_new_ack(ctx, seg.ack, tsecr, &mut Update::default());
            self.set_state(ctx, State::Established);
            self.ack_now = true;
            self.handshake_ack_due = true;
            if self.owner == Owner::App {
                ctx.out.events.push_back(Event::Connected(self.id));
            }
            // Sixth and later steps: text and FIN carried on the SYN-ACK.
            self.process_text(ctx, seg);
            self.process_fin(ctx, seg);
        } else {
            // Simultaneous open (§3.5 Figure 7, MUST-10): SYN-RECEIVED, and send
            // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. "If there are other controls or text
            // in the segment, queue them for processing after the ESTABLISHED state has
            // been reached" (§3.10.7.3): the text (what fits the window) and the FIN.
            self.set_state(ctx, State::SynReceived);
            self.snd_nxt = self.iss;
            let room = self.rcv_wnd(ctx.config) as usize;
            let text = &seg.payload[..seg.payload.len().min(room)];
            if !text.is_empty() {
                self.syn_text = Some(text.into());
            }
            if seg.flags.fin() && text.len() == seg.payload.len() {
                self.pending_fin = Some(self.rcv_nxt.add_len(text.len()));
            }
        }
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states.
    fn on_segment_synchronized(
        &mut self,
        ctx: &mut Ctx<'_>,
        seg: &Segment<'_>,
        can_establish: bool,
    ) {
        // Simultaneous open (§3.5 Figure 7, line 6): the peer's SYN-ACK repeats the SYN
        // we already took (SEG.SEQ = IRS) and acknowledges ours. The first check calls
        // it unacceptable (it lies below RCV.NXT) and, taking it for a retransmitted
        // SYN, would answer with our SYN-ACK again: both ends then trade SYN-ACKs until
        // R2. The RFC's text and its figure disagree here; like Linux
        // (tcp_validate_incoming), let it through to the ACK check, which completes the
        // handshake as the figure shows, with no further segment.
        let simultaneous_syn_ack = self.state == State::SynReceived
            && self.origin == Origin::Active
            && seg.flags.syn()
            && seg.flags.ack()
            && !seg.flags.rst()
            && seg.seq == self.irs
            && seg.ack == self.iss.add(1);
        if !simultaneous_syn_ack {
            if !self.check_sequence(ctx, seg) {
                return;
            }
            // RFC 7323 §4.3: an acceptable segment may update TS.Recent.
            if self.ts_ok {
                if let Some(ts) = seg.options.timestamps {
                    self.ts.update_recent(ts.tsval, seg.seq, ctx.now);
                }
            }
            if seg.flags.rst() {
                self.check_rst(ctx, seg);
                return;
            }
            if seg.flags.syn() {
                self.check_syn(ctx, seg);
                return;
            }
        }
        if self.ack_is_no_news(seg) {
            // Fifth step for an ACK that tells nothing new (see `ack_is_no_news`): of
            // all of `process_ack`, only the window update rule can act, and the state
            // changes of the fifth step have nothing to do; the sixth (URG) finds
            // nothing. Then the text and the FIN, as below.
            self.window_update(seg);
            self.process_text(ctx, seg);
            self.process_fin(ctx, seg);
            return;
        }
        if !self.check_ack(ctx, seg, can_establish) {
            return;
        }
        // Sixth, the URG bit (urgent data itself stays in line, RFC 6093).
        self.process_urg(ctx, seg.seq, seg.flags, seg.urgent);
        self.process_text(ctx, seg);
        self.process_fin(ctx, seg);
    }

    /// Header prediction, the receiver's fast path (the common case of a bulk transfer
    /// to us, as in BSD's and Linux's `tcp_rcv_established`): in ESTABLISHED (or
    /// FIN-WAIT-2, where the peer may still send), the next segment in sequence
    /// (SEG.SEQ = RCV.NXT), carrying data that all fits the window, with an ACK that
    /// tells nothing new ([`Self::ack_is_no_news`]), no SYN, RST, FIN or URG, a
    /// timestamp that passes PAWS (whenever timestamps are in use), no hole in the
    /// receive buffer and no memory pressure. Every check of §3.10.7.4 then passes or
    /// finds nothing to do, so only the steps that act are taken, in the general path's
    /// order: TS.Recent (RFC 7323 §4.3), the window update rule (fifth step), the text
    /// appended and the rest of the seventh step ([`Self::text_taken`], shared with
    /// the general path). Returns false, having changed nothing, for any other
    /// segment; the general path then takes it. The soak (`synack-sim`'s example)
    /// gives the same counts with and without this path.
    fn in_order_data(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) -> bool {
        const NOT_PREDICTED: u8 = TcpFlags::SYN.bits()
            | TcpFlags::RST.bits()
            | TcpFlags::FIN.bits()
            | TcpFlags::URG.bits();
        if seg.seq != self.rcv_nxt
            || seg.payload.is_empty()
            || seg.flags.bits() & NOT_PREDICTED != 0
            || !self.ack_is_no_news(seg)
            || self.owner == Owner::Released
            || self.recv_buf.has_out_of_order()
        {
            return false;
        }
        let ts = match (self.ts_ok, seg.options.timestamps) {
            (false, _) => None,
            (true, Some(ts)) if !self.ts.paws_rejects(ts.tsval, ctx.now) => Some(ts),
            (true, _) => return false,
        };
        let len = seg.payload.len();
        if len > self.rcv_wnd(ctx.config) as usize || ctx.out.memory_pressure(ctx.config) {
            return false;
        }
        if let Some(ts) = ts {
            self.ts.update_recent(ts.tsval, seg.seq, ctx.now);
        }
        self.window_update(seg);
        let advanced = self
            .recv_buf
            .append_staged(seg.payload, ctx.out.staged.take());
        self.text_taken(ctx, seg, 0, len, advanced, false);
        true
    }

    /// Before a segment's checksum is verified (`Endpoint::handle`): when `seq` and
    /// `payload` are the next data in order for a connection in a state that takes
    /// text, copy the payload into the receive buffer's window, not yet readable, and
    /// return its checksum sum and where it went ([`ReceiveBuffer::stage`]). The
    /// verification then reads the payload only once, as it is copied; if the segment
    /// takes [`Self::in_order_data`]'s path, the copy is made readable as it stands.
    /// Nothing a reader or the peer sees changes here, whatever the segment turns out
    /// to be.
    ///
    /// [`ReceiveBuffer::stage`]: crate::reassembly::ReceiveBuffer::stage
    #[inline]
    pub(crate) fn stage_text(&mut self, seq: SeqNum, payload: &[u8]) -> Option<(u16, Staged)> {
        if payload.is_empty()
            || seq != self.rcv_nxt
            || !matches!(
                self.state,
                State::Established | State::FinWait1 | State::FinWait2
            )
        {
            return None;
        }
        self.recv_buf.stage(payload)
    }

    /// First, check the sequence number, after the PAWS test of RFC 7323 §5.3. Returns
    /// false when the segment must be dropped.
    fn check_sequence(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) -> bool {
        if self.ts_ok && !seg.flags.rst() {
            if let Some(ts) = seg.options.timestamps {
                if self.ts.paws_rejects(ts.tsval, ctx.now) {
                    // R1: a duplicate from an earlier trip round the sequence space
                    // (or a forgery): acknowledge and drop it.
                    self.counters.paws_rejected = self.counters.paws_rejected.saturating_add(1);
                    self.ack_now = true;
                    return false;
                }
            }
        }
        let rcv_wnd = self.rcv_wnd(ctx.config);
        if seq_acceptable(seg.seq, seg.len(), self.rcv_nxt, rcv_wnd) {
            return true;
        }
        if seg.flags.rst() {
            return false;
        }
        if !seg.payload.is_empty()
            && self.state.is_synchronized()
            && seg.seq.add_len(seg.payload.len()).le(self.rcv_nxt)
        {
            // Data we already have: report it in a D-SACK (RFC 2883 §4.1.1).
            let end = seg.seq.add_len(seg.payload.len());
            self.note_duplicate(seg.seq, end);
        }
        match self.state {
            // A retransmitted SYN means our SYN-ACK was lost: send it again. (A SYN-ACK
            // is no retransmitted SYN: it gets the ACK of §3.10.7.4's first check.)
            State::SynReceived => {
                if seg.flags.syn() && !seg.flags.ack() && seg.seq == self.irs {
                    self.snd_nxt = self.iss;
                } else {
                    self.ack_now = true;
                }
                return false;
            }
            // A retransmitted FIN in TIME-WAIT: ACK it and restart the 2 MSL timeout
            // (§3.10.7.4, eighth step, TIME-WAIT).
            State::TimeWait if seg.flags.fin() => {
                self.time_wait_until = self.arm(ctx.now + 2 * ctx.config.msl);
            }
            _ => {}
        }
        // "If RCV.WND is zero, no segments will be acceptable, but special allowance
        // should be made to accept valid ACKs": a zero-window probe may carry news.
        if rcv_wnd == 0
            && seg.seq == self.rcv_nxt
            && seg.flags.ack()
            && self.state.is_synchronized()
            && seg.ack.gt(self.snd_una)
            && seg.ack.le(self.snd_max)
        {
            self.process_ack(ctx, seg);
            self.after_ack_transitions(ctx);
        }
        // MUST-66: the URG field of a segment at RCV.NXT is processed even though the
        // zero window makes the segment itself unacceptable.
        if rcv_wnd == 0 && seg.seq == self.rcv_nxt && !seg.flags.rst() && !seg.flags.syn() {
            self.process_urg(ctx, seg.seq, seg.flags, seg.urgent);
        }
        if seg.flags.syn() && ctx.config.syn_challenge {
            // RFC 5961 §4: a SYN in a synchronized state gets a (rate-limited) challenge ACK.
            self.challenge_ack(ctx);
        } else if seg.len() > 0 || self.out_of_window_ack_due(ctx.now) {
            self.ack_now = true;
        }
        false
    }

    /// May an unacceptable pure ACK be answered now? At most one answer per
    /// [`OUT_OF_WINDOW_ACK_INTERVAL`] (as Linux's `tcp_invalid_ratelimit`): two ends
    /// that each find the other's ACKs unacceptable — both windows closed, each having
    /// counted a probe byte the other refused in the SEQ of its ACKs — would otherwise
    /// answer each other's ACKs for ever, faster with every duplicate the network makes.
    /// Segments carrying data or a FIN are always answered (§3.10.7.4).
    fn out_of_window_ack_due(&mut self, now: Instant) -> bool {
        let now_ms = (now.as_nanos() / 1_000_000) as u32;
        let interval = OUT_OF_WINDOW_ACK_INTERVAL.as_millis() as u32;
        if self
            .out_of_window_ack_ms
            .is_some_and(|t| now_ms.wrapping_sub(t.get()) < interval)
        {
            return false;
        }
        self.out_of_window_ack_ms = core::num::NonZeroU32::new(now_ms.max(1));
        true
    }

    /// Second, check the RST bit (§3.10.7.4 with RFC 5961 §3.2): only a RST at exactly
    /// RCV.NXT resets; any other in-window RST gets a challenge ACK.
    /// With `Config::rst_challenge` off, RFC 793's rule instead: any RST that passed the
    /// sequence check resets.
    fn check_rst(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        if seg.seq != self.rcv_nxt && ctx.config.rst_challenge {
            self.challenge_ack(ctx);
            return;
        }
        match self.state {
            State::SynReceived => match self.origin {
                // MUST-11: back to LISTEN — the listener just forgets this half-open TCB.
                Origin::Passive { .. } => self.return_to_listen(ctx),
                Origin::Active => self.terminate(ctx, CloseReason::Refused),
            },
            // TIME-WAIT: "enter the CLOSED state" (as Linux does without rfc1337), but
            // both FINs were already exchanged and acknowledged, so the connection ended
            // normally and that is what the application is told (MUST-12). A stray RST
            // (e.g. the peer answering our last ACK's duplicate after it closed) must not
            // turn a clean close into a reported reset.
            State::TimeWait => self.terminate(ctx, CloseReason::Normal),
            _ => self.terminate(ctx, CloseReason::Reset),
        }
    }

    /// Fourth, check the SYN bit.
    fn check_syn(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        if self.state == State::SynReceived && matches!(self.origin, Origin::Passive { .. }) {
            // "If the connection was initiated with a passive OPEN, then return this
            // connection to the LISTEN state."
            self.return_to_listen(ctx);
            return;
        }
        let rcv_wnd = self.rcv_wnd(ctx.config);
        if !ctx.config.syn_challenge && !seg.seq.in_window(self.rcv_nxt, rcv_wnd) {
            // RFC 793: the segment passed the acceptability test (its FIN or data reach
            // into the window) but the SYN itself lies below RCV.NXT: not "in the
            // window"; acknowledge, as for any unacceptable sequence number.
            self.ack_now = true;
            return;
        }
        if !ctx.config.syn_challenge {
            // RFC 793 §3.9 (without RFC 5961 §4): "If the SYN is in the window it is an
            // error, send a reset ... enter the CLOSED state."
            let repr = TcpRepr {
                src_port: self.tuple.local.port(),
                dst_port: self.tuple.remote.port(),
                seq: self.snd_nxt.max(self.snd_max).raw(),
                ack: self.rcv_nxt.raw(),
                flags: TcpFlags::RST | TcpFlags::ACK,
                window: 0,
                urgent: 0,
                options: TcpOptions::default(),
            };
            ctx.out.reply(self.tuple, repr);
            let reason = if self.state == State::TimeWait {
                CloseReason::Normal
            } else {
                CloseReason::Reset
            };
            self.terminate(ctx, reason);
            return;
        }
        self.challenge_ack(ctx);
    }

    /// Fifth, check the ACK field. Returns false when the segment must be dropped.
    fn check_ack(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>, can_establish: bool) -> bool {
        if !seg.flags.ack() {
            return false;
        }
        if self.state == State::SynReceived {
            if !(seg.ack.gt(self.snd_una) && seg.ack.le(self.snd_max)) {
                // An ACK for something we never sent: <SEQ=SEG.ACK><CTL=RST>.
                self.reply_reset_for(ctx, seg);
                return false;
            }
            if !can_establish {
                return false;
            }
            let tsecr = self.echoed_timestamp(seg);
            self.on_new_ack(ctx, seg.ack, tsecr, &mut Update::default());
            self.snd_wnd = self.peer_window(seg);
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            let to = if self.fin_queued {
                State::FinWait1
            } else {
                State::Established
            };
            self.set_state(ctx, to);
            if self.owner == Owner::App {
                ctx.out.events.push_back(Event::Connected(self.id));
            }
            // Text and FIN queued from a SYN in SYN-SENT (§3.10.7.3) are processed now.
            if let Some(text) = self.syn_text.take() {
                let queued = Segment {
                    seq: self.irs.add(1),
                    ack: seg.ack,
                    flags: TcpFlags::ACK,
                    window: seg.window,
                    options: &TcpOptions::default(),
                    urgent: 0,
                    payload: &text,
                };
                self.process_text(ctx, &queued);
            }
            if self.pending_fin == Some(self.rcv_nxt) && !self.fin_received {
                self.fin_arrived(ctx);
            }
            return true;
        }
        if seg.ack.gt(self.snd_max) {
            // It acknowledges something not yet sent: ACK and drop.
            self.ack_now = true;
            return false;
        }
        // RFC 5961 §5.2: an ACK older than SND.UNA − MAX.SND.WND is a blind injection.
        if seg.ack.lt(self.snd_una.sub(self.max_snd_wnd)) {
            self.challenge_ack(ctx);
            return false;
        }
        self.process_ack(ctx, seg);
        self.after_ack_transitions(ctx);
        self.state != State::Closed
    }

    /// The state changes an ACK can cause (fifth step, per state).
    fn after_ack_transitions(&mut self, ctx: &mut Ctx<'_>) {
        if !self.fin_acked() {
            return;
        }
        match self.state {
            State::FinWait1 => {
                self.set_state(ctx, State::FinWait2);
                if self.owner == Owner::Released {
                    // Nobody will read or close this any more: don't wait for the peer's
                    // FIN forever (as Linux's tcp_fin_timeout; here 2 × MSL).
                    self.time_wait_until = self.arm(ctx.now + 2 * ctx.config.msl);
                }
            }
            State::Closing => self.enter_time_wait(ctx),
            State::LastAck => self.terminate(ctx, CloseReason::Normal),
            _ => {}
        }
    }

    /// The window a segment advertises, in bytes: shifted by the peer's window scale,
    /// except in a SYN, whose window is never scaled (RFC 7323 §2.2).
    pub(crate) fn peer_window(&self, seg: &Segment<'_>) -> u32 {
        if seg.flags.syn() {
            u32::from(seg.window)
        } else {
            u32::from(seg.window) << self.snd_wscale
        }
    }

    /// The window update rule (§3.10.7.4, fifth step, ESTABLISHED): only a segment newer
    /// than the one that last set SND.WND may change it.
    #[inline(always)]
    fn window_update(&mut self, seg: &Segment<'_>) {
        if self.snd_wl1.lt(seg.seq) || (self.snd_wl1 == seg.seq && self.snd_wl2.le(seg.ack)) {
            self.snd_wnd = self.peer_window(seg);
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
        }
    }

    /// An ACK that tells nothing new (the common case of a bulk receiver, and of a
    /// peer's FIN in a connection with nothing of ours in flight): in ESTABLISHED or
    /// FIN-WAIT-2, with nothing of ours in flight, a segment whose ACK acknowledges
    /// exactly SND.UNA and that carries no SACK block or URG. For it the fifth step's
    /// checks all pass (SEG.ACK = SND.UNA = SND.MAX), and `process_ack` would find
    /// nothing acknowledged, no duplicate ACK (nothing outstanding) and no recovery
    /// state (`tx` is only kept while something is outstanding): only the window
    /// update rule acts. `after_ack_transitions` has nothing to do in these two states
    /// (in FIN-WAIT-2 our FIN is already acknowledged). Part of
    /// [`Self::in_order_data`]'s test, and a short cut through the fifth step for any
    /// other acceptable segment.
    fn ack_is_no_news(&self, seg: &Segment<'_>) -> bool {
        matches!(self.state, State::Established | State::FinWait2)
            && seg.flags.ack()
            && !seg.flags.urg()
            && seg.ack == self.snd_una
            && self.snd_max == self.snd_una
            && self.tx.is_none()
            && seg.options.sack.is_empty()
    }

    /// TSecr of a segment, if timestamps are in use on this connection.
    fn echoed_timestamp(&self, seg: &Segment<'_>) -> Option<u32> {
        if self.ts_ok {
            seg.options.timestamps.map(|t| t.tsecr)
        } else {
            None
        }
    }

    /// Update the send side for an acceptable ACK (§3.10.7.4 fifth, ESTABLISHED): the
    /// cumulative ACK and the SACK blocks (RFC 2018) update the scoreboard, RTT
    /// samples are taken (RFC 6298, RFC 7323 §4), loss recovery and congestion control
    /// run (see `recovery`), and the window update rule applies.
    pub(crate) fn process_ack(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        let ack = seg.ack;
        let window = self.peer_window(seg);
        let advanced = ack.gt(self.snd_una);
        // A duplicate ACK (RFC 5681 §2): "the receiver of the ACK has outstanding
        // data". A zero-window probe's byte (past SND.NXT, §3.8.6.1) is not in flight:
        // the ACKs answering repeated probes must not trigger fast retransmit, which
        // would put the byte under the retransmission timer and R2 (MUST-37, SHLD-17).
        let dupack = ack == self.snd_una
            && seg.payload.is_empty()
            && !seg.flags.syn()
            && !seg.flags.fin()
            && window == self.snd_wnd
            && self.snd_nxt.gt(self.snd_una);
        let mut info = AckInfo {
            ack,
            advanced,
            dupack,
            pure_dupack: dupack && seg.options.sack.is_empty(),
            tsecr: self.echoed_timestamp(seg),
            ..AckInfo::default()
        };
        if let Some(tx) = self.tx.as_ref() {
            info.prior_sacked = tx.board.sacked_bytes();
            info.update = Update::new(&tx.board);
        }
        let mut rtt_sample = None;
        if advanced {
            info.acked = ack.since(self.snd_una);
            rtt_sample = self.on_new_ack(ctx, ack, info.tsecr, &mut info.update);
        }
        if self.state.is_synchronized() {
            self.take_sack_blocks(seg, &mut info);
            self.recover_on_ack(ctx, &info);
        }
        self.window_update(seg);
        if advanced {
            self.trace_metrics(ctx, rtt_sample);
        }
    }

    /// The SACK blocks of an ACK (RFC 2018 §3): a first block below SND.UNA, or inside
    /// the second, is a D-SACK (RFC 2883 §4); the others, limited to what was sent,
    /// mark the scoreboard, lowest first.
    fn take_sack_blocks(&mut self, seg: &Segment<'_>, info: &mut AckInfo) {
        if !self.sack_ok {
            return;
        }
        let blocks = seg.options.sack.as_slice();
        let Some(first) = blocks.first() else {
            return;
        };
        let (l, r) = (SeqNum(first.left), SeqNum(first.right));
        let in_second = blocks
            .get(1)
            .is_some_and(|b| SeqNum(b.left).le(l) && r.le(SeqNum(b.right)));
        let dsack = l.lt(r) && (r.le(seg.ack) || in_second);
        if dsack {
            info.dsack = Some((l, r));
            self.counters.dsacks_received = self.counters.dsacks_received.saturating_add(1);
        }
        let (una, nxt) = (self.snd_una, self.snd_nxt);
        let Some(tx) = self.tx.as_mut() else {
            return;
        };
        let mut valid = [(SeqNum(0), SeqNum(0)); 4];
        let mut n = 0;
        for (k, b) in blocks.iter().enumerate() {
            if k == 0 && dsack {
                continue;
            }
            let (l, r) = (SeqNum(b.left), SeqNum(b.right));
            // Only what lies between SND.UNA and SND.NXT means anything.
            if !l.lt(r) || r.gt(nxt) || !r.gt(una) || l.lt(una.sub(1 << 30)) {
                continue;
            }
            if n < valid.len() {
                valid[n] = (l.max(una), r);
                n += 1;
            }
        }
        let valid = &mut valid[..n];
        valid.sort_unstable_by_key(|b| b.0.since(una));
        for &(l, r) in valid.iter() {
            tx.board.sack(l, r, &mut info.update);
        }
    }

    /// SND.UNA advances to `ack`: free acknowledged data, take an RTT sample, restart or
    /// stop the retransmission timer (RFC 6298 §5.2–5.3). Returns the RTT sample.
    ///
    /// The sample comes from the one timed segment, never a retransmitted one (Karn's
    /// rule, RFC 6298 §3) — unless timestamps are in use, whose echo tells which
    /// transmission an ACK answers (RFC 7323 §4).
    pub(crate) fn on_new_ack(
        &mut self,
        ctx: &mut Ctx<'_>,
        ack: SeqNum,
        tsecr: Option<u32>,
        update: &mut Update,
    ) -> Option<Duration> {
        let now = ctx.now;
        let mut acked = ack.since(self.snd_una);
        if self.snd_una == self.iss && acked > 0 {
            acked -= 1; // the SYN
        }
        let data = (acked as usize).min(self.send_buf.len());
        self.send_buf.consume(data);
        self.counters.bytes_acked = self.counters.bytes_acked.saturating_add(data as u64);
        if acked as usize > data && self.fin_queued {
            self.fin_was_acked = true;
        }
        let smss = u32::from(self.smss);
        if let Some(tx) = self.tx.as_mut() {
            tx.board.ack(ack, smss, update);
        }
        self.snd_una = ack;
        if self.snd_nxt.lt(ack) {
            self.snd_nxt = ack;
        }
        // One sample a round trip (RFC 6298 §3): when the ACK covers the timed segment.
        // With timestamps the echo makes a retransmitted segment's ACK unambiguous
        // (RFC 7323 §4), so a retransmission does not cancel the timing, and if nothing
        // is being timed the echo gives the sample and the next one is due a round trip
        // later.
        let ts_sample = tsecr.and_then(|e| self.ts.rtt(e, now));
        let mut sample = None;
        match self.rtt_probe {
            Some(p) if ack.ge(p.end) => {
                sample = if p.ambiguous {
                    ts_sample
                } else {
                    Some(now.saturating_since(p.sent))
                };
                self.rtt_probe = None;
            }
            None if ts_sample.is_some() => {
                sample = ts_sample;
                if self.snd_nxt.gt(ack) {
                    self.rtt_probe = Some(super::RttProbe {
                        end: self.snd_nxt,
                        sent: now,
                        ambiguous: true,
                    });
                }
            }
            _ => {}
        }
        if let Some(r) = sample {
            self.rtt.sample(r);
            self.note_rtt(r, now);
        }
        // The backoff is not undone here: Karn's algorithm keeps the backed-off RTO until
        // a valid sample (taken above, which recomputes the RTO) — RFC 6298 §5 note on
        // "collapsing" the RTO; Linux likewise keeps `icsk_rto` until `tcp_set_rto`.
        self.retransmits = 0;
        self.r2_deadline = None;
        self.rto_at = if self.snd_max.gt(self.snd_una) {
            self.arm(ctx.now + self.rtt.rto())
        } else {
            None
        };
        self.signal_writable(ctx);
        sample
    }

    /// Bytes `[start, end)` arrived again: remember them for a D-SACK (RFC 2883).
    fn note_duplicate(&mut self, start: SeqNum, end: SeqNum) {
        if self.sack_ok && start.lt(end) {
            self.sack_rx
                .get_or_insert_with(Default::default)
                .on_duplicate(start, end);
        }
    }

    /// Seventh, process the segment text (§3.10.7.4): place it in the receive buffer at
    /// its offset from RCV.NXT (out-of-order data is kept, SHLD-31), advance RCV.NXT, and
    /// decide how soon to ACK (§3.8.6.3).
    #[inline]
    fn process_text(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        // Inline, so that a segment without text (most of a connection's control
        // traffic) costs a test here, not a call.
        if !seg.payload.is_empty() {
            self.take_text(ctx, seg);
        }
    }

    /// [`Self::process_text`] for a segment that carries text.
    #[inline(never)]
    fn take_text(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        if !matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            return; // after the peer's FIN, text is ignored
        }
        if self.owner == Owner::Released {
            // The application will never read this: data is lost, say so (SHLD-3).
            self.send_reset(ctx);
            self.terminate(ctx, CloseReason::Aborted);
            return;
        }
        let start = if seg.flags.syn() {
            seg.seq.add(1)
        } else {
            seg.seq
        };
        let mut payload = seg.payload;
        let mut offset = start.diff(self.rcv_nxt);
        let below_nxt = offset < 0;
        if below_nxt {
            let skip = offset.unsigned_abs() as usize;
            // Bytes we already have: report them in a D-SACK (RFC 2883 §4.1.1).
            self.note_duplicate(start, start.add_len(skip.min(payload.len())));
            if ctx.config.immediate_dsack && self.sack_ok {
                self.ack_now = true;
            }
            if skip >= payload.len() {
                self.ack_now = true; // a pure duplicate: ACK so the peer stops resending
                return;
            }
            payload = &payload[skip..];
            offset = 0;
        }
        // Never accept past the right edge we advertised (or, with
        // `Config::accept_beyond_advertised`, past the free buffer).
        let edge = self.rcv_nxt.add(self.rcv_wnd(ctx.config));
        let room = edge.since(start.max(self.rcv_nxt)) as usize;
        let mut payload = &payload[..payload.len().min(room)];
        if ctx.out.memory_pressure(ctx.config) {
            // Buffer memory is at `Config::max_buffer_memory`: keep only what fits the
            // allocation this connection already has; the rest is retransmitted later.
            let fits = self
                .recv_buf
                .allocated_room()
                .saturating_sub(offset as usize);
            if payload.len() > fits {
                ctx.out.stats.memory_drops += 1;
                payload = &payload[..fits];
                if payload.is_empty() {
                    self.ack_now = true;
                    return;
                }
            }
        }
        if self.recv_buf.out_of_order_full(
            offset as usize,
            payload.len(),
            ctx.config.max_out_of_order,
        ) {
            // A new hole beyond `Config::max_out_of_order`: dropped whole, and neither
            // stored nor SACKed (the peer retransmits it).
            ctx.out.stats.out_of_order_drops += 1;
            self.counters.out_of_order_refused =
                self.counters.out_of_order_refused.saturating_add(1);
            self.ack_now = true;
            return;
        }
        let had_holes = self.recv_buf.has_out_of_order();
        if !below_nxt && self.sack_ok && had_holes {
            // Out-of-order bytes already held (there are some): a D-SACK for them (RFC
            // 2883 §4.1.2) — also when the segment starts at RCV.NXT, filling the hole
            // before them (§4, "report the duplicate"). (A segment that also repeats
            // bytes below RCV.NXT reports those: the first duplicate block, RFC 2883 §4.)
            let off = offset as usize;
            let off_end = off + payload.len();
            let overlap = self
                .recv_buf
                .out_of_order_overlapping(off, off_end)
                .map(|(s, e)| (s.max(off), e.min(off_end)));
            if let Some((s, e)) = overlap {
                let base = self.rcv_nxt;
                self.note_duplicate(base.add_len(s), base.add_len(e));
                if ctx.config.immediate_dsack {
                    self.ack_now = true;
                }
            }
        }
        let advanced =
            self.recv_buf
                .insert_limited(offset as usize, payload, ctx.config.max_out_of_order);
        self.text_taken(ctx, seg, offset as u32, payload.len(), advanced, had_holes);
    }

    /// The rest of the seventh step once `taken` bytes of a segment's text, `offset`
    /// bytes past RCV.NXT, went into the receive buffer and RCV.NXT may advance by
    /// `advanced` (`had_holes`: out-of-order bytes were held before): RCV.NXT, the SACK
    /// state, the receiver's RTT sample, when to ACK, the reader woken, and a FIN that
    /// waited for these bytes. Shared by [`Self::process_text`] and
    /// [`Self::in_order_data`].
    #[inline(always)]
    fn text_taken(
        &mut self,
        ctx: &mut Ctx<'_>,
        seg: &Segment<'_>,
        offset: u32,
        taken: usize,
        advanced: usize,
        had_holes: bool,
    ) {
        let seg_start = self.rcv_nxt.add(offset);
        let seg_end = seg_start.add_len(taken);
        self.rcv_nxt = self.rcv_nxt.add_len(advanced);
        self.counters.bytes_received = self.counters.bytes_received.saturating_add(advanced as u64);
        self.track_sack_blocks(offset > 0, seg_start, seg_end);
        if offset == 0 && self.ts_ok {
            if let Some(ts) = seg.options.timestamps {
                self.receiver_rtt_sample(ctx, taken, ts.tsecr);
            }
        }
        if offset > 0 || had_holes || self.recv_buf.has_out_of_order() {
            // Out of order, or filling a hole: ACK at once (RFC 5681 §4.2).
            self.ack_now = true;
        } else {
            self.ack_in_order_text(ctx, advanced);
        }
        if advanced > 0 {
            self.signal_readable(ctx);
        }
        if self.pending_fin == Some(self.rcv_nxt) {
            self.fin_arrived(ctx);
        }
    }

    /// A full-sized segment taken at RCV.NXT echoes our timestamp in TSecr: the
    /// receiver's view of the round trip, for auto-tuning (as Linux's
    /// `tcp_rcv_rtt_measure_ts`).
    #[inline(always)]
    fn receiver_rtt_sample(&mut self, ctx: &Ctx<'_>, taken: usize, tsecr: u32) {
        if taken >= usize::from(self.rcv_mss) {
            if let Some(rtt) = self.ts.rtt(tsecr, ctx.now) {
                self.rcv_tune.rtt_sample(rtt);
            }
        }
    }

    /// When to ACK `advanced` bytes taken in order with no hole left: at least every
    /// second full-sized segment (SHLD-19), else within the delayed-ACK time (MUST-40).
    /// A full-sized segment carries our MSS less the timestamps option the peer puts in
    /// every segment.
    #[inline(always)]
    fn ack_in_order_text(&mut self, ctx: &mut Ctx<'_>, advanced: usize) {
        self.bytes_unacked = self.bytes_unacked.saturating_add(advanced as u32);
        let ts = if self.ts_ok {
            super::TIMESTAMPS_OPTION_LEN
        } else {
            0
        };
        let full = u32::from(self.rcv_mss.saturating_sub(ts));
        if self.bytes_unacked >= 2 * full
            || (ctx.config.ack_every_second_segment && self.delack_at.is_some())
        {
            // (`Config::ack_every_second_segment`: a delayed ACK is already pending, so
            // this is the second segment since the last ACK.)
            self.ack_now = true;
        } else if self.delack_at.is_none() {
            self.delack_at = self.arm(ctx.now + ctx.config.delayed_ack);
        }
    }

    /// Keep the receiver's SACK state in step with the reassembly buffer: remember an
    /// out-of-order arrival `[start, end)` for the next SACK blocks (RFC 2018 §4), and
    /// let the state go once no hole is left.
    ///
    /// Inline, so that in-order data with no SACK state (a bulk receiver's every
    /// segment) costs a test, not a call: then there is nothing to do.
    #[inline]
    fn track_sack_blocks(&mut self, out_of_order: bool, start: SeqNum, end: SeqNum) {
        if self.sack_ok && (out_of_order || self.sack_rx.is_some()) {
            self.update_sack_blocks(out_of_order, start, end);
        }
    }

    /// [`Self::track_sack_blocks`] when there may be something to track.
    #[inline(never)]
    fn update_sack_blocks(&mut self, out_of_order: bool, start: SeqNum, end: SeqNum) {
        if out_of_order && start.lt(end) {
            self.sack_rx
                .get_or_insert_with(Default::default)
                .on_out_of_order(start, end);
        }
        let held = self.recv_buf.has_out_of_order();
        if let Some(rx) = self.sack_rx.as_mut() {
            if !held {
                rx.clear_recent();
            }
            if rx.is_idle(held) {
                self.sack_rx = None;
            }
        }
    }

    /// Eighth, check the FIN bit. A FIN beyond a hole is remembered until the hole fills.
    #[inline]
    fn process_fin(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        // Inline, so that a segment without FIN costs a test here, not a call.
        if seg.flags.fin() {
            self.take_fin(ctx, seg);
        }
    }

    /// [`Self::process_fin`] for a segment with FIN set.
    #[inline(never)]
    fn take_fin(&mut self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        if self.fin_received && self.state != State::Closed {
            // An acceptable FIN after the peer's FIN: eighth step, "send an
            // acknowledgment for the FIN" and remain in the state; in TIME-WAIT "restart
            // the 2 MSL time-wait timeout" (§3.10.7.4; fifth step, TIME-WAIT: "the only
            // thing that can arrive in this state is a retransmission of the remote FIN.
            // Acknowledge it").
            self.ack_now = true;
            if self.state == State::TimeWait {
                self.time_wait_until = self.arm(ctx.now + 2 * ctx.config.msl);
            }
            return;
        }
        if self.fin_received || self.state == State::Closed {
            return;
        }
        let start = if seg.flags.syn() {
            seg.seq.add(1)
        } else {
            seg.seq
        };
        let fin_seq = start.add_len(seg.payload.len());
        if fin_seq == self.rcv_nxt {
            self.fin_arrived(ctx);
        } else if fin_seq.gt(self.rcv_nxt) && fin_seq.le(self.rcv_nxt.add(self.rcv_wnd(ctx.config)))
        {
            self.pending_fin = Some(fin_seq);
            self.ack_now = true;
        }
    }

    /// The peer's FIN is next in sequence: its direction is finished.
    fn fin_arrived(&mut self, ctx: &mut Ctx<'_>) {
        self.rcv_nxt = self.rcv_nxt.add(1);
        self.fin_received = true;
        self.pending_fin = None;
        self.ack_now = true;
        if self.owner == Owner::App {
            ctx.out.events.push_back(Event::PeerClosed(self.id));
            self.signal_readable(ctx);
        }
        match self.state {
            State::SynReceived | State::Established => self.set_state(ctx, State::CloseWait),
            State::FinWait1 => {
                if self.fin_acked() {
                    self.enter_time_wait(ctx);
                } else {
                    self.set_state(ctx, State::Closing);
                    // Simultaneous close: the ACK of their FIN may carry ours again
                    // (`Config::simultaneous_close_resends_fin`).
                    self.fin_resend_due =
                        ctx.config.simultaneous_close_resends_fin && self.fin_in_flight();
                }
            }
            State::FinWait2 => self.enter_time_wait(ctx),
            State::TimeWait => self.time_wait_until = self.arm(ctx.now + 2 * ctx.config.msl),
            _ => {}
        }
    }

    /// TIME-WAIT for 2 × MSL (§3.6.1, MUST-13); no timers but this one.
    pub(crate) fn enter_time_wait(&mut self, ctx: &mut Ctx<'_>) {
        self.set_state(ctx, State::TimeWait);
        self.clear_timers();
        self.time_wait_until = self.arm(ctx.now + 2 * ctx.config.msl);
        self.send_buf = crate::send_buffer::SendBuffer::new(0);
    }

    #[inline]
    fn signal_readable(&mut self, ctx: &mut Ctx<'_>) {
        if self.owner == Owner::App && !self.readable_signalled {
            self.readable_signalled = true;
            ctx.out.events.push_back(Event::Readable(self.id));
        }
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>` as a challenge (RFC 5961 §3.2, §4, §5.2),
    /// at most `challenge_ack_limit` per second per endpoint and `challenge_ack_per_conn`
    /// per second for this connection (§7; see `Outbox::allow_challenge`).
    fn challenge_ack(&mut self, ctx: &mut Ctx<'_>) {
        if ctx
            .out
            .allow_challenge(ctx.now, ctx.config, Some(&mut self.challenge))
        {
            self.ack_now = true;
        }
    }

    /// `<SEQ=SEG.ACK><CTL=RST>` for a segment that acknowledges something never sent
    /// (§3.10.7.3 first step, §3.10.7.4 SYN-RECEIVED).
    fn reply_reset_for(&self, ctx: &mut Ctx<'_>, seg: &Segment<'_>) {
        let repr = TcpRepr {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq: seg.ack.raw(),
            ack: 0,
            flags: TcpFlags::RST,
            window: 0,
            urgent: 0,
            options: TcpOptions::default(),
        };
        ctx.out.reply(self.tuple, repr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptability_follows_the_four_cases_of_section_3_10_7_4() {
        let nxt = SeqNum(1000);
        // zero length, zero window: only exactly RCV.NXT
        assert!(seq_acceptable(nxt, 0, nxt, 0));
        assert!(!seq_acceptable(nxt.add(1), 0, nxt, 0));
        // zero length, open window
        assert!(seq_acceptable(nxt.add(99), 0, nxt, 100));
        assert!(!seq_acceptable(nxt.add(100), 0, nxt, 100));
        assert!(!seq_acceptable(nxt.sub(1), 0, nxt, 100));
        // data, zero window: never
        assert!(!seq_acceptable(nxt, 10, nxt, 0));
        // data overlapping the window's start or end
        assert!(seq_acceptable(nxt.sub(5), 10, nxt, 100));
        assert!(seq_acceptable(nxt.add(95), 10, nxt, 100));
        assert!(!seq_acceptable(nxt.sub(10), 10, nxt, 100));
        assert!(!seq_acceptable(nxt.add(100), 10, nxt, 100));
    }
}
