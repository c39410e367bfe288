//! `scripts/bench <suite>`: measures ours beside the alternatives on the same servers in one
//! run, and prints rates and ratios. One sequential client, warm, median of 3 runs.

mod containers;
mod faces;
mod handoff;
mod lists;
mod lock;
mod measure;
mod modes;
mod modes_lists;
mod nextid;
mod probabilistic;
mod redisbloom;
mod synchronizers;
mod throttle;

use measure::{exit_with, pin_to_cpu_zero, Options, Placement};

const USAGE: &str =
    "usage: bench nextid|lock|handoff|synchronizers|containers|lists|modes|modes-lists|probabilistic|bloom-vs-redisbloom|throttle|async [--pinned | --split] [--count N] [--pipeline N]";

/// The value of `--count` or `--pipeline`: a positive integer, or the usage.
fn positive(value: Option<String>) -> usize {
    value
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| exit_with(USAGE))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let suite = args.next().unwrap_or_default();
    let mut options = Options {
        placement: Placement::Free,
        count: 2000,
        pipeline: 16,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pinned" => options.placement = Placement::Pinned,
            "--split" => options.placement = Placement::Split,
            "--count" => options.count = positive(args.next()),
            "--pipeline" => options.pipeline = positive(args.next()),
            _ => exit_with(USAGE),
        }
    }
    if options.clients_pinned() {
        pin_to_cpu_zero();
    }
    match suite.as_str() {
        "nextid" => nextid::run(&options),
        "probabilistic" => probabilistic::run(&options),
        "bloom-vs-redisbloom" => redisbloom::run(&options),
        "lists" => lists::run(&options),
        "modes-lists" => modes_lists::run(&options),
        "lock" => lock::run(&options),
        "synchronizers" => synchronizers::run(&options),
        "handoff" => handoff::run(&options),
        "containers" => containers::run(&options),
        "throttle" => throttle::run(&options),
        "async" => faces::run(&options),
        "modes" => modes::run(&options),
        _ => exit_with(USAGE),
    }
}
