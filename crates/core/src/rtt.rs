//! Round-trip time estimation and the retransmission timeout (RFC 6298, required by
//! RFC 9293 §3.8.1, MUST-2/MUST-3).
//!
//! The estimator keeps the smoothed round-trip time SRTT and its variation RTTVAR:
//!
//! - first measurement R (§2.2): `SRTT = R`, `RTTVAR = R/2`;
//! - each later measurement R' (§2.3), RTTVAR first, with the old SRTT:
//!   `RTTVAR = 3/4·RTTVAR + 1/4·|SRTT − R'|`, then `SRTT = 7/8·SRTT + 1/8·R'`;
//! - after either, `RTO = SRTT + max(G, 4·RTTVAR)` with clock granularity G = 1 ms,
//!   raised to the configured minimum (§2.4, which suggests 1 s) and capped at the
//!   configured maximum (§2.5). Before any measurement the RTO is the initial value
//!   (§2.1, 1 s).
//!
//! When the retransmission timer expires the caller calls [`RttEstimator::backoff`]
//! (§5.5, "back off the timer": RTO doubles, capped at the maximum), and a later valid
//! sample collapses the backoff (§5.7 note: the RTO is recomputed from the new SRTT).
//!
//! **Karn's rule is the caller's job** (RFC 6298 §3): never pass a sample measured on a
//! segment that was retransmitted, because its ACK is ambiguous (unless the timestamp
//! option, RFC 7323 §4, disambiguates it). Likewise the caller applies §5.7 (an RTO
//! backed off while awaiting a SYN's ACK is reset to 3 s when data transfer starts) if
//! it wants to.
//!
//! Arithmetic is done on microseconds in `u64`, truncating, and saturates rather than
//! overflowing; no input can make it panic.

use core::time::Duration;

/// Clock granularity G of RFC 6298 §2: the RTO's variance term is at least this.
pub const CLOCK_GRANULARITY: Duration = Duration::from_millis(1);

/// RTT and RTO state of one connection (RFC 6298). Kept in microseconds in `u32`s (up
/// to 71 minutes, far beyond any RTO bound) so that every connection's TCB stays small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttEstimator {
    /// SRTT in µs, meaningful once `has_sample`.
    srtt_us: u32,
    /// RTTVAR in µs, meaningful once `has_sample`.
    rttvar_us: u32,
    /// The RTO before backoff in µs, already clamped to `[min_rto, max_rto]`.
    base_rto_us: u32,
    min_rto_us: u32,
    max_rto_us: u32,
    /// Timer expirations since the last reset (§5.5).
    backoff: u16,
    has_sample: bool,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn from_micros(us: u64) -> Duration {
    Duration::from_micros(us)
}

impl RttEstimator {
    /// An estimator with no measurement yet: the RTO is `initial_rto` (RFC 6298 §2.1
    /// says 1 s). Every RTO is kept within `[min_rto, max_rto]`; if `min_rto > max_rto`
    /// the maximum wins.
    pub fn new(initial_rto: Duration, min_rto: Duration, max_rto: Duration) -> Self {
        let (min, max) = (micros(min_rto), micros(max_rto));
        RttEstimator {
            srtt_us: 0,
            rttvar_us: 0,
            base_rto_us: micros(initial_rto).max(min).min(max),
            min_rto_us: min,
            max_rto_us: max,
            backoff: 0,
            has_sample: false,
        }
    }

    /// Takes one round-trip measurement (RFC 6298 §2.2 for the first, §2.3 for later
    /// ones) and recomputes the RTO, which also clears any backoff. The caller must
    /// follow Karn's rule: no samples from retransmitted segments.
    pub fn sample(&mut self, rtt: Duration) {
        let r = u64::from(micros(rtt));
        let (srtt, rttvar) = if self.has_sample {
            let (srtt, rttvar) = (u64::from(self.srtt_us), u64::from(self.rttvar_us));
            let delta = srtt.abs_diff(r);
            // beta = 1/4, alpha = 1/8; RTTVAR uses the SRTT from before this sample.
            ((srtt * 7 + r) / 8, (rttvar * 3 + delta) / 4)
        } else {
            (r, r / 2)
        };
        self.srtt_us = u32::try_from(srtt).unwrap_or(u32::MAX);
        self.rttvar_us = u32::try_from(rttvar).unwrap_or(u32::MAX);
        self.has_sample = true;
        // K = 4.
        let var = u64::from(micros(CLOCK_GRANULARITY)).max(rttvar * 4);
        let rto = (srtt + var)
            .max(u64::from(self.min_rto_us))
            .min(u64::from(self.max_rto_us));
        self.base_rto_us = u32::try_from(rto).unwrap_or(u32::MAX);
        self.backoff = 0;
    }

    /// The current RTO, including backoff, never above the maximum.
    pub fn rto(&self) -> Duration {
        let base = u64::from(self.base_rto_us);
        let backed_off = base
            .checked_shl(u32::from(self.backoff.min(40)))
            .unwrap_or(u64::MAX);
        from_micros(backed_off.min(u64::from(self.max_rto_us)))
    }

    /// The retransmission timer expired: double the RTO (RFC 6298 §5.5), never beyond
    /// the maximum. The count keeps rising (saturating) so the caller can give up
    /// after too many retransmissions (RFC 9293 §3.8.3, R2).
    pub fn backoff(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// Forgets the backoff, e.g. when new data is acknowledged (RFC 6298 §5.7 note).
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// Timer expirations since the last reset.
    pub fn backoff_count(&self) -> u32 {
        u32::from(self.backoff)
    }

    /// The smoothed round-trip time in microseconds, once there has been a measurement.
    pub fn srtt_us(&self) -> Option<u32> {
        self.has_sample.then_some(self.srtt_us)
    }

    /// The smoothed round-trip time, once there has been a measurement.
    pub fn srtt(&self) -> Option<Duration> {
        self.has_sample
            .then(|| from_micros(u64::from(self.srtt_us)))
    }

    /// The round-trip time variation, once there has been a measurement.
    pub fn rttvar(&self) -> Option<Duration> {
        self.has_sample
            .then(|| from_micros(u64::from(self.rttvar_us)))
    }
}

#[cfg(test)]
mod tests {
    use super::RttEstimator;
    use core::time::Duration;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }
    fn us(us: u64) -> Duration {
        Duration::from_micros(us)
    }

    fn rfc_default() -> RttEstimator {
        RttEstimator::new(ms(1000), ms(1000), ms(60_000))
    }

    #[test]
    fn before_any_sample_the_rto_is_the_initial_value() {
        let r = rfc_default();
        assert_eq!(r.rto(), ms(1000));
        assert_eq!(r.srtt(), None);
        assert_eq!(r.rttvar(), None);
        assert_eq!(r.backoff_count(), 0);
    }

    #[test]
    fn first_sample_sets_srtt_to_r_and_rttvar_to_half_r() {
        let mut r = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        r.sample(ms(100));
        assert_eq!(r.srtt(), Some(ms(100)));
        assert_eq!(r.rttvar(), Some(ms(50)));
        assert_eq!(r.rto(), ms(300)); // 100 + 4 * 50
    }

    #[test]
    fn later_samples_use_alpha_one_eighth_and_beta_one_quarter() {
        let mut r = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        r.sample(ms(100));
        r.sample(ms(200));
        // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
        assert_eq!(r.rttvar(), Some(us(62_500)));
        assert_eq!(r.srtt(), Some(us(112_500)));
        assert_eq!(r.rto(), us(362_500)); // 112.5 + 4 * 62.5
        r.sample(ms(40));
        // RTTVAR = 3/4 * 62.5 + 1/4 * 72.5 = 65; SRTT = 7/8 * 112.5 + 1/8 * 40 = 103.4375,
        // kept at microsecond resolution (truncated).
        assert_eq!(r.rttvar(), Some(ms(65)));
        assert_eq!(r.srtt(), Some(us(103_437)));
        assert_eq!(r.rto(), us(363_437));
    }

    #[test]
    fn rto_is_raised_to_the_minimum() {
        let mut r = rfc_default();
        r.sample(ms(10));
        assert_eq!(r.srtt(), Some(ms(10)));
        assert_eq!(r.rto(), ms(1000)); // 10 + 20 = 30 ms, below the 1 s minimum
    }

    #[test]
    fn variance_term_is_at_least_the_clock_granularity() {
        let mut r = RttEstimator::new(ms(1000), Duration::ZERO, ms(60_000));
        for _ in 0..200 {
            r.sample(ms(50));
        }
        assert_eq!(r.srtt(), Some(ms(50)));
        assert_eq!(r.rttvar(), Some(Duration::ZERO));
        assert_eq!(r.rto(), ms(51)); // 50 + max(G = 1 ms, 0)
    }

    #[test]
    fn rto_is_capped_at_the_maximum() {
        let mut r = RttEstimator::new(ms(1000), ms(1000), ms(60_000));
        r.sample(Duration::from_secs(50));
        assert_eq!(r.rto(), ms(60_000)); // 50 + 100 s, capped
        assert_eq!(
            RttEstimator::new(ms(90_000), ms(1000), ms(60_000)).rto(),
            ms(60_000)
        );
        let mut huge = rfc_default();
        huge.sample(Duration::MAX);
        huge.sample(Duration::MAX);
        assert_eq!(huge.rto(), ms(60_000));
    }

    #[test]
    fn backoff_doubles_the_rto_up_to_the_cap() {
        let mut r = rfc_default();
        let mut seen = vec![];
        for _ in 0..8 {
            r.backoff();
            seen.push(r.rto().as_secs());
        }
        assert_eq!(seen, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(r.backoff_count(), 8);
        for _ in 0..100 {
            r.backoff();
        }
        assert_eq!(r.rto(), ms(60_000));
        assert_eq!(r.backoff_count(), 108);
    }

    #[test]
    fn reset_backoff_restores_the_computed_rto() {
        let mut r = rfc_default();
        r.backoff();
        r.backoff();
        assert_eq!(r.rto(), ms(4000));
        r.reset_backoff();
        assert_eq!(r.backoff_count(), 0);
        assert_eq!(r.rto(), ms(1000));
    }

    #[test]
    fn a_new_sample_collapses_the_backoff() {
        let mut r = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        r.backoff();
        r.backoff();
        r.sample(ms(100));
        assert_eq!(r.backoff_count(), 0);
        assert_eq!(r.rto(), ms(300));
    }

    #[test]
    fn minimum_above_maximum_resolves_to_the_maximum() {
        let mut r = RttEstimator::new(ms(1000), ms(5000), ms(2000));
        assert_eq!(r.rto(), ms(2000));
        r.sample(ms(1));
        assert_eq!(r.rto(), ms(2000));
    }
}
