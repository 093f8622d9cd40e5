//! Loss recovery: what the sender does when segments go missing, tying together the
//! scoreboard (RFC 6675), RACK-TLP (RFC 8985), PRR (RFC 9937) and the congestion
//! controller (RFC 5681, RFC 9438).
//!
//! On every acceptable ACK of a synchronized connection, in this order:
//!
//! 1. the cumulative ACK and the SACK blocks update the scoreboard (`input`);
//! 2. RACK learns the most recently sent segment now delivered, notices reordering and
//!    D-SACKs, and marks as lost what was sent before it and is overdue;
//!    without reordering, RFC 6675's `IsLost` (DupThresh SACKed segments above) marks
//!    too; without SACK, the third duplicate ACK marks the first segment (RFC 5681
//!    §3.2) and, in recovery, each partial ACK the next one (RFC 6582 §3.2);
//! 3. recovery ends once SND.UNA passes the recovery point (RFC 6675 §5, RFC 6582), or
//!    begins when something is lost (`cwnd` reduction chosen by the controller);
//! 4. during fast recovery PRR sets `cwnd` from what was delivered; otherwise the
//!    controller grows it;
//! 5. an outstanding tail loss probe is settled (RFC 8985 §7.4);
//! 6. the RACK reorder timer or the tail-loss-probe timer is armed.
//!
//! What to send is then NextSeg's choice (`output`): lost segments first, new data,
//! and in recovery the rules 3 and 4 of RFC 6675.
//!
//! A retransmission timeout (RFC 6298 §5.4–5.7, RFC 6675 §5.1, RFC 8985 §6.3) marks
//! every unSACKed segment lost; they go out again as slow start allows, and no fast
//! recovery begins until everything outstanding at the timeout is acknowledged.
//!
//! All this state ([`TxState`]) lives in a box that exists only while data is
//! outstanding; an idle connection carries one null pointer for it.

use super::tx_pool::TxPool;
use super::Connection;
use crate::congestion::{AckEvent, CongestionControl, HyStart, Phase};
use crate::outbox::Ctx;
use crate::prr::Prr;
use crate::rack::{self, Probe, ProbeOutcome, Rack};
use crate::scoreboard::{Scoreboard, Update, DUP_THRESH};
use crate::{Instant, SeqNum};
use core::time::Duration;

/// Where loss recovery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// Nothing being repaired.
    Open,
    /// Fast recovery (RFC 6675 §5, RFC 6582): until SND.UNA reaches `point`
    /// (RecoveryPoint, SND.NXT when it began at `since`).
    Fast { point: SeqNum, since: Instant },
    /// After a retransmission timeout (RFC 6675 §5.1): until SND.UNA reaches `point`.
    Timeout { point: SeqNum },
}

/// Which loss-detection timer is armed (one at a time, as RFC 8985 §8 suggests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LossTimer {
    /// The tail loss probe timeout (PTO).
    Probe,
    /// RACK's reordering window expiring.
    Reorder,
}

/// Sender state that matters only while data is outstanding.
#[derive(Debug)]
pub(crate) struct TxState {
    pub board: Scoreboard,
    pub rack: Rack,
    pub prr: Prr,
    pub recovery: Recovery,
    /// The outstanding tail loss probe.
    pub probe: Option<Probe>,
    /// The PTO fired: send a probe at the next opportunity.
    pub probe_due: bool,
    pub loss_timer: Option<(Instant, LossTimer)>,
    /// RFC 6675 NextSeg rule 4 was used in this recovery.
    pub rescue_done: bool,
    /// Duplicate ACKs in a row (RFC 5681 §3.2, without SACK).
    pub dupacks: u32,
    /// Was the sender limited by cwnd in the current round (Linux's
    /// `tcp_cwnd_validate`): `cwnd_limited`, the most in flight (`max_out`), and the
    /// end of the round (`usage_seq`).
    pub cwnd_limited: bool,
    pub max_out: u32,
    pub usage_seq: SeqNum,
    /// The end of the last segment shorter than the MSS sent (Nagle in Minshall's
    /// variant holds the next small one until it is acknowledged).
    pub small_end: Option<SeqNum>,
    /// HyStart++ in the initial slow start (RFC 9406).
    pub hystart: HyStart,
}

impl TxState {
    pub(crate) fn new(snd_una: SeqNum) -> Self {
        TxState {
            board: Scoreboard::new(snd_una),
            rack: Rack::default(),
            prr: Prr::default(),
            recovery: Recovery::Open,
            probe: None,
            probe_due: false,
            loss_timer: None,
            rescue_done: false,
            dupacks: 0,
            cwnd_limited: false,
            max_out: 0,
            usage_seq: snd_una,
            small_end: None,
            hystart: HyStart::default(),
        }
    }

    /// As [`TxState::new`] makes it, keeping the scoreboard's allocations (for
    /// [`super::tx_pool::TxPool`]).
    pub(crate) fn recycle(&mut self, snd_una: SeqNum) {
        let mut board = core::mem::take(&mut self.board);
        board.recycle(snd_una);
        *self = TxState {
            board,
            ..TxState::new(snd_una)
        };
    }

    pub(crate) fn in_fast_recovery(&self) -> bool {
        matches!(self.recovery, Recovery::Fast { .. })
    }
}

/// What one ACK said, gathered by `input` for the steps above.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AckInfo {
    pub ack: SeqNum,
    /// SND.UNA advanced.
    pub advanced: bool,
    /// Sequence space newly acknowledged.
    pub acked: u32,
    /// The scoreboard's SACKed bytes before this ACK.
    pub prior_sacked: u32,
    pub update: Update,
    /// The D-SACK block, if the first block was one (RFC 2883 §4).
    pub dsack: Option<(SeqNum, SeqNum)>,
    /// A duplicate ACK in RFC 5681's sense.
    pub dupack: bool,
    /// A duplicate ACK without SACK blocks (RFC 8985 §7.4.2).
    pub pure_dupack: bool,
    /// The echoed timestamp, when timestamps are in use.
    pub tsecr: Option<u32>,
}

impl Connection {
    /// The sender's scoreboard box, made when the first segment goes out.
    #[inline]
    pub(crate) fn tx_state(&mut self, pool: &mut TxPool) -> &mut TxState {
        let una = self.snd_una;
        self.tx.get_or_insert_with(|| pool.take(una))
    }

    /// Give the sender state back to the endpoint's pool (nothing is outstanding, or
    /// the connection is closed).
    #[inline]
    pub(crate) fn drop_tx_state(&mut self, pool: &mut TxPool) {
        if let Some(tx) = self.tx.take() {
            pool.give(tx);
        }
    }

    /// RFC 6675 pipe: what the sender believes is in the network.
    pub(crate) fn pipe(&self) -> u32 {
        let outstanding = self.flight();
        match &self.tx {
            Some(tx) => tx.board.pipe(outstanding),
            None => outstanding,
        }
    }

    /// Lowest RTT seen recently (RACK.min_RTT), refreshed from every sample; an old
    /// minimum (over 5 minutes, as Linux's `tcp_min_rtt_wlen`) yields to a new sample.
    pub(crate) fn note_rtt(&mut self, rtt: Duration, now: Instant) {
        let us = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX).max(1);
        let now_s = (now.as_nanos() / 1_000_000_000) as u32;
        let stale = now_s.wrapping_sub(self.min_rtt_at) > 300;
        if self.min_rtt_us == 0 || us <= self.min_rtt_us || stale {
            self.min_rtt_us = us;
            self.min_rtt_at = now_s;
        }
    }

    pub(crate) fn min_rtt(&self) -> Option<Duration> {
        (self.min_rtt_us > 0).then(|| Duration::from_micros(u64::from(self.min_rtt_us)))
    }

    /// A segment of new data `[start, start + len)` (with our FIN if `fin`) went out.
    pub(crate) fn on_sent_new(
        &mut self,
        now: Instant,
        pool: &mut TxPool,
        start: SeqNum,
        len: u32,
        fin: bool,
    ) {
        let tx = self.tx_state(pool);
        tx.board.push(start, len, fin, now);
        if tx.in_fast_recovery() {
            tx.prr.on_sent(len);
        }
        self.schedule_probe(now);
    }

    /// The recorded segment starting at `start`, `len` long, was sent again.
    pub(crate) fn on_sent_again(
        &mut self,
        now: Instant,
        pool: &mut TxPool,
        start: SeqNum,
        len: u32,
    ) {
        let tx = self.tx_state(pool);
        tx.board.on_retransmit(start, now);
        if tx.in_fast_recovery() {
            tx.prr.on_sent(len);
        }
    }

    /// Track whether the sender uses its window (Linux's `tcp_cwnd_validate`): called
    /// when sending stopped because of cwnd (`limited`) or after new data went out.
    pub(crate) fn note_cwnd_usage(&mut self, limited: bool) {
        self.note_cwnd_usage_at(limited, self.pipe());
    }

    /// [`Self::note_cwnd_usage`] where the caller has the pipe (RFC 6675 `SetPipe`).
    #[inline]
    pub(crate) fn note_cwnd_usage_at(&mut self, limited: bool, pipe: u32) {
        let (una, nxt) = (self.snd_una, self.snd_nxt);
        let Some(tx) = self.tx.as_mut() else { return };
        if una.ge(tx.usage_seq) || limited || (!tx.cwnd_limited && pipe > tx.max_out) {
            tx.cwnd_limited = limited;
            tx.max_out = pipe;
            tx.usage_seq = nxt;
        }
    }

    /// RFC 7661's question, as Linux asks it: in slow start, was at least half the
    /// window used; otherwise, did the window limit the sender this round.
    fn cwnd_limited(&self) -> bool {
        let Some(tx) = self.tx.as_ref() else {
            return false;
        };
        if self.cc.in_slow_start() {
            self.cc.cwnd() < tx.max_out.saturating_mul(2)
        } else {
            tx.cwnd_limited
        }
    }

    /// Steps 2–6 of the module documentation for one ACK.
    pub(crate) fn recover_on_ack(&mut self, ctx: &mut Ctx<'_>, info: &AckInfo) {
        let now = ctx.now;
        if self.tx.is_none() {
            // Nothing was outstanding but a zero-window probe: just grow.
            if info.advanced {
                let ev = self.ack_event(now, info.acked);
                self.cc.on_ack(&ev);
            }
            return;
        }
        let smss = u32::from(self.smss);
        let mut newly_lost = 0;
        let lost_before = self.tx.as_ref().map_or(0, |t| t.board.marked);

        if self.sack_ok {
            // Step 2: RACK (RFC 8985 §6.2 steps 1–4).
            if let Some(d) = info.update.newest {
                let ambiguous = self.ts_ok
                    && d.retransmitted
                    && info.tsecr.is_some_and(|e| self.ts.echo_predates(e, d.xmit));
                let min_rtt = self.min_rtt();
                let sample = self
                    .tx
                    .as_mut()
                    .and_then(|t| t.rack.on_delivered(d, now, min_rtt, ambiguous));
                if let Some(rtt) = sample {
                    self.note_rtt(rtt, now);
                }
            }
            if info.update.reordered {
                self.rack_p.reordering_seen = true;
            }
            let (una, nxt) = (self.snd_una, self.snd_nxt);
            if let Some(tx) = self.tx.as_mut() {
                tx.rack
                    .on_dsack(&mut self.rack_p, info.dsack.is_some(), una, nxt);
            }
            newly_lost += self.rack_detect(now);
            if !self.rack_p.reordering_seen {
                if let Some(tx) = self.tx.as_mut() {
                    newly_lost += tx.board.mark_lost_by_sacks(smss);
                }
            }
        }

        let una = self.snd_una;
        let outstanding = self.flight();
        let mut enter = false;
        if let Some(tx) = self.tx.as_mut() {
            if !self.sack_ok {
                if info.dupack {
                    tx.dupacks += 1;
                    tx.board.on_dupack(smss, outstanding);
                    enter = tx.dupacks == DUP_THRESH;
                } else if info.advanced {
                    tx.dupacks = 0;
                }
            }
            // Step 3: leave recovery.
            match tx.recovery {
                Recovery::Fast { point, .. } if una.ge(point) => {
                    tx.recovery = Recovery::Open;
                    tx.board.clear_dupacks();
                    self.cc.on_recovery_end(now);
                    Rack::on_recovery_end(&mut self.rack_p);
                }
                Recovery::Timeout { point } if una.ge(point) => {
                    tx.recovery = Recovery::Open;
                }
                _ => {}
            }
            if self.sack_ok {
                enter = tx.board.lost_bytes() > 0;
            }
        }
        // Step 3: enter recovery.
        if enter
            && self
                .tx
                .as_ref()
                .is_some_and(|t| t.recovery == Recovery::Open)
        {
            self.enter_fast_recovery(now, outstanding);
            if !self.sack_ok {
                // Fast retransmit (RFC 5681 §3.2 step 3).
                if let Some(tx) = self.tx.as_mut() {
                    newly_lost += tx.board.mark_first_lost();
                }
            }
        } else if !self.sack_ok && info.advanced {
            // RFC 6582 §3.2 step 5: a partial ACK in recovery retransmits the next hole.
            if let Some(tx) = self.tx.as_mut() {
                if tx.in_fast_recovery() {
                    newly_lost += tx.board.mark_first_lost();
                }
            }
        }

        // Step 4: the window.
        let in_fast = self.tx.as_ref().is_some_and(|t| t.in_fast_recovery());
        if in_fast {
            let ssthresh = self.cc.ssthresh();
            let pipe = self.pipe();
            if let Some(tx) = self.tx.as_mut() {
                let sacked_now = i64::from(tx.board.sacked_bytes());
                let delivered = (i64::from(info.acked) + sacked_now - i64::from(info.prior_sacked))
                    .clamp(0, i64::from(u32::MAX)) as u32;
                let safe = info.advanced && newly_lost == 0;
                let cwnd = tx.prr.on_ack(delivered, pipe, ssthresh, smss, safe);
                self.cc.set_cwnd(cwnd);
            }
        } else if info.advanced {
            let mut ev = self.ack_event(now, info.acked);
            // HyStart++ (RFC 9406) in the initial slow start, with this ACK's RTT.
            if self.cc.in_slow_start() && self.cc.ssthresh() == u32::MAX {
                let rtt = info
                    .update
                    .newest
                    .filter(|d| !d.retransmitted)
                    .map(|d| now.saturating_since(d.xmit));
                let (una, nxt) = (self.snd_una, self.snd_nxt);
                if let Some(tx) = self.tx.as_mut() {
                    match tx.hystart.on_ack(una, nxt, rtt) {
                        Phase::SlowStart => {}
                        Phase::Css => ev.css = true,
                        Phase::ExitToCongestionAvoidance => self.cc.exit_slow_start(),
                    }
                }
            }
            self.cc.on_ack(&ev);
        }

        // Step 5: the tail loss probe's outcome (RFC 8985 §7.4.2).
        let mut repaired = false;
        if let Some(tx) = self.tx.as_mut() {
            if let Some(p) = tx.probe {
                match p.on_ack(info.ack, info.dsack.map(|d| d.1), info.pure_dupack) {
                    ProbeOutcome::Pending => {}
                    ProbeOutcome::NoLoss => tx.probe = None,
                    ProbeOutcome::LossRepaired => {
                        tx.probe = None;
                        repaired = tx.recovery == Recovery::Open;
                    }
                }
            }
        }
        if repaired {
            // §7.4.2: the probe repaired a loss; react as to a congestion event, with
            // the reduction completed at once (as Linux's `tcp_process_tlp_ack`).
            self.cc.on_congestion_event(now, outstanding);
            self.cc.on_recovery_end(now);
        }

        if let Some(tx) = self.tx.as_ref() {
            let marked = tx.board.marked.saturating_sub(lost_before);
            self.counters.segments_lost = self.counters.segments_lost.saturating_add(marked);
        }
        self.after_ack_timers(now, &mut ctx.out.tx_pool);
        self.tune_send_buffer(ctx);
    }

    fn ack_event(&self, now: Instant, acked: u32) -> AckEvent {
        AckEvent {
            now,
            acked,
            srtt: self.rtt.srtt(),
            cwnd_limited: self.cwnd_limited(),
            css: false,
        }
    }

    /// Begin fast recovery (RFC 6675 §5 step (4), RFC 6582 §3.2 step 2): a new
    /// ssthresh, RecoveryPoint = SND.NXT, and PRR from the flight size.
    fn enter_fast_recovery(&mut self, now: Instant, flight: u32) {
        self.cc.on_congestion_event(now, flight);
        let nxt = self.snd_nxt;
        if let Some(tx) = self.tx.as_mut() {
            tx.prr = Prr::start(flight);
            tx.recovery = Recovery::Fast {
                point: nxt,
                since: now,
            };
            tx.rescue_done = false;
            tx.probe = None;
            tx.probe_due = false;
        }
        self.counters.fast_recoveries = self.counters.fast_recoveries.saturating_add(1);
    }

    /// RACK's loss detection (RFC 8985 §6.2 step 5) with the reorder timer; returns the
    /// bytes newly marked lost.
    fn rack_detect(&mut self, now: Instant) -> u32 {
        let in_recovery = self
            .tx
            .as_ref()
            .is_some_and(|t| t.recovery != Recovery::Open);
        let smss = u32::from(self.smss);
        let min_rtt = self.min_rtt();
        let srtt = self.rtt.srtt();
        let p = self.rack_p;
        let Some(tx) = self.tx.as_mut() else { return 0 };
        let Some((xmit, end)) = tx.rack.latest else {
            return 0;
        };
        if tx.board.nothing_to_mark() {
            // Everything is acknowledged (the common case for the last ACK of a
            // connection, or of a burst): `rack_mark_lost` would find nothing lost and
            // nothing to wait for, so skip computing the reordering window.
            if tx.loss_timer.is_some_and(|(_, k)| k == LossTimer::Reorder) {
                tx.loss_timer = None;
            }
            return 0;
        }
        let at_dupthresh = Rack::at_dupthresh(tx.board.sacked_bytes(), smss);
        let reo_wnd = Rack::reo_wnd(&p, in_recovery, at_dupthresh, min_rtt, srtt);
        let (lost, wait) = tx
            .board
            .rack_mark_lost(xmit, end, tx.rack.rtt + reo_wnd, now);
        match wait {
            Some(w) => {
                tx.loss_timer = Some((now + w, LossTimer::Reorder));
                self.note_armed(now + w);
            }
            None => {
                if tx.loss_timer.is_some_and(|(_, k)| k == LossTimer::Reorder) {
                    tx.loss_timer = None;
                }
            }
        }
        lost
    }

    /// After an ACK: free the box if nothing is outstanding, else arm the probe timer
    /// unless the reorder timer is running.
    fn after_ack_timers(&mut self, now: Instant, pool: &mut TxPool) {
        if self.snd_nxt == self.snd_una && self.tx.as_ref().is_some_and(|t| t.board.is_empty()) {
            if self.tx.as_ref().is_some_and(|tx| tx.in_fast_recovery()) {
                self.cc.on_recovery_end(now);
                Rack::on_recovery_end(&mut self.rack_p);
            }
            self.drop_tx_state(pool);
            return;
        }
        self.schedule_probe(now);
    }

    /// Arm the tail-loss-probe timer (RFC 8985 §7.2) when it may be used: SACK in use,
    /// data outstanding, no recovery, no probe outstanding, no reorder timer running.
    ///
    /// Without timestamps, also not while the RTO is backed off: Karn's algorithm is
    /// then waiting for an unambiguous sample (RFC 6298 §5), and a probe, resending the
    /// segment being timed, would deny it one for ever when the path's RTT has grown
    /// past the probe timeout.
    pub(crate) fn schedule_probe(&mut self, now: Instant) {
        if !self.sack_ok || !self.state.is_synchronized() {
            return;
        }
        let karn_waits = !self.ts_ok && self.rtt.backoff_count() > 0;
        let flight = self.flight();
        let one_segment = flight <= u32::from(self.smss);
        let srtt_us = self.rtt.srtt_us();
        let rto_at = self.rto_at;
        let Some(tx) = self.tx.as_mut() else { return };
        if tx.loss_timer.is_some_and(|(_, k)| k == LossTimer::Reorder) {
            return;
        }
        // Only recorded segments are probed for: not a zero-window probe's byte.
        if flight == 0
            || tx.board.is_empty()
            || karn_waits
            || tx.recovery != Recovery::Open
            || tx.probe.is_some()
            || tx.probe_due
        {
            if tx.loss_timer.is_some_and(|(_, k)| k == LossTimer::Probe) {
                tx.loss_timer = None;
            }
            return;
        }
        let at = rack::probe_deadline(now, srtt_us, one_segment, rto_at);
        tx.loss_timer = Some((at, LossTimer::Probe));
        self.note_armed(at);
    }

    /// The loss-detection timer fired (from `timers`).
    pub(crate) fn on_loss_timer(&mut self, ctx: &mut Ctx<'_>, kind: LossTimer) {
        let now = ctx.now;
        match kind {
            LossTimer::Probe => {
                // §7.3: send a probe at the next opportunity, and give it the time of a
                // full RTO before the timer declares everything lost.
                let rto = self.rtt.rto();
                if let Some(tx) = self.tx.as_mut() {
                    if tx.recovery == Recovery::Open && tx.probe.is_none() && !tx.board.is_empty() {
                        tx.probe_due = true;
                        self.rto_at = self.arm(now + rto);
                    }
                }
            }
            LossTimer::Reorder => {
                // §6.3: the reordering window of some segment ran out.
                let lost_before = self.tx.as_ref().map_or(0, |t| t.board.marked);
                let lost = self.rack_detect(now);
                if let Some(tx) = self.tx.as_ref() {
                    let marked = tx.board.marked.saturating_sub(lost_before);
                    self.counters.segments_lost =
                        self.counters.segments_lost.saturating_add(marked);
                }
                if lost > 0 {
                    let outstanding = self.flight();
                    if self
                        .tx
                        .as_ref()
                        .is_some_and(|t| t.recovery == Recovery::Open)
                    {
                        self.enter_fast_recovery(now, outstanding);
                    }
                    if self.tx.as_ref().is_some_and(|t| t.in_fast_recovery()) {
                        let ssthresh = self.cc.ssthresh();
                        let pipe = self.pipe();
                        let smss = u32::from(self.smss);
                        if let Some(tx) = self.tx.as_mut() {
                            let cwnd = tx.prr.on_ack(0, pipe, ssthresh, smss, false);
                            self.cc.set_cwnd(cwnd);
                        }
                    }
                }
                if self.tx.as_ref().is_some_and(|t| t.loss_timer.is_none()) {
                    self.schedule_probe(now);
                }
            }
        }
    }

    /// The retransmission timer expired in a synchronized state (RFC 6298 §5.4–5.7,
    /// RFC 5681 §3.1, RFC 6675 §5.1, RFC 8985 §6.3).
    pub(crate) fn on_rto_loss(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let flight = self.flight();
        self.cc.on_rto(now, flight);
        self.counters.timeouts = self.counters.timeouts.saturating_add(1);
        let nxt = self.snd_nxt;
        let mut reset_to_una = true;
        if let Some(tx) = self.tx.as_mut() {
            if !tx.board.is_empty() {
                let before = tx.board.marked;
                tx.board.mark_all_lost();
                self.counters.segments_lost = self
                    .counters
                    .segments_lost
                    .saturating_add(tx.board.marked.saturating_sub(before));
                if tx.in_fast_recovery() {
                    Rack::on_recovery_end(&mut self.rack_p);
                }
                tx.recovery = Recovery::Timeout { point: nxt };
                tx.probe = None;
                tx.probe_due = false;
                tx.loss_timer = None;
                tx.dupacks = 0;
                tx.prr = Prr::default();
                reset_to_una = false;
            }
        }
        if reset_to_una {
            // Nothing recorded (only a FIN or probe byte beyond the records): go back.
            self.snd_nxt = self.snd_una;
        }
    }

    /// The send buffer follows the congestion window (see [`crate::window`]).
    pub(crate) fn tune_send_buffer(&mut self, ctx: &mut Ctx<'_>) {
        let max = ctx.config.send_buffer_max.max(ctx.config.send_buffer);
        // Powers of two: the buffer's storage then grows by doubling, a handful of
        // times, rather than being copied on every small step of cwnd.
        let want = (self.cc.cwnd() as usize)
            .saturating_mul(2)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX)
            .clamp(ctx.config.send_buffer, max);
        if want > self.send_buf.capacity() && self.state.can_send() && !self.fin_queued {
            self.send_buf.set_capacity(want);
            self.signal_writable(ctx);
        }
    }
}
