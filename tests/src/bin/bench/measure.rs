//! What every suite shares: options, the median-of-3 rate, Python pottery's rate, the table.

use pottery_tests::{python, workspace_root, Server};
use std::process::Command;
use std::time::Instant;

/// Command-line options common to every suite.
pub struct Options {
    /// Which CPUs the servers and the clients run on.
    pub placement: Placement,
    /// Operations per run.
    pub count: usize,
    /// `--pipeline`: requests in flight per `redis-benchmark` connection (`-P`), where a suite
    /// drives `redis-benchmark` pipelined.
    pub pipeline: usize,
}

/// Which CPUs the servers and the clients run on. Loopback round trips on a small VM vary a
/// lot with where the scheduler puts each process; fixing the CPUs gives steadier numbers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Wherever the scheduler puts them.
    Free,
    /// `--pinned`: servers and clients on CPU 0, so nothing runs in parallel.
    Pinned,
    /// `--split`: servers on CPU 1, clients on CPU 0, as with clients and servers on different
    /// machines (requests to several servers overlap with the client's own work).
    Split,
}

impl Options {
    /// The CPU the servers are pinned to, if any.
    pub fn server_cpu(&self) -> Option<usize> {
        match self.placement {
            Placement::Free => None,
            Placement::Pinned => Some(0),
            Placement::Split => Some(1),
        }
    }

    /// Whether the clients (this process and the ones it starts) run on CPU 0.
    pub fn clients_pinned(&self) -> bool {
        self.placement != Placement::Free
    }

    /// The placement, as the tables' headings say it.
    pub fn placement_note(&self) -> &'static str {
        match self.placement {
            Placement::Free => "",
            Placement::Pinned => ", pinned to CPU 0",
            Placement::Split => ", servers on CPU 1 and clients on CPU 0",
        }
    }

    /// A command for a client program (Python pottery, `redis-benchmark`), on CPU 0 when the
    /// clients are pinned.
    pub fn client_command(&self, program: &str) -> Command {
        if self.clients_pinned() {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", "0", program]);
            taskset
        } else {
            Command::new(program)
        }
    }
}

pub fn exit_with(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

pub fn pin_to_cpu_zero() {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; we pass its exact size.
    let pinned = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if pinned != 0 {
        exit_with("could not pin the benchmark to CPU 0");
    }
}

pub fn start_servers(n: usize, options: &Options) -> Vec<Server> {
    let mut builder = Server::builder();
    if let Some(cpu) = options.server_cpu() {
        builder = builder.cpu(cpu);
    }
    builder.start_many(n)
}

/// Runs `operation` `count` times per run after a warm-up, 3 runs; the median rate per second.
pub fn median_rate(count: usize, operation: impl FnMut()) -> f64 {
    let mut run = timed_runs(count, operation);
    let mut rates: Vec<f64> = (0..3).map(|_| run()).collect();
    median(&mut rates)
}

/// One run of `operation` repeated `count` times, as a rate per second; the first call warms
/// up first. A case for [`median_rates_interleaved`].
pub fn timed_runs(count: usize, mut operation: impl FnMut()) -> impl FnMut() -> f64 {
    let mut warm = false;
    move || {
        if !warm {
            for _ in 0..count / 10 + 1 {
                operation();
            }
            warm = true;
        }
        let started = Instant::now();
        for _ in 0..count {
            operation();
        }
        count as f64 / started.elapsed().as_secs_f64()
    }
}

/// A case for [`median_rates_interleaved`]: each call is one run and returns its rate.
pub type Runs<'a> = Box<dyn FnMut() -> f64 + 'a>;

/// The median of 3 runs of each case (each call of a case is one run and returns its rate),
/// with the runs interleaved: run 1 of every case, then run 2 of every case, then run 3. A
/// drift of the machine's speed during the measurement (loopback round trips on a small VM
/// swing a lot) then falls on every case alike, and their ratios stay fair.
pub fn median_rates_interleaved(cases: &mut [Runs<'_>]) -> Vec<f64> {
    let mut rates = vec![Vec::with_capacity(3); cases.len()];
    for _ in 0..3 {
        for (case, case_rates) in cases.iter_mut().zip(&mut rates) {
            case_rates.push(case());
        }
    }
    rates
        .iter_mut()
        .map(|case_rates| median(case_rates))
        .collect()
}

/// The median of `rates` (the upper one of the middle two for an even count).
pub fn median(rates: &mut [f64]) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates.get(rates.len() / 2).copied().unwrap_or(0.0)
}

/// Python pottery's rate for the same work on the same servers: the median of the runs it
/// reports (3 unless the suite asks its script for another number).
pub fn pottery_rate(script: &str, mode_args: &[String], options: &Options) -> f64 {
    let python = python();
    let script = workspace_root().join("tests/python").join(script);
    let mut command = options.client_command(&python);
    let output = command
        .arg(&script)
        .args(mode_args)
        .output()
        .unwrap_or_else(|error| {
            exit_with(&format!(
                "cannot run {python}: {error} (run scripts/bench, which creates the venv)"
            ))
        });
    if !output.status.success() {
        exit_with(&format!(
            "Python pottery failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut rates: Vec<f64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("rate ")?.parse().ok())
        .collect();
    if rates.is_empty() {
        exit_with("Python pottery printed no rates");
    }
    median(&mut rates)
}

pub struct Row {
    /// What was measured.
    pub case: String,
    /// Masters (servers) involved.
    pub masters: usize,
    /// Calls per second, median of 3 runs.
    pub calls_per_second: f64,
    /// Items (IDs, elements) per call; 0 for a baseline without items.
    pub ids_per_call: usize,
}

pub fn print_table(suite: &str, options: &Options, rows: &[Row]) {
    let pottery = |masters: usize| {
        rows.iter()
            .find(|row| row.case.starts_with("Python pottery") && row.masters == masters)
            .map(|row| row.calls_per_second)
    };
    let floor = rows
        .iter()
        .find(|row| row.case.starts_with("PING"))
        .map(|row| row.calls_per_second);
    println!(
        "\n{suite}: one sequential client, warm, median of 3 runs{}\n",
        options.placement_note()
    );
    println!("| case | masters | calls/s | IDs/s | vs pottery (same masters) | vs PING |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in rows {
        let ids = row.calls_per_second * row.ids_per_call as f64;
        let versus_pottery = match (pottery(row.masters), row.ids_per_call) {
            (Some(python), 1..) => format!("{:.1}x", ids / python),
            _ => "".into(),
        };
        let versus_ping = floor
            .map(|ping| format!("{:.2}", row.calls_per_second / ping))
            .unwrap_or_default();
        println!(
            "| {} | {} | {:.0} | {} | {} | {} |",
            row.case,
            row.masters,
            row.calls_per_second,
            if row.ids_per_call == 0 {
                String::new()
            } else {
                format!("{ids:.0}")
            },
            versus_pottery,
            versus_ping
        );
    }
}

/// `redis-benchmark -c 1` for one command on `server`: requests per second in one run of
/// `count` requests, pinned to CPU 0 with the rest when `options.pinned`.
pub fn redis_benchmark_rate(
    server: &Server,
    command: &[&str],
    count: usize,
    options: &Options,
) -> f64 {
    let mut process = options.client_command("redis-benchmark");
    let output = process
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-c", "1", "-n", &count.to_string(), "--csv"])
        .args(command)
        .output()
        .unwrap_or_else(|error| exit_with(&format!("cannot run redis-benchmark: {error}")));
    // CSV: a header line, then "<command>","<requests per second>",...
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|line| line.split("\",\"").nth(1))
        .and_then(|rate| rate.trim_matches('"').parse().ok())
        .unwrap_or_else(|| exit_with("redis-benchmark printed no rate"))
}

/// One operation measured three ways: ours, Python pottery's, and (for operations that are
/// one Redis command) `redis-benchmark -c 1` running that command.
pub struct ComparisonRow {
    /// What was measured.
    pub case: String,
    /// Our operations per second.
    pub ours: f64,
    /// Python pottery's operations per second.
    pub pottery: f64,
    /// `redis-benchmark -c 1` for the same command, when the operation is one command.
    pub native: Option<f64>,
    /// Least `ours / pottery` the operation must reach.
    pub pottery_target: f64,
    /// Least `ours / native` the operation must reach (1 / 1.3 for "within 1.3x").
    pub native_target: f64,
}

pub fn print_comparison(suite: &str, options: &Options, rows: &[ComparisonRow]) {
    println!(
        "\n{suite}: one sequential client, warm, median of 3 runs{}\n",
        options.placement_note()
    );
    println!("| case | pottery-rs ops/s | pottery ops/s | vs pottery | redis-benchmark -c 1 ops/s | vs redis-benchmark | target | met |");
    println!("|---|---:|---:|---:|---:|---:|---|---|");
    for row in rows {
        let versus_pottery = row.ours / row.pottery;
        let versus_native = row.native.map(|native| row.ours / native);
        let met = versus_pottery >= row.pottery_target
            && versus_native.is_none_or(|ratio| ratio >= row.native_target);
        let target = match row.native {
            Some(_) => format!(
                ">= {:.1}x pottery, >= {:.2}x redis-benchmark",
                row.pottery_target, row.native_target
            ),
            None => format!(">= {:.1}x pottery", row.pottery_target),
        };
        println!(
            "| {} | {:.0} | {:.0} | {:.1}x | {} | {} | {} | {} |",
            row.case,
            row.ours,
            row.pottery,
            versus_pottery,
            row.native.map(|n| format!("{n:.0}")).unwrap_or_default(),
            versus_native
                .map(|r| format!("{r:.2}x"))
                .unwrap_or_default(),
            target,
            if met { "yes" } else { "NO" }
        );
    }
}
