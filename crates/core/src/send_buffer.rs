//! The send buffer: bytes the application has queued that the peer has not yet
//! acknowledged (RFC 9293 §3.3.1, the region from SND.UNA onward, and §3.10.2, SEND
//! call: "the data is … queued for output").
//!
//! The front of the buffer is always SND.UNA. Bytes `[0, SND.NXT - SND.UNA)` have been
//! sent and await acknowledgment (they stay here so they can be retransmitted, §3.8.1);
//! the bytes after that have not been sent yet. The connection decides which is which:
//! this module only stores bytes, copies them out for (re)transmission with
//! [`SendBuffer::peek`], and drops them once acknowledged with [`SendBuffer::consume`].
//!
//! Memory: a buffer allocates nothing until the first [`SendBuffer::write`] and grows as
//! a ring by doubling (never beyond its capacity). When it becomes empty it keeps its
//! allocation until the owner calls [`SendBuffer::release_if_empty`] (the connection
//! does so a moment later, if it is still empty), so that bulk transfer, which drains
//! and refills the buffer many times a second, does not pay for an allocation, page
//! faults and a free each time, while an idle connection still costs only this struct
//! (DESIGN.md: "buffers allocated when first needed and released when drained").

use crate::copy::copy;
use synack_wire::checksum::{self, Checksum};

/// Smallest allocation made by the first write (unless the capacity is smaller), so a
/// stream of tiny writes does not reallocate for every byte.
const MIN_ALLOC: usize = 256;

/// `pos` as an index into a ring of `alloc` bytes, for `pos < 2 * alloc` (a position
/// at most one lap ahead of an index): a compare and a subtraction, where `%` would
/// divide on every segment sent.
#[inline]
fn wrap(pos: usize, alloc: usize) -> usize {
    debug_assert!(pos < 2 * alloc);
    if pos >= alloc {
        pos - alloc
    } else {
        pos
    }
}

/// Copy `a` then `b` to the front of `out` (which holds both); returns their length.
#[inline]
fn copy_pieces(out: &mut [u8], a: &[u8], b: &[u8]) -> usize {
    let n = a.len() + b.len();
    copy(&mut out[..a.len()], a);
    // `b` is empty unless the bytes wrap.
    if !b.is_empty() {
        copy(&mut out[a.len()..n], b);
    }
    n
}

/// A bounded FIFO of bytes, stored as a ring that grows on demand.
#[derive(Clone, Default)]
pub struct SendBuffer {
    /// The ring; its length is the current allocation (0 when nothing is held).
    ring: Box<[u8]>,
    /// Index in `ring` of the front byte (SND.UNA). Always 0 when `ring` is empty.
    head: usize,
    /// Bytes held.
    len: usize,
    /// The most bytes this buffer will ever hold.
    capacity: usize,
}

impl SendBuffer {
    /// An empty buffer that will hold at most `capacity` bytes. Allocates nothing.
    pub fn new(capacity: usize) -> Self {
        SendBuffer {
            ring: Box::default(),
            head: 0,
            len: 0,
            capacity,
        }
    }

    /// The most bytes this buffer will hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Let the buffer hold up to `capacity` bytes from now on (send-buffer auto-tuning).
    /// It only grows; a smaller value is ignored. Allocates nothing.
    pub fn set_capacity(&mut self, capacity: usize) {
        if capacity > self.capacity {
            self.capacity = capacity;
        }
    }

    /// Bytes held, counted from SND.UNA: sent-but-unacknowledged plus not-yet-sent.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left: `capacity - len`.
    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.len)
    }

    /// Room left without allocating more: what the current ring has free (0 when
    /// nothing is allocated).
    pub fn allocated_free(&self) -> usize {
        self.ring.len().saturating_sub(self.len).min(self.free())
    }

    /// Appends as much of `data` as fits and returns how many bytes were taken.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        if n == 0 {
            return 0;
        }
        // `n <= free` so `len + n <= capacity`: no overflow.
        self.reserve(self.len + n);
        let alloc = self.ring.len();
        let tail = wrap(self.head + self.len, alloc);
        let first = n.min(alloc - tail);
        // The application's bytes, in pieces (`crate::copy`).
        copy(&mut self.ring[tail..tail + first], &data[..first]);
        if first < n {
            copy(&mut self.ring[..n - first], &data[first..n]);
        }
        self.len += n;
        n
    }

    /// Copies bytes starting `offset` bytes after the front (SND.UNA) into `out` and
    /// returns how many were copied: `min(out.len(), len - offset)`, or 0 if
    /// `offset >= len`. The bytes stay in the buffer.
    pub fn peek(&self, offset: usize, out: &mut [u8]) -> usize {
        let (a, b) = self.slices(offset, out.len());
        copy_pieces(out, a, b)
    }

    /// As [`peek`](Self::peek), and also the Internet checksum's sum (RFC 1071,
    /// `synack_wire::checksum::sum`) of the bytes copied: `(copied, sum)`. Bytes that
    /// lie in one piece of the ring are copied and summed in one pass
    /// (`synack_wire::checksum::sum_copy`: each piece of data is added from the
    /// registers it was loaded into for the copy); bytes that wrap are summed from the
    /// buffer, then copied.
    pub fn peek_summed(&self, offset: usize, out: &mut [u8]) -> (usize, u16) {
        let (a, b) = self.slices(offset, out.len());
        if b.is_empty() {
            let n = a.len();
            return match out.get_mut(..n) {
                Some(dst) => (n, checksum::sum_copy(a, dst)),
                None => (0, 0),
            };
        }
        // Wrapped: the second piece may start in the middle of a word.
        let sum = Checksum::new().add_bytes(a).add_bytes(b).sum();
        (copy_pieces(out, a, b), sum)
    }

    /// The bytes [`peek`](Self::peek) copies into a buffer of `max` bytes, as the two
    /// pieces of the ring they lie in (the second empty unless they wrap).
    fn slices(&self, offset: usize, max: usize) -> (&[u8], &[u8]) {
        if offset >= self.len {
            return (&[], &[]);
        }
        let n = max.min(self.len - offset);
        if n == 0 {
            return (&[], &[]);
        }
        let alloc = self.ring.len();
        // `head < alloc` and `offset < len <= alloc`, so the sum cannot overflow.
        let start = wrap(self.head + offset, alloc);
        let first = n.min(alloc - start);
        (&self.ring[start..start + first], &self.ring[..n - first])
    }

    /// Drops `n` bytes from the front because the peer acknowledged them (SND.UNA
    /// advanced by `n`). Asking for more than [`len`](Self::len) drops everything. The
    /// allocation stays until [`release_if_empty`](Self::release_if_empty).
    pub fn consume(&mut self, n: usize) {
        if n >= self.len {
            self.head = 0;
            self.len = 0;
            return;
        }
        self.head = wrap(self.head + n, self.ring.len());
        self.len -= n;
    }

    /// Bytes of heap currently allocated by this buffer.
    pub fn heap_bytes(&self) -> usize {
        self.ring.len()
    }

    /// Whether the buffer is empty but still holds an allocation.
    pub fn holds_idle_allocation(&self) -> bool {
        self.len == 0 && !self.ring.is_empty()
    }

    /// Frees the allocation if no bytes are held; returns whether it did.
    pub fn release_if_empty(&mut self) -> bool {
        if self.holds_idle_allocation() {
            self.release();
            true
        } else {
            false
        }
    }

    /// Makes the allocation at least `needed` bytes (`needed <= capacity`), doubling so
    /// bulk transfer reallocates only O(log capacity) times. The contents are moved to
    /// the start of the new ring.
    fn reserve(&mut self, needed: usize) {
        let old = self.ring.len();
        if needed <= old {
            return;
        }
        let size = old
            .saturating_mul(2)
            .max(needed)
            .max(MIN_ALLOC)
            .min(self.capacity);
        let mut ring = vec![0u8; size].into_boxed_slice();
        if self.len > 0 {
            let first = self.len.min(old - self.head);
            ring[..first].copy_from_slice(&self.ring[self.head..self.head + first]);
            ring[first..self.len].copy_from_slice(&self.ring[..self.len - first]);
        }
        self.ring = ring;
        self.head = 0;
    }

    /// Frees the allocation and forgets all bytes.
    fn release(&mut self) {
        self.ring = Box::default();
        self.head = 0;
        self.len = 0;
    }
}

impl core::fmt::Debug for SendBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SendBuffer")
            .field("len", &self.len)
            .field("capacity", &self.capacity)
            .field("heap_bytes", &self.heap_bytes())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::SendBuffer;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn peek_all(b: &SendBuffer) -> Vec<u8> {
        let mut out = vec![0; b.len()];
        assert_eq!(b.peek(0, &mut out), b.len());
        out
    }

    #[test]
    fn new_buffer_allocates_nothing() {
        let b = SendBuffer::new(1 << 20);
        assert_eq!(b.heap_bytes(), 0);
        assert!(b.is_empty());
        assert_eq!(b.free(), 1 << 20);
    }

    #[test]
    fn write_accepts_up_to_capacity_and_no_more() {
        let mut b = SendBuffer::new(10);
        assert_eq!(b.write(b"hello"), 5);
        assert_eq!(b.write(b"world!!"), 5);
        assert_eq!(b.len(), 10);
        assert_eq!(b.free(), 0);
        assert_eq!(b.write(b"x"), 0);
        assert_eq!(peek_all(&b), b"helloworld");
        assert!(b.heap_bytes() <= 10);
    }

    #[test]
    fn zero_capacity_buffer_takes_nothing_and_allocates_nothing() {
        let mut b = SendBuffer::new(0);
        assert_eq!(b.write(b"abc"), 0);
        assert_eq!(b.heap_bytes(), 0);
        assert_eq!(b.peek(0, &mut [0; 4]), 0);
        b.consume(5);
        assert!(b.is_empty());
    }

    #[test]
    fn peek_copies_across_the_ring_wrap() {
        let mut b = SendBuffer::new(8);
        assert_eq!(b.write(b"abcdefgh"), 8);
        b.consume(6);
        assert_eq!(b.write(b"ijklmn"), 6); // wraps: "gh" at the end, "ijklmn" at the start
        assert_eq!(b.heap_bytes(), 8);
        let mut out = [0u8; 8];
        assert_eq!(b.peek(0, &mut out), 8);
        assert_eq!(&out, b"ghijklmn");
        let mut out = [0u8; 3];
        assert_eq!(b.peek(1, &mut out), 3);
        assert_eq!(&out, b"hij");
        let mut out = [0u8; 10];
        assert_eq!(b.peek(5, &mut out), 3);
        assert_eq!(&out[..3], b"lmn");
    }

    proptest! {
        /// `peek_summed` copies what `peek` copies, and its sum is the Internet
        /// checksum's sum of those bytes, also when they wrap around the ring at an
        /// odd position (the second piece then starts in the middle of a word).
        #[test]
        fn peek_summed_sums_what_it_copies(
            consumed in 0usize..64,
            data in proptest::collection::vec(any::<u8>(), 1..64),
            offset in 0usize..64,
            room in 0usize..80,
        ) {
            let mut b = SendBuffer::new(64);
            b.write(&[0x55; 64]);
            b.consume(consumed);
            b.write(&data);
            let mut want = vec![0u8; room];
            let n = b.peek(offset, &mut want);
            let mut out = vec![0u8; room];
            let (copied, sum) = b.peek_summed(offset, &mut out);
            prop_assert_eq!(copied, n);
            prop_assert_eq!(&out, &want);
            prop_assert_eq!(sum, synack_wire::checksum::sum(&want[..n]));
        }
    }

    #[test]
    fn peek_at_or_past_the_end_copies_nothing() {
        let mut b = SendBuffer::new(8);
        b.write(b"abc");
        assert_eq!(b.peek(3, &mut [0; 4]), 0);
        assert_eq!(b.peek(usize::MAX, &mut [0; 4]), 0);
        assert_eq!(b.peek(0, &mut []), 0);
    }

    #[test]
    fn consume_drops_from_the_front() {
        let mut b = SendBuffer::new(16);
        b.write(b"0123456789");
        b.consume(4);
        assert_eq!(b.len(), 6);
        assert_eq!(peek_all(&b), b"456789");
        assert_eq!(b.free(), 10);
    }

    #[test]
    fn a_drained_buffer_keeps_its_allocation_until_released() {
        let mut b = SendBuffer::new(4096);
        b.write(&[7; 1000]);
        assert!(b.heap_bytes() >= 1000);
        b.consume(999);
        assert!(!b.release_if_empty());
        assert!(b.heap_bytes() > 0);
        b.consume(1);
        assert!(b.is_empty());
        assert!(b.holds_idle_allocation());
        b.write(b"again");
        assert_eq!(peek_all(&b), b"again");
        b.consume(usize::MAX);
        assert!(b.release_if_empty());
        assert_eq!(b.heap_bytes(), 0);
        assert!(!b.holds_idle_allocation());
    }

    #[test]
    fn growth_doubles_and_stops_at_capacity() {
        let mut b = SendBuffer::new(10_000);
        let mut sizes = vec![];
        for _ in 0..100 {
            b.write(&[1; 100]);
            if sizes.last() != Some(&b.heap_bytes()) {
                sizes.push(b.heap_bytes());
            }
        }
        assert_eq!(b.len(), 10_000);
        assert_eq!(sizes, vec![256, 512, 1024, 2048, 4096, 8192, 10_000]);
    }

    #[test]
    fn growth_preserves_wrapped_contents() {
        let mut b = SendBuffer::new(1000);
        let data: Vec<u8> = (0..=255).collect();
        b.write(&data); // allocation 256, full
        b.consume(200);
        b.write(&data[..100]); // wraps inside the 256-byte ring
        b.write(&data[100..200]); // forces growth while wrapped
        let mut expect: Vec<u8> = data[200..].to_vec();
        expect.extend_from_slice(&data[..200]);
        assert_eq!(peek_all(&b), expect);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(Vec<u8>),
        Consume(usize),
        Peek(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..700).prop_map(Op::Write),
            (0usize..800).prop_map(Op::Consume),
            (0usize..1200, 0usize..1200).prop_map(|(o, n)| Op::Peek(o, n)),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_bounded_vecdeque(
            capacity in 0usize..1100,
            ops in proptest::collection::vec(op(), 0..60),
        ) {
            let mut b = SendBuffer::new(capacity);
            let mut model: VecDeque<u8> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Write(data) => {
                        let room = capacity - model.len();
                        let n = b.write(&data);
                        prop_assert_eq!(n, data.len().min(room));
                        model.extend(&data[..n]);
                    }
                    Op::Consume(n) => {
                        b.consume(n);
                        let n = n.min(model.len());
                        model.drain(..n);
                    }
                    Op::Peek(offset, n) => {
                        let mut out = vec![0u8; n];
                        let got = b.peek(offset, &mut out);
                        let expect: Vec<u8> = model.iter().skip(offset).take(n).copied().collect();
                        prop_assert_eq!(&out[..got], &expect[..]);
                    }
                }
                prop_assert_eq!(b.len(), model.len());
                prop_assert_eq!(b.free(), capacity - model.len());
                prop_assert!(b.heap_bytes() <= capacity);
                prop_assert!(b.heap_bytes() >= b.len());
                if model.is_empty() {
                    b.release_if_empty();
                    prop_assert_eq!(b.heap_bytes(), 0);
                }
            }
            let all: Vec<u8> = model.iter().copied().collect();
            prop_assert_eq!(peek_all(&b), all);
        }
    }
}
