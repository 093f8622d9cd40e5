//! What the simulator records: every datagram and every endpoint trace event.

use crate::link::{flip_bit, DropCause};
use crate::sim::HostId;
use synack::{Instant, TraceEvent};
use synack_wire::{parse_packet, ParsedPacket};

/// What became of a datagram put on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still in the network; it will arrive at `arrives_at`.
    InFlight {
        /// When it is due.
        arrives_at: Instant,
    },
    /// It reached the destination host's endpoint at `at`.
    Delivered {
        /// When it was handed to `Endpoint::handle`.
        at: Instant,
    },
    /// The network dropped it.
    Dropped {
        /// Why.
        reason: DropCause,
    },
}

/// Every datagram the simulator carried (or refused to), in the order it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketRecord {
    /// Its index in [`Sim::packets`](crate::Sim::packets).
    pub id: usize,
    /// The sending host; `None` for a datagram put in by [`Sim::inject`](crate::Sim::inject).
    pub from: Option<HostId>,
    /// The host it was routed to; `None` if no host owns the destination address.
    pub to: Option<HostId>,
    /// When it was sent (for an injected datagram: when it was injected).
    pub sent_at: Instant,
    /// What became of it.
    pub outcome: Outcome,
    /// For a copy made by the link's duplication: the id of the original.
    pub duplicate_of: Option<usize>,
    /// For a corrupted datagram: the bit that was flipped (0 is the most significant bit
    /// of the first byte). See [`PacketRecord::delivered_bytes`].
    pub corrupt_bit: Option<usize>,
    /// The sender's endpoint traced this datagram as a retransmission.
    pub retransmission: bool,
    /// The datagram as the sender sent it (before any corruption).
    pub bytes: Vec<u8>,
}

impl PacketRecord {
    /// The network flipped a bit of it on the way.
    pub fn corrupted(&self) -> bool {
        self.corrupt_bit.is_some()
    }

    /// The datagram as the receiver got it (with the corrupted bit flipped).
    pub fn delivered_bytes(&self) -> Vec<u8> {
        let mut bytes = self.bytes.clone();
        if let Some(bit) = self.corrupt_bit {
            flip_bit(&mut bytes, bit);
        }
        bytes
    }

    /// The datagram as sent, parsed; `None` if it is not a valid IP datagram with TCP.
    pub fn parse(&self) -> Option<ParsedPacket<'_>> {
        parse_packet(&self.bytes).ok()
    }

    /// It reached its destination.
    pub fn delivered(&self) -> bool {
        matches!(self.outcome, Outcome::Delivered { .. })
    }

    /// One line about it for a failure dump: id, time, hosts, the header fields that
    /// matter (flags, seq, ack, window, length, timestamps, SACK blocks) and what the
    /// network did to it.
    pub fn dump_line(&self) -> String {
        let head = format!(
            "#{:<8} {:>14} {:?}->{:?}",
            self.id,
            self.sent_at.to_string(),
            self.from.map(|h| h.index()),
            self.to.map(|h| h.index()),
        );
        let Some(pkt) = self.parse() else {
            return format!("{head} unparsable");
        };
        let t = &pkt.tcp;
        format!(
            "{head} {:?} seq={} ack={} win={} len={} ts={:?} sack={:?} rtx={} dup={:?} corrupt={} {:?}",
            t.flags,
            t.seq,
            t.ack,
            t.window,
            pkt.payload.len(),
            t.options.timestamps.map(|x| (x.tsval, x.tsecr)),
            t.options.sack.as_slice(),
            self.retransmission,
            self.duplicate_of,
            self.corrupted(),
            self.outcome
        )
    }
}

/// One endpoint trace event, tagged with the host that recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEvent {
    /// The host whose endpoint recorded it.
    pub host: HostId,
    /// The event (its `conn` is from that host's point of view).
    pub event: TraceEvent,
}
