//! NewReno: the congestion control of RFC 5681 §3.1 (slow start, congestion avoidance)
//! with the window reduction of §3.2 on loss. The fast recovery rules of RFC 6582
//! (recovery lasts until the highest sequence number sent at the loss is acknowledged;
//! a partial ACK retransmits the next hole) are applied by the connection's loss
//! recovery, which also paces the reduction with PRR (RFC 9937) instead of RFC 5681's
//! window inflation.

use super::{AckEvent, CongestionControl, Window};
use crate::Instant;

/// NewReno state: the shared window plus the congestion-avoidance byte counter.
#[derive(Debug, Clone)]
pub(crate) struct NewReno {
    pub(crate) w: Window,
    /// Bytes acknowledged since `cwnd` last grew in congestion avoidance (RFC 3465 §2.1).
    bytes_acked: u32,
}

impl NewReno {
    pub(crate) fn new(w: Window) -> Self {
        NewReno { w, bytes_acked: 0 }
    }

    /// RFC 5681 §3.1 eq. 4 (and §3.2 step 2): `ssthresh = max(FlightSize / 2, 2 × SMSS)`.
    fn halve(&mut self, flight: u32) {
        self.w.ssthresh = (flight / 2).max(2 * self.w.smss);
        self.bytes_acked = 0;
    }
}

impl CongestionControl for NewReno {
    fn cwnd(&self) -> u32 {
        self.w.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.w.ssthresh
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        self.w.cwnd = cwnd.max(self.w.smss);
    }

    fn on_ack(&mut self, ack: &AckEvent) {
        if !ack.cwnd_limited {
            return;
        }
        let mut acked = ack.acked;
        if self.w.in_slow_start() {
            acked = self.w.slow_start(acked, ack.css);
            if acked == 0 {
                return;
            }
        }
        // Congestion avoidance, counting bytes (RFC 5681 §3.1, RFC 3465 §2.1): one SMSS
        // more for each full window acknowledged.
        self.bytes_acked = self.bytes_acked.saturating_add(acked);
        if self.bytes_acked >= self.w.cwnd {
            self.bytes_acked -= self.w.cwnd;
            self.w.cwnd = self.w.cwnd.saturating_add(self.w.smss);
        }
    }

    fn on_congestion_event(&mut self, _now: Instant, flight: u32) {
        self.halve(flight);
    }

    fn on_recovery_end(&mut self, _now: Instant) {
        self.w.cwnd = self.w.ssthresh.max(self.w.smss);
    }

    fn on_rto(&mut self, _now: Instant, flight: u32) {
        self.halve(flight);
        self.w.cwnd = self.w.loss_window();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(acked: u32) -> AckEvent {
        AckEvent {
            now: Instant::ZERO,
            acked,
            srtt: None,
            cwnd_limited: true,
            css: false,
        }
    }

    #[test]
    fn slow_start_then_one_segment_per_window() {
        let mut cc = NewReno::new(Window::new(1000, 10));
        cc.w.ssthresh = 12_000;
        cc.on_ack(&ack(1000));
        assert_eq!(cc.cwnd(), 11_000);
        cc.on_ack(&ack(2000));
        assert_eq!(cc.cwnd(), 12_000); // reached ssthresh; 1000 bytes left over counted
        for _ in 0..11 {
            cc.on_ack(&ack(1000));
        }
        assert_eq!(cc.cwnd(), 13_000, "one SMSS after a window of 12 000 bytes");
    }

    #[test]
    fn no_growth_when_not_cwnd_limited() {
        let mut cc = NewReno::new(Window::new(1000, 10));
        cc.on_ack(&AckEvent {
            cwnd_limited: false,
            ..ack(5000)
        });
        assert_eq!(cc.cwnd(), 10_000);
    }

    #[test]
    fn loss_halves_the_flight_and_rto_collapses_to_one_segment() {
        let mut cc = NewReno::new(Window::new(1000, 10));
        cc.on_congestion_event(Instant::ZERO, 10_000);
        assert_eq!(cc.ssthresh(), 5000);
        cc.on_recovery_end(Instant::ZERO);
        assert_eq!(cc.cwnd(), 5000);
        cc.on_congestion_event(Instant::ZERO, 1000);
        assert_eq!(cc.ssthresh(), 2000, "never below two segments");
        cc.on_rto(Instant::ZERO, 20_000);
        assert_eq!(cc.cwnd(), 1000);
        assert_eq!(cc.ssthresh(), 10_000);
    }
}
