//! Turning the simulator's records into the shared trace model of `synack-trace`.

use crate::record::Outcome;
use crate::sim::{HostId, LogEntry, Sim};
use std::collections::HashMap;
use synack::{FourTuple, SegmentSummary, State, TraceKind};
use synack_trace::{Peer, SegmentId, Side, Trace};
use synack_wire::ParsedPacket;

/// Does `packet` travel from `src` to `dst` (addresses and ports)?
fn travels(
    packet: &ParsedPacket<'_>,
    src: core::net::SocketAddr,
    dst: core::net::SocketAddr,
) -> bool {
    packet.src == src.ip()
        && packet.tcp.src_port == src.port()
        && packet.dst == dst.ip()
        && packet.tcp.dst_port == dst.port()
}

impl Sim {
    /// The 4-tuples (from `host`'s point of view) of every connection `host` has traced,
    /// in the order they first appeared.
    pub fn connections(&mut self, host: HostId) -> Vec<FourTuple> {
        self.collect();
        let mut seen = Vec::new();
        for event in self.events_of(host) {
            if !seen.contains(&event.conn) {
                seen.push(event.conn);
            }
        }
        seen
    }

    /// The trace of the first connection between `a` and `b`, with `a` drawn on the
    /// left (make `a` the client to read like RFC 9293's figures). `None` if `a` traced
    /// no connection to an address of `b`.
    pub fn trace_between(&mut self, a: HostId, b: HostId) -> Option<Trace> {
        let tuple = self.connections(a).into_iter().find(|t| {
            self.addresses(b).contains(&t.remote.ip()) && self.addresses(a).contains(&t.local.ip())
        })?;
        Some(self.trace_connection(a, b, tuple))
    }

    /// The trace of one connection between `a` and `b`; `tuple` is its 4-tuple as `a`
    /// sees it. Segments are every datagram of that 4-tuple either host sent (including
    /// ones the network lost, duplicated or corrupted) and every datagram injected
    /// towards either of them; transitions are both endpoints' state changes for it.
    /// Peers are named after the hosts and start in the state their first transition
    /// leaves (`CLOSED` if they have none).
    pub fn trace_connection(&mut self, a: HostId, b: HostId, tuple: FourTuple) -> Trace {
        self.collect();
        let reversed = FourTuple {
            local: tuple.remote,
            remote: tuple.local,
        };
        let initial = |host: HostId, conn: FourTuple| {
            self.events_of(host)
                .find_map(|e| match e.kind {
                    TraceKind::StateChange { from, .. } if e.conn == conn => Some(from),
                    _ => None,
                })
                .unwrap_or(State::Closed)
        };
        let peer = |host: HostId, addr, state| Peer {
            name: self.host_name(host).to_string(),
            addr: Some(addr),
            initial_state: state,
        };
        let mut trace = Trace::new(
            peer(a, tuple.local, initial(a, tuple)),
            peer(b, tuple.remote, initial(b, reversed)),
        );
        let side_of = |packet: &ParsedPacket<'_>| {
            if travels(packet, tuple.local, tuple.remote) {
                Some(Side::A)
            } else if travels(packet, tuple.remote, tuple.local) {
                Some(Side::B)
            } else {
                None
            }
        };
        let packets = self.packets();
        let mut segment_of: HashMap<usize, SegmentId> = HashMap::new();
        for entry in &self.log {
            match *entry {
                LogEntry::Sent(id) => {
                    let Some(record) = packets.get(id) else {
                        continue;
                    };
                    if record.from != Some(a) && record.from != Some(b) {
                        continue;
                    }
                    let Some(packet) = record.parse() else {
                        continue;
                    };
                    let Some(side) = side_of(&packet) else {
                        continue;
                    };
                    let summary = SegmentSummary::new(&packet.tcp, packet.payload.len());
                    let seg = trace.send(side, record.sent_at, summary);
                    if let Some(s) = trace.segment_mut(seg) {
                        s.retransmission = record.retransmission;
                        s.duplicate = record.duplicate_of.is_some();
                        s.corrupted = record.corrupted();
                    }
                    segment_of.insert(id, seg);
                }
                LogEntry::Delivered(id) => {
                    let Some(record) = packets.get(id) else {
                        continue;
                    };
                    let Outcome::Delivered { at } = record.outcome else {
                        continue;
                    };
                    if let Some(seg) = segment_of.get(&id) {
                        trace.arrive(*seg, at);
                    } else if record.from.is_none()
                        && (record.to == Some(a) || record.to == Some(b))
                    {
                        let Some(packet) = record.parse() else {
                            continue;
                        };
                        if let Some(side) = side_of(&packet) {
                            let summary = SegmentSummary::new(&packet.tcp, packet.payload.len());
                            trace.inject(side, at, summary);
                        }
                    }
                }
                LogEntry::Event(i) => {
                    let Some(e) = self.events().get(i) else {
                        continue;
                    };
                    let side = if e.host == a && e.event.conn == tuple {
                        Side::A
                    } else if e.host == b && e.event.conn == reversed {
                        Side::B
                    } else {
                        continue;
                    };
                    if let TraceKind::StateChange { from, to } = e.event.kind {
                        trace.transition(side, e.event.at, from, to);
                    }
                }
            }
        }
        trace
    }
}
