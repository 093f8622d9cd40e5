//! One direction of a link: latency, serialisation at a rate, a drop-tail queue and
//! random impairments (loss, duplication, reordering, corruption).
//!
//! The model, per datagram offered at time `now`:
//!
//! 1. **Queue.** With a rate, datagrams are serialised one after another; those not yet
//!    fully serialised are the queue. If the queue's bytes plus this datagram's would
//!    exceed `queue_bytes`, it is dropped (drop-tail). Without a rate serialisation is
//!    instantaneous and nothing ever queues.
//! 2. **Serialisation.** Transmission starts when the link is free (`max(now,
//!    busy_until)`) and takes `len × 8 / rate` seconds.
//! 3. **Loss.** With probability `loss` the datagram is lost on the wire (after using the
//!    link's time, as a real loss would).
//! 4. **Propagation.** It arrives `latency` after its last bit left, plus any delay a test
//!    filter asked for, plus `reorder_delay` with probability `reorder` (so later
//!    datagrams overtake it).
//! 5. **Corruption.** With probability `corrupt`, one bit is flipped. Only bits some
//!    checksum covers are candidates (everything in IPv4; in IPv6 all but the version,
//!    traffic class, flow label and hop limit, which no checksum protects), so the
//!    receiver can always tell. The datagram is still delivered.
//! 6. **Duplication.** With probability `duplicate`, the network delivers a second copy,
//!    with its own reordering and corruption draws.
//!
//! Each link direction has its own random stream, so impairments on one link never
//! change what happens on another.

use crate::rng::Rng;
use core::time::Duration;
use std::collections::VecDeque;
use synack::Instant;

/// How one direction of a link behaves. `LinkConfig::default()` is a perfect link with
/// 10 ms of latency; the builder methods change one property each.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub latency: Duration,
    /// Bits per second; `None` means infinitely fast (no serialisation delay, no queue).
    pub rate_bps: Option<u64>,
    /// Drop-tail queue limit in bytes (only meaningful with a rate); `None` is unlimited.
    pub queue_bytes: Option<usize>,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by `reorder_delay`.
    pub reorder: f64,
    /// Extra delay of a reordered datagram.
    pub reorder_delay: Duration,
    /// Probability that one bit of a datagram is flipped.
    pub corrupt: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Duration::from_millis(10),
            rate_bps: None,
            queue_bytes: None,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            corrupt: 0.0,
        }
    }
}

impl LinkConfig {
    /// This link with one-way latency `latency`.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
    /// This link serialising at `bps` bits per second.
    pub fn rate(mut self, bps: u64) -> Self {
        self.rate_bps = Some(bps);
        self
    }
    /// This link with a drop-tail queue of `bytes`.
    pub fn queue(mut self, bytes: usize) -> Self {
        self.queue_bytes = Some(bytes);
        self
    }
    /// This link losing each datagram with probability `p`.
    pub fn loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }
    /// This link duplicating each datagram with probability `p`.
    pub fn duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }
    /// This link delaying each datagram by an extra `delay` with probability `p`.
    pub fn reorder(mut self, p: f64, delay: Duration) -> Self {
        self.reorder = p;
        self.reorder_delay = delay;
        self
    }
    /// This link flipping one bit of each datagram with probability `p`.
    pub fn corrupt(mut self, p: f64) -> Self {
        self.corrupt = p;
        self
    }
}

/// Why a link did not carry a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropCause {
    /// Random loss (`LinkConfig::loss`).
    Loss,
    /// The drop-tail queue was full.
    QueueFull,
    /// A test filter said so.
    Filtered,
    /// No host owns the destination address, or no link leads there.
    NoRoute,
}

/// One copy of a datagram on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transit {
    /// When this copy reaches the far end of the link.
    pub arrives_at: Instant,
    /// The bit (counted from the first byte's most significant bit) that was flipped.
    pub corrupt_bit: Option<usize>,
}

/// What the link did with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carried {
    /// The datagram itself: on its way, or dropped and why.
    pub original: Result<Transit, DropCause>,
    /// A second copy, if the link duplicated the datagram.
    pub duplicate: Option<Transit>,
}

/// One direction of a link, with its state. The simulator drives it on its virtual
/// clock; `synack-io` drives it on the wall clock between a TUN device and the stack.
#[derive(Debug)]
pub struct Link {
    config: LinkConfig,
    rng: Rng,
    busy_until: Instant,
    /// Datagrams not yet fully serialised: (time the last bit leaves, length).
    backlog: VecDeque<(Instant, usize)>,
    backlog_bytes: usize,
    /// Datagrams offered so far (the index a filter sees).
    pub offered: u64,
}

impl Link {
    /// A link that behaves as `config` says, drawing its randomness from `rng`.
    pub fn new(config: LinkConfig, rng: Rng) -> Link {
        Link {
            config,
            rng,
            busy_until: Instant::ZERO,
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            offered: 0,
        }
    }

    /// How this link behaves.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Change how this link behaves from now on (its queue and random stream carry on).
    pub fn set_config(&mut self, config: LinkConfig) {
        self.config = config;
    }

    /// Time to serialise `len` bytes.
    fn serialisation(&self, len: usize) -> Duration {
        match self.config.rate_bps {
            Some(bps) if bps > 0 => {
                let bits = (len as u128).saturating_mul(8);
                let nanos = bits.saturating_mul(1_000_000_000) / u128::from(bps);
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            }
            _ => Duration::ZERO,
        }
    }

    /// Offer `datagram` at `now`, with `extra` delay requested by a filter. The datagram
    /// itself is not kept: the caller delivers it (with [`flip_bit`] applied for a
    /// corrupted copy) at the times the answer gives.
    pub fn carry(&mut self, now: Instant, datagram: &[u8], extra: Duration) -> Carried {
        let len = datagram.len();
        while let Some(&(done, bytes)) = self.backlog.front() {
            if done > now {
                break;
            }
            self.backlog.pop_front();
            self.backlog_bytes = self.backlog_bytes.saturating_sub(bytes);
        }
        if let (Some(_), Some(limit)) = (self.config.rate_bps, self.config.queue_bytes) {
            if self.backlog_bytes.saturating_add(len) > limit {
                return Carried {
                    original: Err(DropCause::QueueFull),
                    duplicate: None,
                };
            }
        }
        let start = now.max(self.busy_until);
        let done = start + self.serialisation(len);
        self.busy_until = done;
        if done > now {
            self.backlog.push_back((done, len));
            self.backlog_bytes = self.backlog_bytes.saturating_add(len);
        }
        if self.rng.chance(self.config.loss) {
            return Carried {
                original: Err(DropCause::Loss),
                duplicate: None,
            };
        }
        let base = done + self.config.latency + extra;
        let original = self.impair(base, datagram);
        let duplicate = if self.rng.chance(self.config.duplicate) {
            Some(self.impair(base, datagram))
        } else {
            None
        };
        Carried {
            original: Ok(original),
            duplicate,
        }
    }

    /// Reordering and corruption draws for one copy arriving at `base` at the earliest.
    fn impair(&mut self, base: Instant, datagram: &[u8]) -> Transit {
        let arrives_at = if self.rng.chance(self.config.reorder) {
            base + self.config.reorder_delay
        } else {
            base
        };
        let corrupt_bit = if self.rng.chance(self.config.corrupt) {
            pick_protected_bit(datagram, &mut self.rng)
        } else {
            None
        };
        Transit {
            arrives_at,
            corrupt_bit,
        }
    }
}

/// A bit of `datagram` that a checksum covers, chosen uniformly; `None` for an empty one.
/// IPv6 leaves bytes 0..4 (version, traffic class, flow label) and byte 7 (hop limit)
/// unprotected, so they are never chosen.
pub(crate) fn pick_protected_bit(datagram: &[u8], rng: &mut Rng) -> Option<usize> {
    let bits = datagram.len().checked_mul(8)?;
    if bits == 0 {
        return None;
    }
    let ipv6 = datagram.len() >= 40 && datagram.first().is_some_and(|b| b >> 4 == 6);
    if !ipv6 {
        return usize::try_from(rng.below(bits as u64)).ok();
    }
    // Candidates: bytes 4..7 (payload length, next header) then bytes 8.. (addresses
    // and the TCP segment).
    let candidates = 3 * 8 + (datagram.len() - 8) * 8;
    let k = usize::try_from(rng.below(candidates as u64)).ok()?;
    Some(if k < 24 { 32 + k } else { 64 + (k - 24) })
}

/// `datagram` with bit `bit` flipped (bit 0 is the most significant bit of byte 0).
pub fn flip_bit(datagram: &mut [u8], bit: usize) {
    if let Some(byte) = datagram.get_mut(bit / 8) {
        *byte ^= 0x80 >> (bit % 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    fn link(config: LinkConfig, seed: u64) -> Link {
        Link::new(config, Rng::new(seed))
    }

    fn arrival(c: Carried) -> Instant {
        c.original.expect("delivered").arrives_at
    }

    #[test]
    fn latency_delays_every_datagram_by_the_same_amount() {
        let mut l = link(LinkConfig::default().latency(Duration::from_millis(25)), 1);
        assert_eq!(arrival(l.carry(ms(0), &[0; 100], Duration::ZERO)), ms(25));
        assert_eq!(arrival(l.carry(ms(0), &[0; 100], Duration::ZERO)), ms(25));
        assert_eq!(arrival(l.carry(ms(7), &[0; 1500], Duration::ZERO)), ms(32));
    }

    #[test]
    fn filter_delay_adds_to_latency() {
        let mut l = link(LinkConfig::default(), 1);
        let at = arrival(l.carry(ms(0), &[0; 10], Duration::from_millis(5)));
        assert_eq!(at, ms(15));
    }

    #[test]
    fn rate_serialises_back_to_back_datagrams() {
        // 1000 bytes at 8 Mbit/s take exactly 1 ms.
        let config = LinkConfig::default()
            .latency(Duration::from_millis(10))
            .rate(8_000_000);
        let mut l = link(config, 1);
        let arrivals: Vec<Instant> = (0..3)
            .map(|_| arrival(l.carry(ms(0), &[0; 1000], Duration::ZERO)))
            .collect();
        assert_eq!(arrivals, vec![ms(11), ms(12), ms(13)]);
        // An idle link starts serialising at once.
        assert_eq!(
            arrival(l.carry(ms(100), &[0; 1000], Duration::ZERO)),
            ms(111)
        );
    }

    #[test]
    fn full_queue_drops_the_tail_and_drains_with_time() {
        let config = LinkConfig::default().rate(8_000_000).queue(3000);
        let mut l = link(config, 1);
        let outcomes: Vec<Result<Transit, DropCause>> = (0..5)
            .map(|_| l.carry(ms(0), &[0; 1000], Duration::ZERO).original)
            .collect();
        assert!(outcomes[..3].iter().all(Result::is_ok));
        assert_eq!(outcomes[3], Err(DropCause::QueueFull));
        assert_eq!(outcomes[4], Err(DropCause::QueueFull));
        // After 1 ms the first datagram has left: room for exactly one more.
        assert!(l.carry(ms(1), &[0; 1000], Duration::ZERO).original.is_ok());
        assert_eq!(
            l.carry(ms(1), &[0; 1000], Duration::ZERO).original,
            Err(DropCause::QueueFull)
        );
        // Once everything has left, the whole queue is free again.
        for _ in 0..3 {
            assert!(l.carry(ms(50), &[0; 1000], Duration::ZERO).original.is_ok());
        }
    }

    #[test]
    fn loss_rate_is_roughly_the_configured_probability() {
        for seed in [1, 2, 3] {
            let mut l = link(LinkConfig::default().loss(0.1), seed);
            let lost = (0..20_000)
                .filter(|_| {
                    l.carry(ms(0), &[0; 64], Duration::ZERO).original == Err(DropCause::Loss)
                })
                .count();
            assert!(
                (1_800..2_200).contains(&lost),
                "seed {seed}: lost {lost} of 20000"
            );
        }
    }

    #[test]
    fn duplication_delivers_a_second_copy_at_the_rate_configured() {
        let mut always = link(LinkConfig::default().duplicate(1.0), 1);
        let c = always.carry(ms(0), &[1; 64], Duration::ZERO);
        assert_eq!(c.duplicate.map(|d| d.arrives_at), Some(ms(10)));
        for seed in [4, 5] {
            let mut half = link(LinkConfig::default().duplicate(0.5), seed);
            let dups = (0..10_000)
                .filter(|_| {
                    half.carry(ms(0), &[0; 64], Duration::ZERO)
                        .duplicate
                        .is_some()
                })
                .count();
            assert!(
                (4_700..5_300).contains(&dups),
                "seed {seed}: {dups} duplicates"
            );
        }
    }

    #[test]
    fn reordered_datagram_is_overtaken_by_the_next_one() {
        let config = LinkConfig::default().reorder(1.0, Duration::from_millis(5));
        let mut l = link(config.clone(), 1);
        let first = arrival(l.carry(ms(0), &[0; 64], Duration::ZERO));
        l.set_config(LinkConfig {
            reorder: 0.0,
            ..config
        });
        let second = arrival(l.carry(ms(1), &[0; 64], Duration::ZERO));
        assert_eq!(first, ms(15));
        assert_eq!(second, ms(11));
        assert!(second < first);
    }

    fn ipv4_like(len: usize) -> Vec<u8> {
        let mut d = vec![0u8; len];
        d[0] = 0x45;
        d
    }

    fn ipv6_like(len: usize) -> Vec<u8> {
        let mut d = vec![0u8; len];
        d[0] = 0x60;
        d
    }

    #[test]
    fn corruption_flips_exactly_one_bit() {
        for seed in 0..200u64 {
            let mut l = link(LinkConfig::default().corrupt(1.0), seed);
            for original in [ipv4_like(60), ipv6_like(80)] {
                let c = l.carry(ms(0), &original, Duration::ZERO);
                let bit = c
                    .original
                    .expect("delivered")
                    .corrupt_bit
                    .expect("corrupted");
                let mut damaged = original.clone();
                flip_bit(&mut damaged, bit);
                let differing: u32 = original
                    .iter()
                    .zip(&damaged)
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum();
                assert_eq!(differing, 1, "seed {seed}: bit {bit}");
            }
        }
    }

    #[test]
    fn ipv6_corruption_spares_fields_no_checksum_covers() {
        let d = ipv6_like(60);
        let mut rng = Rng::new(11);
        let mut seen_low = false;
        for _ in 0..5_000 {
            let bit = pick_protected_bit(&d, &mut rng).expect("a bit");
            let byte = bit / 8;
            assert!(byte >= 4 && byte != 7 && byte < 60, "byte {byte}");
            seen_low |= byte == 4;
        }
        assert!(seen_low);
        assert_eq!(pick_protected_bit(&[], &mut rng), None);
    }

    #[test]
    fn perfect_link_draws_no_randomness() {
        let mut l = link(LinkConfig::default(), 1);
        l.carry(ms(0), &[0; 64], Duration::ZERO);
        assert_eq!(l.rng, Rng::new(1));
    }
}
