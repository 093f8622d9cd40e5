//! Congestion control: slow start, congestion avoidance, fast retransmit and NewReno
//! fast recovery (RFC 5681 §3, RFC 6582), and the RTO's loss window (RFC 5681 §3.1,
//! RFC 9293 §3.8.2, MUST-19). Sizes are in bytes.

use crate::SeqNum;

/// Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2).
pub(crate) const DUPACK_THRESHOLD: u32 = 3;

/// NewReno state for one connection.
#[derive(Debug, Clone)]
pub(crate) struct NewReno {
    pub cwnd: u32,
    pub ssthresh: u32,
    smss: u32,
    pub dupacks: u32,
    /// `Some(recover)` while in fast recovery (RFC 6582 §3.2): the highest sequence
    /// number sent when loss was detected.
    pub recover: Option<SeqNum>,
}

/// What the connection should do after an ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckAction {
    None,
    /// Retransmit the first unacknowledged segment now.
    RetransmitFirst,
}

impl NewReno {
    /// Initial window per RFC 6928: min(iw × SMSS, max(2 × SMSS, 14600)) for iw = 10.
    pub(crate) fn new(smss: u16, iw_segments: u32) -> Self {
        let smss = u32::from(smss.max(1));
        let iw = if iw_segments >= 10 {
            (iw_segments * smss).min((2 * smss).max(14600))
        } else {
            iw_segments.max(1) * smss
        };
        NewReno {
            cwnd: iw,
            ssthresh: u32::MAX,
            smss,
            dupacks: 0,
            recover: None,
        }
    }

    /// The sender MSS changed (negotiated after the SYN exchange).
    pub(crate) fn set_smss(&mut self, smss: u16, iw_segments: u32) {
        *self = NewReno::new(smss, iw_segments);
    }

    /// `acked` new bytes were acknowledged, up to `ack`; `flight` is what was outstanding
    /// before this ACK.
    pub(crate) fn on_ack(&mut self, ack: SeqNum, acked: u32, flight: u32) -> AckAction {
        self.dupacks = 0;
        if let Some(recover) = self.recover {
            if ack.gt(recover) || ack == recover {
                // Full acknowledgment (RFC 6582 §3.2 step 3): deflate and leave recovery.
                self.cwnd = self.ssthresh.min(flight.saturating_sub(acked) + self.smss);
                self.recover = None;
                return AckAction::None;
            }
            // Partial acknowledgment: retransmit the next hole, deflate by what was
            // acked, add back one SMSS (RFC 6582 §3.2 step 4).
            self.cwnd = self
                .cwnd
                .saturating_sub(acked)
                .saturating_add(self.smss)
                .max(self.smss);
            return AckAction::RetransmitFirst;
        }
        if self.cwnd < self.ssthresh {
            // Slow start (RFC 5681 §3.1, eq. 2).
            self.cwnd = self.cwnd.saturating_add(acked.min(self.smss));
        } else {
            // Congestion avoidance (eq. 3).
            let inc = (self.smss * self.smss / self.cwnd.max(1)).max(1);
            self.cwnd = self.cwnd.saturating_add(inc);
        }
        AckAction::None
    }

    /// A duplicate ACK (RFC 5681 §2 definition) arrived; `flight` bytes are outstanding
    /// and `high` is the highest sequence number sent.
    pub(crate) fn on_dupack(&mut self, flight: u32, high: SeqNum) -> AckAction {
        if self.recover.is_some() {
            // Inflate for each segment that left the network (RFC 5681 §3.2 step 4).
            self.cwnd = self.cwnd.saturating_add(self.smss);
            return AckAction::None;
        }
        self.dupacks += 1;
        if self.dupacks == DUPACK_THRESHOLD {
            self.ssthresh = (flight / 2).max(2 * self.smss);
            self.cwnd = self.ssthresh + DUPACK_THRESHOLD * self.smss;
            self.recover = Some(high);
            return AckAction::RetransmitFirst;
        }
        AckAction::None
    }

    /// The retransmission timer expired (RFC 5681 §3.1 eq. 4; loss window = 1 SMSS).
    pub(crate) fn on_rto(&mut self, flight: u32) {
        self.ssthresh = (flight / 2).max(2 * self.smss);
        self.cwnd = self.smss;
        self.dupacks = 0;
        self.recover = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_window_is_ten_segments_capped_per_rfc6928() {
        assert_eq!(NewReno::new(1460, 10).cwnd, 14600);
        assert_eq!(NewReno::new(536, 10).cwnd, 5360);
        assert_eq!(NewReno::new(9000, 10).cwnd, 18000);
    }

    #[test]
    fn slow_start_then_congestion_avoidance() {
        let mut cc = NewReno::new(1000, 10);
        cc.ssthresh = 12_000;
        cc.on_ack(SeqNum(1000), 1000, 10_000);
        assert_eq!(cc.cwnd, 11_000);
        cc.on_ack(SeqNum(2000), 5000, 10_000);
        assert_eq!(cc.cwnd, 12_000); // at most one SMSS per ACK
        cc.on_ack(SeqNum(3000), 1000, 10_000);
        assert_eq!(cc.cwnd, 12_000 + 1000 * 1000 / 12_000);
    }

    #[test]
    fn three_dupacks_enter_fast_recovery_and_full_ack_leaves_it() {
        let mut cc = NewReno::new(1000, 10);
        assert_eq!(cc.on_dupack(10_000, SeqNum(10_000)), AckAction::None);
        assert_eq!(cc.on_dupack(10_000, SeqNum(10_000)), AckAction::None);
        assert_eq!(
            cc.on_dupack(10_000, SeqNum(10_000)),
            AckAction::RetransmitFirst
        );
        assert_eq!(cc.ssthresh, 5000);
        assert_eq!(cc.cwnd, 8000);
        cc.on_dupack(10_000, SeqNum(10_000));
        assert_eq!(cc.cwnd, 9000);
        assert_eq!(
            cc.on_ack(SeqNum(4000), 4000, 10_000),
            AckAction::RetransmitFirst
        );
        assert_eq!(cc.on_ack(SeqNum(10_000), 6000, 6000), AckAction::None);
        assert!(cc.recover.is_none());
        assert_eq!(cc.cwnd, 1000);
    }

    #[test]
    fn rto_collapses_to_one_segment() {
        let mut cc = NewReno::new(1000, 10);
        cc.on_rto(20_000);
        assert_eq!(cc.cwnd, 1000);
        assert_eq!(cc.ssthresh, 10_000);
    }
}
