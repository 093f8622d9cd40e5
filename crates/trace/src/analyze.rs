//! TCP analysis of a whole trace: which segments are retransmissions, duplicate ACKs,
//! zero-window advertisements, window updates, keep-alives, zero-window probes and
//! out-of-order arrivals. The words mean what they mean in Wireshark's TCP analysis, and
//! the rules are close to its rules, so that the two tools agree on a capture.
//!
//! [`analyze()`] fills in each segment's [`Marks`](crate::Marks) (and its
//! `retransmission` flag, when the producer did not already know). It works on any
//! trace — one inferred from a capture, where each segment has one time, or one from the
//! simulator, where send and arrival times differ — and never changes anything else.
//!
//! # Rules, per direction (segments from one side, in the order they were sent)
//!
//! - **Keep-alive**: at most one byte, starting one below the highest sequence number
//!   sent so far, no SYN/FIN/RST.
//! - **Zero-window probe**: one byte at exactly the highest sequence number sent, while
//!   the receiver's last advertised window is zero.
//! - **Retransmission**: it carries data, SYN or FIN, and every sequence number it
//!   occupies was already seen in an earlier segment (except the SYN-ACK of a
//!   simultaneous open, which repeats the end's own SYN with an ACK by design). A segment that carries sequence
//!   numbers never seen before but starts below the highest seen is a retransmission if
//!   it comes later than the segment that went past it by at least an RTT (the
//!   handshake's, or 3 ms when unknown), and **out of order** otherwise: a capture taken
//!   at the receiver never sees the lost original, only its late copy.
//! - **Duplicate ACK**: no data, no SYN/FIN/RST, the same ACK number and window as the
//!   sender's previous segment while the peer has data outstanding beyond that ACK. They
//!   are numbered 1, 2, 3... until the ACK number moves.
//! - **Zero window**: a window of 0 in anything but a RST or SYN, from a side whose peer
//!   has not sent its FIN (after it, no data can come that the window would limit).
//!   **Window update**: a pure ACK that opens a window that was zero.
//! - **Beyond window**: data past the right edge of the receiver's last advertised window
//!   (scaled by RFC 7323 window scaling when both SYNs carried the option).
//!
//! When arrival times are known and some differ from send times (a simulator trace), a
//! second pass looks at each receiver's arrival order: a segment that brings new data
//! below what already arrived, and is no retransmission, was **reordered** by the
//! network and is marked out of order.

use crate::model::{SegmentId, Side, TimelineEvent, Trace};
use crate::seqspace::{after, later, seg_end, seg_space, RangeSet};
use core::time::Duration;
use synack::Instant;

/// What the analysis fell back on when a trace says nothing about the RTT.
const DEFAULT_REORDER_WINDOW: Duration = Duration::from_millis(3);

/// Each side's window-scale shift, if both SYNs negotiated window scaling.
pub fn window_scales(trace: &Trace) -> [u8; 2] {
    let ws = |side: Side| {
        trace
            .segments()
            .iter()
            .find(|s| s.from == side && s.summary.flags.syn() && !s.injected)
            .and_then(|s| s.summary.options.window_scale)
    };
    match (ws(Side::A), ws(Side::B)) {
        (Some(a), Some(b)) => [a, b],
        _ => [0, 0],
    }
}

/// The handshake's round-trip time as the trace shows it: from the first SYN to the
/// segment that acknowledges the answering SYN-ACK (a capture anywhere on the path sees
/// a full round trip between those two), if both are there.
pub fn handshake_rtt(trace: &Trace) -> Option<Duration> {
    let segs = trace.segments();
    let syn = segs
        .iter()
        .find(|s| s.summary.flags.syn() && !s.summary.flags.ack() && !s.injected)?;
    let synack = segs.iter().find(|s| {
        s.from != syn.from && s.summary.flags.syn() && s.summary.flags.ack() && !s.injected
    })?;
    let ack = segs.iter().find(|s| {
        s.from == syn.from
            && !s.summary.flags.syn()
            && s.summary.flags.ack()
            && s.summary.ack == synack.summary.seq.wrapping_add(1)
            && s.sent_at >= synack.sent_at
    })?;
    Some(ack.sent_at.saturating_since(syn.sent_at))
}

/// Fill in the [`Marks`](crate::Marks) (and `retransmission` flags) of every segment.
/// Running it twice gives the same result.
pub fn analyze(trace: &mut Trace) {
    let reorder_window = handshake_rtt(trace)
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_REORDER_WINDOW);
    let scales = window_scales(trace);
    for side in [Side::A, Side::B] {
        analyze_direction(trace, side, scales, reorder_window);
    }
    if trace
        .segments()
        .iter()
        .any(|s| s.arrived_at.is_some_and(|a| a != s.sent_at))
    {
        for side in [Side::A, Side::B] {
            reordering_at_receiver(trace, side);
        }
    }
}

/// A segment the sender really sent (not a network copy, not injected by a test).
fn sent_by_peer(trace: &Trace, id: SegmentId) -> bool {
    trace
        .segments()
        .get(id.0)
        .is_some_and(|s| !s.injected && !s.duplicate)
}

/// Both directions' segments in the order they were sent.
fn send_order(trace: &Trace) -> Vec<SegmentId> {
    trace
        .timeline()
        .into_iter()
        .filter_map(|e| match e {
            TimelineEvent::Sent(id) if sent_by_peer(trace, id) => Some(id),
            _ => None,
        })
        .collect()
}

fn analyze_direction(trace: &mut Trace, side: Side, scales: [u8; 2], reorder_window: Duration) {
    let order = send_order(trace);
    let Some(base) = trace.initial_seq(side) else {
        return;
    };
    let offset = |seq: u32| u64::from(seq.wrapping_sub(base));
    // This side's sender state.
    let mut seen = RangeSet::default();
    let mut highest: Option<u32> = None;
    let mut highest_at = Instant::ZERO;
    // The peer's receive window as last advertised: (ack, window in bytes).
    let mut peer_window: Option<(u32, u64)> = None;
    // This side's own previous segment as an ACKer: (ack, window), and the dup count.
    let mut last_ack: Option<(u32, u16)> = None;
    let mut dup_count = 0u32;
    let mut last_window: Option<u16> = None;
    // The peer's highest sequence sent so far (to know whether it has data outstanding).
    let mut peer_highest: Option<u32> = None;
    // The peer has sent its FIN: it will send no more data, so this side's window no
    // longer matters (a TIME-WAIT ACK advertising 0 is no "zero window").
    let mut peer_fin = false;
    // Every earlier segment of this side was a SYN without ACK: a SYN-ACK now repeats the
    // SYN's sequence number because of a simultaneous open, not because a timer expired.
    let mut only_bare_syns = true;
    for id in order {
        let Some(seg) = trace.segments().get(id.0).cloned() else {
            continue;
        };
        if seg.from != side {
            let s = &seg.summary;
            peer_fin |= s.flags.fin();
            peer_highest = Some(peer_highest.map_or(seg_end(&seg), |h| later(h, seg_end(&seg))));
            if s.flags.ack() && !s.flags.rst() {
                let scale = scales[side.other().index()];
                let wnd = u64::from(s.window) << if s.flags.syn() { 0 } else { scale };
                peer_window = Some((s.ack, wnd));
            }
            continue;
        }
        let s = seg.summary;
        let space = seg_space(&seg);
        let end = seg_end(&seg);
        let mut marks = seg.marks;
        let mut retransmission = seg.retransmission;
        let control = s.flags.syn() || s.flags.fin() || s.flags.rst();

        if let Some(h) = highest {
            if !control && s.len <= 1 && s.seq == h.wrapping_sub(1) {
                marks.keep_alive = true;
            } else if !control
                && s.len == 1
                && s.seq == h
                && peer_window.is_some_and(|(_, w)| w == 0)
            {
                marks.window_probe = true;
            } else if space > 0 && !s.flags.rst() && after(h, s.seq) {
                let (start, stop) = (offset(s.seq), offset(s.seq) + u64::from(space));
                let simultaneous_open = s.flags.syn() && s.flags.ack() && only_bare_syns;
                if simultaneous_open {
                    // RFC 9293 Figure 7: the SYN-ACK re-sends the SYN with an ACK.
                } else if seen.covers(start, stop) {
                    retransmission = true;
                } else if seg.sent_at.saturating_since(highest_at) < reorder_window
                    && !retransmission
                {
                    marks.out_of_order = true;
                } else {
                    retransmission = true;
                }
            }
        }
        if let Some((ack, wnd)) = peer_window {
            if s.len > 0 && !marks.window_probe && !marks.keep_alive {
                let right = u64::from(ack.wrapping_sub(base)) + wnd;
                if offset(s.seq) + u64::from(s.len) > right && after(end, ack) {
                    marks.beyond_window = true;
                }
            }
        }
        only_bare_syns &= s.flags.syn() && !s.flags.ack();
        if space > 0 {
            seen.insert(offset(s.seq), offset(s.seq) + u64::from(space));
            if highest.is_none_or(|h| after(end, h)) {
                highest = Some(end);
                highest_at = seg.sent_at;
            }
        }

        // As an ACKer.
        let pure_ack = s.flags.ack() && !control && s.len == 0;
        if s.flags.ack() && !s.flags.rst() {
            let outstanding = peer_highest.is_some_and(|h| after(h, s.ack));
            match last_ack {
                Some((ack, window))
                    if pure_ack
                        && ack == s.ack
                        && window == s.window
                        && outstanding
                        && !marks.keep_alive =>
                {
                    dup_count += 1;
                    marks.dup_ack = Some(dup_count);
                }
                _ => {
                    if last_ack.is_none_or(|(ack, _)| ack != s.ack) {
                        dup_count = 0;
                    }
                    marks.dup_ack = None;
                }
            }
            last_ack = Some((s.ack, s.window));
        }
        if !s.flags.rst() {
            marks.zero_window = s.window == 0 && !s.flags.syn() && !peer_fin;
            marks.window_update =
                pure_ack && s.window > 0 && last_window == Some(0) && marks.dup_ack.is_none();
            last_window = Some(s.window);
        }
        if let Some(target) = trace.segment_mut(id) {
            target.marks = marks;
            target.retransmission = retransmission;
        }
    }
}

/// Second pass for traces with arrival times: reordering by the network, as the
/// receiver (`side.other()`) saw it.
fn reordering_at_receiver(trace: &mut Trace, side: Side) {
    let Some(base) = trace.initial_seq(side) else {
        return;
    };
    let arrivals: Vec<SegmentId> = trace
        .timeline()
        .into_iter()
        .filter_map(|e| match e {
            TimelineEvent::Arrived(id) => Some(id),
            _ => None,
        })
        .filter(|id| {
            trace
                .segments()
                .get(id.0)
                .is_some_and(|s| s.from == side && !s.injected && !s.corrupted)
        })
        .collect();
    let mut arrived = RangeSet::default();
    let mut highest: Option<u32> = None;
    for id in arrivals {
        let Some(seg) = trace.segments().get(id.0).cloned() else {
            continue;
        };
        let space = seg_space(&seg);
        if space == 0 || seg.summary.flags.rst() {
            continue;
        }
        let start = u64::from(seg.summary.seq.wrapping_sub(base));
        let stop = start + u64::from(space);
        let end = seg_end(&seg);
        if let Some(h) = highest {
            if after(h, seg.summary.seq)
                && !arrived.covers(start, stop)
                && !seg.retransmission
                && !seg.marks.keep_alive
            {
                if let Some(target) = trace.segment_mut(id) {
                    target.marks.out_of_order = true;
                }
            }
        }
        arrived.insert(start, stop);
        if highest.is_none_or(|h| after(end, h)) {
            highest = Some(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Peer;
    use synack::{SegmentSummary, State};
    use synack_wire::{TcpFlags, TcpOptions};

    const SYN: TcpFlags = TcpFlags::SYN;
    const ACK: TcpFlags = TcpFlags::ACK;

    fn seg(seq: u32, ack: u32, flags: TcpFlags, window: u16, len: u32) -> SegmentSummary {
        SegmentSummary {
            seq,
            ack,
            flags,
            window,
            len,
            options: TcpOptions::default(),
        }
    }

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    /// Record a segment seen at one instant (as in a capture).
    fn seen(t: &mut Trace, from: Side, at: u64, s: SegmentSummary) -> SegmentId {
        let id = t.send(from, ms(at), s);
        t.arrive(id, ms(at));
        id
    }

    fn handshake() -> Trace {
        let mut t = Trace::new(Peer::new("A", State::Closed), Peer::new("B", State::Listen));
        seen(&mut t, Side::A, 0, seg(100, 0, SYN, 1000, 0));
        seen(&mut t, Side::B, 10, seg(300, 101, SYN | ACK, 1000, 0));
        seen(&mut t, Side::A, 20, seg(101, 301, ACK, 1000, 0));
        t
    }

    #[test]
    fn retransmission_and_duplicate_acks_are_marked() {
        let mut t = handshake();
        let d1 = seen(&mut t, Side::A, 30, seg(101, 301, ACK, 1000, 100));
        let d2 = seen(&mut t, Side::A, 31, seg(201, 301, ACK, 1000, 100));
        let d3 = seen(&mut t, Side::A, 32, seg(301, 301, ACK, 1000, 100));
        let a1 = seen(&mut t, Side::B, 40, seg(301, 201, ACK, 1000, 0));
        let a2 = seen(&mut t, Side::B, 41, seg(301, 201, ACK, 1000, 0));
        let a3 = seen(&mut t, Side::B, 42, seg(301, 201, ACK, 1000, 0));
        let re = seen(&mut t, Side::A, 50, seg(201, 301, ACK, 1000, 100));
        let a4 = seen(&mut t, Side::B, 60, seg(301, 401, ACK, 1000, 0));
        analyze(&mut t);
        let s = t.segments();
        assert!(!s[d1.0].retransmission && !s[d2.0].retransmission && !s[d3.0].retransmission);
        assert_eq!(
            s[a1.0].marks.dup_ack, None,
            "the first ACK of 201 is no duplicate"
        );
        assert_eq!(s[a2.0].marks.dup_ack, Some(1));
        assert_eq!(s[a3.0].marks.dup_ack, Some(2));
        assert!(s[re.0].retransmission);
        assert_eq!(s[a4.0].marks.dup_ack, None);
    }

    #[test]
    fn hole_filled_soon_is_out_of_order_and_late_is_a_retransmission() {
        // Seen at the receiver: 201..301 first, then 101..201 1 ms later (out of order),
        // then, in a second run, 3 s later (a retransmission of a segment lost upstream).
        for (delay, out_of_order) in [(1, true), (3000, false)] {
            let mut t = handshake();
            seen(&mut t, Side::A, 30, seg(201, 301, ACK, 1000, 100));
            let late = seen(&mut t, Side::A, 30 + delay, seg(101, 301, ACK, 1000, 100));
            analyze(&mut t);
            let s = &t.segments()[late.0];
            assert_eq!(s.marks.out_of_order, out_of_order, "delay {delay}");
            assert_eq!(s.retransmission, !out_of_order, "delay {delay}");
        }
    }

    #[test]
    fn zero_window_update_probe_and_keep_alive() {
        let mut t = handshake();
        seen(&mut t, Side::A, 30, seg(101, 301, ACK, 1000, 100));
        let zero = seen(&mut t, Side::B, 40, seg(301, 201, ACK, 0, 0));
        let probe = seen(&mut t, Side::A, 50, seg(201, 301, ACK, 1000, 1));
        let update = seen(&mut t, Side::B, 60, seg(301, 201, ACK, 500, 0));
        let keep_alive = seen(&mut t, Side::A, 7000, seg(201, 301, ACK, 1000, 0));
        analyze(&mut t);
        let s = t.segments();
        assert!(s[zero.0].marks.zero_window);
        assert!(s[probe.0].marks.window_probe);
        assert!(!s[probe.0].retransmission);
        assert!(s[update.0].marks.window_update, "{:?}", s[update.0]);
        assert!(s[keep_alive.0].marks.keep_alive);
        assert!(!s[keep_alive.0].retransmission);
    }

    #[test]
    fn network_reordering_is_found_from_arrival_order() {
        let mut t = handshake();
        let first = t.send(Side::A, ms(30), seg(101, 301, ACK, 1000, 100));
        let second = t.send(Side::A, ms(31), seg(201, 301, ACK, 1000, 100));
        t.arrive(second, ms(41));
        t.arrive(first, ms(60));
        analyze(&mut t);
        assert!(t.segments()[first.0].marks.out_of_order);
        assert!(!t.segments()[second.0].marks.out_of_order);
    }

    #[test]
    fn handshake_rtt_spans_syn_to_ack() {
        assert_eq!(handshake_rtt(&handshake()), Some(Duration::from_millis(20)));
    }

    #[test]
    fn analysis_is_idempotent() {
        let mut t = handshake();
        seen(&mut t, Side::A, 30, seg(101, 301, ACK, 1000, 100));
        seen(&mut t, Side::A, 3030, seg(101, 301, ACK, 1000, 100));
        analyze(&mut t);
        let once = t.clone();
        analyze(&mut t);
        assert_eq!(once, t);
    }
}
