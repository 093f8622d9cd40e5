//! The endpoint's own addresses and its listeners' local addresses: the two lookups an
//! arriving segment makes before (or instead of) the 4-tuple demultiplexer.
//!
//! - [`AddressSet`]: is a datagram's destination one of this host's addresses
//!   (RFC 9293 §3.9.2.1 and MUST-63: segments for others are not ours)? A host may
//!   claim many addresses (a tun2socks app answering for a whole range, a simulated
//!   network's client with dozens), so membership is a binary search in a sorted
//!   array, O(log n), not a scan of every address per segment.
//! - [`ListenTable`]: which listener, if any, owns a local (address, port), falling
//!   back to the wildcard address (§3.10.1: a passive OPEN with an unspecified local
//!   address). The keys are the application's own listening addresses, never a peer's,
//!   so the table's layout cannot be chosen by a remote host; a lookup with a chosen
//!   key walks at most the probe sequence the application's keys made. It therefore
//!   uses a cheap unkeyed hash (one 128-bit multiply) rather than the keyed SipHash of
//!   the demultiplexer, whose entries come from peers.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use hashbrown::hash_table::{Entry, HashTable};

/// This host's addresses.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressSet {
    /// In the order they were claimed: an unbound `connect` takes the first of its
    /// family.
    claimed: Vec<IpAddr>,
    /// The IPv4 ones as integers, sorted, for membership.
    v4: Vec<u32>,
    /// The IPv6 ones as integers, sorted.
    v6: Vec<u128>,
}

impl AddressSet {
    /// Claim `addr`; claiming it twice changes nothing.
    pub(crate) fn add(&mut self, addr: IpAddr) {
        let inserted = match addr {
            IpAddr::V4(a) => insert_sorted(&mut self.v4, a.to_bits()),
            IpAddr::V6(a) => insert_sorted(&mut self.v6, a.to_bits()),
        };
        if inserted {
            self.claimed.push(addr);
        }
    }

    /// Whether a datagram to `addr` is for this host: an endpoint that claimed no
    /// address accepts every destination.
    #[inline]
    pub(crate) fn accepts(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.claimed.is_empty() || self.v4.binary_search(&a.to_bits()).is_ok(),
            IpAddr::V6(a) => self.claimed.is_empty() || self.v6.binary_search(&a.to_bits()).is_ok(),
        }
    }

    /// The first claimed address of the family of `like` (IPv4 or IPv6).
    pub(crate) fn first_like(&self, like: IpAddr) -> Option<IpAddr> {
        self.claimed
            .iter()
            .find(|a| a.is_ipv4() == like.is_ipv4())
            .copied()
    }
}

/// Insert `value` into the sorted `list` unless it is there; true if it was not.
fn insert_sorted<T: Ord>(list: &mut Vec<T>, value: T) -> bool {
    match list.binary_search(&value) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, value);
            true
        }
    }
}

/// A local socket address packed into two words for the listener table: the IPv4
/// address (or the IPv6 one's two halves folded) and the port, with the family in bit
/// 16 of the second word so an IPv4 key never equals an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ListenKey {
    addr: u128,
    port_family: u32,
}

impl ListenKey {
    fn new(local: SocketAddr) -> Self {
        match local.ip() {
            IpAddr::V4(a) => ListenKey {
                addr: u128::from(a.to_bits()),
                port_family: u32::from(local.port()),
            },
            IpAddr::V6(a) => ListenKey {
                addr: a.to_bits(),
                port_family: u32::from(local.port()) | 1 << 16,
            },
        }
    }

    /// An unkeyed hash (see the module documentation): the words mixed by one
    /// 64×64→128-bit multiply, whose halves are folded together so that both the
    /// table's index bits (low) and its tag bits (high) depend on every input bit.
    fn hash(&self) -> u64 {
        const K: u64 = 0x9e37_79b9_7f4a_7c15; // 2^64 / golden ratio, odd
        let folded = (self.addr as u64) ^ ((self.addr >> 64) as u64).rotate_left(32);
        let x = folded ^ (u64::from(self.port_family) << 40) ^ u64::from(self.port_family);
        let p = u128::from(x ^ K) * u128::from(K.rotate_left(17) | 1);
        (p as u64) ^ ((p >> 64) as u64)
    }
}

/// Listeners by local address.
#[derive(Default)]
pub(crate) struct ListenTable {
    table: HashTable<(ListenKey, u32)>,
}

impl ListenTable {
    /// The listener bound to exactly `local`.
    pub(crate) fn get(&self, local: SocketAddr) -> Option<u32> {
        let key = ListenKey::new(local);
        self.table.find(key.hash(), |e| e.0 == key).map(|e| e.1)
    }

    /// The listener for a segment to `local`: the one bound to it, else the one bound
    /// to the unspecified address of its family and its port.
    #[inline]
    pub(crate) fn find(&self, local: SocketAddr) -> Option<u32> {
        self.get(local).or_else(|| {
            let any = match local {
                SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            self.get(SocketAddr::new(any, local.port()))
        })
    }

    /// Bind `local` to listener `index`; false (and no change) if it is bound already.
    pub(crate) fn insert(&mut self, local: SocketAddr, index: u32) -> bool {
        let key = ListenKey::new(local);
        match self.table.entry(key.hash(), |e| e.0 == key, |e| e.0.hash()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert((key, index));
                true
            }
        }
    }

    /// Unbind `local`.
    pub(crate) fn remove(&mut self, local: SocketAddr) {
        let key = ListenKey::new(local);
        if let Ok(e) = self.table.find_entry(key.hash(), |e| e.0 == key) {
            e.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap};

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_endpoint_with_no_address_accepts_every_destination() {
        let set = AddressSet::default();
        assert!(set.accepts("198.18.0.1".parse().unwrap()));
        assert!(set.accepts("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn claimed_addresses_are_accepted_and_others_are_not_in_either_family() {
        let mut set = AddressSet::default();
        set.add("198.18.0.9".parse().unwrap());
        set.add("2001:db8::9".parse().unwrap());
        assert!(set.accepts("198.18.0.9".parse().unwrap()));
        assert!(set.accepts("2001:db8::9".parse().unwrap()));
        assert!(!set.accepts("198.18.0.8".parse().unwrap()));
        assert!(!set.accepts("2001:db8::8".parse().unwrap()));
        // The same bits in the other family are another address.
        assert!(!set.accepts("::c612:9".parse().unwrap()));
    }

    #[test]
    fn an_unbound_connect_takes_the_first_claimed_address_of_its_family() {
        let mut set = AddressSet::default();
        set.add("198.18.0.7".parse().unwrap());
        set.add("2001:db8::2".parse().unwrap());
        set.add("198.18.0.3".parse().unwrap());
        set.add("198.18.0.7".parse().unwrap());
        let v4: IpAddr = "198.18.9.9".parse().unwrap();
        let v6: IpAddr = "2001:db8::99".parse().unwrap();
        assert_eq!(set.first_like(v4), Some("198.18.0.7".parse().unwrap()));
        assert_eq!(set.first_like(v6), Some("2001:db8::2".parse().unwrap()));
        assert_eq!(AddressSet::default().first_like(v4), None);
    }

    #[test]
    fn a_listener_on_the_wildcard_takes_segments_for_any_address_at_its_port() {
        let mut t = ListenTable::default();
        assert!(t.insert(sa("0.0.0.0:80"), 1));
        assert!(t.insert(sa("198.18.0.2:80"), 2));
        assert!(t.insert(sa("[::]:80"), 3));
        assert_eq!(t.find(sa("198.18.0.2:80")), Some(2));
        assert_eq!(t.find(sa("198.18.0.5:80")), Some(1));
        assert_eq!(t.find(sa("[2001:db8::1]:80")), Some(3));
        assert_eq!(t.find(sa("198.18.0.2:81")), None);
        assert!(!t.insert(sa("0.0.0.0:80"), 4), "bound already");
        t.remove(sa("198.18.0.2:80"));
        assert_eq!(t.find(sa("198.18.0.2:80")), Some(1));
        t.remove(sa("0.0.0.0:80"));
        assert_eq!(t.find(sa("198.18.0.2:80")), None);
        assert_eq!(t.get(sa("[::]:80")), Some(3));
    }

    fn addr() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            (0u32..8).prop_map(|i| IpAddr::V4(Ipv4Addr::from_bits(0xc612_0000 + i))),
            (0u32..8).prop_map(|i| IpAddr::V6(Ipv6Addr::from_bits(u128::from(0xc612_0000 + i)))),
            Just(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            Just(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        ]
    }

    proptest! {
        #[test]
        fn membership_agrees_with_a_plain_set(
            claimed in proptest::collection::vec(addr(), 0..12),
            probes in proptest::collection::vec(addr(), 1..12),
        ) {
            let mut set = AddressSet::default();
            for a in &claimed {
                set.add(*a);
            }
            let plain: BTreeSet<IpAddr> = claimed.iter().copied().collect();
            for p in probes {
                prop_assert_eq!(set.accepts(p), plain.is_empty() || plain.contains(&p));
            }
        }

        #[test]
        fn listener_lookups_agree_with_a_plain_map(
            ops in proptest::collection::vec((any::<bool>(), addr(), 1u16..4), 0..40),
            probes in proptest::collection::vec((addr(), 1u16..4), 1..12),
        ) {
            let mut t = ListenTable::default();
            let mut plain: HashMap<SocketAddr, u32> = HashMap::new();
            for (i, (add, ip, port)) in ops.into_iter().enumerate() {
                let local = SocketAddr::new(ip, port);
                if add {
                    let fresh = !plain.contains_key(&local);
                    if fresh {
                        plain.insert(local, i as u32);
                    }
                    prop_assert_eq!(t.insert(local, i as u32), fresh);
                } else {
                    plain.remove(&local);
                    t.remove(local);
                }
            }
            for (ip, port) in probes {
                let local = SocketAddr::new(ip, port);
                let any = if ip.is_ipv4() {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                } else {
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                };
                let want = plain
                    .get(&local)
                    .or_else(|| plain.get(&SocketAddr::new(any, port)))
                    .copied();
                prop_assert_eq!(t.find(local), want);
            }
        }
    }
}
