//! The ladder as a drawing (SVG): two vertical time lines, A on the left and B on the
//! right, each end's state written beside its line where it changes, and one arrow per
//! segment — **slanted from its send time down to its arrival time** when the trace has
//! both (a simulator trace, or synack's own pcapng), horizontal when a capture gives one
//! time, and ending in a **cross** half-way when the segment was lost.
//!
//! Rows follow the numbered lines of the ASCII ladder (see
//! [`crate::ladder::timed_ladder_lines`]; a segment that took time to arrive has a row
//! for its send and one for its arrival); line numbers and times are in the left margin.
//! Time runs downward, and rows are spaced further apart the more time passes between
//! them (logarithmically, so milliseconds and a 60-second TIME-WAIT both fit); a gap of
//! more than a second is drawn as a break in the time lines, labelled with its length.

use crate::ladder::{segment_text, timed_ladder_lines, LadderOptions, Line, LineKind};
use crate::model::{Side, Trace};
use crate::svg::{text_width, Anchor, Svg, FONT, MONO};
use synack::{Instant, State};

/// How to draw the SVG ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SvgLadderOptions {
    /// Text of each segment (numbers relative or absolute, window, options...).
    pub text: LadderOptions,
    /// A title above the drawing.
    pub title: Option<&'static str>,
}

const ROW: f64 = 34.0;
const TOP: f64 = 92.0;
const MARGIN_LEFT: f64 = 112.0;
const STATE_W: f64 = 128.0;

fn colour_of(trace: &Trace, line: &Line) -> &'static str {
    let id = match line.kind {
        LineKind::Send(id) | LineKind::Arrive(id) | LineKind::SendArrive(id) => id,
        _ => return "#333333",
    };
    let Some(seg) = trace.segments().get(id.0) else {
        return "#333333";
    };
    let f = seg.summary.flags;
    let m = &seg.marks;
    if f.rst() || seg.corrupted || m.zero_window {
        "#c62828"
    } else if seg.retransmission {
        "#e65100"
    } else if m.dup_ack.is_some() || m.out_of_order || seg.injected || seg.duplicate {
        "#8e24aa"
    } else if f.syn() {
        "#2e7d32"
    } else if f.fin() {
        "#1565c0"
    } else {
        "#333333"
    }
}

fn format_gap(d: core::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.1} s later")
    } else {
        format!("{:.1} ms later", s * 1000.0)
    }
}

/// Draw `trace` as an SVG ladder.
pub fn render_svg_ladder(trace: &Trace, options: &SvgLadderOptions) -> String {
    let lines = timed_ladder_lines(trace);
    let origin = options
        .text
        .time_origin
        .or_else(|| trace.start())
        .unwrap_or(Instant::ZERO);
    // Segment labels decide the width between the two time lines.
    let label = |line: &Line| match line.kind {
        LineKind::Send(id) | LineKind::Arrive(id) | LineKind::SendArrive(id) => {
            segment_text(trace, id, &options.text)
        }
        _ => String::new(),
    };
    let longest = lines
        .iter()
        .map(|l| text_width(&label(l), 12.0))
        .fold(0.0, f64::max);
    let span = (longest + 80.0).clamp(420.0, 900.0);
    let xa = MARGIN_LEFT + STATE_W;
    let xb = xa + span;
    let width = xb + STATE_W + 20.0;

    // Row positions: time-proportional (log) spacing, breaks for long gaps.
    let mut ys = Vec::with_capacity(lines.len());
    let mut breaks: Vec<(f64, core::time::Duration)> = Vec::new();
    let mut y = TOP;
    let mut prev: Option<Instant> = None;
    for line in &lines {
        if let (Some(p), Some(t)) = (prev, line.time) {
            let gap = t.saturating_since(p);
            let ms = gap.as_secs_f64() * 1000.0;
            if gap.as_secs_f64() > 1.0 {
                y += ROW * 0.6;
                breaks.push((y, gap));
                y += ROW * 0.6;
            } else if ms > 0.0 {
                y += (ms.log10() + 2.0).clamp(0.0, 5.0) * 4.0;
            }
        }
        ys.push(y);
        if line.time.is_some() {
            prev = line.time;
        }
        y += ROW;
    }
    let bottom = y + 10.0;
    let height = bottom + 20.0;
    let mut svg = Svg::new(width, height);
    let title = options.title.unwrap_or("TCP connection");
    svg.title(title);
    svg.bold(width / 2.0, 24.0, title, 15.0, Anchor::Middle, "#111111");

    // Headers.
    for (side, x) in [(Side::A, xa), (Side::B, xb)] {
        let peer = trace.peer(side);
        svg.bold(x, 50.0, &peer.name, 13.0, Anchor::Middle, "#111111");
        if let Some(addr) = peer.addr {
            svg.text(
                x,
                66.0,
                &addr.to_string(),
                11.0,
                Anchor::Middle,
                "#555555",
                MONO,
                0.0,
            );
        }
    }
    // Time lines, broken at long gaps.
    let mut from = TOP - 14.0;
    let mut cuts: Vec<f64> = breaks.iter().map(|(y, _)| *y).collect();
    cuts.push(bottom);
    for cut in &cuts {
        let to = if *cut == bottom { bottom } else { cut - 6.0 };
        for x in [xa, xb] {
            svg.line(x, from, x, to, "#444444", 2.0);
        }
        from = cut + 6.0;
    }
    for (y, gap) in &breaks {
        for x in [xa, xb] {
            svg.line(x - 8.0, y - 3.0, x + 8.0, y - 9.0, "#444444", 1.5);
            svg.line(x - 8.0, y + 9.0, x + 8.0, y + 3.0, "#444444", 1.5);
        }
        svg.text(
            (xa + xb) / 2.0,
            y + 4.0,
            &format!("\u{2026} {} \u{2026}", format_gap(*gap)),
            11.0,
            Anchor::Middle,
            "#777777",
            FONT,
            0.0,
        );
    }

    // States and arrows.
    let mut states = [
        trace.peer(Side::A).initial_state,
        trace.peer(Side::B).initial_state,
    ];
    let state_box = |svg: &mut Svg, side: Side, y: f64, state: State| {
        let name = state.name();
        let w = text_width(name, 11.0) + 10.0;
        let (x, anchor_x) = match side {
            Side::A => (xa - 10.0 - w, xa - 15.0),
            Side::B => (xb + 10.0, xb + 15.0),
        };
        svg.round_rect(x, y - 11.0, w, 16.0, "#e3f2fd", "#90caf9");
        let anchor = match side {
            Side::A => Anchor::End,
            Side::B => Anchor::Start,
        };
        svg.text(anchor_x, y + 1.0, name, 11.0, anchor, "#0d47a1", FONT, 0.0);
    };
    // Where each segment's send row is, for arrows drawn at arrival.
    let mut send_row: Vec<Option<usize>> = vec![None; trace.segments().len()];
    for (i, line) in lines.iter().enumerate() {
        let y = ys.get(i).copied().unwrap_or(TOP);
        svg.text(
            14.0,
            y + 4.0,
            &format!("{}.", line.number),
            11.0,
            Anchor::Start,
            "#777777",
            FONT,
            0.0,
        );
        if let Some(t) = line.time {
            let d = t.saturating_since(origin);
            svg.text(
                MARGIN_LEFT - 8.0,
                y + 4.0,
                &format!("{:.6}", d.as_secs_f64()),
                10.0,
                Anchor::End,
                "#777777",
                MONO,
                0.0,
            );
        }
        let mut changed = [false, false];
        for t in &line.transitions {
            if let Some(tr) = trace.transitions().get(*t) {
                states[tr.side.index()] = tr.to;
                changed[tr.side.index()] = true;
            }
        }
        if line.kind == LineKind::Initial {
            changed = [true, true];
        }
        for side in [Side::A, Side::B] {
            if changed[side.index()] {
                state_box(&mut svg, side, y, states[side.index()]);
            }
        }
        let colour = colour_of(trace, line);
        let x_of = |side: Side| match side {
            Side::A => xa,
            Side::B => xb,
        };
        let draw = |svg: &mut Svg, from: Side, y1: f64, y2: f64, lost: bool, text: &str| {
            let (x1, x2) = (x_of(from), x_of(from.other()));
            let (ex, ey) = if lost {
                (x1 + (x2 - x1) * 0.62, y1 + (y2 - y1) * 0.62)
            } else {
                (x2, y2)
            };
            if lost {
                svg.line(x1, y1, ex, ey, colour, 1.6);
                svg.cross(ex, ey, 7.0, "#c62828", 2.5);
            } else {
                svg.arrow(x1, y1, ex, ey, colour, 1.6);
            }
            let angle = (y2 - y1).atan2(x2 - x1).to_degrees();
            let angle = if angle.abs() > 90.0 {
                angle - 180.0
            } else {
                angle
            };
            let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            svg.text(
                mx,
                my - 5.0,
                text,
                11.0,
                Anchor::Middle,
                colour,
                MONO,
                angle,
            );
        };
        match line.kind {
            LineKind::SendArrive(id) => {
                if let Some(seg) = trace.segments().get(id.0) {
                    draw(&mut svg, seg.from, y, y, false, &label(line));
                }
            }
            LineKind::Send(id) => {
                if let Some(slot) = send_row.get_mut(id.0) {
                    *slot = Some(i);
                }
                if let Some(seg) = trace.segments().get(id.0) {
                    if seg.arrived_at.is_none() {
                        draw(&mut svg, seg.from, y, y + ROW, true, &label(line));
                    }
                }
            }
            LineKind::Arrive(id) => {
                if let Some(seg) = trace.segments().get(id.0) {
                    let start = send_row
                        .get(id.0)
                        .copied()
                        .flatten()
                        .and_then(|r| ys.get(r).copied());
                    match start {
                        Some(y1) => draw(&mut svg, seg.from, y1, y, false, &label(line)),
                        None => {
                            // Injected or a network copy: starts from nowhere in particular.
                            let x2 = x_of(seg.from.other());
                            let x1 = x_of(seg.from) + (x2 - x_of(seg.from)) * 0.15;
                            svg.dashed(
                                x_of(seg.from),
                                y - ROW * 0.4,
                                x1,
                                y - ROW * 0.4,
                                colour,
                                1.2,
                            );
                            svg.arrow(x1, y - ROW * 0.4, x2, y, colour, 1.6);
                            let angle = (ROW * 0.4).atan2(x2 - x1).to_degrees();
                            let angle = if x2 < x1 { -angle } else { angle };
                            svg.text(
                                (x1 + x2) / 2.0,
                                y - ROW * 0.2 - 5.0,
                                &label(line),
                                11.0,
                                Anchor::Middle,
                                colour,
                                MONO,
                                angle,
                            );
                        }
                    }
                }
            }
            LineKind::Initial | LineKind::State(_) => {}
        }
    }
    svg.finish()
}
