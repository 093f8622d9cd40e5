//! The urgent mechanism (RFC 9293 §3.8.5, MUST-30..33 and MUST-62, with RFC 6093's
//! reading of it).
//!
//! Urgent data stays in line: it is part of the byte stream like any other data, and
//! the urgent pointer only marks where it ends. The pointer in a segment is an offset
//! from the segment's sequence number to the octet *following* the last urgent octet
//! (MUST-62, as RFC 6093 §2 settles the old ambiguity). So:
//!
//! - **Sending**: `send_urgent` queues data and moves SND.UP to the sequence number just
//!   past it. Every segment we send whose sequence number lies before SND.UP carries URG
//!   and the pointer (65,535 when SND.UP is farther than the 16-bit field reaches, as
//!   RFC 6093 §4 describes), until the peer has acknowledged everything up to SND.UP.
//!   Urgent data of any length is supported (MUST-31): a later urgent send only moves
//!   SND.UP forward.
//! - **Receiving** (§3.10.7.4, sixth step, in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2):
//!   RCV.UP ← max(RCV.UP, SEG.SEQ + SEG.UP). The application is told, by an
//!   [`Event::Urgent`], when a pointer appears while no urgent data was pending or when
//!   it advances (MUST-32), and can ask how many bytes remain to be read up to the end
//!   of the urgent data (MUST-33). It is processed even when the receive window is zero
//!   (MUST-66).
//!
//! The state lives in a box that exists only while there is something urgent, so
//! connections that never use the mechanism (nearly all, SHLD-13) pay one pointer.

use super::Connection;
use crate::endpoint::Event;
use crate::outbox::Ctx;
use crate::{SeqNum, State};
use synack_wire::{TcpFlags, TcpRepr};

/// Urgent pointers of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Urgent {
    /// SND.UP: the sequence number just past the last urgent octet we queued.
    snd_up: Option<SeqNum>,
    /// RCV.UP: the sequence number just past the last urgent octet the peer marked.
    rcv_up: Option<SeqNum>,
}

impl Connection {
    /// SEND with the urgent flag (§3.10.2): queue `data` and mark its end as urgent.
    pub(crate) fn send_urgent(
        &mut self,
        ctx: &mut Ctx<'_>,
        data: &[u8],
    ) -> Result<usize, crate::Error> {
        let n = self.send(ctx, data)?;
        // The first data octet follows our SYN; once the SYN is acknowledged the send
        // buffer starts at SND.UNA.
        let start = if matches!(self.state, State::SynSent | State::SynReceived) {
            self.iss.add(1)
        } else {
            self.snd_una
        };
        let up = start.add_len(self.send_buf.len());
        let u = self.urgent.get_or_insert_with(Default::default);
        u.snd_up = Some(u.snd_up.map_or(up, |old| old.max(up)));
        Ok(n)
    }

    /// Set URG and the urgent pointer on an outgoing segment starting at `repr.seq`
    /// while it lies before SND.UP; forget SND.UP once the peer has acknowledged it.
    pub(crate) fn mark_urgent(&mut self, repr: &mut TcpRepr) {
        let Some(u) = self.urgent.as_mut() else {
            return;
        };
        let Some(up) = u.snd_up else {
            return;
        };
        if !self.snd_una.lt(up) {
            u.snd_up = None;
            self.drop_idle_urgent();
            return;
        }
        let seq = SeqNum(repr.seq);
        if repr.flags.syn() || !repr.flags.ack() || !seq.lt(up) {
            return;
        }
        repr.flags = repr.flags | TcpFlags::URG;
        repr.urgent = u16::try_from(up.since(seq)).unwrap_or(u16::MAX);
    }

    /// Sixth, check the URG bit (§3.10.7.4): in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2,
    /// RCV.UP ← max(RCV.UP, SEG.UP + SEG.SEQ), and signal the application when the
    /// pointer appears with no urgent data pending, or advances (MUST-32). Other states
    /// ignore the bit (the peer's FIN has arrived, so no urgent data can follow).
    #[inline]
    pub(crate) fn process_urg(&mut self, ctx: &mut Ctx<'_>, seq: SeqNum, flags: TcpFlags, up: u16) {
        // Inline, so that a segment without URG (nearly all) costs a test, not a call.
        if flags.urg() {
            self.take_urgent_pointer(ctx, seq, up);
        }
    }

    /// [`Self::process_urg`] for a segment with URG set.
    #[inline(never)]
    fn take_urgent_pointer(&mut self, ctx: &mut Ctx<'_>, seq: SeqNum, up: u16) {
        if up == 0
            || !matches!(
                self.state,
                State::Established | State::FinWait1 | State::FinWait2
            )
        {
            return;
        }
        let candidate = seq.add(u32::from(up));
        // Only a pointer past what the application has already read is news.
        if !self.read_point().lt(candidate) {
            return;
        }
        let advanced = match self.urgent.as_ref().and_then(|u| u.rcv_up) {
            Some(old) => old.lt(candidate),
            None => true,
        };
        if !advanced {
            return;
        }
        self.urgent.get_or_insert_with(Default::default).rcv_up = Some(candidate);
        if self.owner == super::Owner::App {
            ctx.out.events.push_back(Event::Urgent(self.id));
        }
    }

    /// How many bytes the application must still read to reach the end of the urgent
    /// data, or `None` when no urgent data is pending (MUST-33).
    pub(crate) fn urgent_remaining(&mut self) -> Option<usize> {
        let up = self.urgent.as_ref()?.rcv_up?;
        let read = self.read_point();
        if read.lt(up) {
            Some(up.since(read) as usize)
        } else {
            if let Some(u) = self.urgent.as_mut() {
                u.rcv_up = None;
            }
            self.drop_idle_urgent();
            None
        }
    }

    /// The sequence number of the next byte the application will read.
    fn read_point(&self) -> SeqNum {
        let readable = u32::try_from(self.recv_buf.readable()).unwrap_or(u32::MAX);
        SeqNum(self.rcv_nxt.raw().wrapping_sub(readable))
    }

    fn drop_idle_urgent(&mut self) {
        if self
            .urgent
            .as_ref()
            .is_some_and(|u| u.snd_up.is_none() && u.rcv_up.is_none())
        {
            self.urgent = None;
        }
    }
}
