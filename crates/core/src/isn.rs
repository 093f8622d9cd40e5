//! Initial sequence numbers (RFC 9293 §3.4.1: MUST-8, ISNs are clock-driven; SHLD-1,
//! ISN = M + F(4-tuple, secret) as in RFC 6528; MUST-9, F must not be computable from
//! the outside) and ephemeral-port selection offsets (RFC 6056 §3.3.3, Algorithm 3,
//! "Simple Hash-Based Port Selection").
//!
//! RFC 6528 §3: `ISN = M + F(localip, localport, remoteip, remoteport, secretkey)`,
//! where M is a timer that ticks every 4 microseconds and F is a keyed
//! pseudo-random function. Here F is SipHash-2-4. M comes from the `now` the caller
//! passes (the core never reads a clock), so the clock-driven part of MUST-8 holds as
//! long as the caller's time moves forward; the keyed hash makes a connection's ISN
//! unpredictable to an off-path attacker who does not know the secret, while a
//! reused 4-tuple still gets ISNs that increase with time, as TIME-WAIT reuse needs.
//!
//! The same hash gives the connection's timestamp offset (RFC 7323 §5.4): its high 32
//! bits, where F takes the low 32. A new connection needs both, so it pays for one
//! hash.
//!
//! The 16-byte secret is given at construction (sans-IO: the caller draws it from its
//! own randomness source). It is never used directly: a separate SipHash key is
//! derived from it for each purpose (ISNs, port offsets, general keyed hashing), so
//! one output never helps predict another. Addresses are hashed as a family tag
//! followed by their octets (4 for IPv4, 16 for IPv6), ports in network byte order,
//! so every input has exactly one encoding.

use crate::sip::{key_words, sip};
use crate::{Instant, SeqNum};
use core::hash::Hasher;
use core::net::{IpAddr, SocketAddr};
use siphasher::sip::SipHasher24;
use siphasher::sip128::SipHasher24 as SipHasher128;

/// Keyed ISN and port-offset generator of one endpoint.
#[derive(Clone)]
pub struct IsnGenerator {
    isn_key: [u8; 16],
    port_key: [u8; 16],
    hash_key: [u8; 16],
    /// `isn_key` and `port_key` as SipHash's two 64-bit key words, for the IPv4 path
    /// ([`crate::sip`]).
    isn_words: (u64, u64),
    port_words: (u64, u64),
}

/// Derives a purpose-specific key from the secret: SipHash-2-4-128 of a label.
pub(crate) fn derive_key(secret: &[u8; 16], label: &[u8]) -> [u8; 16] {
    u128::from(SipHasher128::new_with_key(secret).hash(label)).to_le_bytes()
}

/// The bytes hashed for the inputs, gathered so SipHash takes them in one `write`
/// (it pays per call; the stream, and so the hash, is the same as with one `write`
/// per field).
struct Input {
    bytes: [u8; 40],
    len: usize,
}

impl Input {
    fn new() -> Self {
        Input {
            bytes: [0; 40],
            len: 0,
        }
    }

    fn put(&mut self, data: &[u8]) {
        // Callers put at most 38 bytes (two tagged IPv6 addresses and two ports).
        if let Some(dst) = self.bytes.get_mut(self.len..self.len + data.len()) {
            dst.copy_from_slice(data);
            self.len += data.len();
        }
    }

    /// A family tag, then the octets.
    fn put_ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => {
                self.put(&[4]);
                self.put(&a.octets());
            }
            IpAddr::V6(a) => {
                self.put(&[6]);
                self.put(&a.octets());
            }
        }
    }

    fn hash(&self, key: &[u8; 16]) -> u64 {
        let mut h = SipHasher24::new_with_key(key);
        h.write(&self.bytes[..self.len]);
        h.finish()
    }
}

impl IsnGenerator {
    /// A generator keyed with `secret`, which should come from a good random source
    /// and stay the same for the endpoint's life (RFC 6528 §3: changing it breaks the
    /// monotonic increase that a reused 4-tuple relies on).
    pub fn new(secret: [u8; 16]) -> Self {
        let isn_key = derive_key(&secret, b"synack isn v1");
        let port_key = derive_key(&secret, b"synack ephemeral port v1");
        IsnGenerator {
            isn_key,
            port_key,
            hash_key: derive_key(&secret, b"synack keyed hash v1"),
            isn_words: key_words(&isn_key),
            port_words: key_words(&port_key),
        }
    }

    /// The initial sequence number for a connection from `local` to `remote` opened at
    /// `now`: `M + F(localip, localport, remoteip, remoteport, secretkey)` (RFC 6528
    /// §3), where M counts 4-microsecond ticks of `now` (modulo 2^32) and F is
    /// SipHash-2-4 truncated to 32 bits.
    pub fn isn(&self, now: Instant, local: SocketAddr, remote: SocketAddr) -> SeqNum {
        self.isn_and_ts_offset(now, local, remote).0
    }

    /// The connection's timestamp offset (RFC 7323 §5.4, §7.1): the other 32 bits of
    /// the keyed hash whose low 32 bits are the ISN's F. A function of the 4-tuple
    /// alone, so a SYN cookie's timestamp decodes with the same offset when the ACK
    /// comes back, and so timestamps reveal no uptime.
    pub fn ts_offset(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        (self.tuple_hash(local, remote) >> 32) as u32
    }

    /// [`IsnGenerator::isn`] and [`IsnGenerator::ts_offset`] from one hash, as a new
    /// connection needs both.
    pub fn isn_and_ts_offset(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> (SeqNum, u32) {
        let m = (now.as_micros() / 4) as u32; // the clock wraps modulo 2^32 by design
        let f = self.tuple_hash(local, remote);
        (SeqNum(m).add(f as u32), (f >> 32) as u32)
    }

    /// SipHash-2-4 of the 4-tuple under the ISN key.
    fn tuple_hash(&self, local: SocketAddr, remote: SocketAddr) -> u64 {
        if let (SocketAddr::V4(l), SocketAddr::V4(r)) = (local, remote) {
            // 4, local octets, local port, 4, remote octets, remote port: 14 bytes.
            let (la, lp) = (l.ip().octets(), l.port().to_be_bytes());
            let (ra, rp) = (r.ip().octets(), r.port().to_be_bytes());
            let m = u64::from_le_bytes([4, la[0], la[1], la[2], la[3], lp[0], lp[1], 4]);
            let b = u64::from_le_bytes([ra[0], ra[1], ra[2], ra[3], rp[0], rp[1], 0, 14]);
            return sip::<2, 4, 1>(self.isn_words, &[m], b);
        }
        let mut input = Input::new();
        input.put_ip(local.ip());
        input.put(&local.port().to_be_bytes());
        input.put_ip(remote.ip());
        input.put(&remote.port().to_be_bytes());
        input.hash(&self.isn_key)
    }

    /// The offset of RFC 6056 §3.3.3 (Algorithm 3) for choosing an ephemeral port:
    /// `F(local IP, remote IP, remote port, secret_key)`. The caller tries
    /// `min + (offset + count) % num_ephemeral` for `count = 0, 1, ...`, keeping `count`
    /// per endpoint.
    pub fn port_offset(&self, local: IpAddr, remote: SocketAddr) -> u32 {
        if let (IpAddr::V4(l), SocketAddr::V4(r)) = (local, remote) {
            // 4, local octets, 4, remote octets, remote port: 12 bytes.
            let (la, ra, rp) = (l.octets(), r.ip().octets(), r.port().to_be_bytes());
            let m = u64::from_le_bytes([4, la[0], la[1], la[2], la[3], 4, ra[0], ra[1]]);
            let b = u64::from_le_bytes([ra[2], ra[3], rp[0], rp[1], 0, 0, 0, 12]);
            return sip::<2, 4, 1>(self.port_words, &[m], b) as u32;
        }
        let mut input = Input::new();
        input.put_ip(local);
        input.put_ip(remote.ip());
        input.put(&remote.port().to_be_bytes());
        input.hash(&self.port_key) as u32
    }

    /// A keyed 64-bit hash of `data` in a caller-chosen `domain` (one value per use,
    /// e.g. hash-map keys, timestamp offsets), so different uses of equal bytes give
    /// unrelated values.
    pub fn keyed_hash(&self, domain: u8, data: &[u8]) -> u64 {
        if data.len() < 40 {
            let mut input = Input::new();
            input.put(&[domain]);
            input.put(data);
            return input.hash(&self.hash_key);
        }
        let mut h = SipHasher24::new_with_key(&self.hash_key);
        h.write(&[domain]);
        h.write(data);
        h.finish()
    }
}

impl core::fmt::Debug for IsnGenerator {
    /// Never prints the keys.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("IsnGenerator { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::IsnGenerator;
    use crate::Instant;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    fn v4(a: u8, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, a)), port)
    }

    fn gen() -> IsnGenerator {
        IsnGenerator::new(*b"0123456789abcdef")
    }

    #[test]
    fn same_inputs_give_the_same_isn() {
        let g = gen();
        let t = Instant::from_millis(1234);
        assert_eq!(
            g.isn(t, v4(1, 80), v4(2, 5000)),
            g.isn(t, v4(1, 80), v4(2, 5000))
        );
        assert_eq!(
            gen().isn(t, v4(1, 80), v4(2, 5000)),
            g.isn(t, v4(1, 80), v4(2, 5000))
        );
    }

    #[test]
    fn the_timestamp_offset_depends_on_the_tuple_alone_and_comes_with_the_isn() {
        let g = gen();
        let (l, r) = (v4(1, 80), v4(2, 5000));
        let (iss, off) = g.isn_and_ts_offset(Instant::from_millis(7), l, r);
        assert_eq!(iss, g.isn(Instant::from_millis(7), l, r));
        // The same at any time (a SYN cookie's ACK decodes with it later).
        assert_eq!(off, g.ts_offset(l, r));
        assert_eq!(
            g.isn_and_ts_offset(Instant::from_millis(9_000), l, r).1,
            off
        );
        // Another tuple, another offset; and not the ISN's half.
        assert_ne!(g.ts_offset(l, v4(2, 5001)), off);
        assert_ne!(off, g.isn(Instant::ZERO, l, r).raw());
    }

    #[test]
    fn different_tuples_give_different_isns() {
        let g = gen();
        let t = Instant::from_millis(1);
        let base = g.isn(t, v4(1, 80), v4(2, 5000));
        let others = [
            g.isn(t, v4(1, 81), v4(2, 5000)),
            g.isn(t, v4(3, 80), v4(2, 5000)),
            g.isn(t, v4(1, 80), v4(3, 5000)),
            g.isn(t, v4(1, 80), v4(2, 5001)),
            g.isn(t, v4(2, 5000), v4(1, 80)), // the reverse direction
            g.isn(
                t,
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 80),
                SocketAddr::new(
                    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
                    5000,
                ),
            ),
        ];
        for o in others {
            assert_ne!(o, base);
        }
        let mut all: Vec<u32> = (0..1000u16)
            .map(|p| g.isn(t, v4(1, 80), v4(2, 10_000 + p)).raw())
            .collect();
        all.sort_unstable();
        all.dedup();
        assert!(
            all.len() > 990,
            "ISNs of distinct tuples should rarely collide"
        );
    }

    #[test]
    fn isn_advances_one_per_four_microseconds() {
        let g = gen();
        let (l, r) = (v4(1, 80), v4(2, 5000));
        let t0 = Instant::from_micros(1_000_000);
        let base = g.isn(t0, l, r);
        assert_eq!(g.isn(Instant::from_micros(1_000_003), l, r), base);
        assert_eq!(g.isn(Instant::from_micros(1_000_004), l, r), base.add(1));
        assert_eq!(g.isn(Instant::from_micros(1_000_400), l, r), base.add(100));
        assert_eq!(
            g.isn(Instant::from_millis(1_001_000), l, r).diff(base) as u32,
            250_000_000
        );
    }

    #[test]
    fn isn_wraps_without_panicking() {
        let g = gen();
        let (l, r) = (v4(1, 80), v4(2, 5000));
        let a = g.isn(Instant::from_micros(4 * u64::from(u32::MAX)), l, r);
        let b = g.isn(Instant::from_micros(4 * (u64::from(u32::MAX) + 1)), l, r);
        assert_eq!(b, a.add(1));
        let _ = g.isn(Instant::FAR_FUTURE, l, r);
    }

    #[test]
    fn different_secrets_give_different_values() {
        let a = IsnGenerator::new([1; 16]);
        let b = IsnGenerator::new([2; 16]);
        let t = Instant::from_millis(5);
        let (l, r) = (v4(1, 80), v4(2, 5000));
        assert_ne!(a.isn(t, l, r), b.isn(t, l, r));
        assert_ne!(a.port_offset(l.ip(), r), b.port_offset(l.ip(), r));
        assert_ne!(a.keyed_hash(0, b"x"), b.keyed_hash(0, b"x"));
    }

    #[test]
    fn port_offset_depends_on_the_remote_end_but_not_the_local_port() {
        let g = gen();
        let local = v4(1, 0).ip();
        let a = g.port_offset(local, v4(2, 80));
        assert_eq!(a, g.port_offset(local, v4(2, 80)));
        assert_ne!(a, g.port_offset(local, v4(2, 443)));
        assert_ne!(a, g.port_offset(local, v4(3, 80)));
        assert_ne!(a, g.port_offset(v4(9, 0).ip(), v4(2, 80)));
    }

    #[test]
    fn purposes_use_different_keys() {
        let g = gen();
        let (l, r) = (v4(1, 80), v4(2, 5000));
        // Same address material through the ISN hash (at time zero, M = 0) and the port
        // hash would coincide if they shared a key; they must not.
        assert_ne!(g.isn(Instant::ZERO, l, r).raw(), g.port_offset(l.ip(), r));
    }

    #[test]
    fn keyed_hash_separates_domains_and_inputs() {
        let g = gen();
        assert_eq!(g.keyed_hash(1, b"abc"), g.keyed_hash(1, b"abc"));
        assert_ne!(g.keyed_hash(1, b"abc"), g.keyed_hash(2, b"abc"));
        assert_ne!(g.keyed_hash(1, b"abc"), g.keyed_hash(1, b"abd"));
        assert_ne!(g.keyed_hash(1, b""), g.keyed_hash(2, b""));
    }

    #[test]
    fn gathered_inputs_hash_like_one_write_per_field() {
        use core::hash::Hasher;
        use siphasher::sip::SipHasher24;
        // The encoding in the module documentation, written field by field.
        fn reference(key: &[u8; 16], fields: &[&[u8]]) -> u64 {
            let mut h = SipHasher24::new_with_key(key);
            for f in fields {
                h.write(f);
            }
            h.finish()
        }
        let g = gen();
        let (l4, r4) = (v4(1, 80), v4(2, 5000));
        let l6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 443);
        let r6 = SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)),
            40000,
        );
        let enc = |a: SocketAddr| -> (Vec<u8>, [u8; 2]) {
            let ip = match a.ip() {
                IpAddr::V4(v) => [&[4u8][..], &v.octets()].concat(),
                IpAddr::V6(v) => [&[6u8][..], &v.octets()].concat(),
            };
            (ip, a.port().to_be_bytes())
        };
        let mut pairs = vec![(l4, r4), (l6, r6)];
        // Tuples of every byte pattern through the IPv4 word path (`crate::sip`),
        // from a fixed-seed generator.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..500 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v4 = |bits: u64| {
                SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::from_bits(bits as u32)),
                    (bits >> 32) as u16,
                )
            };
            pairs.push((v4(x), v4(x.rotate_left(29))));
        }
        for (l, r) in pairs {
            let ((lip, lp), (rip, rp)) = (enc(l), enc(r));
            let f = reference(&g.isn_key, &[&lip, &lp, &rip, &rp]) as u32;
            assert_eq!(g.isn(Instant::from_millis(0), l, r).raw(), f);
            let p = reference(&g.port_key, &[&lip, &rip, &rp]) as u32;
            assert_eq!(g.port_offset(l.ip(), r), p);
        }
        for len in [0usize, 12, 36, 39, 40, 100] {
            let data: Vec<u8> = (0..len as u8).collect();
            assert_eq!(
                g.keyed_hash(3, &data),
                reference(&g.hash_key, &[&[3], &data]),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert_eq!(format!("{:?}", gen()), "IsnGenerator { .. }");
    }
}
