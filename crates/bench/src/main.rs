//! `synack-bench [--json] [--quick | --tiny]`: see the crate documentation.

use synack_bench::{alloc::Counting, Size};

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let mut json = false;
    let mut size = Size::Full;
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => only = args.next(),
            "--json" => json = true,
            "--quick" => size = Size::Quick,
            "--tiny" => size = Size::Tiny,
            "-h" | "--help" => {
                println!("usage: synack-bench [--json] [--quick | --tiny] [--only PIECE]");
                return;
            }
            other => {
                eprintln!(
                    "unknown argument {other}; usage: synack-bench [--json] [--quick | --tiny] [--only PIECE]"
                );
                std::process::exit(2);
            }
        }
    }
    assert!(
        synack_bench::alloc::counting(),
        "counting allocator not installed"
    );
    if let Some(what) = only {
        if !synack_bench::profile(size, &what) {
            eprintln!("--only takes synack-1500, synack-65535, smoltcp-1500, smoltcp-65535 (each also with -inplace), cycles, cycles-0, cycles-idle, smoltcp-cycles-0 or flows");
            std::process::exit(2);
        }
        return;
    }
    let results = synack_bench::run(size);
    if json {
        // The table goes to stderr too, so one run gives both.
        eprint!("{}", results.table());
        println!("{}", results.to_json());
    } else {
        print!("{}", results.table());
    }
}
