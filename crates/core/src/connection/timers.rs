//! The connection's timers: retransmission with exponential backoff and the R1/R2
//! thresholds (RFC 6298 §5, RFC 9293 §3.8.1–3.8.3, MUST-18..23), the loss-detection
//! timer (RACK reordering window or tail loss probe, RFC 8985 §6.3, §7.2), persist
//! (§3.8.6.1), delayed ACK (§3.8.6.3), keep-alive (§3.8.4, MUST-24..29) and TIME-WAIT
//! (§3.6.1), and one that is not TCP's: giving back empty buffers
//! ([`BUFFER_LINGER`]).
//!
//! Each timer is an `Option<Instant>` in the TCB; the endpoint keeps one queue entry per
//! connection at the earliest of them ([`Connection::next_deadline`]) and calls
//! [`Connection::on_timeout`], which runs whichever are due.

use super::{Connection, Origin};
use crate::endpoint::{CloseReason, Event};
use crate::outbox::Ctx;
use crate::{Instant, Keepalive, State};
use core::time::Duration;

/// Shortest keep-alive interval used, whatever the application set: an interval of zero
/// would re-arm the timer at `now` for ever inside one `handle_timeout`.
const MIN_KEEPALIVE_INTERVAL: Duration = Duration::from_millis(1);

/// How long a send or receive buffer that has drained keeps its allocation before the
/// connection frees it. A bulk transfer drains and refills its buffers many times a
/// second; freeing and reallocating a megabyte each time cost more than the transfer
/// itself (allocation, page faults, zeroing). An idle connection gets back to holding
/// no buffer at all within this time.
pub(crate) const BUFFER_LINGER: Duration = Duration::from_secs(1);

/// States in which keep-alive probes an idle connection (§3.8.4): those where nothing
/// else would notice a peer that vanished. FIN-WAIT-2 is one of them: our FIN is
/// acknowledged, nothing is outstanding, and an application still holding the
/// connection would wait for the peer's FIN for ever (Linux probes there too).
fn keepalive_state(state: State) -> bool {
    matches!(
        state,
        State::Established | State::CloseWait | State::FinWait2
    )
}

fn keepalive_interval(ka: &Keepalive) -> Duration {
    ka.interval.max(MIN_KEEPALIVE_INTERVAL)
}

impl Connection {
    /// Arm a timer for `at`: returns `Some(at)`, the value for the timer's field, and
    /// notes `at` for the endpoint's timer queue ([`Connection::note_armed`]). Every
    /// timer but keep-alive is armed through here (keep-alive, rare, makes the endpoint
    /// always look).
    #[inline]
    pub(crate) fn arm(&mut self, at: Instant) -> Option<Instant> {
        self.note_armed(at);
        Some(at)
    }

    /// A timer was armed for `at` (see [`Connection::earliest_armed`]).
    #[inline]
    pub(crate) fn note_armed(&mut self, at: Instant) {
        self.earliest_armed = self.earliest_armed.min(at);
    }

    /// Whether the earliest deadline may have moved before `entry`, the earliest entry
    /// the endpoint's timer queue holds for this connection: only if a timer was armed
    /// since the endpoint last looked, before `entry`, or keep-alive is on (its timer is
    /// not tracked). When false, [`Connection::next_deadline`] is not before `entry`.
    #[inline]
    pub(crate) fn deadline_may_precede(&self, entry: Instant) -> bool {
        self.earliest_armed < entry || self.keepalive.is_some()
    }

    /// The earliest time any of this connection's timers is due. (Runs after an event
    /// that armed a timer, see [`Connection::arm`]: a branch-free minimum, no iterator
    /// chain.) An unarmed
    /// timer counts as FAR_FUTURE, and so does one armed that far away: it would never
    /// fire in a run either.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let never = Instant::FAR_FUTURE;
        let or_never = |t: Option<Instant>| t.unwrap_or(never);
        let mut at = or_never(self.rto_at)
            .min(or_never(self.persist_at))
            .min(or_never(self.delack_at))
            .min(or_never(self.time_wait_until))
            .min(or_never(self.buffers_release_at));
        if let Some(t) = self.tx.as_ref() {
            at = at.min(or_never(t.loss_timer.map(|(when, _)| when)));
        }
        if let Some(k) = self.keepalive.as_ref() {
            at = at.min(or_never(k.at));
        }
        (at != never).then_some(at)
    }

    /// After anything happened on the connection: if a buffer is empty but still
    /// allocated, plan to free it [`BUFFER_LINGER`] from now (unless already planned).
    pub(crate) fn arm_buffer_release(&mut self, now: Instant) {
        if self.buffers_release_at.is_none()
            && (self.send_buf.holds_idle_allocation() || self.recv_buf.holds_idle_allocation())
        {
            self.buffers_release_at = self.arm(now + BUFFER_LINGER);
        }
    }

    /// Free the send and receive buffers that hold nothing, now.
    pub(crate) fn release_drained_buffers(&mut self) {
        self.buffers_release_at = None;
        self.send_buf.release_if_empty();
        self.recv_buf.release_if_empty();
    }

    /// Run every timer due at `ctx.now`.
    pub(crate) fn on_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        if self.buffers_release_at.is_some_and(|t| t <= now) {
            // Buffers refilled since are kept; the next drain plans again.
            self.release_drained_buffers();
        }
        if self.time_wait_until.is_some_and(|t| t <= now) {
            self.time_wait_until = None;
            // TIME-WAIT expired (or a released FIN-WAIT-2 gave up waiting): CLOSED.
            self.terminate(ctx, CloseReason::Normal);
            return;
        }
        if self.delack_at.is_some_and(|t| t <= now) {
            self.delack_at = None;
            self.ack_now = true;
        }
        // The loss-detection timer before the RTO: a probe due at the same instant
        // re-arms the RTO (RFC 8985 §7.3).
        let loss_timer = self.tx.as_ref().and_then(|t| t.loss_timer);
        if let Some((at, kind)) = loss_timer {
            if at <= now {
                if let Some(tx) = self.tx.as_mut() {
                    tx.loss_timer = None;
                }
                self.on_loss_timer(ctx, kind);
            }
        }
        if self.rto_at.is_some_and(|t| t <= now) {
            self.rto_at = None;
            self.on_retransmission_timeout(ctx);
            if self.state == State::Closed {
                return;
            }
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            self.persist_at = None;
            // MUST-37 keeps the connection open while the receiver acknowledges the
            // probes; one that has answered nothing for R2 while we probe is gone
            // (§3.8.3, as for retransmissions; Linux counts probes against its R2).
            if self.persist_backoff > 0 && now.saturating_since(self.last_received) >= self.r2 {
                self.terminate(ctx, CloseReason::TimedOut);
                return;
            }
            self.probe_due = true;
            self.persist_backoff = self.persist_backoff.saturating_add(1);
        }
        if let Some(k) = self.keepalive.as_mut() {
            if k.at.is_some_and(|t| t <= now) {
                k.at = None;
                self.on_keepalive_timeout(ctx);
            }
        }
    }

    /// RFC 6298 §5.4–5.7: retransmit from SND.UNA (go-back-N), back off the timer, and
    /// give up at R2 (§3.8.3). The loss window is one segment (RFC 5681 §3.1).
    fn on_retransmission_timeout(&mut self, ctx: &mut Ctx<'_>) {
        if !self.snd_max.gt(self.snd_una) {
            return; // nothing outstanding
        }
        let now = ctx.now;
        let handshake = matches!(self.state, State::SynSent | State::SynReceived);
        let r2 = if handshake {
            ctx.config.r2_syn
        } else {
            self.r2
        };
        // The timer was armed one (un-backed-off) RTO after the segment went out, so
        // the segment has been outstanding since `now - rto` (as Linux's user timeout).
        let deadline = *self.r2_deadline.get_or_insert(now - self.rtt.rto() + r2);
        if now >= deadline {
            let reason = match (self.state, self.origin) {
                (State::SynReceived, Origin::Passive { .. }) => CloseReason::Reset,
                _ => CloseReason::TimedOut,
            };
            self.terminate(ctx, reason);
            return;
        }
        self.retransmits += 1;
        if self.retransmits == ctx.config.r1_retransmissions {
            // R1: "negative advice" to the layers below; here, an event for whoever
            // drives the endpoint (MUST-20, MUST-22).
            ctx.out
                .events
                .push_back(Event::RetransmitThreshold(self.id));
        }
        self.rtt.backoff();
        if !self.ts_ok {
            self.rtt_probe = None; // Karn's rule
        }
        if self.state.is_synchronized() {
            // Every unSACKed segment is lost and is sent again as the windows allow
            // (go-back-N without SACK); the first one out re-arms the timer with the
            // backed-off RTO.
            self.on_rto_loss(ctx);
        } else {
            // The SYN or SYN-ACK goes again.
            self.snd_nxt = self.snd_una;
        }
    }

    /// §3.8.4: probe an idle connection; after `probes` unanswered probes (never just
    /// one, MUST-29) the connection is dead.
    fn on_keepalive_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let Some(ka) = self.keepalive.as_ref().map(|k| k.params) else {
            return;
        };
        if !keepalive_state(self.state) {
            return;
        }
        let idle_since = self.last_received;
        // MUST-26: only when nothing is outstanding and nothing arrived for the interval.
        if self.flight() > 0 || ctx.now.saturating_since(idle_since) < ka.idle {
            self.arm_keepalive(ctx.now);
            return;
        }
        let sent = self.keepalive.as_ref().map_or(0, |k| k.sent);
        if sent >= ka.probes.max(2) {
            self.terminate(ctx, CloseReason::TimedOut);
            return;
        }
        self.keepalive_due = true;
        if let Some(k) = self.keepalive.as_mut() {
            k.sent += 1;
            k.at = Some(ctx.now + keepalive_interval(&ka));
        }
    }

    /// (Re)arm the keep-alive timer after activity. Inline: with keep-alive off (the
    /// default) this is one test at each of its call sites, not a call.
    #[inline]
    pub(crate) fn arm_keepalive(&mut self, now: Instant) {
        if self.keepalive.is_some() {
            self.rearm_keepalive(now);
        }
    }

    /// [`Connection::arm_keepalive`] with keep-alive on.
    #[inline(never)]
    fn rearm_keepalive(&mut self, now: Instant) {
        let active = keepalive_state(self.state);
        let last_received = self.last_received;
        let Some(k) = self.keepalive.as_mut() else {
            return;
        };
        if !active {
            k.at = None;
            return;
        }
        let ka = k.params;
        if last_received == now {
            k.sent = 0;
        }
        if k.sent == 0 {
            let at = last_received + ka.idle;
            let retry = now + keepalive_interval(&ka);
            k.at = Some(if at > now { at } else { retry });
        } else if k.at.is_none() {
            k.at = Some(now + keepalive_interval(&ka));
        }
    }
}
