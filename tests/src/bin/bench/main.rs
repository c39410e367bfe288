//! `scripts/bench <suite>`: measures ours beside the alternatives on the same servers in one
//! run, and prints rates and ratios. One sequential client, warm, median of 3 runs.

mod containers;
mod lists;
mod measure;
mod nextid;

use measure::{exit_with, pin_to_cpu_zero, Options};

const USAGE: &str = "usage: bench nextid|containers|lists [--pinned] [--count N]";

fn main() {
    let mut args = std::env::args().skip(1);
    let suite = args.next().unwrap_or_default();
    let mut options = Options {
        pinned: false,
        count: 2000,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pinned" => options.pinned = true,
            "--count" => {
                options.count = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| exit_with(USAGE))
            }
            _ => exit_with(USAGE),
        }
    }
    if options.pinned {
        pin_to_cpu_zero();
    }
    match suite.as_str() {
        "nextid" => nextid::run(&options),
        "containers" => containers::run(&options),
        "lists" => lists::run(&options),
        _ => exit_with(USAGE),
    }
}
