//! Demultiplexing (RFC 9293 §3.9.2.1 SEGMENT ARRIVES: find the TCB for a 4-tuple): one
//! keyed hash map from a connection's 4-tuple to what holds it — a connection or a
//! TIME-WAIT record. A tuple names at most one of the two at a time, so one map (one
//! hash per arriving segment) serves both; O(1) whatever the number of connections.
//!
//! The last tuple found is remembered beside the map. Segments come in trains on one
//! connection (a window of data, then its ACKs), so most lookups end at that one
//! comparison and skip the keyed hash. Every change to the map goes through [`Demux`],
//! which keeps the remembered entry equal to what the map holds.

use crate::FourTuple;
use core::cell::Cell;
use core::hash::{BuildHasher, Hash, Hasher};
use core::net::IpAddr;
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

/// A 4-tuple packed for the map. `FourTuple` is 64 bytes (`SocketAddr` carries IPv6
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

impl Hash for TupleKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal keys have equal flags, so they hash the same words.
        if self.ports & IPV6_FLAG == 0 {
            state.write_u64(self.addrs[0]);
        } else {
            for w in self.addrs {
                state.write_u64(w);
            }
        }
        state.write_u64(self.ports);
    }
}

/// The 4-tuple map of one endpoint.
pub(crate) struct Demux {
    map: HashMap<TupleKey, Holder, KeyedHasher>,
    /// The last tuple found and what held it: always what `map` holds for that key.
    last: Cell<Option<(TupleKey, Holder)>>,
}

impl Demux {
    pub(crate) fn new(hasher: KeyedHasher) -> Self {
        Demux {
            map: HashMap::with_hasher(hasher),
            last: Cell::new(None),
        }
    }

    /// What holds `tuple`, if anything.
    pub(crate) fn get(&self, tuple: &FourTuple) -> Option<Holder> {
        let key = TupleKey::new(tuple);
        if let Some((last, holder)) = self.last.get() {
            if last == key {
                return Some(holder);
            }
        }
        let found = self.map.get(&key).copied();
        if let Some(holder) = found {
            self.last.set(Some((key, holder)));
        }
        found
    }

    /// Whether anything (connection or TIME-WAIT record) holds `tuple`.
    pub(crate) fn contains(&self, tuple: &FourTuple) -> bool {
        self.map.contains_key(&TupleKey::new(tuple))
    }

    /// `tuple` now leads to `holder` (replacing whatever it led to).
    pub(crate) fn insert(&mut self, tuple: FourTuple, holder: Holder) {
        let key = TupleKey::new(&tuple);
        if self.last.get().is_some_and(|(last, _)| last == key) {
            self.last.set(Some((key, holder)));
        }
        self.map.insert(key, holder);
    }

    /// Forget `tuple` if it still leads to `holder` (one hash).
    pub(crate) fn remove_if(&mut self, tuple: FourTuple, holder: Holder) {
        let key = TupleKey::new(&tuple);
        if let Entry::Occupied(e) = self.map.entry(key) {
            if *e.get() == holder {
                e.remove();
                if self.last.get().is_some_and(|(last, _)| last == key) {
                    self.last.set(None);
                }
            }
        }
    }

    /// Bytes of the map's table (for the memory estimate): one entry and one control
    /// byte per slot.
    pub(crate) fn table_bytes(&self) -> usize {
        self.map.capacity() * (core::mem::size_of::<(TupleKey, Holder)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    proptest::proptest! {
        /// Whatever the order of inserts, removals and lookups, a lookup answers what a
        /// plain map of the same operations holds: the remembered last hit never goes
        /// stale.
        #[test]
        fn lookups_agree_with_a_plain_map_after_any_operations(
            ops in proptest::collection::vec((0u8..3, 0u16..4, 0u32..3), 0..200)
        ) {
            let mut demux = Demux::new(KeyedHasher(5, 6));
            let mut model = std::collections::HashMap::new();
            for (op, port, slot) in ops {
                let t = tuple("10.0.0.1:80", &format!("10.0.0.2:{}", 5000 + port));
                let holder = if slot == 2 { Holder::TimeWait(slot) } else { Holder::Conn(slot) };
                match op {
                    0 => {
                        demux.insert(t, holder);
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
                for p in 0..4u16 {
                    let q = tuple("10.0.0.1:80", &format!("10.0.0.2:{}", 5000 + p));
                    proptest::prop_assert_eq!(demux.get(&q), model.get(&p).copied());
                }
            }
        }
    }
}
