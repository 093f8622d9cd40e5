//! CUBIC (RFC 9438): the window is a cubic function of the time since the last
//! congestion event, concave up to the window where the loss happened (`W_max`), then
//! convex beyond it, so a long fat path is refilled in a time that does not depend on
//! its round-trip time. Near `W_max` growth is slow (the network was congested there);
//! far from it, fast.
//!
//! - §4.2: `W_cubic(t) = C·(t − K)³ + W_max`, `K = ∛((W_max − cwnd_epoch) / C)`,
//!   with `C = 0.4` and `t` the time since the congestion avoidance stage began; on
//!   each ACK `cwnd` moves `(target − cwnd) / cwnd` per acknowledged segment towards
//!   `target = W_cubic(t + RTT)`, clamped to `[cwnd, 1.5·cwnd]`.
//! - §4.3: the Reno-friendly estimate `W_est` grows by `α_cubic` per window
//!   (`α_cubic = 3(1 − β)/(1 + β)` until `W_est` reaches the window before the last
//!   reduction, then 1); when `W_cubic(t) < W_est`, `cwnd = W_est`, so CUBIC never
//!   does worse than Reno on short, lossy paths.
//! - §4.6: on loss `ssthresh = FlightSize · β_cubic` with `β_cubic = 0.7`, at least
//!   two segments; §4.7 fast convergence lowers `W_max` further when the window was
//!   still below the previous `W_max` (another flow has probably joined).
//! - §4.8: after a timeout the next stage starts with `K = 0`, `W_max = cwnd_epoch`.
//! - §4.10: slow start below `ssthresh`, as in RFC 5681 (the shared [`Window`] rules).
//!
//! Windows are computed in segments as the RFC writes them and kept in bytes. The cube
//! root is a Newton iteration on plain IEEE arithmetic (not the platform's `cbrt`), so
//! a simulation replays bit for bit anywhere.

use super::{AckEvent, CongestionControl, Window};
use crate::Instant;

/// β_cubic (§4.6).
const BETA: f64 = 0.7;
/// C (§4.2), in segments per second³.
const C: f64 = 0.4;

/// CUBIC state of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Cubic {
    pub(crate) w: Window,
    /// W_max: the window (segments) just before the last reduction, after fast
    /// convergence; 0 before any congestion event.
    w_max: f32,
    /// K (§4.2), seconds, for the current stage.
    k: f32,
    /// W_est (§4.3), segments.
    w_est: f32,
    /// cwnd_prior (§4.6): the window (segments) when ssthresh was last set.
    cwnd_prior: f32,
    /// Fraction of a byte of window growth carried between ACKs.
    carry: f32,
    /// When the current congestion avoidance stage began, if `in_epoch` (else it
    /// begins at the next ACK in congestion avoidance).
    epoch_start: Instant,
    in_epoch: bool,
    /// The stage follows a timeout (§4.8).
    after_timeout: bool,
}

/// α_cubic (§4.3), the Reno-friendly additive increase per RTT, in segments.
fn alpha() -> f64 {
    3.0 * (1.0 - BETA) / (1.0 + BETA)
}

/// Cube root by Newton's method (x ≥ 0), deterministic on every platform.
pub(crate) fn cube_root(x: f64) -> f64 {
    // Zero, negative, NaN and infinite inputs all give 0.
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return 0.0;
    }
    let mut y = if x > 1.0 { x } else { 1.0 };
    for _ in 0..200 {
        let next = (2.0 * y + x / (y * y)) / 3.0;
        if (next - y).abs() <= 1e-12 * y {
            return next;
        }
        y = next;
    }
    y
}

impl Cubic {
    pub(crate) fn new(w: Window) -> Self {
        Cubic {
            w,
            w_max: 0.0,
            k: 0.0,
            w_est: 0.0,
            cwnd_prior: 0.0,
            carry: 0.0,
            epoch_start: Instant::ZERO,
            in_epoch: false,
            after_timeout: false,
        }
    }

    fn segments(&self, bytes: u32) -> f64 {
        f64::from(bytes) / f64::from(self.w.smss.max(1))
    }

    /// W_cubic(t) in segments (§4.2, eq. 1).
    fn w_cubic(&self, t: f64) -> f64 {
        let d = t - f64::from(self.k);
        C * d * d * d + f64::from(self.w_max)
    }

    /// Start a congestion avoidance stage at `now` (§4.2, §4.3, §4.8).
    fn begin_epoch(&mut self, now: Instant) {
        let cwnd_epoch = self.segments(self.w.cwnd);
        if self.after_timeout || f64::from(self.w_max) <= cwnd_epoch {
            // §4.8 after a timeout, and whenever the window is already beyond W_max
            // (e.g. after slow start): the plateau is here.
            self.w_max = cwnd_epoch as f32;
            self.k = 0.0;
        } else {
            self.k = cube_root((f64::from(self.w_max) - cwnd_epoch) / C) as f32;
        }
        self.w_est = cwnd_epoch as f32;
        self.after_timeout = false;
        self.epoch_start = now;
        self.in_epoch = true;
        self.carry = 0.0;
    }

    /// Common part of a loss and a timeout (§4.6, §4.7).
    fn reduce(&mut self, flight: u32) {
        let cwnd = self.segments(self.w.cwnd) as f32;
        // Fast convergence (§4.7).
        self.w_max = if cwnd < self.w_max {
            cwnd * (1.0 + BETA as f32) / 2.0
        } else {
            cwnd
        };
        self.cwnd_prior = cwnd;
        let ssthresh = (f64::from(flight) * BETA) as u32;
        self.w.ssthresh = ssthresh.max(2 * self.w.smss);
        self.in_epoch = false;
    }
}

impl CongestionControl for Cubic {
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
        let now = ack.now;
        if !self.in_epoch {
            self.begin_epoch(now);
        }
        let start = self.epoch_start;
        let t = now.saturating_since(start).as_secs_f64();
        let rtt = ack.srtt.map_or(0.0, |d| d.as_secs_f64());
        let cwnd = self.segments(self.w.cwnd).max(1.0);
        let segs_acked = self.segments(acked);

        // §4.3: the Reno-friendly estimate.
        let a = if f64::from(self.w_est) >= f64::from(self.cwnd_prior) {
            1.0
        } else {
            alpha()
        };
        self.w_est = (f64::from(self.w_est) + a * segs_acked / cwnd) as f32;

        let w_cubic_now = self.w_cubic(t);
        let grow_bytes = if w_cubic_now < f64::from(self.w_est) {
            // Reno-friendly region: cwnd follows W_est.
            (f64::from(self.w_est) - cwnd).max(0.0) * f64::from(self.w.smss)
        } else {
            // Concave and convex regions (§4.4, §4.5).
            let target = self.w_cubic(t + rtt).clamp(cwnd, 1.5 * cwnd);
            (target - cwnd) / cwnd * f64::from(acked)
        };
        let total = grow_bytes + f64::from(self.carry);
        let whole = total.floor();
        self.carry = (total - whole) as f32;
        let inc = if whole >= f64::from(u32::MAX) {
            u32::MAX
        } else {
            whole.max(0.0) as u32
        };
        self.w.cwnd = self.w.cwnd.saturating_add(inc);
    }

    fn on_congestion_event(&mut self, _now: Instant, flight: u32) {
        self.reduce(flight);
    }

    fn on_recovery_end(&mut self, _now: Instant) {
        self.w.cwnd = self.w.ssthresh.max(self.w.smss);
        self.in_epoch = false;
    }

    fn on_rto(&mut self, _now: Instant, flight: u32) {
        self.reduce(flight);
        self.w.cwnd = self.w.loss_window();
        self.after_timeout = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    fn ack(now_ms: u64, acked: u32, srtt_ms: u64) -> AckEvent {
        AckEvent {
            now: Instant::from_millis(now_ms),
            acked,
            srtt: Some(Duration::from_millis(srtt_ms)),
            cwnd_limited: true,
            css: false,
        }
    }

    #[test]
    fn cube_root_is_accurate() {
        for x in [0.001f64, 0.5, 1.0, 8.0, 27.0, 1000.0, 12_345.678, 1e12] {
            let r = cube_root(x);
            assert!((r * r * r - x).abs() <= 1e-9 * x.max(1.0), "{x}: {r}");
        }
        assert_eq!(cube_root(0.0), 0.0);
        assert_eq!(cube_root(-5.0), 0.0);
        assert_eq!(cube_root(f64::NAN), 0.0);
        assert_eq!(cube_root(f64::INFINITY), 0.0);
    }

    #[test]
    fn loss_sets_ssthresh_to_seven_tenths_of_the_flight() {
        let mut cc = Cubic::new(Window::new(1000, 10));
        cc.w.cwnd = 100_000;
        cc.on_congestion_event(Instant::ZERO, 100_000);
        assert_eq!(cc.ssthresh(), 70_000);
        assert_eq!(cc.w_max, 100.0);
        cc.on_recovery_end(Instant::ZERO);
        assert_eq!(cc.cwnd(), 70_000);
        // A second loss below W_max: fast convergence releases bandwidth (§4.7).
        cc.w.cwnd = 80_000;
        cc.on_congestion_event(Instant::ZERO, 80_000);
        assert!((cc.w_max - 80.0 * 1.7 / 2.0).abs() < 1e-3, "{}", cc.w_max);
    }

    #[test]
    fn window_returns_to_w_max_after_k_seconds_and_then_probes_beyond() {
        let mut cc = Cubic::new(Window::new(1000, 10));
        cc.w.cwnd = 1_000_000; // 1000 segments
        cc.on_congestion_event(Instant::ZERO, 1_000_000);
        cc.on_recovery_end(Instant::ZERO);
        assert_eq!(cc.cwnd(), 700_000);
        // K = cbrt(300 / 0.4) = 9.09 s. Feed one window of ACKs every RTT (100 ms).
        let k = cube_root(300.0 / 0.4);
        let mut t_ms = 0;
        let mut at_k = None;
        while t_ms < 20_000 {
            let cwnd = cc.cwnd();
            cc.on_ack(&ack(t_ms, cwnd, 100));
            if at_k.is_none() && t_ms as f64 / 1000.0 >= k {
                at_k = Some(cc.cwnd());
            }
            t_ms += 100;
        }
        let at_k = at_k.unwrap();
        assert!(
            (950_000..=1_060_000).contains(&at_k),
            "cwnd at K should be near W_max: {at_k}"
        );
        assert!(
            cc.cwnd() > 1_300_000,
            "convex growth beyond W_max: {}",
            cc.cwnd()
        );
    }

    #[test]
    fn reno_friendly_region_on_short_paths() {
        // A small window on a short path: W_cubic grows slower than Reno would, so
        // cwnd follows W_est, ≈ α_cubic segments per RTT at first.
        let mut cc = Cubic::new(Window::new(1000, 10));
        cc.w.cwnd = 20_000;
        cc.on_congestion_event(Instant::ZERO, 20_000);
        cc.on_recovery_end(Instant::ZERO);
        assert_eq!(cc.cwnd(), 14_000);
        for t_ms in 0..10 {
            let cwnd = cc.cwnd();
            cc.on_ack(&ack(t_ms, cwnd, 1));
        }
        let grown = f64::from(cc.cwnd() - 14_000) / 1000.0;
        assert!(
            (0.4 * 10.0..=0.6 * 10.0).contains(&grown),
            "≈ 0.53 segments per RTT: grew {grown} segments in 10 RTTs"
        );
    }

    #[test]
    fn timeout_restarts_from_one_segment_with_the_plateau_at_the_new_epoch() {
        let mut cc = Cubic::new(Window::new(1000, 10));
        cc.w.cwnd = 50_000;
        cc.on_rto(Instant::ZERO, 50_000);
        assert_eq!(cc.cwnd(), 1000);
        assert_eq!(cc.ssthresh(), 35_000);
        // Slow start back to ssthresh, then the first stage has K = 0.
        let mut t = 0;
        while cc.cwnd() < cc.ssthresh() {
            let c = cc.cwnd();
            cc.on_ack(&ack(t, c, 50));
            t += 50;
        }
        cc.on_ack(&ack(t, 1000, 50));
        assert_eq!(cc.k, 0.0);
        assert!(cc.cwnd() >= 35_000);
    }
}
