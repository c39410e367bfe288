//! `scripts/bench <suite>`: measures ours beside the alternatives on the same servers in one
//! run, and prints rates and ratios. One sequential client, warm, median of 3 runs.

use pottery::NextId;
use pottery_tests::{workspace_root, Server};
use std::process::Command;
use std::time::Instant;

const USAGE: &str = "usage: bench nextid [--pinned] [--count N]";

struct Options {
    pinned: bool,
    count: usize,
}

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
        "nextid" => nextid(&options),
        _ => exit_with(USAGE),
    }
}

fn exit_with(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

fn pin_to_cpu_zero() {
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

fn start_servers(n: usize, options: &Options) -> Vec<Server> {
    let mut builder = Server::builder();
    if options.pinned {
        builder = builder.cpu(0);
    }
    builder.start_many(n)
}

/// Runs `operation` `count` times per run after a warm-up, 3 runs; the median rate per second.
fn median_rate(count: usize, mut operation: impl FnMut()) -> f64 {
    for _ in 0..count / 10 + 1 {
        operation();
    }
    let mut rates: Vec<f64> = (0..3)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..count {
                operation();
            }
            count as f64 / started.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[1]
}

/// Python pottery's rate for the same work on the same servers: median of its 3 runs.
fn pottery_rate(mode_args: &[String], options: &Options) -> f64 {
    let python = std::env::var("POTTERY_PYTHON").unwrap_or_else(|_| {
        workspace_root()
            .join(".venv/bin/python")
            .display()
            .to_string()
    });
    let script = workspace_root().join("tests/python/nextid_worker.py");
    let mut command = if options.pinned {
        let mut taskset = Command::new("taskset");
        taskset.args(["-c", "0", &python]);
        taskset
    } else {
        Command::new(&python)
    };
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
    if rates.len() != 3 {
        exit_with("Python pottery printed no rates");
    }
    rates.sort_by(f64::total_cmp);
    rates[1]
}

struct Row {
    case: String,
    masters: usize,
    calls_per_second: f64,
    ids_per_call: usize,
}

fn nextid(options: &Options) {
    let servers = start_servers(5, options);
    let ports: Vec<String> = servers.iter().map(|s| s.port().to_string()).collect();
    let count = options.count;
    let mut rows = Vec::new();

    let mut connection = servers[0].connection();
    rows.push(Row {
        case: "PING, one connection (floor)".into(),
        masters: 1,
        calls_per_second: median_rate(count, || {
            let _: String = redis::cmd("PING").query(&mut connection).expect("PING");
        }),
        ids_per_call: 0,
    });
    rows.push(Row {
        case: "POTTERY.NEXTID, one connection".into(),
        masters: 1,
        calls_per_second: median_rate(count, || {
            let _: i64 = redis::cmd("POTTERY.NEXTID")
                .arg("bench:raw")
                .query(&mut connection)
                .expect("POTTERY.NEXTID");
        }),
        ids_per_call: 1,
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    for masters in [1, 5] {
        let urls: Vec<String> = servers[..masters].iter().map(Server::url).collect();
        let name = format!("bench-{masters}");
        let mut ids = NextId::builder()
            .name(name.as_str())
            .masters(urls.clone())
            .build()
            .expect("NextId");
        rows.push(Row {
            case: "pottery-rs NextId::next_id (sync)".into(),
            masters,
            calls_per_second: median_rate(count, || {
                ids.next_id().expect("next_id");
            }),
            ids_per_call: 1,
        });
        rows.push(Row {
            case: "pottery-rs NextId::next_ids(100) (sync)".into(),
            masters,
            calls_per_second: median_rate(count / 4, || {
                ids.next_ids(100).expect("next_ids");
            }),
            ids_per_call: 100,
        });
        let mut async_ids = runtime
            .block_on(
                NextId::builder()
                    .name(name.as_str())
                    .masters(urls)
                    .build_async(),
            )
            .expect("AsyncNextId");
        rows.push(Row {
            case: "pottery-rs AsyncNextId::next_id".into(),
            masters,
            calls_per_second: median_rate(count, || {
                runtime.block_on(async_ids.next_id()).expect("next_id");
            }),
            ids_per_call: 1,
        });
        rows.push(Row {
            case: "pottery-rs AsyncNextId::next_ids(100)".into(),
            masters,
            calls_per_second: median_rate(count / 4, || {
                runtime.block_on(async_ids.next_ids(100)).expect("next_ids");
            }),
            ids_per_call: 100,
        });
        let python_count = (count / 4).max(50);
        rows.push(Row {
            case: "Python pottery 3.0.1 NextID".into(),
            masters,
            calls_per_second: pottery_rate(
                &[
                    "bench".into(),
                    "--ports".into(),
                    ports[..masters].join(","),
                    "--name".into(),
                    format!("bench-py-{masters}"),
                    "--count".into(),
                    python_count.to_string(),
                ],
                options,
            ),
            ids_per_call: 1,
        });
    }
    print_table("nextid", options, &rows);
}

fn print_table(suite: &str, options: &Options, rows: &[Row]) {
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
        if options.pinned {
            ", pinned to CPU 0"
        } else {
            ""
        }
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
