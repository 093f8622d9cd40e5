//! RACK-TLP (RFC 8985): loss detection by time rather than by counting duplicate ACKs.
//!
//! **RACK** ("recent acknowledgment", §6): when the receiver acknowledges a segment,
//! every segment *sent before it* that is still unacknowledged after a reordering
//! window has passed is deemed lost. It detects the loss of retransmissions, losses at
//! the end of a flight, and losses among few segments, where three duplicate ACKs never
//! come. The state here is RACK.xmit_ts / RACK.end_seq (the most recently sent segment
//! known delivered), RACK.rtt (its round trip), and the reordering window
//! `RACK.reo_wnd` (§6.2 step 4): zero while no reordering has been seen and the
//! connection is in recovery (or DupThresh segments are SACKed), else
//! `min(reo_wnd_mult × min_RTT / 4, SRTT)`, where `reo_wnd_mult` grows by one for each
//! round trip in which a D-SACK showed a retransmission was spurious and decays after
//! sixteen recoveries without.
//!
//! **TLP** ("tail loss probe", §7): when nothing has been acknowledged for about two
//! round trips, send one segment — new data if the windows allow, else the last
//! segment again — to draw an ACK whose SACK lets RACK find what was lost, instead of
//! waiting for the retransmission timeout. If the probe was a retransmission and the
//! ACK that follows shows it repaired a loss, the congestion controller is told
//! (§7.4).
//!
//! The marking itself walks the scoreboard ([`crate::scoreboard::Scoreboard::rack_mark_lost`]).
//! RACK-TLP requires SACK; without it the connection relies on duplicate ACKs (RFC 5681,
//! RFC 6582) and the RTO.

use crate::scoreboard::{sent_after, Delivered, DUP_THRESH};
use crate::{Instant, SeqNum};
use core::time::Duration;

/// WCDelAckT (§7.2): the worst-case delayed-ACK time assumed when one segment is out.
pub(crate) const WORST_CASE_DELAYED_ACK: Duration = Duration::from_millis(200);

/// RACK state that outlives a flight (kept in the TCB): what was learned about the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RackPersistent {
    /// RACK.reordering_seen.
    pub reordering_seen: bool,
    /// RACK.reo_wnd_mult.
    pub reo_wnd_mult: u8,
    /// RACK.reo_wnd_persist: recoveries left before the multiplier decays.
    pub reo_wnd_persist: u8,
}

impl Default for RackPersistent {
    fn default() -> Self {
        RackPersistent {
            reordering_seen: false,
            reo_wnd_mult: 1,
            reo_wnd_persist: 0,
        }
    }
}

/// RACK state of the current flight (kept in the scoreboard's box).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Rack {
    /// RACK.xmit_ts and RACK.end_seq: the most recently sent segment known delivered.
    pub latest: Option<(Instant, SeqNum)>,
    /// RACK.rtt: the round trip of that segment.
    pub rtt: Duration,
    /// RACK.dsack_round: SND.NXT when a D-SACK last widened the window.
    pub dsack_round: Option<SeqNum>,
}

/// An outstanding tail loss probe (§7.4: TLP.end_seq, TLP.is_retrans).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    pub end_seq: SeqNum,
    pub is_retrans: bool,
}

/// What the ACK tells about an outstanding probe (§7.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeOutcome {
    /// Still undecided.
    Pending,
    /// Settled without a loss (or the answer is ambiguous).
    NoLoss,
    /// The probe repaired a loss: respond as to a congestion event.
    LossRepaired,
}

impl Rack {
    /// §6.2 step 2 (`RACK_update`) for the most recently sent newly delivered segment.
    /// `ambiguous` is true when timestamps show the ACK answers an earlier transmission
    /// of a retransmitted segment; a retransmitted segment acknowledged sooner than the
    /// minimum RTT is taken to be the original's ACK too.
    pub(crate) fn on_delivered(
        &mut self,
        seg: Delivered,
        now: Instant,
        min_rtt: Option<Duration>,
        ambiguous: bool,
    ) -> Option<Duration> {
        let rtt = now.saturating_since(seg.xmit);
        if seg.retransmitted && (ambiguous || min_rtt.is_some_and(|m| rtt < m)) {
            return None;
        }
        let newer = self
            .latest
            .is_none_or(|(t, e)| sent_after(seg.xmit, seg.end, t, e));
        if newer {
            self.latest = Some((seg.xmit, seg.end));
            self.rtt = rtt;
        }
        Some(rtt)
    }

    /// §6.2 step 4 (`RACK_update_reo_wnd`), the D-SACK part: called for every ACK with
    /// `dsack` true if it carried one. `snd_una`/`snd_nxt` are after the ACK.
    pub(crate) fn on_dsack(
        &mut self,
        p: &mut RackPersistent,
        dsack: bool,
        snd_una: SeqNum,
        snd_nxt: SeqNum,
    ) {
        if self.dsack_round.is_some_and(|r| snd_una.ge(r)) {
            self.dsack_round = None;
        }
        if dsack && self.dsack_round.is_none() {
            self.dsack_round = Some(snd_nxt);
            p.reo_wnd_mult = p.reo_wnd_mult.saturating_add(1);
            p.reo_wnd_persist = 16;
        }
    }

    /// RACK.reo_wnd (§6.2 step 4).
    pub(crate) fn reo_wnd(
        p: &RackPersistent,
        in_recovery: bool,
        sacked_segments_at_threshold: bool,
        min_rtt: Option<Duration>,
        srtt: Option<Duration>,
    ) -> Duration {
        if !p.reordering_seen && (in_recovery || sacked_segments_at_threshold) {
            return Duration::ZERO;
        }
        let base = min_rtt.unwrap_or(Duration::ZERO) / 4 * u32::from(p.reo_wnd_mult.max(1));
        match srtt {
            Some(s) => base.min(s),
            None => base,
        }
    }

    /// `reo_wnd_persist` counts down once per recovery episode that ends (§6.2 step 4).
    pub(crate) fn on_recovery_end(p: &mut RackPersistent) {
        if p.reo_wnd_persist > 0 {
            p.reo_wnd_persist -= 1;
            if p.reo_wnd_persist == 0 {
                p.reo_wnd_mult = 1;
            }
        }
    }

    /// Whether `DupThresh` segments' worth is SACKed (for [`Rack::reo_wnd`]).
    pub(crate) fn at_dupthresh(sacked_bytes: u32, smss: u32) -> bool {
        sacked_bytes >= DUP_THRESH.saturating_mul(smss)
    }
}

/// When the probe timer set at `now` fires (§7.2, `TLP_calc_PTO`): the probe timeout
/// is two smoothed RTTs (`srtt_us`, plus the worst-case delayed ACK when a single
/// segment is out), 1 s before any RTT sample, and never later than the retransmission
/// timer (`rto_at`). In integer nanoseconds: this runs for every segment sent.
pub(crate) fn probe_deadline(
    now: Instant,
    srtt_us: Option<u32>,
    one_segment_out: bool,
    rto_at: Option<Instant>,
) -> Instant {
    const DELAYED_ACK_NS: u64 = WORST_CASE_DELAYED_ACK.as_nanos() as u64;
    let pto_ns = match srtt_us {
        Some(s) => {
            let two_rtts = 2_000 * u64::from(s);
            if one_segment_out {
                two_rtts + DELAYED_ACK_NS
            } else {
                two_rtts
            }
        }
        None => 1_000_000_000,
    };
    let at = Instant::from_nanos(now.as_nanos().saturating_add(pto_ns));
    match rto_at {
        // An RTO already past caps the probe at `now`.
        Some(rto) => at.min(rto.max(now)),
        None => at,
    }
}

impl Probe {
    /// §7.4.2 (`TLP_process_ack`): `ack` is SEG.ACK, `dsack_end` the right edge of a
    /// D-SACK block in this ACK, `pure_dupack` an ACK with no data, no SACK blocks and
    /// no window change that does not advance SND.UNA.
    pub(crate) fn on_ack(
        &self,
        ack: SeqNum,
        dsack_end: Option<SeqNum>,
        pure_dupack: bool,
    ) -> ProbeOutcome {
        if ack.lt(self.end_seq) {
            return ProbeOutcome::Pending;
        }
        if !self.is_retrans {
            return ProbeOutcome::NoLoss; // new data, delivered
        }
        if dsack_end == Some(self.end_seq) {
            return ProbeOutcome::NoLoss; // both the original and the probe arrived
        }
        if ack.gt(self.end_seq) {
            return ProbeOutcome::LossRepaired;
        }
        if pure_dupack {
            // The ACK of the probe itself, with nothing else delivered: the original
            // had arrived (a D-SACK would say so if the peer sent them).
            return ProbeOutcome::NoLoss;
        }
        ProbeOutcome::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn reordering_window_is_zero_in_recovery_until_reordering_is_seen() {
        let mut p = RackPersistent::default();
        let (min, srtt) = (Some(ms(40)), Some(ms(60)));
        assert_eq!(Rack::reo_wnd(&p, false, false, min, srtt), ms(10));
        assert_eq!(Rack::reo_wnd(&p, true, false, min, srtt), ms(0));
        assert_eq!(Rack::reo_wnd(&p, false, true, min, srtt), ms(0));
        p.reordering_seen = true;
        assert_eq!(Rack::reo_wnd(&p, true, true, min, srtt), ms(10));
        p.reo_wnd_mult = 10;
        assert_eq!(
            Rack::reo_wnd(&p, true, true, min, srtt),
            ms(60),
            "capped at SRTT"
        );
    }

    #[test]
    fn dsack_widens_the_window_once_per_round_and_decays() {
        let mut p = RackPersistent::default();
        let mut r = Rack::default();
        r.on_dsack(&mut p, true, SeqNum(0), SeqNum(1000));
        r.on_dsack(&mut p, true, SeqNum(500), SeqNum(2000));
        assert_eq!(p.reo_wnd_mult, 2, "one increase per round trip");
        r.on_dsack(&mut p, true, SeqNum(1000), SeqNum(3000));
        assert_eq!(p.reo_wnd_mult, 3);
        for _ in 0..16 {
            Rack::on_recovery_end(&mut p);
        }
        assert_eq!(p.reo_wnd_mult, 1);
    }

    #[test]
    fn rack_follows_the_most_recently_sent_delivered_segment() {
        let mut r = Rack::default();
        let d = |x, e, re| Delivered {
            xmit: t(x),
            end: SeqNum(e),
            retransmitted: re,
        };
        assert_eq!(
            r.on_delivered(d(10, 100, false), t(60), None, false),
            Some(ms(50))
        );
        assert_eq!(r.latest, Some((t(10), SeqNum(100))));
        r.on_delivered(d(5, 200, false), t(61), None, false);
        assert_eq!(
            r.latest,
            Some((t(10), SeqNum(100))),
            "sent earlier: no change"
        );
        // A retransmission acknowledged faster than the minimum RTT: spurious.
        assert_eq!(
            r.on_delivered(d(50, 300, true), t(60), Some(ms(40)), false),
            None
        );
        assert_eq!(
            r.on_delivered(d(50, 300, true), t(95), Some(ms(40)), true),
            None
        );
        assert_eq!(
            r.on_delivered(d(50, 300, true), t(95), Some(ms(40)), false),
            Some(ms(45))
        );
        assert_eq!(r.latest, Some((t(50), SeqNum(300))));
    }

    #[test]
    fn probe_timeout_is_two_rtts_capped_by_the_rto() {
        let now = t(1_000);
        assert_eq!(probe_deadline(now, Some(50_000), false, None), t(1_100));
        assert_eq!(probe_deadline(now, Some(50_000), true, None), t(1_300));
        assert_eq!(
            probe_deadline(now, Some(50_000), true, Some(t(1_250))),
            t(1_250)
        );
        assert_eq!(probe_deadline(now, None, false, None), t(2_000));
        // An RTO deadline already past: the probe is due at once.
        assert_eq!(probe_deadline(now, Some(50_000), false, Some(t(900))), now);
    }

    #[test]
    fn probe_outcomes() {
        let p = Probe {
            end_seq: SeqNum(1000),
            is_retrans: true,
        };
        assert_eq!(p.on_ack(SeqNum(900), None, false), ProbeOutcome::Pending);
        assert_eq!(
            p.on_ack(SeqNum(1000), Some(SeqNum(1000)), false),
            ProbeOutcome::NoLoss
        );
        assert_eq!(
            p.on_ack(SeqNum(1500), None, false),
            ProbeOutcome::LossRepaired
        );
        assert_eq!(p.on_ack(SeqNum(1000), None, true), ProbeOutcome::NoLoss);
        assert_eq!(p.on_ack(SeqNum(1000), None, false), ProbeOutcome::Pending);
        let new_data = Probe {
            is_retrans: false,
            ..p
        };
        assert_eq!(
            new_data.on_ack(SeqNum(1000), None, false),
            ProbeOutcome::NoLoss
        );
    }
}
