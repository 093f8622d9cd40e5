//! One structure for all the timers of an endpoint: retransmission (RFC 9293 §3.8.1,
//! RFC 6298 §5), delayed ACK (§3.8.6.3), zero-window probe (§3.8.6.1), keep-alive
//! (§3.8.4), user timeout (§3.10.8) and TIME-WAIT (§3.6, 2·MSL).
//!
//! A binary min-heap ordered by deadline, so the cost of timers does not grow with the
//! number of connections on any per-poll path (DESIGN.md): [`TimerQueue::schedule`]
//! and [`TimerQueue::pop_due`] are O(log n), [`TimerQueue::next_deadline`] is O(1).
//!
//! **Lazy deletion — the caller's contract.** Entries are never cancelled or moved;
//! the only way out of the queue is [`TimerQueue::pop_due`]. To re-arm a timer, the
//! caller records the new deadline in its own state (e.g. the connection's "RTO fires
//! at" field) and schedules a new entry; to cancel one, it clears that field. When an
//! entry pops, the caller checks it against its own state and ignores it unless it is
//! still current (the key names the timer, the popped instant must equal the deadline
//! the owner still wants, and the owner must still exist). A stale entry costs one pop.
//! Consequently [`TimerQueue::next_deadline`] may be earlier than any live timer: a
//! spurious wake-up is harmless, a missed one is not.
//!
//! Entries with equal deadlines pop in the order they were scheduled.

use crate::Instant;
use std::collections::BinaryHeap;

/// A scheduled entry. Ordered so that the max-heap yields the earliest deadline and,
/// among equal deadlines, the earliest scheduled.
#[derive(Debug, Clone, Copy)]
struct Entry<K> {
    at: Instant,
    seq: u64,
    key: K,
}

impl<K> PartialEq for Entry<K> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}

impl<K> Eq for Entry<K> {}

impl<K> PartialOrd for Entry<K> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Entry<K> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        // Reversed: the smallest (at, seq) is the heap's maximum.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Deadlines with keys, earliest first, with lazy deletion (see the module docs).
#[derive(Debug, Clone)]
pub struct TimerQueue<K> {
    heap: BinaryHeap<Entry<K>>,
    /// Sequence number of the next scheduled entry, to break ties first-in first-out.
    next_seq: u64,
}

impl<K: Copy + Ord> TimerQueue<K> {
    /// An empty queue (allocates nothing).
    pub fn new() -> Self {
        TimerQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// Adds an entry that becomes due at `at`. Entries already scheduled for the same
    /// key stay in the queue (lazy deletion): the caller ignores them when they pop.
    pub fn schedule(&mut self, at: Instant, key: K) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.heap.push(Entry { at, seq, key });
    }

    /// The earliest deadline in the queue, stale entries included.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.at)
    }

    /// Removes and returns the earliest entry if it is due (`at <= now`). Call it in a
    /// loop until it returns `None` to handle everything due; check each entry is still
    /// current before acting on it.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, K)> {
        if self.heap.peek()?.at > now {
            return None;
        }
        let e = self.heap.pop()?;
        // Give memory back after a burst (e.g. many connections closed at once).
        let cap = self.heap.capacity();
        if cap > 64 && self.heap.len() < cap / 4 {
            self.heap.shrink_to(cap / 2);
        }
        Some((e.at, e.key))
    }

    /// Entries in the queue, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether the queue holds no entries.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

impl<K: Copy + Ord> Default for TimerQueue<K> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::TimerQueue;
    use crate::Instant;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn empty_queue_has_no_deadline() {
        let mut q: TimerQueue<u32> = TimerQueue::default();
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        assert_eq!(q.next_deadline(), None);
        assert_eq!(q.pop_due(Instant::FAR_FUTURE), None);
    }

    #[test]
    fn entries_pop_in_deadline_order() {
        let mut q = TimerQueue::new();
        for (t, k) in [(30, 'c'), (10, 'a'), (50, 'e'), (20, 'b'), (40, 'd')] {
            q.schedule(ms(t), k);
        }
        assert_eq!(q.len(), 5);
        assert_eq!(q.next_deadline(), Some(ms(10)));
        let mut got = vec![];
        while let Some((at, k)) = q.pop_due(Instant::FAR_FUTURE) {
            got.push((at, k));
        }
        assert_eq!(
            got,
            vec![
                (ms(10), 'a'),
                (ms(20), 'b'),
                (ms(30), 'c'),
                (ms(40), 'd'),
                (ms(50), 'e')
            ]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn ties_pop_in_scheduling_order() {
        let mut q = TimerQueue::new();
        q.schedule(ms(5), 3);
        q.schedule(ms(5), 1);
        q.schedule(ms(5), 2);
        q.schedule(ms(1), 9);
        q.schedule(ms(5), 1); // a duplicate entry is kept (lazy deletion)
        let keys: Vec<u32> = core::iter::from_fn(|| q.pop_due(ms(5)).map(|(_, k)| k)).collect();
        assert_eq!(keys, vec![9, 3, 1, 2, 1]);
    }

    #[test]
    fn pop_due_respects_now() {
        let mut q = TimerQueue::new();
        q.schedule(ms(100), 1u8);
        q.schedule(ms(200), 2u8);
        assert_eq!(q.pop_due(ms(99)), None);
        assert_eq!(q.pop_due(ms(100)), Some((ms(100), 1)));
        assert_eq!(q.pop_due(ms(100)), None);
        assert_eq!(q.next_deadline(), Some(ms(200)));
        assert_eq!(q.pop_due(ms(250)), Some((ms(200), 2)));
        assert_eq!(q.pop_due(ms(250)), None);
    }

    #[test]
    fn rescheduling_leaves_stale_entries_for_the_caller_to_skip() {
        // The owner's idea of the current deadline, as a connection would keep it.
        let mut current = Some(ms(300));
        let mut q = TimerQueue::new();
        q.schedule(ms(300), 7u8);
        current = current.map(|_| ms(100)); // re-armed earlier
        q.schedule(ms(100), 7u8);
        let mut fired = vec![];
        while let Some((at, k)) = q.pop_due(ms(1000)) {
            if current == Some(at) {
                fired.push((at, k));
                current = None;
            }
        }
        assert_eq!(fired, vec![(ms(100), 7)]);
    }

    #[test]
    fn many_entries_stay_ordered_and_memory_is_returned() {
        let mut q = TimerQueue::new();
        // A deterministic scramble of 0..1000.
        for i in 0..1000u64 {
            q.schedule(Instant::from_nanos((i * 7919) % 1000), i);
        }
        let mut last = Instant::ZERO;
        let mut n = 0;
        while let Some((at, _)) = q.pop_due(Instant::FAR_FUTURE) {
            assert!(at >= last);
            last = at;
            n += 1;
        }
        assert_eq!(n, 1000);
        assert!(q.heap.capacity() <= 64);
    }
}
