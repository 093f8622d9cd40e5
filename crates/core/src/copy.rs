//! Bulk copies into and out of a connection's rings (the application's `send` into the
//! send buffer, its `recv` out of the receive buffer, a segment's data into the receive
//! buffer when it was not copied while its checksum was verified), made in pieces.
//!
//! glibc's x86-64 `memcpy` moves blocks above a threshold (4 KiB on a CPU with AVX2)
//! with `rep movsb`, and on AMD Zen 3 `rep movsb` runs 16 to 24 times slower when the
//! destination lies 1 to 31 bytes past the source modulo 4 KiB: 64 KiB in 23 to 34 µs
//! against 1.4 to 1.6 µs at other distances (measured on the project's machine;
//! `crates/bench/README.md`, "Then (849f7e8 to 65130d8)"). Where an application's
//! buffer falls relative to a ring is chance, so about one large copy in 130 would
//! take that slow case. Pieces of [`PIECE`] bytes stay below the threshold, on
//! `memcpy`'s vector loop, which has no such case; each piece costs one more call.

/// The most bytes handed to `memcpy` in one call.
const PIECE: usize = 2048;

/// Copy `src` into `dst`, in pieces of at most [`PIECE`] bytes. The slices are meant to
/// be of one length; if they are not, the shorter length is copied.
#[inline]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    for (d, s) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
        d.copy_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_every_byte_at_every_length_around_the_piece_size() {
        for len in [0, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 17] {
            let src: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut dst = vec![0u8; len];
            copy(&mut dst, &src);
            assert_eq!(dst, src, "len {len}");
        }
    }

    #[test]
    fn slices_of_different_lengths_copy_the_shorter_and_do_not_panic() {
        let src = [1u8; 10];
        let mut dst = [0u8; 4];
        copy(&mut dst, &src);
        assert_eq!(dst, [1; 4]);
        let mut long = [0u8; 12];
        copy(&mut long, &src);
        assert_eq!(long[..10], [1; 10]);
        assert_eq!(long[10..], [0; 2]);
    }
}
