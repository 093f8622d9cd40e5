//! Time-sequence graphs and friends, as SVG (and PNG through [`crate::svg::to_png`]).
//!
//! Each plot shows one direction of a connection: the data one side (the *sender*)
//! sends and the acknowledgments the other returns. Time is seconds from the trace's
//! first event; sequence numbers are relative to the sender's ISN (its SYN is 0, its
//! first data byte 1), as in Wireshark.
//!
//! - [`PlotKind::Tcptrace`]: the graph tcptrace and Wireshark's "Stevens/tcptrace" view
//!   draw. Each data segment is a vertical bar from its first to its last sequence number
//!   at its send time; retransmissions are red, segments the network lost end in a cross,
//!   out-of-order ones are purple. The ACK line (green) steps up as acknowledgments
//!   arrive; the advertised-window line (gold) is ACK + window (scaled); SACK blocks are
//!   short purple bars at the time of the ACK that carried them; duplicate ACKs are dots
//!   on the ACK line and zero windows red dots on the window line.
//! - [`PlotKind::Stevens`]: W. R. Stevens's sequence-versus-time plot: one dot per data
//!   segment at its first sequence number; retransmissions red.
//! - [`PlotKind::Throughput`]: bits per second sent (retransmissions included) and
//!   acknowledged (goodput), in bins of a sixtieth of the connection's duration.
//! - [`PlotKind::Rtt`]: round-trip samples. From a simulator trace (or synack's pcapng)
//!   these are the sender's own RFC 6298 samples, with its SRTT and RTO; from any other
//!   capture they are measured as tcptrace does — from a segment to the first ACK that
//!   covers it, skipping retransmitted data (Karn's rule) — with the SRTT RFC 6298 would
//!   compute from them.
//! - [`PlotKind::Cwnd`]: the congestion window, slow-start threshold, bytes in flight and
//!   the peer's window, from the sender's own numbers. A capture from elsewhere cannot
//!   show the cwnd: the plot then shows bytes in flight (which the cwnd bounds) and the
//!   advertised window, and says so.

use crate::analyze::window_scales;
use crate::model::{Segment, Side, Trace};
use crate::seqspace::{after, later, seg_end};
use crate::svg::{text_width, Anchor, Svg, FONT};
use core::fmt;
use core::time::Duration;
use synack::Instant;

/// Which plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    /// Stevens's sequence-versus-time dots.
    Stevens,
    /// tcptrace's time-sequence graph: segments, ACK line, window line, SACK blocks.
    Tcptrace,
    /// Throughput sent and acknowledged.
    Throughput,
    /// Round-trip time samples, SRTT and RTO.
    Rtt,
    /// Congestion window, ssthresh, flight and peer window.
    Cwnd,
}

impl PlotKind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [PlotKind; 5] = [
        PlotKind::Stevens,
        PlotKind::Tcptrace,
        PlotKind::Throughput,
        PlotKind::Rtt,
        PlotKind::Cwnd,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PlotKind::Stevens => "stevens",
            PlotKind::Tcptrace => "tcptrace",
            PlotKind::Throughput => "throughput",
            PlotKind::Rtt => "rtt",
            PlotKind::Cwnd => "cwnd",
        }
    }
}

impl fmt::Display for PlotKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for PlotKind {
    type Err = String;
    fn from_str(s: &str) -> Result<PlotKind, String> {
        PlotKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = PlotKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown plot kind {s:?} (one of: {})", names.join(", "))
            })
    }
}

/// How to plot.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Which plot.
    pub kind: PlotKind,
    /// The data sender; `None` picks the side that sent more payload.
    pub sender: Option<Side>,
    /// Title; a default naming the kind and direction otherwise.
    pub title: Option<String>,
    /// Size in pixels.
    pub width: f64,
    /// Size in pixels.
    pub height: f64,
}

impl PlotOptions {
    /// A plot of `kind`, 960 × 540, sender chosen automatically.
    pub fn new(kind: PlotKind) -> PlotOptions {
        PlotOptions {
            kind,
            sender: None,
            title: None,
            width: 960.0,
            height: 540.0,
        }
    }
}

/// The side that sent more payload bytes (A on a tie).
pub fn busier_side(trace: &Trace) -> Side {
    let mut bytes = [0u64; 2];
    for s in trace.segments() {
        if !s.injected && !s.duplicate {
            bytes[s.from.index()] += u64::from(s.summary.len);
        }
    }
    if bytes[1] > bytes[0] {
        Side::B
    } else {
        Side::A
    }
}

// ---- Colours -------------------------------------------------------------------------

const INK: &str = "#1a237e";
const RETX: &str = "#d32f2f";
const OOO: &str = "#8e24aa";
const ACK_LINE: &str = "#2e7d32";
const WINDOW_LINE: &str = "#c79100";
const SACK: &str = "#8e24aa";
const GRID: &str = "#e0e0e0";
const AXIS: &str = "#424242";

// ---- Axes ----------------------------------------------------------------------------

/// A "nice" tick step for a range (1, 2 or 5 times a power of ten).
fn nice_step(range: f64, target_ticks: f64) -> f64 {
    if range <= 0.0 || !range.is_finite() {
        return 1.0;
    }
    let raw = range / target_ticks;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.5 {
        2.0
    } else if norm < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Format a value with an SI prefix: 1500 → "1.5k".
fn si(v: f64) -> String {
    let a = v.abs();
    let (div, suffix) = if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let x = v / div;
    let s = if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

fn fmt_seconds(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    };
    format!("{v:.decimals$}")
}

/// A plotting area with data ranges.
struct Chart {
    svg: Svg,
    left: f64,
    top: f64,
    w: f64,
    h: f64,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    legend: Vec<(String, &'static str, LegendMark)>,
    /// Pixel positions of what was drawn, to put the legend where it hides least.
    inked: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, Copy)]
enum LegendMark {
    Line,
    Dashed,
    Dot,
    Bar,
    Cross,
}

impl Chart {
    #[allow(clippy::too_many_arguments)]
    fn new(
        width: f64,
        height: f64,
        title: &str,
        x_label: &str,
        y_label: &str,
        (x0, x1): (f64, f64),
        (y0, y1): (f64, f64),
        y_format: fn(f64, f64) -> String,
    ) -> Chart {
        let pad = |lo: f64, hi: f64| {
            if hi - lo > 0.0 {
                (lo, hi + (hi - lo) * 0.04)
            } else {
                (lo - 0.5, hi + 0.5)
            }
        };
        // A little room after the last event, so that it is not drawn on the frame.
        let (x0, x1) = if x1 > x0 {
            (x0, x1 + (x1 - x0) * 0.03)
        } else {
            (x0, x0 + 1e-3)
        };
        let (y0, y1) = pad(y0, y1);
        let mut svg = Svg::new(width, height);
        svg.title(title);
        let (left, top, right, bottom) = (84.0, 64.0, 24.0, 58.0);
        let (w, h) = (width - left - right, height - top - bottom);
        svg.bold(width / 2.0, 26.0, title, 16.0, Anchor::Middle, "#111111");
        // Grid and ticks.
        let xs = nice_step(x1 - x0, 8.0);
        let ys = nice_step(y1 - y0, 6.0);
        let mut chart = Chart {
            svg,
            left,
            top,
            w,
            h,
            x0,
            x1,
            y0,
            y1,
            legend: Vec::new(),
            inked: Vec::new(),
        };
        let mut t = (x0 / xs).ceil() * xs;
        while t <= x1 + xs * 1e-9 {
            let x = chart.x(t);
            chart.svg.line(x, top, x, top + h, GRID, 1.0);
            chart.svg.line(x, top + h, x, top + h + 5.0, AXIS, 1.0);
            chart.svg.text(
                x,
                top + h + 19.0,
                &fmt_seconds(t, xs),
                12.0,
                Anchor::Middle,
                AXIS,
                FONT,
                0.0,
            );
            t += xs;
        }
        let mut v = (y0 / ys).ceil() * ys;
        while v <= y1 + ys * 1e-9 {
            let y = chart.y(v);
            chart.svg.line(left, y, left + w, y, GRID, 1.0);
            chart.svg.line(left - 5.0, y, left, y, AXIS, 1.0);
            chart.svg.text(
                left - 8.0,
                y + 4.0,
                &y_format(v, ys),
                12.0,
                Anchor::End,
                AXIS,
                FONT,
                0.0,
            );
            v += ys;
        }
        chart.svg.rect(left, top, w, h, "none", Some(AXIS));
        chart.svg.text(
            left + w / 2.0,
            height - 14.0,
            x_label,
            13.0,
            Anchor::Middle,
            AXIS,
            FONT,
            0.0,
        );
        chart.svg.text(
            20.0,
            top + h / 2.0,
            y_label,
            13.0,
            Anchor::Middle,
            AXIS,
            FONT,
            -90.0,
        );
        chart
    }

    fn x(&self, v: f64) -> f64 {
        self.left + (v - self.x0) / (self.x1 - self.x0) * self.w
    }

    fn y(&self, v: f64) -> f64 {
        self.top + self.h - (v - self.y0) / (self.y1 - self.y0) * self.h
    }

    fn clamp_y(&self, y: f64) -> f64 {
        y.clamp(self.top, self.top + self.h)
    }

    fn legend(&mut self, name: impl Into<String>, colour: &'static str, mark: LegendMark) {
        self.legend.push((name.into(), colour, mark));
    }

    /// A step line: the value holds until the next point.
    fn step(&mut self, points: &[(f64, f64)], colour: &str, width: f64, until: f64) {
        let mut out = Vec::with_capacity(points.len() * 2 + 1);
        for (i, (t, v)) in points.iter().enumerate() {
            let (x, y) = (self.x(*t), self.clamp_y(self.y(*v)));
            if i > 0 {
                if let Some(&(_, py)) = out.last() {
                    out.push((x, py));
                }
            }
            out.push((x, y));
        }
        if let Some(&(_, py)) = out.last() {
            out.push((self.x(until), py));
        }
        self.ink_polyline(&out);
        self.svg.polyline(&out, colour, width);
    }

    fn line(&mut self, points: &[(f64, f64)], colour: &str, width: f64) {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .map(|(t, v)| (self.x(*t), self.clamp_y(self.y(*v))))
            .collect();
        self.ink_polyline(&pts);
        self.svg.polyline(&pts, colour, width);
    }

    fn dashed_step(&mut self, points: &[(f64, f64)], colour: &str, until: f64) {
        for pair in points.windows(2) {
            let (t0, v0) = pair[0];
            let (t1, _) = pair[1];
            let y = self.clamp_y(self.y(v0));
            self.svg.dashed(self.x(t0), y, self.x(t1), y, colour, 1.5);
        }
        if let Some(&(t, v)) = points.last() {
            let y = self.clamp_y(self.y(v));
            self.svg.dashed(self.x(t), y, self.x(until), y, colour, 1.5);
        }
    }

    fn dot(&mut self, t: f64, v: f64, r: f64, colour: &str) {
        let (x, y) = (self.x(t), self.clamp_y(self.y(v)));
        self.inked.push((x, y));
        self.svg.dot(x, y, r, colour);
    }

    fn bar(&mut self, t: f64, lo: f64, hi: f64, colour: &str) {
        let x = self.x(t);
        let (ya, yb) = (self.clamp_y(self.y(lo)), self.clamp_y(self.y(hi)));
        self.ink_polyline(&[(x, ya), (x, yb)]);
        self.svg.line(x, ya, x, yb, colour, 1.6);
        self.svg.line(x - 2.5, ya, x + 2.5, ya, colour, 1.2);
        self.svg.line(x - 2.5, yb, x + 2.5, yb, colour, 1.2);
    }

    fn cross(&mut self, t: f64, v: f64, colour: &str) {
        let (x, y) = (self.x(t), self.clamp_y(self.y(v)));
        self.svg.cross(x, y, 4.0, colour, 1.8);
    }

    /// Record the pixels along a polyline (sampled every few pixels).
    fn ink_polyline(&mut self, points: &[(f64, f64)]) {
        for pair in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            let steps = ((x1 - x0).abs().max((y1 - y0).abs()) / 4.0)
                .ceil()
                .min(2000.0) as usize;
            for i in 0..=steps {
                let f = if steps == 0 {
                    0.0
                } else {
                    i as f64 / steps as f64
                };
                self.inked.push((x0 + (x1 - x0) * f, y0 + (y1 - y0) * f));
            }
        }
    }

    fn note(&mut self, text: &str) {
        let (x, y) = (self.left + 8.0, self.top + self.h - 10.0);
        self.svg
            .text(x, y, text, 12.0, Anchor::Start, "#616161", FONT, 0.0);
    }

    fn finish(mut self) -> String {
        // Legend: top-left inside the plot, on a white card.
        if !self.legend.is_empty() {
            let widest = self
                .legend
                .iter()
                .map(|(n, _, _)| text_width(n, 12.0))
                .fold(0.0, f64::max);
            let (lw, h) = (widest + 42.0, self.legend.len() as f64 * 18.0 + 8.0);
            // The corner that hides the fewest drawn points (top-left on a tie).
            let corners = [
                (self.left + 10.0, self.top + 10.0),
                (self.left + self.w - lw - 10.0, self.top + self.h - h - 28.0),
                (self.left + self.w - lw - 10.0, self.top + 10.0),
                (self.left + 10.0, self.top + self.h - h - 28.0),
            ];
            let hidden = |&(cx, cy): &(f64, f64)| {
                self.inked
                    .iter()
                    .filter(|(px, py)| *px >= cx && *px <= cx + lw && *py >= cy && *py <= cy + h)
                    .count()
            };
            let (x, y) = corners
                .iter()
                .copied()
                .min_by_key(hidden)
                .unwrap_or((self.left + 10.0, self.top + 10.0));
            self.svg
                .rect(x, y, widest + 42.0, h, "#ffffff", Some("#bdbdbd"));
            for (i, (name, colour, mark)) in self.legend.clone().into_iter().enumerate() {
                let cy = y + 14.0 + i as f64 * 18.0;
                let (mx, my) = (x + 14.0, cy - 4.0);
                match mark {
                    LegendMark::Line => self.svg.line(mx - 8.0, my, mx + 8.0, my, colour, 2.0),
                    LegendMark::Dashed => self.svg.dashed(mx - 8.0, my, mx + 8.0, my, colour, 1.5),
                    LegendMark::Dot => self.svg.dot(mx, my, 3.0, colour),
                    LegendMark::Bar => {
                        self.svg.line(mx, my - 6.0, mx, my + 6.0, colour, 1.6);
                        self.svg
                            .line(mx - 2.5, my - 6.0, mx + 2.5, my - 6.0, colour, 1.2);
                        self.svg
                            .line(mx - 2.5, my + 6.0, mx + 2.5, my + 6.0, colour, 1.2);
                    }
                    LegendMark::Cross => self.svg.cross(mx, my, 4.0, colour, 1.8),
                }
                self.svg.text(
                    x + 30.0,
                    cy,
                    &name,
                    12.0,
                    Anchor::Start,
                    "#212121",
                    FONT,
                    0.0,
                );
            }
        }
        self.svg.finish()
    }
}

// ---- Data ----------------------------------------------------------------------------

/// Seconds since `origin`.
fn secs(t: Instant, origin: Instant) -> f64 {
    t.saturating_since(origin).as_secs_f64()
}

/// The sender's segments that occupy sequence space, with the time they were sent.
fn data_segments(trace: &Trace, sender: Side) -> Vec<&Segment> {
    trace
        .segments()
        .iter()
        .filter(|s| s.from == sender && !s.injected && !s.duplicate && s.summary.len > 0)
        .collect()
}

/// When the sender learned of an ACK: its arrival when known, else when it was seen.
fn ack_time(s: &Segment) -> Instant {
    s.arrived_at.unwrap_or(s.sent_at)
}

/// The receiver's ACKs that reached the sender (or were seen, in a capture), in the
/// order the sender got them.
fn acks(trace: &Trace, sender: Side) -> Vec<&Segment> {
    let mut out: Vec<&Segment> = trace
        .segments()
        .iter()
        .filter(|s| {
            s.from == sender.other()
                && s.summary.flags.ack()
                && !s.summary.flags.rst()
                && !s.corrupted
                && s.arrived_at.is_some()
        })
        .collect();
    out.sort_by_key(|s| ack_time(s));
    out
}

fn no_data(what: &str, sender: Side) -> String {
    let name = match sender {
        Side::A => "A",
        Side::B => "B",
    };
    format!("nothing to plot: peer {name} {what} (try the other direction)")
}

/// Draw one plot of `trace` as SVG. Fails (with a message for the user) when the chosen
/// direction has nothing to show, e.g. no data segments.
pub fn render_plot(trace: &Trace, options: &PlotOptions) -> Result<String, String> {
    let sender = options.sender.unwrap_or_else(|| busier_side(trace));
    let origin = trace.start().unwrap_or(Instant::ZERO);
    let isn = trace
        .initial_seq(sender)
        .ok_or_else(|| no_data("sent nothing", sender))?;
    let rel = |seq: u32| f64::from(seq.wrapping_sub(isn));
    let end = trace
        .segments()
        .iter()
        .flat_map(|s| [Some(s.sent_at), s.arrived_at])
        .flatten()
        .max()
        .unwrap_or(origin);
    let t_end = secs(end, origin).max(1e-3);
    let names = |side: Side| {
        let p = trace.peer(side);
        p.addr.map_or(p.name.clone(), |a| a.to_string())
    };
    let direction = format!("{} \u{2192} {}", names(sender), names(sender.other()));
    let title = |what: &str| {
        options
            .title
            .clone()
            .unwrap_or_else(|| format!("{what}: {direction}"))
    };
    let data = data_segments(trace, sender);
    let acks = acks(trace, sender);
    let scale = window_scales(trace)[sender.other().index()];
    let (w, h) = (options.width, options.height);
    let seq_fmt: fn(f64, f64) -> String = |v, _| si(v);

    match options.kind {
        PlotKind::Tcptrace | PlotKind::Stevens => {
            if data.is_empty() {
                return Err(no_data("sent no data", sender));
            }
            let mut top = data.iter().map(|s| rel(seg_end(s))).fold(0.0, f64::max);
            let mut windows = Vec::new();
            let mut ack_pts = Vec::new();
            let mut sacks = Vec::new();
            let mut dups = Vec::new();
            let mut zeros = Vec::new();
            if options.kind == PlotKind::Tcptrace {
                for a in &acks {
                    let s = &a.summary;
                    let t = secs(ack_time(a), origin);
                    let ack = rel(s.ack);
                    let wnd =
                        f64::from(u32::from(s.window) << if s.flags.syn() { 0 } else { scale });
                    ack_pts.push((t, ack));
                    windows.push((t, ack + wnd));
                    for b in s.options.sack.as_slice() {
                        sacks.push((t, rel(b.left), rel(b.right)));
                    }
                    if a.marks.dup_ack.is_some() {
                        dups.push((t, ack));
                    }
                    if a.marks.zero_window {
                        zeros.push((t, ack));
                    }
                }
                // Keep the window line from squashing the data.
                let win_top = windows.iter().map(|p| p.1).fold(0.0, f64::max);
                top = top.max(win_top.min(top * 1.6 + 1.0));
            }
            let kind_name = if options.kind == PlotKind::Tcptrace {
                "Time-sequence (tcptrace)"
            } else {
                "Sequence vs time (Stevens)"
            };
            let mut c = Chart::new(
                w,
                h,
                &title(kind_name),
                "time (s)",
                "relative sequence number",
                (0.0, t_end),
                (0.0, top),
                seq_fmt,
            );
            if options.kind == PlotKind::Tcptrace {
                c.step(&windows, WINDOW_LINE, 1.5, t_end);
                c.step(&ack_pts, ACK_LINE, 1.8, t_end);
                for (t, lo, hi) in &sacks {
                    let x = c.x(*t) + 3.0;
                    let (ya, yb) = (c.clamp_y(c.y(*lo)), c.clamp_y(c.y(*hi)));
                    c.svg.line(x, ya, x, yb, SACK, 2.5);
                }
                for (t, v) in &dups {
                    c.dot(*t, *v, 2.5, OOO);
                }
                for (t, v) in &zeros {
                    c.dot(*t, *v, 3.5, RETX);
                }
            }
            let mut any = [false; 4];
            for s in &data {
                let t = secs(s.sent_at, origin);
                let (lo, hi) = (rel(s.summary.seq), rel(seg_end(s)));
                let colour = if s.retransmission {
                    any[1] = true;
                    RETX
                } else if s.marks.out_of_order {
                    any[2] = true;
                    OOO
                } else {
                    any[0] = true;
                    INK
                };
                if options.kind == PlotKind::Tcptrace {
                    c.bar(t, lo, hi, colour);
                } else {
                    c.dot(t, lo, 2.5, colour);
                }
                if s.arrived_at.is_none() && trace_knows_arrivals(trace) {
                    any[3] = true;
                    c.cross(t, hi, RETX);
                }
            }
            let mark = if options.kind == PlotKind::Tcptrace {
                LegendMark::Bar
            } else {
                LegendMark::Dot
            };
            if any[0] {
                c.legend("data segment", INK, mark);
            }
            if any[1] {
                c.legend("retransmission", RETX, mark);
            }
            if any[2] {
                c.legend("out of order", OOO, mark);
            }
            if any[3] {
                c.legend("lost in the network", RETX, LegendMark::Cross);
            }
            if options.kind == PlotKind::Tcptrace {
                if !ack_pts.is_empty() {
                    c.legend("ACK", ACK_LINE, LegendMark::Line);
                    c.legend("advertised window", WINDOW_LINE, LegendMark::Line);
                }
                if !sacks.is_empty() {
                    c.legend("SACK block", SACK, LegendMark::Bar);
                }
                if !dups.is_empty() {
                    c.legend("duplicate ACK", OOO, LegendMark::Dot);
                }
                if !zeros.is_empty() {
                    c.legend("zero window", RETX, LegendMark::Dot);
                }
            }
            Ok(c.finish())
        }
        PlotKind::Throughput => {
            if data.is_empty() {
                return Err(no_data("sent no data", sender));
            }
            let bin = (t_end / 60.0).max(1e-3);
            let bins = (t_end / bin).ceil() as usize + 1;
            let mut sent = vec![0f64; bins];
            let mut acked = vec![0f64; bins];
            for s in &data {
                let i = ((secs(s.sent_at, origin) / bin) as usize).min(bins - 1);
                sent[i] += f64::from(s.summary.len) * 8.0;
            }
            let mut highest: Option<u32> = None;
            for a in &acks {
                let ack = a.summary.ack;
                let start = highest.unwrap_or(isn.wrapping_add(1));
                if after(ack, start) {
                    let i = ((secs(ack_time(a), origin) / bin) as usize).min(bins - 1);
                    acked[i] += f64::from(ack.wrapping_sub(start)) * 8.0;
                }
                highest = Some(highest.map_or(ack, |h| later(h, ack)));
            }
            let to_rate = |v: &[f64]| -> Vec<(f64, f64)> {
                v.iter()
                    .enumerate()
                    .map(|(i, b)| (i as f64 * bin, b / bin))
                    .collect()
            };
            let (s, a) = (to_rate(&sent), to_rate(&acked));
            let top = s.iter().chain(a.iter()).map(|p| p.1).fold(0.0, f64::max);
            let mut c = Chart::new(
                w,
                h,
                &title("Throughput"),
                "time (s)",
                "bits per second",
                (0.0, t_end),
                (0.0, top),
                seq_fmt,
            );
            c.step(&s, INK, 1.8, t_end);
            c.step(&a, ACK_LINE, 1.8, t_end);
            c.legend("sent (with retransmissions)", INK, LegendMark::Line);
            c.legend("acknowledged (goodput)", ACK_LINE, LegendMark::Line);
            c.note(&format!("bins of {}", fmt_duration(bin)));
            Ok(c.finish())
        }
        PlotKind::Rtt => {
            let own: Vec<_> = trace
                .samples()
                .iter()
                .filter(|s| s.side == sender)
                .collect();
            let mut samples: Vec<(f64, f64)> = own
                .iter()
                .filter_map(|s| {
                    s.metrics
                        .rtt_sample
                        .map(|r| (secs(s.at, origin), r.as_secs_f64() * 1000.0))
                })
                .collect();
            let mut srtt: Vec<(f64, f64)> = own
                .iter()
                .filter_map(|s| {
                    s.metrics
                        .srtt
                        .map(|r| (secs(s.at, origin), r.as_secs_f64() * 1000.0))
                })
                .collect();
            let rto: Vec<(f64, f64)> = own
                .iter()
                .map(|s| (secs(s.at, origin), s.metrics.rto.as_secs_f64() * 1000.0))
                .collect();
            let measured = samples.is_empty();
            if measured {
                samples = measure_rtt(&data, &acks)
                    .into_iter()
                    .map(|(t, d)| (secs(t, origin), d.as_secs_f64() * 1000.0))
                    .collect();
                srtt = rfc6298_srtt(&samples);
            }
            if samples.is_empty() {
                return Err(no_data(
                    "has no round-trip samples (no data segment was acknowledged)",
                    sender,
                ));
            }
            let mut top = samples
                .iter()
                .chain(srtt.iter())
                .map(|p| p.1)
                .fold(0.0, f64::max);
            if !measured {
                // The RTO is usually far above the samples; show it only if it fits.
                let rto_top = rto.iter().map(|p| p.1).fold(0.0, f64::max);
                top = top.max(rto_top.min(top * 4.0));
            }
            let mut c = Chart::new(
                w,
                h,
                &title("Round-trip time"),
                "time (s)",
                "milliseconds",
                (0.0, t_end),
                (0.0, top),
                |v, step| {
                    if step < 1.0 {
                        format!("{v:.2}")
                    } else {
                        si(v)
                    }
                },
            );
            if !measured {
                c.dashed_step(&rto, RETX, t_end);
            }
            c.line(&srtt, ACK_LINE, 1.8);
            for (t, v) in &samples {
                c.dot(*t, *v, 2.8, INK);
            }
            c.legend("RTT sample", INK, LegendMark::Dot);
            c.legend("SRTT (RFC 6298)", ACK_LINE, LegendMark::Line);
            if measured {
                c.note("measured from the capture: segment to first ACK covering it, Karn's rule");
            } else {
                c.legend("RTO", RETX, LegendMark::Dashed);
                c.note("the sender's own samples");
            }
            Ok(c.finish())
        }
        PlotKind::Cwnd => {
            let own: Vec<_> = trace
                .samples()
                .iter()
                .filter(|s| s.side == sender)
                .collect();
            if own.is_empty() {
                // Not on the wire: show flight and the advertised window.
                let flight = bytes_in_flight(trace, sender, origin);
                if flight.is_empty() {
                    return Err(no_data("sent no data", sender));
                }
                let window: Vec<(f64, f64)> = acks
                    .iter()
                    .map(|a| {
                        let s = &a.summary;
                        let wnd = u32::from(s.window) << if s.flags.syn() { 0 } else { scale };
                        (secs(ack_time(a), origin), f64::from(wnd))
                    })
                    .collect();
                let f_top = flight.iter().map(|p| p.1).fold(0.0, f64::max);
                let w_top = window.iter().map(|p| p.1).fold(0.0, f64::max);
                let top = f_top.max(w_top.min(f_top * 3.0 + 1.0));
                let mut c = Chart::new(
                    w,
                    h,
                    &title("Bytes in flight"),
                    "time (s)",
                    "bytes",
                    (0.0, t_end),
                    (0.0, top),
                    seq_fmt,
                );
                c.step(&window, WINDOW_LINE, 1.5, t_end);
                c.step(&flight, INK, 1.8, t_end);
                c.legend("bytes in flight", INK, LegendMark::Line);
                c.legend("peer's advertised window", WINDOW_LINE, LegendMark::Line);
                c.note("the cwnd is not on the wire: bytes in flight never exceed it");
                return Ok(c.finish());
            }
            let pts = |f: &dyn Fn(&synack::Metrics) -> Option<u32>| -> Vec<(f64, f64)> {
                own.iter()
                    .filter_map(|s| f(&s.metrics).map(|v| (secs(s.at, origin), f64::from(v))))
                    .collect()
            };
            let cwnd = pts(&|m| Some(m.cwnd));
            let ssthresh = pts(&|m| (m.ssthresh != u32::MAX).then_some(m.ssthresh));
            let flight = pts(&|m| Some(m.flight));
            let wnd = pts(&|m| Some(m.snd_wnd));
            let top = cwnd
                .iter()
                .chain(&flight)
                .chain(&ssthresh)
                .map(|p| p.1)
                .fold(0.0, f64::max);
            let w_top = wnd.iter().map(|p| p.1).fold(0.0, f64::max);
            let top = top.max(w_top.min(top * 1.5));
            let mut c = Chart::new(
                w,
                h,
                &title("Congestion window"),
                "time (s)",
                "bytes",
                (0.0, t_end),
                (0.0, top),
                seq_fmt,
            );
            c.step(&wnd, WINDOW_LINE, 1.5, t_end);
            c.dashed_step(&ssthresh, RETX, t_end);
            c.step(&cwnd, INK, 2.0, t_end);
            for (t, v) in &flight {
                c.dot(*t, *v, 2.2, ACK_LINE);
            }
            c.legend("cwnd", INK, LegendMark::Line);
            if !ssthresh.is_empty() {
                c.legend("ssthresh", RETX, LegendMark::Dashed);
            }
            c.legend("bytes in flight (at each ACK)", ACK_LINE, LegendMark::Dot);
            c.legend("peer's window", WINDOW_LINE, LegendMark::Line);
            Ok(c.finish())
        }
    }
}

fn fmt_duration(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else {
        format!("{:.1} ms", secs * 1000.0)
    }
}

/// The trace knows where segments arrived (a simulator trace or synack's pcapng), so a
/// missing arrival means a loss.
fn trace_knows_arrivals(trace: &Trace) -> bool {
    trace
        .segments()
        .iter()
        .any(|s| s.arrived_at.is_some_and(|a| a != s.sent_at))
}

/// RTT samples measured from the segments, as Wireshark's `tcp.analysis.ack_rtt`: an
/// ACK whose number is exactly the end of a data segment sent before it gives one sample
/// (the first such ACK only), unless that data was ever retransmitted (Karn's rule).
fn measure_rtt(data: &[&Segment], acks: &[&Segment]) -> Vec<(Instant, Duration)> {
    let mut sampled = vec![false; data.len()];
    let mut out = Vec::new();
    for a in acks {
        let ack = a.summary.ack;
        let at = ack_time(a);
        let found = data
            .iter()
            .enumerate()
            .find(|(i, s)| !sampled[*i] && seg_end(s) == ack && s.sent_at <= at);
        let Some((i, s)) = found else {
            continue;
        };
        sampled[i] = true;
        let karn = data.iter().any(|r| {
            r.retransmission && after(seg_end(r), s.summary.seq) && after(seg_end(s), r.summary.seq)
        });
        if !karn && !s.retransmission {
            out.push((at, at.saturating_since(s.sent_at)));
        }
    }
    out
}

/// SRTT as RFC 6298 would compute it from these samples (ms).
fn rfc6298_srtt(samples: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut srtt: Option<f64> = None;
    samples
        .iter()
        .map(|&(t, r)| {
            let s = srtt.map_or(r, |s| 0.875 * s + 0.125 * r);
            srtt = Some(s);
            (t, s)
        })
        .collect()
}

/// Bytes the sender had sent and not yet seen acknowledged, after each of its sends and
/// each ACK it got.
fn bytes_in_flight(trace: &Trace, sender: Side, origin: Instant) -> Vec<(f64, f64)> {
    let mut events: Vec<(Instant, bool, &Segment)> = Vec::new();
    for s in trace.segments() {
        if s.injected || s.duplicate {
            continue;
        }
        if s.from == sender {
            events.push((s.sent_at, true, s));
        } else if s.summary.flags.ack() && (s.arrived_at.is_some()) {
            events.push((ack_time(s), false, s));
        }
    }
    events.sort_by_key(|(t, _, _)| *t);
    let mut snd_max: Option<u32> = None;
    let mut snd_una: Option<u32> = None;
    let mut out = Vec::new();
    let mut any_data = false;
    for (t, is_send, s) in events {
        if is_send {
            let end = seg_end(s);
            any_data |= s.summary.len > 0;
            snd_max = Some(snd_max.map_or(end, |m| later(m, end)));
        } else {
            let ack = s.summary.ack;
            snd_una = Some(snd_una.map_or(ack, |u| later(u, ack)));
        }
        if let (Some(max), Some(una)) = (snd_max, snd_una) {
            let flight = if after(max, una) {
                max.wrapping_sub(una)
            } else {
                0
            };
            out.push((secs(t, origin), f64::from(flight)));
        }
    }
    if any_data {
        out
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_name() {
        for k in PlotKind::ALL {
            assert_eq!(k.name().parse::<PlotKind>(), Ok(k));
        }
        assert!("bogus"
            .parse::<PlotKind>()
            .unwrap_err()
            .contains("tcptrace"));
    }

    #[test]
    fn ticks_and_labels_are_nice() {
        assert_eq!(nice_step(10.0, 5.0), 2.0);
        assert_eq!(nice_step(0.07, 7.0), 0.01);
        assert_eq!(si(1500.0), "1.5k");
        assert_eq!(si(2_000_000.0), "2M");
        assert_eq!(si(0.0), "0");
        assert_eq!(fmt_seconds(0.25, 0.05), "0.25");
    }

    #[test]
    fn srtt_follows_rfc_6298() {
        let s = rfc6298_srtt(&[(0.0, 80.0), (1.0, 160.0)]);
        assert_eq!(s, vec![(0.0, 80.0), (1.0, 90.0)]);
    }
}
