//! Congestion control: how much a connection may have in flight (RFC 5681 §3; RFC 9293
//! §3.8.2, MUST-19).
//!
//! A controller owns two numbers, the congestion window `cwnd` and the slow-start
//! threshold `ssthresh` (both in bytes), and decides how they move:
//!
//! - on each ACK of new data outside loss recovery ([`CongestionControl::on_ack`]):
//!   slow start below `ssthresh`, congestion avoidance above it;
//! - when loss is detected ([`CongestionControl::on_congestion_event`]): a new
//!   `ssthresh`. How `cwnd` then comes down to it is *not* the controller's business:
//!   during fast recovery the connection sets `cwnd` packet by packet with Proportional
//!   Rate Reduction (RFC 9937, [`crate::prr`]), and at the end of recovery it is set to
//!   `ssthresh` ([`CongestionControl::on_recovery_end`]);
//! - when the retransmission timer expires ([`CongestionControl::on_rto`]): the loss
//!   window of one segment (RFC 5681 §3.1).
//!
//! Two controllers exist, one file each: [`NewReno`] (RFC 5681 with the RFC 6582
//! recovery rules, which the connection's loss recovery implements) and [`Cubic`]
//! (RFC 9438, the default). A connection picks one through
//! [`crate::Config::congestion_control`] or [`crate::Endpoint::set_congestion_control`];
//! [`Controller`] dispatches to it without allocation.
//!
//! Both start from the initial window of RFC 6928 and grow only while the connection
//! is actually limited by `cwnd` (RFC 7661's concern, the rule Linux applies in
//! `tcp_is_cwnd_limited`): an application-limited or receive-window-limited sender
//! must not inflate a window it never tested. The initial slow start of either ends
//! early, before the queue overflows, with HyStart++ (RFC 9406, [`HyStart`]).

mod cubic;
mod hystart;
mod new_reno;

pub(crate) use cubic::Cubic;
pub(crate) use hystart::{HyStart, Phase};
pub(crate) use new_reno::NewReno;

use crate::Instant;
use core::time::Duration;

/// Which congestion controller a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CongestionAlgorithm {
    /// RFC 5681 slow start and congestion avoidance (one segment per window per RTT),
    /// halving the window on loss; fast recovery per RFC 6582.
    NewReno,
    /// CUBIC (RFC 9438): a cubic function of the time since the last loss, friendlier
    /// to long fat paths; reduces the window to 0.7 of its size on loss. The default,
    /// as on Linux.
    #[default]
    Cubic,
}

impl CongestionAlgorithm {
    /// Short lower-case name, as Linux spells it (`reno`, `cubic`).
    pub const fn name(self) -> &'static str {
        match self {
            CongestionAlgorithm::NewReno => "reno",
            CongestionAlgorithm::Cubic => "cubic",
        }
    }
}

/// What a controller learns from an ACK that acknowledged new data outside recovery.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AckEvent {
    pub now: Instant,
    /// Bytes newly acknowledged (cumulatively).
    pub acked: u32,
    /// The smoothed round-trip time, once known.
    pub srtt: Option<Duration>,
    /// Whether the sender was limited by `cwnd` (see the module documentation).
    pub cwnd_limited: bool,
    /// Slow start is in HyStart++'s conservative phase: grow a quarter as fast.
    pub css: bool,
}

/// The interface every controller implements.
pub(crate) trait CongestionControl {
    /// The congestion window, bytes.
    fn cwnd(&self) -> u32;
    /// The slow-start threshold, bytes (`u32::MAX` until the first loss).
    fn ssthresh(&self) -> u32;
    /// Set the window (loss recovery does this, RFC 9937).
    fn set_cwnd(&mut self, cwnd: u32);
    /// New data was acknowledged outside loss recovery: grow the window.
    fn on_ack(&mut self, ack: &AckEvent);
    /// Loss was detected with `flight` bytes outstanding: choose the new `ssthresh`.
    fn on_congestion_event(&mut self, now: Instant, flight: u32);
    /// Fast recovery ended (RFC 9937 §6: `cwnd = ssthresh`).
    fn on_recovery_end(&mut self, now: Instant);
    /// The retransmission timer expired with `flight` bytes outstanding (RFC 5681 §3.1,
    /// eq. 4, and the loss window of one segment).
    fn on_rto(&mut self, now: Instant, flight: u32);
}

/// The numbers every controller keeps, with the rules they share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub cwnd: u32,
    pub ssthresh: u32,
    pub smss: u32,
}

impl Window {
    /// The initial window of RFC 6928 §2: `min(10 × SMSS, max(2 × SMSS, 14600))` for an
    /// initial window of ten segments; other sizes are taken as a plain segment count.
    pub(crate) fn new(smss: u16, iw_segments: u32) -> Self {
        let smss = u32::from(smss.max(1));
        let cwnd = if iw_segments >= 10 {
            iw_segments.saturating_mul(smss).min((2 * smss).max(14_600))
        } else {
            iw_segments.max(1).saturating_mul(smss)
        };
        Window {
            cwnd,
            ssthresh: u32::MAX,
            smss,
        }
    }

    pub(crate) fn in_slow_start(&self) -> bool {
        self.cwnd < self.ssthresh
    }

    /// Slow start with Appropriate Byte Counting (RFC 3465 §2.2, L = 2 × SMSS, which
    /// RFC 5681 §3.1 permits): the window grows by the bytes acknowledged, at most two
    /// segments per ACK, so it doubles each round trip even with delayed ACKs. Returns
    /// the bytes not used (when `ssthresh` was reached), for congestion avoidance.
    pub(crate) fn slow_start(&mut self, acked: u32, css: bool) -> u32 {
        let room = self.ssthresh.saturating_sub(self.cwnd);
        let mut inc = acked.min(2 * self.smss);
        if css {
            // RFC 9406 §4.2: CSS grows by `min(N, L × SMSS) / CSS_GROWTH_DIVISOR`.
            inc /= hystart::CSS_GROWTH_DIVISOR;
        }
        let used = inc.min(room);
        self.cwnd = self.cwnd.saturating_add(used);
        if used < inc {
            acked.saturating_sub(used)
        } else {
            0
        }
    }

    /// The loss window after a timeout (RFC 5681 §3.1).
    pub(crate) fn loss_window(&self) -> u32 {
        self.smss
    }
}

/// The controller of one connection: one of the implementations, without a `Box`.
#[derive(Debug, Clone)]
pub(crate) enum Controller {
    NewReno(NewReno),
    Cubic(Cubic),
}

impl Controller {
    /// A fresh controller of kind `algo` for a sender MSS of `smss`.
    pub(crate) fn new(algo: CongestionAlgorithm, smss: u16, iw_segments: u32) -> Self {
        let w = Window::new(smss, iw_segments);
        match algo {
            CongestionAlgorithm::NewReno => Controller::NewReno(NewReno::new(w)),
            CongestionAlgorithm::Cubic => Controller::Cubic(Cubic::new(w)),
        }
    }

    pub(crate) fn algorithm(&self) -> CongestionAlgorithm {
        match self {
            Controller::NewReno(_) => CongestionAlgorithm::NewReno,
            Controller::Cubic(_) => CongestionAlgorithm::Cubic,
        }
    }

    fn window(&self) -> Window {
        match self {
            Controller::NewReno(c) => c.w,
            Controller::Cubic(c) => c.w,
        }
    }

    /// Switch to `algo`, keeping the current window and threshold.
    pub(crate) fn switch_to(&mut self, algo: CongestionAlgorithm) {
        if algo == self.algorithm() {
            return;
        }
        let w = self.window();
        *self = match algo {
            CongestionAlgorithm::NewReno => Controller::NewReno(NewReno::new(w)),
            CongestionAlgorithm::Cubic => Controller::Cubic(Cubic::new(w)),
        };
    }

    /// The sender MSS became known (after the SYN exchange): restart from the initial
    /// window for it.
    pub(crate) fn set_smss(&mut self, smss: u16, iw_segments: u32) {
        *self = Controller::new(self.algorithm(), smss, iw_segments);
    }

    pub(crate) fn in_slow_start(&self) -> bool {
        self.window().in_slow_start()
    }

    /// HyStart++ ended slow start (RFC 9406 §4.2): congestion avoidance from here,
    /// `ssthresh = cwnd`.
    pub(crate) fn exit_slow_start(&mut self) {
        let w = match self {
            Controller::NewReno(c) => &mut c.w,
            Controller::Cubic(c) => &mut c.w,
        };
        w.ssthresh = w.cwnd;
    }
}

impl CongestionControl for Controller {
    fn cwnd(&self) -> u32 {
        self.window().cwnd
    }
    fn ssthresh(&self) -> u32 {
        self.window().ssthresh
    }
    fn set_cwnd(&mut self, cwnd: u32) {
        match self {
            Controller::NewReno(c) => c.set_cwnd(cwnd),
            Controller::Cubic(c) => c.set_cwnd(cwnd),
        }
    }
    fn on_ack(&mut self, ack: &AckEvent) {
        match self {
            Controller::NewReno(c) => c.on_ack(ack),
            Controller::Cubic(c) => c.on_ack(ack),
        }
    }
    fn on_congestion_event(&mut self, now: Instant, flight: u32) {
        match self {
            Controller::NewReno(c) => c.on_congestion_event(now, flight),
            Controller::Cubic(c) => c.on_congestion_event(now, flight),
        }
    }
    fn on_recovery_end(&mut self, now: Instant) {
        match self {
            Controller::NewReno(c) => c.on_recovery_end(now),
            Controller::Cubic(c) => c.on_recovery_end(now),
        }
    }
    fn on_rto(&mut self, now: Instant, flight: u32) {
        match self {
            Controller::NewReno(c) => c.on_rto(now, flight),
            Controller::Cubic(c) => c.on_rto(now, flight),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_window_is_ten_segments_capped_per_rfc6928() {
        assert_eq!(Window::new(1460, 10).cwnd, 14600);
        assert_eq!(Window::new(536, 10).cwnd, 5360);
        assert_eq!(Window::new(9000, 10).cwnd, 18000);
        assert_eq!(Window::new(1000, 4).cwnd, 4000);
        assert_eq!(Window::new(1000, 0).cwnd, 1000);
    }

    #[test]
    fn slow_start_counts_bytes_up_to_two_segments_per_ack() {
        let mut w = Window::new(1000, 10);
        assert_eq!(w.slow_start(1000, false), 0);
        assert_eq!(w.cwnd, 11_000);
        assert_eq!(w.slow_start(5000, false), 0);
        assert_eq!(w.cwnd, 13_000); // L = 2 SMSS
        assert_eq!(w.slow_start(2000, true), 0);
        assert_eq!(w.cwnd, 13_500); // HyStart++ CSS: a quarter
        w.ssthresh = 14_000;
        assert_eq!(w.slow_start(2000, false), 1500);
        assert_eq!(w.cwnd, 14_000);
    }

    #[test]
    fn switching_keeps_the_window() {
        let mut c = Controller::new(CongestionAlgorithm::Cubic, 1000, 10);
        c.on_congestion_event(Instant::ZERO, 40_000);
        let ssthresh = c.ssthresh();
        c.set_cwnd(33_000);
        c.switch_to(CongestionAlgorithm::NewReno);
        assert_eq!(c.algorithm(), CongestionAlgorithm::NewReno);
        assert_eq!((c.cwnd(), c.ssthresh()), (33_000, ssthresh));
    }
}
