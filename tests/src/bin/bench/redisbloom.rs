//! `bench bloom-vs-redisbloom`: `POTTERY.BF.ADD` and `POTTERY.BF.EXISTS` beside RedisBloom's
//! `BF.ADD` and `BF.EXISTS`, both modules loaded into one server, each on its own filter that
//! the first `ADD` creates with the shared defaults (0.01, 100 items, expansion 2), so that
//! both chains grow alike as the rounds add items. `redis-benchmark -r` so that the items
//! differ, `-P` (`--pipeline`, default 16) and `-c 4`; five rounds, the two modules
//! alternating which goes first, so that a drift of the machine falls on both. Target: ours at
//! least 1.05x RedisBloom on both commands, as the median of the rounds' ratios. Also printed:
//! the server's CPU time per request (`/proc/<pid>/schedstat` of its main thread) and Redis's
//! own time per call (`INFO commandstats`), which leave out the client's share of a shared CPU
//! and the other processes of a busy machine.
//!
//! RedisBloom is `pottery_tests::redisbloom_path()` (`scripts/bench` provides it).

use crate::measure::{exit_with, Options};
use pottery_tests::{redisbloom_path, Server};

const ROUNDS: usize = 5;
const TARGET: f64 = 1.05;

/// Nanoseconds the server's main thread (where commands run) has spent on a CPU, from
/// `/proc/<pid>/schedstat`: unlike wall-clock time, it leaves out the other processes of a busy
/// machine and the client's share of a shared CPU.
fn server_cpu_ns(server: &Server) -> f64 {
    std::fs::read_to_string(format!("/proc/{}/schedstat", server.pid()))
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// One `redis-benchmark` run of `command`: requests per second, and the server's CPU
/// nanoseconds per request.
fn rate(server: &Server, options: &Options, requests: usize, command: &[&str]) -> (f64, f64) {
    let cpu_before = server_cpu_ns(server);
    let output = options
        .client_command("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-c", "4", "-r", "100000000", "--csv"])
        .args(["-P", &options.pipeline.to_string()])
        .args(["-n", &requests.to_string()])
        .args(command)
        .output()
        .unwrap_or_else(|error| exit_with(&format!("cannot run redis-benchmark: {error}")));
    let cpu = (server_cpu_ns(server) - cpu_before) / requests as f64;
    let text = String::from_utf8_lossy(&output.stdout);
    // CSV: a header line, then "test","rps",...
    let rate = text
        .lines()
        .nth(1)
        .and_then(|line| line.split(',').nth(1))
        .and_then(|rate| rate.trim_matches('"').parse().ok())
        .unwrap_or_else(|| exit_with(&format!("redis-benchmark printed no rate:\n{text}")));
    (rate, cpu)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn run(options: &Options) {
    let Some(redisbloom) = redisbloom_path() else {
        exit_with(
            "no redisbloom.so: set POTTERY_REDISBLOOM or run scripts/bench, which installs it",
        )
    };
    let mut builder = Server::builder().arg("--loadmodule").arg(redisbloom);
    if let Some(cpu) = options.server_cpu() {
        builder = builder.cpu(cpu);
    }
    let server = builder.start();
    let requests = options.count * 100;
    println!(
        "\nPOTTERY.BF.* beside RedisBloom's BF.* in one server: redis-benchmark -c 4 -P {} -r \
         -n {requests}, {ROUNDS} rounds{}\n",
        options.pipeline,
        options.placement_note()
    );
    println!(
        "| round | command | RedisBloom req/s | pottery req/s | ours / RedisBloom | server ns/req RedisBloom | pottery | RedisBloom / ours |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut verdicts = Vec::new();
    for command in ["ADD", "EXISTS"] {
        let theirs = [
            format!("BF.{command}"),
            "rb".to_owned(),
            "__rand_int__".to_owned(),
        ];
        let ours = [
            format!("POTTERY.BF.{command}"),
            "pt".to_owned(),
            "__rand_int__".to_owned(),
        ];
        let (mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            let measure = |words: &[String]| {
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                rate(&server, options, requests, &words)
            };
            let (theirs, ours) = if round % 2 == 1 {
                let theirs = measure(&theirs);
                (theirs, measure(&ours))
            } else {
                let ours = measure(&ours);
                (measure(&theirs), ours)
            };
            let (ratio, cpu_ratio) = (ours.0 / theirs.0, theirs.1 / ours.1);
            ratios.push(ratio);
            cpu_ratios.push(cpu_ratio);
            println!(
                "| {round} | {command} | {:.0} | {:.0} | {ratio:.3} | {:.0} | {:.0} | {cpu_ratio:.3} |",
                theirs.0, ours.0, theirs.1, ours.1
            );
        }
        verdicts.push((command, median(&mut ratios), median(&mut cpu_ratios)));
    }
    let stats = server.info("commandstats");
    // usec / calls: `usec_per_call` has two decimals only.
    let per_call = |command: &str| {
        let fields = pottery_tests::info_field(&stats, &format!("cmdstat_{command}"))?;
        let number = |name: &str| {
            fields
                .split(',')
                .find_map(|field| field.strip_prefix(name))
                .and_then(|value| value.parse::<f64>().ok())
        };
        Some(number("usec=")? / number("calls=")?)
    };
    println!("\nRedis's time per call (INFO commandstats, all rounds):\n");
    println!("| command | RedisBloom µs | pottery µs | RedisBloom / ours |");
    println!("|---|---:|---:|---:|");
    for command in ["add", "exists"] {
        if let (Some(theirs), Some(ours)) = (
            per_call(&format!("bf.{command}")),
            per_call(&format!("pottery.bf.{command}")),
        ) {
            println!(
                "| {command} | {theirs:.3} | {ours:.3} | {:.3} |",
                theirs / ours
            );
        }
    }
    println!();
    for (command, ratio, cpu_ratio) in verdicts {
        println!(
            "POTTERY.BF.{command} at {ratio:.3}x RedisBloom's BF.{command} in requests per \
             second and {cpu_ratio:.3}x in server CPU per request, medians of {ROUNDS} rounds \
             (target at least {TARGET}x): {}",
            if ratio >= TARGET { "met" } else { "NOT met" }
        );
    }
}
