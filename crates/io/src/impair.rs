//! `--impair`: the simulator's link model ([`synack_sim::link::Link`]) put between the
//! TUN device and the stack, in both directions, on the wall clock.
//!
//! ```
//! use synack_io::Impairment;
//! let i: Impairment = "loss=0.05,dup=0.01,reorder=0.05,delay=20ms,corrupt=0.001,seed=7"
//!     .parse()
//!     .unwrap();
//! assert_eq!(i.link.loss, 0.05);
//! assert_eq!(i.link.latency, std::time::Duration::from_millis(20));
//! assert_eq!(i.seed, 7);
//! ```
//!
//! Each direction has its own random stream derived from the seed (as in the simulator),
//! so the same seed makes the same decisions for the same sequence of datagrams. The
//! wall clock decides *when* datagrams are offered, so a real run is reproducible in its
//! statistics, not datagram for datagram.

use core::fmt;
use core::str::FromStr;
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use synack::Instant;
use synack_sim::link::{flip_bit, Link, LinkConfig, Transit};
use synack_sim::Rng;

/// Extra delay of a reordered datagram when `reorder-delay` is not given.
pub const DEFAULT_REORDER_DELAY: Duration = Duration::from_millis(10);

/// What to do to datagrams between the device and the stack: the same [`LinkConfig`] for
/// both directions, and the seed of the random streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Impairment {
    /// The link model of each direction. Its `latency` is the `delay` option (default 0).
    pub link: LinkConfig,
    /// Seed of the two random streams (one per direction).
    pub seed: u64,
}

impl Default for Impairment {
    /// A perfect link: no delay, no loss.
    fn default() -> Self {
        Impairment {
            link: LinkConfig {
                latency: Duration::ZERO,
                reorder_delay: DEFAULT_REORDER_DELAY,
                ..LinkConfig::default()
            },
            seed: 1,
        }
    }
}

/// Why an `--impair` specification did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImpairError {
    /// An item is not `key=value`.
    #[error("`{0}` is not key=value")]
    NotKeyValue(String),
    /// The key is not one of the known ones.
    #[error(
        "unknown impairment `{0}` (known: loss, dup, reorder, reorder-delay, delay, corrupt, rate, queue, seed)"
    )]
    UnknownKey(String),
    /// The value does not parse, or is out of range.
    #[error("bad value for {key}: {why}")]
    BadValue {
        /// The key.
        key: String,
        /// What is wrong.
        why: String,
    },
}

fn probability(key: &str, v: &str) -> Result<f64, ImpairError> {
    let p: f64 = v.parse().map_err(|_| ImpairError::BadValue {
        key: key.into(),
        why: format!("`{v}` is not a number"),
    })?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(ImpairError::BadValue {
            key: key.into(),
            why: format!("{p} is not a probability between 0 and 1"),
        })
    }
}

/// `20ms`, `1.5s`, `250us`, `0`: a duration (a bare number is milliseconds).
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = v.strip_suffix("ns") {
        (n, 1e-9)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else {
        (v, 1e-3)
    };
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a duration such as 20ms"))?;
    if !x.is_finite() || x < 0.0 {
        return Err(format!("`{v}` is not a duration such as 20ms"));
    }
    Duration::try_from_secs_f64(x * scale).map_err(|e| e.to_string())
}

/// `100mbit`, `1gbit`, `512kbit`, `8000000`: a rate in bits per second.
fn parse_rate(v: &str) -> Result<u64, String> {
    let lower = v.trim().to_ascii_lowercase();
    let (num, scale) = if let Some(n) = lower.strip_suffix("gbit") {
        (n, 1e9)
    } else if let Some(n) = lower.strip_suffix("mbit") {
        (n, 1e6)
    } else if let Some(n) = lower.strip_suffix("kbit") {
        (n, 1e3)
    } else if let Some(n) = lower.strip_suffix("bit") {
        (n, 1.0)
    } else {
        (lower.as_str(), 1.0)
    };
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a rate such as 100mbit"))?;
    if !x.is_finite() || x <= 0.0 {
        return Err(format!("`{v}` is not a positive rate"));
    }
    Ok((x * scale) as u64)
}

fn bytes(v: &str) -> Result<usize, String> {
    let lower = v.trim().to_ascii_lowercase();
    let (num, scale) = if let Some(n) = lower.strip_suffix('k') {
        (n, 1024)
    } else if let Some(n) = lower.strip_suffix('m') {
        (n, 1024 * 1024)
    } else {
        (lower.as_str(), 1)
    };
    num.trim()
        .parse::<usize>()
        .map(|n| n.saturating_mul(scale))
        .map_err(|_| format!("`{v}` is not a size such as 64k"))
}

impl FromStr for Impairment {
    type Err = ImpairError;

    /// `loss=0.05,dup=0.01,reorder=0.05,delay=20ms,corrupt=0.001,seed=N`, any subset, in
    /// any order. Also: `reorder-delay=` (how long a reordered datagram is held back,
    /// default 10ms), `rate=` (e.g. `100mbit`: serialisation at that rate) and `queue=`
    /// (a drop-tail queue in bytes, with `rate`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut imp = Impairment::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| ImpairError::NotKeyValue(item.into()))?;
            let (key, value) = (key.trim(), value.trim());
            let bad = |why: String| ImpairError::BadValue {
                key: key.into(),
                why,
            };
            match key {
                "loss" => imp.link.loss = probability(key, value)?,
                "dup" | "duplicate" => imp.link.duplicate = probability(key, value)?,
                "reorder" => imp.link.reorder = probability(key, value)?,
                "corrupt" => imp.link.corrupt = probability(key, value)?,
                "delay" | "latency" => imp.link.latency = parse_duration(value).map_err(bad)?,
                "reorder-delay" | "reorder_delay" => {
                    imp.link.reorder_delay = parse_duration(value).map_err(bad)?
                }
                "rate" => imp.link.rate_bps = Some(parse_rate(value).map_err(bad)?),
                "queue" => imp.link.queue_bytes = Some(bytes(value).map_err(bad)?),
                "seed" => {
                    imp.seed = value
                        .parse()
                        .map_err(|_| bad(format!("`{value}` is not an unsigned integer")))?
                }
                other => return Err(ImpairError::UnknownKey(other.into())),
            }
        }
        Ok(imp)
    }
}

impl fmt::Display for Impairment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.link;
        write!(
            f,
            "loss={},dup={},reorder={},reorder-delay={}us,delay={}us,corrupt={}",
            l.loss,
            l.duplicate,
            l.reorder,
            l.reorder_delay.as_micros(),
            l.latency.as_micros(),
            l.corrupt
        )?;
        if let Some(r) = l.rate_bps {
            write!(f, ",rate={r}")?;
        }
        if let Some(q) = l.queue_bytes {
            write!(f, ",queue={q}")?;
        }
        write!(f, ",seed={}", self.seed)
    }
}

/// Which way a datagram goes through the impairment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Read from the device, on its way to the stack.
    ToStack,
    /// Emitted by the stack, on its way to the device.
    ToHost,
}

/// What one direction did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathStats {
    /// Datagrams offered to the link.
    pub offered: u64,
    /// Datagrams the link lost (or its queue dropped).
    pub lost: u64,
    /// Extra copies the link made.
    pub duplicated: u64,
    /// Copies delivered with one bit flipped.
    pub corrupted: u64,
    /// Copies delivered (duplicates included).
    pub delivered: u64,
}

struct Queued {
    at: Instant,
    seq: u64,
    data: Vec<u8>,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// One direction: the link and the datagrams it is carrying.
pub(crate) struct ImpairedPath {
    link: Link,
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
    pub stats: PathStats,
}

impl ImpairedPath {
    pub fn new(imp: &Impairment, direction: Direction) -> ImpairedPath {
        let stream = match direction {
            Direction::ToStack => 1,
            Direction::ToHost => 2,
        };
        ImpairedPath {
            link: Link::new(imp.link.clone(), Rng::derive(imp.seed, stream)),
            queue: BinaryHeap::new(),
            seq: 0,
            stats: PathStats::default(),
        }
    }

    /// Put `datagram` on the link at `now`.
    pub fn offer(&mut self, now: Instant, datagram: &[u8]) {
        self.stats.offered += 1;
        let carried = self.link.carry(now, datagram, Duration::ZERO);
        match carried.original {
            Ok(t) => self.enqueue(t, datagram),
            Err(_) => self.stats.lost += 1,
        }
        if let Some(t) = carried.duplicate {
            self.stats.duplicated += 1;
            self.enqueue(t, datagram);
        }
    }

    fn enqueue(&mut self, t: Transit, datagram: &[u8]) {
        let mut data = datagram.to_vec();
        if let Some(bit) = t.corrupt_bit {
            flip_bit(&mut data, bit);
            self.stats.corrupted += 1;
        }
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at: t.arrives_at,
            seq: self.seq,
            data,
        }));
    }

    /// The next datagram that has arrived by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.queue.peek()?.0.at > now {
            return None;
        }
        let q = self.queue.pop()?.0;
        self.stats.delivered += 1;
        Some(q.data)
    }

    /// When the next datagram arrives.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|q| q.0.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_example_and_round_trips() {
        let i: Impairment = "loss=0.05,dup=0.01,reorder=0.05,delay=20ms,corrupt=0.001,seed=42"
            .parse()
            .unwrap();
        assert_eq!(i.link.loss, 0.05);
        assert_eq!(i.link.duplicate, 0.01);
        assert_eq!(i.link.reorder, 0.05);
        assert_eq!(i.link.reorder_delay, DEFAULT_REORDER_DELAY);
        assert_eq!(i.link.corrupt, 0.001);
        assert_eq!(i.link.latency, Duration::from_millis(20));
        assert_eq!(i.seed, 42);
        let again: Impairment = i.to_string().parse().unwrap();
        assert_eq!(again, i);
        let r: Impairment = "rate=100mbit, queue=64k, reorder-delay=1.5ms"
            .parse()
            .unwrap();
        assert_eq!(r.link.rate_bps, Some(100_000_000));
        assert_eq!(r.link.queue_bytes, Some(65_536));
        assert_eq!(r.link.reorder_delay, Duration::from_micros(1500));
        assert_eq!("".parse::<Impairment>().unwrap(), Impairment::default());
    }

    #[test]
    fn rejects_nonsense() {
        assert!(matches!(
            "loss=2".parse::<Impairment>(),
            Err(ImpairError::BadValue { .. })
        ));
        assert!(matches!(
            "jitter=1ms".parse::<Impairment>(),
            Err(ImpairError::UnknownKey(_))
        ));
        assert!(matches!(
            "loss".parse::<Impairment>(),
            Err(ImpairError::NotKeyValue(_))
        ));
        assert!("delay=-1ms".parse::<Impairment>().is_err());
        assert!("seed=x".parse::<Impairment>().is_err());
    }

    #[test]
    fn a_path_delays_loses_and_duplicates() {
        let ms = Instant::from_millis;
        let imp: Impairment = "delay=5ms".parse().unwrap();
        let mut p = ImpairedPath::new(&imp, Direction::ToHost);
        p.offer(ms(0), &[0x45, 1, 2, 3]);
        p.offer(ms(1), &[0x45, 4, 5, 6]);
        assert_eq!(p.next_due(), Some(ms(5)));
        assert_eq!(p.pop_due(ms(4)), None);
        assert_eq!(p.pop_due(ms(5)), Some(vec![0x45, 1, 2, 3]));
        assert_eq!(p.pop_due(ms(5)), None);
        assert_eq!(p.pop_due(ms(6)), Some(vec![0x45, 4, 5, 6]));

        let lossy: Impairment = "loss=0.5,dup=0.5,seed=3".parse().unwrap();
        let mut p = ImpairedPath::new(&lossy, Direction::ToStack);
        for _ in 0..10_000 {
            p.offer(ms(0), &[0x45; 40]);
        }
        let mut delivered = 0;
        while p.pop_due(ms(0)).is_some() {
            delivered += 1;
        }
        let s = p.stats;
        assert_eq!(s.offered, 10_000);
        assert!((4_500..5_500).contains(&s.lost), "{s:?}");
        assert_eq!(delivered, s.delivered);
        assert_eq!(s.delivered, s.offered - s.lost + s.duplicated);
    }

    #[test]
    fn corruption_flips_one_bit_of_the_copy() {
        let imp: Impairment = "corrupt=1".parse().unwrap();
        let mut p = ImpairedPath::new(&imp, Direction::ToHost);
        let original = vec![0x45u8; 60];
        p.offer(Instant::ZERO, &original);
        let got = p.pop_due(Instant::ZERO).unwrap();
        let flipped: u32 = got
            .iter()
            .zip(&original)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(flipped, 1);
        assert_eq!(p.stats.corrupted, 1);
    }
}
