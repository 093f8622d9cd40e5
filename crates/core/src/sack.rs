//! The receiver's side of Selective Acknowledgment: which SACK blocks to send (RFC 2018
//! §4) and the duplicate-SACK extension (RFC 2883).
//!
//! RFC 2018 §4: when out-of-order data is held, each ACK carries SACK blocks. The
//! *first* block must contain the segment that triggered the ACK (the most recently
//! received); the following blocks repeat the most recently reported ones, so that a
//! block survives the loss of a few ACKs; as many as fit are sent (four alone, three
//! next to timestamps).
//!
//! RFC 2883: when a segment arrives that the receiver already had — entirely, or in
//! part — the next ACK's first block reports that duplicate range (a "D-SACK"). If the
//! duplicate lies inside a block still held out of order, the second block is that
//! block (§4.1.2). The sender learns from it that a retransmission was unnecessary
//! (reordering, a delayed ACK, a TLP that crossed its original).
//!
//! The state lives in a small box that exists only while there is out-of-order data or
//! a D-SACK to report.

use crate::SeqNum;
use synack_wire::{SackBlock, SackList};

/// How many recently reported blocks are remembered (the most one option holds).
const RECENT: usize = 4;

/// Receiver SACK state of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SackReceiver {
    /// Ranges of recently received out-of-order segments, most recent first.
    recent: [(SeqNum, SeqNum); RECENT],
    recent_len: u8,
    /// A duplicate range to report once (RFC 2883).
    dsack: Option<(SeqNum, SeqNum)>,
}

impl SackReceiver {
    /// Out-of-order data `[start, end)` arrived and was kept.
    pub(crate) fn on_out_of_order(&mut self, start: SeqNum, end: SeqNum) {
        let n = usize::from(self.recent_len);
        // This range first, then the earlier ones it does not cover.
        let mut next = [(SeqNum(0), SeqNum(0)); RECENT];
        next[0] = (start, end);
        let mut k = 1;
        for &r in &self.recent[..n] {
            if k < RECENT && !(r.0.ge(start) && r.1.le(end)) {
                next[k] = r;
                k += 1;
            }
        }
        self.recent = next;
        self.recent_len = k as u8;
    }

    /// Bytes `[start, end)` arrived that had been received before (RFC 2883).
    pub(crate) fn on_duplicate(&mut self, start: SeqNum, end: SeqNum) {
        if start.lt(end) {
            self.dsack = Some((start, end));
        }
    }

    /// Whether there is nothing to remember: the box can go.
    pub(crate) fn is_idle(&self, has_out_of_order: bool) -> bool {
        !has_out_of_order && self.dsack.is_none()
    }

    /// Forget recent blocks (all out-of-order data became in-order).
    pub(crate) fn clear_recent(&mut self) {
        self.recent_len = 0;
    }

    /// The SACK blocks for the next ACK, at most `max`. `held` lists the out-of-order
    /// data as sequence ranges in ascending order (it is called more than once).
    /// Consumes the pending D-SACK.
    pub(crate) fn blocks<I>(
        &mut self,
        rcv_nxt: SeqNum,
        held: impl Fn() -> I,
        max: usize,
    ) -> SackList
    where
        I: Iterator<Item = (SeqNum, SeqNum)>,
    {
        let mut list = SackList::default();
        let max = max.min(SackList::MAX);
        if max == 0 {
            return list;
        }
        // Held blocks already in the list, by their left edge.
        let mut used = [SeqNum(0); SackList::MAX];
        let mut n_used = 0;
        let mut put = |list: &mut SackList, (l, r): (SeqNum, SeqNum), held: bool| {
            if held {
                if used[..n_used].contains(&l) {
                    return;
                }
                used[n_used] = l;
                n_used += 1;
            }
            list.push(SackBlock {
                left: l.raw(),
                right: r.raw(),
            });
        };
        let containing = |s: SeqNum, e: SeqNum| held().find(|b| b.0.le(s) && e.le(b.1));
        if let Some(d) = self.dsack.take() {
            put(&mut list, d, false);
            // RFC 2883 §4.1.2: the held block containing the duplicate comes next.
            if let Some(block) = containing(d.0, d.1) {
                if list.len() < max {
                    put(&mut list, block, true);
                }
            }
        }
        // The held blocks of the most recent arrivals, newest first.
        for &(s, e) in &self.recent[..usize::from(self.recent_len)] {
            if list.len() >= max {
                break;
            }
            if e.le(rcv_nxt) {
                continue; // in order by now
            }
            if let Some(block) = containing(s, e) {
                put(&mut list, block, true);
            }
        }
        // Room left: other held blocks, highest first.
        // One pass keeps the highest `SackList::MAX` (a ring of the latest seen), so the
        // cost is linear in the held ranges however many there are.
        if list.len() < max {
            let mut top = [(SeqNum(0), SeqNum(0)); SackList::MAX];
            let mut seen = 0usize;
            for block in held() {
                top[seen % SackList::MAX] = block;
                seen += 1;
            }
            let kept = seen.min(SackList::MAX);
            for k in 1..=kept {
                if list.len() >= max {
                    break;
                }
                put(&mut list, top[(seen - k) % SackList::MAX], true);
            }
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(list: &SackList) -> Vec<(u32, u32)> {
        list.as_slice().iter().map(|b| (b.left, b.right)).collect()
    }

    fn s(a: u32, b: u32) -> (SeqNum, SeqNum) {
        (SeqNum(a), SeqNum(b))
    }

    #[test]
    fn first_block_holds_the_latest_segment_then_recent_ones() {
        let mut r = SackReceiver::default();
        // Holes at 1000 and 3000; data 2000..3000 then 4000..5000 then 5000..6000.
        r.on_out_of_order(SeqNum(2000), SeqNum(3000));
        r.on_out_of_order(SeqNum(4000), SeqNum(5000));
        let held = [s(2000, 3000), s(4000, 5000)];
        assert_eq!(
            b(&r.blocks(SeqNum(1000), || held.iter().copied(), 3)),
            [(4000, 5000), (2000, 3000)]
        );
        r.on_out_of_order(SeqNum(5000), SeqNum(6000));
        let held = [s(2000, 3000), s(4000, 6000)];
        assert_eq!(
            b(&r.blocks(SeqNum(1000), || held.iter().copied(), 3)),
            [(4000, 6000), (2000, 3000)]
        );
        // The older block is repeated after a newer one, even if a new hole appears.
        r.on_out_of_order(SeqNum(8000), SeqNum(9000));
        let held = [s(2000, 3000), s(4000, 6000), s(8000, 9000)];
        assert_eq!(
            b(&r.blocks(SeqNum(1000), || held.iter().copied(), 3)),
            [(8000, 9000), (4000, 6000), (2000, 3000)]
        );
        assert_eq!(
            b(&r.blocks(SeqNum(1000), || held.iter().copied(), 2)).len(),
            2
        );
    }

    #[test]
    fn dsack_comes_first_once_with_its_containing_block() {
        let mut r = SackReceiver::default();
        r.on_out_of_order(SeqNum(2000), SeqNum(3000));
        r.on_duplicate(SeqNum(2000), SeqNum(2500));
        let held = [s(2000, 3000)];
        assert_eq!(
            b(&r.blocks(SeqNum(1000), || held.iter().copied(), 3)),
            [(2000, 2500), (2000, 3000)]
        );
        assert_eq!(
            b(&r.blocks(SeqNum(1000), || held.iter().copied(), 3)),
            [(2000, 3000)]
        );
        // A duplicate below RCV.NXT.
        r.on_duplicate(SeqNum(100), SeqNum(600));
        assert_eq!(
            b(&r.blocks(SeqNum(1000), || [].into_iter(), 3)),
            [(100, 600)]
        );
        assert!(r.is_idle(false));
    }
}
