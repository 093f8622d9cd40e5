//! Test hooks on links: a closure that decides the fate of each datagram.

use crate::sim::HostId;
use core::time::Duration;
use synack::Instant;
use synack_wire::{ParsedPacket, TcpFlags};

/// What a link filter tells the link to do with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAction {
    /// Carry it as usual (the link's own impairments still apply).
    Deliver,
    /// Drop it (recorded as [`DropCause::Filtered`](crate::DropCause::Filtered)).
    Drop,
    /// Carry it, arriving this much later than it otherwise would.
    Delay(Duration),
}

/// What a link filter sees of one datagram.
#[derive(Debug)]
pub struct FilterContext<'a> {
    /// The sending host.
    pub from: HostId,
    /// The receiving host.
    pub to: HostId,
    /// The time it is being sent.
    pub now: Instant,
    /// How many datagrams this link direction was offered before this one (0 for the
    /// first), whatever became of them.
    pub index: u64,
    /// The raw datagram.
    pub bytes: &'a [u8],
    /// The datagram parsed, when it parses.
    pub packet: Option<ParsedPacket<'a>>,
}

impl FilterContext<'_> {
    /// The TCP flags, if the datagram parsed.
    pub fn flags(&self) -> Option<TcpFlags> {
        self.packet.as_ref().map(|p| p.tcp.flags)
    }
    /// A SYN without ACK (the first segment of an active open).
    pub fn is_syn(&self) -> bool {
        self.flags().is_some_and(|f| f.syn() && !f.ack())
    }
    /// A SYN with ACK (a listener's answer).
    pub fn is_syn_ack(&self) -> bool {
        self.flags().is_some_and(|f| f.syn() && f.ack())
    }
    /// A segment with FIN set.
    pub fn is_fin(&self) -> bool {
        self.flags().is_some_and(|f| f.fin())
    }
    /// A segment with RST set.
    pub fn is_rst(&self) -> bool {
        self.flags().is_some_and(|f| f.rst())
    }
    /// Payload bytes (0 if the datagram did not parse).
    pub fn payload_len(&self) -> usize {
        self.packet.as_ref().map_or(0, |p| p.payload.len())
    }
}

/// A boxed link filter.
pub(crate) type Filter = Box<dyn FnMut(&FilterContext<'_>) -> FilterAction>;
