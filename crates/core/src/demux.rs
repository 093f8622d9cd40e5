//! Demultiplexing (RFC 9293 §3.9.2.1 SEGMENT ARRIVES: find the TCB for a 4-tuple): one
//! keyed hash map from a connection's 4-tuple to what holds it — a connection or a
//! TIME-WAIT record. A tuple names at most one of the two at a time, so one map (one
//! hash per arriving segment) serves both; O(1) whatever the number of connections.

use crate::FourTuple;
use core::hash::BuildHasher;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// What a 4-tuple leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    /// The connection in slab slot `index`.
    Conn(u32),
    /// The TIME-WAIT record in slab slot `index`.
    TimeWait(u32),
}

/// SipHash-1-3 keyed from the endpoint's secret, so remote peers cannot aim hash-map
/// collisions at the demultiplexer.
#[derive(Clone)]
pub(crate) struct KeyedHasher(pub(crate) u64, pub(crate) u64);

impl BuildHasher for KeyedHasher {
    type Hasher = siphasher::sip::SipHasher13;
    fn build_hasher(&self) -> Self::Hasher {
        siphasher::sip::SipHasher13::new_with_keys(self.0, self.1)
    }
}

/// The 4-tuple map of one endpoint.
pub(crate) struct Demux {
    map: HashMap<FourTuple, Holder, KeyedHasher>,
}

impl Demux {
    pub(crate) fn new(hasher: KeyedHasher) -> Self {
        Demux {
            map: HashMap::with_hasher(hasher),
        }
    }

    /// What holds `tuple`, if anything.
    pub(crate) fn get(&self, tuple: &FourTuple) -> Option<Holder> {
        self.map.get(tuple).copied()
    }

    /// Whether anything (connection or TIME-WAIT record) holds `tuple`.
    pub(crate) fn contains(&self, tuple: &FourTuple) -> bool {
        self.map.contains_key(tuple)
    }

    /// `tuple` now leads to `holder` (replacing whatever it led to).
    pub(crate) fn insert(&mut self, tuple: FourTuple, holder: Holder) {
        self.map.insert(tuple, holder);
    }

    /// Forget `tuple` if it still leads to `holder` (one hash).
    pub(crate) fn remove_if(&mut self, tuple: FourTuple, holder: Holder) {
        if let Entry::Occupied(e) = self.map.entry(tuple) {
            if *e.get() == holder {
                e.remove();
            }
        }
    }

    /// Slots allocated (for the memory estimate).
    pub(crate) fn capacity(&self) -> usize {
        self.map.capacity()
    }
}
