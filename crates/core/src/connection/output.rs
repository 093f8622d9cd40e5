//! Deciding what to send next: the SYN / SYN-ACK, data within the send window (§3.8.6)
//! subject to Nagle (§3.7.4, MUST-17) and sender-side SWS avoidance (§3.8.6.2.1,
//! MUST-38), the FIN, retransmissions, zero-window probes (§3.8.6.1, MUST-35/36),
//! keep-alive probes (§3.8.4) and ACKs (§3.8.6.3).

use super::Connection;
use crate::outbox::Ctx;
use crate::{Instant, State};
use core::time::Duration;
use synack_wire::{TcpFlags, TcpOptions, TcpRepr};

/// Longest wait between zero-window probes.
const MAX_PERSIST_INTERVAL: Duration = Duration::from_secs(60);

/// One segment to put on the wire: the header, and `len` payload bytes that
/// `poll_segment` has already copied into the caller's buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outgoing {
    pub repr: TcpRepr,
    pub len: usize,
    pub retransmission: bool,
}

impl Connection {
    /// The next segment this connection wants to send now, if any. Payload bytes are
    /// copied into `payload` (which must hold at least one MSS).
    pub(crate) fn poll_segment(
        &mut self,
        ctx: &mut Ctx<'_>,
        payload: &mut [u8],
    ) -> Option<Outgoing> {
        let out = match self.state {
            State::Closed | State::Listen => None,
            State::SynSent => (self.snd_nxt == self.iss).then(|| self.emit_syn(ctx, false)),
            State::SynReceived => {
                (self.snd_nxt == self.iss || self.ack_now).then(|| self.emit_syn(ctx, true))
            }
            State::TimeWait => self.ack_now.then(|| self.emit_ack(ctx, self.snd_max)),
            _ => self.poll_synchronized(ctx, payload),
        };
        if out.is_none() {
            self.update_persist(ctx.now);
        }
        out
    }

    /// `<SEQ=ISS><CTL=SYN>` or `<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>`, with our MSS
    /// (MUST-14); the window in a SYN is never scaled.
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
        let options = TcpOptions {
            mss: Some(self.rcv_mss),
            ..TcpOptions::default()
        };
        let repr = self.header(self.iss, flags, options);
        self.snd_nxt = self.iss.add(1);
        self.snd_max = self.snd_max.max(self.snd_nxt);
        self.note_sent(ctx.now, retransmission, true);
        if resent_iss {
            self.rtt_probe = None; // Karn: an ACK of ISS + 1 is ambiguous now
        }
        Outgoing {
            repr,
            len: 0,
            retransmission,
        }
    }

    fn poll_synchronized(&mut self, ctx: &mut Ctx<'_>, payload: &mut [u8]) -> Option<Outgoing> {
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
        if let Some(out) = self.next_data_segment(ctx, payload) {
            return Some(out);
        }
        if self.probe_due {
            self.probe_due = false;
            if let Some(out) = self.window_probe(ctx, payload) {
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
            // sequence number sent (`snd_max`): after a timeout our go-back pointer
            // `snd_nxt` may sit below the peer's RCV.NXT, and an ACK carrying it would be
            // unacceptable to the peer (§3.10.7.4, first check) and never processed.
            return Some(self.emit_ack(ctx, self.snd_max));
        }
        None
    }

    /// Sequence number just past the last queued data byte (data starts at SND.UNA once
    /// our SYN is acknowledged).
    fn data_end(&self) -> crate::SeqNum {
        self.snd_una.add_len(self.send_buf.len())
    }

    /// The next data and/or FIN segment the windows, Nagle and SWS avoidance allow.
    fn next_data_segment(&mut self, ctx: &mut Ctx<'_>, payload: &mut [u8]) -> Option<Outgoing> {
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
        let smss = usize::from(self.smss).min(payload.len());
        let buffered = self.send_buf.len();
        if self.retransmit_first {
            // Fast retransmit / NewReno partial ACK: resend the first unacknowledged
            // segment without disturbing SND.NXT.
            self.retransmit_first = false;
            if self.snd_max.gt(self.snd_una) {
                let len = buffered
                    .min(smss)
                    .min(self.snd_max.since(self.snd_una) as usize);
                let fin = self.fin_queued && len == buffered && self.snd_max.gt(self.data_end());
                return Some(self.emit_data(ctx, self.snd_una, len, fin, payload));
            }
        }
        let data_off = self.snd_nxt.since(self.snd_una) as usize;
        let fin_pending = self.fin_queued && !self.fin_was_acked && data_off <= buffered;
        let unsent = buffered.saturating_sub(data_off);
        if unsent == 0 && !fin_pending {
            return None;
        }
        let in_flight = self.flight();
        // MUST-34: the usable window may be "negative" if the peer shrank it.
        let wnd = self.snd_wnd.min(self.cc.cwnd);
        let usable = wnd.saturating_sub(in_flight) as usize;
        let len = unsent.min(usable).min(smss);
        let fin = fin_pending && len == unsent;
        if len == 0 && !fin {
            return None;
        }
        if len < smss && !fin {
            let nagle_holds = !self.nodelay && in_flight > 0;
            if len == unsent {
                // All queued data fits: Nagle (§3.7.4) waits for outstanding data to be
                // acknowledged before sending a small segment.
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
        Some(self.emit_data(ctx, seq, len, fin, payload))
    }

    /// A zero-window probe (§3.8.6.1): one byte of new data past the window, sent without
    /// advancing SND.NXT so that normal sending resumes from the same place; or, with a
    /// small non-zero window, whatever fits (the SWS override of §3.8.6.2.1).
    fn window_probe(&mut self, ctx: &mut Ctx<'_>, payload: &mut [u8]) -> Option<Outgoing> {
        let data_off = self.snd_nxt.since(self.snd_una) as usize;
        let unsent = self.send_buf.len().saturating_sub(data_off);
        if unsent == 0 || payload.is_empty() {
            return None;
        }
        let usable = self.snd_wnd.saturating_sub(self.flight()) as usize;
        let len = unsent
            .min(usable.max(1))
            .min(usize::from(self.smss))
            .min(payload.len());
        let n = self.send_buf.peek(data_off, &mut payload[..len]);
        let mut flags = TcpFlags::ACK;
        if n == unsent {
            flags = flags | TcpFlags::PSH;
        }
        let repr = self.header(self.snd_nxt, flags, TcpOptions::default());
        let end = self.snd_nxt.add_len(n);
        let retransmission = self.snd_max.ge(end);
        if usable > 0 {
            self.snd_nxt = end; // a real (small) segment inside the window
            if self.rto_at.is_none() {
                self.rto_at = Some(ctx.now + self.rtt.rto());
            }
        }
        self.snd_max = self.snd_max.max(end);
        self.note_sent(ctx.now, retransmission, false);
        self.persist_at = None;
        self.update_persist(ctx.now);
        Some(Outgoing {
            repr,
            len: n,
            retransmission,
        })
    }

    /// Emit `len` bytes of data starting at `seq` (and a FIN after them if `fin`).
    fn emit_data(
        &mut self,
        ctx: &mut Ctx<'_>,
        seq: crate::SeqNum,
        len: usize,
        fin: bool,
        payload: &mut [u8],
    ) -> Outgoing {
        let off = seq.since(self.snd_una) as usize;
        let n = self.send_buf.peek(off, &mut payload[..len]);
        let mut flags = TcpFlags::ACK;
        if n > 0 && off + n == self.send_buf.len() {
            flags = flags | TcpFlags::PSH;
        }
        if fin {
            flags = flags | TcpFlags::FIN;
        }
        let repr = self.header(seq, flags, TcpOptions::default());
        let end = seq.add_len(n).add(u32::from(fin));
        let retransmission = seq.lt(self.snd_max);
        if self.snd_nxt.lt(end) {
            self.snd_nxt = end;
        }
        self.snd_max = self.snd_max.max(end);
        self.note_sent(ctx.now, retransmission, n > 0 || fin);
        self.persist_at = None;
        self.persist_backoff = 0;
        Outgoing {
            repr,
            len: n,
            retransmission,
        }
    }

    /// `<SEQ=seq><ACK=RCV.NXT><CTL=ACK>`.
    fn emit_ack(&mut self, ctx: &mut Ctx<'_>, seq: crate::SeqNum) -> Outgoing {
        let repr = self.header(seq, TcpFlags::ACK, TcpOptions::default());
        self.note_sent(ctx.now, false, false);
        Outgoing {
            repr,
            len: 0,
            retransmission: false,
        }
    }

    /// A header from this connection with the current ACK and window. Sending it
    /// acknowledges everything received, so pending-ACK state is cleared.
    fn header(&mut self, seq: crate::SeqNum, flags: TcpFlags, options: TcpOptions) -> TcpRepr {
        let with_ack = flags.ack();
        let window = self.window_to_advertise();
        if with_ack {
            self.rcv_adv = self.rcv_adv.max(self.rcv_nxt.add(window));
            self.ack_now = false;
            self.delack_at = None;
            self.bytes_unacked = 0;
        }
        TcpRepr {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq: seq.raw(),
            ack: if with_ack { self.rcv_nxt.raw() } else { 0 },
            flags,
            window: window.min(u32::from(u16::MAX)) as u16,
            urgent: 0,
            options,
        }
    }

    /// Bookkeeping after sending something that occupies sequence space: arm the
    /// retransmission timer (RFC 6298 §5.1) and apply Karn's rule to retransmissions.
    fn note_sent(&mut self, now: Instant, retransmission: bool, occupies_seq: bool) {
        if retransmission {
            self.rtt_probe = None;
            self.retransmitted_segments += 1;
        } else if occupies_seq && self.rtt_probe.is_none() {
            // Time this segment: it ends at SND.NXT, which the caller has just advanced.
            self.rtt_probe = Some((self.snd_nxt, now));
        }
        if occupies_seq && self.rto_at.is_none() && self.snd_max.gt(self.snd_una) {
            // Never wait past R2: the last timeout lands exactly on it.
            let at = now + self.rtt.rto();
            self.rto_at = Some(self.r2_deadline.map_or(at, |d| at.min(d)));
        }
    }

    /// Arm the persist timer when data waits behind a closed (or uselessly small) window
    /// and nothing is in flight to provoke an ACK; disarm it otherwise.
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
        let usable = self.snd_wnd.min(self.cc.cwnd) as usize;
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
            self.persist_at = Some(now + d.min(MAX_PERSIST_INTERVAL));
        }
    }
}
