//! `bench lists`: RedisList and RedisDeque beside Python pottery's on the same server in one
//! run, with `redis-benchmark -c 1` sending the very command ours sends as the floor, and
//! `rotate(len/2)` of a 1,000,000-element deque beside the same rotation by `LMOVE`s in one
//! pipeline.

use crate::measure::{exit_with, median_rate, pottery_rate, start_servers, Options};
use pottery::{RedisDeque, RedisList};
use pottery_tests::Server;
use std::time::Instant;

/// Elements in the lists that index, insert, rotate and bounded pushes work on.
const SIZE: usize = 1000;
/// Elements iterated per iteration.
const ITERATED: usize = 10_000;
/// Elements of the large deque rotated by half.
const LARGE: usize = 1_000_000;

/// What one operation costs pottery 3.0.1, which sets the target ratio.
#[derive(Clone, Copy, PartialEq)]
enum PotteryCost {
    /// One Redis command in both: target ≥ 1.5x pottery.
    OneCommand,
    /// Several round trips or an O(n) transfer in pottery: target ≥ 5x.
    Several,
}

struct Row {
    case: &'static str,
    ours: f64,
    pottery: f64,
    /// `redis-benchmark -c 1` sending the command ours sends, in the same unit.
    floor: Option<f64>,
    cost: PotteryCost,
}

/// `redis-benchmark -c 1 -n <requests> -q <command>` against `server`: median of 3 runs, in
/// requests per second. At least 10,000 requests per run, so that its connection setup does
/// not lower the floor.
fn redis_benchmark(server: &Server, count: usize, command: &[&str], options: &Options) -> f64 {
    let requests = count.max(10_000);
    let mut rates: Vec<f64> = (0..3)
        .map(|_| {
            let mut process = options.client_command("redis-benchmark");
            let output = process
                .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
                .args(["-c", "1", "-n", &requests.to_string(), "-q"])
                .args(command)
                .output()
                .unwrap_or_else(|error| exit_with(&format!("cannot run redis-benchmark: {error}")));
            // "LINDEX k 5: 41152.26 requests per second, p50=0.023 msec"
            String::from_utf8_lossy(&output.stdout)
                .split(['\r', '\n'])
                .filter_map(|line| line.split(": ").nth(1))
                .filter_map(|rest| rest.split(' ').next()?.parse::<f64>().ok())
                .next_back()
                .unwrap_or_else(|| {
                    exit_with(&format!(
                        "redis-benchmark printed no rate: {}",
                        String::from_utf8_lossy(&output.stdout)
                    ))
                })
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[1]
}

fn python(server: &Server, op: &str, count: usize, options: &Options) -> f64 {
    pottery_rate(
        "lists_worker.py",
        &[
            "bench".into(),
            "--port".into(),
            server.port().to_string(),
            "--op".into(),
            op.into(),
            "--size".into(),
            SIZE.to_string(),
            "--count".into(),
            count.to_string(),
            "--iterated".into(),
            ITERATED.to_string(),
        ],
        options,
    )
}

pub fn run(options: &Options) {
    let servers = start_servers(1, options);
    let server = &servers[0];
    let url = server.url();
    let count = options.count;
    let python_count = (count / 10).max(50);
    let mut rows = Vec::new();

    let list: RedisList<u64> = RedisList::open(url.as_str(), "bench:rs").expect("list");
    list.extend(0..SIZE as u64).expect("fill");
    let pushed: RedisList<u64> = RedisList::open(url.as_str(), "bench:rs:push").expect("list");
    rows.push(Row {
        case: "RedisList::push (RPUSH)",
        ours: median_rate(count, || pushed.push(&7).expect("push")),
        pottery: python(server, "push", python_count, options),
        floor: Some(redis_benchmark(
            server,
            count,
            &["RPUSH", "bench:rb:push", "7"],
            options,
        )),
        cost: PotteryCost::OneCommand,
    });
    rows.push(Row {
        case: "RedisList::len (LLEN)",
        ours: median_rate(count, || {
            list.len().expect("len");
        }),
        pottery: python(server, "len", python_count, options),
        floor: Some(redis_benchmark(
            server,
            count,
            &["LLEN", "bench:rs"],
            options,
        )),
        cost: PotteryCost::OneCommand,
    });
    let mut i = 0u64;
    rows.push(Row {
        case: "RedisList::get(i) (LINDEX)",
        ours: median_rate(count, || {
            i += 1;
            list.get(((i * 7919) % SIZE as u64) as i64).expect("get");
        }),
        pottery: python(server, "index", python_count, options),
        floor: Some(redis_benchmark(
            server,
            count,
            &["LINDEX", "bench:rs", "500"],
            options,
        )),
        cost: PotteryCost::Several,
    });
    rows.push(Row {
        case: "RedisList::insert(len/2) (POTTERY.LIST.INSERT)",
        ours: median_rate(count, || {
            list.insert(SIZE as i64 / 2, &1).expect("insert");
        }),
        pottery: python(server, "insert", python_count, options),
        floor: Some(redis_benchmark(
            server,
            count,
            &["POTTERY.LIST.INSERT", "bench:rb:insert", "500", "1"],
            options,
        )),
        cost: PotteryCost::Several,
    });

    let iterated: RedisList<u64> = RedisList::open(url.as_str(), "bench:rs:iter").expect("list");
    iterated.extend(0..ITERATED as u64).expect("fill");
    rows.push(Row {
        case: "RedisList::iter, elements/s (LRANGE by 1000)",
        ours: ITERATED as f64
            * median_rate(3, || {
                let total: u64 = iterated.iter().map(|item| item.expect("item")).sum();
                assert_eq!(total, (ITERATED as u64 - 1) * ITERATED as u64 / 2);
            }),
        pottery: python(server, "iterate", 1, options),
        floor: Some(
            1000.0
                * redis_benchmark(
                    server,
                    count,
                    &["LRANGE", "bench:rs:iter", "0", "999"],
                    options,
                ),
        ),
        cost: PotteryCost::Several,
    });

    let deque: RedisDeque<u64> = RedisDeque::open(url.as_str(), "bench:rs:deque")
        .expect("deque")
        .with_maxlen(SIZE);
    deque.extend(0..SIZE as u64).expect("fill");
    rows.push(Row {
        case: "RedisDeque::rotate(1) (POTTERY.DEQUE.ROTATE)",
        ours: median_rate(count, || {
            deque.rotate(1).expect("rotate");
        }),
        pottery: python(server, "rotate", python_count, options),
        floor: Some(redis_benchmark(
            server,
            count,
            &["POTTERY.DEQUE.ROTATE", "bench:rs:deque", "1"],
            options,
        )),
        cost: PotteryCost::Several,
    });
    rows.push(Row {
        case: "RedisDeque::push_back, maxlen (POTTERY.DEQUE.PUSH)",
        ours: median_rate(count, || deque.push_back(&9).expect("push_back")),
        pottery: python(server, "append", python_count, options),
        floor: Some(redis_benchmark(
            server,
            count,
            &["POTTERY.DEQUE.PUSH", "bench:rs:deque", "RIGHT", "1000", "9"],
            options,
        )),
        cost: PotteryCost::Several,
    });

    print_table(options, &rows);
    large_rotation(server);
}

fn print_table(options: &Options, rows: &[Row]) {
    println!(
        "\nlists: one sequential client, warm, median of 3 runs, lists of {SIZE} elements{}\n",
        options.placement_note()
    );
    println!("| operation | ours ops/s | pottery 3.0.1 ops/s | vs pottery | target | redis-benchmark -c 1 | ours / redis-benchmark |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let versus_pottery = row.ours / row.pottery;
        let target = match row.cost {
            PotteryCost::OneCommand => 1.5,
            PotteryCost::Several => 5.0,
        };
        let (floor, versus_floor) = match row.floor {
            Some(floor) => (format!("{floor:.0}"), format!("{:.2}", row.ours / floor)),
            None => (String::new(), String::new()),
        };
        println!(
            "| {} | {:.0} | {:.0} | {:.1}x {} | ≥ {target}x | {floor} | {versus_floor} |",
            row.case,
            row.ours,
            row.pottery,
            versus_pottery,
            if versus_pottery >= target {
                "ok"
            } else {
                "MISSED"
            },
        );
    }
    println!(
        "\nTarget for one-command operations also: ours within 1.3x of redis-benchmark (ratio ≥ 0.77)."
    );
}

/// `rotate(len/2)` on a 1,000,000-element deque: one `POTTERY.DEQUE.ROTATE` against the same
/// rotation as 500,000 `LMOVE key key RIGHT LEFT` in one pipeline. Median of 3 of each.
fn large_rotation(server: &Server) {
    let mut connection = server.connection();
    for chunk in (0..LARGE).collect::<Vec<_>>().chunks(10_000) {
        let _: () = redis::cmd("RPUSH")
            .arg("bench:large")
            .arg(chunk)
            .query(&mut connection)
            .expect("fill");
    }
    let half = LARGE / 2;
    let median_seconds = |work: &mut dyn FnMut()| {
        let mut times: Vec<f64> = (0..3)
            .map(|_| {
                let started = Instant::now();
                work();
                started.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[1]
    };
    let ours = median_seconds(&mut || {
        let len: usize = redis::cmd("POTTERY.DEQUE.ROTATE")
            .arg("bench:large")
            .arg(half)
            .query(&mut connection)
            .expect("rotate");
        assert_eq!(len, LARGE);
    });
    let mut pipeline = redis::pipe();
    for _ in 0..half {
        pipeline
            .cmd("LMOVE")
            .arg("bench:large")
            .arg("bench:large")
            .arg("RIGHT")
            .arg("LEFT")
            .ignore();
    }
    let lmove = median_seconds(&mut || {
        let () = pipeline.query(&mut connection).expect("LMOVE pipeline");
    });
    // Six rotations by half: back where it started.
    let head: u64 = redis::cmd("LINDEX")
        .arg("bench:large")
        .arg(0)
        .query(&mut connection)
        .expect("LINDEX");
    assert_eq!(head, 0, "the rotations did not compose");
    println!("\nrotate(len/2) of a {LARGE}-element deque, median of 3:\n");
    println!("| how | seconds | vs POTTERY.DEQUE.ROTATE |");
    println!("|---|---:|---:|");
    println!("| POTTERY.DEQUE.ROTATE key {half} | {ours:.3} | 1.0x |");
    println!(
        "| {half} LMOVE in one pipeline | {lmove:.3} | {:.1}x slower |",
        lmove / ours
    );
}
