//! Deciding what to send next: the SYN / SYN-ACK with their options (RFC 7323, RFC
//! 2018), data within the send and congestion windows (§3.8.6) subject to Nagle
//! (§3.7.4, MUST-17) and sender-side SWS avoidance (§3.8.6.2.1, MUST-38), the FIN,
//! retransmissions in RFC 6675's NextSeg order, tail loss probes (RFC 8985 §7),
//! zero-window probes (§3.8.6.1, MUST-35/36), keep-alive probes (§3.8.4) and ACKs
//! (§3.8.6.3) with timestamps and SACK blocks.

use super::recovery::Recovery;
use super::{Connection, MAX_UNSCALED_WINDOW};
use crate::congestion::CongestionControl;
use crate::outbox::Ctx;
use crate::rack::Probe;
use crate::scoreboard::TxSeg;
use crate::{window, Instant, SeqNum, State};
use core::time::Duration;
use synack_wire::{TcpFlags, TcpOptions, TcpRepr, Timestamps};

/// Longest wait between zero-window probes.
const MAX_PERSIST_INTERVAL: Duration = Duration::from_secs(60);

/// One segment to put on the wire: `len` payload bytes that start `data_offset` bytes
/// into the send buffer (past SND.UNA). The caller copies them straight into the
/// datagram ([`crate::send_buffer::SendBuffer::peek`]) before the send buffer changes:
/// one copy from buffer to wire, none through a staging area. The header is in
/// [`crate::outbox::Outbox::header`]: written there field by field and read from there
/// by the emitter, it is never copied as a whole (a copy reads it with wider loads than
/// it was written with, which stalls store-to-load forwarding on every segment).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outgoing {
    pub len: usize,
    pub data_offset: usize,
    pub retransmission: bool,
}

impl Connection {
    /// The next segment this connection wants to send now, if any, carrying at most
    /// `space` payload bytes (the room in the caller's datagram; at least one MSS).
    pub(crate) fn poll_segment(&mut self, ctx: &mut Ctx<'_>, space: usize) -> Option<Outgoing> {
        let out = match self.state {
            State::Closed | State::Listen => None,
            State::SynSent => (self.snd_nxt == self.iss).then(|| self.emit_syn(ctx, false)),
            State::SynReceived => {
                if self.snd_nxt == self.iss || (self.ack_now && !self.syn_ack_sent) {
                    Some(self.emit_syn(ctx, true))
                } else if self.ack_now {
                    // §3.10.7.4: an unacceptable segment (or a challenge, RFC 5961) in
                    // SYN-RECEIVED gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, not the
                    // SYN-ACK again; a duplicate SYN, which does ask for the SYN-ACK, has
                    // set SND.NXT back to ISS above.
                    Some(self.emit_ack(ctx, self.snd_nxt))
                } else {
                    None
                }
            }
            State::TimeWait => self.ack_now.then(|| self.emit_ack(ctx, self.snd_max)),
            _ => self.poll_synchronized(ctx, space),
        };
        if out.is_none() {
            self.update_persist(ctx.now);
        }
        out
    }

    /// Whether [`Connection::poll_segment`] may find a segment to send now. When this
    /// is false the poll would return `None` having done nothing but
    /// [`Connection::update_persist`]: every flag the poll clears is clear, there is no
    /// unsent data or FIN, nothing to retransmit and no probe due. `Endpoint::settle`
    /// then runs `update_persist` itself rather than queueing the connection for a poll
    /// that finds nothing, which used to follow every segment sent or received.
    ///
    /// It may say yes when the poll finds nothing (a window or cwnd that holds data
    /// back, Nagle); never no when the poll would send.
    pub(crate) fn may_send(&self) -> bool {
        match self.state {
            State::Closed | State::Listen => false,
            State::SynSent => self.snd_nxt == self.iss,
            State::SynReceived => self.snd_nxt == self.iss || self.ack_now,
            State::TimeWait => self.ack_now,
            _ => {
                let data_off = self.snd_nxt.since(self.snd_una) as usize;
                let buffered = self.send_buf.len();
                self.ack_now
                    || self.rst_due
                    || self.handshake_ack_due
                    || self.fin_resend_due
                    || self.probe_due
                    || self.keepalive_due
                    || buffered > data_off
                    || (self.fin_queued && !self.fin_was_acked && data_off <= buffered)
                    || self.tx.as_ref().is_some_and(|t| {
                        t.probe_due
                            || t.board.has_to_resend()
                            || matches!(t.recovery, Recovery::Fast { .. })
                    })
            }
        }
    }

    /// `<SEQ=ISS><CTL=SYN>` or `<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>`, with our MSS
    /// (MUST-14); the window in a SYN is never scaled. A SYN offers window scaling,
    /// SACK and timestamps as configured; a SYN-ACK answers with those the SYN offered
    /// (RFC 7323 §1.3, §2.2, §3.2; RFC 2018 §2).
    fn emit_syn(&mut self, ctx: &mut Ctx<'_>, with_ack: bool) -> Outgoing {
        // ISS has been sent before: by an earlier SYN or SYN-ACK.
        let resent_iss = self.snd_max.gt(self.iss);
        // The first SYN-ACK of a simultaneous open (§3.5 Figure 7) re-sends our SYN's
        // number but is not a retransmission (nor is it for Linux); later ones are.
        let retransmission = if with_ack {
            self.syn_ack_sent
        } else {
            resent_iss
        };
        self.syn_ack_sent |= with_ack;
        let mut flags = TcpFlags::SYN;
        if with_ack {
            flags = flags | TcpFlags::ACK;
        }
        let config = ctx.config;
        let (ws, sack, ts) = if with_ack {
            (self.wscale_ok, self.sack_ok, self.ts_ok)
        } else {
            (config.window_scaling, config.sack, config.timestamps)
        };
        let options = TcpOptions {
            mss: Some(self.rcv_mss),
            window_scale: ws.then_some(self.rcv_wscale),
            sack_permitted: sack,
            timestamps: ts.then(|| Timestamps {
                tsval: self.ts.tsval(ctx.now),
                tsecr: if with_ack { self.ts.recent } else { 0 },
            }),
            ..TcpOptions::default()
        };
        self.header(ctx.now, self.iss, flags, &mut ctx.out.header);
        ctx.out.header.options = options;
        self.snd_nxt = self.iss.add(1);
        self.snd_max = self.snd_max.max(self.snd_nxt);
        self.note_sent(ctx.now, retransmission, true);
        if resent_iss {
            self.rtt_probe = None; // Karn: an ACK of ISS + 1 is ambiguous now
        }
        Outgoing {
            len: 0,
            data_offset: 0,
            retransmission,
        }
    }

    fn poll_synchronized(&mut self, ctx: &mut Ctx<'_>, space: usize) -> Option<Outgoing> {
        if self.rst_due {
            self.rst_due = false;
            return None;
        }
        if self.handshake_ack_due {
            self.handshake_ack_due = false;
            if self.ack_now {
                return Some(self.emit_ack(ctx, self.snd_nxt));
            }
        }
        if self.fin_resend_due {
            // `Config::simultaneous_close_resends_fin`: acknowledge the peer's FIN with
            // our FIN sent again (a retransmission of SND.MAX − 1, the FIN's number).
            self.fin_resend_due = false;
            if self.ack_now && self.state == State::Closing && self.fin_in_flight() {
                let fin_seq = self.snd_max.sub(1);
                return Some(self.emit_data(ctx, fin_seq, 0, true));
            }
        }
        if let Some(out) = self.next_data_segment(ctx, space) {
            return Some(out);
        }
        if self.probe_due {
            self.probe_due = false;
            if let Some(out) = self.window_probe(ctx, space) {
                return Some(out);
            }
        }
        if self.keepalive_due {
            self.keepalive_due = false;
            // §3.8.4: SEG.SEQ = SND.NXT − 1 (already acknowledged) provokes an ACK.
            return Some(self.emit_ack(ctx, self.snd_una.sub(1)));
        }
        if self.ack_now {
            // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with the RFC's SND.NXT, the highest
            // sequence number sent (`snd_max`): a zero-window probe may have gone past
            // our SND.NXT, and an ACK carrying a lower number could sit below the peer's
            // RCV.NXT and be unacceptable to it (§3.10.7.4, first check).
            return Some(self.emit_ack(ctx, self.snd_max));
        }
        None
    }

    /// The next data and/or FIN segment, in the order of RFC 6675's NextSeg: a tail
    /// loss probe if one is due (it ignores cwnd, RFC 8985 §7.3), a lost segment
    /// (rule 1), new data as the windows, Nagle and SWS avoidance allow (rule 2), and
    /// in fast recovery rules 3 and 4. Everything but the probe fits in `cwnd − pipe`.
    fn next_data_segment(&mut self, ctx: &mut Ctx<'_>, space: usize) -> Option<Outgoing> {
        if !matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ) {
            return None;
        }
        let smss = usize::from(self.smss).min(space);
        if smss == 0 {
            return None;
        }
        if self.tx.as_ref().is_some_and(|t| t.probe_due) {
            if let Some(out) = self.send_loss_probe(ctx, space, smss) {
                return Some(out);
            }
        }
        let cwnd = self.cc.cwnd();
        let pipe = self.pipe();
        let room = cwnd.saturating_sub(pipe) as usize;

        // Rule 1: retransmit what is lost before anything new.
        if let Some(seg) = self.tx.as_mut().and_then(|t| t.board.next_to_resend()) {
            if room >= (seg.len as usize).min(smss) {
                return Some(self.resend(ctx, seg, space));
            }
            self.note_cwnd_usage(true);
            return None;
        }

        // Rule 2: new data.
        let buffered = self.send_buf.len();
        let data_off = self.snd_nxt.since(self.snd_una) as usize;
        let fin_pending = self.fin_queued && !self.fin_was_acked && data_off <= buffered;
        let unsent = buffered.saturating_sub(data_off);
        if unsent == 0 && !fin_pending {
            return self.recovery_retransmission(ctx, space, room);
        }
        let in_flight = self.flight();
        // MUST-34: the usable window may be "negative" if the peer shrank it.
        let rwnd_room = self.snd_wnd.saturating_sub(in_flight) as usize;
        let len = unsent.min(rwnd_room).min(room).min(smss);
        let fin = fin_pending && len == unsent;
        let want = unsent.min(smss);
        if len < want && rwnd_room >= want {
            self.note_cwnd_usage(true); // the congestion window holds us back
        }
        if len == 0 && !fin {
            return None;
        }
        if len < smss && !fin {
            // Nagle (§3.7.4) in Minshall's variant, as Linux: a small segment waits
            // while another small segment is unacknowledged. (Waiting for *all*
            // outstanding data, as §3.7.4 words it, would hold the last piece of every
            // bulk write for a round trip behind a full window.)
            let small_in_flight = self
                .tx
                .as_ref()
                .and_then(|t| t.small_end)
                .is_some_and(|end| end.gt(self.snd_una));
            let nagle_holds = !self.nodelay && in_flight > 0 && small_in_flight;
            if len == unsent {
                // All queued data fits: Nagle waits for the small segment in flight
                // to be acknowledged before sending another.
                if nagle_holds {
                    return None;
                }
            } else {
                // Window-limited: sender SWS avoidance (§3.8.6.2.1) sends only if at
                // least half the largest window seen can go; the persist timer covers
                // the rest.
                let half = (self.max_snd_wnd / 2) as usize;
                if len < half.max(1) || nagle_holds {
                    return None;
                }
            }
        }
        let seq = self.snd_nxt;
        let out = self.emit_data(ctx, seq, len, fin);
        let sent = out.len as u32 + u32::from(fin);
        self.on_sent_new(ctx.now, &mut ctx.out.tx_pool, seq, sent, fin);
        if out.len < smss {
            let end = self.snd_nxt;
            self.tx_state(&mut ctx.out.tx_pool).small_end = Some(end);
        }
        // New data adds to the flight and to nothing the scoreboard subtracts (SACKed,
        // lost) or adds (retransmitted), so the pipe grows by what was sent; neither it
        // nor cwnd is worked out again.
        let pipe = pipe.saturating_add(sent);
        debug_assert_eq!(pipe, self.pipe());
        self.note_cwnd_usage_at(pipe >= cwnd, pipe);
        Some(out)
    }

    /// NextSeg rules 3 and 4 (RFC 6675 §4), in fast recovery when there is no new data:
    /// an unSACKed segment below the highest SACK not yet resent, else, once per
    /// recovery, the highest unSACKed segment (the "rescue" retransmission).
    fn recovery_retransmission(
        &mut self,
        ctx: &mut Ctx<'_>,
        space: usize,
        room: usize,
    ) -> Option<Outgoing> {
        let tx = self.tx.as_mut()?;
        let Recovery::Fast { since, .. } = tx.recovery else {
            return None;
        };
        if let Some(seg) = tx.board.next_unsacked_below_high(since) {
            if room < seg.len as usize {
                return None;
            }
            return Some(self.resend(ctx, seg, space));
        }
        if !tx.rescue_done {
            if let Some(seg) = tx.board.highest_unsacked() {
                if room >= seg.len as usize {
                    tx.rescue_done = true;
                    return Some(self.resend(ctx, seg, space));
                }
            }
        }
        None
    }

    /// Send a recorded segment again, whole (cut to the buffer if it must be).
    fn resend(&mut self, ctx: &mut Ctx<'_>, seg: TxSeg, space: usize) -> Outgoing {
        let mut seg = seg;
        if seg.data_len() as usize > space {
            let fit = u32::try_from(space).unwrap_or(u32::MAX);
            if let Some(tx) = self.tx.as_mut() {
                if let Some(cut) = tx.board.limit(seg.start, fit) {
                    seg = cut;
                }
            }
        }
        let len = (seg.data_len() as usize).min(space);
        let out = self.emit_data(ctx, seg.start, len, seg.fin());
        self.on_sent_again(ctx.now, &mut ctx.out.tx_pool, seg.start, seg.len);
        out
    }

    /// A tail loss probe (RFC 8985 §7.3): one segment of new data if the receive
    /// window allows, else the last segment sent again; then the RTO timer, not the
    /// probe timer, is armed.
    fn send_loss_probe(
        &mut self,
        ctx: &mut Ctx<'_>,
        space: usize,
        smss: usize,
    ) -> Option<Outgoing> {
        let now = ctx.now;
        if let Some(tx) = self.tx.as_mut() {
            tx.probe_due = false;
        }
        let buffered = self.send_buf.len();
        let data_off = self.snd_nxt.since(self.snd_una) as usize;
        let unsent = buffered.saturating_sub(data_off);
        let rwnd_room = self.snd_wnd.saturating_sub(self.flight()) as usize;
        let (out, is_retrans) = if unsent > 0 && rwnd_room > 0 {
            let len = unsent.min(smss).min(rwnd_room);
            let fin = self.fin_queued && !self.fin_was_acked && len == unsent;
            let seq = self.snd_nxt;
            let out = self.emit_data(ctx, seq, len, fin);
            let tx = self.tx_state(&mut ctx.out.tx_pool);
            tx.board
                .push(seq, out.len as u32 + u32::from(fin), fin, now);
            (out, false)
        } else {
            let tx = self.tx.as_ref()?;
            let last = tx.board.last().copied()?;
            let seg = if last.sacked() {
                tx.board.highest_unsacked()?
            } else {
                last
            };
            (self.resend(ctx, seg, space), true)
        };
        let end_seq = self.snd_nxt;
        if let Some(tx) = self.tx.as_mut() {
            tx.probe = Some(Probe {
                end_seq,
                is_retrans,
            });
            tx.loss_timer = None;
        }
        self.counters.tail_loss_probes = self.counters.tail_loss_probes.saturating_add(1);
        self.rto_at = self.arm(now + self.rtt.rto());
        Some(out)
    }

    /// A zero-window probe (§3.8.6.1): one byte of new data past the window, sent without
    /// advancing SND.NXT so that normal sending resumes from the same place; or, with a
    /// small non-zero window, whatever fits (the SWS override of §3.8.6.2.1).
    fn window_probe(&mut self, ctx: &mut Ctx<'_>, space: usize) -> Option<Outgoing> {
        let data_off = self.snd_nxt.since(self.snd_una) as usize;
        let unsent = self.send_buf.len().saturating_sub(data_off);
        if unsent == 0 || space == 0 {
            return None;
        }
        let usable = self.snd_wnd.saturating_sub(self.flight()) as usize;
        let len = unsent
            .min(usable.max(1))
            .min(usize::from(self.smss))
            .min(space);
        let n = len.min(self.send_buf.len().saturating_sub(data_off));
        let mut flags = TcpFlags::ACK;
        if n == unsent {
            flags = flags | TcpFlags::PSH;
        }
        let seq = self.snd_nxt;
        self.header(ctx.now, seq, flags, &mut ctx.out.header);
        self.fit_options(&mut ctx.out.header, n);
        let end = seq.add_len(n);
        let retransmission = self.snd_max.ge(end);
        if usable > 0 {
            self.snd_nxt = end; // a real (small) segment inside the window
            self.on_sent_new(ctx.now, &mut ctx.out.tx_pool, seq, n as u32, false);
            if self.rto_at.is_none() {
                self.rto_at = self.arm(ctx.now + self.rtt.rto());
            }
        }
        self.snd_max = self.snd_max.max(end);
        self.count_payload(n, retransmission);
        self.note_sent(ctx.now, retransmission, false);
        self.persist_at = None;
        self.update_persist(ctx.now);
        Some(Outgoing {
            len: n,
            data_offset: data_off,
            retransmission,
        })
    }

    /// Emit `len` bytes of data starting at `seq` (and a FIN after them if `fin`).
    fn emit_data(&mut self, ctx: &mut Ctx<'_>, seq: SeqNum, len: usize, fin: bool) -> Outgoing {
        let off = seq.since(self.snd_una) as usize;
        let n = len.min(self.send_buf.len().saturating_sub(off));
        let mut flags = TcpFlags::ACK;
        if n > 0 && off + n == self.send_buf.len() {
            flags = flags | TcpFlags::PSH;
        }
        if fin {
            flags = flags | TcpFlags::FIN;
        }
        self.header(ctx.now, seq, flags, &mut ctx.out.header);
        self.fit_options(&mut ctx.out.header, n);
        let end = seq.add_len(n).add(u32::from(fin));
        let retransmission = seq.lt(self.snd_max);
        if self.snd_nxt.lt(end) {
            self.snd_nxt = end;
        }
        self.snd_max = self.snd_max.max(end);
        self.count_payload(n, retransmission);
        self.note_sent(ctx.now, retransmission, n > 0 || fin);
        self.persist_at = None;
        self.persist_backoff = 0;
        Outgoing {
            len: n,
            data_offset: off,
            retransmission,
        }
    }

    fn count_payload(&mut self, n: usize, retransmission: bool) {
        let c = &mut self.counters;
        c.bytes_sent = c.bytes_sent.saturating_add(n as u64);
        if retransmission {
            c.bytes_retransmitted = c.bytes_retransmitted.saturating_add(n as u64);
        }
    }

    /// MUST-16: options and data together never exceed the peer's MSS, which counts no
    /// options (the timestamps option is already taken out of `smss`). SACK blocks that
    /// do not fit beside the data are left out, the first (most recent) kept longest
    /// (RFC 2018 §4); pure ACKs carry them all.
    fn fit_options(&self, repr: &mut TcpRepr, payload: usize) {
        let ts = if self.ts_ok {
            super::TIMESTAMPS_OPTION_LEN
        } else {
            0
        };
        let budget = usize::from(self.smss.saturating_add(ts));
        while !repr.options.sack.is_empty() && repr.options.wire_len() + payload > budget {
            let keep = repr.options.sack.len() - 1;
            repr.options.sack.truncate(keep);
        }
    }

    /// `<SEQ=seq><ACK=RCV.NXT><CTL=ACK>`.
    fn emit_ack(&mut self, ctx: &mut Ctx<'_>, seq: SeqNum) -> Outgoing {
        self.header(ctx.now, seq, TcpFlags::ACK, &mut ctx.out.header);
        self.note_sent(ctx.now, false, false);
        Outgoing {
            len: 0,
            data_offset: 0,
            retransmission: false,
        }
    }

    /// A header from this connection with the current ACK and window, and the options
    /// every segment carries once negotiated: timestamps (RFC 7323 §3.2) and, on ACKs
    /// while out-of-order data is held, SACK blocks (RFC 2018 §4). Sending it
    /// acknowledges everything received, so pending-ACK state is cleared. A SYN gets no
    /// options here: [`Connection::emit_syn`] sets its own.
    ///
    /// The header is written into `repr` field by field, where the emitter reads it
    /// ([`Outgoing`] says why it is not returned by value).
    fn header(&mut self, now: Instant, seq: SeqNum, flags: TcpFlags, repr: &mut TcpRepr) {
        let with_ack = flags.ack();
        let wanted = self.window_to_advertise();
        let (window, field) = if flags.syn() || !self.wscale_ok {
            // A SYN's window is never scaled (RFC 7323 §2.2).
            let w = wanted.min(MAX_UNSCALED_WINDOW);
            (w, w as u16)
        } else {
            let current = self.rcv_adv.since(self.rcv_nxt);
            let (w, f) = window::scaled_advertisement(wanted, current, self.rcv_wscale);
            // Rounding up must not promise more than the buffer can hold: repeated, it
            // creeps the right edge past the buffer, and the data sent there is dropped
            // and resent until R2. Past the buffer, round down instead: RFC 7323 §2.4
            // allows that retraction, and RCV.ADV still honours every earlier edge.
            let room = u32::try_from(self.recv_buf.window()).unwrap_or(u32::MAX);
            if w > room && w > wanted {
                let f = (room >> self.rcv_wscale.min(14)).min(65_535);
                (f << self.rcv_wscale.min(14), f as u16)
            } else {
                (w, f)
            }
        };
        if with_ack {
            self.rcv_adv = self.rcv_adv.max(self.rcv_nxt.add(window));
            self.ack_now = false;
            self.delack_at = None;
            self.bytes_unacked = 0;
            self.ts.last_ack_sent = self.rcv_nxt;
        }
        repr.src_port = self.tuple.local.port();
        repr.dst_port = self.tuple.remote.port();
        repr.seq = seq.raw();
        repr.ack = if with_ack { self.rcv_nxt.raw() } else { 0 };
        repr.flags = flags;
        repr.window = field;
        repr.urgent = 0;
        repr.options = TcpOptions::default();
        if !flags.syn() {
            if self.ts_ok {
                repr.options.timestamps = Some(Timestamps {
                    tsval: self.ts.tsval(now),
                    tsecr: self.ts.recent,
                });
            }
            if self.sack_ok && with_ack {
                self.add_sack_blocks(&mut repr.options);
            }
        }
        self.mark_urgent(repr);
    }

    /// SACK blocks for an ACK (RFC 2018 §4, RFC 2883), as many as fit next to the
    /// other options.
    fn add_sack_blocks(&mut self, options: &mut TcpOptions) {
        let Some(rx) = self.sack_rx.as_mut() else {
            return;
        };
        let max = options.max_sack_blocks();
        let rcv_nxt = self.rcv_nxt;
        let recv_buf = &self.recv_buf;
        options.sack = rx.blocks(
            rcv_nxt,
            || {
                recv_buf
                    .out_of_order()
                    .map(move |(s, e)| (rcv_nxt.add_len(s), rcv_nxt.add_len(e)))
            },
            max,
        );
        if rx.is_idle(recv_buf.has_out_of_order()) {
            self.sack_rx = None;
        }
    }

    /// Bookkeeping after sending a segment: arm the retransmission timer (RFC 6298
    /// §5.1) for one that occupies sequence space and apply Karn's rule to
    /// retransmissions.
    fn note_sent(&mut self, now: Instant, retransmission: bool, occupies_seq: bool) {
        self.counters.segments_sent = self.counters.segments_sent.saturating_add(1);
        if retransmission {
            if self.ts_ok {
                // The echo will tell which transmission an ACK answers (RFC 7323 §4).
                if let Some(p) = self.rtt_probe.as_mut() {
                    p.ambiguous = true;
                }
            } else {
                self.rtt_probe = None; // Karn's rule
            }
            self.retransmitted_segments += 1;
        } else if occupies_seq && self.rtt_probe.is_none() {
            // Time this segment: it ends at SND.NXT, which the caller has just advanced.
            self.rtt_probe = Some(super::RttProbe {
                end: self.snd_nxt,
                sent: now,
                ambiguous: false,
            });
        }
        if occupies_seq && self.rto_at.is_none() && self.snd_max.gt(self.snd_una) {
            // Never wait past R2: the last timeout lands exactly on it.
            let at = now + self.rtt.rto();
            self.rto_at = self.arm(self.r2_deadline.map_or(at, |d| at.min(d)));
        }
    }

    /// Arm the persist timer when data waits behind a closed (or uselessly small) window
    /// and nothing is in flight to provoke an ACK; disarm it otherwise. Inline: nearly
    /// every call finds nothing waiting, and that case is a few tests, not a call.
    #[inline(always)]
    pub(crate) fn update_persist(&mut self, now: Instant) {
        let waiting = self.state.is_synchronized()
            && self.flight() == 0
            && !self.send_buf.is_empty()
            && !self.probe_due;
        if !waiting {
            if self.persist_at.is_some() && self.flight() > 0 {
                self.persist_at = None;
            }
            if self.snd_wnd > 0 {
                self.persist_backoff = 0;
            }
            return;
        }
        self.arm_persist(now);
    }

    /// [`Connection::update_persist`] when data waits and nothing is in flight.
    #[inline(never)]
    fn arm_persist(&mut self, now: Instant) {
        let usable = self.snd_wnd.min(self.cc.cwnd()) as usize;
        let blocked = usable < self.send_buf.len().min(usize::from(self.smss));
        if !blocked {
            self.persist_at = None;
            return;
        }
        if self.persist_at.is_none() {
            let mut d = self.rtt.rto();
            for _ in 0..self.persist_backoff.min(16) {
                d = d.saturating_mul(2);
            }
            self.persist_at = self.arm(now + d.min(MAX_PERSIST_INTERVAL));
        }
    }
}
