//! `bench containers`: RedisDict, RedisSet and RedisCounter beside Python pottery 3.0.1's, on
//! one server in one run, and beside `redis-benchmark -c 1` for operations that are one Redis
//! command. Each case names the same operation on both sides (`tests/python/containers_worker.py`
//! implements pottery's side under the same case name); add a case by adding a `Case`.

use std::time::Instant;

use crate::measure::{
    median, pottery_rate, print_comparison, redis_benchmark_rate, start_servers, ComparisonRow,
    Options,
};
use pottery::{RedisCounter, RedisDict, RedisSet};

/// Operations that are one Redis command for us and for pottery must reach 1.5x pottery and
/// stay within 1.3x of `redis-benchmark -c 1`.
const ONE_COMMAND_VERSUS_POTTERY: f64 = 1.5;
const ONE_COMMAND_VERSUS_NATIVE: f64 = 1.0 / 1.3;
/// Operations pottery does in several round trips or O(n) transfers must reach 5x pottery.
const ROUND_TRIPS_VERSUS_POTTERY: f64 = 5.0;

struct Case<'a> {
    /// The case name, shared with the Python worker.
    name: &'static str,
    /// The same command for `redis-benchmark`, when the operation is one command on both
    /// sides (or for us only, with `several_round_trips_for_pottery`).
    native: Option<Vec<&'static str>>,
    several_round_trips_for_pottery: bool,
    /// Operations per run: `count / divisor`.
    divisor: usize,
    ours: Box<dyn FnMut() + 'a>,
}

fn one_command<'a>(
    name: &'static str,
    native: &[&'static str],
    ours: Box<dyn FnMut() + 'a>,
) -> Case<'a> {
    Case {
        name,
        native: Some(native.to_vec()),
        several_round_trips_for_pottery: false,
        divisor: 1,
        ours,
    }
}

pub fn run(options: &Options) {
    let servers = start_servers(1, options);
    let server = &servers[0];
    let url = server.url();

    let dict: RedisDict<String, String> = RedisDict::open(&url, "bench:rs:dict").expect("dict");
    dict.put("field", "value").expect("HSET");
    let big_dict: RedisDict<i64, i64> = RedisDict::open(&url, "bench:rs:bigdict").expect("dict");
    big_dict.clear().expect("UNLINK");
    big_dict
        .extend((0..1000).map(|n| (n, n * 2)))
        .expect("HSET");
    let set: RedisSet<String> = RedisSet::open(&url, "bench:rs:set").expect("set");
    set.insert("member").expect("SADD");
    let big_set: RedisSet<i64> = RedisSet::open(&url, "bench:rs:bigset").expect("set");
    big_set.extend(0..1000).expect("SADD");
    let other_set: RedisSet<i64> = RedisSet::open(&url, "bench:rs:otherset").expect("set");
    other_set.extend(500..1500).expect("SADD");
    let counter: RedisCounter<String> =
        RedisCounter::open(&url, "bench:rs:counter").expect("counter");
    counter.insert("element", 1).expect("HSET");
    let elements: Vec<String> = (0..10).map(|n| format!("e{n}")).collect();

    let mut cases: Vec<Case<'_>> = vec![
        one_command(
            "dict.get",
            &["HGET", "bench:rs:dict", "\"field\""],
            Box::new(|| {
                dict.get("field").expect("get");
            }),
        ),
        one_command(
            "dict.put",
            &["HSET", "bench:rs:dict", "\"field\"", "\"value\""],
            Box::new(|| {
                dict.put("field", "value").expect("put");
            }),
        ),
        one_command(
            "dict.contains_key",
            &["HEXISTS", "bench:rs:dict", "\"field\""],
            Box::new(|| {
                dict.contains_key("field").expect("contains_key");
            }),
        ),
        one_command(
            "dict.len",
            &["HLEN", "bench:rs:dict"],
            Box::new(|| {
                dict.len().expect("len");
            }),
        ),
        one_command(
            "set.insert",
            &["SADD", "bench:rs:set", "\"member\""],
            Box::new(|| {
                set.insert("member").expect("insert");
            }),
        ),
        one_command(
            "set.contains",
            &["SISMEMBER", "bench:rs:set", "\"member\""],
            Box::new(|| {
                set.contains("member").expect("contains");
            }),
        ),
        one_command(
            "set.len",
            &["SCARD", "bench:rs:set"],
            Box::new(|| {
                set.len().expect("len");
            }),
        ),
        one_command(
            "counter.get",
            &["HGET", "bench:rs:counter", "\"element\""],
            Box::new(|| {
                counter.get("element").expect("get");
            }),
        ),
        Case {
            // pottery: `c[k] += 1`, an HGET then an HSET: two round trips, and lost updates
            // under contention, so only the one-command target applies.
            name: "counter.increment",
            native: Some(vec!["HINCRBY", "bench:rs:counter", "\"element\"", "1"]),
            several_round_trips_for_pottery: false,
            divisor: 1,
            ours: Box::new(|| {
                counter.increment("element", 1).expect("increment");
            }),
        },
        Case {
            // pottery's increment that loses nothing: `c.update({k: 1})` under WATCH.
            name: "counter.increment_atomic",
            native: Some(vec!["HINCRBY", "bench:rs:counter", "\"element\"", "1"]),
            several_round_trips_for_pottery: true,
            divisor: 1,
            ours: Box::new(|| {
                counter.increment("element", 1).expect("increment");
            }),
        },
        Case {
            name: "counter.update10",
            native: None,
            several_round_trips_for_pottery: true,
            divisor: 2,
            ours: Box::new(|| {
                counter.update(elements.iter().cloned()).expect("update");
            }),
        },
        Case {
            name: "dict.iterate1000",
            native: None,
            several_round_trips_for_pottery: true,
            divisor: 200,
            ours: Box::new(|| {
                let entries = big_dict.iter().count();
                assert_eq!(entries, 1000);
            }),
        },
        Case {
            name: "set.iterate1000",
            native: None,
            several_round_trips_for_pottery: true,
            divisor: 20,
            ours: Box::new(|| {
                let members = big_set.iter().count();
                assert_eq!(members, 1000);
            }),
        },
        Case {
            // pottery runs SINTER on the server too when both sets share a client: the
            // difference is decoding 500 members, so 5x is not expected here.
            name: "set.intersection1000",
            native: None,
            several_round_trips_for_pottery: true,
            divisor: 20,
            ours: Box::new(|| {
                let common = big_set.intersection(&[&other_set]).expect("intersection");
                assert_eq!(common.len(), 500);
            }),
        },
        Case {
            name: "set.symmetric_difference1000",
            native: None,
            several_round_trips_for_pottery: true,
            divisor: 20,
            ours: Box::new(|| {
                let odd = big_set
                    .symmetric_difference(&other_set)
                    .expect("symmetric_difference");
                assert_eq!(odd.len(), 1000);
            }),
        },
    ];

    let mut rows = Vec::new();
    for case in &mut cases {
        let count = (options.count / case.divisor).max(10);
        // Warm-up, then 3 rounds that each time ours, pottery and redis-benchmark back to back,
        // so that a load change on the machine hits all three alike; medians of the rounds.
        for _ in 0..count / 10 + 1 {
            (case.ours)();
        }
        let (mut ours, mut pottery, mut native) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            let started = Instant::now();
            for _ in 0..count {
                (case.ours)();
            }
            ours.push(count as f64 / started.elapsed().as_secs_f64());
            pottery.push(pottery_rate(
                "containers_worker.py",
                &[
                    "bench".into(),
                    "--port".into(),
                    server.port().to_string(),
                    "--case".into(),
                    case.name.into(),
                    "--count".into(),
                    count.to_string(),
                    "--runs".into(),
                    "1".into(),
                ],
                options,
            ));
            if let Some(command) = &case.native {
                native.push(redis_benchmark_rate(
                    server,
                    command,
                    count.max(5000),
                    options,
                ));
            }
        }
        let row = ComparisonRow {
            case: case.name.into(),
            ours: median(&mut ours),
            pottery: median(&mut pottery),
            native: case.native.as_ref().map(|_| median(&mut native)),
            pottery_target: if case.several_round_trips_for_pottery {
                ROUND_TRIPS_VERSUS_POTTERY
            } else {
                ONE_COMMAND_VERSUS_POTTERY
            },
            native_target: ONE_COMMAND_VERSUS_NATIVE,
        };
        eprintln!(
            "{}: ours {:.0}/s, pottery {:.0}/s",
            row.case, row.ours, row.pottery
        );
        rows.push(row);
    }
    print_comparison("containers", options, &rows);
}
