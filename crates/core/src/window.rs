//! Windows larger than 64 KiB: the Window Scale option (RFC 7323 §2) and the automatic
//! sizing of the receive buffer ("auto-tuning", as Linux's dynamic right-sizing).
//!
//! **Window scale.** Each side announces, in its SYN only, the shift it will apply to
//! the windows it *sends*; both must offer it for either to be used (§2.2). A SYN's own
//! window is never scaled (§2.2), and a shift above 14 is read as 14 (§2.3, done by the
//! parser). We pick the smallest shift that can express the largest receive buffer the
//! connection may grow to ([`shift_for`]). Because the window on the wire is the true
//! window shifted right, a window we advertise is rounded *down* to a multiple of
//! 2^shift — except that the right edge already offered is never pulled back (RFC
//! 9293 §3.8.6), which rounds *up* instead ([`scaled_advertisement`]).
//!
//! **Receive-buffer auto-tuning.** A connection starts with
//! [`crate::Config::recv_buffer`] and, while the application keeps reading, measures
//! how much it read in each round trip. When that grows, the buffer (and so the window
//! offered) grows to twice the amount, plus room for growth, up to
//! [`crate::Config::recv_buffer_max`]: the window then keeps pace with the sender's
//! bandwidth-delay product without a slow reader or a short path being given memory it
//! does not use ([`RcvTuning`]). The round trip is taken from timestamps when the
//! connection has them (the echo in the peer's data segments), else from our own RTT
//! estimate. Buffers remain allocated lazily: a larger limit costs nothing until bytes
//! arrive.
//!
//! The send buffer follows the congestion window the same way (twice `cwnd`, up to
//! [`crate::Config::send_buffer_max`]), so a sender is never limited by a buffer
//! smaller than what the path can hold.

use crate::{Instant, SeqNum};
use core::time::Duration;

/// The largest shift (RFC 7323 §2.3).
pub(crate) const MAX_SHIFT: u8 = 14;

/// The smallest shift whose scaled 16-bit window covers `buffer` bytes.
pub(crate) fn shift_for(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < MAX_SHIFT && (65_535usize << shift) < buffer {
        shift += 1;
    }
    shift
}

/// The largest window expressible with `shift`.
pub(crate) fn max_window(shift: u8) -> u32 {
    65_535u32 << shift.min(MAX_SHIFT)
}

/// The window (bytes) to offer and the 16-bit field that carries it, given the free
/// buffer space `free` and the window `current` still open from earlier
/// advertisements: `free` rounded down to the scale's granularity, but never less
/// than `current` (rounded up), so the right edge never moves back.
pub(crate) fn scaled_advertisement(free: u32, current: u32, shift: u8) -> (u32, u16) {
    let shift = shift.min(MAX_SHIFT);
    let free = free.min(max_window(shift));
    let mut field = free >> shift;
    if field << shift < current {
        field = current.div_ceil(1 << shift).min(65_535);
    }
    let field = field.min(65_535);
    (field << shift, field as u16)
}

/// Receive-buffer auto-tuning state (kept in the TCB: four words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RcvTuning {
    /// Bytes the application read in the last measured round trip (Linux's
    /// `rcvq_space.space`).
    space: u32,
    /// Read sequence number (RCV.NXT minus what is still unread) at the start of the
    /// current measurement.
    seq: SeqNum,
    /// When the current measurement started (ms clock).
    start_ms: u32,
    /// The receiver's round-trip estimate from timestamps, µs (0: none yet).
    pub rtt_us: u32,
}

/// What auto-tuning asks of the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tune {
    Keep,
    /// Grow the buffer to this many bytes.
    Grow(usize),
}

fn clock_ms(now: Instant) -> u32 {
    (now.as_nanos() / 1_000_000) as u32
}

impl RcvTuning {
    /// Start measuring at read sequence `seq` with an initial estimate of what a round
    /// trip carries (ten segments, as Linux's `tcp_init_buffer_space`).
    pub(crate) fn new(seq: SeqNum, mss: u16, now: Instant) -> Self {
        RcvTuning {
            space: 10 * u32::from(mss),
            seq,
            start_ms: clock_ms(now),
            rtt_us: 0,
        }
    }

    /// A round-trip sample from a timestamp echo in an arriving data segment: kept as
    /// a smoothed estimate that falls quickly and rises slowly (as `tcp_rcv_rtt_update`).
    pub(crate) fn rtt_sample(&mut self, rtt: Duration) {
        let sample = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX).max(1);
        self.rtt_us = if self.rtt_us == 0 || sample < self.rtt_us {
            sample
        } else {
            self.rtt_us - self.rtt_us / 8 + sample / 8
        };
    }

    /// The application has read up to `read_seq` at `now`. Once a round trip (`rtt`,
    /// or the timestamp estimate when there is one) has passed, compare what was read
    /// with the previous round trip; if it grew, ask for a buffer of twice as much plus
    /// the growth and some slack (Linux's `tcp_rcv_space_adjust`), at most `max`.
    pub(crate) fn on_read(
        &mut self,
        read_seq: SeqNum,
        now: Instant,
        rtt: Option<Duration>,
        mss: u16,
        capacity: usize,
        max: usize,
    ) -> Tune {
        let rtt_us = if self.rtt_us > 0 {
            u64::from(self.rtt_us)
        } else {
            match rtt {
                Some(d) => u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
                None => return Tune::Keep,
            }
        };
        let elapsed_ms = clock_ms(now).wrapping_sub(self.start_ms);
        if u64::from(elapsed_ms) * 1000 < rtt_us.max(1000) {
            return Tune::Keep;
        }
        let copied = read_seq.since(self.seq);
        let mut result = Tune::Keep;
        if copied > self.space {
            let copied64 = u64::from(copied);
            let space = u64::from(self.space.max(1));
            let mut target = 2 * copied64 + 16 * u64::from(mss);
            // Growing fast (e.g. slow start): leave room for the next round's growth.
            let grow = target.saturating_mul(copied64 - space) / space;
            target = target.saturating_add(2 * grow);
            // A power of two, so the buffer's storage grows by doubling a handful of
            // times instead of being copied at every small step.
            let target = usize::try_from(target)
                .unwrap_or(usize::MAX)
                .checked_next_power_of_two()
                .unwrap_or(usize::MAX)
                .min(max);
            if target > capacity {
                result = Tune::Grow(target);
            }
            self.space = copied;
        }
        self.seq = read_seq;
        self.start_ms = clock_ms(now);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_is_the_smallest_that_covers_the_buffer() {
        assert_eq!(shift_for(0), 0);
        assert_eq!(shift_for(65_535), 0);
        assert_eq!(shift_for(65_536), 1);
        assert_eq!(shift_for(16 << 20), 9);
        assert_eq!(shift_for(usize::MAX), 14);
        assert_eq!(max_window(14), 65_535 << 14);
    }

    #[test]
    fn advertisement_rounds_down_but_never_shrinks() {
        assert_eq!(scaled_advertisement(100_000, 0, 0), (65_535, 65_535));
        assert_eq!(scaled_advertisement(100_000, 0, 7), (99_968, 781));
        // The window already open is 50 000: not a multiple of 128, rounded up.
        assert_eq!(scaled_advertisement(40_000, 50_000, 7), (50_048, 391));
        assert_eq!(
            scaled_advertisement(u32::MAX, 0, 14),
            (65_535 << 14, 65_535)
        );
    }

    #[test]
    fn auto_tuning_grows_with_what_a_round_trip_delivers() {
        let mss = 1000;
        let mut t = RcvTuning::new(SeqNum(0), mss, Instant::ZERO);
        let rtt = Some(Duration::from_millis(100));
        let ms = Instant::from_millis;
        // Less than an RTT later: nothing yet.
        assert_eq!(
            t.on_read(SeqNum(50_000), ms(50), rtt, mss, 65_536, 1 << 24),
            Tune::Keep
        );
        // 100 000 bytes in the first round trip (space was 10 000): grow, a lot.
        let Tune::Grow(n) = t.on_read(SeqNum(100_000), ms(100), rtt, mss, 65_536, 1 << 24) else {
            panic!("should grow")
        };
        assert!(n >= 2 * 100_000 && n.is_power_of_two(), "{n}");
        // The same rate next round: no further growth needed beyond what we have.
        assert_eq!(
            t.on_read(SeqNum(200_000), ms(200), rtt, mss, n, 1 << 24),
            Tune::Keep
        );
        // Bounded by the maximum.
        let Tune::Grow(m) = t.on_read(SeqNum(5_000_000), ms(300), rtt, mss, n, 6 << 20) else {
            panic!("should grow")
        };
        assert_eq!(m, 6 << 20);
    }

    #[test]
    fn receiver_rtt_falls_fast_and_rises_slowly() {
        let mut t = RcvTuning::new(SeqNum(0), 1000, Instant::ZERO);
        t.rtt_sample(Duration::from_millis(80));
        assert_eq!(t.rtt_us, 80_000);
        t.rtt_sample(Duration::from_millis(160));
        assert_eq!(t.rtt_us, 90_000);
        t.rtt_sample(Duration::from_millis(50));
        assert_eq!(t.rtt_us, 50_000);
    }
}
