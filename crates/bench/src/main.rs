//! `synack-bench [--json] [--quick | --tiny]`: see the crate documentation.

use synack_bench::{alloc::Counting, Size};

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let mut json = false;
    let mut size = Size::Full;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json = true,
            "--quick" => size = Size::Quick,
            "--tiny" => size = Size::Tiny,
            "-h" | "--help" => {
                println!("usage: synack-bench [--json] [--quick | --tiny]");
                return;
            }
            other => {
                eprintln!(
                    "unknown argument {other}; usage: synack-bench [--json] [--quick | --tiny]"
                );
                std::process::exit(2);
            }
        }
    }
    assert!(
        synack_bench::alloc::counting(),
        "counting allocator not installed"
    );
    let results = synack_bench::run(size);
    if json {
        println!("{}", results.to_json());
    } else {
        print!("{}", results.table());
    }
}
