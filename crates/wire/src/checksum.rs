//! The Internet checksum (RFC 1071) and the TCP pseudo-headers (RFC 9293 §3.1 for IPv4,
//! RFC 8200 §8.1 for IPv6).
//!
//! The checksum is the ones' complement of the ones' complement sum of the data taken as
//! big-endian 16-bit words, an odd final byte padded with a zero. Because ones' complement
//! addition is associative and commutative and `2^16 ≡ 1 (mod 2^16 - 1)`, the sum may be
//! accumulated in wider words and folded at the end (RFC 1071 §2 (B), (C)), and taken in
//! either byte order and swapped once at the end (§2 (B)). [`sum`] has three loops:
//!
//! - **Vector** (128 bytes and more, on a CPU with AVX2 or AVX-512BW, or on AArch64):
//!   32 native-endian 32-bit words at a time, one per 32-bit lane. Each word is added
//!   whole into its lane, wrapping, and its high 16 bits into a second lane; when the
//!   lanes are emptied (every 64 KiB) the low halves' sum is recovered exactly as
//!   `whole - 2^16 * high` (it is below `2^32`), and the word counts as `low + high`
//!   (`2^16 ≡ 1`). That is an add, a shift and an add per vector of words, no shuffle
//!   (widening each 16-bit word to 32 bits took two zero-extending loads and two adds
//!   per 64 bytes). With AVX-512, even and odd steps go into two sets of lanes, so no
//!   addition waits on the one before it; with AVX2 and NEON, whose registers hold
//!   one set, into one set (two spilled to the stack in the loop: on a Zen 3 core,
//!   AVX2, 65,495 bytes took 950–1,006 ns with two sets and 675 to 890 ns with one,
//!   depending on the build; 1,460 bytes 31 to 35 ns either way, once the lanes'
//!   final reduction was written as two plain sums the compiler keeps in vector
//!   registers). The words after the
//!   last whole step are added as one more
//!   step over the data's last 128 bytes, ANDed with a mask (from a table) that zeroes
//!   the words already summed, so no scalar loop runs for the tail. The function is
//!   compiled once per instruction set and the one for this CPU is chosen at run time,
//!   once (the `multiversion` crate). Measured on the project's earlier machine
//!   (criterion, `benches/micro.rs`, a Zen 5 core with AVX-512BW, the previous
//!   widening loop alternated with it):
//!   1,460 bytes in 8.9–9.2 ns (was 10.7–11.2) and 65,495 bytes in 347–357 ns (was
//!   384–401; that size is past the 48 KiB first-level cache and runs at about the
//!   second level's speed), against 27 ns and 1.06 µs measured earlier for the
//!   scalar loop.
//! - **Short** (under 128 bytes: headers, ACKs): native-endian 64-bit words added
//!   into one 128-bit accumulator in straight-line pieces of 64, 32, 16 and 8 bytes
//!   (each taken at most once at these lengths), then 4, 2 and 1.
//! - **Scalar** (128 bytes and more without a vector unit): 32 bytes at a time as four
//!   native-endian 64-bit words added into two 128-bit accumulators; each addition is
//!   one add and one add-with-carry, so the carries out of bit 63 are kept rather than
//!   masked off word by word. Without the vector instructions, the compiler's own
//!   vectorization of the first loop (SSE2) is slower than this one.
//!
//! All fold the total to 16 bits at the end, with end-around carries (branch-free),
//! and swap to network order; none overflows whatever the input length.
//!
//! [`sum_copy`] copies while it sums: the sender's path from its send buffer into a
//! datagram, and the receiver's from a datagram into its receive buffer (the checksum
//! verified in the same pass). The vector loop stores each word from the register it
//! loaded it into for the sum: one read of the data instead of two.
//!
//! [`Checksum`] accumulates a sum over several pieces (pseudo-header, header, payload),
//! pieces of odd length included (RFC 1071 §2 (B), byte-order independence).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::WireError;

/// Fold a wide ones' complement accumulator to 16 bits (end-around carry): the two
/// 32-bit halves are added and the carry out of that addition added back, then the same
/// with the two 16-bit halves (`2^32 ≡ 2^16 ≡ 1` modulo `2^16 - 1`, RFC 1071 §2 (C)).
/// No loop, no branch. Zero stays zero and anything else gives a value in
/// `1..=0xffff`, the same as folding one carry at a time.
#[inline(always)]
pub(crate) fn fold(acc: u64) -> u16 {
    let (s, carry) = (acc as u32).overflowing_add((acc >> 32) as u32);
    // `s` is at most 2^32 - 2 when a carry came out: adding it back cannot carry.
    let s = s + u32::from(carry);
    add16(s as u16, (s >> 16) as u16)
}

/// The ones' complement sum of two 16-bit values (end-around carry).
#[inline(always)]
pub(crate) fn add16(a: u16, b: u16) -> u16 {
    let (s, carry) = a.overflowing_add(b);
    // At most 2^16 - 2 when a carry came out: adding it back cannot carry.
    s + u16::from(carry)
}

/// Fold a 128-bit ones' complement accumulator to 64 bits (end-around carry): `2^64 ≡ 1`
/// modulo `2^16 - 1`, so the high half is added to the low half, and so is the carry.
#[inline]
fn fold128(acc: u128) -> u64 {
    let (low, carry) = (acc as u64).overflowing_add((acc >> 64) as u64);
    // `low` is at most 2^64 - 2 when a carry came out, so adding it back cannot carry.
    low + u64::from(carry)
}

/// One native-endian 64-bit word, widened.
#[inline(always)]
fn word(bytes: &[u8; 8]) -> u128 {
    u128::from(u64::from_ne_bytes(*bytes))
}

/// Below this many bytes the scalar loop is as fast as the vector one (measured: the
/// same at 40 bytes) and needs no dispatch.
const VECTOR_MIN: usize = 128;

/// Sum `data` into a 64-bit accumulator that is the ones' complement sum modulo
/// `2^16 - 1`, in native byte order (16-bit words read as the machine reads them).
#[inline]
fn sum_wide(data: &[u8]) -> u64 {
    if data.len() >= VECTOR_MIN {
        sum_vector(data)
    } else {
        sum_short(data)
    }
}

/// [`sum_split_words`] where the CPU has a vector unit, else [`sum_scalar`];
/// the version for this CPU is picked at the first call.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2",
    "x86_64+avx2",
    "aarch64+neon"
))]
fn sum_vector(data: &[u8]) -> u64 {
    // Two sets of lanes where the registers hold them (32 of 512 bits: four registers
    // a set), one where they do not: AVX2 has 16 registers of 256 bits and NEON 32 of
    // 128, and one set takes eight of AVX2's or sixteen of NEON's, so a second set
    // spills to the stack in the loop (seen in AVX2's code: 65,495 bytes took 950 to
    // 1,006 ns on a Zen 3 core with two sets, 675 to 890 ns with one).
    multiversion::target::match_target! {
        "x86_64+avx512f+avx512bw+avx512vl+avx2" => sum_split_words::<2>(data),
        "x86_64+avx2" => sum_split_words::<1>(data),
        "aarch64+neon" => sum_split_words::<1>(data),
        _ => sum_scalar(data),
    }
}

/// Bytes the vector loop takes per step: 32 native-endian 32-bit words (64 16-bit ones).
const STEP: usize = 128;

/// 32-bit lanes in each of the vector loop's sets: one 32-bit word per lane per step.
const LANES: usize = STEP / 4;

/// Steps added into the lanes before they are emptied (64 KiB). With the tail's step,
/// at most `GROUP + 1` steps go into the lanes between two emptyings; see [`Lanes`]
/// for the bound.
const GROUP: usize = 512;

/// Masks for the last step: bytes `r..r + STEP` of this table keep the last `r` bytes
/// of a step and zero the others (`r` even, `2..STEP`).
static TAIL_MASKS: [u8; 2 * STEP] = {
    let mut m = [0u8; 2 * STEP];
    let mut i = STEP;
    while i < 2 * STEP {
        m[i] = 0xff;
        i += 1;
    }
    m
};

/// The vector loop: `data` as native-endian 32-bit words, [`LANES`] per step, added
/// into `SETS` sets of [`Lanes`] (with two, even steps into one and odd steps into the
/// other, so that no register waits on the addition just before it; with one, the
/// four or eight registers of a set already make as many independent chains). A word `w = lo + 2^16 hi` is
/// added whole into its lane of `all`, wrapping, and its high half `hi` into its lane
/// of `high`; the low halves' sum is recovered when the lanes are emptied, and `lo + hi`
/// is `w` modulo `2^16 - 1` (RFC 1071 §2 (B), (C)). Three vector instructions per
/// 64 bytes (add, shift, add), none of them a shuffle. The words left after the last
/// whole step are summed as one more step over the last [`STEP`] bytes, the words
/// already summed masked to zero: no scalar loop runs for the tail. Data shorter than
/// one step goes to [`sum_scalar`]. Inlined into each [`sum_vector`] clone, so it is
/// compiled with that clone's instruction set.
#[inline(always)]
fn sum_split_words<const SETS: usize>(data: &[u8]) -> u64 {
    let (steps, _) = data.as_chunks::<STEP>();
    let Some((tail, odd)) = tail_parts(data) else {
        return sum_scalar(data);
    };
    let (whole, last) = split_last_group(steps);
    let mut sets: [Lanes; SETS] = core::array::from_fn(|_| Lanes::default());
    let mut total = odd;
    for group in whole.chunks_exact(GROUP) {
        add_group(&mut sets, group);
        total = add_end_around(total, Lanes::empty(&mut sets));
    }
    add_group(&mut sets, last);
    add_tail(&mut sets, tail);
    add_end_around(total, Lanes::empty(&mut sets))
}

/// `steps` split into whole groups and a last (possibly whole) group, so that the last
/// group and the tail are emptied together: one emptying for data up to 64 KiB.
#[inline(always)]
fn split_last_group(steps: &[[u8; STEP]]) -> (&[[u8; STEP]], &[[u8; STEP]]) {
    let last_len = match steps.len() % GROUP {
        0 => GROUP,
        r => r,
    };
    steps.split_at(steps.len().saturating_sub(last_len))
}

/// The last [`STEP`] even bytes of some data and the mask that keeps the words of them
/// that no whole step took.
type Tail<'a> = (&'a [u8; STEP], &'a [u8; STEP]);

/// What the vector loops add after `data`'s whole steps: the data's last [`STEP`] even
/// bytes with the mask that keeps only the words no whole step took (`None` when every
/// even byte is in a whole step), and an odd final byte padded with a zero after it
/// (RFC 1071). `None` for data shorter than one step.
#[inline(always)]
fn tail_parts(data: &[u8]) -> Option<(Option<Tail<'_>>, u64)> {
    let (even, odd) = data.split_at(data.len() & !1);
    let window = even.last_chunk::<STEP>()?;
    let odd = odd
        .first()
        .map_or(0, |&b| u64::from(u16::from_ne_bytes([b, 0])));
    // Even, and below `STEP`: the mask is always there.
    let rest = even.len() % STEP;
    if rest == 0 {
        return Some((None, odd));
    }
    let mask = TAIL_MASKS
        .get(rest..)
        .and_then(<[u8]>::first_chunk::<STEP>)?;
    Some((Some((window, mask)), odd))
}

/// The tail of [`tail_parts`] into the first set of lanes.
#[inline(always)]
fn add_tail<const SETS: usize>(sets: &mut [Lanes; SETS], tail: Option<(&[u8; STEP], &[u8; STEP])>) {
    if let (Some((window, mask)), Some(set)) = (tail, sets.first_mut()) {
        // The words before the tail's are masked out: a whole step summed them.
        set.add_masked(window, mask);
    }
}

/// The steps of `group`, in turn into each set.
#[inline(always)]
fn add_group<const SETS: usize>(sets: &mut [Lanes; SETS], group: &[[u8; STEP]]) {
    let (rounds, last) = group.as_chunks::<SETS>();
    for round in rounds {
        for (set, step) in sets.iter_mut().zip(round) {
            set.add(step);
        }
    }
    for (set, step) in sets.iter_mut().zip(last) {
        set.add(step);
    }
}

/// [`sum_split_words`] that also copies `src` into `dst` (of the same length) as it
/// reads it, one step at a time, where the CPU has a vector unit; else a copy and
/// [`sum_scalar`]. One pass over the data instead of two ([`sum_copy`]).
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2",
    "x86_64+avx2",
    "aarch64+neon"
))]
fn sum_copy_vector(src: &[u8], dst: &mut [u8], backward: bool) -> u64 {
    multiversion::target::match_target! {
        "x86_64+avx512f+avx512bw+avx512vl+avx2" => sum_copy_directed::<2>(src, dst, backward),
        "x86_64+avx2" => sum_copy_directed::<1>(src, dst, backward),
        "aarch64+neon" => sum_copy_directed::<1>(src, dst, backward),
        _ => {
            let _ = backward; // no vector loop: one plain copy
            dst.copy_from_slice(src);
            sum_scalar(src)
        }
    }
}

/// [`sum_copy_split_words`] in the direction `backward` asks for.
#[inline(always)]
fn sum_copy_directed<const SETS: usize>(src: &[u8], dst: &mut [u8], backward: bool) -> u64 {
    if backward {
        sum_copy_split_words::<SETS, true>(src, dst)
    } else {
        sum_copy_split_words::<SETS, false>(src, dst)
    }
}

/// How far past the source (modulo 4 KiB) a destination makes [`sum_copy`] copy from
/// the last step to the first. A load whose address matches a store still in flight in
/// its low twelve bits may be held as if it read that store ("4K aliasing"): copying
/// forwards to a destination a little past the source, modulo 4 KiB, each step's loads
/// match the stores of the steps just before. Measured on a Zen 3 core (1,448 bytes,
/// fastest of 15 runs at each distance): in some processes, not all, the forward copy
/// took 46 to 207 ns at distances up to about 450 bytes against 41 to 45 ns at the
/// others; backwards, 31 to 46 ns at every distance. Backwards, the stores just made
/// lie above the loads that follow, nearly 4 KiB away in the low twelve bits.
const ALIAS_WINDOW: usize = 512;

/// Whether `dst` lies less than [`ALIAS_WINDOW`] bytes past `src` modulo 4 KiB: then
/// [`sum_copy`] copies from the last step to the first.
#[inline(always)]
fn copy_backward(src: &[u8], dst: &[u8]) -> bool {
    let distance = (dst.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize) % 4096;
    distance < ALIAS_WINDOW
}

/// The copying form of [`sum_split_words`], with the same groups and tail: each whole
/// step of `src` is stored to `dst` and added to the lanes from the same registers.
/// The tail's window (the last [`STEP`] even bytes) is stored whole too, from the
/// registers its masked words are summed from: the bytes a whole step already copied
/// are written again with the same values, and no call copies the last bytes (a call
/// made while the lanes are live spills them; made after, it cost some forty
/// instructions a segment). An odd final byte is copied on its own. `dst` is as long as
/// `src` (the caller's slices). `BACKWARD` takes the steps from the last to the first
/// (see [`ALIAS_WINDOW`]); the sum is the same either way.
#[inline(always)]
fn sum_copy_split_words<const SETS: usize, const BACKWARD: bool>(
    src: &[u8],
    dst: &mut [u8],
) -> u64 {
    let Some((tail, odd)) = tail_parts(src) else {
        dst.copy_from_slice(src);
        return sum_scalar(src);
    };
    let even = src.len() & !1;
    let (steps, _) = src.as_chunks::<STEP>();
    let (whole_groups, last) = split_last_group(steps);
    let (dst_even, dst_odd) = dst.split_at_mut(even.min(dst.len()));
    if let (Some(&byte), Some(out)) = (src.get(even), dst_odd.first_mut()) {
        *out = byte;
    }
    let mut sets: [Lanes; SETS] = core::array::from_fn(|_| Lanes::default());
    let mut total = odd;
    // Zero, which the compiler cannot see is zero: see `Lanes::add_copy`.
    let opaque_zero = core::hint::black_box(0u32);
    let copy_tail = |sets: &mut [Lanes; SETS], dst_even: &mut [u8]| {
        if let (Some((window, mask)), Some(set), Some(out)) =
            (tail, sets.first_mut(), dst_even.last_chunk_mut::<STEP>())
        {
            set.add_copy_masked(window, mask, out, opaque_zero);
        }
    };
    if steps.len() <= GROUP {
        // One group (a segment's payload, up to 64 KiB): none of the splitting below.
        if BACKWARD {
            copy_tail(&mut sets, dst_even);
        }
        let (out, _) = dst_even.as_chunks_mut::<STEP>();
        add_copy_group::<SETS, BACKWARD>(&mut sets, steps, out, opaque_zero);
        if !BACKWARD {
            copy_tail(&mut sets, dst_even);
        }
    } else if BACKWARD {
        // The tail and the last group, then the whole groups from the last: still at
        // most `GROUP + 1` steps between two emptyings.
        copy_tail(&mut sets, dst_even);
        let (out, _) = dst_even.as_chunks_mut::<STEP>();
        let (out_whole, out_last) = out.split_at_mut(whole_groups.len().min(out.len()));
        add_copy_group::<SETS, true>(&mut sets, last, out_last, opaque_zero);
        let groups = whole_groups
            .chunks_exact(GROUP)
            .zip(out_whole.chunks_exact_mut(GROUP));
        for (group, out_group) in groups.rev() {
            total = add_end_around(total, Lanes::empty(&mut sets));
            add_copy_group::<SETS, true>(&mut sets, group, out_group, opaque_zero);
        }
    } else {
        let (out, _) = dst_even.as_chunks_mut::<STEP>();
        let (out_whole, out_last) = out.split_at_mut(whole_groups.len().min(out.len()));
        let groups = whole_groups
            .chunks_exact(GROUP)
            .zip(out_whole.chunks_exact_mut(GROUP));
        for (group, out_group) in groups {
            add_copy_group::<SETS, false>(&mut sets, group, out_group, opaque_zero);
            total = add_end_around(total, Lanes::empty(&mut sets));
        }
        add_copy_group::<SETS, false>(&mut sets, last, out_last, opaque_zero);
        copy_tail(&mut sets, dst_even);
    }
    add_end_around(total, Lanes::empty(&mut sets))
}

/// [`add_group`] that also stores each step to its place in `out`; with `BACKWARD`,
/// from the last step to the first.
#[inline(always)]
fn add_copy_group<const SETS: usize, const BACKWARD: bool>(
    sets: &mut [Lanes; SETS],
    group: &[[u8; STEP]],
    out: &mut [[u8; STEP]],
    zero: u32,
) {
    let (rounds, last) = group.as_chunks::<SETS>();
    let (out_rounds, out_last) = out.as_chunks_mut::<SETS>();
    if BACKWARD {
        add_copy_round::<SETS, true>(sets, last, out_last, zero);
        for (round, out_round) in rounds.iter().zip(out_rounds).rev() {
            add_copy_round::<SETS, true>(sets, round, out_round, zero);
        }
    } else {
        for (round, out_round) in rounds.iter().zip(out_rounds) {
            add_copy_round::<SETS, false>(sets, round, out_round, zero);
        }
        add_copy_round::<SETS, false>(sets, last, out_last, zero);
    }
}

/// Up to `SETS` steps, one into each set, stored to `out`; with `BACKWARD`, the last
/// step first.
#[inline(always)]
fn add_copy_round<const SETS: usize, const BACKWARD: bool>(
    sets: &mut [Lanes; SETS],
    steps: &[[u8; STEP]],
    out: &mut [[u8; STEP]],
    zero: u32,
) {
    let each = sets.iter_mut().zip(steps).zip(out);
    if BACKWARD {
        for ((set, step), o) in each.rev() {
            set.add_copy(step, o, zero);
        }
    } else {
        for ((set, step), o) in each {
            set.add_copy(step, o, zero);
        }
    }
}

/// `a + b` with the carry out of bit 63 added back (`2^64 ≡ 1` modulo `2^16 - 1`), so a
/// 64-bit total cannot overflow however long the data.
#[inline(always)]
fn add_end_around(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    // `s` is at most 2^64 - 2 when a carry came out: adding it back cannot carry.
    s + u64::from(carry)
}

/// One set of lanes of [`sum_split_words`]: lane `i` takes word `i` of each step.
///
/// After `n` words `w_k = lo_k + 2^16 hi_k`, `high` holds `H = Σ hi_k` and `all` holds
/// `Σ w_k` modulo `2^32`, so `all - 2^16 H` is `L = Σ lo_k` modulo `2^32`, and exactly `L`
/// while `L < 2^32`. With `n <= GROUP + 1 = 513` (all the sets' lanes taken together, the
/// tail's step included), `L` and `H` are at most `513 * (2^16 - 1) < 2^25.1`, and the
/// 32 lanes' `L + H` add up to less than `2^31.1`: no 32-bit value overflows.
#[derive(Default)]
struct Lanes {
    /// Whole words, wrapping.
    all: [u32; LANES],
    /// High halves.
    high: [u32; LANES],
}

impl Lanes {
    /// Word `i` of `step` into lane `i`.
    #[inline(always)]
    fn add(&mut self, step: &[u8; STEP]) {
        let (words, _) = step.as_chunks::<4>();
        for ((all, high), w) in self.all.iter_mut().zip(&mut self.high).zip(words) {
            let w = u32::from_ne_bytes(*w);
            *all = all.wrapping_add(w);
            *high += w >> 16;
        }
    }

    /// [`Lanes::add`] of `step`, each word also stored to `out` from the register it
    /// was loaded into, XORed with `zero` (0, but opaque to the compiler: a loop that
    /// stores exactly the words it loads is turned into a separate `memcpy`, and then
    /// every word is read twice).
    #[inline(always)]
    fn add_copy(&mut self, step: &[u8; STEP], out: &mut [u8; STEP], zero: u32) {
        let (words, _) = step.as_chunks::<4>();
        let (outs, _) = out.as_chunks_mut::<4>();
        let lanes = self.all.iter_mut().zip(&mut self.high);
        for (((all, high), w), o) in lanes.zip(words).zip(outs) {
            let w = u32::from_ne_bytes(*w);
            *o = (w ^ zero).to_ne_bytes();
            *all = all.wrapping_add(w);
            *high += w >> 16;
        }
    }

    /// [`Lanes::add_masked`] of `step` and `mask`, the whole of `step` also stored to
    /// `out` (as [`Lanes::add_copy`] stores it).
    #[inline(always)]
    fn add_copy_masked(
        &mut self,
        step: &[u8; STEP],
        mask: &[u8; STEP],
        out: &mut [u8; STEP],
        zero: u32,
    ) {
        let (words, _) = step.as_chunks::<4>();
        let (masks, _) = mask.as_chunks::<4>();
        let (outs, _) = out.as_chunks_mut::<4>();
        let lanes = self.all.iter_mut().zip(&mut self.high);
        for ((((all, high), w), m), o) in lanes.zip(words).zip(masks).zip(outs) {
            let w = u32::from_ne_bytes(*w);
            *o = (w ^ zero).to_ne_bytes();
            let w = w & u32::from_ne_bytes(*m);
            *all = all.wrapping_add(w);
            *high += w >> 16;
        }
    }

    /// [`Lanes::add`] of `step` ANDed with `mask`.
    #[inline(always)]
    fn add_masked(&mut self, step: &[u8; STEP], mask: &[u8; STEP]) {
        let (words, _) = step.as_chunks::<4>();
        let (masks, _) = mask.as_chunks::<4>();
        let lanes = self.all.iter_mut().zip(&mut self.high);
        for (((all, high), w), m) in lanes.zip(words).zip(masks) {
            let w = u32::from_ne_bytes(*w) & u32::from_ne_bytes(*m);
            *all = all.wrapping_add(w);
            *high += w >> 16;
        }
    }

    /// `Σ (L + H)` over the lanes of all the sets (congruent to the sum of the words
    /// they took, modulo `2^16 - 1`), and the lanes zeroed. The sets are merged lane by
    /// lane first (`all` wrapping, `high` exact: the bound above counts every set's
    /// steps), then reduced once.
    #[inline(always)]
    fn empty<const SETS: usize>(sets: &mut [Lanes; SETS]) -> u64 {
        let mut merged = Lanes::default();
        for set in sets.iter_mut() {
            let lanes = merged.all.iter_mut().zip(&mut merged.high);
            for ((all, high), (a, h)) in lanes.zip(set.all.iter().zip(&set.high)) {
                *all = all.wrapping_add(*a);
                *high += h;
            }
            *set = Lanes::default();
        }
        u64::from(merged.total())
    }

    /// `Σ (L + H)` over this set's lanes, as `Σ all - 2^16 Σ high + Σ high` modulo
    /// `2^32`: exact, since `Σ L` is below `2^32` (the bound above) and `Σ high` too.
    /// Two plain sums of the lanes, which stay in vector registers; written lane by
    /// lane (`L + H` for each, then added), the compiler moved the lanes about with
    /// some seventy shuffles (AVX2).
    #[inline(always)]
    fn total(&self) -> u32 {
        let all = self.all.iter().fold(0u32, |s, &w| s.wrapping_add(w));
        let high = self.high.iter().fold(0u32, |s, &h| s.wrapping_add(h));
        all.wrapping_sub(high << 16).wrapping_add(high)
    }
}

/// The scalar loop: a slice holds fewer than `2^61` words of less than `2^64` each, so
/// neither 128-bit accumulator can overflow, whatever the length.
#[inline]
fn sum_scalar(data: &[u8]) -> u64 {
    let mut acc = [0u128; 2];
    let (chunks, rest) = data.as_chunks::<32>();
    for chunk in chunks {
        let (a, b) = chunk.split_at(16);
        let (a0, a1) = a.split_at(8);
        let (b0, b1) = b.split_at(8);
        let w = |s: &[u8]| s.first_chunk::<8>().map_or(0, word);
        acc[0] += w(a0) + w(a1);
        acc[1] += w(b0) + w(b1);
    }
    let (words, rest) = rest.as_chunks::<8>();
    for w in words {
        acc[0] += word(w);
    }
    fold128(acc[0] + acc[1] + u128::from(sum_tail(rest)))
}

/// The last bytes of a sum, at most 7, starting at an even offset: fixed-size reads (no
/// call to `memcpy` for a handful of bytes); an odd final byte is padded with a zero
/// after it, the RFC 1071 rule.
#[inline(always)]
fn sum_tail(mut rest: &[u8]) -> u64 {
    let mut tail = 0u64;
    if let Some((four, r)) = rest.split_first_chunk::<4>() {
        tail += u64::from(u32::from_ne_bytes(*four));
        rest = r;
    }
    if let Some((two, r)) = rest.split_first_chunk::<2>() {
        tail += u64::from(u16::from_ne_bytes(*two));
        rest = r;
    }
    if let Some(&last) = rest.first() {
        tail += u64::from(u16::from_ne_bytes([last, 0]));
    }
    tail
}

/// The loop for short data (below [`VECTOR_MIN`], headers above all): the bytes taken
/// as native-endian 64-bit words added into a 128-bit accumulator (one add and one
/// add-with-carry each), in pieces of 64, 32, 16 and 8 bytes, then 4, 2 and 1. Below
/// 128 bytes each piece is taken at most once, so the code is straight-line: no loop
/// counter and no unrolled-loop set-up, which cost more than the additions themselves
/// on a 20 to 60-byte header. Correct for any length (the 64-byte piece is a loop).
/// Always inline: every segment's header takes it, and called it cost a connection
/// cycle's seven segments 40 instructions more (callgrind).
#[inline(always)]
fn sum_short(data: &[u8]) -> u64 {
    let mut acc: u128 = 0;
    let mut rest = data;
    while let Some((piece, r)) = rest.split_first_chunk::<64>() {
        acc += sum_u64s(piece);
        rest = r;
    }
    if let Some((piece, r)) = rest.split_first_chunk::<32>() {
        acc += sum_u64s(piece);
        rest = r;
    }
    if let Some((piece, r)) = rest.split_first_chunk::<16>() {
        acc += sum_u64s(piece);
        rest = r;
    }
    if let Some((piece, r)) = rest.split_first_chunk::<8>() {
        acc += word(piece);
        rest = r;
    }
    // A slice holds fewer than 2^61 words of less than 2^64: no overflow.
    fold128(acc + u128::from(sum_tail(rest)))
}

/// The native-endian 64-bit words of `N` bytes (a multiple of 8), added.
#[inline(always)]
fn sum_u64s<const N: usize>(bytes: &[u8; N]) -> u128 {
    let (words, _) = bytes.as_chunks::<8>();
    words.iter().map(word).sum()
}

/// [`sum`] of a short array of whole 32-bit words (an IPv4 header, say), with no loop
/// set-up: the words are read big-endian and added as integers, so the result needs no
/// byte swap. Gives exactly what [`sum`] gives for the same bytes.
#[inline(always)]
pub fn sum_words<const N: usize>(bytes: &[u8; N]) -> u16 {
    let (words, rest) = bytes.as_chunks::<4>();
    let mut acc: u64 = 0;
    for w in words {
        acc += u64::from(u32::from_be_bytes(*w));
    }
    // Whole words are the intended use; any tail still follows RFC 1071.
    for (i, &b) in rest.iter().enumerate() {
        acc += u64::from(b) << (8 * (1 - i % 2));
    }
    fold(acc)
}

/// The ones' complement sum (RFC 1071) of `data` taken as big-endian 16-bit words, an
/// odd final byte padded with zero. Not complemented: see [`checksum`] for that.
pub fn sum(data: &[u8]) -> u16 {
    to_network(sum_wide(data))
}

/// Copy `src` into `dst` (which must be as long) and return [`sum`] of `src`, in one
/// pass: each piece is summed from the registers it was loaded into for the copy. The
/// sender's path: a segment's payload goes from the send buffer into the datagram, and
/// its sum into the checksum. Lengths that differ copy and sum nothing beyond the
/// shorter (a caller's error, not a panic): the sum is of what was copied.
pub fn sum_copy(src: &[u8], dst: &mut [u8]) -> u16 {
    let n = src.len().min(dst.len());
    let (src, dst) = (&src[..n], &mut dst[..n]);
    if n >= VECTOR_MIN {
        let backward = copy_backward(src, dst);
        to_network(sum_copy_vector(src, dst, backward))
    } else {
        dst.copy_from_slice(src);
        to_network(sum_short(src))
    }
}

/// A wide sum taken in native order, folded to 16 bits and put in network
/// (big-endian) order (RFC 1071 §2 (B)).
#[inline]
fn to_network(wide: u64) -> u16 {
    u16::from_be(fold(wide))
}

/// The Internet checksum of `data`: the ones' complement of [`sum`] (RFC 1071 §1).
/// Computed over data whose checksum field holds this value, [`sum`] gives `0xffff`.
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// An incremental Internet checksum over data given in pieces of any length.
///
/// ```
/// use synack_wire::checksum::{self, Checksum};
/// let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
/// let mut c = Checksum::new();
/// c.add_bytes(&data[..3]).add_bytes(&data[3..]);
/// assert_eq!(c.sum(), checksum::sum(&data));
/// assert_eq!(c.sum(), 0xddf2); // RFC 1071 §3
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Folded sum so far, always `<= 0xffff`.
    acc: u16,
    /// True when an odd number of bytes has been added: the next byte is the low byte
    /// of a word.
    odd: bool,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Checksum { acc: 0, odd: false }
    }

    /// Add `data`, which continues the byte stream added so far.
    pub fn add_bytes(&mut self, data: &[u8]) -> &mut Self {
        let mut s = sum(data);
        if self.odd {
            // Data starting at an odd offset: its bytes sit in the other half of each
            // word, and ones' complement sums commute with byte swapping (RFC 1071 §2 (B)).
            s = s.swap_bytes();
        }
        self.acc = add16(self.acc, s);
        self.odd ^= data.len() % 2 == 1;
        self
    }

    /// Add a 16-bit value in network byte order.
    pub fn add_u16(&mut self, value: u16) -> &mut Self {
        self.add_bytes(&value.to_be_bytes())
    }

    /// Add a 32-bit value in network byte order.
    pub fn add_u32(&mut self, value: u32) -> &mut Self {
        self.add_bytes(&value.to_be_bytes())
    }

    /// The ones' complement sum so far (`0xffff` over data carrying a valid checksum).
    pub const fn sum(&self) -> u16 {
        self.acc
    }

    /// The checksum to write: the ones' complement of [`Checksum::sum`].
    pub const fn finish(&self) -> u16 {
        !self.acc
    }
}

/// The pseudo-header sum for an upper-layer protocol over IPv4 (RFC 9293 §3.1): source
/// and destination address, zero, protocol, and the upper-layer length (TCP header plus
/// data).
#[inline(always)]
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> Checksum {
    // Twelve bytes, all whole 16-bit words: summed as integers, folded once (this runs
    // for every segment sent and received).
    let word_pair = |x: u32| u64::from(x >> 16) + u64::from(x & 0xffff);
    let acc =
        word_pair(src.to_bits()) + word_pair(dst.to_bits()) + u64::from(protocol) + u64::from(len);
    Checksum {
        acc: fold(acc),
        odd: false,
    }
}

/// The pseudo-header sum for an upper-layer protocol over IPv6 (RFC 8200 §8.1): source
/// and (final) destination address, the 32-bit upper-layer length, three zero bytes and
/// the next header value.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(&src.octets())
        .add_bytes(&dst.octets())
        .add_u32(len)
        .add_u32(u32::from(next_header));
    c
}

/// The pseudo-header sum for either family; [`WireError::AddressFamilyMismatch`] if
/// `src` and `dst` differ in family, [`WireError::PacketTooLarge`] if `len` does not
/// fit the family's length field (16 bits for IPv4, 32 for IPv6).
pub fn pseudo_header(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    len: usize,
) -> Result<Checksum, WireError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = u16::try_from(len).map_err(|_| WireError::PacketTooLarge)?;
            Ok(pseudo_header_v4(s, d, protocol, len))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = u32::try_from(len).map_err(|_| WireError::PacketTooLarge)?;
            Ok(pseudo_header_v6(s, d, protocol, len))
        }
        _ => Err(WireError::AddressFamilyMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straight from the definition: 16-bit words into a u32, end-around carry.
    fn reference(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
            acc += u32::from(word);
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    /// Fold one carry at a time, the way the definition reads.
    fn fold_reference(mut acc: u64) -> u16 {
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn fold_edge_values_match_folding_carry_by_carry() {
        for acc in [
            0,
            1,
            0xfffe,
            0xffff,
            0x1_0000,
            0x1_fffe,
            0x1_ffff,
            0xffff_ffff,
            0x1_0000_0000,
            0xffff_fffe_ffff_ffff,
            0xffff_ffff_0000_0000,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(fold(acc), fold_reference(acc), "{acc:#x}");
        }
        assert_eq!(add16(0xffff, 0xffff), 0xffff);
        assert_eq!(add16(0xffff, 1), 1);
        assert_eq!(add16(0, 0), 0);
    }

    /// Every length up to 300 at every alignment up to 8, with two fillings (one that
    /// carries out of every 64-bit addition): each piece and tail of the short loop.
    #[test]
    fn short_sum_matches_the_definition_at_every_length_and_alignment() {
        let mixed: Vec<u8> = (0..310u32).map(|i| (i * 151 + 7) as u8).collect();
        let ones = vec![0xffu8; 310];
        for data in [&mixed, &ones] {
            for skip in 0..8 {
                for len in 0..=300 {
                    let d = &data[skip..skip + len];
                    assert_eq!(
                        to_network(sum_short(d)),
                        reference(d),
                        "len {len} skip {skip}"
                    );
                    assert_eq!(sum(d), reference(d), "len {len} skip {skip}");
                }
            }
        }
    }

    proptest::proptest! {
        /// The fixed-size path agrees with the general one, odd tails included.
        #[test]
        fn sum_words_matches_sum(a in proptest::array::uniform20(proptest::num::u8::ANY),
                                 b in proptest::array::uniform7(proptest::num::u8::ANY)) {
            proptest::prop_assert_eq!(sum_words(&a), sum(&a));
            proptest::prop_assert_eq!(sum_words(&b), sum(&b));
        }
    }

    #[test]
    fn rfc1071_example_sums_to_ddf2() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn empty_data_sums_to_zero() {
        assert_eq!(sum(&[]), 0);
        assert_eq!(checksum(&[]), 0xffff);
    }

    #[test]
    fn odd_final_byte_is_padded_with_zero() {
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[0x12, 0x34, 0xab]), 0x12 * 256 + 0x34 + 0xab00);
    }

    proptest::proptest! {
        /// Every length, so each tail of the 32-byte loop (whole words, an odd byte)
        /// is exercised, at every alignment of the slice; and each loop on its own,
        /// whichever one [`sum`] picks on this CPU and length.
        #[test]
        fn sum_matches_the_definition(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            skip in 0usize..8,
        ) {
            let data = &data[skip.min(data.len())..];
            let want = reference(data);
            proptest::prop_assert_eq!(sum(data), want);
            proptest::prop_assert_eq!(to_network(sum_scalar(data)), want);
            proptest::prop_assert_eq!(to_network(sum_short(data)), want);
            proptest::prop_assert_eq!(to_network(sum_vector(data)), want);
            proptest::prop_assert_eq!(to_network(sum_split_words::<1>(data)), want);
            proptest::prop_assert_eq!(to_network(sum_split_words::<2>(data)), want);
        }

        /// `sum_copy` copies every byte and sums what it copied, at every length and
        /// alignment of either slice, whichever loop this CPU takes; and each copying
        /// loop on its own, with one set of lanes and with two.
        #[test]
        fn sum_copy_copies_and_sums(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..700),
            skip in 0usize..8,
            out_skip in 0usize..8,
        ) {
            let data = &data[skip.min(data.len())..];
            let want = reference(data);
            let mut out = vec![0x5a; data.len() + out_skip];
            proptest::prop_assert_eq!(sum_copy(data, &mut out[out_skip..]), want);
            proptest::prop_assert_eq!(&out[out_skip..], data);
            if data.len() >= STEP {
                for (sets, backward) in [(1, false), (2, false), (1, true), (2, true)] {
                    let mut out = vec![0x5a; data.len()];
                    let wide = match (sets, backward) {
                        (1, false) => sum_copy_split_words::<1, false>(data, &mut out),
                        (1, true) => sum_copy_split_words::<1, true>(data, &mut out),
                        (_, false) => sum_copy_split_words::<2, false>(data, &mut out),
                        (_, true) => sum_copy_split_words::<2, true>(data, &mut out),
                    };
                    proptest::prop_assert_eq!(
                        to_network(wide), want, "{} sets, backward {}", sets, backward
                    );
                    proptest::prop_assert_eq!(&out[..], data);
                }
            }
        }

        /// The branch-free fold gives what folding one carry at a time gives.
        #[test]
        fn fold_matches_folding_carry_by_carry(acc in proptest::prelude::any::<u64>()) {
            proptest::prop_assert_eq!(fold(acc), fold_reference(acc));
        }

        /// Two 16-bit values added with end-around carry, as the fold of their sum.
        #[test]
        fn add16_matches_fold(a in proptest::prelude::any::<u16>(),
                              b in proptest::prelude::any::<u16>()) {
            proptest::prop_assert_eq!(add16(a, b), fold_reference(u64::from(a) + u64::from(b)));
        }

        /// Lengths around the vector loop's 64 KiB blocks, odd ones included: the
        /// block boundaries and the padded last byte.
        #[test]
        fn vector_blocks_match_the_definition(
            len in (1usize << 16) - 3..(3usize << 16) + 3,
            seed in proptest::prelude::any::<u8>(),
        ) {
            let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
            let want = reference(&data);
            proptest::prop_assert_eq!(sum(&data), want);
            proptest::prop_assert_eq!(to_network(sum_vector(&data)), want);
            proptest::prop_assert_eq!(to_network(sum_scalar(&data)), want);
        }
    }

    #[test]
    fn all_ones_never_overflows_and_matches_reference() {
        // Every 64-bit addition carries: 16 MiB of them, and an odd tail. In the
        // vector loop each 64 KiB block of 0xffff words comes closest to 2^31.
        let data = vec![0xffu8; (16 << 20) + 5];
        assert_eq!(sum(&data), reference(&data));
        assert_eq!(to_network(sum_scalar(&data)), reference(&data));
        assert_eq!(to_network(sum_vector(&data)), reference(&data));
    }

    /// Lengths around one and two groups of the vector loop, where the most steps go
    /// into the lanes before they are emptied (a whole group and the tail's step),
    /// with fillings that make every lane's `all` wrap (all ones), leave the high
    /// halves at zero or at their maximum, or mix.
    #[test]
    fn vector_group_bounds_hold_with_extreme_words() {
        let fillings: [fn(usize) -> u8; 5] = [
            |_| 0xff,
            |i| if i % 4 < 2 { 0xff } else { 0 },
            |i| if i % 4 < 2 { 0 } else { 0xff },
            |i| if i % 2 == 0 { 0x80 } else { 0 },
            |i| (i as u8).wrapping_mul(151) | 0xc0,
        ];
        let block = GROUP * STEP;
        let lens = (block - STEP - 3..block + STEP + 3).chain(2 * block - 3..2 * block + STEP + 3);
        for len in lens {
            for (f, fill) in fillings.iter().enumerate() {
                let data: Vec<u8> = (0..len).map(fill).collect();
                let want = reference(&data);
                assert_eq!(
                    to_network(sum_split_words::<1>(&data)),
                    want,
                    "one set, len {len} filling {f}"
                );
                assert_eq!(
                    to_network(sum_split_words::<2>(&data)),
                    want,
                    "two sets, len {len} filling {f}"
                );
                assert_eq!(sum(&data), want, "len {len} filling {f}");
                let mut out = vec![0; len];
                assert_eq!(
                    sum_copy(&data, &mut out),
                    want,
                    "copied, len {len} filling {f}"
                );
                assert_eq!(out, data, "copied, len {len} filling {f}");
                let mut out = vec![0; len];
                assert_eq!(
                    to_network(sum_copy_split_words::<1, false>(&data, &mut out)),
                    want,
                    "copied, one set, len {len} filling {f}"
                );
                let mut out = vec![0; len];
                assert_eq!(
                    to_network(sum_copy_split_words::<2, false>(&data, &mut out)),
                    want,
                    "copied, two sets, len {len} filling {f}"
                );
            }
        }
    }

    /// Whatever the destination's distance past the source modulo 4 KiB, which decides
    /// whether `sum_copy` copies forwards or backwards (`ALIAS_WINDOW`), it copies
    /// every byte and sums them, over one group of steps and over several.
    #[test]
    fn sum_copy_is_the_same_at_every_distance_modulo_4_kib() {
        let data: Vec<u8> = (0..70_001u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut out = vec![0u8; data.len() + 4096];
        for len in [128, 129, 1448, 1460, 4096, 65_535, 65_536 + 130, 70_001] {
            let src = &data[..len];
            let want = reference(src);
            for distance in [0, 1, 2, 64, 448, 511, 512, 513, 2048, 4000, 4095] {
                let base = out.as_ptr() as usize;
                let at = (distance + src.as_ptr() as usize).wrapping_sub(base) % 4096;
                let dst = &mut out[at..at + len];
                dst.fill(0xa5);
                assert_eq!(
                    copy_backward(src, dst),
                    distance < ALIAS_WINDOW,
                    "len {len} distance {distance}"
                );
                assert_eq!(sum_copy(src, dst), want, "len {len} distance {distance}");
                assert!(dst == src, "len {len} distance {distance}: copied");
            }
        }
    }

    /// A destination of another length: the shorter length is copied and summed.
    #[test]
    fn sum_copy_into_a_slice_of_another_length_takes_the_shorter() {
        let data: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let mut short = vec![0; 200];
        assert_eq!(sum_copy(&data, &mut short), sum(&data[..200]));
        assert_eq!(short, data[..200]);
        let mut long = vec![7; 400];
        assert_eq!(sum_copy(&data, &mut long), sum(&data));
        assert_eq!(long[..300], data[..]);
        assert!(long[300..].iter().all(|&b| b == 7));
    }

    /// The tail masks: each keeps exactly the last `r` bytes of a step.
    #[test]
    fn tail_masks_keep_the_last_bytes() {
        for r in (2..STEP).step_by(2) {
            let mask = &TAIL_MASKS[r..r + STEP];
            assert!(mask[..STEP - r].iter().all(|&b| b == 0), "r {r}");
            assert!(mask[STEP - r..].iter().all(|&b| b == 0xff), "r {r}");
        }
    }

    #[test]
    fn incremental_sum_with_odd_pieces_matches_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0, 1, 2, 3, 7, 499, 500, 999, 1000] {
            for split2 in [split, (split + 1).min(1000), 1000] {
                let mut c = Checksum::new();
                c.add_bytes(&data[..split])
                    .add_bytes(&data[split..split2])
                    .add_bytes(&data[split2..]);
                assert_eq!(c.sum(), reference(&data), "split {split}/{split2}");
            }
        }
    }

    #[test]
    fn data_with_its_checksum_sums_to_all_ones() {
        let mut data = vec![0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11];
        data.extend_from_slice(&[0, 0, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]);
        let c = checksum(&data);
        // The classic example IPv4 header (Wikipedia "IPv4 header checksum").
        assert_eq!(c, 0xb861);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(sum(&data), 0xffff);
    }

    #[test]
    fn pseudo_header_rejects_mixed_families() {
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(
            pseudo_header(v4, v6, 6, 20),
            Err(WireError::AddressFamilyMismatch)
        );
        assert_eq!(
            pseudo_header(v4, v4, 6, 70_000),
            Err(WireError::PacketTooLarge)
        );
    }

    #[test]
    fn pseudo_header_v4_matches_bytes() {
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let dst = Ipv4Addr::new(192, 168, 1, 77);
        let bytes = [10, 0, 0, 1, 192, 168, 1, 77, 0, 6, 0x01, 0x23];
        assert_eq!(pseudo_header_v4(src, dst, 6, 0x123).sum(), sum(&bytes));
        let (src, dst) = (
            Ipv4Addr::new(255, 255, 255, 255),
            Ipv4Addr::new(255, 254, 0, 1),
        );
        let bytes = [255, 255, 255, 255, 255, 254, 0, 1, 0, 6, 0xff, 0xff];
        assert_eq!(
            pseudo_header_v4(src, dst, 6, 0xffff).sum(),
            reference(&bytes)
        );
    }
}
