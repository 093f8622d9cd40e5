//! Demultiplexing (RFC 9293 §3.9.2.1 SEGMENT ARRIVES: find the TCB for a 4-tuple): a
//! keyed hash table from a connection's 4-tuple to what holds it — a connection or a
//! TIME-WAIT record. A tuple names at most one of the two at a time, so one lookup (one
//! keyed hash per arriving segment) serves both; O(1) whatever the number of
//! connections.
//!
//! The table has two generations. A tuple enters the small *young* table; when that
//! holds [`YOUNG_LIMIT`] entries, all of them move to the *old* table at once, and the
//! young one starts again. A lookup probes young, then old, with the same hash.
//!
//! Why: a new connection lands at a random place of the table (that is what the keyed
//! hash is for). With a hundred thousand connections the table is megabytes large, and
//! each short connection's insert and removal wrote to cache lines of it that were
//! cold; with one table, 100,000 idle connections made a connection cycle 13–19 %
//! slower, and emptying the table of them removed all of it. Short connections (a
//! handshake, a request, a close) now live and die in the young table, which stays in
//! cache, and never write to the old one; long-lived ones are moved once, in a batch.
//! Moving a batch is bounded work ([`YOUNG_LIMIT`] entries, once per that many
//! inserts). `crates/bench/README.md` ("With idle connections present") has the
//! measurements.
//!
//! The last tuple found is remembered beside the tables. Segments come in trains on one
//! connection (a window of data, then its ACKs), so most lookups end at that one
//! comparison and skip the keyed hash. Every change to the tables goes through
//! [`Demux`], which keeps the remembered entry equal to what the tables hold.

use crate::sip::sip;
use crate::FourTuple;
use core::cell::Cell;
use core::net::IpAddr;
use hashbrown::hash_table::{Entry, HashTable};

/// What a 4-tuple leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    /// The connection in slab slot `index`.
    Conn(u32),
    /// The TIME-WAIT record in slab slot `index`.
    TimeWait(u32),
}

/// Entries the young table holds before they all move to the old one. Small enough that
/// the young table (512 slots of 49 bytes) stays in the CPU's cache; large enough that
/// only a connection that outlives a few hundred newer ones moves (a short connection
/// is moved only if a batch move happens while it is open).
pub(crate) const YOUNG_LIMIT: usize = 256;

/// SipHash-1-3 keyed from the endpoint's secret, so remote peers cannot aim hash-table
/// collisions at the demultiplexer.
#[derive(Clone)]
pub(crate) struct KeyedHasher(pub(crate) u64, pub(crate) u64);

/// A 4-tuple packed for the tables. `FourTuple` is 64 bytes (`SocketAddr` carries IPv6
/// flow information and scope, which segments never do); this key is 40, so each map
/// entry is smaller, and it is hashed as whole 64-bit words: two for IPv4, five for
/// IPv6.
#[derive(Clone, Copy, Eq)]
struct TupleKey {
    /// IPv4: the local address in the high half of word 0, the remote one in the low
    /// half, words 1 to 3 zero. IPv6: the local address in words 0 and 1, the remote
    /// one in words 2 and 3.
    addrs: [u64; 4],
    /// The local port in bits 16 to 31, the remote port in bits 0 to 15, and bit 32 set
    /// for IPv6, so an IPv4 key never equals an IPv6 one.
    ports: u64,
}

impl PartialEq for TupleKey {
    /// Word by word, with no early exit: a key just built is still in registers, and a
    /// derived comparison spilled it and read it back with wider loads than it was
    /// written with, which stalls (store-to-load forwarding fails).
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        let mut diff = self.ports ^ other.ports;
        for (a, b) in self.addrs.iter().zip(&other.addrs) {
            diff |= a ^ b;
        }
        diff == 0
    }
}

/// Bit of `TupleKey::ports` that marks an IPv6 tuple.
const IPV6_FLAG: u64 = 1 << 32;

impl TupleKey {
    fn new(tuple: &FourTuple) -> Self {
        let ports = (u64::from(tuple.local.port()) << 16) | u64::from(tuple.remote.port());
        match (tuple.local.ip(), tuple.remote.ip()) {
            (IpAddr::V4(l), IpAddr::V4(r)) => TupleKey {
                addrs: [
                    (u64::from(l.to_bits()) << 32) | u64::from(r.to_bits()),
                    0,
                    0,
                    0,
                ],
                ports,
            },
            (l, r) => {
                let l = ipv6_bits(l);
                let r = ipv6_bits(r);
                TupleKey {
                    addrs: [(l >> 64) as u64, l as u64, (r >> 64) as u64, r as u64],
                    ports: ports | IPV6_FLAG,
                }
            }
        }
    }
}

/// An address as 128 bits (IPv4 as IPv4-mapped IPv6, for a mixed tuple).
fn ipv6_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

impl KeyedHasher {
    /// The keyed hash of a tuple key: its words, two for IPv4, five for IPv6 (equal
    /// keys have equal flags, so they hash the same words), as whole words
    /// ([`crate::sip`]): through a `Hasher`, each word went through the byte-stream
    /// buffer first.
    #[inline(always)]
    fn hash_key(&self, key: &TupleKey) -> u64 {
        let k = (self.0, self.1);
        let [a0, a1, a2, a3] = key.addrs;
        // The words as the byte stream of `write_u64`s would give them, with the last
        // block holding only the length (16 or 40 bytes).
        if key.ports & IPV6_FLAG == 0 {
            sip::<1, 3, 2>(k, &[a0, key.ports], 16 << 56)
        } else {
            sip::<1, 3, 5>(k, &[a0, a1, a2, a3, key.ports], 40 << 56)
        }
    }
}

/// The 4-tuple tables of one endpoint.
pub(crate) struct Demux {
    /// Where a tuple is entered; at most [`YOUNG_LIMIT`] entries.
    young: HashTable<(TupleKey, Holder)>,
    /// Where the young entries move when the young table is full.
    old: HashTable<(TupleKey, Holder)>,
    hasher: KeyedHasher,
    /// The last tuple found and what held it: always what the tables hold for that key.
    last: Cell<Option<(TupleKey, Holder)>>,
    /// The last key hashed and its hash: a tuple is often looked up and then entered
    /// or removed right after (a port tried then taken, a SYN then its connection).
    memo: Cell<Option<(TupleKey, u64)>>,
}

impl Demux {
    pub(crate) fn new(hasher: KeyedHasher) -> Self {
        Demux {
            young: HashTable::new(),
            old: HashTable::new(),
            hasher,
            last: Cell::new(None),
            memo: Cell::new(None),
        }
    }

    fn hash(&self, key: &TupleKey) -> u64 {
        if let Some((memo, hash)) = self.memo.get() {
            if memo == *key {
                return hash;
            }
        }
        let hash = self.hasher.hash_key(key);
        self.memo.set(Some((*key, hash)));
        hash
    }

    /// Where `key` (whose hash is `hash`) leads, young table first. Inline: two
    /// probes, cheaper than a call.
    #[inline(always)]
    fn find(&self, key: &TupleKey, hash: u64) -> Option<Holder> {
        let eq = |e: &(TupleKey, Holder)| e.0 == *key;
        // (An empty old table, the common case with few connections, is not probed.)
        self.young
            .find(hash, eq)
            .or_else(|| (!self.old.is_empty()).then(|| self.old.find(hash, eq))?)
            .map(|e| e.1)
    }

    /// What holds `tuple`, if anything.
    pub(crate) fn get(&self, tuple: &FourTuple) -> Option<Holder> {
        let key = TupleKey::new(tuple);
        if let Some((last, holder)) = self.last.get() {
            if last == key {
                return Some(holder);
            }
        }
        let found = self.find(&key, self.hash(&key));
        if let Some(holder) = found {
            self.last.set(Some((key, holder)));
        }
        found
    }

    /// Whether anything (connection or TIME-WAIT record) holds `tuple`.
    pub(crate) fn contains(&self, tuple: &FourTuple) -> bool {
        let key = TupleKey::new(tuple);
        self.find(&key, self.hash(&key)).is_some()
    }

    /// `tuple` now leads to `holder` (replacing whatever it led to, in whichever table
    /// holds it).
    pub(crate) fn insert(&mut self, tuple: FourTuple, holder: Holder) {
        let key = TupleKey::new(&tuple);
        if self.last.get().is_some_and(|(last, _)| last == key) {
            self.last.set(Some((key, holder)));
        }
        let hash = self.hash(&key);
        let eq = |e: &(TupleKey, Holder)| e.0 == key;
        // The young table first: a tuple given a new holder (a connection's TIME-WAIT
        // record) is nearly always young, and the old table, large when many
        // connections are open, is then not probed (a cache miss).
        let hasher = &self.hasher;
        match self.young.entry(hash, eq, |e| hasher.hash_key(&e.0)) {
            Entry::Occupied(mut e) => e.get_mut().1 = holder,
            Entry::Vacant(e) => {
                if let Some(o) = self.old.find_mut(hash, eq) {
                    o.1 = holder;
                    return;
                }
                e.insert((key, holder));
                self.promote_if_full();
            }
        }
    }

    /// [`Demux::insert`] of a tuple the caller has just found free (`contains` or `get`
    /// said so, and nothing was entered since): the old table is not probed.
    pub(crate) fn insert_new(&mut self, tuple: FourTuple, holder: Holder) {
        debug_assert!(!self.contains(&tuple), "insert_new of a tuple already held");
        let key = TupleKey::new(&tuple);
        let hash = self.hash(&key);
        let hasher = &self.hasher;
        self.young
            .insert_unique(hash, (key, holder), |e| hasher.hash_key(&e.0));
        self.promote_if_full();
    }

    /// Move the young entries to the old table once there are [`YOUNG_LIMIT`] of them.
    #[inline]
    fn promote_if_full(&mut self) {
        if self.young.len() >= YOUNG_LIMIT {
            self.promote();
        }
    }

    /// Move every young entry to the old table (the young one keeps its allocation).
    fn promote(&mut self) {
        let hasher = &self.hasher;
        self.old
            .reserve(self.young.len(), |e| hasher.hash_key(&e.0));
        for (key, holder) in self.young.drain() {
            self.old
                .insert_unique(hasher.hash_key(&key), (key, holder), |e| {
                    hasher.hash_key(&e.0)
                });
        }
    }

    /// Forget `tuple` if it still leads to `holder` (one hash).
    pub(crate) fn remove_if(&mut self, tuple: FourTuple, holder: Holder) {
        let key = TupleKey::new(&tuple);
        let hash = self.hash(&key);
        let removed = match remove_from(&mut self.young, hash, &key, holder) {
            Some(removed) => removed,
            None if self.old.is_empty() => false,
            None => remove_from(&mut self.old, hash, &key, holder).unwrap_or(false),
        };
        if removed && self.last.get().is_some_and(|(last, _)| last == key) {
            self.last.set(None);
        }
    }

    /// Bytes of both tables (for the memory estimate): one entry and one control byte
    /// per slot.
    pub(crate) fn table_bytes(&self) -> usize {
        (self.young.capacity() + self.old.capacity())
            * (core::mem::size_of::<(TupleKey, Holder)>() + 1)
    }
}

/// In one table: `None` if it does not hold `key`; otherwise whether its entry led to
/// `holder` and so was removed.
#[inline]
fn remove_from(
    table: &mut HashTable<(TupleKey, Holder)>,
    hash: u64,
    key: &TupleKey,
    holder: Holder,
) -> Option<bool> {
    let entry = table.find_entry(hash, |e| e.0 == *key).ok()?;
    let matches = entry.get().1 == holder;
    if matches {
        entry.remove();
    }
    Some(matches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn tuple(local: &str, remote: &str) -> FourTuple {
        FourTuple {
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
        }
    }

    #[test]
    fn tuples_differing_in_any_field_or_family_are_different_keys() {
        let base = tuple("10.0.0.1:80", "10.0.0.2:5000");
        let others = [
            tuple("10.0.0.3:80", "10.0.0.2:5000"),
            tuple("10.0.0.1:81", "10.0.0.2:5000"),
            tuple("10.0.0.1:80", "10.0.0.4:5000"),
            tuple("10.0.0.1:80", "10.0.0.2:5001"),
            tuple("10.0.0.2:5000", "10.0.0.1:80"),
            tuple("[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.2]:5000"),
        ];
        let mut demux = Demux::new(KeyedHasher(1, 2));
        demux.insert(base, Holder::Conn(7));
        assert_eq!(demux.get(&base), Some(Holder::Conn(7)));
        for t in others {
            assert!(TupleKey::new(&t) != TupleKey::new(&base), "{t:?}");
            assert_eq!(demux.get(&t), None, "{t:?}");
        }
    }

    #[test]
    fn a_tuple_leads_to_one_holder_and_remove_if_checks_it() {
        let v6 = tuple("[2001:db8::1]:443", "[2001:db8::2]:40000");
        let mut demux = Demux::new(KeyedHasher(3, 4));
        demux.insert(v6, Holder::Conn(1));
        demux.insert(v6, Holder::TimeWait(2)); // TIME-WAIT takes the connection's place
        assert_eq!(demux.get(&v6), Some(Holder::TimeWait(2)));
        demux.remove_if(v6, Holder::Conn(1)); // not what it leads to: kept
        assert!(demux.contains(&v6));
        demux.remove_if(v6, Holder::TimeWait(2));
        assert!(!demux.contains(&v6));
    }

    #[test]
    fn entries_keep_their_holders_across_the_move_to_the_old_table() {
        let mut demux = Demux::new(KeyedHasher(7, 8));
        let t = |i: u32| {
            tuple(
                &format!("10.0.{}.{}:80", i >> 8 & 255, i & 255),
                &format!("10.1.0.1:{}", 1024 + i),
            )
        };
        let n = YOUNG_LIMIT as u32 * 3 + 5;
        for i in 0..n {
            demux.insert(t(i), Holder::Conn(i));
        }
        assert!(demux.old.len() >= YOUNG_LIMIT * 3, "moved in batches");
        assert!(demux.young.len() < YOUNG_LIMIT);
        for i in 0..n {
            assert_eq!(demux.get(&t(i)), Some(Holder::Conn(i)), "tuple {i}");
        }
        // A record takes the place of an old entry's connection: replaced where it is,
        // not entered twice.
        demux.insert(t(0), Holder::TimeWait(9));
        assert_eq!(demux.get(&t(0)), Some(Holder::TimeWait(9)));
        demux.remove_if(t(0), Holder::Conn(0));
        assert_eq!(demux.get(&t(0)), Some(Holder::TimeWait(9)));
        demux.remove_if(t(0), Holder::TimeWait(9));
        assert!(!demux.contains(&t(0)));
        // Removal works in either table.
        demux.remove_if(t(1), Holder::Conn(1));
        demux.remove_if(t(n - 1), Holder::Conn(n - 1));
        assert!(!demux.contains(&t(1)) && !demux.contains(&t(n - 1)));
        assert_eq!(demux.get(&t(2)), Some(Holder::Conn(2)));
        assert_eq!(demux.young.len() + demux.old.len(), n as usize - 3);
    }

    #[test]
    fn tuple_hashes_are_siphash_1_3_of_the_key_words() {
        use core::hash::Hasher;
        let hasher = KeyedHasher(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        for t in [
            tuple("198.18.0.1:80", "198.18.7.9:40000"),
            tuple("[2001:db8::1]:443", "[2001:db8::77]:5000"),
        ] {
            let key = TupleKey::new(&t);
            let mut h = siphasher::sip::SipHasher13::new_with_keys(hasher.0, hasher.1);
            if key.ports & IPV6_FLAG == 0 {
                h.write_u64(key.addrs[0]);
            } else {
                for w in key.addrs {
                    h.write_u64(w);
                }
            }
            h.write_u64(key.ports);
            assert_eq!(hasher.hash_key(&key), h.finish(), "{t:?}");
        }
    }

    /// A tuple of the property tests: the port numbers it.
    fn port_tuple(port: u16) -> FourTuple {
        tuple("10.0.0.1:80", &format!("10.0.0.2:{}", 5000 + port))
    }

    /// One operation of the property tests on both the demultiplexer and a plain map:
    /// 0 inserts (with `insert_new` when the tuple is free, as `add_conn` does, except
    /// for slot 1), 1
    /// removes (if the tuple still leads to that holder), 2 only looks.
    fn apply(
        demux: &mut Demux,
        model: &mut HashMap<u16, Holder>,
        (op, port, slot): (u8, u16, u32),
    ) {
        let t = port_tuple(port);
        let holder = if slot == 2 {
            Holder::TimeWait(slot)
        } else {
            Holder::Conn(slot)
        };
        match op {
            0 => {
                // Both ways of entering a free tuple: `insert` for slot 1.
                if slot != 1 && !demux.contains(&t) {
                    demux.insert_new(t, holder);
                } else {
                    demux.insert(t, holder);
                }
                model.insert(port, holder);
            }
            1 => {
                demux.remove_if(t, holder);
                if model.get(&port) == Some(&holder) {
                    model.remove(&port);
                }
            }
            _ => {}
        }
    }

    proptest::proptest! {
        /// Whatever the order of inserts, removals and lookups, a lookup answers what a
        /// plain map of the same operations holds: the remembered last hit never goes
        /// stale.
        #[test]
        fn lookups_agree_with_a_plain_map_after_any_operations(
            ops in proptest::collection::vec((0u8..3, 0u16..4, 0u32..3), 0..200)
        ) {
            let mut demux = Demux::new(KeyedHasher(5, 6));
            let mut model = HashMap::new();
            for op in ops {
                apply(&mut demux, &mut model, op);
                for p in 0..4u16 {
                    proptest::prop_assert_eq!(demux.get(&port_tuple(p)), model.get(&p).copied());
                }
            }
        }

        /// The same with enough tuples that entries move from the young table to the
        /// old one many times, and are then replaced and removed in either.
        #[test]
        fn lookups_agree_with_a_plain_map_across_generations(
            ops in proptest::collection::vec((0u8..3, 0u16..600, 0u32..3), 0..3000)
        ) {
            let mut demux = Demux::new(KeyedHasher(11, 12));
            let mut model = HashMap::new();
            for op in ops {
                apply(&mut demux, &mut model, op);
                let port = op.1;
                proptest::prop_assert!(demux.young.len() < YOUNG_LIMIT);
                proptest::prop_assert_eq!(demux.young.len() + demux.old.len(), model.len());
                for p in [port, port / 2, 599 - port] {
                    proptest::prop_assert_eq!(demux.get(&port_tuple(p)), model.get(&p).copied());
                }
            }
        }
    }
}
