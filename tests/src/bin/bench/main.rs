//! `scripts/bench <suite>`: measures ours beside the alternatives on the same servers in one
//! run, and prints rates and ratios. One sequential client, warm, median of 3 runs.

mod containers;
mod faces;
mod handoff;
mod lists;
mod lock;
mod measure;
mod nextid;
mod probabilistic;

use measure::{exit_with, pin_to_cpu_zero, Options, Placement};

const USAGE: &str =
    "usage: bench nextid|lock|handoff|containers|lists|probabilistic|async [--pinned | --split] [--count N]";

fn main() {
    let mut args = std::env::args().skip(1);
    let suite = args.next().unwrap_or_default();
    let mut options = Options {
        placement: Placement::Free,
        count: 2000,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pinned" => options.placement = Placement::Pinned,
            "--split" => options.placement = Placement::Split,
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
    if options.clients_pinned() {
        pin_to_cpu_zero();
    }
    match suite.as_str() {
        "nextid" => nextid::run(&options),
        "probabilistic" => probabilistic::run(&options),
        "lists" => lists::run(&options),
        "lock" => lock::run(&options),
        "handoff" => handoff::run(&options),
        "containers" => containers::run(&options),
        "async" => faces::run(&options),
        _ => exit_with(USAGE),
    }
}
