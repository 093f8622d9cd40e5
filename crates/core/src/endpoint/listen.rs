//! Segments for a listener (RFC 9293 §3.10.7.2, LISTEN state): a SYN opens a half-open
//! connection in the listener's SYN queue, or — when the SYN queue or the connection
//! table is full — is answered with a SYN cookie and forgotten (RFC 4987 §3.6); an ACK
//! that brings a valid cookie back creates the connection then.

use super::Endpoint;
use crate::connection::Segment;
use crate::listener::ListenerQueue;
use crate::{DropReason, FourTuple, Instant, SegmentSummary, SeqNum, TraceKind};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr, Timestamps};

impl Endpoint {
    /// §3.10.7.2: a segment for a listener (no connection matched).
    pub(super) fn listen_segment(
        &mut self,
        now: Instant,
        lindex: u32,
        tuple: FourTuple,
        seg: &Segment<'_>,
        summary: SegmentSummary,
    ) {
        if seg.flags.rst() {
            return; // "An incoming RST should be ignored."
        }
        if seg.flags.ack() {
            // RFC 4987 §3.6: the final ACK of a handshake answered with a SYN cookie.
            if !seg.flags.syn()
                && self.config.syn_cookies
                && self
                    .listeners
                    .get_any(lindex)
                    .is_some_and(|l| l.cookies_recent(now))
                && self.cookie_ack(now, lindex, tuple, seg, summary)
            {
                return;
            }
            // "Any acknowledgment is bad if it arrives on a connection still in LISTEN."
            // A SYN-ACK may be dropped without the reset (`Config::listen_ignores_syn_ack`).
            let answer = !(seg.flags.syn() && self.config.listen_ignores_syn_ack);
            self.out.trace(
                now,
                tuple,
                TraceKind::Dropped {
                    seg: Some(summary),
                    reason: DropReason::Ignored,
                },
            );
            if answer {
                self.reply(tuple, seg.ack, None, TcpFlags::RST);
            }
            return;
        }
        if !seg.flags.syn() {
            return;
        }
        let Some(l) = self.listeners.get_any_mut(lindex) else {
            return;
        };
        let syn_limit = self
            .config
            .max_syn_backlog
            .min(l.backlog.saturating_mul(2).max(16));
        let table_full = self.conns.len() >= self.config.max_connections;
        let drop = if !l.can_accept_more() {
            // No room to accept the connection even if the handshake completed (as
            // Linux, cookies or not): the peer's retransmitted SYN will try again.
            self.out.stats.accept_queue_drops += 1;
            true
        } else if l.syn_pending >= syn_limit || table_full {
            if self.config.syn_cookies {
                l.cookie_sent_at = Some(now);
                self.out
                    .trace(now, tuple, TraceKind::Received { seg: summary });
                self.send_cookie(now, tuple, seg);
                return;
            }
            if table_full {
                self.out.stats.connection_limit_drops += 1;
            } else {
                self.out.stats.syn_queue_drops += 1;
            }
            true
        } else {
            false
        };
        if drop {
            self.out.trace(
                now,
                tuple,
                TraceKind::Dropped {
                    seg: Some(summary),
                    reason: DropReason::QueueFull,
                },
            );
            return;
        }
        l.syn_pending += 1;
        let lgen = self.listeners.generation_of(lindex);
        self.out
            .trace(now, tuple, TraceKind::Received { seg: summary });
        let isn = self.isn.isn_and_ts_offset(now, tuple.local, tuple.remote);
        let id = self.add_conn(now, tuple, isn, |conn, ctx| {
            conn.accept_syn(ctx, (lindex, lgen), seg);
            conn.listener_queue = ListenerQueue::Syn;
        });
        self.settle(now, id.index);
    }

    /// RFC 4987 §3.6: answer a SYN with `<SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK>` and
    /// keep nothing. The cookie carries the peer's MSS; window scaling and SACK are
    /// offered only if the SYN carried timestamps, in whose value they are folded (see
    /// [`crate::syn_cookie`]). The rest matches the SYN-ACK a queued connection would
    /// send (our MSS, window and window shift).
    fn send_cookie(&mut self, now: Instant, tuple: FourTuple, seg: &Segment<'_>) {
        let config = &self.config;
        let ipv6 = tuple.local.is_ipv6();
        let peer_mss = seg.options.mss.unwrap_or(if ipv6 { 1220 } else { 536 });
        let iss = self.cookies.make(now, tuple, seg.seq, peer_mss);
        let peer_ts = seg.options.timestamps.filter(|_| config.timestamps);
        let ws = peer_ts.is_some() && config.window_scaling;
        let peer_ws = seg.options.window_scale.filter(|_| ws);
        let sack = peer_ts.is_some() && config.sack && seg.options.sack_permitted;
        let rcv_wscale = crate::window::shift_for(config.recv_buffer_max.max(config.recv_buffer));
        let ts_offset = self.ts_offset(tuple);
        let options = TcpOptions {
            mss: Some(crate::connection::advertised_mss(config.mtu, ipv6)),
            window_scale: peer_ws.map(|_| rcv_wscale),
            sack_permitted: sack,
            timestamps: peer_ts.map(|t| Timestamps {
                tsval: crate::syn_cookie::encode_ts(
                    crate::timestamps::clock_ms(now).wrapping_add(ts_offset),
                    peer_ws,
                    sack,
                ),
                tsecr: t.tsval,
            }),
            ..TcpOptions::default()
        };
        let repr = TcpRepr {
            src_port: tuple.local.port(),
            dst_port: tuple.remote.port(),
            seq: iss.raw(),
            ack: seg.seq.add(1).raw(),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: config.recv_buffer.min(usize::from(u16::MAX)) as u16,
            urgent: 0,
            options,
        };
        self.out.stats.syn_cookies_sent += 1;
        self.out.reply(tuple, repr);
    }

    /// An ACK at a listener that sent cookies lately: if `SEG.ACK − 1` is a cookie we
    /// made for this 4-tuple and `SEG.SEQ − 1` (RFC 4987 §3.6), rebuild the connection
    /// from it — in SYN-RECEIVED, as if the SYN had been queued, with the options the
    /// cookie and the echoed timestamp carry — and let the ACK complete the handshake.
    /// Returns false if it is not a valid cookie (the caller resets, as for any bad
    /// ACK in LISTEN).
    fn cookie_ack(
        &mut self,
        now: Instant,
        lindex: u32,
        tuple: FourTuple,
        seg: &Segment<'_>,
        summary: SegmentSummary,
    ) -> bool {
        let peer_isn = seg.seq.sub(1);
        let iss = seg.ack.sub(1);
        let Some(mss) = self.cookies.check(now, tuple, peer_isn, iss) else {
            self.out.stats.syn_cookies_rejected += 1;
            return false;
        };
        let table_full = self.conns.len() >= self.config.max_connections;
        let lgen = self.listeners.generation_of(lindex);
        let Some(l) = self.listeners.get_any_mut(lindex) else {
            return false;
        };
        if !l.can_accept_more() || table_full {
            // Valid, but no room: drop it as if lost; the peer's next segment carries
            // the same cookie and may find room.
            if table_full {
                self.out.stats.connection_limit_drops += 1;
            } else {
                self.out.stats.accept_queue_drops += 1;
            }
            self.out.trace(
                now,
                tuple,
                TraceKind::Dropped {
                    seg: Some(summary),
                    reason: DropReason::QueueFull,
                },
            );
            return true;
        }
        l.syn_pending += 1;
        self.out.stats.syn_cookies_validated += 1;
        let config = &self.config;
        let (window_scale, sack_permitted, timestamps) =
            match seg.options.timestamps.filter(|_| config.timestamps) {
                Some(t) => {
                    let (ws, sack) = crate::syn_cookie::decode_ts(t.tsecr);
                    let ts = Timestamps {
                        tsval: t.tsval,
                        tsecr: 0,
                    };
                    (
                        ws.filter(|_| config.window_scaling),
                        sack && config.sack,
                        Some(ts),
                    )
                }
                None => (None, false, None),
            };
        // The SYN as the cookie remembers it.
        let options = TcpOptions {
            mss: Some(mss),
            window_scale,
            sack_permitted,
            timestamps,
            ..TcpOptions::default()
        };
        let syn = Segment {
            seq: peer_isn,
            ack: SeqNum(0),
            flags: TcpFlags::SYN,
            window: seg.window,
            options: &options,
            urgent: 0,
            payload: &[],
        };
        let ts_offset = self.ts_offset(tuple);
        let id = self.add_conn(now, tuple, (iss, ts_offset), |conn, ctx| {
            conn.accept_syn(ctx, (lindex, lgen), &syn);
            // Our SYN-ACK went out when the cookie was made.
            conn.snd_nxt = iss.add(1);
            conn.snd_max = conn.snd_nxt;
            conn.syn_ack_sent = true;
            conn.listener_queue = ListenerQueue::Syn;
        });
        self.out
            .trace(now, tuple, TraceKind::Received { seg: summary });
        self.deliver(now, id.index, seg);
        true
    }
}
