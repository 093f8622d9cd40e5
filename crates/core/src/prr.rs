//! Proportional Rate Reduction (RFC 9937): how much to send during fast recovery.
//!
//! When loss is detected the congestion controller picks a new `ssthresh`; PRR brings
//! the amount in flight down to it smoothly, in step with what the receiver reports as
//! delivered, instead of stopping for half a window (RFC 5681's halving) or bursting
//! (RFC 6675 when much was lost). On each ACK during recovery (RFC 9937 §6):
//!
//! ```text
//! DeliveredData = Δ SND.UNA + Δ SACKed        prr_delivered += DeliveredData
//! if pipe > ssthresh:   sndcnt = ⌈prr_delivered · ssthresh / RecoverFS⌉ − prr_out   (proportional)
//! else:                 sndcnt = min(ssthresh − pipe,
//!                                    max(prr_delivered − prr_out, DeliveredData) + (safeACK ? SMSS : 0))
//! if prr_out = 0: sndcnt = max(sndcnt, SMSS)      (the fast retransmit goes out at once)
//! cwnd = pipe + sndcnt
//! ```
//!
//! and every byte sent during recovery adds to `prr_out`. `RecoverFS` is the flight
//! size when recovery began. The first branch sends ⌈ssthresh / RecoverFS⌉ of what is
//! delivered; the second (slow-start reduction bound) lets `pipe` climb back to
//! `ssthresh` no faster than slow start would once losses have drained it below, with
//! the extra SMSS only on ACKs that advance SND.UNA without new losses ("safe" ACKs,
//! RFC 9937 §6). Sizes are bytes.

/// PRR state for one recovery episode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Prr {
    /// RecoverFS: FlightSize when recovery began.
    recover_fs: u32,
    /// prr_delivered: bytes delivered to the receiver since recovery began.
    delivered: u64,
    /// prr_out: bytes sent since recovery began.
    out: u64,
}

impl Prr {
    /// Recovery begins with `flight` bytes outstanding (RFC 9937 §6, "on entering").
    pub(crate) fn start(flight: u32) -> Self {
        Prr {
            recover_fs: flight.max(1),
            delivered: 0,
            out: 0,
        }
    }

    /// `bytes` were sent (new data or retransmission) during recovery.
    pub(crate) fn on_sent(&mut self, bytes: u32) {
        self.out = self.out.saturating_add(u64::from(bytes));
    }

    /// An ACK (or a loss-detection timer) during recovery: returns the new `cwnd`.
    pub(crate) fn on_ack(
        &mut self,
        delivered_data: u32,
        pipe: u32,
        ssthresh: u32,
        smss: u32,
        safe_ack: bool,
    ) -> u32 {
        self.delivered = self.delivered.saturating_add(u64::from(delivered_data));
        let pipe64 = u64::from(pipe);
        let ssthresh64 = u64::from(ssthresh);
        let sndcnt: u64 = if pipe64 > ssthresh64 {
            // Proportional rate reduction.
            let target = (self.delivered * ssthresh64).div_ceil(u64::from(self.recover_fs));
            target.saturating_sub(self.out)
        } else {
            // Slow-start reduction bound: catch up to ssthresh, no faster than slow start.
            let mut limit = self
                .delivered
                .saturating_sub(self.out)
                .max(u64::from(delivered_data));
            if safe_ack {
                limit = limit.saturating_add(u64::from(smss));
            }
            (ssthresh64 - pipe64).min(limit)
        };
        // "If prr_out is 0 and sndcnt is 0, sndcnt = SMSS": the fast retransmit goes
        // out on the ACK that starts recovery. Counting bytes, a first sndcnt of less
        // than a segment would hold it back just the same, so it is raised to one SMSS.
        let sndcnt = if self.out == 0 {
            sndcnt.max(u64::from(smss))
        } else {
            sndcnt
        };
        let cwnd = pipe64.saturating_add(sndcnt);
        u32::try_from(cwnd).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn first_ack_forces_one_segment_out() {
        let mut prr = Prr::start(20 * MSS);
        // Three segments SACKed, one lost: pipe = 16 segments, ssthresh 10.
        let cwnd = prr.on_ack(3 * MSS, 16 * MSS, 10 * MSS, MSS, false);
        // 3000 · 10/20 = 1500 → one and a half segments' worth.
        assert_eq!(cwnd, 16 * MSS + 1500);
        let mut prr = Prr::start(20 * MSS);
        let cwnd = prr.on_ack(0, 16 * MSS, 10 * MSS, MSS, false);
        assert_eq!(cwnd, 17 * MSS, "nothing delivered yet, still one segment");
    }

    #[test]
    fn proportional_phase_sends_ssthresh_over_recoverfs_of_what_is_delivered() {
        // RecoverFS 20 segments, ssthresh 10 (NewReno halving): one out per two in.
        let mut prr = Prr::start(20 * MSS);
        let mut sent = 0u32;
        let mut pipe = 19 * MSS; // one segment lost
        for _ in 0..10 {
            pipe -= MSS; // this ACK reports one more segment delivered
            let cwnd = prr.on_ack(MSS, pipe, 10 * MSS, MSS, false);
            let n = (cwnd.saturating_sub(pipe) / MSS) * MSS;
            prr.on_sent(n);
            pipe += n;
            sent += n;
        }
        // ten segments delivered → five sent (within a segment).
        assert!((4 * MSS..=6 * MSS).contains(&sent), "sent {sent}");
    }

    #[test]
    fn slow_start_reduction_bound_after_heavy_loss() {
        // Heavy loss: pipe already below ssthresh. Safe ACKs allow delivered + 1 SMSS.
        let mut prr = Prr::start(20 * MSS);
        prr.on_sent(MSS);
        let cwnd = prr.on_ack(MSS, 4 * MSS, 10 * MSS, MSS, true);
        // prr_delivered − prr_out = 0, DeliveredData = 1000, + SMSS = 2000.
        assert_eq!(cwnd, 6 * MSS);
        // Not a safe ACK: only what was delivered.
        let cwnd = prr.on_ack(MSS, 4 * MSS, 10 * MSS, MSS, false);
        assert_eq!(cwnd, 4 * MSS + MSS);
        // Never beyond ssthresh.
        let cwnd = prr.on_ack(20 * MSS, 9 * MSS, 10 * MSS, MSS, true);
        assert_eq!(cwnd, 10 * MSS);
    }
}
