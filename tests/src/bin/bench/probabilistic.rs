//! `bench probabilistic`: the module's Bloom filter and HyperLogLog membership.
//!
//! 1. Server-bound: `redis-benchmark -P 32 -c 50` for PING, SET, POTTERY.BF.ADD and
//!    POTTERY.BF.EXISTS on one server in one run; target BF.ADD ≥ 70% of SET.
//! 2. One sequential client: the module's commands beside Python pottery's `BloomFilter.add`,
//!    `in BloomFilter` and `in HyperLogLog` on the same server; target ≥ 3x pottery.
//! 3. Memory: bits per item of filters at capacity beside −ln p / ln²2.

use crate::measure::{exit_with, median_rate, pottery_rate, start_servers, Options};
use pottery::{BloomFilter, HyperLogLog};
use pottery_tests::Server;
use std::process::Command;

/// Requests per second of one `redis-benchmark` run: `-P 32 -c 50`, random 12-digit values.
fn redis_benchmark(server: &Server, requests: usize, command: &[&str]) -> f64 {
    redis_benchmark_over(server, requests, 1_000_000_000, command)
}

/// [`redis_benchmark`] with `__rand_int__` drawn from `0..range` (`-r range`).
pub(crate) fn redis_benchmark_over(
    server: &Server,
    requests: usize,
    range: u64,
    command: &[&str],
) -> f64 {
    let output = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-P", "32", "-c", "50", "-r", &range.to_string(), "--csv"])
        .args(["-n", &requests.to_string()])
        .args(command)
        .output()
        .unwrap_or_else(|error| exit_with(&format!("cannot run redis-benchmark: {error}")));
    let text = String::from_utf8_lossy(&output.stdout);
    // CSV: a header line, then "test","rps",...; the rps of the last test line.
    text.lines()
        .skip(1)
        .filter_map(|line| {
            line.split(',')
                .nth(1)?
                .trim_matches('"')
                .parse::<f64>()
                .ok()
        })
        .last()
        .unwrap_or_else(|| exit_with(&format!("redis-benchmark printed no rate:\n{text}")))
}

fn median_of_3(mut measure: impl FnMut() -> f64) -> f64 {
    let mut rates = [measure(), measure(), measure()];
    rates.sort_by(f64::total_cmp);
    rates[1]
}

fn server_bound(server: &Server, options: &Options) {
    let requests = options.count * 100;
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "bench:bf", "0.01", "10000000"])
        .expect("RESERVE");
    let cases: [(&str, Vec<&str>); 4] = [
        ("PING", vec!["PING"]),
        (
            "SET key value",
            vec!["SET", "bench:key:__rand_int__", "__rand_int__"],
        ),
        (
            "POTTERY.BF.ADD",
            vec!["POTTERY.BF.ADD", "bench:bf", "item:__rand_int__"],
        ),
        (
            "POTTERY.BF.EXISTS",
            vec!["POTTERY.BF.EXISTS", "bench:bf", "item:__rand_int__"],
        ),
    ];
    let rates: Vec<(&str, f64)> = cases
        .iter()
        .map(|(name, command)| {
            (
                *name,
                median_of_3(|| redis_benchmark(server, requests, command)),
            )
        })
        .collect();
    let set = rates[1].1;
    println!(
        "\nserver-bound: redis-benchmark -P 32 -c 50 -n {requests}, median of 3{}\n",
        options.placement_note()
    );
    println!("| command | requests/s | vs SET |");
    println!("|---|---:|---:|");
    for (name, rate) in &rates {
        println!("| {name} | {rate:.0} | {:.2} |", rate / set);
    }
    let add = rates[2].1 / set;
    println!(
        "\nBF.ADD at {:.0}% of SET (target at least 70%): {}",
        add * 100.0,
        if add >= 0.7 { "met" } else { "NOT met" }
    );
}

/// Ours with one sequential client, beside Python pottery on the same server.
fn sequential(server: &Server, options: &Options) {
    let count = options.count;
    let mut connection = server.connection();
    let capacity = (10 * (count * 4 + 200)).to_string();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "bench:seq:add", "0.01", &capacity])
        .expect("RESERVE");
    let _: () = server
        .cmd(&[
            "POTTERY.BF.RESERVE",
            "bench:seq:contains",
            "0.01",
            &capacity,
        ])
        .expect("RESERVE");
    // Items as pottery stores them: JSON strings. Half of the probes were added.
    let mut added = 0usize;
    for n in (0..count * 4).step_by(2) {
        let item = format!("\"item-{n}\"");
        let _: i64 = redis::cmd("POTTERY.BF.ADD")
            .arg("bench:seq:contains")
            .arg(&item)
            .query(&mut connection)
            .expect("ADD");
        let _: i64 = redis::cmd("PFADD")
            .arg("bench:seq:hll")
            .arg(&item)
            .query(&mut connection)
            .expect("PFADD");
        added += 1;
    }
    assert!(added > 0);
    let mut next = 0usize;
    let mut item = || {
        next += 1;
        format!("\"item-{}\"", next % (count * 4))
    };
    let ours_add = median_rate(count, || {
        let _: i64 = redis::cmd("POTTERY.BF.ADD")
            .arg("bench:seq:add")
            .arg(item())
            .query(&mut connection)
            .expect("ADD");
    });
    let ours_contains = median_rate(count, || {
        let _: i64 = redis::cmd("POTTERY.BF.EXISTS")
            .arg("bench:seq:contains")
            .arg(item())
            .query(&mut connection)
            .expect("EXISTS");
    });
    let ours_hll = median_rate(count, || {
        let _: Vec<i64> = redis::cmd("POTTERY.HLL.CONTAINS")
            .arg("bench:seq:hll")
            .arg(item())
            .query(&mut connection)
            .expect("CONTAINS");
    });
    let ping = median_rate(count, || {
        let _: String = redis::cmd("PING").query(&mut connection).expect("PING");
    });
    let worker_args = |mode: &str| {
        vec![
            mode.to_string(),
            "--port".into(),
            server.port().to_string(),
            "--count".into(),
            count.to_string(),
        ]
    };
    let script = "probabilistic_worker.py";
    // The client types over the same keys: JSON encoding and one round trip per call.
    let client_add: BloomFilter<String> =
        BloomFilter::open(server.url(), "bench:client:add", (count * 40) as u64, 0.01)
            .expect("BloomFilter");
    let client_contains: BloomFilter<String> = BloomFilter::open(
        server.url(),
        "bench:client:contains",
        (count * 40) as u64,
        0.01,
    )
    .expect("BloomFilter");
    client_contains
        .extend((0..count * 4).step_by(2).map(|n| format!("item-{n}")))
        .expect("extend");
    let client_hll: HyperLogLog<String> =
        HyperLogLog::open(server.url(), "bench:client:hll").expect("HyperLogLog");
    client_hll
        .extend((0..count * 4).step_by(2).map(|n| format!("item-{n}")))
        .expect("extend");
    let mut next = 0usize;
    let mut element = || {
        next += 1;
        format!("item-{}", next % (count * 4))
    };
    let rust_add = median_rate(count, || {
        client_add.add(&element()).expect("add");
    });
    let rust_contains = median_rate(count, || {
        client_contains.contains(&element()).expect("contains");
    });
    let rust_hll = median_rate(count, || {
        client_hll.contains(&element()).expect("contains");
    });
    let pottery_add = pottery_rate(script, &worker_args("bloom-add"), options);
    let pottery_contains = pottery_rate(script, &worker_args("bloom-contains"), options);
    let pottery_hll = pottery_rate(script, &worker_args("hll-contains"), options);
    let rows = [
        (
            "Bloom add",
            "POTTERY.BF.ADD",
            ours_add,
            "BloomFilter.add",
            pottery_add,
        ),
        (
            "Bloom add",
            "pottery-rs BloomFilter::add",
            rust_add,
            "BloomFilter.add",
            pottery_add,
        ),
        (
            "Bloom contains",
            "POTTERY.BF.EXISTS",
            ours_contains,
            "x in BloomFilter",
            pottery_contains,
        ),
        (
            "Bloom contains",
            "pottery-rs BloomFilter::contains",
            rust_contains,
            "x in BloomFilter",
            pottery_contains,
        ),
        (
            "HLL contains",
            "POTTERY.HLL.CONTAINS",
            ours_hll,
            "x in HyperLogLog",
            pottery_hll,
        ),
        (
            "HLL contains",
            "pottery-rs HyperLogLog::contains",
            rust_hll,
            "x in HyperLogLog",
            pottery_hll,
        ),
    ];
    println!(
        "\none sequential client, warm, median of 3 runs of {count}{}; PING floor {ping:.0}/s\n",
        options.placement_note()
    );
    println!("| operation | ours | ours/s | Python pottery | pottery/s | ratio (target 3x) |");
    println!("|---|---|---:|---|---:|---:|");
    for (operation, ours_name, ours, theirs_name, theirs) in rows {
        println!(
            "| {operation} | {ours_name} | {ours:.0} | {theirs_name} | {theirs:.0} | {:.1}x |",
            ours / theirs
        );
    }
}

/// Bits per item of filters filled to their capacity (or 8x the initial one), beside the
/// formula −n·ln p / ln²2 summed over the sub-filters the filter has, per item added.
fn memory(server: &Server) {
    let mut connection = server.connection();
    println!("\nmemory: bits per item added (INFO Size x 8 / items), beside the formula\n");
    println!("| filter | items added | sub-filters | Size bytes | bits/item | formula bits/item |");
    println!("|---|---:|---:|---:|---:|---:|");
    let ln2_squared = std::f64::consts::LN_2.powi(2);
    // (name, error rate, initial capacity, extra RESERVE words, items to add)
    let cases: [(&str, f64, usize, &[&str], usize); 4] = [
        ("NONSCALING p=0.01", 0.01, 100_000, &["NONSCALING"], 100_000),
        (
            "NONSCALING p=0.001",
            0.001,
            100_000,
            &["NONSCALING"],
            100_000,
        ),
        ("scaling p=0.01 at 1x", 0.01, 100_000, &[], 100_000),
        ("scaling p=0.01 at 8x", 0.01, 12_500, &[], 100_000),
    ];
    for (number, (name, rate, capacity, extra, items)) in cases.iter().enumerate() {
        let key = format!("bench:memory:{number}");
        let mut reserve = redis::cmd("POTTERY.BF.RESERVE");
        reserve
            .arg(&key)
            .arg(rate.to_string())
            .arg(*capacity)
            .arg(*extra);
        let _: () = reserve.query(&mut connection).expect("RESERVE");
        for batch in (0..*items).collect::<Vec<_>>().chunks(5000) {
            let _: redis::Value = redis::cmd("POTTERY.BF.MADD")
                .arg(&key)
                .arg(batch)
                .query(&mut connection)
                .expect("MADD");
        }
        let mut info = |field: &str| -> i64 {
            let values: Vec<i64> = redis::cmd("POTTERY.BF.INFO")
                .arg(&key)
                .arg(field)
                .query(&mut connection)
                .expect("INFO");
            values[0]
        };
        let (size, filters) = (info("SIZE"), info("FILTERS"));
        let scaling = extra.is_empty();
        let formula_bits: f64 = (0..filters)
            .map(|i| {
                let (n, p) = if scaling {
                    (
                        *capacity as f64 * 2f64.powi(i as i32),
                        rate * 0.5f64.powi(i as i32 + 1),
                    )
                } else {
                    (*capacity as f64, *rate)
                };
                -n * p.ln() / ln2_squared
            })
            .sum();
        println!(
            "| {name} | {items} | {filters} | {size} | {:.2} | {:.2} |",
            size as f64 * 8.0 / *items as f64,
            formula_bits / *items as f64
        );
    }
}

pub fn run(options: &Options) {
    let servers = start_servers(1, options);
    let server = &servers[0];
    server_bound(server, options);
    sequential(server, options);
    memory(server);
}
