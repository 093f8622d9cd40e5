//! Small helpers for sequence-number space (RFC 9293 §3.4) and for the byte ranges a
//! trace has seen, used by the analysis, the state inference and the plots.

use crate::model::Segment;

/// `a` is after `b` in sequence space (RFC 1982 serial-number comparison).
pub(crate) fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `a` is at or after `b` in sequence space.
pub(crate) fn at_or_after(a: u32, b: u32) -> bool {
    a == b || after(a, b)
}

/// The later of two sequence numbers.
pub(crate) fn later(a: u32, b: u32) -> u32 {
    if after(a, b) {
        a
    } else {
        b
    }
}

/// Sequence space a segment occupies: its payload plus one for SYN and one for FIN.
pub(crate) fn seg_space(seg: &Segment) -> u32 {
    let s = &seg.summary;
    s.len
        .wrapping_add(u32::from(s.flags.syn()))
        .wrapping_add(u32::from(s.flags.fin()))
}

/// The sequence number just after the segment.
pub(crate) fn seg_end(seg: &Segment) -> u32 {
    seg.summary.seq.wrapping_add(seg_space(seg))
}

/// A set of byte ranges, as offsets (u64) from a base, kept merged and sorted.
#[derive(Debug, Clone, Default)]
pub(crate) struct RangeSet {
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    /// Add `[start, end)`.
    pub(crate) fn insert(&mut self, start: u64, end: u64) {
        if end <= start {
            return;
        }
        let (mut s, mut e) = (start, end);
        let mut kept = Vec::with_capacity(self.ranges.len() + 1);
        for &(a, b) in &self.ranges {
            if b < s || a > e {
                kept.push((a, b));
            } else {
                s = s.min(a);
                e = e.max(b);
            }
        }
        kept.push((s, e));
        kept.sort_unstable();
        self.ranges = kept;
    }

    /// Every byte of `[start, end)` is in the set.
    pub(crate) fn covers(&self, start: u64, end: u64) -> bool {
        end <= start || self.ranges.iter().any(|&(a, b)| a <= start && end <= b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_wraps() {
        assert!(after(5, u32::MAX - 5));
        assert!(!after(u32::MAX - 5, 5));
        assert!(at_or_after(7, 7));
        assert_eq!(later(1, u32::MAX), 1);
    }

    #[test]
    fn ranges_merge_and_cover() {
        let mut r = RangeSet::default();
        r.insert(10, 20);
        r.insert(30, 40);
        assert!(!r.covers(15, 35));
        r.insert(20, 30);
        assert!(r.covers(15, 35));
        assert!(r.covers(0, 0));
        assert!(!r.covers(0, 1));
    }
}
