//! The TCP Timestamps option (RFC 7323 §3–§5): round-trip measurement from the echoed
//! timestamp (RTTM) and Protection Against Wrapped Sequence numbers (PAWS).
//!
//! - **Clock** (§5.4): milliseconds of the caller's `now` (the RFC allows 1 ms to 1 s
//!   per tick), plus a per-connection offset drawn from the endpoint's secret so that
//!   the values reveal neither the host's uptime nor the clock of other connections
//!   (§7.1, as Linux's `tsoffset`).
//! - **Sending** (§3.2): every non-RST segment of a connection that negotiated the
//!   option carries `TSval` = our clock and `TSecr` = `TS.Recent`.
//! - **TS.Recent** (§4.3): the peer's timestamp to echo. It is updated from a segment
//!   that passed the sequence check only if `SEG.TSval ≥ TS.Recent` and
//!   `SEG.SEQ ≤ Last.ACK.sent`, so that a delayed ACK echoes the *earliest* segment it
//!   acknowledges and the measured RTT includes the delay.
//! - **RTTM** (§4.1, §4.2): an ACK that advances SND.UNA gives `RTT = now − TSecr`,
//!   retransmitted segment or not (the echo says which transmission is answered).
//! - **PAWS** (§5.3 R1): a non-RST segment whose `TSval` is older than `TS.Recent` is a
//!   duplicate from an earlier trip round the sequence space: it is dropped, and an ACK
//!   is sent. `TS.Recent` older than 24 days is no longer trusted (§5.5).
//! - A segment without the option on a connection that negotiated it is accepted (as
//!   Linux does), not dropped (§3.2 says SHOULD drop): middleboxes strip options, and
//!   such a segment still passes every other check.
//!
//! Timestamps compare as 32-bit serial numbers, like sequence numbers.

use crate::{Instant, SeqNum};
use core::time::Duration;

/// §5.5: TS.Recent is invalid after this long without an update (24 days, in ms).
const PAWS_IDLE_MS: u32 = 24 * 24 * 60 * 60 * 1000;

/// Our timestamp clock without the offset: `now` in milliseconds, modulo 2^32.
pub(crate) fn clock_ms(now: Instant) -> u32 {
    (now.as_nanos() / 1_000_000) as u32
}

/// `a` is older than `b` as 32-bit serial numbers (RFC 7323 §5.2).
pub(crate) fn ts_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Timestamp state of one connection that negotiated the option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TsState {
    /// Added to our clock.
    pub offset: u32,
    /// TS.Recent: the peer's timestamp we echo.
    pub recent: u32,
    /// Our clock (without offset) when TS.Recent was last set, for §5.5.
    pub recent_at: u32,
    /// Last.ACK.sent: the ACK field of the last segment we sent.
    pub last_ack_sent: SeqNum,
}

impl TsState {
    pub(crate) fn new(offset: u32) -> Self {
        TsState {
            offset,
            ..TsState::default()
        }
    }

    /// TSval for a segment sent at `now`.
    pub(crate) fn tsval(&self, now: Instant) -> u32 {
        clock_ms(now).wrapping_add(self.offset)
    }

    /// Take the peer's SYN (or SYN-ACK) timestamp as TS.Recent.
    pub(crate) fn take_syn(&mut self, tsval: u32, now: Instant) {
        self.recent = tsval;
        self.recent_at = clock_ms(now);
    }

    /// PAWS test R1 (§5.3): should a (non-RST) segment carrying `tsval` be rejected?
    pub(crate) fn paws_rejects(&self, tsval: u32, now: Instant) -> bool {
        let idle = clock_ms(now).wrapping_sub(self.recent_at);
        idle < PAWS_IDLE_MS && ts_before(tsval, self.recent)
    }

    /// §4.3 (2): a segment that passed the sequence check updates TS.Recent if it is
    /// not older and does not start beyond what we last acknowledged.
    pub(crate) fn update_recent(&mut self, tsval: u32, seq: SeqNum, now: Instant) {
        if !ts_before(tsval, self.recent) && seq.le(self.last_ack_sent) {
            self.recent = tsval;
            self.recent_at = clock_ms(now);
        }
    }

    /// A round-trip sample from an echoed timestamp (§4.1), if it is plausible: an echo
    /// from the future or of zero (a peer that has nothing to echo) gives none.
    pub(crate) fn rtt(&self, tsecr: u32, now: Instant) -> Option<Duration> {
        if tsecr == 0 {
            return None;
        }
        let elapsed = self.tsval(now).wrapping_sub(tsecr);
        // More than 2^31 ms back is an echo from the future (or garbage).
        if elapsed >= 1 << 31 {
            return None;
        }
        Some(Duration::from_millis(u64::from(elapsed)))
    }

    /// Our transmission at `sent` precedes the one echoed by `tsecr`: used by RACK to
    /// tell whether an ACK answers the original or the retransmission (RFC 8985 §6.2).
    pub(crate) fn echo_predates(&self, tsecr: u32, sent: Instant) -> bool {
        ts_before(tsecr, self.tsval(sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn tsval_is_the_millisecond_clock_plus_the_offset_and_wraps() {
        let ts = TsState::new(u32::MAX - 5);
        assert_eq!(ts.tsval(ms(0)), u32::MAX - 5);
        assert_eq!(ts.tsval(ms(10)), 4);
        assert_eq!(
            ts.rtt(u32::MAX - 5, ms(10)),
            Some(Duration::from_millis(10))
        );
    }

    #[test]
    fn recent_follows_the_rules_of_section_4_3() {
        let mut ts = TsState::new(0);
        ts.take_syn(1000, ms(0));
        ts.last_ack_sent = SeqNum(500);
        ts.update_recent(1010, SeqNum(500), ms(1));
        assert_eq!(ts.recent, 1010);
        ts.update_recent(1005, SeqNum(400), ms(2)); // older: ignored
        assert_eq!(ts.recent, 1010);
        ts.update_recent(1020, SeqNum(501), ms(3)); // beyond Last.ACK.sent: ignored
        assert_eq!(ts.recent, 1010);
        ts.update_recent(1010, SeqNum(500), ms(4)); // equal is fine
        assert_eq!(ts.recent_at, 4);
    }

    #[test]
    fn paws_rejects_older_timestamps_across_the_wrap() {
        let mut ts = TsState::new(0);
        ts.take_syn(u32::MAX - 10, ms(0));
        assert!(ts.paws_rejects(u32::MAX - 11, ms(1)));
        assert!(!ts.paws_rejects(u32::MAX - 10, ms(1)));
        assert!(!ts.paws_rejects(5, ms(1)), "5 is after the wrap, newer");
        // After 24 days of silence TS.Recent is no longer trusted.
        let later = Instant::from_millis(u64::from(PAWS_IDLE_MS) + 1);
        assert!(!ts.paws_rejects(u32::MAX - 11, later));
    }

    #[test]
    fn implausible_echoes_give_no_sample() {
        let ts = TsState::new(100);
        assert_eq!(ts.rtt(0, ms(50)), None);
        assert_eq!(ts.rtt(200, ms(50)), None, "from the future");
        assert_eq!(ts.rtt(120, ms(50)), Some(Duration::from_millis(30)));
        assert!(ts.echo_predates(120, ms(30)));
        assert!(!ts.echo_predates(130, ms(30)));
    }
}
