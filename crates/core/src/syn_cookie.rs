//! SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK is sent
//! without keeping any state, and everything needed to build the connection later is
//! folded into our initial sequence number (and, when the peer offered timestamps, into
//! our timestamp value). The final ACK of the handshake (RFC 9293 §3.10.7.2, LISTEN
//! state: "any acknowledgment is bad" — unless it returns a cookie we made) brings the
//! cookie back as `SEG.ACK − 1`; if it checks out, the connection is created then,
//! directly in ESTABLISHED.
//!
//! # The cookie (our ISS), 32 bits
//!
//! ```text
//!  31  29 28 27 26                                                 0
//! +------+-----+----------------------------------------------------+
//! |  t   | mss |  MAC (27 bits)                                     |
//! +------+-----+----------------------------------------------------+
//! ```
//!
//! - `t`: the low 3 bits of a counter that advances every [`PERIOD_SECS`] (64 s) of
//!   `now`. A cookie is accepted in the period it was made and the next one (64–128 s
//!   in all), so a captured cookie expires (RFC 4987 §3.6: "time-limited").
//! - `mss`: the index into [`MSS_TABLE`] of the largest entry not above the MSS the
//!   peer announced: the one thing a connection cannot work well without.
//! - MAC: SipHash-2-4, keyed with a key derived from the endpoint's secret, over the
//!   4-tuple, the peer's ISN, the full counter and the MSS index, truncated to 27
//!   bits. Without the secret, a blind attacker must guess it: one chance in 2^27 per
//!   try at best, and cookies are only checked for a listener that sent some recently.
//!
//! # The options in the timestamp
//!
//! Window scaling and SACK cannot be renegotiated after the handshake, and a cookie
//! has no room for them. When the peer's SYN carried timestamps (RFC 7323), our
//! SYN-ACK's TSval has its low [`TS_OPTION_BITS`] bits replaced by the peer's window
//! shift (4 bits, 15 for "none") and its SACK-permitted flag; the final ACK echoes the
//! TSval in TSecr, and the options come back. The TSval is rounded *down* (never above
//! our real clock), so the timestamps of the connection's later segments never go
//! backwards, which the peer's PAWS (RFC 7323 §5) would reject. Without timestamps the
//! SYN-ACK offers neither window scaling nor SACK, and the connection does without
//! (RFC 4987 §3.6 names this loss of options as the price of cookies).
//!
//! The first RTT sample of such a connection, taken from the echoed TSval, may be up to
//! 31 ms too long (the rounding); later samples correct it.

use crate::isn::derive_key;
use crate::{FourTuple, Instant, SeqNum};
use core::hash::Hasher;
use core::net::{IpAddr, SocketAddr};
use siphasher::sip::SipHasher24;

/// The MSS values a cookie can carry (2 bits): the minimum for IPv4 (RFC 9293 MUST-15),
/// the minimum for IPv6 (1280 − 60), and the common sizes behind PPPoE/tunnels and on
/// Ethernet (1500 − 40).
pub const MSS_TABLE: [u16; 4] = [536, 1220, 1440, 1460];

/// Seconds one counter period lasts.
pub const PERIOD_SECS: u64 = 64;

/// Low bits of TSval that carry the options.
pub const TS_OPTION_BITS: u32 = 5;
const TS_OPTION_MASK: u32 = (1 << TS_OPTION_BITS) - 1;
/// The window-shift field value meaning "the peer did not offer window scaling".
const NO_WSCALE: u32 = 0xF;
const SACK_BIT: u32 = 1 << 4;

const MAC_BITS: u32 = 27;
const MAC_MASK: u32 = (1 << MAC_BITS) - 1;

/// What a cookie brings back: the options of the SYN it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieOptions {
    /// The peer's MSS, rounded down to an entry of [`MSS_TABLE`].
    pub mss: u16,
    /// The peer's window shift, if it offered window scaling (and timestamps).
    pub window_scale: Option<u8>,
    /// The peer offered SACK (and timestamps).
    pub sack_permitted: bool,
    /// The peer's SYN carried timestamps and the final ACK echoes ours.
    pub timestamps: bool,
}

/// The cookie maker and checker of one endpoint.
#[derive(Clone)]
pub(crate) struct SynCookies {
    key: [u8; 16],
}

impl core::fmt::Debug for SynCookies {
    /// Never prints the key.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SynCookies { .. }")
    }
}

/// The counter period `now` falls in.
fn counter(now: Instant) -> u64 {
    now.as_micros() / 1_000_000 / PERIOD_SECS
}

fn write_addr(h: &mut SipHasher24, addr: SocketAddr) {
    match addr.ip() {
        IpAddr::V4(a) => {
            h.write(&[4]);
            h.write(&a.octets());
        }
        IpAddr::V6(a) => {
            h.write(&[6]);
            h.write(&a.octets());
        }
    }
    h.write(&addr.port().to_be_bytes());
}

/// The index of the largest table entry not above `mss` (the smallest entry if all are).
fn mss_index(mss: u16) -> u32 {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32
}

impl SynCookies {
    /// Keyed from the endpoint's secret (a key of its own, as for every other use).
    pub(crate) fn new(secret: &[u8; 16]) -> Self {
        SynCookies {
            key: derive_key(secret, b"synack syn cookie v1"),
        }
    }

    fn mac(&self, tuple: FourTuple, peer_isn: SeqNum, counter: u64, mss_index: u32) -> u32 {
        let mut h = SipHasher24::new_with_key(&self.key);
        write_addr(&mut h, tuple.local);
        write_addr(&mut h, tuple.remote);
        h.write(&peer_isn.raw().to_be_bytes());
        h.write(&counter.to_be_bytes());
        h.write(&[mss_index as u8]);
        (h.finish() as u32) & MAC_MASK
    }

    /// The cookie to use as our ISS in a SYN-ACK answering a SYN with sequence number
    /// `peer_isn` and MSS option `peer_mss` (536 if absent) on `tuple` (ours first).
    pub(crate) fn make(
        &self,
        now: Instant,
        tuple: FourTuple,
        peer_isn: SeqNum,
        peer_mss: u16,
    ) -> SeqNum {
        let c = counter(now);
        let idx = mss_index(peer_mss);
        let t = (c & 7) as u32;
        SeqNum((t << 29) | (idx << MAC_BITS) | self.mac(tuple, peer_isn, c, idx))
    }

    /// Check the cookie `SEG.ACK − 1` of an ACK whose `SEG.SEQ − 1` is the peer's ISN.
    /// Returns the peer's MSS if the cookie was made by us for this 4-tuple and ISN in
    /// this counter period or the one before.
    pub(crate) fn check(
        &self,
        now: Instant,
        tuple: FourTuple,
        peer_isn: SeqNum,
        cookie: SeqNum,
    ) -> Option<u16> {
        let raw = cookie.raw();
        let t = u64::from(raw >> 29);
        let idx = (raw >> MAC_BITS) & 3;
        let now_c = counter(now);
        let c = if now_c & 7 == t {
            now_c
        } else if now_c >= 1 && (now_c - 1) & 7 == t {
            now_c - 1
        } else {
            return None;
        };
        if self.mac(tuple, peer_isn, c, idx) != raw & MAC_MASK {
            return None;
        }
        MSS_TABLE.get(idx as usize).copied()
    }
}

/// Our SYN-ACK's TSval with the peer's options folded into its low bits: `tsval`
/// rounded down so as never to exceed it.
pub(crate) fn encode_ts(tsval: u32, window_scale: Option<u8>, sack_permitted: bool) -> u32 {
    let ws = window_scale.map_or(NO_WSCALE, |s| u32::from(s.min(14)));
    let opts = ws | if sack_permitted { SACK_BIT } else { 0 };
    let mut v = (tsval & !TS_OPTION_MASK) | opts;
    if crate::timestamps::ts_before(tsval, v) {
        v = v.wrapping_sub(TS_OPTION_MASK + 1);
    }
    v
}

/// The options folded into a TSval by [`encode_ts`], from the echo in TSecr.
pub(crate) fn decode_ts(tsecr: u32) -> (Option<u8>, bool) {
    let ws = tsecr & 0xF;
    let window_scale = (ws != NO_WSCALE).then_some(ws.min(14) as u8);
    (window_scale, tsecr & SACK_BIT != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn tuple(port: u16) -> FourTuple {
        FourTuple {
            local: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)), 80),
            remote: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 19, 7, 9)), port),
        }
    }

    fn secs(s: u64) -> Instant {
        Instant::from_millis(1000 * s)
    }

    fn jar() -> SynCookies {
        SynCookies::new(b"0123456789abcdef")
    }

    #[test]
    fn a_cookie_checks_out_for_its_own_tuple_and_isn() {
        let j = jar();
        let now = secs(1000);
        let isn = SeqNum(123_456);
        for (mss, expect) in [(1460, 1460), (1400, 1220), (9000, 1460), (100, 536)] {
            let c = j.make(now, tuple(5000), isn, mss);
            assert_eq!(j.check(now, tuple(5000), isn, c), Some(expect), "mss {mss}");
        }
    }

    #[test]
    fn a_cookie_fails_for_another_tuple_isn_or_secret() {
        let j = jar();
        let now = secs(1000);
        let c = j.make(now, tuple(5000), SeqNum(7), 1460);
        assert_eq!(j.check(now, tuple(5001), SeqNum(7), c), None);
        assert_eq!(j.check(now, tuple(5000), SeqNum(8), c), None);
        assert_eq!(j.check(now, tuple(5000), SeqNum(7), c.add(1)), None);
        let other = SynCookies::new(&[9; 16]);
        assert_eq!(other.check(now, tuple(5000), SeqNum(7), c), None);
        let v6 = FourTuple {
            local: SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 80),
            remote: SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 5000),
        };
        assert_eq!(j.check(now, v6, SeqNum(7), c), None);
    }

    #[test]
    fn a_cookie_lives_for_its_period_and_the_next_only() {
        let j = jar();
        let made = secs(64 * 100 + 10);
        let c = j.make(made, tuple(1), SeqNum(1), 1460);
        assert!(j.check(secs(64 * 100), tuple(1), SeqNum(1), c).is_some());
        assert!(j
            .check(secs(64 * 101 + 63), tuple(1), SeqNum(1), c)
            .is_some());
        assert!(j.check(secs(64 * 102), tuple(1), SeqNum(1), c).is_none());
        // Eight periods later the 3-bit counter matches again, but the MAC does not.
        assert!(j
            .check(secs(64 * 108 + 1), tuple(1), SeqNum(1), c)
            .is_none());
        // A cookie from the future (a clock that went back) is not accepted either.
        assert!(j.check(secs(64 * 99), tuple(1), SeqNum(1), c).is_none());
    }

    #[test]
    fn the_first_period_has_no_previous_one() {
        let j = jar();
        let c = j.make(Instant::ZERO, tuple(1), SeqNum(1), 536);
        assert_eq!(j.check(secs(5), tuple(1), SeqNum(1), c), Some(536));
    }

    #[test]
    fn forged_cookies_are_rejected() {
        let j = jar();
        let now = secs(500);
        let mut accepted = 0;
        for i in 0..200_000u32 {
            let guess = SeqNum(i.wrapping_mul(2_654_435_761));
            if j.check(now, tuple(7), SeqNum(99), guess).is_some() {
                accepted += 1;
            }
        }
        // About 200,000 × 2^-29 ≈ 0.0004 expected.
        assert_eq!(accepted, 0);
    }

    #[test]
    fn options_round_trip_through_the_timestamp_without_raising_it() {
        for tsval in [0u32, 31, 32, 1_000_000, u32::MAX, 0x8000_0000] {
            for ws in [None, Some(0), Some(7), Some(14)] {
                for sack in [false, true] {
                    let v = encode_ts(tsval, ws, sack);
                    assert_eq!(
                        decode_ts(v),
                        (ws, sack),
                        "tsval {tsval} ws {ws:?} sack {sack}"
                    );
                    let back = tsval.wrapping_sub(v);
                    assert!(back < 32, "tsval {tsval} encoded as {v}");
                }
            }
        }
    }
}
