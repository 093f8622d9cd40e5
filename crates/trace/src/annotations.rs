//! What synack writes in the comment of each packet of its pcapng captures, and reads
//! back: the things a capture cannot show but a simulator knows. A comment looks like
//!
//! ```text
//! synack: arrived=0.030000000 retransmission | acked: cwnd=14600 ssthresh=- srtt=0.020000000 rto=1.000000000 wnd=65535 flight=0 rtt=0.020000000
//! ```
//!
//! - `arrived=T`: when the datagram reached its receiver (the packet's own time stamp is
//!   when it was sent); `lost`: it never did;
//! - `retransmission` (the sender said so), `network-duplicate` (a copy made by the
//!   network), `injected` (put in by a test, not sent by a peer), `corrupted` (a bit
//!   flipped on the way: the receiver's checksum rejected it; the capture holds the
//!   datagram as sent);
//! - after `acked:`, the receiver's sender-side numbers once it processed this segment
//!   (its [`synack::Metrics`]): `cwnd`, `ssthresh` (`-` before the first loss), `srtt`
//!   (`-` before the first sample), `rto`, `wnd` (the window it may send into), `flight`,
//!   and `rtt` when this ACK completed a round-trip measurement.
//!
//! Times are seconds with nine decimals on the capture's clock. Tools that don't know
//! synack just show the comment (Wireshark: `frame.comment`).

use core::fmt::Write as _;
use core::time::Duration;
use synack::{Instant, Metrics};

/// What one packet's comment says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Annotation {
    /// When it arrived; `None` with `lost`, or when unknown.
    pub arrived: Option<Instant>,
    /// The network lost it.
    pub lost: bool,
    /// The sender marked it as a retransmission.
    pub retransmission: bool,
    /// A copy made by the network.
    pub duplicate: bool,
    /// Injected by a test, not sent by a peer.
    pub injected: bool,
    /// Corrupted on the way (and so discarded by the receiver).
    pub corrupted: bool,
    /// The receiver's numbers after processing it.
    pub metrics: Option<Metrics>,
}

const PREFIX: &str = "synack:";

fn secs(t: u64) -> String {
    format!("{}.{:09}", t / 1_000_000_000, t % 1_000_000_000)
}

fn parse_secs(s: &str) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    whole.checked_mul(1_000_000_000)?.checked_add(frac)
}

fn duration(d: Duration) -> String {
    secs(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Annotation {
    /// The comment text.
    pub fn to_comment(&self) -> String {
        let mut out = String::from(PREFIX);
        if let Some(at) = self.arrived {
            let _ = write!(out, " arrived={}", secs(at.as_nanos()));
        }
        for (on, word) in [
            (self.lost, "lost"),
            (self.retransmission, "retransmission"),
            (self.duplicate, "network-duplicate"),
            (self.injected, "injected"),
            (self.corrupted, "corrupted"),
        ] {
            if on {
                out.push(' ');
                out.push_str(word);
            }
        }
        if let Some(m) = &self.metrics {
            let _ = write!(out, " | acked: cwnd={}", m.cwnd);
            if m.ssthresh == u32::MAX {
                out.push_str(" ssthresh=-");
            } else {
                let _ = write!(out, " ssthresh={}", m.ssthresh);
            }
            match m.srtt {
                Some(d) => {
                    let _ = write!(out, " srtt={}", duration(d));
                }
                None => out.push_str(" srtt=-"),
            }
            let _ = write!(
                out,
                " rto={} wnd={} flight={}",
                duration(m.rto),
                m.snd_wnd,
                m.flight
            );
            if let Some(r) = m.rtt_sample {
                let _ = write!(out, " rtt={}", duration(r));
            }
        }
        out
    }

    /// Read a comment; `None` if it is not one of synack's.
    pub fn parse(comment: &str) -> Option<Annotation> {
        let rest = comment.trim().strip_prefix(PREFIX)?;
        let (flags, metrics) = match rest.split_once("| acked:") {
            Some((f, m)) => (f, Some(m)),
            None => (rest, None),
        };
        let mut a = Annotation::default();
        for word in flags.split_whitespace() {
            match word.split_once('=') {
                Some(("arrived", v)) => a.arrived = parse_secs(v).map(Instant::from_nanos),
                _ => match word {
                    "lost" => a.lost = true,
                    "retransmission" => a.retransmission = true,
                    "network-duplicate" => a.duplicate = true,
                    "injected" => a.injected = true,
                    "corrupted" => a.corrupted = true,
                    _ => {}
                },
            }
        }
        if let Some(m) = metrics {
            let mut out = Metrics {
                rtt_sample: None,
                srtt: None,
                rto: Duration::ZERO,
                cwnd: 0,
                ssthresh: u32::MAX,
                snd_wnd: 0,
                flight: 0,
            };
            let mut complete = 0;
            for word in m.split_whitespace() {
                let Some((k, v)) = word.split_once('=') else {
                    continue;
                };
                let dur = || parse_secs(v).map(Duration::from_nanos);
                match k {
                    "cwnd" => {
                        out.cwnd = v.parse().ok()?;
                        complete += 1;
                    }
                    "ssthresh" => out.ssthresh = v.parse().unwrap_or(u32::MAX),
                    "srtt" => out.srtt = dur(),
                    "rto" => out.rto = dur()?,
                    "wnd" => out.snd_wnd = v.parse().ok()?,
                    "flight" => out.flight = v.parse().ok()?,
                    "rtt" => out.rtt_sample = dur(),
                    _ => {}
                }
            }
            if complete > 0 {
                a.metrics = Some(out);
            }
        }
        Some(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_round_trip() {
        let a = Annotation {
            arrived: Some(Instant::from_nanos(1_030_000_001)),
            retransmission: true,
            metrics: Some(Metrics {
                rtt_sample: Some(Duration::from_millis(20)),
                srtt: Some(Duration::from_micros(20_500)),
                rto: Duration::from_secs(1),
                cwnd: 14600,
                ssthresh: u32::MAX,
                snd_wnd: 65535,
                flight: 1460,
            }),
            ..Annotation::default()
        };
        let text = a.to_comment();
        assert_eq!(
            text,
            "synack: arrived=1.030000001 retransmission | acked: cwnd=14600 ssthresh=- \
             srtt=0.020500000 rto=1.000000000 wnd=65535 flight=1460 rtt=0.020000000"
        );
        assert_eq!(Annotation::parse(&text), Some(a));
        let lost = Annotation {
            lost: true,
            duplicate: true,
            injected: true,
            corrupted: true,
            ..Annotation::default()
        };
        assert_eq!(Annotation::parse(&lost.to_comment()), Some(lost));
    }

    #[test]
    fn foreign_comments_are_not_ours() {
        assert_eq!(Annotation::parse("captured at the gateway"), None);
        assert_eq!(
            Annotation::parse("synack: arrived=x.y"),
            Some(Annotation::default())
        );
    }
}
