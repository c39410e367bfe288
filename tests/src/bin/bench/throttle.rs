//! `bench throttle`: `POTTERY.THROTTLE` beside redis-cell's `CL.THROTTLE`, both loaded into
//! the same server, measured by `redis-benchmark -P 32 -c 50` over random keys, interleaved
//! (ours, theirs, three times), median of 3, with each command's server time per call from
//! `INFO commandstats`. Target: THROTTLE at least 1.0x `CL.THROTTLE`.
//!
//! redis-cell is built here from the sources of the `redis-cell` crate: a throwaway cargo
//! project that depends on it fetches them, they are copied to a temporary directory and built
//! with `cargo build --release` there. Nothing of it enters this repository. When it cannot be
//! fetched or built (offline, no compiler) the suite says so and measures nothing.

use crate::measure::{exit_with, median, Options};
use crate::probabilistic::redis_benchmark_over;
use pottery_tests::Server;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `max_burst count period`, redis-cell's README example.
const LIMIT: [&str; 3] = ["15", "30", "60"];

pub fn run(options: &Options) {
    let work =
        std::env::temp_dir().join(format!("pottery-bench-redis-cell-{}", std::process::id()));
    let built = build_redis_cell(&work);
    let cell = match built {
        Ok(path) => path,
        Err(problem) => {
            println!("bench throttle: skipped, redis-cell could not be built: {problem}");
            let _ = std::fs::remove_dir_all(&work);
            return;
        }
    };
    let mut builder = Server::builder();
    if let Some(cpu) = options.server_cpu() {
        builder = builder.cpu(cpu);
    }
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        builder.arg("--loadmodule").arg(&cell).start()
    }));
    let Ok(server) = started else {
        println!("bench throttle: skipped, redis-server did not start with redis-cell loaded");
        let _ = std::fs::remove_dir_all(&work);
        return;
    };
    check_shared_layout(&server);

    let requests = options.count * 100;
    let ours: Vec<&str> = [&["POTTERY.THROTTLE", "bench:ours:__rand_int__"][..], &LIMIT].concat();
    let theirs: Vec<&str> = [&["CL.THROTTLE", "bench:cell:__rand_int__"][..], &LIMIT].concat();
    println!(
        "\nredis-benchmark -P 32 -c 50 -n {requests}, interleaved (ours, theirs, 3 times), median of 3{}\n",
        options.placement_note()
    );
    println!(
        "| keys (-r) | CL.THROTTLE/s (redis-cell) | POTTERY.THROTTLE/s | ratio | CL.THROTTLE µs/call | POTTERY.THROTTLE µs/call | server time ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let (mut worst_rate, mut worst_time) = (f64::INFINITY, f64::INFINITY);
    // Mostly new keys (each request creates one), then 1000 hot keys (mostly refused).
    for range in [1_000_000_000u64, 1000] {
        let _: () = server
            .cmd(&["CONFIG", "RESETSTAT"])
            .unwrap_or_else(|error| exit_with(&format!("CONFIG RESETSTAT: {error}")));
        let (mut ours_rates, mut theirs_rates) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            ours_rates.push(redis_benchmark_over(&server, requests, range, &ours));
            theirs_rates.push(redis_benchmark_over(&server, requests, range, &theirs));
        }
        let ours_rate = median(&mut ours_rates);
        let theirs_rate = median(&mut theirs_rates);
        let ratio = ours_rate / theirs_rate;
        // The server's own CPU time per call (`INFO commandstats`): what the command costs,
        // whatever the clients competing for the CPUs do to the rates.
        let ours_time = usec_per_call(&server, "pottery.throttle");
        let theirs_time = usec_per_call(&server, "cl.throttle");
        let time_ratio = theirs_time / ours_time;
        worst_rate = worst_rate.min(ratio);
        worst_time = worst_time.min(time_ratio);
        println!(
            "| {range} | {theirs_rate:.0} | {ours_rate:.0} | {ratio:.2} | {theirs_time:.2} | {ours_time:.2} | {time_ratio:.2} |"
        );
    }
    let verdict = |ratio: f64| if ratio >= 1.0 { "met" } else { "NOT met" };
    println!(
        "\nTHROTTLE at {worst_rate:.2}x CL.THROTTLE's rate at worst (target at least 1.0x): {}",
        verdict(worst_rate)
    );
    println!(
        "THROTTLE's server time per call at worst {worst_time:.2}x faster than CL.THROTTLE's: {}",
        verdict(worst_time)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
}

/// `usec_per_call` of `command` in `INFO commandstats` since the last `CONFIG RESETSTAT`.
fn usec_per_call(server: &Server, command: &str) -> f64 {
    server
        .info_field("commandstats", &format!("cmdstat_{command}"))
        .and_then(|stats| {
            stats
                .split(',')
                .find_map(|part| part.strip_prefix("usec_per_call="))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or_else(|| exit_with(&format!("no commandstats for {command}")))
}

/// Each command continues a limit the other started on the same key: the layout is shared.
fn check_shared_layout(server: &Server) {
    let call = |command: &str, quantity: &str| -> Vec<i64> {
        server
            .cmd(&[command, "bench:shared", "9", "1", "3600", quantity])
            .unwrap_or_else(|error| exit_with(&format!("{command}: {error}")))
    };
    let first = call("CL.THROTTLE", "3");
    let second = call("POTTERY.THROTTLE", "2");
    let third = call("CL.THROTTLE", "1");
    let shared = first.get(2) == Some(&7) && second.get(2) == Some(&5) && third.get(2) == Some(&4);
    println!(
        "shared layout: CL.THROTTLE 3 -> remaining {:?}, POTTERY.THROTTLE 2 -> {:?}, CL.THROTTLE 1 -> {:?}: {}",
        first.get(2),
        second.get(2),
        third.get(2),
        if shared { "continued" } else { "NOT continued" }
    );
}

fn run_step(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|error| format!("{what}: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        Err(format!(
            "{what} failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ))
    }
}

/// Fetches the `redis-cell` crate's sources and builds them; the path of the built module.
fn build_redis_cell(work: &Path) -> Result<PathBuf, String> {
    let project = work.join("fetch");
    std::fs::create_dir_all(project.join("src")).map_err(|error| error.to_string())?;
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"fetch-redis-cell\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nredis-cell = \"0.2\"\n",
    )
    .map_err(|error| error.to_string())?;
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n")
        .map_err(|error| error.to_string())?;
    let manifest = project.join("Cargo.toml");
    let metadata = run_step(
        Command::new("cargo")
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(&manifest),
        "cargo metadata (fetching redis-cell)",
    )?;
    let sources = source_dir(&metadata)?;
    let copy = work.join("redis-cell");
    run_step(
        Command::new("cp").arg("-r").arg(&sources).arg(&copy),
        "copying the sources",
    )?;
    let target = work.join("target");
    run_step(
        Command::new("cargo")
            .args(["build", "--release", "--quiet", "--target-dir"])
            .arg(&target)
            .current_dir(&copy),
        "cargo build --release of redis-cell",
    )?;
    let library = target.join("release/libredis_cell.so");
    if library.is_file() {
        Ok(library)
    } else {
        Err(format!("no {}", library.display()))
    }
}

/// The directory of the `redis-cell` package in `cargo metadata`'s JSON (no JSON parser needed:
/// the manifest path is the one ending in `/redis-cell-<version>/Cargo.toml`).
fn source_dir(metadata: &str) -> Result<PathBuf, String> {
    metadata
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(Path::new)
        .find(|path| {
            path.parent()
                .and_then(Path::file_name)
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("redis-cell-"))
        })
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| "cargo metadata did not list redis-cell".to_string())
}
