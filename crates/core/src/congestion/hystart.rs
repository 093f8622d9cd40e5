//! HyStart++ (RFC 9406): leaving slow start before it overflows the bottleneck queue.
//!
//! Slow start doubles the window every round trip until a loss says it went too far —
//! by then up to a whole window can be lost (on a long fat path, thousands of
//! segments). HyStart++ watches the round trip instead: once the minimum RTT of a round
//! exceeds the previous round's by `RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms)`,
//! a queue is building, and slow start gives way to *Conservative Slow Start* (CSS):
//! growth divided by 4 for up to five rounds (§4.2). If the RTT falls back below the
//! baseline during CSS the exit was spurious and slow start resumes; after five rounds
//! of CSS, congestion avoidance begins (`ssthresh = cwnd`). A loss ends it all as usual.
//!
//! As RFC 9406 §4.4 recommends, it is used for the initial slow start only (not after a
//! retransmission timeout). RFC 9438 §4.10 allows it for CUBIC; the connection uses it
//! with either controller. Each round needs `N_RTT_SAMPLE` RTT samples: the connection
//! feeds one per ACK from its scoreboard (the most recently sent segment the ACK
//! delivered, never a retransmitted one).
//!
//! synack does not pace its transmissions: slow start's bursts queue up within every
//! round, so only a queue that stands from one round to the next is seen, a round
//! late. On a bottleneck whose queue is about one bandwidth-delay product or less the
//! overshoot then happens before the exit; HyStart++ helps with deeper queues.

use crate::SeqNum;
use core::time::Duration;

const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
const MIN_RTT_DIVISOR: u32 = 8;
const N_RTT_SAMPLE: u32 = 8;
/// CSS_GROWTH_DIVISOR.
pub(crate) const CSS_GROWTH_DIVISOR: u32 = 4;
const CSS_ROUNDS: u32 = 5;

/// Where slow start stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Ordinary slow start.
    SlowStart,
    /// Conservative slow start: growth divided by [`CSS_GROWTH_DIVISOR`].
    Css,
    /// CSS is over: enter congestion avoidance (`ssthresh = cwnd`).
    ExitToCongestionAvoidance,
}

/// HyStart++ state for one slow start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HyStart {
    last_round_min: Option<Duration>,
    current_round_min: Option<Duration>,
    samples: u32,
    /// The round ends when this is acknowledged (SND.NXT when it began).
    window_end: Option<SeqNum>,
    /// The RTT that made us enter CSS (`cssBaselineMinRtt`).
    css_baseline: Option<Duration>,
    /// Rounds completed in CSS.
    css_rounds: u32,
    phase: Phase,
}

impl Default for HyStart {
    fn default() -> Self {
        HyStart {
            last_round_min: None,
            current_round_min: None,
            samples: 0,
            window_end: None,
            css_baseline: None,
            css_rounds: 0,
            phase: Phase::SlowStart,
        }
    }
}

impl HyStart {
    /// An ACK in slow start acknowledged up to `ack`; SND.NXT is `snd_nxt`; `rtt` is
    /// its RTT sample, if it gave one. Returns the phase to grow the window in.
    pub(crate) fn on_ack(&mut self, ack: SeqNum, snd_nxt: SeqNum, rtt: Option<Duration>) -> Phase {
        if self.phase == Phase::ExitToCongestionAvoidance {
            return self.phase;
        }
        // A new round begins when the previous one is acknowledged (§4.2).
        if self.window_end.is_none_or(|end| ack.ge(end)) {
            if self.window_end.is_some() {
                self.last_round_min = self.current_round_min;
                if self.phase == Phase::Css {
                    self.css_rounds += 1;
                    if self.css_rounds >= CSS_ROUNDS {
                        self.phase = Phase::ExitToCongestionAvoidance;
                        return self.phase;
                    }
                }
            }
            self.current_round_min = None;
            self.samples = 0;
            self.window_end = Some(snd_nxt);
        }
        if let Some(r) = rtt {
            self.current_round_min = Some(self.current_round_min.map_or(r, |m| m.min(r)));
            self.samples += 1;
        }
        if self.samples < N_RTT_SAMPLE {
            return self.phase;
        }
        let (Some(current), Some(last)) = (self.current_round_min, self.last_round_min) else {
            return self.phase;
        };
        match self.phase {
            Phase::SlowStart => {
                let thresh = (last / MIN_RTT_DIVISOR).clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                if current >= last + thresh {
                    self.css_baseline = Some(current);
                    self.css_rounds = 0;
                    self.phase = Phase::Css;
                }
            }
            Phase::Css => {
                if self.css_baseline.is_some_and(|b| current < b) {
                    // The RTT fell back: the exit was spurious (§4.2).
                    self.css_baseline = None;
                    self.phase = Phase::SlowStart;
                }
            }
            Phase::ExitToCongestionAvoidance => {}
        }
        self.phase
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feed one round of `n` ACKs with RTT `rtt`; the round ends at `end`.
    fn round(h: &mut HyStart, start: u32, end: u32, rtt: Duration) -> Phase {
        let mut phase = h.phase;
        for k in 0..10 {
            phase = h.on_ack(SeqNum(start + k), SeqNum(end), Some(rtt));
        }
        phase
    }

    #[test]
    fn a_rising_rtt_leads_to_css_then_congestion_avoidance() {
        let mut h = HyStart::default();
        assert_eq!(round(&mut h, 0, 100, ms(100)), Phase::SlowStart);
        assert_eq!(
            round(&mut h, 100, 200, ms(101)),
            Phase::SlowStart,
            "< 4 ms more"
        );
        // 100 / 8 = 12.5 ms: a round at 113 ms is a queue building.
        assert_eq!(round(&mut h, 200, 300, ms(114)), Phase::Css);
        let mut phase = Phase::Css;
        let mut rounds = 0;
        while phase == Phase::Css {
            rounds += 1;
            phase = round(&mut h, 300 + rounds * 100, 400 + rounds * 100, ms(115));
        }
        assert_eq!(phase, Phase::ExitToCongestionAvoidance);
        assert_eq!(rounds, 5);
    }

    #[test]
    fn a_falling_rtt_in_css_resumes_slow_start() {
        let mut h = HyStart::default();
        round(&mut h, 0, 100, ms(10));
        assert_eq!(round(&mut h, 100, 200, ms(20)), Phase::Css, "+10 ms ≥ 4 ms");
        assert_eq!(round(&mut h, 200, 300, ms(12)), Phase::SlowStart);
    }

    #[test]
    fn too_few_samples_decide_nothing() {
        let mut h = HyStart::default();
        round(&mut h, 0, 100, ms(10));
        for k in 0..5 {
            assert_eq!(
                h.on_ack(SeqNum(100 + k), SeqNum(200), Some(ms(50))),
                Phase::SlowStart
            );
        }
    }
}
