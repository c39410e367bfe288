//! `bench async`: the async face beside the sync one, in one run.
//!
//! (a) one sequential task per operation vs the same operation on the sync type;
//! (b) 64 concurrent tasks on one shared handle vs `redis-benchmark -c 64` running the same
//!     command on the same server;
//! (c) 16 sync threads on one shared connector (its pool) vs 16 threads each with a connector
//!     (a connection) of its own.

use std::future::Future;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use futures_util::future::join_all;
use pottery::{aio, BloomFilter, Connector, RedisCounter, RedisDeque, RedisDict, RedisSet};
use tokio::runtime::Runtime;

use crate::measure::{median_rates_interleaved, start_servers, timed_runs, Options, Runs};

/// Targets of the issue: async at least 0.9x sync one task at a time, 64 tasks on one handle
/// at least 0.7x `redis-benchmark -c 64`, a shared pool at least 0.9x own connections.
const SEQUENTIAL_TARGET: f64 = 0.9;
const CONCURRENT_TARGET: f64 = 0.7;
const POOL_TARGET: f64 = 0.9;

const TASKS: usize = 64;
const THREADS: usize = 16;

struct Ratio {
    case: String,
    ours: f64,
    baseline: f64,
    target: f64,
}

pub fn run(options: &Options) {
    let servers = start_servers(5, options);
    let server = &servers[0];
    let masters: Vec<String> = servers.iter().map(pottery_tests::Server::url).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let count = options.count;
    let redis = Connector::from(server.url());
    let mut rows = sequential(&runtime, &redis, &masters, count);
    rows.extend(concurrent(&runtime, &redis, server, options, count * 5));
    rows.push(pool(&server.url(), &redis, count));
    print(options, &rows);
}

/// One run of `count` awaited calls of `operation` on `runtime`, as a rate (warmed up on the
/// first run), for [`median_rates_interleaved`].
fn async_runs<'a, F, Fut>(runtime: &'a Runtime, count: usize, mut operation: F) -> Runs<'a>
where
    F: FnMut() -> Fut + 'a,
    Fut: Future<Output = ()>,
{
    let mut warm = false;
    Box::new(move || {
        runtime.block_on(async {
            if !warm {
                for _ in 0..count / 10 + 1 {
                    operation().await;
                }
                warm = true;
            }
            let started = Instant::now();
            for _ in 0..count {
                operation().await;
            }
            count as f64 / started.elapsed().as_secs_f64()
        })
    })
}

/// A sync case and its async twin, measured with their runs interleaved.
type Pair<'a> = (String, Runs<'a>, Runs<'a>);

/// Each operation once on the sync face and once on the async face, runs interleaved.
fn sequential(
    runtime: &Runtime,
    redis: &Connector,
    masters: &[String],
    count: usize,
) -> Vec<Ratio> {
    let dict: RedisDict<String, u64> = RedisDict::open(redis, "bench:sync:dict").expect("dict");
    let async_dict: aio::RedisDict<String, u64> =
        aio::RedisDict::open(redis, "bench:async:dict").expect("dict");
    let set: RedisSet<u64> = RedisSet::open(redis, "bench:sync:set").expect("set");
    let async_set: aio::RedisSet<u64> = aio::RedisSet::open(redis, "bench:async:set").expect("set");
    let counter: RedisCounter<String> =
        RedisCounter::open(redis, "bench:sync:counter").expect("counter");
    let async_counter: aio::RedisCounter<String> =
        aio::RedisCounter::open(redis, "bench:async:counter").expect("counter");
    let deque: RedisDeque<u64> = RedisDeque::open(redis, "bench:sync:deque").expect("deque");
    let async_deque: aio::RedisDeque<u64> =
        aio::RedisDeque::open(redis, "bench:async:deque").expect("deque");
    let filter: BloomFilter<u64> =
        BloomFilter::open(redis, "bench:sync:bloom", 100_000, 0.01).expect("bloom");
    let async_filter: aio::BloomFilter<u64> =
        aio::BloomFilter::open(redis, "bench:async:bloom", 100_000, 0.01).expect("bloom");
    dict.put("field", &1).expect("put");
    runtime.block_on(async_dict.put("field", &1)).expect("put");
    let mut pairs: Vec<Pair<'_>> = vec![
        (
            "RedisDict::get".into(),
            Box::new(timed_runs(count, || {
                dict.get("field").expect("get");
            })),
            async_runs(runtime, count, || async {
                async_dict.get("field").await.expect("get");
            }),
        ),
        (
            "RedisDict::insert (MULTI/EXEC)".into(),
            Box::new(timed_runs(count, || {
                dict.insert("field", &2).expect("insert");
            })),
            async_runs(runtime, count, || async {
                async_dict.insert("field", &2).await.expect("insert");
            }),
        ),
        (
            "RedisSet::insert".into(),
            Box::new(timed_runs(count, || {
                set.insert(&7).expect("insert");
            })),
            async_runs(runtime, count, || async {
                async_set.insert(&7).await.expect("insert");
            }),
        ),
        (
            "RedisCounter::increment".into(),
            Box::new(timed_runs(count, || {
                counter.increment("hits", 1).expect("increment");
            })),
            async_runs(runtime, count, || async {
                async_counter.increment("hits", 1).await.expect("increment");
            }),
        ),
        (
            "RedisDeque::push_back (POTTERY.DEQUE.PUSH)".into(),
            Box::new(timed_runs(count, || {
                deque.push_back(&1).expect("push_back");
            })),
            async_runs(runtime, count, || async {
                async_deque.push_back(&1).await.expect("push_back");
            }),
        ),
        (
            "BloomFilter::contains".into(),
            Box::new(timed_runs(count, || {
                filter.contains(&1).expect("contains");
            })),
            async_runs(runtime, count, || async {
                async_filter.contains(&1).await.expect("contains");
            }),
        ),
    ];
    for size in [1, 5] {
        pairs.extend(distributed(runtime, &masters[..size], count / 2));
    }
    let names: Vec<String> = pairs.iter().map(|(name, _, _)| name.clone()).collect();
    let mut runs: Vec<Runs<'_>> = Vec::new();
    for (_, sync, asynchronous) in pairs {
        runs.push(sync);
        runs.push(asynchronous);
    }
    let rates = median_rates_interleaved(&mut runs);
    names
        .iter()
        .zip(rates.chunks(2))
        .map(|(name, pair)| Ratio {
            case: format!("(a) {name}: one async task vs sync"),
            ours: pair[1],
            baseline: pair[0],
            target: SEQUENTIAL_TARGET,
        })
        .collect()
}

/// Redlock acquire + release and NextId::next_id on `masters`, on both faces.
fn distributed<'a>(runtime: &'a Runtime, masters: &[String], count: usize) -> Vec<Pair<'a>> {
    let size = masters.len();
    let lock = pottery::Redlock::builder()
        .name(format!("bench-async-{size}"))
        .masters(masters.to_vec())
        .build()
        .expect("Redlock");
    let async_lock = runtime
        .block_on(
            pottery::Redlock::builder()
                .name(format!("bench-async-aio-{size}"))
                .masters(masters.to_vec())
                .build_async(),
        )
        .expect("aio::Redlock");
    let mut ids = pottery::NextId::builder()
        .name(format!("bench-async-{size}"))
        .masters(masters.to_vec())
        .build()
        .expect("NextId");
    let mut async_ids = runtime
        .block_on(
            pottery::NextId::builder()
                .name(format!("bench-async-aio-{size}"))
                .masters(masters.to_vec())
                .build_async(),
        )
        .expect("aio::NextId");
    let lock_async = Arc::new(async_lock);
    let mut warm = false;
    vec![
        (
            format!("Redlock acquire + release, {size} master(s)"),
            Box::new(timed_runs(count, move || {
                lock.acquire().expect("acquire").release().expect("release");
            })),
            async_runs(runtime, count, move || {
                let lock = Arc::clone(&lock_async);
                async move {
                    let guard = lock.acquire().await.expect("acquire");
                    guard.release().await.expect("release");
                }
            }),
        ),
        (
            format!("NextId::next_id, {size} master(s)"),
            Box::new(timed_runs(count, move || {
                ids.next_id().expect("next_id");
            })),
            // `next_id` borrows the NextId mutably: the whole run is one future.
            Box::new(move || {
                runtime.block_on(async {
                    if !warm {
                        for _ in 0..count / 10 + 1 {
                            async_ids.next_id().await.expect("next_id");
                        }
                        warm = true;
                    }
                    let started = Instant::now();
                    for _ in 0..count {
                        async_ids.next_id().await.expect("next_id");
                    }
                    count as f64 / started.elapsed().as_secs_f64()
                })
            }),
        ),
    ]
}

/// 64 tasks sharing one async handle (so one multiplexed connection) vs `redis-benchmark -c
/// 64` sending the same command over 64 connections.
fn concurrent(
    runtime: &Runtime,
    redis: &Connector,
    server: &pottery_tests::Server,
    options: &Options,
    total: usize,
) -> Vec<Ratio> {
    let dict: aio::RedisDict<String, u64> =
        aio::RedisDict::open(redis, "bench:shared:dict").expect("dict");
    runtime.block_on(dict.put("field", &1)).expect("put");
    let per_task = total / TASKS;
    let ours = {
        let run = || {
            runtime.block_on(async {
                let started = Instant::now();
                let tasks = (0..TASKS).map(|_| {
                    let dict = dict.clone();
                    async move {
                        for _ in 0..per_task {
                            dict.get("field").await.expect("get");
                        }
                    }
                });
                join_all(tasks).await;
                (per_task * TASKS) as f64 / started.elapsed().as_secs_f64()
            })
        };
        run();
        let mut rates: Vec<f64> = Vec::new();
        let mut native: Vec<f64> = Vec::new();
        for _ in 0..3 {
            rates.push(run());
            native.push(redis_benchmark(
                server,
                &["HGET", "bench:shared:dict", "\"field\""],
                total,
                options,
            ));
        }
        (
            crate::measure::median(&mut rates),
            crate::measure::median(&mut native),
        )
    };
    vec![Ratio {
        case: format!(
            "(b) RedisDict::get, {TASKS} tasks on one handle vs redis-benchmark -c {TASKS} HGET"
        ),
        ours: ours.0,
        baseline: ours.1,
        target: CONCURRENT_TARGET,
    }]
}

fn redis_benchmark(
    server: &pottery_tests::Server,
    command: &[&str],
    count: usize,
    options: &Options,
) -> f64 {
    let mut process = options.client_command("redis-benchmark");
    let output = process
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-c", &TASKS.to_string(), "-n", &count.to_string(), "--csv"])
        .args(command)
        .output()
        .expect("redis-benchmark runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|line| line.split("\",\"").nth(1))
        .and_then(|rate| rate.trim_matches('"').parse().ok())
        .expect("redis-benchmark prints a rate")
}

/// 16 threads, each with a handle of its own, through one shared connector vs through a
/// connector (so a connection) per thread.
fn pool(url: &str, redis: &Connector, count: usize) -> Ratio {
    let per_thread = count;
    let run = |shared: bool| {
        let barrier = Arc::new(Barrier::new(THREADS + 1));
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let connector = if shared {
                    redis.clone()
                } else {
                    Connector::from(url)
                };
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let dict: RedisDict<String, u64> =
                        RedisDict::open(&connector, &format!("bench:pool:{thread}")).expect("dict");
                    dict.put("field", &1).expect("put");
                    barrier.wait();
                    for _ in 0..per_thread {
                        dict.get("field").expect("get");
                    }
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        for worker in workers {
            worker.join().expect("worker");
        }
        (per_thread * THREADS) as f64 / started.elapsed().as_secs_f64()
    };
    let mut shared = Vec::new();
    let mut own = Vec::new();
    run(true);
    for _ in 0..3 {
        shared.push(run(true));
        own.push(run(false));
    }
    Ratio {
        case: format!(
            "(c) RedisDict::get, {THREADS} threads: one connector (pool of {}) vs a connection each",
            redis.pool_size()
        ),
        ours: crate::measure::median(&mut shared),
        baseline: crate::measure::median(&mut own),
        target: POOL_TARGET,
    }
}

fn print(options: &Options, rows: &[Ratio]) {
    println!(
        "\nasync: the async face beside the sync one, median of 3 interleaved runs{}\n",
        options.placement_note()
    );
    println!("| case | ours ops/s | baseline ops/s | ratio | target | met |");
    println!("|---|---:|---:|---:|---|---|");
    for row in rows {
        let ratio = row.ours / row.baseline;
        println!(
            "| {} | {:.0} | {:.0} | {:.2}x | >= {:.1}x | {} |",
            row.case,
            row.ours,
            row.baseline,
            ratio,
            row.target,
            if ratio >= row.target { "yes" } else { "NO" }
        );
    }
}
