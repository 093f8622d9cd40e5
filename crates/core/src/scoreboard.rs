//! The sender's scoreboard: one record per segment sent and not yet cumulatively
//! acknowledged, with what the receiver's SACK blocks said about it (RFC 6675 §3–§4,
//! RFC 2018), when it was last transmitted (RACK, RFC 8985 §5.2), and whether it is
//! deemed lost or being retransmitted.
//!
//! From the records the connection gets the numbers loss recovery runs on:
//!
//! - **pipe** (RFC 6675 §4, `SetPipe`): bytes outstanding, minus those SACKed, minus
//!   those deemed lost, plus those retransmitted and not yet deemed lost again —
//!   kept as running counters, so it costs nothing to ask;
//! - **IsLost** (RFC 6675 §4): a segment is lost once `DupThresh` SACKed segments, or
//!   more than `(DupThresh − 1) × SMSS` SACKed bytes, lie above it
//!   ([`Scoreboard::mark_lost_by_sacks`]);
//! - **NextSeg** (RFC 6675 §4): the first lost segment not yet retransmitted (rule 1),
//!   else new data (rule 2, the connection's business), else an unSACKed segment below
//!   the highest SACK (rule 3), else the rescue retransmission (rule 4);
//! - RACK's time-based loss marking ([`Scoreboard::rack_mark_lost`]).
//!
//! Records follow each other without gaps from SND.UNA to SND.NXT (a segment that
//! carries our FIN has its sequence number in its length). Retransmissions always
//! resend a whole record, so record boundaries are segment boundaries; a SACK block
//! that cuts a record (a receiver that trimmed a segment) splits it.
//!
//! Cost: every record is created once and removed once; loss marking, RACK and the
//! search for the next retransmission keep cursors that only move forward (until an
//! RTO resets them), so the work per ACK is proportional to what the ACK changed, not
//! to the size of the window. The scoreboard lives in a box that exists only while data
//! is outstanding.

use crate::{Instant, SeqNum};
use std::collections::VecDeque;

/// DupThresh (RFC 6675 §2, RFC 5681 §3.2).
pub(crate) const DUP_THRESH: u32 = 3;

const SACKED: u8 = 1;
/// Deemed lost: not counted in pipe (unless `RETRANS`).
const LOST: u8 = 2;
/// A retransmission is in flight (counted in pipe once more).
const RETRANS: u8 = 4;
/// Retransmitted at least once (Karn's rule, RACK's ambiguity check).
const EVER_RETRANS: u8 = 8;
/// The segment carries our FIN (the last sequence number of the record).
const FIN: u8 = 16;

/// One segment sent and not cumulatively acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxSeg {
    pub start: SeqNum,
    /// Sequence space: payload bytes, plus one with FIN.
    pub len: u32,
    /// The time of its latest transmission.
    pub xmit: Instant,
    flags: u8,
}

impl TxSeg {
    pub(crate) fn end(&self) -> SeqNum {
        self.start.add(self.len)
    }
    pub(crate) fn sacked(&self) -> bool {
        self.flags & SACKED != 0
    }
    pub(crate) fn lost(&self) -> bool {
        self.flags & LOST != 0
    }
    pub(crate) fn ever_retransmitted(&self) -> bool {
        self.flags & EVER_RETRANS != 0
    }
    pub(crate) fn fin(&self) -> bool {
        self.flags & FIN != 0
    }
    /// Payload bytes.
    pub(crate) fn data_len(&self) -> u32 {
        self.len - u32::from(self.fin())
    }
    /// Lost and not retransmitted since: waiting for NextSeg rule 1.
    fn needs_resend(&self) -> bool {
        self.flags & (SACKED | LOST | RETRANS) == LOST
    }
}

/// A segment newly delivered (cumulatively or selectively acknowledged), as RACK needs
/// to know it (RFC 8985 §6.2 step 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivered {
    pub xmit: Instant,
    pub end: SeqNum,
    pub retransmitted: bool,
}

/// `(t1, seq1)` was sent after `(t2, seq2)` (RFC 8985 §6.2, `RACK_sent_after`).
pub(crate) fn sent_after(t1: Instant, seq1: SeqNum, t2: Instant, seq2: SeqNum) -> bool {
    t1 > t2 || (t1 == t2 && seq1.gt(seq2))
}

/// What an ACK's cumulative and selective parts did to the scoreboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Update {
    /// The most recently sent of the newly delivered segments.
    pub newest: Option<Delivered>,
    /// A never-retransmitted segment was delivered below one already SACKed: the
    /// network reordered (RFC 8985 §6.2 step 3).
    pub reordered: bool,
    /// Bytes newly SACKed.
    pub sacked: u32,
    /// The highest SACKed sequence number before this ACK (RACK.fack then).
    pub prior_high: Option<SeqNum>,
}

impl Update {
    /// For an ACK arriving at `board` as it is now.
    pub(crate) fn new(board: &Scoreboard) -> Self {
        Update {
            prior_high: board.high_sacked,
            ..Update::default()
        }
    }

    fn deliver(&mut self, seg: &TxSeg) {
        let high_sacked = self.prior_high;
        let d = Delivered {
            xmit: seg.xmit,
            end: seg.end(),
            retransmitted: seg.ever_retransmitted(),
        };
        if self
            .newest
            .is_none_or(|n| sent_after(d.xmit, d.end, n.xmit, n.end))
        {
            self.newest = Some(d);
        }
        if !d.retransmitted && high_sacked.is_some_and(|h| d.end.lt(h)) {
            self.reordered = true;
        }
    }
}

/// The scoreboard of one connection.
#[derive(Debug, Default)]
pub(crate) struct Scoreboard {
    segs: VecDeque<TxSeg>,
    /// Bytes SACKed.
    sacked: u32,
    /// Bytes deemed lost.
    lost: u32,
    /// Bytes with a retransmission in flight.
    retrans: u32,
    /// Bytes lost and not yet retransmitted.
    to_resend: u32,
    /// The highest sequence number any SACK covered (RFC 6675 "highest octet covered
    /// by any received SACK"; RACK.fack), exclusive.
    high_sacked: Option<SeqNum>,
    /// DupThresh marking has been applied to every record below this.
    mark_hint: SeqNum,
    /// No record below this needs resending.
    resend_hint: SeqNum,
    /// RACK has settled every never-retransmitted record below this.
    rack_cursor: SeqNum,
    /// Retransmissions in the order they were sent: (record start, when).
    rexmits: VecDeque<(SeqNum, Instant)>,
    /// RFC 6675 rule 3: records below this were already resent by rule 3 or 1.
    rule3_hint: SeqNum,
    /// Without SACK: bytes the duplicate ACKs say have left the network (one SMSS per
    /// duplicate ACK, as RFC 5681 §3.2 step 4's window inflation counts them).
    dupack_bytes: u32,
    /// Times a segment (or its retransmission) was deemed lost, for statistics.
    pub marked: u64,
}

impl Scoreboard {
    pub(crate) fn new(start: SeqNum) -> Self {
        Scoreboard {
            mark_hint: start,
            resend_hint: start,
            rack_cursor: start,
            rule3_hint: start,
            ..Scoreboard::default()
        }
    }

    /// Heap bytes per record of room in the two deques, for memory estimates.
    pub(crate) const BYTES_PER_RECORD: usize =
        core::mem::size_of::<TxSeg>() + core::mem::size_of::<(SeqNum, Instant)>();

    /// Records either deque has room for without reallocating.
    pub(crate) fn capacity(&self) -> usize {
        self.segs.capacity().max(self.rexmits.capacity())
    }

    /// Empty, as [`Scoreboard::new`] makes it, but keeping the deques' allocations.
    pub(crate) fn recycle(&mut self, start: SeqNum) {
        let mut segs = core::mem::take(&mut self.segs);
        let mut rexmits = core::mem::take(&mut self.rexmits);
        segs.clear();
        rexmits.clear();
        *self = Scoreboard {
            segs,
            rexmits,
            ..Scoreboard::new(start)
        };
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    /// Number of records.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.segs.len()
    }

    /// No record and no retransmission left to check: [`Scoreboard::rack_mark_lost`]
    /// would return `(0, None)` and change nothing.
    pub(crate) fn nothing_to_mark(&self) -> bool {
        self.segs.is_empty() && self.rexmits.is_empty()
    }

    /// Bytes SACKed (or, without SACK, reported by duplicate ACKs).
    pub(crate) fn sacked_bytes(&self) -> u32 {
        self.sacked.saturating_add(self.dupack_bytes)
    }

    /// Some byte is deemed lost and not yet retransmitted (NextSeg rule 1 may find a
    /// segment).
    pub(crate) fn has_to_resend(&self) -> bool {
        self.to_resend > 0
    }

    /// Bytes deemed lost.
    pub(crate) fn lost_bytes(&self) -> u32 {
        self.lost
    }

    /// RFC 6675 `SetPipe`, from the counters: `outstanding` is SND.NXT − SND.UNA.
    pub(crate) fn pipe(&self, outstanding: u32) -> u32 {
        outstanding
            .saturating_sub(self.sacked_bytes())
            .saturating_sub(self.lost)
            .saturating_add(self.retrans)
    }

    /// The first and last records.
    #[cfg(test)]
    pub(crate) fn first(&self) -> Option<&TxSeg> {
        self.segs.front()
    }
    pub(crate) fn last(&self) -> Option<&TxSeg> {
        self.segs.back()
    }

    /// Index of the first record that ends after `seq`.
    fn index_after(&self, seq: SeqNum) -> usize {
        self.segs.partition_point(|s| s.end().le(seq))
    }

    /// The record starting exactly at `start`.
    fn find(&self, start: SeqNum) -> Option<usize> {
        let i = self.index_after(start);
        (self.segs.get(i)?.start == start).then_some(i)
    }

    /// A new segment `[start, start + len)` went out at `now`. Records are contiguous:
    /// a segment that does not start where the last one ends is not recorded.
    pub(crate) fn push(&mut self, start: SeqNum, len: u32, fin: bool, now: Instant) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.segs.back() {
            if last.end() != start {
                return;
            }
        }
        self.segs.push_back(TxSeg {
            start,
            len,
            xmit: now,
            flags: if fin { FIN } else { 0 },
        });
    }

    /// Remove `bytes` of `seg` from the counters (it is being acknowledged or cut).
    fn uncount(&mut self, flags: u8, bytes: u32) {
        if flags & SACKED != 0 {
            self.sacked = self.sacked.saturating_sub(bytes);
            return;
        }
        if flags & LOST != 0 {
            self.lost = self.lost.saturating_sub(bytes);
            if flags & RETRANS == 0 {
                self.to_resend = self.to_resend.saturating_sub(bytes);
            }
        }
        if flags & RETRANS != 0 {
            self.retrans = self.retrans.saturating_sub(bytes);
        }
    }

    /// The cumulative ACK moved SND.UNA to `ack` (RFC 9293 §3.10.7.4): drop what it
    /// covers. `smss` is for the duplicate-ACK accounting without SACK.
    pub(crate) fn ack(&mut self, ack: SeqNum, smss: u32, update: &mut Update) {
        let mut acked = 0u32;
        while let Some(front) = self.segs.front().copied() {
            if front.end().le(ack) {
                self.segs.pop_front();
                self.uncount(front.flags, front.len);
                acked = acked.saturating_add(front.len);
                if !front.sacked() {
                    update.deliver(&front);
                }
            } else {
                if front.start.lt(ack) {
                    // Partly acknowledged (the receiver took part of a segment).
                    let cut = ack.since(front.start);
                    self.uncount(front.flags, cut);
                    acked = acked.saturating_add(cut);
                    if let Some(f) = self.segs.front_mut() {
                        f.start = ack;
                        f.len -= cut;
                    }
                }
                break;
            }
        }
        // Without SACK, every segment acknowledged beyond the first was one the
        // duplicate ACKs already counted (as Linux's `tcp_remove_reno_sacks`).
        self.dupack_bytes = self.dupack_bytes.saturating_sub(acked.saturating_sub(smss));
        if self.high_sacked.is_some_and(|h| h.le(ack)) {
            self.high_sacked = None;
        }
        for hint in [
            &mut self.mark_hint,
            &mut self.resend_hint,
            &mut self.rack_cursor,
            &mut self.rule3_hint,
        ] {
            *hint = hint.max(ack);
        }
        while let Some(&(start, _)) = self.rexmits.front() {
            if start.lt(ack) {
                self.rexmits.pop_front();
            } else {
                break;
            }
        }
    }

    /// Split the record at index `i` so that a record starts at `at` (strictly inside it).
    fn split(&mut self, i: usize, at: SeqNum) {
        let Some(seg) = self.segs.get(i).copied() else {
            return;
        };
        if !(seg.start.lt(at) && at.lt(seg.end())) {
            return;
        }
        let head_len = at.since(seg.start);
        let mut head = seg;
        head.len = head_len;
        head.flags &= !FIN;
        let mut tail = seg;
        tail.start = at;
        tail.len = seg.len - head_len;
        self.segs[i] = head;
        self.segs.insert(i + 1, tail);
    }

    /// Cut the record starting at `start` so that it carries at most `max_data` payload
    /// bytes (for a caller whose buffer is smaller than a segment); returns it.
    pub(crate) fn limit(&mut self, start: SeqNum, max_data: u32) -> Option<TxSeg> {
        let i = self.find(start)?;
        let seg = self.segs[i];
        if max_data > 0 && seg.data_len() > max_data {
            self.split(i, start.add(max_data));
        }
        self.segs.get(i).copied()
    }

    /// One SACK block `[left, right)`, already checked to lie within
    /// `[SND.UNA, SND.NXT]`: mark what it covers (RFC 6675 §5 (A), `Update()`).
    pub(crate) fn sack(&mut self, left: SeqNum, right: SeqNum, update: &mut Update) {
        if !left.lt(right) {
            return;
        }
        let mut i = self.index_after(left);
        if i < self.segs.len() && self.segs[i].start.lt(left) && !self.segs[i].sacked() {
            self.split(i, left);
            i += 1;
        }
        while let Some(seg) = self.segs.get(i).copied() {
            if !seg.start.lt(right) {
                break;
            }
            if seg.end().gt(right) {
                if seg.sacked() {
                    break;
                }
                self.split(i, right);
                continue; // look at the (now shorter) record again
            }
            if !seg.sacked() {
                self.uncount(seg.flags, seg.len);
                self.sacked = self.sacked.saturating_add(seg.len);
                update.sacked = update.sacked.saturating_add(seg.len);
                update.deliver(&seg);
                if let Some(s) = self.segs.get_mut(i) {
                    s.flags = (s.flags & (EVER_RETRANS | FIN)) | SACKED;
                }
                if self.high_sacked.is_none_or(|h| seg.end().gt(h)) {
                    self.high_sacked = Some(seg.end());
                }
            }
            i += 1;
        }
    }

    /// Without SACK: a duplicate ACK says one more segment has left the network. The
    /// count never claims more than all but one segment of what is outstanding.
    pub(crate) fn on_dupack(&mut self, smss: u32, outstanding: u32) {
        let cap = outstanding.saturating_sub(smss);
        self.dupack_bytes = self.dupack_bytes.saturating_add(smss).min(cap);
    }

    /// Forget what duplicate ACKs said (recovery ended).
    pub(crate) fn clear_dupacks(&mut self) {
        self.dupack_bytes = 0;
    }

    fn set_lost(&mut self, i: usize) -> u32 {
        let Some(seg) = self.segs.get(i).copied() else {
            return 0;
        };
        if seg.sacked() || (seg.lost() && seg.flags & RETRANS == 0) {
            return 0;
        }
        // Lost: the latest transmission (original or retransmission) is gone.
        if seg.flags & RETRANS != 0 {
            self.retrans = self.retrans.saturating_sub(seg.len);
        }
        if !seg.lost() {
            self.lost = self.lost.saturating_add(seg.len);
        }
        self.to_resend = self.to_resend.saturating_add(seg.len);
        if let Some(s) = self.segs.get_mut(i) {
            s.flags = (s.flags & !RETRANS) | LOST;
        }
        self.marked += 1;
        if seg.start.lt(self.resend_hint) {
            self.resend_hint = seg.start;
        }
        seg.len
    }

    /// Mark the first unacknowledged segment lost (fast retransmit without SACK, RFC
    /// 5681 §3.2; a NewReno partial ACK, RFC 6582 §3.2 step 5). Returns the bytes
    /// newly marked.
    pub(crate) fn mark_first_lost(&mut self) -> u32 {
        if self.segs.front().is_some_and(|s| s.lost()) {
            return 0; // already waiting for, or in, its retransmission
        }
        self.set_lost(0)
    }

    /// RFC 6675 `IsLost` applied to the whole scoreboard: every unSACKed record with
    /// `DupThresh` SACKed records, or more than `(DupThresh − 1) × smss` SACKed bytes,
    /// above it is marked lost. Returns the bytes newly marked.
    pub(crate) fn mark_lost_by_sacks(&mut self, smss: u32) -> u32 {
        let Some(high) = self.high_sacked else {
            return 0;
        };
        // Walk down from the highest SACKed record to where IsLost becomes true.
        let mut i = self.index_after(high.sub(1));
        let mut count = 0u32;
        let mut bytes = 0u32;
        let limit = (DUP_THRESH - 1).saturating_mul(smss);
        let boundary = loop {
            let Some(seg) = self.segs.get(i) else {
                return 0;
            };
            if seg.start.lt(self.mark_hint) {
                // Everything below the hint was settled before.
                break None;
            }
            if seg.sacked() {
                count += 1;
                bytes = bytes.saturating_add(seg.len);
                if count >= DUP_THRESH || bytes > limit {
                    break Some(seg.start);
                }
            }
            if i == 0 {
                break None;
            }
            i -= 1;
        };
        let Some(boundary) = boundary else {
            return 0;
        };
        let mut newly = 0;
        let mut j = self.index_after(self.mark_hint);
        while let Some(seg) = self.segs.get(j).copied() {
            if !seg.end().le(boundary) {
                break;
            }
            if !seg.sacked() && !seg.lost() {
                newly += self.set_lost(j);
            }
            j += 1;
        }
        self.mark_hint = self.mark_hint.max(boundary);
        newly
    }

    /// RACK's loss detection (RFC 8985 §6.2 step 5, `RACK_detect_loss`): every
    /// unacknowledged segment sent before the RACK segment `(rack_xmit, rack_end)` and
    /// outstanding for longer than `window` (RACK.rtt + RACK.reo_wnd) is lost. Returns
    /// the bytes newly marked and, if some segments were sent before the RACK segment
    /// but are not overdue yet, how long until the last of them would be (the reorder
    /// timer).
    ///
    /// Segments never retransmitted were sent in sequence order, so they are checked
    /// from a cursor that stops at the first one not yet overdue; retransmissions are
    /// checked in the order they were sent.
    pub(crate) fn rack_mark_lost(
        &mut self,
        rack_xmit: Instant,
        rack_end: SeqNum,
        window: core::time::Duration,
        now: Instant,
    ) -> (u32, Option<core::time::Duration>) {
        let mut newly = 0;
        let mut wait: Option<core::time::Duration> = None;
        let deadline_of = |xmit: Instant| xmit + window;
        // Originals, in sequence (= sending) order.
        let mut i = self.index_after(self.rack_cursor);
        while let Some(seg) = self.segs.get(i).copied() {
            if seg.sacked() || seg.lost() || seg.ever_retransmitted() {
                // Settled here; a retransmitted one is checked with the retransmissions.
                self.rack_cursor = seg.end();
                i += 1;
                continue;
            }
            if !sent_after(rack_xmit, rack_end, seg.xmit, seg.end()) {
                break;
            }
            if deadline_of(seg.xmit) <= now {
                newly += self.set_lost(i);
                self.rack_cursor = seg.end();
                i += 1;
                continue;
            }
            // Not overdue yet; those after it were sent later still. The last segment
            // sent before the RACK segment is due at most `window` after it.
            wait = Some(deadline_of(rack_xmit).saturating_since(now));
            break;
        }
        // Retransmissions, in the order they went out.
        while let Some(&(start, at)) = self.rexmits.front() {
            let Some(idx) = self.find(start) else {
                self.rexmits.pop_front();
                continue;
            };
            let seg = self.segs[idx];
            if seg.xmit != at || seg.sacked() || seg.flags & RETRANS == 0 {
                self.rexmits.pop_front(); // superseded, delivered or already lost
                continue;
            }
            if !sent_after(rack_xmit, rack_end, seg.xmit, seg.end()) {
                break;
            }
            if deadline_of(seg.xmit) <= now {
                newly += self.set_lost(idx);
                self.rexmits.pop_front();
                continue;
            }
            let w = deadline_of(rack_xmit).saturating_since(now);
            wait = Some(wait.map_or(w, |x| x.max(w)));
            break;
        }
        (newly, wait)
    }

    /// RFC 6675 §5.1 / RFC 8985 §6.3: the retransmission timer expired. Every segment
    /// not SACKed is lost. If the first one was SACKed the receiver has discarded data
    /// it had SACKed ("reneging", RFC 2018 §8): SACK information is forgotten first.
    pub(crate) fn mark_all_lost(&mut self) -> u32 {
        if self.segs.front().is_some_and(|s| s.sacked()) {
            for s in self.segs.iter_mut() {
                s.flags &= !SACKED;
            }
            self.sacked = 0;
            self.high_sacked = None;
        }
        let mut lost = 0u32;
        for s in self.segs.iter_mut() {
            if s.sacked() {
                continue;
            }
            if !s.needs_resend() {
                self.marked += 1;
            }
            s.flags = (s.flags & (EVER_RETRANS | FIN)) | LOST;
            lost = lost.saturating_add(s.len);
        }
        self.lost = lost;
        self.to_resend = lost;
        self.retrans = 0;
        self.dupack_bytes = 0;
        self.rexmits.clear();
        let first = self.segs.front().map(|s| s.start);
        if let Some(first) = first {
            self.resend_hint = first;
            self.rack_cursor = first;
            self.mark_hint = first;
            self.rule3_hint = first;
        }
        lost
    }

    /// NextSeg rule 1 (RFC 6675 §4): the first lost segment not retransmitted since.
    pub(crate) fn next_to_resend(&mut self) -> Option<TxSeg> {
        if self.to_resend == 0 {
            return None;
        }
        let mut i = self.index_after(self.resend_hint);
        while let Some(seg) = self.segs.get(i) {
            if seg.needs_resend() {
                return Some(*seg);
            }
            self.resend_hint = seg.end();
            i += 1;
        }
        None
    }

    /// NextSeg rule 3 (RFC 6675 §4): an unSACKed segment below the highest SACK that
    /// has not been retransmitted in this recovery (`since` is when it began).
    pub(crate) fn next_unsacked_below_high(&mut self, since: Instant) -> Option<TxSeg> {
        let high = self.high_sacked?;
        let mut i = self.index_after(self.rule3_hint);
        while let Some(seg) = self.segs.get(i) {
            if !seg.end().le(high) {
                return None;
            }
            let resent = seg.ever_retransmitted() && seg.xmit >= since;
            if !seg.sacked() && !resent && !seg.lost() {
                return Some(*seg);
            }
            self.rule3_hint = seg.end();
            i += 1;
        }
        None
    }

    /// NextSeg rule 4 (RFC 6675 §4): the highest unSACKed segment, for the one rescue
    /// retransmission of a recovery.
    pub(crate) fn highest_unsacked(&self) -> Option<TxSeg> {
        self.segs.iter().rev().find(|s| !s.sacked()).copied()
    }

    /// The segment starting at `start` was retransmitted at `now`.
    pub(crate) fn on_retransmit(&mut self, start: SeqNum, now: Instant) {
        let Some(i) = self.find(start) else {
            return;
        };
        let seg = self.segs[i];
        if seg.sacked() {
            return;
        }
        if seg.needs_resend() {
            self.to_resend = self.to_resend.saturating_sub(seg.len);
        }
        if seg.flags & RETRANS == 0 {
            self.retrans = self.retrans.saturating_add(seg.len);
        }
        if let Some(s) = self.segs.get_mut(i) {
            s.flags |= RETRANS | EVER_RETRANS;
            s.xmit = now;
        }
        self.rexmits.push_back((start, now));
        if seg.end().gt(self.rule3_hint) && seg.start == self.rule3_hint {
            self.rule3_hint = seg.end();
        }
    }

    /// Check the counters against the records (tests and debug builds).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        let (mut sacked, mut lost, mut retrans, mut resend) = (0, 0, 0, 0);
        for (k, s) in self.segs.iter().enumerate() {
            if k > 0 {
                assert_eq!(self.segs[k - 1].end(), s.start, "records are contiguous");
            }
            if s.sacked() {
                sacked += s.len;
                assert_eq!(s.flags & (LOST | RETRANS), 0);
            } else {
                if s.lost() {
                    lost += s.len;
                }
                if s.flags & RETRANS != 0 {
                    retrans += s.len;
                }
                if s.needs_resend() {
                    resend += s.len;
                }
            }
        }
        assert_eq!(
            (sacked, lost, retrans, resend),
            (self.sacked, self.lost, self.retrans, self.to_resend)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    const MSS: u32 = 1000;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// `n` segments of MSS starting at 0, sent 1 ms apart.
    fn board(n: u32) -> Scoreboard {
        let mut b = Scoreboard::new(SeqNum(0));
        for k in 0..n {
            b.push(SeqNum(k * MSS), MSS, false, t(u64::from(k)));
        }
        b
    }

    fn sack(b: &mut Scoreboard, l: u32, r: u32) -> Update {
        let mut u = Update::new(b);
        b.sack(SeqNum(l), SeqNum(r), &mut u);
        b.check();
        u
    }

    #[test]
    fn a_fully_acknowledged_board_has_nothing_for_rack_to_mark() {
        let mut b = board(4);
        assert!(!b.nothing_to_mark());
        // A retransmission is queued for RACK to check, then everything is acknowledged.
        b.mark_all_lost();
        let first = b.next_to_resend().unwrap();
        b.on_retransmit(first.start, t(20));
        let mut u = Update::new(&b);
        b.ack(SeqNum(4 * MSS), MSS, &mut u);
        b.check();
        // The ACK dropped the retransmission's record too: `rack_detect` may skip the
        // scan, which would find nothing lost and nothing to wait for.
        assert!(b.nothing_to_mark());
        let window = Duration::from_millis(5);
        assert_eq!(
            b.rack_mark_lost(t(20), SeqNum(4 * MSS), window, t(100)),
            (0, None)
        );
        assert!(b.nothing_to_mark());
    }

    #[test]
    fn pipe_follows_sacks_losses_and_retransmissions() {
        let mut b = board(10);
        assert_eq!(b.pipe(10 * MSS), 10 * MSS);
        let u = sack(&mut b, 2 * MSS, 5 * MSS);
        assert_eq!(u.sacked, 3 * MSS);
        assert_eq!(b.pipe(10 * MSS), 7 * MSS);
        // Three segments SACKed above the first two: both are lost (IsLost).
        assert_eq!(b.mark_lost_by_sacks(MSS), 2 * MSS);
        b.check();
        assert_eq!(b.pipe(10 * MSS), 5 * MSS);
        let first = b.next_to_resend().unwrap();
        assert_eq!(first.start, SeqNum(0));
        b.on_retransmit(first.start, t(20));
        b.check();
        assert_eq!(b.pipe(10 * MSS), 6 * MSS, "a retransmission is in flight");
        assert_eq!(b.next_to_resend().unwrap().start, SeqNum(MSS));
        // The cumulative ACK covers the retransmitted segment.
        let mut u = Update::new(&b);
        b.ack(SeqNum(MSS), MSS, &mut u);
        b.check();
        assert_eq!(u.newest.map(|d| d.retransmitted), Some(true));
        assert_eq!(b.pipe(9 * MSS), 5 * MSS);
    }

    #[test]
    fn is_lost_needs_dupthresh_segments_or_bytes_above() {
        let mut b = board(10);
        sack(&mut b, 3 * MSS, 5 * MSS);
        assert_eq!(b.mark_lost_by_sacks(MSS), 0, "two SACKed segments: not yet");
        sack(&mut b, 6 * MSS, 7 * MSS);
        // Three SACKed segments above 0..3 and above 5: records 0, 1, 2 are lost, and
        // record 5 has only one SACKed segment above it.
        assert_eq!(b.mark_lost_by_sacks(MSS), 3 * MSS);
        assert_eq!(b.lost_bytes(), 3 * MSS);
        // Small segments: more than (DupThresh - 1) × SMSS bytes also counts.
        let mut b = Scoreboard::new(SeqNum(0));
        b.push(SeqNum(0), 100, false, t(0));
        b.push(SeqNum(100), 2500, false, t(0));
        sack(&mut b, 100, 2600);
        assert_eq!(b.mark_lost_by_sacks(MSS), 100);
    }

    #[test]
    fn partial_blocks_split_records_and_fin_stays_last() {
        let mut b = Scoreboard::new(SeqNum(0));
        b.push(SeqNum(0), 1000, false, t(0));
        b.push(SeqNum(1000), 501, true, t(0)); // 500 bytes and the FIN
        sack(&mut b, 1200, 1400);
        assert_eq!(b.len(), 4);
        assert!(b.last().unwrap().fin());
        assert_eq!(b.sacked_bytes(), 200);
        let mut u = Update::new(&b);
        b.ack(SeqNum(1100), MSS, &mut u);
        b.check();
        assert_eq!(b.first().unwrap().start, SeqNum(1100));
        assert_eq!(b.first().unwrap().len, 100);
    }

    #[test]
    fn rack_marks_segments_sent_before_the_delivered_one_once_overdue() {
        let mut b = board(10); // sent at 0..9 ms
                               // Segment 5 (sent at 5 ms) is SACKed at 100 ms; RACK.rtt = 95 ms.
        let u = sack(&mut b, 5 * MSS, 6 * MSS);
        let newest = u.newest.unwrap();
        assert_eq!(newest.xmit, t(5));
        // With a reordering window of 2 ms: segments sent at 0..=3 ms are overdue at
        // 100 ms (deadline xmit + 97), segment 4 (101 ms) is not yet.
        let win = Duration::from_millis(97);
        let (lost, wait) = b.rack_mark_lost(newest.xmit, newest.end, win, t(100));
        b.check();
        assert_eq!(lost, 4 * MSS);
        assert_eq!(wait, Some(Duration::from_millis(2)));
        let (lost, wait) = b.rack_mark_lost(newest.xmit, newest.end, win, t(102));
        assert_eq!((lost, wait), (MSS, None));
        b.check();
        // Segments 6.. were sent after the RACK segment: never marked by it.
        assert_eq!(b.lost_bytes(), 5 * MSS);
    }

    #[test]
    fn rack_detects_a_lost_retransmission() {
        let mut b = board(6);
        sack(&mut b, MSS, 4 * MSS);
        assert_eq!(b.mark_lost_by_sacks(MSS), MSS);
        b.on_retransmit(SeqNum(0), t(50));
        b.push(SeqNum(6 * MSS), MSS, false, t(60));
        // The new segment sent at 60 ms is SACKed: the retransmission (50 ms) is
        // overdue once RACK.rtt + reo_wnd have passed.
        let u = sack(&mut b, 6 * MSS, 7 * MSS);
        let n = u.newest.unwrap();
        let (lost, _) = b.rack_mark_lost(n.xmit, n.end, Duration::from_millis(40), t(100));
        b.check();
        assert_eq!(lost, MSS + 2 * MSS, "the retransmission and segments 4, 5");
        assert_eq!(b.next_to_resend().unwrap().start, SeqNum(0));
    }

    #[test]
    fn timeout_marks_everything_unsacked_and_reneging_forgets_sacks() {
        let mut b = board(5);
        sack(&mut b, 2 * MSS, 3 * MSS);
        assert_eq!(b.mark_all_lost(), 4 * MSS);
        b.check();
        assert_eq!(b.pipe(5 * MSS), 0);
        let mut b = board(5);
        sack(&mut b, 0, MSS);
        // The cumulative ACK never passed a SACKed segment: reneging.
        assert_eq!(b.mark_all_lost(), 5 * MSS);
        b.check();
        assert_eq!(b.sacked_bytes(), 0);
    }

    #[test]
    fn reordering_is_seen_when_an_original_is_delivered_below_a_sack() {
        let mut b = board(5);
        let u = sack(&mut b, 3 * MSS, 4 * MSS);
        assert!(!u.reordered);
        let mut u = Update::new(&b);
        b.ack(SeqNum(3 * MSS), MSS, &mut u);
        assert!(u.reordered, "segments 0..3 arrived after segment 3");
    }

    #[test]
    fn duplicate_acks_count_as_delivered_without_sack() {
        let mut b = board(10);
        for _ in 0..3 {
            b.on_dupack(MSS, 10 * MSS);
        }
        assert_eq!(b.pipe(10 * MSS), 7 * MSS);
        assert_eq!(b.mark_first_lost(), MSS);
        assert_eq!(b.pipe(10 * MSS), 6 * MSS);
        b.on_retransmit(SeqNum(0), t(30));
        // A partial ACK of four segments: three of them were counted by dupacks.
        let mut u = Update::new(&b);
        b.ack(SeqNum(4 * MSS), MSS, &mut u);
        assert_eq!(b.sacked_bytes(), 0);
        assert_eq!(b.pipe(6 * MSS), 6 * MSS);
    }
}
