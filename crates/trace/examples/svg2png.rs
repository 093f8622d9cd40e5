//! Rasterise an SVG file to PNG with synack-trace's renderer: `svg2png IN.svg OUT.png`.
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        eprintln!("usage: svg2png IN.svg OUT.png");
        std::process::exit(2);
    };
    let svg = std::fs::read_to_string(&input).expect("read the SVG");
    let png = synack_trace::svg::to_png(&svg, 1.0).expect("render");
    std::fs::write(&output, png).expect("write the PNG");
}
