//! `scripts/fuzz [--commands N] [--seed S]`: random `POTTERY.*` commands against a fresh server
//! with the module; exits non-zero if the server fails, stops answering or grows without bound.

use pottery_tests::fuzz::{fuzz, FuzzOptions};
use pottery_tests::Server;
use std::time::Instant;

fn main() {
    let mut options = FuzzOptions {
        seed: rand::random(),
        ..FuzzOptions::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let number = args.next().and_then(|n| n.replace('_', "").parse().ok());
        match (arg.as_str(), number) {
            ("--commands", Some(n)) => options.commands = n,
            ("--seed", Some(n)) => options.seed = n,
            _ => {
                eprintln!("usage: fuzz [--commands N] [--seed S]");
                std::process::exit(2);
            }
        }
    }
    let server = Server::start();
    let started = Instant::now();
    eprintln!(
        "fuzzing with {} commands, seed {}",
        options.commands, options.seed
    );
    match fuzz(&server, &options) {
        Ok(report) => {
            println!(
                "{} commands in {:.1} s: {} values, {} errors; peak used_memory {} bytes; seed {}",
                report.commands,
                started.elapsed().as_secs_f64(),
                report.commands - report.errors,
                report.errors,
                report.peak_memory,
                options.seed
            );
            for (name, (values, errors)) in &report.per_command {
                println!("  {name:<28} {values:>9} values {errors:>9} errors");
            }
        }
        Err(problem) => {
            eprintln!("FAILED: {problem}");
            std::process::exit(1);
        }
    }
}
