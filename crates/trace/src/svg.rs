//! A tiny SVG writer: just the elements the ladder and the plots draw, with coordinates
//! rounded to a tenth of a pixel and text escaped. The output is standalone SVG 1.1 that
//! browsers, Inkscape and resvg (for PNG) all read.

use core::fmt::Write as _;

/// The font stack every drawing uses (DejaVu Sans is what PNG rendering finds on most
/// Linux systems).
pub const FONT: &str = "DejaVu Sans, Verdana, Arial, sans-serif";
/// A monospace stack for segment text.
pub const MONO: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";

/// Escape text for XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn n(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Text anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An SVG document being written.
#[derive(Debug, Clone)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

impl Svg {
    /// A blank drawing of this size (in pixels), white background.
    pub fn new(width: f64, height: f64) -> Svg {
        let mut svg = Svg {
            width,
            height,
            body: String::new(),
        };
        svg.rect(0.0, 0.0, width, height, "#ffffff", None);
        svg
    }

    /// Width in pixels.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// A straight line.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}"/>"#,
            n(x1),
            n(y1),
            n(x2),
            n(y2),
            n(width)
        );
    }

    /// A dashed straight line.
    pub fn dashed(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}" stroke-dasharray="4 3"/>"#,
            n(x1),
            n(y1),
            n(x2),
            n(y2),
            n(width)
        );
    }

    /// An open polyline through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64) {
        if points.len() < 2 {
            return;
        }
        let mut p = String::new();
        for (x, y) in points {
            let _ = write!(p, "{},{} ", n(*x), n(*y));
        }
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="{}" stroke-linejoin="round"/>"#,
            p.trim_end(),
            n(width)
        );
    }

    /// A rectangle; `stroke` draws its outline.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: Option<&str>) {
        let stroke = stroke.map_or(String::new(), |s| format!(r#" stroke="{s}""#));
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"{stroke}/>"#,
            n(x),
            n(y),
            n(w.max(0.0)),
            n(h.max(0.0))
        );
    }

    /// A rectangle with rounded corners.
    pub fn round_rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{fill}" stroke="{stroke}"/>"#,
            n(x),
            n(y),
            n(w.max(0.0)),
            n(h.max(0.0))
        );
    }

    /// A filled circle.
    pub fn dot(&mut self, x: f64, y: f64, r: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{fill}"/>"#,
            n(x),
            n(y),
            n(r)
        );
    }

    /// A cross (×) of half-size `r`.
    pub fn cross(&mut self, x: f64, y: f64, r: f64, stroke: &str, width: f64) {
        self.line(x - r, y - r, x + r, y + r, stroke, width);
        self.line(x - r, y + r, x + r, y - r, stroke, width);
    }

    /// A line with an arrow head at (x2, y2).
    pub fn arrow(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        self.line(x1, y1, x2, y2, stroke, width);
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let (size, spread) = (9.0, 4.0);
        let (bx, by) = (x2 - ux * size, y2 - uy * size);
        let _ = writeln!(
            self.body,
            r#"<polygon points="{},{} {},{} {},{}" fill="{stroke}"/>"#,
            n(x2),
            n(y2),
            n(bx - uy * spread),
            n(by + ux * spread),
            n(bx + uy * spread),
            n(by - ux * spread)
        );
    }

    /// Text at (x, y) (y is the baseline), optionally rotated by `angle` degrees about
    /// that point.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f64,
        y: f64,
        text: &str,
        size: f64,
        anchor: Anchor,
        fill: &str,
        family: &str,
        angle: f64,
    ) {
        let rotate = if angle.abs() > 0.05 {
            format!(r#" transform="rotate({} {} {})""#, n(angle), n(x), n(y))
        } else {
            String::new()
        };
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" font-family="{family}" font-size="{}" text-anchor="{}" fill="{fill}"{rotate}>{}</text>"#,
            n(x),
            n(y),
            n(size),
            anchor.name(),
            escape(text)
        );
    }

    /// Bold text.
    pub fn bold(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: Anchor, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" font-family="{FONT}" font-size="{}" font-weight="bold" text-anchor="{}" fill="{fill}">{}</text>"#,
            n(x),
            n(y),
            n(size),
            anchor.name(),
            escape(text)
        );
    }

    /// A `<title>` for the document (shown by viewers, read by screen readers).
    pub fn title(&mut self, title: &str) {
        let _ = writeln!(self.body, "<title>{}</title>", escape(title));
    }

    /// The finished document.
    pub fn finish(self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
             {body}</svg>\n",
            w = n(self.width),
            h = n(self.height),
            body = self.body
        )
    }
}

/// Roughly how wide `text` is at `size` pixels in the sans font (for layout).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.62
}

/// Rasterise an SVG document to PNG (`scale` 1.0 = one pixel per SVG unit). Text uses
/// the system's fonts (DejaVu Sans when installed; any sans-serif otherwise).
pub fn to_png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("invalid SVG: {e}"))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or("empty image")?;
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("image too large")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("PNG encoding: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_numbers_are_short() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.text(
            1.25,
            2.0,
            "<SEQ=0>&",
            12.0,
            Anchor::Start,
            "#000",
            FONT,
            0.0,
        );
        let doc = svg.finish();
        assert!(doc.contains(">&lt;SEQ=0&gt;&amp;</text>"), "{doc}");
        assert!(
            doc.contains(r#"x="1.3""#) || doc.contains(r#"x="1.2""#),
            "{doc}"
        );
        assert!(doc.starts_with("<?xml"));
    }

    #[test]
    fn png_is_rendered() {
        let mut svg = Svg::new(40.0, 20.0);
        svg.line(0.0, 10.0, 40.0, 10.0, "#000000", 2.0);
        let png = to_png(&svg.finish(), 1.0).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
