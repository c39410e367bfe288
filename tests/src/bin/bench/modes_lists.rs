//! `bench modes-lists`: RedisList and RedisDeque operations that need the module or its
//! scripts, in module mode (a server with the module) beside script mode (a server without
//! it, as on hosted Redis) and beside Python pottery 3.0.1 (on the server without the module),
//! in one run, with their ratios. Module and script runs are interleaved, so a drift of the
//! machine's speed falls on both alike.

use crate::measure::{exit_with, median_rates_interleaved, pottery_rate, Options, Runs};
use pottery::{Connector, Mode, RedisDeque, RedisList};
use pottery_tests::Server;
use std::time::Instant;

/// Elements in the lists and deques worked on (and the deques' bound).
const SIZE: usize = 1000;
/// Where inserts and pops happen: the middle, the worst place for both.
const MIDDLE: i64 = SIZE as i64 / 2;

/// One operation's rates in the three ways; `pottery` is `None` where it has no counterpart.
struct Row {
    case: &'static str,
    module: f64,
    script: f64,
    pottery: Option<f64>,
}

/// One server with the module and one without, pinned as the options say.
fn servers(options: &Options) -> (Server, Server) {
    let builder = |module: bool| {
        let mut builder = Server::builder();
        if !module {
            builder = builder.without_module();
        }
        if let Some(cpu) = options.server_cpu() {
            builder = builder.cpu(cpu);
        }
        builder
    };
    (builder(true).start(), builder(false).start())
}

/// Runs of `count` calls of `operation`, each after an untimed `prepare`; the first run warms
/// up first.
fn runs<'a>(
    count: usize,
    mut prepare: impl FnMut() + 'a,
    mut operation: impl FnMut() + 'a,
) -> Runs<'a> {
    let mut warm = false;
    Box::new(move || {
        if !warm {
            prepare();
            for _ in 0..count / 10 + 1 {
                operation();
            }
            warm = true;
        }
        prepare();
        let started = Instant::now();
        for _ in 0..count {
            operation();
        }
        count as f64 / started.elapsed().as_secs_f64()
    })
}

/// Python pottery's rate for `lists_worker.py bench --op <op>` on `server`.
fn python(server: &Server, op: &str, count: usize, options: &Options) -> f64 {
    let args = [
        "bench",
        "--port",
        &server.port().to_string(),
        "--op",
        op,
        "--size",
        &SIZE.to_string(),
        "--count",
        &count.to_string(),
    ]
    .map(str::to_owned);
    pottery_rate("lists_worker.py", &args, options)
}

/// The list `key` on `connector`, holding `SIZE` elements.
fn filled(connector: &Connector, key: &str) -> RedisList<u64> {
    let list = RedisList::open(connector, key).unwrap_or_else(|e| exit_with(&e.to_string()));
    list.clear().expect("clear");
    list.extend(0..SIZE as u64).expect("fill");
    list
}

/// Module mode and script mode of one operation, interleaved: `make` builds the runs for the
/// connector of each mode.
fn both<'a>(
    connectors: &'a [Connector; 2],
    mut make: impl FnMut(&'a Connector) -> Runs<'a>,
) -> (f64, f64) {
    let mut cases: Vec<Runs<'a>> = connectors.iter().map(&mut make).collect();
    let rates = median_rates_interleaved(&mut cases);
    (rates[0], rates[1])
}

pub fn run(options: &Options) {
    let (module, plain) = servers(options);
    let connectors = [
        Connector::from(module.url()).with_mode(Mode::Module),
        Connector::from(plain.url()).with_mode(Mode::WithoutModule),
    ];
    let count = options.count;
    let python_count = (count / 10).max(50);
    let mut rows = Vec::new();

    let (module_rate, script_rate) = both(&connectors, |connector| {
        let list = filled(connector, "bench:insert");
        runs(
            count,
            || {},
            move || {
                list.insert(MIDDLE, &7).expect("insert");
            },
        )
    });
    rows.push(Row {
        case: "RedisList::insert(500)",
        module: module_rate,
        script: script_rate,
        pottery: Some(python(&plain, "insert", python_count, options)),
    });

    let (module_rate, script_rate) = both(&connectors, |connector| {
        let list = filled(connector, "bench:pop");
        let refill = list.clone();
        runs(
            count,
            move || {
                // Back to SIZE + count elements, so that every pop finds the list long.
                let len = refill.len().expect("len");
                refill
                    .extend(0..(SIZE + count).saturating_sub(len) as u64)
                    .expect("refill");
            },
            move || {
                list.remove(MIDDLE).expect("remove");
            },
        )
    });
    rows.push(Row {
        case: "RedisList::remove(500) (Python: pop(500))",
        module: module_rate,
        script: script_rate,
        pottery: Some(python(&plain, "pop", python_count, options)),
    });

    let (module_rate, script_rate) = both(&connectors, |connector| {
        let list = filled(connector, "bench:slice");
        runs(
            count,
            || {},
            move || {
                list.set_slice(MIDDLE, MIDDLE + 1, &[7]).expect("set_slice");
            },
        )
    });
    rows.push(Row {
        case: "RedisList::set_slice(500, 501, [x])",
        module: module_rate,
        script: script_rate,
        pottery: None,
    });

    for (case, n, op) in [
        ("RedisDeque::rotate(1)", 1, Some("rotate")),
        ("RedisDeque::rotate(500)", MIDDLE, None),
    ] {
        let (module_rate, script_rate) = both(&connectors, |connector| {
            filled(connector, "bench:rotate");
            let deque: RedisDeque<u64> =
                RedisDeque::open(connector, "bench:rotate").expect("deque");
            runs(
                count,
                || {},
                move || {
                    deque.rotate(n).expect("rotate");
                },
            )
        });
        rows.push(Row {
            case,
            module: module_rate,
            script: script_rate,
            pottery: op.map(|op| python(&plain, op, python_count, options)),
        });
    }

    let (module_rate, script_rate) = both(&connectors, |connector| {
        filled(connector, "bench:bounded");
        let deque: RedisDeque<u64> = RedisDeque::open(connector, "bench:bounded")
            .expect("deque")
            .with_maxlen(SIZE);
        runs(
            count,
            || {},
            move || deque.push_back(&9).expect("push_back"),
        )
    });
    rows.push(Row {
        case: "RedisDeque::push_back, maxlen 1000",
        module: module_rate,
        script: script_rate,
        pottery: Some(python(&plain, "append", python_count, options)),
    });

    print_table(options, &rows);
}

fn print_table(options: &Options, rows: &[Row]) {
    println!(
        "\nmodes-lists: one sequential client, warm, median of 3 interleaved runs, lists of \
         {SIZE} elements{}; module mode on a server with the module, script mode and Python \
         pottery 3.0.1 on one without\n",
        options.placement_note()
    );
    println!("| operation | module ops/s | script ops/s | pottery ops/s | script / module | script / pottery | module / pottery |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let (pottery, script_ratio, module_ratio) = match row.pottery {
            Some(pottery) => (
                format!("{pottery:.0}"),
                format!("{:.1}x", row.script / pottery),
                format!("{:.1}x", row.module / pottery),
            ),
            None => ("—".to_owned(), String::new(), String::new()),
        };
        println!(
            "| {} | {:.0} | {:.0} | {pottery} | {:.2}x | {script_ratio} | {module_ratio} |",
            row.case,
            row.module,
            row.script,
            row.script / row.module,
        );
    }
}
