//! Sequence numbers: 32-bit serial numbers compared modulo 2^32 (RFC 9293 §3.4,
//! RFC 1982). Raw `u32` arithmetic on sequence space is a bug waiting to happen, so all
//! of it goes through [`SeqNum`].

/// A TCP sequence number. Comparisons are "serial number" comparisons: `a.lt(b)` is true
/// when `b` is ahead of `a` by less than 2^31. There is deliberately no `Ord`: the
/// relation is not transitive across the whole space.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// The raw value for the wire.
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// `self + n` (modulo 2^32).
    pub const fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
    /// `self + n` for a length that is known to fit a window (saturates at u32::MAX).
    pub fn add_len(self, n: usize) -> SeqNum {
        self.add(u32::try_from(n).unwrap_or(u32::MAX))
    }
    /// `self - n` (modulo 2^32).
    pub const fn sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }
    /// Signed distance from `other` to `self`: positive if `self` is ahead.
    pub const fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
    /// Bytes from `earlier` up to `self`, or 0 if `self` is not ahead of `earlier`.
    pub const fn since(self, earlier: SeqNum) -> u32 {
        let d = self.diff(earlier);
        if d > 0 {
            d as u32
        } else {
            0
        }
    }
    pub const fn lt(self, other: SeqNum) -> bool {
        self.diff(other) < 0
    }
    pub const fn le(self, other: SeqNum) -> bool {
        self.diff(other) <= 0
    }
    pub const fn gt(self, other: SeqNum) -> bool {
        self.diff(other) > 0
    }
    pub const fn ge(self, other: SeqNum) -> bool {
        self.diff(other) >= 0
    }
    /// The later of two sequence numbers.
    pub const fn max(self, other: SeqNum) -> SeqNum {
        if self.ge(other) {
            self
        } else {
            other
        }
    }
    /// The earlier of two sequence numbers.
    pub const fn min(self, other: SeqNum) -> SeqNum {
        if self.le(other) {
            self
        } else {
            other
        }
    }
    /// `start <= self < start + len` in sequence space.
    pub const fn in_window(self, start: SeqNum, len: u32) -> bool {
        (self.0.wrapping_sub(start.0)) < len
    }
}

impl core::fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl core::fmt::Display for SeqNum {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::SeqNum;
    use proptest::prelude::*;

    #[test]
    fn comparison_wraps_around_zero() {
        let a = SeqNum(u32::MAX - 5);
        let b = a.add(10);
        assert_eq!(b.0, 4);
        assert!(a.lt(b));
        assert!(b.gt(a));
        assert_eq!(b.diff(a), 10);
        assert_eq!(b.since(a), 10);
        assert_eq!(a.since(b), 0);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    #[test]
    fn in_window_handles_wrap_and_empty_window() {
        let start = SeqNum(u32::MAX - 1);
        assert!(start.in_window(start, 1));
        assert!(SeqNum(1).in_window(start, 4));
        assert!(!SeqNum(2).in_window(start, 4));
        assert!(!start.in_window(start, 0));
    }

    proptest! {
        #[test]
        fn adding_less_than_half_the_space_moves_forward(x: u32, n in 1u32..(1 << 31)) {
            let a = SeqNum(x);
            prop_assert!(a.lt(a.add(n)));
            prop_assert_eq!(a.add(n).sub(n), a);
            prop_assert_eq!(a.add(n).since(a), n);
        }
    }
}
