//! What the simulator recorded, as a packet capture and with the senders' metrics: pcap
//! and pcapng export (`synack demo --pcap`, `synack explain --pcap`) and traces that
//! carry RTT and cwnd samples for `synack plot`.
//!
//! The capture is taken where each datagram enters the network: every datagram a host
//! sent, at its send time, as it was sent (before any corruption the link inflicts),
//! plus every datagram a test injected, at the time it was delivered. In pcapng each
//! packet's comment adds what only the simulator knows (see
//! [`synack_trace::annotations`]): when it arrived or that it was lost, whether the
//! sender retransmitted it, whether the network duplicated or corrupted it, and the
//! receiver's congestion-control numbers after it processed the segment. `synack ladder`
//! and `synack plot` read those back, so a synack capture draws exactly like the run.

use crate::record::Outcome;
use crate::sim::{HostId, LogEntry, Sim};
use std::collections::HashMap;
use synack::{FourTuple, Metrics, TraceKind};
use synack_trace::annotations::Annotation;
use synack_trace::capture::{write_capture, Format, OutPacket};
use synack_trace::{Side, Trace};

impl Sim {
    /// The metrics (RTT, cwnd...) each host traced, keyed by the id of the datagram whose
    /// arrival produced them.
    fn metrics_by_packet(&mut self) -> HashMap<usize, Metrics> {
        self.collect();
        let mut last_delivered: HashMap<HostId, usize> = HashMap::new();
        let mut out = HashMap::new();
        for entry in &self.log {
            match *entry {
                LogEntry::Delivered(id) => {
                    if let Some(to) = self.packets().get(id).and_then(|r| r.to) {
                        last_delivered.insert(to, id);
                    }
                }
                LogEntry::Event(i) => {
                    let Some(e) = self.events().get(i) else {
                        continue;
                    };
                    if let TraceKind::Metrics(m) = e.event.kind {
                        if let Some(&id) = last_delivered.get(&e.host) {
                            out.insert(id, m);
                        }
                    }
                }
                LogEntry::Sent(_) => {}
            }
        }
        out
    }

    /// Every datagram of the run as a capture (see the module documentation), in the
    /// order they entered the network.
    pub fn capture(&mut self) -> Vec<OutPacket> {
        let metrics = self.metrics_by_packet();
        let mut out = Vec::new();
        for entry in &self.log {
            let (id, injected) = match *entry {
                LogEntry::Sent(id) => (id, false),
                LogEntry::Delivered(id) => match self.packets().get(id) {
                    Some(r) if r.from.is_none() => (id, true),
                    _ => continue,
                },
                LogEntry::Event(_) => continue,
            };
            let Some(record) = self.packets().get(id) else {
                continue;
            };
            let arrived = match record.outcome {
                Outcome::Delivered { at } => Some(at),
                _ => None,
            };
            let annotation = Annotation {
                arrived,
                lost: matches!(record.outcome, Outcome::Dropped { .. }),
                retransmission: record.retransmission,
                duplicate: record.duplicate_of.is_some(),
                injected,
                corrupted: record.corrupted(),
                metrics: metrics.get(&id).copied(),
            };
            out.push(OutPacket {
                time: if injected {
                    arrived.unwrap_or(record.sent_at)
                } else {
                    record.sent_at
                },
                datagram: record.bytes.clone(),
                comment: Some(annotation.to_comment()),
            });
        }
        out
    }

    /// Write [`Sim::capture`] to `out` as pcap or pcapng (only pcapng keeps the
    /// comments). `about` describes the run in the file's header (pcapng).
    pub fn write_capture(
        &mut self,
        out: impl std::io::Write,
        format: Format,
        about: &str,
    ) -> std::io::Result<()> {
        let packets = self.capture();
        write_capture(out, format, &packets, about)
    }

    /// [`Sim::trace_connection`] plus each side's metrics samples (RTT, cwnd, window,
    /// flight) for plots.
    pub fn trace_with_metrics(&mut self, a: HostId, b: HostId, tuple: FourTuple) -> Trace {
        let mut trace = self.trace_connection(a, b, tuple);
        let reversed = FourTuple {
            local: tuple.remote,
            remote: tuple.local,
        };
        for e in self.events() {
            let TraceKind::Metrics(m) = e.event.kind else {
                continue;
            };
            let side = if e.host == a && e.event.conn == tuple {
                Side::A
            } else if e.host == b && e.event.conn == reversed {
                Side::B
            } else {
                continue;
            };
            trace.sample(side, e.event.at, m);
        }
        trace
    }
}
