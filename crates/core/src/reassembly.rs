//! The receive buffer: in-order bytes waiting for the application, plus segments that
//! arrived out of order (RFC 9293 §3.10.7.4, "seventh, process the segment text", and
//! SHLD-31 in the same section's first step: segments with higher beginning sequence
//! numbers should be held for later processing; the window itself is §3.8.6).
//!
//! Positions are byte offsets relative to RCV.NXT, the next byte expected in order. The
//! connection trims each segment to start at or after RCV.NXT (bytes before it are
//! duplicates) and calls [`ReceiveBuffer::insert`] with the remaining offset; the return
//! value says how far RCV.NXT advances. Bytes the application has not read yet occupy
//! the window, so the window offered to the peer (RCV.WND) is
//! [`ReceiveBuffer::window`] = capacity − readable.
//!
//! Layout: one ring of at most `capacity` bytes holding the readable bytes followed by
//! the window, and a sorted deque of the byte ranges received beyond the first hole,
//! kept in stream coordinates so that reading does not shift them. Ranges are merged on every insert; at most [`MAX_OUT_OF_ORDER`] (or the number
//! given to [`ReceiveBuffer::insert_limited`]) are kept, and
//! a segment that would need one more is dropped (the peer retransmits it; the
//! in-order part of a segment is never dropped). The first copy of a byte wins: later
//! overlapping segments never overwrite it (RFC 9293 §3.10.7.4 leaves this open; this is
//! the choice that makes overlap attacks harmless to already-accepted data).
//!
//! Staging: the endpoint verifies a segment's checksum before the connection sees it
//! (MUST-3). For the next data in order, it has [`ReceiveBuffer::stage`] copy the
//! payload into the window while summing it, one pass instead of a sum and then a copy;
//! the bytes stay unreadable until [`ReceiveBuffer::append_staged`] is handed the
//! token, and a token that no longer describes the buffer is ignored (the data is then
//! copied as usual). Bytes staged for a segment that is then dropped are never read:
//! they lie beyond the readable bytes, outside every held range.
//!
//! Memory: nothing is allocated until bytes are accepted; the ring grows by doubling up
//! to `capacity`. When the buffer holds nothing it keeps the ring until the owner calls
//! [`ReceiveBuffer::release_if_empty`] (the connection does so a moment later, if it is
//! still empty), so that a bulk receiver draining and refilling it many times a second
//! does not pay for an allocation, page faults and a free each time, while an idle
//! connection still costs only this struct (DESIGN.md: "buffers allocated when first
//! needed and released when drained").

use std::collections::VecDeque;

use crate::copy::copy;
use synack_wire::checksum;

/// Held out-of-order ranges (see `ReceiveBuffer::ooo`).
type Ranges = VecDeque<(usize, usize)>;

/// What an unallocated range list reads as.
static NO_RANGES: Ranges = VecDeque::new();

/// The most out-of-order ranges held at once by default (`Config::max_out_of_order`;
/// 16 bytes each, so at most 16 KiB).
///
/// A window of 16 MiB holds over 11,000 full-sized segments; at 5% random loss about
/// 600 of them are holes, and a sender in slow start or after a timeout may have more
/// in flight. Too small a limit is costly: every segment that needs a new range is
/// dropped, the peer's SACK scoreboard never sees it, and a Linux sender falls back to
/// timeouts (a 100 MB upload through 5% loss stalled for minutes with 32 ranges).
/// Per-packet work stays logarithmic in the ranges held (binary searches), except
/// inserting a range in the middle of the list, a move of at most half this many
/// entries. Filling the first hole and reading the application's data cost O(1) in the
/// ranges held: the list is a deque in stream coordinates, which reads do not shift.
pub const MAX_OUT_OF_ORDER: usize = 1024;

/// Smallest ring allocated, unless the capacity is smaller.
const MIN_ALLOC: usize = 256;

/// Bytes read while ranges are held after which the ranges are rebased to zero. Small
/// in tests, so that the randomized tests rebase often.
const REBASE_AT: usize = if cfg!(test) { 64 } else { 1 << 30 };

/// Stream position `pos` as an index into a ring of `alloc > 0` bytes. The ring doubles
/// as it grows, so its size is a power of two unless the capacity capped it: then a
/// mask, where `%` would divide on every segment received and every read.
#[inline]
fn ring_index(pos: usize, alloc: usize) -> usize {
    if alloc.is_power_of_two() {
        pos & (alloc - 1)
    } else {
        pos % alloc
    }
}

/// Where [`ReceiveBuffer::stage`] copied a segment's data: the ring's address, the
/// stream position the data starts at and its length. Compared, never dereferenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staged {
    ring: usize,
    pos: usize,
    len: usize,
}

/// The receive buffer of one connection.
#[derive(Clone)]
pub struct ReceiveBuffer {
    /// The ring; its length is the current allocation (0 when nothing is held).
    ring: Box<[u8]>,
    /// Bytes dropped from the front (read or discarded) since the ring was last laid
    /// out (allocated, grown or rebased): the first unread byte is at ring index
    /// `head % ring.len()`. 0 when `ring` is empty.
    head: usize,
    /// In-order bytes waiting for the application, starting at `head`.
    readable: usize,
    /// Out-of-order ranges `[start, end)` in stream coordinates: `head` plus the offset
    /// from the first unread byte. Neither advancing RCV.NXT nor reading shifts them.
    /// As offsets from the first unread byte they are sorted, disjoint, not touching
    /// each other, every `start > readable`, every `end <= capacity`.
    /// Boxed, allocated with the first hole: a connection that never sees one (and
    /// every idle one) carries a pointer, not the deque.
    ooo: Option<Box<Ranges>>,
    /// The most bytes (readable plus out-of-order span) held.
    capacity: usize,
}

impl Default for ReceiveBuffer {
    /// An empty buffer of capacity zero.
    fn default() -> Self {
        Self::new(0)
    }
}

impl ReceiveBuffer {
    /// An empty buffer with room for `capacity` bytes. Allocates nothing.
    pub fn new(capacity: usize) -> Self {
        ReceiveBuffer {
            ring: Box::default(),
            head: 0,
            readable: 0,
            ooo: None,
            capacity,
        }
    }

    /// Whether [`ReceiveBuffer::insert_limited`] with this `max_ranges` would drop
    /// `len > 0` bytes at `offset` whole because the out-of-order range limit is reached.
    pub fn out_of_order_full(&self, offset: usize, len: usize, max_ranges: usize) -> bool {
        if offset == 0 || len == 0 || offset >= self.window() {
            return false;
        }
        let start = self.readable + offset;
        let end = start.saturating_add(len);
        let (first, last) = self.touching(start, end);
        first == last && self.ranges().len() >= max_ranges.max(1)
    }

    /// Bytes past RCV.NXT that fit the ring already allocated (no allocation needed).
    pub fn allocated_room(&self) -> usize {
        self.ring
            .len()
            .saturating_sub(self.readable)
            .min(self.window())
    }

    /// The most bytes this buffer holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Let the buffer hold up to `capacity` bytes from now on (receive-buffer
    /// auto-tuning). It only grows: a smaller value is ignored, since the window
    /// already offered must stay valid (RFC 9293 §3.8.6). Allocates nothing.
    pub fn set_capacity(&mut self, capacity: usize) {
        if capacity > self.capacity {
            self.capacity = capacity;
        }
    }

    /// Contiguous in-order bytes waiting for the application.
    pub fn readable(&self) -> usize {
        self.readable
    }

    /// How far past RCV.NXT data may be accepted: `capacity - readable`.
    pub fn window(&self) -> usize {
        self.capacity.saturating_sub(self.readable)
    }

    /// Inserts `data` that starts `offset` bytes after RCV.NXT (offset 0 is the next
    /// byte expected). Bytes beyond the window are dropped; bytes already held are left
    /// as they are (first copy wins). Returns how many bytes became contiguous, i.e.
    /// how far RCV.NXT advances (0 for a purely out-of-order insert).
    ///
    /// An out-of-order insert that overlaps or touches no range already held, while
    /// [`MAX_OUT_OF_ORDER`] ranges are held, is dropped whole.
    pub fn insert(&mut self, offset: usize, data: &[u8]) -> usize {
        self.insert_limited(offset, data, MAX_OUT_OF_ORDER)
    }

    /// [`ReceiveBuffer::insert`] at offset 0 (data at RCV.NXT), with the same result.
    /// When no out-of-order range is held (a bulk receiver's every segment) what fits
    /// the window is appended and becomes readable, with no range to search or merge;
    /// otherwise this is `insert`. Returns how far RCV.NXT advances. Small and inlined,
    /// where `insert_limited`'s general case is long: the common case pays for none of
    /// it.
    #[inline]
    pub fn append(&mut self, data: &[u8]) -> usize {
        if !self.ranges().is_empty() {
            return self.insert(0, data);
        }
        let taken = data.len().min(self.window());
        let end = self.readable + taken;
        self.reserve(end);
        self.write_at(self.readable, &data[..taken]);
        self.readable = end;
        taken
    }

    /// Copies `data`, the next bytes in order, into the window without making them
    /// readable, and returns their Internet checksum sum (`checksum::sum_copy`, one
    /// pass) with a token saying where they went. This is the copy
    /// [`ReceiveBuffer::append`] would make, made before the segment's checksum is
    /// verified so that the verification reads the data in the same pass; the reader
    /// sees nothing until [`ReceiveBuffer::append_staged`] is given the token. `None`,
    /// with nothing copied, when the data is empty, does not fit the window, would
    /// wrap round the ring's end, or out-of-order ranges are held; and when the ring
    /// would have to grow: staging never allocates, since whether a segment may take
    /// more memory is the connection's decision (`Config::max_buffer_memory`), made
    /// after the checksum.
    pub fn stage(&mut self, data: &[u8]) -> Option<(u16, Staged)> {
        if data.is_empty()
            || data.len() > self.window()
            || self.readable + data.len() > self.ring.len()
            || !self.ranges().is_empty()
        {
            return None;
        }
        let pos = self.head + self.readable;
        let idx = ring_index(pos, self.ring.len());
        let ring = self.ring.as_ptr() as usize;
        let dst = self.ring.get_mut(idx..idx + data.len())?;
        let sum = checksum::sum_copy(data, dst);
        Some((
            sum,
            Staged {
                ring,
                pos,
                len: data.len(),
            },
        ))
    }

    /// [`ReceiveBuffer::append`] of `data`, whose bytes [`ReceiveBuffer::stage`] has
    /// already copied if `staged` is its token and still describes this buffer (the
    /// same allocation, the same position, the same length, no range held): then they
    /// only become readable. Otherwise `data` is appended as usual.
    #[inline]
    pub fn append_staged(&mut self, data: &[u8], staged: Option<Staged>) -> usize {
        if let Some(st) = staged {
            if st.len == data.len()
                && st.ring == self.ring.as_ptr() as usize
                && st.pos == self.head + self.readable
                && data.len() <= self.window()
                && self.ranges().is_empty()
            {
                self.readable += data.len();
                return data.len();
            }
        }
        self.append(data)
    }

    /// [`ReceiveBuffer::insert`] holding at most `max_ranges` out-of-order ranges (at
    /// least one) instead of [`MAX_OUT_OF_ORDER`] (`Config::max_out_of_order`).
    pub fn insert_limited(&mut self, offset: usize, data: &[u8], max_ranges: usize) -> usize {
        let window = self.window();
        if data.is_empty() || offset >= window {
            return 0;
        }
        if offset == 0 && self.ranges().is_empty() {
            return self.append(data);
        }
        // offset < window = capacity - readable, so start < capacity: no overflow.
        let start = self.readable + offset;
        let end = start + data.len().min(self.capacity - start);
        let data = &data[..end - start];

        // Which held ranges does [start, end) overlap or touch? They form a run
        // `first..last` in the sorted list.
        let (first, last) = self.touching(start, end);
        if offset > 0 && first == last && self.ranges().len() >= max_ranges.max(1) {
            return 0;
        }

        self.reserve(end);
        // Copy only into the gaps between held ranges (first copy wins).
        let mut cursor = start;
        for i in first..last {
            let (s, e) = self.held(i);
            if s > cursor {
                self.write_at(cursor, &data[cursor - start..s - start]);
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            self.write_at(cursor, &data[cursor - start..]);
        }

        // Merge [start, end) with the touched ranges.
        let mut merged = (start, end);
        if first < last {
            merged.0 = merged.0.min(self.held(first).0);
            merged.1 = merged.1.max(self.held(last - 1).1);
        }
        if offset == 0 {
            // In order: the merged run becomes readable. `first` is 0 here, since
            // every held range starts after `readable`, which is `start`: the ranges
            // leave from the front of the deque.
            if first < last {
                self.ranges_mut().drain(first..last);
            }
            let advanced = merged.1 - self.readable;
            self.readable = merged.1;
            advanced
        } else {
            let stored = (self.head + merged.0, self.head + merged.1);
            if first < last {
                let ranges = self.ranges_mut();
                ranges[first] = stored;
                ranges.drain(first + 1..last);
            } else {
                self.ranges_mut().insert(first, stored);
            }
            0
        }
    }

    /// The run `first..last` of held ranges that `[start, end)` (offsets from the first
    /// unread byte) overlaps or touches.
    fn touching(&self, start: usize, end: usize) -> (usize, usize) {
        if self.ranges().is_empty() {
            return (0, 0); // the usual case, in order: no search
        }
        let (start, end) = (self.head + start, self.head + end);
        let ranges = self.ranges();
        let first = ranges.partition_point(|&(_, e)| e < start);
        let last = ranges.partition_point(|&(s, _)| s <= end);
        (first, last)
    }

    /// The held ranges (none until the first hole).
    fn ranges(&self) -> &Ranges {
        self.ooo.as_deref().unwrap_or(&NO_RANGES)
    }

    /// The held ranges, allocated on first use.
    fn ranges_mut(&mut self) -> &mut Ranges {
        self.ooo.get_or_insert_with(Box::default)
    }

    /// Held range `i` as offsets from the first unread byte.
    fn held(&self, i: usize) -> (usize, usize) {
        let (s, e) = self.ranges()[i];
        (s - self.head, e - self.head)
    }

    /// Copies in-order bytes into `out`, drops them from the buffer (opening the window)
    /// and returns how many were copied.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.readable);
        if n == 0 {
            return 0;
        }
        let alloc = self.ring.len();
        let at = ring_index(self.head, alloc);
        let first = n.min(alloc - at);
        // Into the application's buffer, in pieces (`crate::copy`).
        copy(&mut out[..first], &self.ring[at..at + first]);
        if first < n {
            copy(&mut out[first..n], &self.ring[..n - first]);
        }
        self.advance_front(n);
        n
    }

    /// The readable bytes that lie in one piece of the ring from the front: all of them,
    /// or, when they wrap, those up to the ring's end (the rest follow once these are
    /// gone). Empty when nothing is readable.
    pub fn readable_front(&self) -> &[u8] {
        let n = self.readable;
        let alloc = self.ring.len();
        if n == 0 || alloc == 0 {
            return &[];
        }
        let at = ring_index(self.head, alloc);
        let first = n.min(alloc - at);
        self.ring.get(at..at + first).unwrap_or(&[])
    }

    /// Drops up to `n` in-order bytes without copying them; returns how many.
    pub fn discard(&mut self, n: usize) -> usize {
        let n = n.min(self.readable);
        if n > 0 {
            self.advance_front(n);
        }
        n
    }

    /// Whether any out-of-order bytes are held.
    pub fn has_out_of_order(&self) -> bool {
        !self.ranges().is_empty()
    }

    /// The out-of-order ranges held, as `(start, end)` byte offsets relative to RCV.NXT
    /// (`start > 0`, end exclusive), in ascending order. Material for SACK blocks.
    pub fn out_of_order(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let base = self.head + self.readable;
        self.ranges()
            .iter()
            .map(move |&(s, e)| (s.saturating_sub(base), e.saturating_sub(base)))
    }

    /// The first held out-of-order range that overlaps `[start, end)` (offsets relative
    /// to RCV.NXT, as [`Self::out_of_order`] gives them), found by binary search.
    pub fn out_of_order_overlapping(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let base = self.head + self.readable;
        let (s, e) = (base.saturating_add(start), base.saturating_add(end));
        let i = self.ranges().partition_point(|&(_, re)| re <= s);
        self.ranges()
            .get(i)
            .filter(|&&(rs, _)| rs < e)
            .map(|&(rs, re)| (rs - base, re - base))
    }

    /// Bytes of heap currently allocated by this buffer.
    pub fn heap_bytes(&self) -> usize {
        self.ring.len()
            + self.ooo.as_ref().map_or(0, |r| {
                core::mem::size_of::<Ranges>()
                    + r.capacity() * core::mem::size_of::<(usize, usize)>()
            })
    }

    /// Whether nothing is held but the ring is still allocated.
    pub fn holds_idle_allocation(&self) -> bool {
        self.readable == 0
            && self.ranges().is_empty()
            && (!self.ring.is_empty() || self.ooo.is_some())
    }

    /// Frees the ring (and the range list) if nothing is held; returns whether it did.
    pub fn release_if_empty(&mut self) -> bool {
        if !self.holds_idle_allocation() {
            return false;
        }
        self.ring = Box::default();
        self.ooo = None;
        self.head = 0;
        true
    }

    /// Drops `n <= readable` bytes from the front. The ring stays allocated, even when
    /// empty, until [`release_if_empty`](Self::release_if_empty).
    fn advance_front(&mut self, n: usize) {
        self.readable -= n;
        self.head += n;
        if self.readable == 0 && self.ranges().is_empty() {
            self.head = 0;
        } else if self.head > REBASE_AT {
            // Keep stream coordinates far from overflow, even on 32-bit targets: a rare
            // O(ranges) pass, once per REBASE_AT bytes read while ranges are held. The
            // ring index of every byte stays the same.
            let keep = self.head % self.ring.len();
            let shift = self.head - keep;
            for r in self.ooo.iter_mut().flat_map(|r| r.iter_mut()) {
                r.0 -= shift;
                r.1 -= shift;
            }
            self.head = keep;
        }
    }

    /// Makes the ring cover positions `[0, needed)` (`needed <= capacity`), doubling its
    /// size. The old ring is unrolled so position 0 lands at index 0.
    #[inline]
    fn reserve(&mut self, needed: usize) {
        if needed > self.ring.len() {
            self.grow(needed);
        }
    }

    /// [`Self::reserve`]'s reallocation, out of line: it runs a handful of times in a
    /// connection's life, and inlined it would weigh on every segment's path.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) {
        let old = self.ring.len();
        // A power of two (unless the capacity caps it): see `ring_index`.
        let size = old
            .saturating_mul(2)
            .max(needed)
            .max(MIN_ALLOC)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX)
            .min(self.capacity);
        let mut ring = vec![0u8; size].into_boxed_slice();
        let at = if old == 0 { 0 } else { self.head % old };
        ring[..old - at].copy_from_slice(&self.ring[at..]);
        ring[old - at..old].copy_from_slice(&self.ring[..at]);
        self.ring = ring;
        // The first unread byte is at index 0 now: stream coordinates restart there.
        let shift = self.head;
        for r in self.ooo.iter_mut().flat_map(|r| r.iter_mut()) {
            r.0 -= shift;
            r.1 -= shift;
        }
        self.head = 0;
    }

    /// Copies `data` to position `pos` (from the first unread byte); the ring must
    /// already cover `pos + data.len()`.
    fn write_at(&mut self, pos: usize, data: &[u8]) {
        let alloc = self.ring.len();
        let idx = ring_index(self.head + pos, alloc);
        let first = data.len().min(alloc - idx);
        // A segment's data, up to 64 KiB, in pieces as the application's (`crate::copy`).
        copy(&mut self.ring[idx..idx + first], &data[..first]);
        // Only a write that wraps has a second piece.
        if first < data.len() {
            copy(&mut self.ring[..data.len() - first], &data[first..]);
        }
    }
}

impl core::fmt::Debug for ReceiveBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReceiveBuffer")
            .field("readable", &self.readable)
            .field("capacity", &self.capacity)
            .field("out_of_order", &self.out_of_order().collect::<Vec<_>>())
            .field("heap_bytes", &self.heap_bytes())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{ReceiveBuffer, MAX_OUT_OF_ORDER};
    use proptest::prelude::*;

    fn read_all(b: &mut ReceiveBuffer) -> Vec<u8> {
        let mut out = vec![0; b.readable()];
        let n = b.read(&mut out);
        assert_eq!(n, out.len());
        out
    }

    fn ranges(b: &ReceiveBuffer) -> Vec<(usize, usize)> {
        b.out_of_order().collect()
    }

    /// A buffer whose ring is allocated (one append, read back), with room for more.
    fn warmed(capacity: usize) -> ReceiveBuffer {
        let mut b = ReceiveBuffer::new(capacity);
        assert_eq!(b.append(&[9; 100]), 100);
        assert_eq!(read_all(&mut b), vec![9; 100]);
        b
    }

    #[test]
    fn staged_bytes_are_unreadable_until_appended_with_their_token() {
        let mut b = warmed(4096);
        let data: Vec<u8> = (0..200u8).collect();
        let (sum, token) = b.stage(&data).expect("staged");
        assert_eq!(sum, synack_wire::checksum::sum(&data));
        assert_eq!(b.readable(), 0, "staging makes nothing readable");
        assert_eq!(b.append_staged(&data, Some(token)), 200);
        assert_eq!(read_all(&mut b), data);
    }

    #[test]
    fn a_stale_token_falls_back_to_copying() {
        let mut b = warmed(4096);
        let (_, token) = b.stage(&[1; 50]).expect("staged");
        // Other bytes arrive first: the token no longer describes where data goes.
        assert_eq!(b.append(&[2; 10]), 10);
        assert_eq!(b.append_staged(&[3; 50], Some(token)), 50);
        let mut want = vec![2; 10];
        want.extend_from_slice(&[3; 50]);
        assert_eq!(read_all(&mut b), want);
        // A token for other data (another length) is not taken either.
        let (_, token) = b.stage(&[4; 30]).expect("staged");
        assert_eq!(b.append_staged(&[5; 20], Some(token)), 20);
        assert_eq!(read_all(&mut b), vec![5; 20]);
    }

    #[test]
    fn staging_never_allocates_wraps_or_passes_a_hole() {
        let mut fresh = ReceiveBuffer::new(4096);
        assert!(fresh.stage(&[1; 10]).is_none(), "no ring yet");
        assert_eq!(fresh.heap_bytes(), 0);
        // The ring (256 bytes after `warmed`) would have to grow.
        let mut b = warmed(4096);
        assert!(b.stage(&[1; 300]).is_none());
        // Data that would wrap round the ring's end: 50 bytes left unread at ring
        // index 150, so the next byte goes at index 200 of 256.
        assert_eq!(b.append(&[1; 200]), 200);
        assert_eq!(b.read(&mut [0; 150]), 150);
        assert!(b.stage(&[2; 100]).is_none());
        assert!(b.stage(&[2; 50]).is_some());
        // A hole held.
        assert_eq!(b.insert(10, &[3; 5]), 0);
        assert!(b.stage(&[4; 10]).is_none());
        // Nothing beyond the window.
        let mut small = warmed(100);
        assert!(small.stage(&[5; 101]).is_none());
        assert!(small.stage(&[]).is_none());
    }

    #[test]
    fn new_buffer_allocates_nothing() {
        let b = ReceiveBuffer::new(65535);
        assert_eq!(b.heap_bytes(), 0);
        assert_eq!(b.window(), 65535);
        assert_eq!(b.readable(), 0);
        assert!(!b.has_out_of_order());
    }

    #[test]
    fn in_order_data_becomes_readable() {
        let mut b = ReceiveBuffer::new(100);
        assert_eq!(b.insert(0, b"hello "), 6);
        assert_eq!(b.insert(0, b"world"), 5);
        assert_eq!(b.readable(), 11);
        assert_eq!(b.window(), 89);
        assert_eq!(read_all(&mut b), b"hello world");
        assert_eq!(b.window(), 100);
    }

    #[test]
    fn append_takes_what_fits_the_window_across_the_ring_end() {
        let mut b = ReceiveBuffer::new(300);
        assert_eq!(b.append(&[1; 200]), 200);
        assert_eq!(read_all(&mut b), vec![1; 200]);
        // The ring holds 256 bytes: this append wraps round its end; the next grows it
        // to the capacity, and the window (300) cuts it.
        assert_eq!(b.append(&[2; 250]), 250);
        assert_eq!(b.append(&[3; 100]), 50);
        assert_eq!(b.window(), 0);
        assert_eq!(b.append(&[4; 10]), 0);
        let mut want = vec![2; 250];
        want.extend_from_slice(&[3; 50]);
        assert_eq!(read_all(&mut b), want);
        assert!(!b.has_out_of_order());
    }

    #[test]
    fn append_with_a_hole_held_fills_it_as_insert_does() {
        let mut b = ReceiveBuffer::new(100);
        assert_eq!(b.insert(5, b"fghij"), 0);
        // Five bytes at RCV.NXT fill the hole: the held range becomes readable too, and
        // its bytes stay the first copy's.
        assert_eq!(b.append(b"abcdeXXXXXk"), 11);
        assert!(!b.has_out_of_order());
        assert_eq!(read_all(&mut b), b"abcdefghijk");
    }

    #[test]
    fn out_of_order_then_filling_the_hole_delivers_everything() {
        let mut b = ReceiveBuffer::new(100);
        assert_eq!(b.insert(5, b"fghij"), 0);
        assert_eq!(b.readable(), 0);
        assert!(b.has_out_of_order());
        assert_eq!(ranges(&b), vec![(5, 10)]);
        assert_eq!(b.insert(0, b"abcde"), 10);
        assert!(!b.has_out_of_order());
        assert_eq!(read_all(&mut b), b"abcdefghij");
    }

    #[test]
    fn partial_fill_leaves_later_ranges_relative_to_the_new_rcv_nxt() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(10, b"KLM");
        b.insert(20, b"UV");
        assert_eq!(b.insert(0, b"abcd"), 4);
        assert_eq!(ranges(&b), vec![(6, 9), (16, 18)]);
        let mut out = [0u8; 2];
        assert_eq!(b.read(&mut out), 2);
        assert_eq!(ranges(&b), vec![(6, 9), (16, 18)]);
        assert_eq!(b.insert(0, b"efghij"), 9);
        assert_eq!(read_all(&mut b), b"cdefghijKLM");
        assert_eq!(ranges(&b), vec![(7, 9)]);
    }

    #[test]
    fn overlap_on_the_left_of_a_held_range() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(10, b"klmno");
        b.insert(7, b"HIJKL"); // 7..12 overlaps 10..15 on the left
        assert_eq!(ranges(&b), vec![(7, 15)]);
        b.insert(0, b"abcdefg");
        assert_eq!(read_all(&mut b), b"abcdefgHIJklmno");
    }

    #[test]
    fn overlap_on_the_right_of_a_held_range() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(5, b"fghij");
        b.insert(8, b"IJKLM"); // 8..13 overlaps 5..10 on the right
        assert_eq!(ranges(&b), vec![(5, 13)]);
        b.insert(0, b"abcde");
        assert_eq!(read_all(&mut b), b"abcdefghijKLM");
    }

    #[test]
    fn overlap_on_both_sides_bridges_two_ranges() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(2, b"cde");
        b.insert(8, b"ijk");
        b.insert(4, b"EFGHI"); // 4..9 overlaps 2..5 and 8..11
        assert_eq!(ranges(&b), vec![(2, 11)]);
        b.insert(0, b"ab");
        assert_eq!(read_all(&mut b), b"abcdeFGHijk");
    }

    #[test]
    fn one_segment_covering_several_ranges() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(3, b"d");
        b.insert(5, b"f");
        b.insert(7, b"h");
        assert_eq!(ranges(&b), vec![(3, 4), (5, 6), (7, 8)]);
        b.insert(2, b"CDEFGHIJ");
        assert_eq!(ranges(&b), vec![(2, 10)]);
        b.insert(0, b"ab");
        assert_eq!(read_all(&mut b), b"abCdEfGhIJ");
    }

    #[test]
    fn segment_inside_a_held_range_changes_nothing() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(2, b"cdefgh");
        assert_eq!(b.insert(4, b"XX"), 0);
        assert_eq!(ranges(&b), vec![(2, 8)]);
        b.insert(0, b"ab");
        assert_eq!(read_all(&mut b), b"abcdefgh");
    }

    #[test]
    fn adjacent_ranges_merge() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(2, b"cd");
        b.insert(6, b"gh");
        b.insert(4, b"ef"); // touches both neighbours exactly
        assert_eq!(ranges(&b), vec![(2, 8)]);
    }

    #[test]
    fn in_order_segment_overlapping_held_data_keeps_the_first_copy() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(3, b"def");
        assert_eq!(b.insert(0, b"abcDEFghi"), 9);
        assert!(!b.has_out_of_order());
        assert_eq!(read_all(&mut b), b"abcdefghi");
    }

    #[test]
    fn duplicates_are_ignored() {
        let mut b = ReceiveBuffer::new(100);
        assert_eq!(b.insert(4, b"efg"), 0);
        assert_eq!(b.insert(4, b"efg"), 0);
        assert_eq!(b.insert(4, b"EFG"), 0);
        assert_eq!(ranges(&b), vec![(4, 7)]);
        assert_eq!(b.insert(0, b"abcd"), 7);
        assert_eq!(read_all(&mut b), b"abcdefg");
    }

    #[test]
    fn zero_length_inserts_do_nothing() {
        let mut b = ReceiveBuffer::new(100);
        assert_eq!(b.insert(0, b""), 0);
        assert_eq!(b.insert(50, b""), 0);
        assert_eq!(b.heap_bytes(), 0);
        assert!(!b.has_out_of_order());
    }

    #[test]
    fn data_beyond_the_window_is_trimmed() {
        let mut b = ReceiveBuffer::new(10);
        assert_eq!(b.insert(0, b"0123456789ABCDEF"), 10);
        assert_eq!(b.window(), 0);
        assert_eq!(b.insert(0, b"x"), 0);
        assert_eq!(read_all(&mut b), b"0123456789");

        let mut b = ReceiveBuffer::new(10);
        assert_eq!(b.insert(0, b"abc"), 3);
        assert_eq!(b.insert(4, b"efghijklmn"), 0); // window is 7: keep offsets 4..7
        assert_eq!(ranges(&b), vec![(4, 7)]);
        assert_eq!(b.insert(10, b"zz"), 0); // entirely beyond
        assert_eq!(ranges(&b), vec![(4, 7)]);
    }

    #[test]
    fn offset_far_beyond_the_window_neither_allocates_nor_overflows() {
        let mut b = ReceiveBuffer::new(1 << 20);
        assert_eq!(b.insert(usize::MAX, b"abc"), 0);
        assert_eq!(b.insert(1 << 20, b"abc"), 0);
        assert_eq!(b.heap_bytes(), 0);
        b.insert(0, b"a");
        assert_eq!(b.insert(usize::MAX - 1, &[0; 10]), 0);
        assert_eq!(b.readable(), 1);
    }

    #[test]
    fn zero_capacity_accepts_nothing() {
        let mut b = ReceiveBuffer::new(0);
        assert_eq!(b.insert(0, b"abc"), 0);
        assert_eq!(b.heap_bytes(), 0);
        assert_eq!(b.window(), 0);
    }

    #[test]
    fn out_of_order_ranges_are_bounded_but_in_order_data_never_dropped() {
        let far = 2 * MAX_OUT_OF_ORDER + 100;
        let mut b = ReceiveBuffer::new(far + 100);
        for i in 0..MAX_OUT_OF_ORDER {
            assert!(!b.out_of_order_full(2 + 2 * i, 1, MAX_OUT_OF_ORDER));
            assert_eq!(b.insert(2 + 2 * i, b"x"), 0);
        }
        assert_eq!(ranges(&b).len(), MAX_OUT_OF_ORDER);
        // A new disjoint range is dropped...
        assert!(b.out_of_order_full(far, 1, MAX_OUT_OF_ORDER));
        b.insert(far, b"y");
        assert_eq!(ranges(&b).len(), MAX_OUT_OF_ORDER);
        assert!(ranges(&b).iter().all(|&(s, _)| s != far));
        // ...but one that extends an existing range is kept,
        assert!(
            !b.out_of_order_full(3, 1, MAX_OUT_OF_ORDER)
                && !b.out_of_order_full(0, 1, MAX_OUT_OF_ORDER)
        );
        b.insert(3, b"x");
        assert_eq!(ranges(&b).len(), MAX_OUT_OF_ORDER - 1);
        assert_eq!(ranges(&b)[0], (2, 5));
        // and in-order data is always accepted.
        assert_eq!(b.insert(0, b"ab"), 5);
        assert_eq!(b.insert(0, b"z"), 2); // fills offset 0, joins the next range
    }

    #[test]
    fn the_held_range_overlapping_a_segment_is_found_among_many() {
        let mut b = ReceiveBuffer::new(10_000);
        b.insert(0, b"ab");
        for i in 0..100 {
            b.insert(10 + 20 * i, &[1; 5]); // [10+20i, 15+20i) past RCV.NXT
        }
        assert_eq!(b.out_of_order_overlapping(0, 10), None);
        assert_eq!(b.out_of_order_overlapping(0, 11), Some((10, 15)));
        assert_eq!(b.out_of_order_overlapping(14, 40), Some((10, 15)));
        assert_eq!(b.out_of_order_overlapping(15, 30), None);
        assert_eq!(b.out_of_order_overlapping(1000, 1012), Some((1010, 1015)));
        assert_eq!(b.out_of_order_overlapping(5000, 6000), None);
    }

    #[test]
    fn discard_drops_unread_bytes() {
        let mut b = ReceiveBuffer::new(100);
        b.insert(0, b"abcdef");
        b.insert(10, b"k");
        assert_eq!(b.discard(4), 4);
        assert_eq!(b.readable(), 2);
        assert_eq!(ranges(&b), vec![(10, 11)]); // RCV.NXT did not move
        assert_eq!(b.discard(100), 2);
        assert_eq!(b.discard(1), 0);
        assert_eq!(b.window(), 100);
        assert!(b.heap_bytes() > 0); // the out-of-order byte is still held
    }

    #[test]
    fn a_drained_buffer_keeps_its_ring_until_released() {
        let mut b = ReceiveBuffer::new(4096);
        b.insert(0, &[1; 3000]);
        b.insert(500, &[2; 10]); // 3500..3510 from the first unread byte
        assert!(b.heap_bytes() >= 3510);
        read_all(&mut b);
        assert!(b.heap_bytes() > 0);
        assert!(!b.release_if_empty()); // the out-of-order bytes are still held
        b.insert(0, &[3; 500]);
        assert_eq!(read_all(&mut b).len(), 510);
        assert!(b.holds_idle_allocation());
        b.insert(0, b"abc");
        assert_eq!(b.discard(3), 3);
        assert!(b.release_if_empty());
        assert_eq!(b.heap_bytes(), 0);
        assert!(!b.holds_idle_allocation());
    }

    #[test]
    fn ring_wraps_and_grows_without_corrupting_data() {
        let mut b = ReceiveBuffer::new(1000);
        let stream: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut pos = 0;
        let mut got = vec![];
        let mut out = [0u8; 97];
        while got.len() < stream.len() {
            let take = (stream.len() - pos).min(300);
            pos += b.insert(0, &stream[pos..pos + take]);
            let n = b.read(&mut out);
            got.extend_from_slice(&out[..n]);
        }
        assert_eq!(got, stream);
        assert!(b.heap_bytes() <= 1000);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A piece `[start, start + len)` of the stream, in absolute stream offsets.
        Piece(usize, usize),
        Read(usize),
        Discard(usize),
    }

    fn op(stream_len: usize) -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => (0..stream_len, 0usize..120).prop_map(|(s, l)| Op::Piece(s, l)),
            // Many small pieces, to reach the bound on out-of-order ranges.
            3 => (0..stream_len, 0usize..4).prop_map(|(s, l)| Op::Piece(s, l)),
            1 => (0usize..200).prop_map(Op::Read),
            1 => (0usize..50).prop_map(Op::Discard),
        ]
    }

    /// Feeds the pieces the way a connection would: trim what precedes RCV.NXT, insert
    /// the rest at its offset from RCV.NXT, advance RCV.NXT by what insert returns.
    fn feed(b: &mut ReceiveBuffer, stream: &[u8], rcv_nxt: &mut usize, start: usize, len: usize) {
        let end = (start + len).min(stream.len());
        let start = start.max(*rcv_nxt);
        if start >= end {
            return;
        }
        *rcv_nxt += b.insert(start - *rcv_nxt, &stream[start..end]);
    }

    proptest! {
        #[test]
        fn random_pieces_reassemble_to_the_original_stream(
            (stream, ops) in proptest::collection::vec(any::<u8>(), 1..600)
                .prop_flat_map(|s| {
                    let n = s.len();
                    (Just(s), proptest::collection::vec(op(n), 0..150))
                }),
            capacity in 1usize..400,
        ) {
            let mut b = ReceiveBuffer::new(capacity);
            let mut rcv_nxt = 0usize; // absolute offset of RCV.NXT
            let mut consumed = 0usize; // absolute offset of the first unread byte
            let mut delivered = vec![];
            for op in ops {
                match op {
                    Op::Piece(s, l) => feed(&mut b, &stream, &mut rcv_nxt, s, l),
                    Op::Read(n) => {
                        let mut out = vec![0; n];
                        let got = b.read(&mut out);
                        delivered.extend_from_slice(&out[..got]);
                        consumed += got;
                    }
                    Op::Discard(n) => {
                        let got = b.discard(n);
                        delivered.extend_from_slice(&stream[consumed..consumed + got]);
                        consumed += got;
                    }
                }
                prop_assert_eq!(b.readable(), rcv_nxt - consumed);
                prop_assert_eq!(b.readable() + b.window(), capacity);
                let r = ranges(&b);
                prop_assert!(r.len() <= super::MAX_OUT_OF_ORDER);
                for w in r.windows(2) {
                    prop_assert!(w[0].1 < w[1].0);
                }
                for &(s, e) in &r {
                    prop_assert!(0 < s && s < e && e <= b.window());
                }
                prop_assert_eq!(b.has_out_of_order(), !r.is_empty());
                if r.is_empty() && b.readable() == 0 {
                    b.release_if_empty();
                    prop_assert_eq!(b.heap_bytes(), 0);
                }
                prop_assert!(b.heap_bytes() <= capacity + 64 * core::mem::size_of::<(usize, usize)>());
            }
            // Then deliver the rest in order, reading as we go.
            while consumed < stream.len() {
                let from = rcv_nxt;
                feed(&mut b, &stream, &mut rcv_nxt, from, capacity);
                let mut out = vec![0; 64];
                let got = b.read(&mut out);
                delivered.extend_from_slice(&out[..got]);
                consumed += got;
            }
            prop_assert_eq!(&delivered[..], &stream[..]);
            b.release_if_empty();
            prop_assert_eq!(b.heap_bytes(), 0);
        }

        #[test]
        fn held_ranges_match_a_byte_map_model(
            pieces in proptest::collection::vec((0usize..300, 0usize..40), 0..MAX_OUT_OF_ORDER),
            capacity in 1usize..300,
        ) {
            // Fewer inserts than the bound, so no insert is dropped for lack of room.
            let mut b = ReceiveBuffer::new(capacity);
            let mut held = vec![false; capacity];
            for (s, l) in pieces {
                let s = s.max(1); // purely out of order, RCV.NXT stays put
                let data = vec![0u8; l];
                prop_assert_eq!(b.insert(s, &data), 0);
                for h in held.iter_mut().take((s + l).min(capacity)).skip(s) {
                    *h = true;
                }
                let mut model = vec![];
                let mut i = 0;
                while i < capacity {
                    if held[i] {
                        let start = i;
                        while i < capacity && held[i] {
                            i += 1;
                        }
                        model.push((start, i));
                    } else {
                        i += 1;
                    }
                }
                prop_assert_eq!(ranges(&b), model);
            }
        }
    }
}
