//! Spare retransmission states, kept by the endpoint for reuse.
//!
//! A connection allocates its [`TxState`] (the RFC 6675 scoreboard, RACK, PRR and the
//! tail loss probe) when a segment that occupies sequence space goes out, and gives it
//! up once everything sent is acknowledged, so that an idle connection carries only a
//! pointer. Without a pool, that is a box and the scoreboard's deque allocated and
//! freed again for every burst: twice per connection opened and closed, and after every
//! pause of a request-response exchange. The pool hands the same allocations back,
//! cleared.
//!
//! Bounded in both directions, so its memory stays small whatever the number of
//! connections: at most [`MAX_SPARE`] states are kept, and a state whose scoreboard grew
//! past [`MAX_KEPT_RECORDS`] records (a bulk sender's) is freed rather than kept.

use super::recovery::TxState;
use crate::scoreboard::Scoreboard;
use crate::SeqNum;

/// The most spare states kept.
pub(crate) const MAX_SPARE: usize = 64;

/// A state is kept only if its scoreboard holds room for at most this many records.
pub(crate) const MAX_KEPT_RECORDS: usize = 64;

/// Spare [`TxState`]s (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct TxPool {
    /// Boxed because the boxes themselves are what is reused: a connection holds its
    /// state as `Option<Box<TxState>>`.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<TxState>>,
}

impl TxPool {
    /// A state for a sender whose SND.UNA is `snd_una`: a spare one cleared, or a new one.
    /// Out of line, so that `Connection::tx_state`, which calls it only when the
    /// connection has no state yet, stays small enough to inline.
    #[inline(never)]
    pub(crate) fn take(&mut self, snd_una: SeqNum) -> Box<TxState> {
        match self.spare.pop() {
            Some(mut tx) => {
                tx.recycle(snd_una);
                tx
            }
            None => Box::new(TxState::new(snd_una)),
        }
    }

    /// Keep `tx` for reuse, or free it if the pool is full or `tx` grew large.
    pub(crate) fn give(&mut self, tx: Box<TxState>) {
        if self.spare.len() < MAX_SPARE && tx.board.capacity() <= MAX_KEPT_RECORDS {
            self.spare.push(tx);
        }
    }

    /// Spare states held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.spare.len()
    }

    /// Heap bytes the spare states may hold, at most (O(1): each kept state's deques
    /// are bounded by [`MAX_KEPT_RECORDS`]).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.spare.capacity() * core::mem::size_of::<Box<TxState>>()
            + self.spare.len()
                * (core::mem::size_of::<TxState>()
                    + MAX_KEPT_RECORDS * Scoreboard::BYTES_PER_RECORD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Instant;

    fn used(tx: &mut TxState, records: u32) {
        for i in 0..records {
            tx.board
                .push(SeqNum(1000 + i * 10), 10, false, Instant::ZERO);
        }
        tx.dupacks = 3;
        tx.small_end = Some(SeqNum(5));
        tx.probe_due = true;
    }

    #[test]
    fn a_state_given_back_is_handed_out_again_cleared_with_its_allocation() {
        let mut pool = TxPool::default();
        let mut tx = pool.take(SeqNum(1000));
        used(&mut tx, 8);
        let room = tx.board.capacity();
        let at: *const TxState = &*tx;
        pool.give(tx);
        assert_eq!(pool.len(), 1);
        let tx = pool.take(SeqNum(7000));
        assert_eq!(pool.len(), 0);
        assert!(core::ptr::eq(at, &*tx), "the same box comes back");
        assert_eq!(tx.board.capacity(), room, "the deque keeps its allocation");
        assert!(tx.board.is_empty() && tx.board.nothing_to_mark());
        // Every field as a new state has it (the deques print their contents, not
        // their capacity).
        let fresh = TxState::new(SeqNum(7000));
        assert_eq!(format!("{tx:?}"), format!("{fresh:?}"));
    }

    #[test]
    fn the_pool_is_bounded_and_frees_large_scoreboards() {
        let mut pool = TxPool::default();
        let mut big = pool.take(SeqNum(0));
        used(&mut big, MAX_KEPT_RECORDS as u32 + 1);
        pool.give(big);
        assert_eq!(pool.len(), 0, "a bulk sender's scoreboard is freed");
        for _ in 0..MAX_SPARE + 5 {
            pool.give(Box::new(TxState::new(SeqNum(0))));
        }
        assert_eq!(pool.len(), MAX_SPARE);
        assert!(pool.heap_bytes() >= MAX_SPARE * core::mem::size_of::<TxState>());
    }
}
