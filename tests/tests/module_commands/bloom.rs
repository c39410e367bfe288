//! The Bloom filter module type end to end: commands, accuracy, limits, persistence (RDB, AOF,
//! DUMP/RESTORE, COPY), replication with explicit parameters, SCANDUMP/LOADCHUNK and corrupt
//! inputs, on real servers.

use pottery_tests::{wait_for_replication, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::{ConnectionLike, Value};
use std::time::{Duration, Instant};

const BATCH: usize = 2000;

/// Every chunk of `POTTERY.BF.SCANDUMP`, header first: equal dumps mean equal filters.
fn dump(server: &Server, key: &str) -> Vec<(i64, Vec<u8>)> {
    let mut connection = server.connection();
    let mut chunks = Vec::new();
    let mut iterator = 0i64;
    loop {
        let (next, chunk): (i64, Vec<u8>) = redis::cmd("POTTERY.BF.SCANDUMP")
            .arg(key)
            .arg(iterator)
            .query(&mut connection)
            .expect("SCANDUMP answers");
        if next == 0 {
            return chunks;
        }
        chunks.push((next, chunk));
        iterator = next;
    }
}

/// Restores `chunks` into `key` with `POTTERY.BF.LOADCHUNK`.
fn load(server: &Server, key: &str, chunks: &[(i64, Vec<u8>)]) {
    let mut connection = server.connection();
    for (iterator, chunk) in chunks {
        let _: () = redis::cmd("POTTERY.BF.LOADCHUNK")
            .arg(key)
            .arg(*iterator)
            .arg(chunk.as_slice())
            .query(&mut connection)
            .expect("LOADCHUNK accepts its own dump");
    }
}

/// The reply's error as `CODE detail`, exactly as Redis would print it.
fn error_of(connection: &mut redis::Connection, args: &[&[u8]]) -> String {
    let error = redis::cmd(std::str::from_utf8(args[0]).unwrap())
        .arg(&args[1..])
        .query::<Value>(connection)
        .expect_err(&format!(
            "{:?} must fail",
            String::from_utf8_lossy(&args.concat())
        ));
    pottery_tests::error_text(&error)
}

/// Adds `items` with MADD in batches and checks that every reply is 0 or 1.
fn add_all(connection: &mut redis::Connection, key: &str, items: &[String]) {
    for batch in items.chunks(BATCH) {
        let replies: Vec<i64> = redis::cmd("POTTERY.BF.MADD")
            .arg(key)
            .arg(batch)
            .query(connection)
            .expect("MADD answers");
        assert!(replies.iter().all(|r| *r == 0 || *r == 1));
    }
}

/// How many of `items` MEXISTS reports as present.
fn count_present(connection: &mut redis::Connection, key: &str, items: &[String]) -> usize {
    items
        .chunks(BATCH)
        .map(|batch| {
            let replies: Vec<i64> = redis::cmd("POTTERY.BF.MEXISTS")
                .arg(key)
                .arg(batch)
                .query(connection)
                .expect("MEXISTS answers");
            replies.iter().filter(|r| **r == 1).count()
        })
        .sum()
}

fn random_items(rng: &mut StdRng, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| format!("{prefix}:{:016x}", rng.random::<u64>()))
        .collect()
}

/// A reply that is an array whose entries may be errors (`query` would turn an array with an
/// error entry into an error, so the raw reply is read).
fn entries(server: &Server, args: &[&str]) -> Vec<Value> {
    let mut command = redis::cmd(args[0]);
    command.arg(&args[1..]);
    match server
        .connection()
        .req_command(&command)
        .expect("the command answers")
    {
        Value::Array(entries) => entries,
        other => panic!("not an array: {other:?}"),
    }
}

fn info(server: &Server, key: &str) -> Vec<Value> {
    server.cmd(&["POTTERY.BF.INFO", key]).expect("INFO answers")
}

fn info_field(server: &Server, key: &str, field: &str) -> i64 {
    let values: Vec<i64> = server
        .cmd(&["POTTERY.BF.INFO", key, field])
        .expect("INFO field answers");
    assert_eq!(values.len(), 1);
    values[0]
}

/// The formula of DESIGN.md, written out independently of the module: bytes of the bit array
/// for `capacity` items at `error_rate`, rounded up to whole 64-bit words.
fn formula_bytes(capacity: f64, error_rate: f64) -> i64 {
    let ln2 = std::f64::consts::LN_2;
    let bits = (-capacity * error_rate.ln() / (ln2 * ln2)).ceil();
    ((bits / 64.0).ceil() * 8.0) as i64
}

#[test]
fn add_exists_card_and_info() {
    let server = Server::start();
    let mut connection = server.connection();
    // Missing keys: nothing is present, CARD is 0, INFO is an error.
    assert_eq!(
        server.cmd::<i64>(&["POTTERY.BF.EXISTS", "f", "a"]).unwrap(),
        0
    );
    assert_eq!(
        server
            .cmd::<Vec<i64>>(&["POTTERY.BF.MEXISTS", "f", "a", "b"])
            .unwrap(),
        vec![0, 0]
    );
    assert_eq!(server.cmd::<i64>(&["POTTERY.BF.CARD", "f"]).unwrap(), 0);
    assert_eq!(
        error_of(&mut connection, &[b"POTTERY.BF.INFO", b"f"]),
        "ERR not found"
    );

    // Items are bytes: empty, unicode and binary items all work.
    let binary: Vec<u8> = (0..=255u8).collect();
    let items: Vec<&[u8]> = vec![b"", "ключ-🔑".as_bytes(), &binary, b"plain"];
    for item in &items {
        let added: i64 = redis::cmd("POTTERY.BF.ADD")
            .arg("f")
            .arg(*item)
            .query(&mut connection)
            .unwrap();
        assert_eq!(added, 1);
        let again: i64 = redis::cmd("POTTERY.BF.ADD")
            .arg("f")
            .arg(*item)
            .query(&mut connection)
            .unwrap();
        assert_eq!(again, 0);
        let present: i64 = redis::cmd("POTTERY.BF.EXISTS")
            .arg("f")
            .arg(*item)
            .query(&mut connection)
            .unwrap();
        assert_eq!(present, 1);
    }
    assert_eq!(server.cmd::<i64>(&["POTTERY.BF.CARD", "f"]).unwrap(), 4);
    // Created with the defaults: capacity 100, error 0.01, expansion 2.
    let expected = vec![
        Value::SimpleString("Capacity".into()),
        Value::Int(100),
        Value::SimpleString("Size".into()),
        Value::Int(formula_bytes(100.0, 0.005)),
        Value::SimpleString("Number of filters".into()),
        Value::Int(1),
        Value::SimpleString("Number of items inserted".into()),
        Value::Int(4),
        Value::SimpleString("Expansion rate".into()),
        Value::Int(2),
    ];
    assert_eq!(info(&server, "f"), expected);
    assert_eq!(info_field(&server, "f", "items"), 4);

    // NONSCALING: expansion is nil.
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "n", "0.001", "50", "NONSCALING"])
        .unwrap();
    let expansion: Vec<Option<i64>> = server.cmd(&["POTTERY.BF.INFO", "n", "EXPANSION"]).unwrap();
    assert_eq!(expansion, vec![None]);
    assert_eq!(info_field(&server, "n", "SIZE"), formula_bytes(50.0, 0.001));
    let mixed: Vec<i64> = server
        .cmd(&["POTTERY.BF.MADD", "n", "x", "y", "x"])
        .unwrap();
    assert_eq!(mixed, vec![1, 1, 0]);
}

#[test]
fn false_positive_rate_at_capacity_non_scaling() {
    let server = Server::start();
    let mut connection = server.connection();
    let capacity = 100_000;
    let _: () = server
        .cmd(&[
            "POTTERY.BF.RESERVE",
            "nonscaling",
            "0.01",
            &capacity.to_string(),
            "NONSCALING",
        ])
        .unwrap();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let members = random_items(&mut rng, "member", capacity);
    add_all(&mut connection, "nonscaling", &members);
    assert_eq!(info_field(&server, "nonscaling", "FILTERS"), 1);
    assert_eq!(
        count_present(&mut connection, "nonscaling", &members),
        capacity,
        "false negatives"
    );
    let probes = random_items(&mut rng, "probe", 1_000_000);
    let rate = count_present(&mut connection, "nonscaling", &probes) as f64 / probes.len() as f64;
    assert!(
        rate <= 0.01 * 1.05,
        "false-positive rate {rate} above 1.05 x 0.01"
    );
    assert!(
        rate > 0.002,
        "a rate of {rate} means the filter is far larger than sized"
    );
}

#[test]
fn false_positive_rate_of_a_scaling_filter_at_8x() {
    let server = Server::start();
    let mut connection = server.connection();
    let initial = 12_500;
    let _: () = server
        .cmd(&[
            "POTTERY.BF.RESERVE",
            "scaling",
            "0.01",
            &initial.to_string(),
            "EXPANSION",
            "2",
        ])
        .unwrap();
    let mut rng = StdRng::seed_from_u64(0xb100f);
    let members = random_items(&mut rng, "member", 8 * initial);
    add_all(&mut connection, "scaling", &members);
    // 12.5k + 25k + 50k hold 87.5k; the fourth sub-filter takes the rest.
    assert_eq!(info_field(&server, "scaling", "FILTERS"), 4);
    assert_eq!(
        count_present(&mut connection, "scaling", &members),
        members.len(),
        "false negatives"
    );
    let probes = random_items(&mut rng, "probe", 1_000_000);
    let rate = count_present(&mut connection, "scaling", &probes) as f64 / probes.len() as f64;
    assert!(
        rate <= 0.01 * 1.05,
        "false-positive rate {rate} above 1.05 x 0.01"
    );
}

#[test]
fn info_size_is_the_sum_of_word_rounded_bit_arrays() {
    let server = Server::start();
    let mut connection = server.connection();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "s", "0.02", "77", "EXPANSION", "3"])
        .unwrap();
    let items: Vec<String> = (0..5000).map(|n| format!("item-{n}")).collect();
    add_all(&mut connection, "s", &items);
    let filters = info_field(&server, "s", "FILTERS");
    assert!(filters >= 4, "{filters} sub-filters");
    let expected_size: i64 = (0..filters)
        .map(|i| formula_bytes(77.0 * 3f64.powi(i as i32), 0.02 * 0.5f64.powi(i as i32 + 1)))
        .sum();
    let expected_capacity: i64 = (0..filters).map(|i| 77 * 3i64.pow(i as u32)).sum();
    assert_eq!(info_field(&server, "s", "SIZE"), expected_size);
    assert_eq!(info_field(&server, "s", "CAPACITY"), expected_capacity);
    assert_eq!(
        info_field(&server, "s", "ITEMS"),
        server.cmd::<i64>(&["POTTERY.BF.CARD", "s"]).unwrap()
    );
    // MEMORY USAGE counts the bit arrays too.
    let usage: i64 = server.cmd(&["MEMORY", "USAGE", "s"]).unwrap();
    assert!(
        usage >= expected_size,
        "MEMORY USAGE {usage} < {expected_size}"
    );
}

#[test]
fn bad_arguments_and_limits_are_refused() {
    let server = Server::start();
    let mut connection = server.connection();
    let _: () = server.cmd(&["SET", "text", "hello"]).unwrap();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "exists", "0.1", "10"])
        .unwrap();
    let cases: Vec<(Vec<&[u8]>, &str)> = vec![
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0", b"100"],
            "ERR (0 < error rate range < 1) ",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"1", b"100"],
            "ERR (0 < error rate range < 1) ",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"-0.5", b"100"],
            "ERR (0 < error rate range < 1) ",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"nan", b"100"],
            "ERR bad error rate",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"abc", b"100"],
            "ERR bad error rate",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0.01", b"0"],
            "ERR (capacity should be larger than 0)",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0.01", b"-5"],
            "ERR (capacity should be larger than 0)",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0.01", b"1099511627777"],
            "ERR bad capacity",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0.01", b"1.5"],
            "ERR bad capacity",
        ),
        (
            vec![
                b"POTTERY.BF.RESERVE",
                b"k",
                b"0.01",
                b"10",
                b"EXPANSION",
                b"0",
            ],
            "ERR expansion should be greater or equal to 1",
        ),
        (
            vec![
                b"POTTERY.BF.RESERVE",
                b"k",
                b"0.01",
                b"10",
                b"EXPANSION",
                b"32769",
            ],
            "ERR bad expansion",
        ),
        (
            vec![
                b"POTTERY.BF.RESERVE",
                b"k",
                b"0.01",
                b"10",
                b"EXPANSION",
                b"2",
                b"NONSCALING",
            ],
            "Nonscaling filters cannot expand",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0.01", b"10", b"BOGUS"],
            "ERR syntax error",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0.01", b"10", b"EXPANSION"],
            "ERR no expansion",
        ),
        // 2^40 items at 0.01% need terabytes: refused before anything is allocated.
        (
            vec![b"POTTERY.BF.RESERVE", b"k", b"0.0001", b"1099511627776"],
            "ERR capacity: filter would exceed pottery.bf-max-bytes",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"exists", b"0.01", b"10"],
            "ERR item exists",
        ),
        (
            vec![b"POTTERY.BF.RESERVE", b"text", b"0.01", b"10"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec![
                b"POTTERY.BF.INSERT",
                b"k",
                b"NOCREATE",
                b"CAPACITY",
                b"10",
                b"ITEMS",
                b"a",
            ],
            "ERR NOCREATE: cannot be combined with CAPACITY or ERROR",
        ),
        (
            vec![
                b"POTTERY.BF.INSERT",
                b"k",
                b"ERROR",
                b"0.1",
                b"NOCREATE",
                b"ITEMS",
                b"a",
            ],
            "ERR NOCREATE: cannot be combined with CAPACITY or ERROR",
        ),
        (
            vec![
                b"POTTERY.BF.INSERT",
                b"k",
                b"NONSCALING",
                b"EXPANSION",
                b"4",
                b"ITEMS",
                b"a",
            ],
            "Nonscaling filters cannot expand",
        ),
        (
            vec![b"POTTERY.BF.INSERT", b"k", b"NOCREATE", b"ITEMS", b"a"],
            "ERR not found",
        ),
        (
            vec![
                b"POTTERY.BF.INSERT",
                b"k",
                b"CAPACITY",
                b"0",
                b"ITEMS",
                b"a",
            ],
            "Bad argument received",
        ),
        (
            vec![b"POTTERY.BF.INSERT", b"k", b"ERROR", b"2", b"ITEMS", b"a"],
            "Bad argument received",
        ),
        (
            vec![b"POTTERY.BF.INSERT", b"k", b"ITEMS"],
            "ERR wrong number of arguments for 'pottery.bf.insert' command",
        ),
        (
            vec![b"POTTERY.BF.INSERT", b"k", b"CAPACITY", b"10", b"a"],
            "Unknown argument received",
        ),
        (
            vec![b"POTTERY.BF.ADD", b"text", b"a"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec![b"POTTERY.BF.EXISTS", b"text", b"a"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec![b"POTTERY.BF.CARD", b"text"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec![b"POTTERY.BF.ADD", b"k"],
            "ERR wrong number of arguments for 'pottery.bf.add' command",
        ),
        (
            vec![b"POTTERY.BF.INFO", b"exists", b"BOGUS"],
            "Invalid information value",
        ),
        (
            vec![b"POTTERY.BF.INFO", b"exists", b"SIZE", b"ITEMS"],
            "ERR wrong number of arguments for 'pottery.bf.info' command",
        ),
        (
            vec![b"POTTERY.BF.SCANDUMP", b"missing", b"0"],
            "ERR not found",
        ),
        (
            vec![b"POTTERY.BF.SCANDUMP", b"exists", b"x"],
            "Second argument must be numeric",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(
            error_of(&mut connection, &args),
            expected,
            "for {:?}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
    }
    // A negative iterator is past the end, as in RedisBloom.
    let (next, chunk): (i64, Vec<u8>) = server
        .cmd(&["POTTERY.BF.SCANDUMP", "exists", "-1"])
        .unwrap();
    assert_eq!((next, chunk), (0, Vec::new()));
    // Nothing was created by a failing command, and the server still answers.
    assert_eq!(server.cmd::<i64>(&["EXISTS", "k"]).unwrap(), 0);
    assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

#[test]
fn full_filters_stop_at_the_first_item_that_does_not_fit() {
    let server = Server::start();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "small", "0.01", "2", "NONSCALING"])
        .unwrap();
    // As RedisBloom: the reply ends with the error; "a" after it is not looked at.
    let replies = entries(&server, &["POTTERY.BF.MADD", "small", "a", "b", "c", "a"]);
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert_eq!(replies[..2], [Value::Int(1), Value::Int(1)]);
    assert!(
        matches!(&replies[2], Value::ServerError(e) if e.details() == Some("non scaling filter is full")),
        "{replies:?}"
    );
    let replies = entries(
        &server,
        &["POTTERY.BF.INSERT", "small", "ITEMS", "a", "d", "b"],
    );
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert_eq!(replies[0], Value::Int(0));
    assert!(matches!(&replies[1], Value::ServerError(_)), "{replies:?}");
    let mut connection = server.connection();
    assert_eq!(
        error_of(&mut connection, &[b"POTTERY.BF.ADD", b"small", b"d"]),
        "ERR non scaling filter is full"
    );
    assert_eq!(server.cmd::<i64>(&["POTTERY.BF.CARD", "small"]).unwrap(), 2);

    // A scaling filter stops at the byte limit, and at 64 sub-filters.
    let limited = Server::builder()
        .module_args(["bf-max-bytes", "4096"])
        .start();
    let _: () = limited
        .cmd(&[
            "POTTERY.BF.RESERVE",
            "grow",
            "0.01",
            "100",
            "EXPANSION",
            "4",
        ])
        .unwrap();
    let items: Vec<String> = (0..20_000).map(|n| n.to_string()).collect();
    let replies = entries(
        &limited,
        &[
            &["POTTERY.BF.MADD", "grow"][..],
            &items.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    assert!(replies.iter().any(|r| matches!(r, Value::ServerError(e) if e.details() == Some("capacity: filter would exceed pottery.bf-max-bytes"))));
    assert!(info_field(&limited, "grow", "SIZE") <= 4096);
    let _: () = limited
        .cmd(&["POTTERY.BF.RESERVE", "many", "0.5", "1", "EXPANSION", "1"])
        .unwrap();
    let replies = entries(
        &limited,
        &[
            &["POTTERY.BF.MADD", "many"][..],
            &items[..500].iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    assert!(replies.iter().any(|r| matches!(r, Value::ServerError(e) if e.details() == Some("max number of sub-filters reached"))));
    assert_eq!(info_field(&limited, "many", "FILTERS"), 64);
}

#[test]
fn configs_shape_new_filters_only() {
    let server = Server::builder()
        .module_args([
            "bf-error-rate",
            "0.05",
            "bf-initial-capacity",
            "1000",
            "bf-expansion",
            "3",
        ])
        .start();
    let configured: Vec<String> = server
        .cmd(&["CONFIG", "GET", "pottery.bf-error-rate"])
        .unwrap();
    assert_eq!(configured, vec!["pottery.bf-error-rate", "0.05"]);
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "a", "x"]).unwrap();
    assert_eq!(info_field(&server, "a", "CAPACITY"), 1000);
    assert_eq!(info_field(&server, "a", "EXPANSION"), 3);
    assert_eq!(
        info_field(&server, "a", "SIZE"),
        formula_bytes(1000.0, 0.025)
    );
    let mut connection = server.connection();
    for (name, bad) in [
        ("pottery.bf-error-rate", "1.5"),
        ("pottery.bf-error-rate", "x"),
        ("pottery.bf-expansion", "0"),
        ("pottery.bf-initial-capacity", "0"),
        ("pottery.bf-max-bytes", "-1"),
    ] {
        let result: redis::RedisResult<()> = redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(bad)
            .query(&mut connection);
        assert!(result.is_err(), "CONFIG SET {name} {bad} accepted");
    }
    let _: () = server
        .cmd(&["CONFIG", "SET", "pottery.bf-error-rate", "0.001"])
        .unwrap();
    let _: () = server
        .cmd(&["CONFIG", "SET", "pottery.bf-initial-capacity", "10"])
        .unwrap();
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "b", "x"]).unwrap();
    assert_eq!(
        info_field(&server, "b", "SIZE"),
        formula_bytes(10.0, 0.0005)
    );
    // The existing filter keeps its own parameters.
    assert_eq!(info_field(&server, "a", "CAPACITY"), 1000);
}

#[test]
fn rdb_and_dump_restore_and_copy_round_trip() {
    let server = Server::start();
    let mut connection = server.connection();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "f", "0.001", "100", "EXPANSION", "5"])
        .unwrap();
    let items: Vec<String> = (0..3000).map(|n| format!("x{n}")).collect();
    add_all(&mut connection, "f", &items);
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "n", "0.2", "10", "NONSCALING"])
        .unwrap();
    let before = (dump(&server, "f"), dump(&server, "n"));
    assert!(before.0.len() >= 3, "a header and several data chunks");

    let payload: Vec<u8> = server.cmd(&["DUMP", "f"]).unwrap();
    let _: () = redis::cmd("RESTORE")
        .arg("restored")
        .arg(0)
        .arg(payload)
        .query(&mut connection)
        .unwrap();
    assert_eq!(dump(&server, "restored"), before.0);
    let copied: i64 = server.cmd(&["COPY", "f", "copied"]).unwrap();
    assert_eq!(copied, 1);
    let _: i64 = server
        .cmd(&["POTTERY.BF.ADD", "copied", "only in the copy"])
        .unwrap();
    assert_eq!(dump(&server, "f"), before.0, "COPY must not share bits");
    assert_eq!(
        server
            .cmd::<i64>(&["POTTERY.BF.EXISTS", "f", "only in the copy"])
            .unwrap(),
        0
    );

    let _: () = server.cmd(&["SAVE"]).unwrap();
    server.restart();
    assert_eq!((dump(&server, "f"), dump(&server, "n")), before);
    assert_eq!(
        count_present(&mut server.connection(), "f", &items),
        items.len()
    );
    assert_eq!(server.cmd::<String>(&["TYPE", "f"]).unwrap(), "PotteryBF");
}

#[test]
fn aof_round_trip_with_and_without_rewrite() {
    let server = Server::builder()
        .aof(true)
        .fsync_always(true)
        .config("aof-use-rdb-preamble", "no")
        .start();
    let mut connection = server.connection();
    let items: Vec<String> = (0..2000).map(|n| format!("aof-{n}")).collect();
    add_all(&mut connection, "f", &items[..1000]);
    let _: Vec<i64> = server
        .cmd(&[
            "POTTERY.BF.INSERT",
            "g",
            "CAPACITY",
            "5",
            "NONSCALING",
            "ITEMS",
            "a",
            "b",
        ])
        .unwrap();
    // The rewrite emits LOADCHUNK commands; later writes follow as commands.
    let _: String = server.cmd(&["BGREWRITEAOF"]).unwrap();
    assert!(
        server.aof_rewrite_finished_within(Duration::from_secs(10)),
        "AOF rewrite did not finish"
    );
    add_all(&mut connection, "f", &items[1000..]);
    let before = (dump(&server, "f"), dump(&server, "g"));
    server.kill();
    server.restart();
    assert_eq!((dump(&server, "f"), dump(&server, "g")), before);
    assert_eq!(
        count_present(&mut server.connection(), "f", &items),
        items.len()
    );
}

#[test]
fn replica_with_other_defaults_holds_the_same_filters() {
    let master = Server::start();
    let replica = Server::builder()
        .module_args([
            "bf-error-rate",
            "0.3",
            "bf-initial-capacity",
            "7",
            "bf-expansion",
            "9",
        ])
        .start();
    replica.replicate_from(&master);
    let mut connection = master.connection();
    // Created with the master's defaults by ADD, MADD and INSERT, and by RESERVE without
    // EXPANSION.
    let _: i64 = master.cmd(&["POTTERY.BF.ADD", "add", "a"]).unwrap();
    let _: Vec<i64> = master.cmd(&["POTTERY.BF.MADD", "madd", "a", "b"]).unwrap();
    let _: Vec<i64> = master
        .cmd(&[
            "POTTERY.BF.INSERT",
            "insert",
            "CAPACITY",
            "20",
            "ITEMS",
            "a",
        ])
        .unwrap();
    let _: () = master
        .cmd(&["POTTERY.BF.RESERVE", "reserve", "0.001", "30"])
        .unwrap();
    let items: Vec<String> = (0..1000).map(|n| format!("r{n}")).collect();
    for key in ["add", "madd", "insert", "reserve"] {
        add_all(&mut connection, key, &items);
    }
    // An existing filter's writes replicate verbatim, LOADCHUNK too.
    load(&master, "loaded", &dump(&master, "add"));
    wait_for_replication(&master, &replica);
    for key in ["add", "madd", "insert", "reserve", "loaded"] {
        assert_eq!(
            dump(&replica, key),
            dump(&master, key),
            "{key} differs on the replica"
        );
    }
}

#[test]
fn writes_notify_and_signal_only_when_they_change_something() {
    let server = Server::start();
    let _: () = server
        .cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"])
        .unwrap();
    let mut subscriber = server.connection();
    subscriber
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut pubsub = subscriber.as_pubsub();
    pubsub.psubscribe("__keyspace@0__:f").unwrap();
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "f", "a"]).unwrap();
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "f", "a"]).unwrap(); // no change: no event
    let _: i64 = server.cmd(&["POTTERY.BF.EXISTS", "f", "a"]).unwrap();
    let _: Vec<i64> = server.cmd(&["POTTERY.BF.MADD", "f", "b"]).unwrap();
    let first: String = pubsub.get_message().unwrap().get_payload().unwrap();
    let second: String = pubsub.get_message().unwrap().get_payload().unwrap();
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("pottery.bf.add", "pottery.bf.madd")
    );
    drop(pubsub);
    // No-op writes do not count as changes either.
    let dirty_before = server.info_field("persistence", "rdb_changes_since_last_save");
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "f", "a"]).unwrap();
    let _: Vec<i64> = server.cmd(&["POTTERY.BF.MADD", "f", "a", "b"]).unwrap();
    assert_eq!(
        server.info_field("persistence", "rdb_changes_since_last_save"),
        dirty_before
    );
}

#[test]
fn loadchunk_checks_every_chunk() {
    let server = Server::builder()
        .module_args(["bf-max-bytes", "1048576"])
        .start();
    let mut connection = server.connection();
    let items: Vec<String> = (0..500).map(|n| format!("c{n}")).collect();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "source", "0.01", "100"])
        .unwrap();
    add_all(&mut connection, "source", &items);
    let chunks = dump(&server, "source");
    load(&server, "copy", &chunks);
    assert_eq!(dump(&server, "copy"), chunks);
    assert_eq!(count_present(&mut connection, "copy", &items), items.len());

    let header = &chunks[0].1;
    let (data_iterator, data) = (&chunks[1].0, &chunks[1].1);
    let header_args = |key: &'static str, header: Vec<u8>| -> Vec<Vec<u8>> {
        vec![
            b"POTTERY.BF.LOADCHUNK".to_vec(),
            key.as_bytes().to_vec(),
            b"1".to_vec(),
            header,
        ]
    };
    let mut cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
        (header_args("copy", header.clone()), "ERR received bad data"),
        (
            vec![
                b"POTTERY.BF.LOADCHUNK".to_vec(),
                b"missing".to_vec(),
                data_iterator.to_string().into_bytes(),
                data.clone(),
            ],
            "ERR not found",
        ),
        (
            vec![
                b"POTTERY.BF.LOADCHUNK".to_vec(),
                b"copy".to_vec(),
                b"999999999".to_vec(),
                data.clone(),
            ],
            "ERR invalid offset - no link found",
        ),
        (
            vec![
                b"POTTERY.BF.LOADCHUNK".to_vec(),
                b"copy".to_vec(),
                b"0".to_vec(),
                data.clone(),
            ],
            "ERR received bad data",
        ),
        (
            vec![
                b"POTTERY.BF.LOADCHUNK".to_vec(),
                b"copy".to_vec(),
                b"-7".to_vec(),
                data.clone(),
            ],
            "ERR received bad data",
        ),
        (
            vec![
                b"POTTERY.BF.LOADCHUNK".to_vec(),
                b"copy".to_vec(),
                b"2".to_vec(),
                data.clone(),
            ],
            "ERR received bad data",
        ),
        (header_args("fresh", Vec::new()), "ERR received bad data"),
        (
            header_args("fresh", b"garbage".to_vec()),
            "ERR received bad data",
        ),
        (
            header_args("fresh", header[..header.len() - 1].to_vec()),
            "ERR received bad data",
        ),
    ];
    // A header claiming 2^60 bits, or more than pottery.bf-max-bytes, is refused before any
    // allocation.
    let mut huge = header.clone();
    huge[42..50].copy_from_slice(&(1u64 << 60).to_le_bytes());
    cases.push((
        header_args("fresh", huge),
        "ERR capacity: filter would exceed pottery.bf-max-bytes",
    ));
    let mut corrupt = header.clone();
    corrupt[4] = 9; // version
    cases.push((header_args("fresh", corrupt), "ERR received bad data"));
    for (args, expected) in cases {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        assert_eq!(
            error_of(&mut connection, &refs),
            expected,
            "for {:?}",
            String::from_utf8_lossy(&args[2])
        );
    }
    assert_eq!(server.cmd::<i64>(&["EXISTS", "fresh"]).unwrap(), 0);
    assert_eq!(
        dump(&server, "copy"),
        chunks,
        "failed chunks changed nothing"
    );
    let limited_header = header.clone();
    let _: () = server
        .cmd(&["CONFIG", "SET", "pottery.bf-max-bytes", "64"])
        .unwrap();
    let refs: Vec<Vec<u8>> = header_args("fresh", limited_header);
    let refs: Vec<&[u8]> = refs.iter().map(Vec::as_slice).collect();
    assert_eq!(
        error_of(&mut connection, &refs),
        "ERR capacity: filter would exceed pottery.bf-max-bytes"
    );
    assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

/// Redis's CRC-64 (Jones polynomial, reflected, as in `crc64.c`), to forge DUMP payloads.
fn crc64(data: &[u8]) -> u64 {
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
    let mut crc = 0u64;
    for byte in data {
        crc ^= u64::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[test]
fn corrupt_rdb_payloads_are_refused() {
    let server = Server::start();
    let mut connection = server.connection();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "f", "0.01", "100"])
        .unwrap();
    let _: i64 = server.cmd(&["POTTERY.BF.ADD", "f", "a"]).unwrap();
    // Compressed: flipping bytes breaks the LZF stream, so Redis's own reads fail inside our
    // loader. That must be an error reply, not an abort.
    let compressed: Vec<u8> = server.cmd(&["DUMP", "f"]).unwrap();
    for position in (1..compressed.len() - 10).step_by(3) {
        let mut broken = compressed.clone();
        broken[position] ^= 0x5a;
        let body = broken.len() - 8;
        let crc = crc64(&broken[..body]);
        broken[body..].copy_from_slice(&crc.to_le_bytes());
        let result: redis::RedisResult<()> = redis::cmd("RESTORE")
            .arg("broken")
            .arg(0)
            .arg(broken)
            .arg("REPLACE")
            .query(&mut connection);
        if result.is_ok() {
            // A flip that still decodes gives a valid filter or none at all: never a crash.
            let _: i64 = server
                .cmd(&["POTTERY.BF.EXISTS", "broken", "a"])
                .unwrap_or(0);
        }
    }
    assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
    // Uncompressed, the header can be edited in place.
    let _: () = server
        .cmd(&["CONFIG", "SET", "rdbcompression", "no"])
        .unwrap();
    let payload: Vec<u8> = server.cmd(&["DUMP", "f"]).unwrap();
    let body = payload.len() - 8;
    assert_eq!(
        crc64(&payload[..body]).to_le_bytes(),
        payload[body..],
        "our CRC matches Redis's"
    );
    let header_at = payload
        .windows(4)
        .position(|w| w == b"PTBF")
        .expect("header in the payload");

    let forge = |patch: &dyn Fn(&mut Vec<u8>)| -> Vec<u8> {
        let mut forged = payload.clone();
        patch(&mut forged);
        let body = forged.len() - 8;
        let crc = crc64(&forged[..body]);
        forged[body..].copy_from_slice(&crc.to_le_bytes());
        forged
    };
    let forged = [
        // 2^60 bits in sub-filter 0.
        forge(&|p| p[header_at + 42..header_at + 50].copy_from_slice(&(1u64 << 60).to_le_bytes())),
        // An unknown header version.
        forge(&|p| p[header_at + 4] = 7),
        // Items above capacity.
        forge(&|p| p[header_at + 50..header_at + 58].copy_from_slice(&1000u64.to_le_bytes())),
    ];
    for (number, payload) in forged.iter().enumerate() {
        let result: redis::RedisResult<()> = redis::cmd("RESTORE")
            .arg(format!("bad{number}"))
            .arg(0)
            .arg(payload.as_slice())
            .query(&mut connection);
        let error = result.expect_err("a corrupt payload is refused");
        assert_eq!(error.detail(), Some("Bad data format"), "{error}");
    }
    for number in 0..forged.len() {
        assert_eq!(
            server
                .cmd::<i64>(&["EXISTS", &format!("bad{number}")])
                .unwrap(),
            0
        );
    }
    assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

/// Starts redis-server with the module and `args` after it, expecting it to refuse to start;
/// its log.
fn refused_load(args: &[&str]) -> String {
    let server = pottery_tests::redis_server_binary();
    // No TCP port, only a private Unix socket, so nothing can clash; a refused module ends the
    // process.
    let socket = std::env::temp_dir().join(format!(
        "pottery-load-{}-{}.sock",
        std::process::id(),
        args.join("-").replace('/', "_")
    ));
    let mut child = std::process::Command::new(&server)
        .args(["--port", "0", "--save", "", "--appendonly", "no"])
        .arg("--unixsocket")
        .arg(&socket)
        .arg("--loadmodule")
        .arg(pottery_tests::module_path())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("redis-server runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().expect("kill the server we started");
            let _ = child.wait();
            panic!("redis-server started with {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "{args:?} was accepted");
    let output = child.wait_with_output().expect("output");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn out_of_range_load_arguments_refuse_to_load() {
    for (name, value) in [
        ("bf-expansion", "0"),
        ("bf-max-bytes", "4"),
        ("bf-initial-capacity", "0"),
        ("bf-error-rate", "2"),
    ] {
        let log = refused_load(&[name, value]);
        // Refused for that argument, not for some unrelated start-up problem.
        let reason = if name == "bf-error-rate" {
            "Module Configurations were not set".to_string()
        } else {
            format!("{name} {value} is outside")
        };
        assert!(log.contains(&reason), "{name} {value}: {log}");
    }
}

#[test]
fn unknown_misspelled_and_unpaired_load_arguments_refuse_to_load() {
    for (args, reason) in [
        (
            &["bf-eror-rate", "0.001"][..],
            r#"pottery: unknown load argument "bf-eror-rate"; did you mean bf-error-rate?"#,
        ),
        (
            &["pottery.bf-expansion", "4"][..],
            "as a load argument it is bf-expansion",
        ),
        (&["verbose", "yes"][..], "the known ones are bf-error-rate"),
        (
            &["bf-expansion", "4", "bf-max-bytes"][..],
            "pottery: load argument bf-max-bytes has no value",
        ),
        (
            &["bf-expansion", "4", "bf-expansion", "8"][..],
            "pottery: load argument bf-expansion is given twice",
        ),
        (
            &["bf-aliases", "maybe"][..],
            "pottery: load argument bf-aliases must be yes or no",
        ),
    ] {
        let log = refused_load(args);
        assert!(log.contains(reason), "{args:?}: {log}");
    }
}

#[test]
fn debug_digest_covers_the_filter() {
    let master = Server::builder()
        .config("enable-debug-command", "yes")
        .start();
    let replica = Server::builder()
        .config("enable-debug-command", "yes")
        .start();
    replica.replicate_from(&master);
    let _: Vec<i64> = master.cmd(&["POTTERY.BF.MADD", "f", "a", "b"]).unwrap();
    wait_for_replication(&master, &replica);
    let digest =
        |server: &Server| -> Vec<String> { server.cmd(&["DEBUG", "DIGEST-VALUE", "f"]).unwrap() };
    let before = digest(&master);
    assert_eq!(digest(&replica), before);
    assert_ne!(before, vec!["0".repeat(40)]);
    let _: i64 = master.cmd(&["POTTERY.BF.ADD", "f", "c"]).unwrap();
    assert_ne!(
        digest(&master),
        before,
        "the digest must change with the bits"
    );
    wait_for_replication(&master, &replica);
    assert_eq!(digest(&replica), digest(&master));
    let whole: String = master.cmd(&["DEBUG", "DIGEST"]).unwrap();
    assert_eq!(replica.cmd::<String>(&["DEBUG", "DIGEST"]).unwrap(), whole);
}

#[test]
fn key_specs_help_and_flags() {
    let master = Server::start();
    let cases: [(&[&str], &str); 4] = [
        (&["POTTERY.BF.ADD", "k", "x"], "k"),
        (
            &["POTTERY.BF.INSERT", "k", "CAPACITY", "10", "ITEMS", "a"],
            "k",
        ),
        (&["POTTERY.BF.LOADCHUNK", "k", "1", "data"], "k"),
        (&["POTTERY.HLL.CONTAINS", "h", "a", "b"], "h"),
    ];
    for (args, key) in cases {
        let keys: Vec<String> = master
            .cmd([&["COMMAND", "GETKEYS"][..], args].concat())
            .unwrap();
        assert_eq!(keys, vec![key], "{args:?}");
    }
    let help: Vec<String> = master.cmd(&["POTTERY.HELP"]).unwrap();
    assert!(help.contains(
        &"POTTERY.BF.RESERVE key error_rate capacity [EXPANSION expansion] [NONSCALING]"
            .to_string()
    ));
    assert!(help.contains(&"POTTERY.HLL.CONTAINS key element [element ...]".to_string()));
    // Reads run on a read-only replica; writes are refused there.
    let replica = Server::start();
    replica.replicate_from(&master);
    let _: i64 = master.cmd(&["POTTERY.BF.ADD", "f", "a"]).unwrap();
    wait_for_replication(&master, &replica);
    assert_eq!(
        replica
            .cmd::<i64>(&["POTTERY.BF.EXISTS", "f", "a"])
            .unwrap(),
        1
    );
    assert_eq!(replica.cmd::<i64>(&["POTTERY.BF.CARD", "f"]).unwrap(), 1);
    let refused = replica
        .cmd::<i64>(&["POTTERY.BF.ADD", "f", "b"])
        .unwrap_err();
    assert_eq!(refused.code(), Some("READONLY"));
}

#[test]
fn concurrent_writers_each_item_counted_once() {
    let server = Server::start();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "shared", "0.001", "1000"])
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let mut connection = server.connection();
            std::thread::spawn(move || {
                let items: Vec<String> = (0..2000).map(|n| format!("t{thread}-{n}")).collect();
                let mut new = 0;
                for batch in items.chunks(50) {
                    let replies: Vec<i64> = redis::cmd("POTTERY.BF.MADD")
                        .arg("shared")
                        .arg(batch)
                        .query(&mut connection)
                        .unwrap();
                    new += replies.iter().filter(|r| **r == 1).count() as i64;
                }
                (new, items)
            })
        })
        .collect();
    let mut new_total = 0;
    let mut everything = Vec::new();
    for thread in threads {
        let (new, items) = thread.join().unwrap();
        new_total += new;
        everything.extend(items);
    }
    // Every 1 reply is one counted item, whatever the interleaving, and the chain grew safely.
    assert_eq!(
        server.cmd::<i64>(&["POTTERY.BF.CARD", "shared"]).unwrap(),
        new_total
    );
    assert!(new_total > 7900, "{new_total} new of 8000 at 0.1%");
    assert_eq!(
        count_present(&mut server.connection(), "shared", &everything),
        everything.len()
    );
    assert!(info_field(&server, "shared", "FILTERS") >= 4);
}

#[test]
fn restore_respects_the_loading_servers_byte_limit() {
    let server = Server::start();
    let mut connection = server.connection();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "f", "0.01", "1000"])
        .unwrap();
    let payload: Vec<u8> = server.cmd(&["DUMP", "f"]).unwrap();
    let _: () = server
        .cmd(&["CONFIG", "SET", "pottery.bf-max-bytes", "1024"])
        .unwrap();
    let refused = redis::cmd("RESTORE")
        .arg("copy")
        .arg(0)
        .arg(&payload[..])
        .query::<()>(&mut connection)
        .unwrap_err();
    assert_eq!(refused.detail(), Some("Bad data format"));
    let _: () = server
        .cmd(&["CONFIG", "SET", "pottery.bf-max-bytes", "2048"])
        .unwrap();
    let _: () = redis::cmd("RESTORE")
        .arg("copy")
        .arg(0)
        .arg(&payload[..])
        .query(&mut connection)
        .unwrap();
    assert_eq!(dump(&server, "copy"), dump(&server, "f"));
}

#[test]
fn filters_larger_than_one_chunk_survive_every_path() {
    // 15 million items at 1%: an 18 MB bit array, so SCANDUMP, the RDB and the AOF rewrite all
    // split one sub-filter into a 16 MiB chunk and a remainder.
    let server = Server::builder()
        .aof(true)
        .config("aof-use-rdb-preamble", "no")
        .start();
    let mut connection = server.connection();
    let _: () = server
        .cmd(&[
            "POTTERY.BF.RESERVE",
            "big",
            "0.01",
            "15000000",
            "NONSCALING",
        ])
        .unwrap();
    // Items spread over the whole array, so both chunks hold set bits.
    let items: Vec<String> = (0..5000).map(|n| format!("big-{n}")).collect();
    add_all(&mut connection, "big", &items);
    let chunks = dump(&server, "big");
    assert_eq!(chunks.len(), 3, "header, a 16 MiB chunk and the rest");
    assert_eq!(chunks[1].1.len(), 16 << 20);
    assert!(chunks[1].1.iter().any(|b| *b != 0) && chunks[2].1.iter().any(|b| *b != 0));

    load(&server, "loaded", &chunks);
    assert_eq!(dump(&server, "loaded"), chunks);
    let payload: Vec<u8> = server.cmd(&["DUMP", "big"]).unwrap();
    let _: () = redis::cmd("RESTORE")
        .arg("restored")
        .arg(0)
        .arg(payload)
        .query(&mut connection)
        .unwrap();
    assert_eq!(dump(&server, "restored"), chunks);

    let _: String = server.cmd(&["BGREWRITEAOF"]).unwrap();
    assert!(
        server.aof_rewrite_finished_within(Duration::from_secs(30)),
        "AOF rewrite did not finish"
    );
    let _: () = server.cmd(&["SAVE"]).unwrap();
    server.restart();
    for key in ["big", "loaded", "restored"] {
        assert_eq!(dump(&server, key), chunks, "{key} after the AOF reload");
    }
    assert_eq!(
        count_present(&mut server.connection(), "big", &items),
        items.len()
    );
}

#[test]
fn bf_aliases_serve_redisbloom_clients_when_asked_for() {
    let server = Server::builder().module_args(["bf-aliases", "yes"]).start();
    let _: () = server.cmd(&["BF.RESERVE", "r", "0.01", "100"]).unwrap();
    assert_eq!(server.cmd::<i64>(&["BF.ADD", "r", "a"]).unwrap(), 1);
    assert_eq!(
        server.cmd::<Vec<i64>>(&["BF.MADD", "r", "a", "b"]).unwrap(),
        [0, 1]
    );
    assert_eq!(
        server
            .cmd::<Vec<i64>>(&["BF.INSERT", "r", "NOCREATE", "ITEMS", "c"])
            .unwrap(),
        [1]
    );
    assert_eq!(server.cmd::<i64>(&["BF.EXISTS", "r", "c"]).unwrap(), 1);
    assert_eq!(
        server
            .cmd::<Vec<i64>>(&["BF.MEXISTS", "r", "a", "z"])
            .unwrap(),
        [1, 0]
    );
    assert_eq!(server.cmd::<i64>(&["BF.CARD", "r"]).unwrap(), 3);
    assert_eq!(info_field(&server, "r", "CAPACITY"), 100);
    // One filter, whichever name wrote it; the alias's errors name the alias.
    assert_eq!(
        server.cmd::<i64>(&["POTTERY.BF.EXISTS", "r", "b"]).unwrap(),
        1
    );
    let mut connection = server.connection();
    assert_eq!(
        error_of(&mut connection, &[b"BF.ADD", b"r"]),
        "ERR wrong number of arguments for 'bf.add' command"
    );
    // Also when the module, not Redis, counts the arguments.
    assert_eq!(
        error_of(&mut connection, &[b"BF.INFO", b"r", b"SIZE", b"ITEMS"]),
        "ERR wrong number of arguments for 'bf.info' command"
    );
    assert_eq!(
        error_of(&mut connection, &[b"BF.RESERVE", b"r", b"0.01", b"100"]),
        "ERR item exists"
    );
    let keys: Vec<String> = server
        .cmd(&["COMMAND", "GETKEYS", "BF.MADD", "r", "x", "y"])
        .unwrap();
    assert_eq!(keys, ["r"]);
    // SCANDUMP/LOADCHUNK move a filter between the two names.
    let (mut iterator, mut chunks) = (0i64, Vec::new());
    loop {
        let (next, chunk): (i64, Vec<u8>) = server
            .cmd(&["BF.SCANDUMP", "r", &iterator.to_string()])
            .unwrap();
        if next == 0 {
            break;
        }
        chunks.push((next, chunk));
        iterator = next;
    }
    for (iterator, chunk) in &chunks {
        let _: () = redis::cmd("POTTERY.BF.LOADCHUNK")
            .arg("copy")
            .arg(iterator)
            .arg(chunk.as_slice())
            .query(&mut connection)
            .unwrap();
    }
    assert_eq!(server.cmd::<i64>(&["BF.EXISTS", "copy", "c"]).unwrap(), 1);

    // redis-py's RedisBloom client, unchanged.
    let script = format!(
        "import redis; r = redis.Redis(port={}); b = r.bf(); \
         print(b.add('py', 'x'), b.exists('py', 'x'), b.madd('py', 'x', 'y'), b.info('py').capacity)",
        server.port()
    );
    assert_eq!(pottery_tests::python_output(&script), "1 1 [0, 1] 100");

    let plain = Server::start();
    assert!(
        plain.cmd::<i64>(&["BF.ADD", "r", "a"]).is_err(),
        "no aliases unless asked"
    );
    let declined = Server::builder().module_args(["bf-aliases", "no"]).start();
    assert!(declined.cmd::<i64>(&["BF.ADD", "r", "a"]).is_err());
}
