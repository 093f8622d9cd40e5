//! ASCII ladder diagrams in the notation of RFC 9293 §3.5.
//!
//! ```text
//!        TCP Peer A                                   TCP Peer B
//!
//!    1.  CLOSED                                       LISTEN
//!
//!    2.  SYN-SENT    --> <SEQ=100><CTL=SYN>       --> SYN-RECEIVED
//! ```
//!
//! # How a trace becomes lines
//!
//! The trace's [timeline](crate::Trace::timeline) is a list of sends, arrivals and state
//! changes. Each send and each arrival is an *event line*. A state change is folded into
//! the line of the event that caused it when that event happened at the same side and
//! the same instant: the arrival just before it (a SYN arriving moves a listener to
//! SYN-RECEIVED), or, for the changes an application call causes (`connect`, `close`),
//! the send just after it (CLOSE moves ESTABLISHED to FIN-WAIT-1 and sends the FIN). A
//! state change with no such event (TIME-WAIT's 2 MSL timer expiring) gets a line of its
//! own.
//!
//! A send immediately followed by the same segment's arrival, with nothing in between,
//! is drawn on one line (`-->` at both ends). Otherwise, as in RFC 9293 Figure 7, the
//! send line ends in `...` ("still in the network") and a later arrival line starts with
//! `...`. A segment that never arrived ends in `--> X (lost)`.
//!
//! Each side's column shows that side's state after the line's events, on the lines
//! where that side takes part (sends, receives or changes state), and is blank on the
//! others, exactly as in the RFC's figures. Application calls and timers that RFC 9293
//! Figure 13 annotates are annotated the same way, on a row above: `(Close)` and
//! `(2 MSL)`.

use crate::model::{SegmentId, Side, TimelineEvent, Trace, Transition};
use core::fmt::Write as _;
use synack::{Instant, State};

/// How to draw a ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LadderOptions {
    /// Show sequence and acknowledgment numbers relative to each side's initial sequence
    /// number (its SYN reads `<SEQ=0>`, the first data byte is 1), as Wireshark does.
    /// `false` shows the numbers on the wire. Default `true`.
    pub relative: bool,
    /// Show each line's time (the send time, or the arrival time for an arrival line)
    /// in a column on the left. Default `false`.
    pub times: bool,
    /// Separate lines with a blank line, as the RFC's figures do. Default `true`.
    pub spacing: bool,
    /// Show the advertised window, `<WND=...>`. Default `false`.
    pub window: bool,
    /// Show TCP options (`<MSS=1460>`, `<WS=7>`, `<SACKOK>`, `<TS=...>`, `<SACK=...>`).
    /// Default `false`.
    pub options: bool,
    /// Show the options of SYN segments only, summarised (`<MSS=1460><SACKOK><TS><WS=7>`,
    /// no time stamp values): what the two ends negotiated. Default `false`.
    pub syn_options: bool,
    /// Show times relative to this instant (e.g. the first packet of a capture, as
    /// Wireshark does) instead of since the clock's epoch. Default `None`.
    pub time_origin: Option<Instant>,
    /// Colour the output with ANSI escapes (states, retransmissions, resets, losses...).
    /// Alignment is computed on the text without escapes. Default `false`.
    pub colour: bool,
}

impl Default for LadderOptions {
    fn default() -> Self {
        LadderOptions {
            relative: true,
            times: false,
            spacing: true,
            window: false,
            options: false,
            syn_options: false,
            time_origin: None,
            colour: false,
        }
    }
}

/// What one numbered line of the ladder shows (see [`ladder_lines`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Line 1: both initial states.
    Initial,
    /// A segment left its sender and is still in the network (or was lost).
    Send(SegmentId),
    /// A segment that was in the network arrived.
    Arrive(SegmentId),
    /// A segment left and arrived with nothing in between.
    SendArrive(SegmentId),
    /// A state change not caused by a drawn event: the transition's side.
    State(Side),
}

/// One numbered line of a ladder, as [`render_ladder`] numbers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line's number (1 is the initial states).
    pub number: usize,
    /// What it shows.
    pub kind: LineKind,
    /// Its time (none for line 1).
    pub time: Option<Instant>,
    /// The state changes drawn on it: indices into [`Trace::transitions`], in order.
    pub transitions: Vec<usize>,
}

/// The numbered lines [`render_ladder`] draws for `trace`, without drawing them: for
/// text keyed to line numbers (`synack explain`) and other renderers.
pub fn ladder_lines(trace: &Trace) -> Vec<Line> {
    number(build_lines(trace, false))
}

/// Like [`ladder_lines`], but a send and its arrival share a line only when they
/// happened at the same instant: for drawings where time runs down the page and an
/// arrow slants from its send to its arrival ([`crate::svg_ladder`]).
pub fn timed_ladder_lines(trace: &Trace) -> Vec<Line> {
    number(build_lines(trace, true))
}

fn number(mut lines: Vec<Line>) -> Vec<Line> {
    for (i, line) in lines.iter_mut().enumerate() {
        line.number = i + 1;
    }
    lines
}

/// State changes that only an application call causes (RFC 9293 §3.10.1, §3.10.4).
fn caused_by_application(t: &Transition) -> bool {
    matches!(
        (t.from, t.to),
        (State::Closed, State::SynSent)
            | (State::Established, State::FinWait1)
            | (State::SynReceived, State::FinWait1)
            | (State::CloseWait, State::LastAck)
    )
}

/// The row-above annotation RFC 9293 Figure 13 would give this transition.
fn annotation(t: &Transition, standalone: bool) -> Option<&'static str> {
    match (t.from, t.to) {
        (State::Established | State::SynReceived, State::FinWait1)
        | (State::CloseWait, State::LastAck) => Some("(Close)"),
        (State::TimeWait, State::Closed) if standalone => Some("(2 MSL)"),
        _ => None,
    }
}

/// Does the ladder draw this segment being sent? Copies made by the network were never
/// sent by anyone: they are drawn as arrivals only, like injected segments.
fn drawn_as_sent(trace: &Trace, id: SegmentId) -> bool {
    trace
        .segments()
        .get(id.0)
        .is_some_and(|s| !s.injected && !s.duplicate)
}

fn event_time(trace: &Trace, event: TimelineEvent) -> Option<Instant> {
    match event {
        TimelineEvent::Sent(id) => trace.segments().get(id.0).map(|s| s.sent_at),
        TimelineEvent::Arrived(id) => trace.segments().get(id.0).and_then(|s| s.arrived_at),
        TimelineEvent::Transition(i) => trace.transitions().get(i).map(|t| t.at),
    }
}

/// Find the timeline position of the event a transition at `pos` belongs to, if any.
fn anchor_of(
    trace: &Trace,
    timeline: &[TimelineEvent],
    pos: usize,
    t: &Transition,
) -> Option<usize> {
    let same_instant = |q: usize| {
        timeline
            .get(q)
            .and_then(|e| event_time(trace, *e))
            .is_some_and(|at| at == t.at)
    };
    let side_sends = |q: usize| match timeline.get(q) {
        Some(TimelineEvent::Sent(id)) => {
            drawn_as_sent(trace, *id)
                && trace.segments().get(id.0).is_some_and(|s| s.from == t.side)
        }
        _ => false,
    };
    let side_receives = |q: usize| match timeline.get(q) {
        Some(TimelineEvent::Arrived(id)) => trace
            .segments()
            .get(id.0)
            .is_some_and(|s| s.from.other() == t.side),
        _ => false,
    };
    let following = |wanted: &dyn Fn(usize) -> bool| {
        (pos + 1..timeline.len())
            .take_while(|q| same_instant(*q))
            .find(|q| wanted(*q))
    };
    let preceding = |wanted: &dyn Fn(usize) -> bool| {
        (0..pos)
            .rev()
            .take_while(|q| same_instant(*q))
            .find(|q| wanted(*q))
    };
    if caused_by_application(t) {
        following(&side_sends).or_else(|| preceding(&side_sends))
    } else {
        preceding(&side_receives).or_else(|| following(&side_sends))
    }
}

/// Turn the timeline into ladder lines. A send immediately followed by its arrival is
/// one line (only when both happened at the same instant if `same_instant_only`).
fn build_lines(trace: &Trace, same_instant_only: bool) -> Vec<Line> {
    let timeline = trace.timeline();
    // Which timeline position each transition is folded into.
    let mut folded: Vec<Vec<usize>> = vec![Vec::new(); timeline.len()];
    let mut standalone = vec![false; timeline.len()];
    for (pos, event) in timeline.iter().enumerate() {
        if let TimelineEvent::Transition(i) = event {
            let Some(t) = trace.transitions().get(*i) else {
                continue;
            };
            match anchor_of(trace, &timeline, pos, t) {
                Some(anchor) => {
                    if let Some(list) = folded.get_mut(anchor) {
                        list.push(*i);
                    }
                }
                None => standalone[pos] = true,
            }
        }
    }

    let mut lines = vec![Line {
        number: 0,
        kind: LineKind::Initial,
        time: None,
        transitions: Vec::new(),
    }];
    for (pos, event) in timeline.iter().enumerate() {
        let time = event_time(trace, *event);
        let transitions = folded.get(pos).cloned().unwrap_or_default();
        let kind = match *event {
            TimelineEvent::Sent(id) if drawn_as_sent(trace, id) => LineKind::Send(id),
            TimelineEvent::Sent(_) => continue,
            TimelineEvent::Arrived(id) => LineKind::Arrive(id),
            TimelineEvent::Transition(i) => {
                if !standalone[pos] {
                    continue;
                }
                let Some(t) = trace.transitions().get(i) else {
                    continue;
                };
                lines.push(Line {
                    number: 0,
                    kind: LineKind::State(t.side),
                    time,
                    transitions: vec![i],
                });
                continue;
            }
        };
        lines.push(Line {
            number: 0,
            kind,
            time,
            transitions,
        });
    }

    // A send immediately followed by its own arrival is one line.
    let mut merged: Vec<Line> = Vec::with_capacity(lines.len());
    for line in lines {
        if let (LineKind::Arrive(arrived), Some(prev)) = (line.kind, merged.last_mut()) {
            let instant = trace
                .segments()
                .get(arrived.0)
                .is_some_and(|s| s.arrived_at == Some(s.sent_at));
            if prev.kind == LineKind::Send(arrived) && (instant || !same_instant_only) {
                prev.kind = LineKind::SendArrive(arrived);
                prev.transitions.extend(line.transitions);
                continue;
            }
        }
        merged.push(line);
    }
    merged
}

/// The text of a segment in RFC 9293 notation, e.g. `<SEQ=1><ACK=1><CTL=ACK><DATA=1000>`.
pub(crate) fn segment_text(trace: &Trace, id: SegmentId, options: &LadderOptions) -> String {
    let Some(seg) = trace.segments().get(id.0) else {
        return String::new();
    };
    let s = &seg.summary;
    let (own_base, peer_base) = if options.relative {
        (
            trace.initial_seq(seg.from).unwrap_or(0),
            trace.initial_seq(seg.from.other()).unwrap_or(0),
        )
    } else {
        (0, 0)
    };
    let mut out = String::new();
    let _ = write!(out, "<SEQ={}>", s.seq.wrapping_sub(own_base));
    if s.flags.ack() {
        let _ = write!(out, "<ACK={}>", s.ack.wrapping_sub(peer_base));
    }
    if s.flags.bits() != 0 {
        let _ = write!(out, "<CTL={}>", s.flags);
    }
    if options.window {
        let _ = write!(out, "<WND={}>", s.window);
    }
    if options.syn_options && !options.options && s.flags.syn() {
        let o = &s.options;
        if let Some(mss) = o.mss {
            let _ = write!(out, "<MSS={mss}>");
        }
        if o.sack_permitted {
            out.push_str("<SACKOK>");
        }
        if o.timestamps.is_some() {
            out.push_str("<TS>");
        }
        if let Some(ws) = o.window_scale {
            let _ = write!(out, "<WS={ws}>");
        }
    }
    if options.options {
        let o = &s.options;
        if let Some(mss) = o.mss {
            let _ = write!(out, "<MSS={mss}>");
        }
        if let Some(ws) = o.window_scale {
            let _ = write!(out, "<WS={ws}>");
        }
        if o.sack_permitted {
            out.push_str("<SACKOK>");
        }
        if let Some(ts) = o.timestamps {
            let _ = write!(out, "<TS={},{}>", ts.tsval, ts.tsecr);
        }
        if !o.sack.is_empty() {
            out.push_str("<SACK=");
            for (i, b) in o.sack.as_slice().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    "{}-{}",
                    b.left.wrapping_sub(peer_base),
                    b.right.wrapping_sub(peer_base)
                );
            }
            out.push('>');
        }
    }
    if s.len > 0 {
        let _ = write!(out, "<DATA={}>", s.len);
    }
    if seg.retransmission {
        out.push_str(" (retransmission)");
    }
    if seg.corrupted {
        out.push_str(" (corrupted)");
    }
    let m = &seg.marks;
    if let Some(n) = m.dup_ack {
        let _ = write!(out, " (dup ACK #{n})");
    }
    for (on, text) in [
        (m.out_of_order, " (out of order)"),
        (m.keep_alive, " (keep-alive)"),
        (m.window_probe, " (window probe)"),
        (m.zero_window, " (zero window)"),
        (m.window_update, " (window update)"),
        (m.beyond_window, " (beyond window)"),
    ] {
        if on {
            out.push_str(text);
        }
    }
    out
}

/// How a segment is coloured: resets and anything wrong in red, retransmissions in
/// yellow, duplicate ACKs and reordering in magenta, handshake in green, FINs in blue.
fn segment_colour(trace: &Trace, id: SegmentId) -> &'static str {
    let Some(seg) = trace.segments().get(id.0) else {
        return "";
    };
    let f = seg.summary.flags;
    let m = &seg.marks;
    if f.rst() || seg.corrupted || m.zero_window || m.beyond_window {
        RED
    } else if seg.retransmission {
        YELLOW
    } else if m.dup_ack.is_some() || m.out_of_order || seg.injected || seg.duplicate {
        MAGENTA
    } else if f.syn() {
        GREEN
    } else if f.fin() {
        BLUE
    } else {
        ""
    }
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BLUE: &str = "\x1b[34m";
const MAGENTA: &str = "\x1b[35m";
const BOLD_CYAN: &str = "\x1b[1;36m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// `text` in `colour` (nothing if either is empty).
fn paint(text: &str, colour: &str) -> String {
    if colour.is_empty() || text.trim().is_empty() {
        text.to_string()
    } else {
        // Keep padding outside the escapes so that a trimmed line ends cleanly.
        let body = text.trim_end();
        let pad = &text[body.len()..];
        let lead = body.len() - body.trim_start().len();
        format!("{}{colour}{}{RESET}{pad}", &body[..lead], body.trim_start())
    }
}

/// One physical row before padding: the cells of the five columns.
#[derive(Debug, Default, Clone)]
struct Row {
    time: String,
    number: String,
    a: String,
    /// Right-align the A cell (used for `(lost) X` so the X touches the arrow).
    a_right: bool,
    arrow_a: &'static str,
    segment: String,
    arrow_b: &'static str,
    b: String,
    /// Colour of the segment text and arrows.
    colour: &'static str,
    /// Colour of each side's cell.
    cell_colour: [&'static str; 2],
}

fn rows_for(
    trace: &Trace,
    line: &Line,
    states: &mut [State; 2],
    options: &LadderOptions,
) -> Vec<Row> {
    let mut notes: [Option<&'static str>; 2] = [None, None];
    let standalone = matches!(line.kind, LineKind::State(_));
    for i in &line.transitions {
        if let Some(t) = trace.transitions().get(*i) {
            states[t.side.index()] = t.to;
            if let Some(note) = annotation(t, standalone) {
                notes[t.side.index()] = Some(note);
            }
        }
    }
    let state_name = |side: Side| states[side.index()].name().to_string();

    let mut row = Row::default();
    let mut cells: [String; 2] = [String::new(), String::new()];
    match line.kind {
        LineKind::Initial => {
            cells = [state_name(Side::A), state_name(Side::B)];
            row.cell_colour = [BOLD_CYAN, BOLD_CYAN];
        }
        LineKind::State(side) => {
            cells[side.index()] = state_name(side);
            row.cell_colour = [BOLD_CYAN, BOLD_CYAN];
        }
        LineKind::Send(id) | LineKind::Arrive(id) | LineKind::SendArrive(id) => {
            let Some(seg) = trace.segments().get(id.0) else {
                return Vec::new();
            };
            let from = seg.from;
            let to = from.other();
            let sent = matches!(line.kind, LineKind::Send(_) | LineKind::SendArrive(_));
            let arrived = matches!(line.kind, LineKind::Arrive(_) | LineKind::SendArrive(_));
            let lost = sent && !arrived && seg.arrived_at.is_none();
            let (forward, dots) = match from {
                Side::A => ("-->", "..."),
                Side::B => ("<--", "..."),
            };
            let sender_arrow = if sent { forward } else { dots };
            let receiver_arrow = if arrived || lost { forward } else { dots };
            if sent {
                cells[from.index()] = state_name(from);
            } else if seg.injected {
                cells[from.index()] = "(injected)".to_string();
            } else if seg.duplicate {
                cells[from.index()] = "(duplicate)".to_string();
            }
            if arrived {
                cells[to.index()] = state_name(to);
            } else if lost {
                cells[to.index()] = match to {
                    Side::B => "X (lost)".to_string(),
                    Side::A => "(lost) X".to_string(),
                };
                row.a_right = to == Side::A;
            }
            match from {
                Side::A => {
                    row.arrow_a = sender_arrow;
                    row.arrow_b = receiver_arrow;
                }
                Side::B => {
                    row.arrow_b = sender_arrow;
                    row.arrow_a = receiver_arrow;
                }
            }
            row.segment = segment_text(trace, id, options);
            row.colour = segment_colour(trace, id);
            row.cell_colour = [BOLD_CYAN, BOLD_CYAN];
            if lost {
                row.cell_colour[to.index()] = RED;
            }
            if !sent && (seg.injected || seg.duplicate) {
                row.cell_colour[from.index()] = MAGENTA;
            }
        }
    }
    let [a, b] = cells;
    row.a = a;
    row.b = b;
    if options.times {
        row.time = line
            .time
            .map(|t| match options.time_origin {
                Some(origin) => {
                    let d = t.saturating_since(origin);
                    format!("{}.{:06}s", d.as_secs(), d.subsec_micros())
                }
                None => t.to_string(),
            })
            .unwrap_or_default();
    }
    if notes.iter().any(Option::is_some) {
        let note_row = Row {
            time: core::mem::take(&mut row.time),
            a: notes[0].unwrap_or_default().to_string(),
            b: notes[1].unwrap_or_default().to_string(),
            cell_colour: [DIM, DIM],
            ..Row::default()
        };
        vec![note_row, row]
    } else {
        vec![row]
    }
}

/// Draw `trace` as an RFC 9293-style ladder. Every line ends in `\n`; no line has
/// trailing spaces.
pub fn render_ladder(trace: &Trace, options: &LadderOptions) -> String {
    let lines = build_lines(trace, false);
    let colour = options.colour;
    let paint = |text: &str, c: &str| {
        if colour {
            paint(text, c)
        } else {
            text.to_string()
        }
    };
    let mut states = [
        trace.peer(Side::A).initial_state,
        trace.peer(Side::B).initial_state,
    ];
    // Numbered entries, each one or two rows.
    let mut entries: Vec<Vec<Row>> = Vec::with_capacity(lines.len());
    for line in &lines {
        let mut rows = rows_for(trace, line, &mut states, options);
        if let Some(first) = rows.first_mut() {
            first.number = format!("{}.", entries.len() + 1);
            entries.push(rows);
        }
    }

    let all_rows = || entries.iter().flatten();
    let width = |f: &dyn Fn(&Row) -> usize| all_rows().map(f).max().unwrap_or(0);
    let time_w = width(&|r| r.time.len());
    let num_w = width(&|r| r.number.len()).max(4) + 1;
    let a_w = width(&|r| r.a.len()).max(trace.peer(Side::A).name.len().min(12));
    let seg_w = width(&|r| r.segment.len());
    let prefix_w = if options.times { time_w + 2 } else { 0 } + num_w + 2;

    let mut out = String::new();
    // Header: each name above its state column.
    let mut header = " ".repeat(prefix_w);
    header.push_str(&trace.peer(Side::A).name);
    let b_col = prefix_w + a_w + 1 + 3 + 1 + seg_w + 1 + 3 + 1;
    let pad = b_col.saturating_sub(header.len()).max(1);
    header.push_str(&" ".repeat(pad));
    header.push_str(&trace.peer(Side::B).name);
    out.push_str(header.trim_end());
    out.push('\n');

    for (i, rows) in entries.iter().enumerate() {
        // A blank line after the header, and between entries when spacing is on.
        if i == 0 || options.spacing {
            out.push('\n');
        }
        for row in rows {
            let mut text = String::new();
            if options.times {
                let _ = write!(text, "{:>time_w$}  ", row.time);
            }
            let _ = write!(text, "{:>num_w$}  ", row.number);
            let a_cell = if row.a_right {
                format!("{:>a_w$}", row.a)
            } else {
                format!("{:<a_w$}", row.a)
            };
            text.push_str(&paint(&a_cell, row.cell_colour[0]));
            let arrow = |a: &'static str| if a.is_empty() { "   " } else { a };
            let _ = write!(
                text,
                " {} {} {} {}",
                paint(arrow(row.arrow_a), row.colour),
                paint(&format!("{:<seg_w$}", row.segment), row.colour),
                paint(arrow(row.arrow_b), row.colour),
                paint(&row.b, row.cell_colour[1])
            );
            out.push_str(text.trim_end());
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Peer;
    use synack::SegmentSummary;
    use synack_wire::{TcpFlags, TcpOptions};

    const SYN: TcpFlags = TcpFlags::SYN;
    const ACK: TcpFlags = TcpFlags::ACK;

    fn seg(seq: u32, ack: u32, flags: TcpFlags, len: u32) -> SegmentSummary {
        SegmentSummary {
            seq,
            ack,
            flags,
            window: 65535,
            len,
            options: TcpOptions::default(),
        }
    }

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    fn absolute() -> LadderOptions {
        LadderOptions {
            relative: false,
            ..LadderOptions::default()
        }
    }

    fn peers(a: State, b: State) -> Trace {
        Trace::new(Peer::new("TCP Peer A", a), Peer::new("TCP Peer B", b))
    }

    /// RFC 9293 Figure 6: the basic three-way handshake, then data.
    fn figure_6() -> Trace {
        let mut t = peers(State::Closed, State::Listen);
        t.transition(Side::A, ms(0), State::Closed, State::SynSent);
        let syn = t.send(Side::A, ms(0), seg(100, 0, SYN, 0));
        t.arrive(syn, ms(10));
        t.transition(Side::B, ms(10), State::Listen, State::SynReceived);
        let synack = t.send(Side::B, ms(10), seg(300, 101, SYN | ACK, 0));
        t.arrive(synack, ms(20));
        t.transition(Side::A, ms(20), State::SynSent, State::Established);
        let ack = t.send(Side::A, ms(20), seg(101, 301, ACK, 0));
        t.arrive(ack, ms(30));
        t.transition(Side::B, ms(30), State::SynReceived, State::Established);
        let data = t.send(Side::A, ms(40), seg(101, 301, ACK, 1000));
        t.arrive(data, ms(50));
        t
    }

    /// RFC 9293 Figure 7: simultaneous open, with segments still in the network.
    fn figure_7() -> Trace {
        let mut t = peers(State::Closed, State::Closed);
        t.transition(Side::A, ms(0), State::Closed, State::SynSent);
        let syn_a = t.send(Side::A, ms(0), seg(100, 0, SYN, 0));
        t.transition(Side::B, ms(5), State::Closed, State::SynSent);
        let syn_b = t.send(Side::B, ms(5), seg(300, 0, SYN, 0));
        t.arrive(syn_b, ms(6));
        t.transition(Side::A, ms(6), State::SynSent, State::SynReceived);
        t.arrive(syn_a, ms(10));
        t.transition(Side::B, ms(10), State::SynSent, State::SynReceived);
        let synack_a = t.send(Side::A, ms(11), seg(100, 301, SYN | ACK, 0));
        let synack_b = t.send(Side::B, ms(12), seg(300, 101, SYN | ACK, 0));
        t.arrive(synack_b, ms(13));
        t.transition(Side::A, ms(13), State::SynReceived, State::Established);
        t.arrive(synack_a, ms(14));
        t.transition(Side::B, ms(14), State::SynReceived, State::Established);
        t
    }

    /// A handshake whose first SYN is lost and retransmitted.
    fn lost_syn() -> Trace {
        let mut t = peers(State::Closed, State::Listen);
        t.transition(Side::A, ms(0), State::Closed, State::SynSent);
        t.send(Side::A, ms(0), seg(100, 0, SYN, 0));
        let again = t.send(Side::A, ms(1000), seg(100, 0, SYN, 0));
        if let Some(s) = t.segment_mut(again) {
            s.retransmission = true;
        }
        t.arrive(again, ms(1010));
        t.transition(Side::B, ms(1010), State::Listen, State::SynReceived);
        let synack = t.send(Side::B, ms(1010), seg(300, 101, SYN | ACK, 0));
        t.arrive(synack, ms(1020));
        t.transition(Side::A, ms(1020), State::SynSent, State::Established);
        let ack = t.send(Side::A, ms(1020), seg(101, 301, ACK, 0));
        t.arrive(ack, ms(1030));
        t.transition(Side::B, ms(1030), State::SynReceived, State::Established);
        t
    }

    /// RFC 9293 Figure 13: a normal close, ending with TIME-WAIT's 2 MSL timer.
    fn figure_13() -> Trace {
        let mut t = peers(State::Established, State::Established);
        t.transition(Side::A, ms(0), State::Established, State::FinWait1);
        let fin_a = t.send(Side::A, ms(0), seg(100, 300, TcpFlags::FIN | ACK, 0));
        t.arrive(fin_a, ms(10));
        t.transition(Side::B, ms(10), State::Established, State::CloseWait);
        let ack_b = t.send(Side::B, ms(10), seg(300, 101, ACK, 0));
        t.arrive(ack_b, ms(20));
        t.transition(Side::A, ms(20), State::FinWait1, State::FinWait2);
        t.transition(Side::B, ms(30), State::CloseWait, State::LastAck);
        let fin_b = t.send(Side::B, ms(30), seg(300, 101, TcpFlags::FIN | ACK, 0));
        t.arrive(fin_b, ms(40));
        t.transition(Side::A, ms(40), State::FinWait2, State::TimeWait);
        let ack_a = t.send(Side::A, ms(40), seg(101, 301, ACK, 0));
        t.arrive(ack_a, ms(50));
        t.transition(Side::B, ms(50), State::LastAck, State::Closed);
        t.transition(Side::A, ms(60_040), State::TimeWait, State::Closed);
        t
    }

    /// Fig. 8-like: an old duplicate SYN injected, a network duplicate, a corrupted copy.
    fn odd_segments() -> Trace {
        let mut t = peers(State::Closed, State::Listen);
        t.inject(Side::A, ms(0), seg(90, 0, SYN, 0));
        t.transition(Side::B, ms(0), State::Listen, State::SynReceived);
        let synack = t.send(Side::B, ms(0), seg(300, 91, SYN | ACK, 0));
        t.arrive(synack, ms(10));
        let copy = t.send(Side::B, ms(0), seg(300, 91, SYN | ACK, 0));
        if let Some(s) = t.segment_mut(copy) {
            s.duplicate = true;
        }
        t.arrive(copy, ms(10));
        let bad = t.send(Side::B, ms(20), seg(300, 91, SYN | ACK, 0));
        if let Some(s) = t.segment_mut(bad) {
            s.corrupted = true;
            s.retransmission = true;
        }
        t.arrive(bad, ms(30));
        t.send(Side::B, ms(40), seg(300, 91, SYN | ACK, 0));
        t
    }

    fn golden(trace: &Trace, options: &LadderOptions, expected: &str) {
        let got = render_ladder(trace, options);
        let expected = expected.strip_prefix('\n').unwrap_or(expected);
        assert_eq!(got, expected, "got:\n{got}\nexpected:\n{expected}");
    }

    #[test]
    fn basic_handshake_reproduces_rfc_9293_figure_6() {
        golden(
            &figure_6(),
            &absolute(),
            r#"
       TCP Peer A                                                 TCP Peer B

   1.  CLOSED                                                     LISTEN

   2.  SYN-SENT    --> <SEQ=100><CTL=SYN>                     --> SYN-RECEIVED

   3.  ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>        <-- SYN-RECEIVED

   4.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK>            --> ESTABLISHED

   5.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK><DATA=1000> --> ESTABLISHED
"#,
        );
    }

    #[test]
    fn relative_numbers_and_times_read_like_wireshark() {
        golden(
            &figure_6(),
            &LadderOptions {
                times: true,
                ..LadderOptions::default()
            },
            r#"
                  TCP Peer A                                             TCP Peer B

              1.  CLOSED                                                 LISTEN

0.000000s     2.  SYN-SENT    --> <SEQ=0><CTL=SYN>                   --> SYN-RECEIVED

0.010000s     3.  ESTABLISHED <-- <SEQ=0><ACK=1><CTL=SYN,ACK>        <-- SYN-RECEIVED

0.020000s     4.  ESTABLISHED --> <SEQ=1><ACK=1><CTL=ACK>            --> ESTABLISHED

0.040000s     5.  ESTABLISHED --> <SEQ=1><ACK=1><CTL=ACK><DATA=1000> --> ESTABLISHED
"#,
        );
    }

    #[test]
    fn simultaneous_open_reproduces_rfc_9293_figure_7() {
        golden(
            &figure_7(),
            &absolute(),
            r#"
       TCP Peer A                                           TCP Peer B

   1.  CLOSED                                               CLOSED

   2.  SYN-SENT     --> <SEQ=100><CTL=SYN>              ...

   3.  SYN-RECEIVED <-- <SEQ=300><CTL=SYN>              <-- SYN-SENT

   4.               ... <SEQ=100><CTL=SYN>              --> SYN-RECEIVED

   5.  SYN-RECEIVED --> <SEQ=100><ACK=301><CTL=SYN,ACK> ...

   6.  ESTABLISHED  <-- <SEQ=300><ACK=101><CTL=SYN,ACK> <-- SYN-RECEIVED

   7.               ... <SEQ=100><ACK=301><CTL=SYN,ACK> --> ESTABLISHED
"#,
        );
    }

    #[test]
    fn lost_segment_ends_in_x_and_retransmission_is_marked() {
        golden(
            &lost_syn(),
            &absolute(),
            r#"
       TCP Peer A                                              TCP Peer B

   1.  CLOSED                                                  LISTEN

   2.  SYN-SENT    --> <SEQ=100><CTL=SYN>                  --> X (lost)

   3.  SYN-SENT    --> <SEQ=100><CTL=SYN> (retransmission) --> SYN-RECEIVED

   4.  ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>     <-- SYN-RECEIVED

   5.  ESTABLISHED --> <SEQ=101><ACK=301><CTL=ACK>         --> ESTABLISHED
"#,
        );
    }

    #[test]
    fn normal_close_reproduces_rfc_9293_figure_13() {
        golden(
            &figure_13(),
            &absolute(),
            r#"
       TCP Peer A                                          TCP Peer B

   1.  ESTABLISHED                                         ESTABLISHED

   2.  (Close)
       FIN-WAIT-1  --> <SEQ=100><ACK=300><CTL=FIN,ACK> --> CLOSE-WAIT

   3.  FIN-WAIT-2  <-- <SEQ=300><ACK=101><CTL=ACK>     <-- CLOSE-WAIT

   4.                                                      (Close)
       TIME-WAIT   <-- <SEQ=300><ACK=101><CTL=FIN,ACK> <-- LAST-ACK

   5.  TIME-WAIT   --> <SEQ=101><ACK=301><CTL=ACK>     --> CLOSED

   6.  (2 MSL)
       CLOSED
"#,
        );
    }

    #[test]
    fn injected_duplicate_corrupted_and_lost_reply_are_labelled() {
        golden(
            &odd_segments(),
            &absolute(),
            r#"
       TCP Peer A                                                                     TCP Peer B

   1.  CLOSED                                                                         LISTEN

   2.  (injected) ... <SEQ=90><CTL=SYN>                                           --> SYN-RECEIVED

   3.  CLOSED     <-- <SEQ=300><ACK=91><CTL=SYN,ACK>                              <-- SYN-RECEIVED

   4.  CLOSED     <-- <SEQ=300><ACK=91><CTL=SYN,ACK>                              ... (duplicate)

   5.  CLOSED     <-- <SEQ=300><ACK=91><CTL=SYN,ACK> (retransmission) (corrupted) <-- SYN-RECEIVED

   6.    (lost) X <-- <SEQ=300><ACK=91><CTL=SYN,ACK>                              <-- SYN-RECEIVED
"#,
        );
    }

    #[test]
    fn without_spacing_lines_are_consecutive() {
        golden(
            &figure_6(),
            &LadderOptions {
                spacing: false,
                ..LadderOptions::default()
            },
            r#"
       TCP Peer A                                             TCP Peer B

   1.  CLOSED                                                 LISTEN
   2.  SYN-SENT    --> <SEQ=0><CTL=SYN>                   --> SYN-RECEIVED
   3.  ESTABLISHED <-- <SEQ=0><ACK=1><CTL=SYN,ACK>        <-- SYN-RECEIVED
   4.  ESTABLISHED --> <SEQ=1><ACK=1><CTL=ACK>            --> ESTABLISHED
   5.  ESTABLISHED --> <SEQ=1><ACK=1><CTL=ACK><DATA=1000> --> ESTABLISHED
"#,
        );
    }

    fn rows(ladder: &str) -> Vec<Vec<String>> {
        ladder
            .lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .filter(|w| !w.is_empty())
            .collect()
    }

    #[test]
    fn state_change_recorded_just_after_its_send_stays_on_the_send_line() {
        let mut t = peers(State::Established, State::Established);
        let fin = t.send(Side::A, ms(0), seg(100, 300, TcpFlags::FIN | ACK, 0));
        t.transition(Side::A, ms(0), State::Established, State::FinWait1);
        t.arrive(fin, ms(10));
        t.transition(Side::B, ms(10), State::Established, State::CloseWait);
        let r = rows(&render_ladder(&t, &absolute()));
        assert_eq!(r[2], ["2.", "(Close)"]);
        assert_eq!(
            r[3],
            [
                "FIN-WAIT-1",
                "-->",
                "<SEQ=100><ACK=300><CTL=FIN,ACK>",
                "-->",
                "CLOSE-WAIT"
            ]
        );
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn state_change_without_a_same_instant_event_gets_its_own_line() {
        let mut t = peers(State::Closed, State::Listen);
        t.transition(Side::A, ms(0), State::Closed, State::SynSent);
        t.send(Side::A, ms(0), seg(100, 0, SYN, 0));
        t.transition(Side::A, ms(180_000), State::SynSent, State::Closed);
        let r = rows(&render_ladder(&t, &absolute()));
        assert_eq!(
            r[2],
            [
                "2.",
                "SYN-SENT",
                "-->",
                "<SEQ=100><CTL=SYN>",
                "-->",
                "X",
                "(lost)"
            ]
        );
        assert_eq!(r[3], ["3.", "CLOSED"]);
    }

    #[test]
    fn options_and_window_are_shown_when_asked() {
        let mut t = peers(State::Closed, State::Listen);
        let mut syn = seg(100, 0, SYN, 0);
        syn.options.mss = Some(1460);
        syn.options.window_scale = Some(7);
        syn.options.sack_permitted = true;
        let id = t.send(Side::A, ms(0), syn);
        t.arrive(id, ms(10));
        let options = LadderOptions {
            window: true,
            options: true,
            ..LadderOptions::default()
        };
        let ladder = render_ladder(&t, &options);
        assert!(
            ladder.contains("<SEQ=0><CTL=SYN><WND=65535><MSS=1460><WS=7><SACKOK>"),
            "{ladder}"
        );
    }

    #[test]
    fn empty_trace_shows_only_the_initial_states() {
        let t = peers(State::Closed, State::Listen);
        let r = rows(&render_ladder(&t, &LadderOptions::default()));
        assert_eq!(
            r,
            vec![
                vec!["TCP", "Peer", "A", "TCP", "Peer", "B"],
                vec!["1.", "CLOSED", "LISTEN"]
            ]
        );
    }
}
