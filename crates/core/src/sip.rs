//! SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) over a
//! message given as whole 64-bit words, in registers.
//!
//! The keyed hashes of a connection's life all take short inputs of a known shape: the
//! ISN and port-selection inputs of an IPv4 tuple (RFC 6528, RFC 6056; 12 and 14 bytes)
//! and the demultiplexer's packed tuple keys (16 or 40 bytes). Given as words, they
//! skip the byte-stream buffering of a general `Hasher`, which cost more than the
//! rounds themselves. The value is the standard SipHash-c-d of the same bytes: the
//! tests compare it with the `siphasher` crate's.

/// One SipRound (the paper, §2.2).
#[inline(always)]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// One message block: `C` rounds between the two XORs (the paper, §2.2).
#[inline(always)]
fn compress<const C: usize>(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    for _ in 0..C {
        round(v);
    }
    v[0] ^= m;
}

/// SipHash-`C`-`D` under the key `(k0, k1)` of a message whose first `8 * N` bytes are
/// `words` (each little-endian) and whose last block is `last`: the remaining 0 to 7
/// bytes, little-endian, with the message's length modulo 256 in the top byte (the
/// paper, §2.1). `N` is a constant, so the loops unroll and the state stays in
/// registers.
#[inline(always)]
pub(crate) fn sip<const C: usize, const D: usize, const N: usize>(
    (k0, k1): (u64, u64),
    words: &[u64; N],
    last: u64,
) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    for &m in words {
        compress::<C>(&mut v, m);
    }
    compress::<C>(&mut v, last);
    v[2] ^= 0xff;
    for _ in 0..D {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// A 16-byte SipHash key as its two little-endian 64-bit words (the paper, §2).
pub(crate) fn key_words(key: &[u8; 16]) -> (u64, u64) {
    let (k0, k1) = key.split_at(8);
    let word = |k: &[u8]| k.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w));
    (word(k0), word(k1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::Hasher;
    use proptest::prelude::*;
    use siphasher::sip::{SipHasher13, SipHasher24};

    /// `words` and the bytes of `tail`, as one message, with its last block.
    fn split(words: &[u64], tail: &[u8]) -> (Vec<u8>, u64) {
        let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.extend_from_slice(tail);
        let mut last = [0u8; 8];
        last[..tail.len()].copy_from_slice(tail);
        last[7] = bytes.len() as u8;
        (bytes, u64::from_le_bytes(last))
    }

    /// The standard hashes of the same bytes, from the `siphasher` crate.
    fn reference(k0: u64, k1: u64, bytes: &[u8]) -> (u64, u64) {
        let mut h13 = SipHasher13::new_with_keys(k0, k1);
        h13.write(bytes);
        let mut h24 = SipHasher24::new_with_keys(k0, k1);
        h24.write(bytes);
        (h13.finish(), h24.finish())
    }

    /// `sip` with `N` words against the reference.
    fn check<const N: usize>(k0: u64, k1: u64, words: [u64; N], tail: &[u8]) {
        let (bytes, last) = split(&words, tail);
        let (want13, want24) = reference(k0, k1, &bytes);
        assert_eq!(
            sip::<1, 3, N>((k0, k1), &words, last),
            want13,
            "{words:x?} {tail:?}"
        );
        assert_eq!(
            sip::<2, 4, N>((k0, k1), &words, last),
            want24,
            "{words:x?} {tail:?}"
        );
    }

    proptest! {
        #[test]
        fn word_hashes_equal_the_byte_stream_hashes(
            k0 in any::<u64>(),
            k1 in any::<u64>(),
            words in any::<[u64; 5]>(),
            tail in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            let [a, b, c, d, e] = words;
            check(k0, k1, [], &tail);
            check(k0, k1, [a], &tail);
            check(k0, k1, [a, b], &tail);
            check(k0, k1, [a, b, c, d, e], &tail);
        }
    }

    #[test]
    fn key_words_are_the_little_endian_halves() {
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let mut h = SipHasher24::new_with_key(&key);
        h.write(b"synack");
        let mut last = *b"synack\0\0";
        last[7] = 6;
        assert_eq!(
            sip::<2, 4, 0>(key_words(&key), &[], u64::from_le_bytes(last)),
            h.finish()
        );
    }
}
