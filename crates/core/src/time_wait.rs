//! TIME-WAIT as a compact record (RFC 9293 §3.6.1, §3.10.7.4): once the application has
//! let go of a connection that reached TIME-WAIT, the endpoint keeps only what it needs
//! to ACK a retransmitted FIN, answer stray segments, and keep the 4-tuple from being
//! reused for 2 × MSL — a few dozen bytes instead of a whole TCB.

use crate::outbox::{ChallengeShare, Outbox};
use crate::{Config, FourTuple, Instant, SeqNum};
use synack_wire::{TcpFlags, TcpOptions, TcpRepr, Timestamps};

/// A connection in TIME-WAIT with no buffers.
#[derive(Debug, Clone)]
pub(crate) struct TimeWait {
    pub tuple: FourTuple,
    /// Our sequence number after our FIN.
    pub snd_nxt: SeqNum,
    /// The peer's sequence number after its FIN.
    pub rcv_nxt: SeqNum,
    pub expires: Instant,
    /// Earliest entry this record has in the endpoint's timer queue.
    pub timer_entry: Option<Instant>,
    /// The window field of the connection's last ACK: repeated, so that the right edge
    /// offered never moves left (RFC 9293 §3.8.6, SHLD-14).
    pub window: u16,
    /// With timestamps negotiated, our clock offset and TS.Recent: every non-RST
    /// segment carries the option (RFC 7323 §3.2).
    pub ts: Option<(u32, u32)>,
    /// This record's share of the challenge-ACK budget (RFC 5961 §7), so that forged
    /// SYNs aimed at one TIME-WAIT 4-tuple cannot use up the endpoint's budget.
    pub challenge: ChallengeShare,
}

/// What the endpoint should do with the record after a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeWaitAction {
    Keep,
    /// An acceptable RST: CLOSED.
    Close,
    /// A new SYN above the old sequence space may open a new connection (RFC 9293
    /// §3.10.7.4 TIME-WAIT / RFC 6191 without timestamps): close and pass it to LISTEN.
    Reopen,
}

impl TimeWait {
    /// Process a segment for this 4-tuple.
    pub(crate) fn on_segment(
        &mut self,
        now: Instant,
        config: &Config,
        out: &mut Outbox,
        seq: SeqNum,
        flags: TcpFlags,
        payload_len: usize,
    ) -> TimeWaitAction {
        if flags.rst() {
            // RFC 5961 §3.2: only exactly RCV.NXT resets; RCV.WND is zero here, so
            // nothing else is in the window and the RST is dropped.
            return if seq == self.rcv_nxt {
                TimeWaitAction::Close
            } else {
                TimeWaitAction::Keep
            };
        }
        if flags.syn() && !flags.ack() {
            if seq.gt(self.rcv_nxt) {
                return TimeWaitAction::Reopen;
            }
            if out.allow_challenge(now, config, Some(&mut self.challenge)) {
                self.ack(now, out);
            }
            return TimeWaitAction::Keep;
        }
        if flags.fin() {
            // The peer's FIN again: our last ACK was lost. ACK it and restart the
            // 2 MSL timeout (§3.10.7.4, eighth step).
            self.expires = now + 2 * config.msl;
            self.ack(now, out);
            return TimeWaitAction::Keep;
        }
        if seq != self.rcv_nxt || payload_len > 0 {
            // Not acceptable with a zero window: ACK (old duplicates die here).
            self.ack(now, out);
        }
        TimeWaitAction::Keep
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, with the last window offered and, if
    /// negotiated, timestamps.
    pub(crate) fn ack(&self, now: Instant, out: &mut Outbox) {
        let options = TcpOptions {
            timestamps: self.ts.map(|(offset, recent)| Timestamps {
                tsval: crate::timestamps::clock_ms(now).wrapping_add(offset),
                tsecr: recent,
            }),
            ..TcpOptions::default()
        };
        let repr = TcpRepr {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq: self.snd_nxt.raw(),
            ack: self.rcv_nxt.raw(),
            flags: TcpFlags::ACK,
            window: self.window,
            urgent: 0,
            options,
        };
        out.reply(self.tuple, repr);
    }
}
