//! `POTTERY.BF.*` against RedisBloom's `BF.*`, both loaded into one server (our aliases off):
//! every case of `cases.txt` runs on each module from an empty database, over RESP2 and RESP3,
//! and the replies must be equal, error texts included, except for the cases marked `!!` (the
//! README's RedisBloom compatibility table), which must differ (`!!RESP2`: over RESP2 only).
//!
//! `cases.txt`, one case a line: `fixtures | command ; command ...`, where `$name` is a key
//! (`rb:name` for RedisBloom, `pt:name` for us), `""` an empty argument, and `BF.X` becomes
//! `POTTERY.BF.X` for us. Compared as sent, except: our command names in arity errors, the
//! `Size` of `INFO` (ours counts the bit arrays, RedisBloom adds its structs) and the header
//! chunk of `SCANDUMP` (each module's own format; the data chunks are compared byte for byte).
//!
//! RedisBloom comes from `pottery_tests::redisbloom_path()`; `scripts/test` always provides it.

mod resp;

use pottery_tests::Server;
use resp::{Reply, Resp};
use std::path::PathBuf;

const CASES: &str = include_str!("cases.txt");

/// What each fixture name creates before a case runs.
const FIXTURES: &[(&str, &[&str])] = &[
    ("text", &["SET $text hello"]),
    ("f", &["BF.RESERVE $f 0.01 100"]),
    (
        "full",
        &["BF.RESERVE $full 0.01 2 NONSCALING", "BF.MADD $full a b"],
    ),
    ("ns", &["BF.RESERVE $ns 0.01 10 NONSCALING"]),
    (
        "x4",
        &["BF.RESERVE $x4 0.001 50 EXPANSION 4", "BF.MADD $x4 a b c"],
    ),
];

struct Case<'a> {
    line: &'a str,
    fixtures: Vec<&'a str>,
    commands: Vec<&'a str>,
    /// Why the replies differ, for the documented differences.
    differs: Option<&'a str>,
    /// The one protocol in which they differ (`!!RESP2`), or `None` for both.
    differs_over: Option<u8>,
}

fn cases() -> Vec<Case<'static>> {
    CASES
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (body, differs) = match line.split_once(" !!") {
                Some((body, why)) => (body, Some(why)),
                None => (line, None),
            };
            let (differs, differs_over) =
                match differs.map(|why| why.split_at(why.find(' ').unwrap_or(0))) {
                    Some(("RESP2", why)) => (Some(why.trim()), Some(2)),
                    Some(("RESP3", why)) => (Some(why.trim()), Some(3)),
                    Some((_, why)) => (Some(why.trim()), None),
                    None => (None, None),
                };
            let (fixtures, commands) = body.split_once('|').expect("fixtures | commands");
            Case {
                line,
                fixtures: fixtures.split_whitespace().collect(),
                commands: commands.split(';').map(str::trim).collect(),
                differs,
                differs_over,
            }
        })
        .collect()
}

/// The arguments of `command` for one module: keys prefixed, our names prefixed.
fn arguments(command: &str, ours: bool) -> Vec<Vec<u8>> {
    command
        .split_whitespace()
        .map(|word| {
            let word = match word {
                "\"\"" => String::new(),
                _ if word.starts_with("BF.") && ours => format!("POTTERY.{word}"),
                _ => match word.strip_prefix('$') {
                    Some(name) => format!("{}:{name}", if ours { "pt" } else { "rb" }),
                    None => word.to_owned(),
                },
            };
            word.into_bytes()
        })
        .collect()
}

/// A reply with what may differ masked: see the module documentation.
fn normalized(reply: Reply) -> Reply {
    let size = |label: &Reply| *label == Reply::Simple("Size".to_owned());
    match reply {
        Reply::Error(text) => Reply::Error(text.replace("pottery.bf.", "bf.")),
        Reply::Array(items) if matches!(items.as_slice(), [Reply::Integer(1), Reply::Bulk(_)]) => {
            Reply::Array(vec![Reply::Integer(1), Reply::Bulk(b"<header>".to_vec())])
        }
        Reply::Array(items) => {
            let mut items: Vec<Reply> = items.into_iter().map(normalized).collect();
            for at in 1..items.len() {
                if size(&items[at - 1]) {
                    items[at] = Reply::Integer(-1);
                }
            }
            Reply::Array(items)
        }
        Reply::Map(entries) => Reply::Map(
            entries
                .into_iter()
                .map(|(key, value)| {
                    let value = if size(&key) {
                        Reply::Integer(-1)
                    } else {
                        normalized(value)
                    };
                    (key, value)
                })
                .collect(),
        ),
        other => other,
    }
}

fn run(connection: &mut Resp, case: &Case, ours: bool) -> Vec<Reply> {
    assert_eq!(
        connection.call(&arguments("FLUSHALL", false)),
        Reply::Simple("OK".to_owned())
    );
    for name in &case.fixtures {
        let (_, setup) = FIXTURES
            .iter()
            .find(|(fixture, _)| fixture == name)
            .unwrap_or_else(|| panic!("no fixture {name:?} in {:?}", case.line));
        for command in *setup {
            let reply = connection.call(&arguments(command, ours));
            assert!(!matches!(reply, Reply::Error(_)), "{command}: {reply:?}");
        }
    }
    case.commands
        .iter()
        .map(|command| normalized(connection.call(&arguments(command, ours))))
        .collect()
}

/// A server with both modules, or `None` (printing why) when RedisBloom is not installed.
fn both_modules() -> Option<Server> {
    let Some(redisbloom) = redisbloom_path() else {
        eprintln!(
            "skipped: no redisbloom.so (set POTTERY_REDISBLOOM, or run scripts/test, which \
             installs it into the venv)"
        );
        return None;
    };
    Some(
        Server::builder()
            .arg("--loadmodule")
            .arg(redisbloom)
            .start(),
    )
}

fn redisbloom_path() -> Option<PathBuf> {
    pottery_tests::redisbloom_path()
}

fn compare_over(protocol: u8) {
    let Some(server) = both_modules() else { return };
    let mut connection = Resp::connect(server.port(), protocol);
    let mut failures = Vec::new();
    let cases = cases();
    for case in &cases {
        let theirs = run(&mut connection, case, false);
        let ours = run(&mut connection, case, true);
        let differs = case
            .differs
            .filter(|_| case.differs_over.is_none_or(|p| p == protocol));
        match (differs, theirs == ours) {
            (None, false) => failures.push(format!(
                "{}\n  RedisBloom: {theirs:?}\n  pottery:    {ours:?}",
                case.line
            )),
            (Some(why), true) => failures.push(format!(
                "{}\n  documented as differing ({why}) but both replied {ours:?}",
                case.line
            )),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "RESP{protocol}: {} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn replies_and_error_texts_equal_redisbloom_over_resp2() {
    compare_over(2);
}

#[test]
fn replies_and_error_texts_equal_redisbloom_over_resp3() {
    compare_over(3);
}

#[test]
fn the_table_covers_every_command_and_its_errors() {
    let cases = cases();
    assert!(cases.len() >= 90, "{} cases", cases.len());
    for command in [
        "RESERVE",
        "ADD",
        "MADD",
        "INSERT",
        "EXISTS",
        "MEXISTS",
        "INFO",
        "CARD",
        "SCANDUMP",
        "LOADCHUNK",
    ] {
        let runs = |case: &&Case| {
            case.commands
                .iter()
                .any(|c| c.starts_with(&format!("BF.{command} ")) || *c == format!("BF.{command}"))
        };
        let count = cases.iter().filter(runs).count();
        assert!(count >= 5, "BF.{command}: only {count} cases");
        assert!(
            cases
                .iter()
                .filter(runs)
                .any(|case| case.fixtures.contains(&"text")),
            "BF.{command}: no case on a key of another type"
        );
    }
    for (index, (fixture, _)) in FIXTURES.iter().enumerate() {
        assert!(
            cases.iter().any(|case| case.fixtures.contains(fixture)),
            "fixture {index} ({fixture}) unused"
        );
    }
}

/// Both modules' SCANDUMP of the same items: the same iterators and chunk lengths, byte-equal
/// data chunks (the same hashing and bit layout), and each module reloads its own dump. A
/// RedisBloom header is not ours to load: `ERR received bad data`.
#[test]
fn scandump_walks_alike_and_data_chunks_are_byte_equal() {
    let Some(server) = both_modules() else { return };
    let mut connection = Resp::connect(server.port(), 2);
    let items: Vec<String> = (0..2500).map(|i| format!("item-{i}")).collect();
    let mut dumps = Vec::new();
    for ours in [false, true] {
        let reserve = arguments("BF.RESERVE $walk 0.01 1000 EXPANSION 2", ours);
        assert_eq!(connection.call(&reserve), Reply::Simple("OK".to_owned()));
        let mut madd = arguments("BF.MADD $walk", ours);
        madd.extend(items.iter().map(|item| item.clone().into_bytes()));
        assert!(matches!(connection.call(&madd), Reply::Array(_)));
        let mut chunks = Vec::new();
        let mut iterator = 0;
        loop {
            let mut scandump = arguments("BF.SCANDUMP $walk", ours);
            scandump.push(iterator.to_string().into_bytes());
            let Reply::Array(reply) = connection.call(&scandump) else {
                panic!("SCANDUMP {iterator}")
            };
            let [Reply::Integer(next), Reply::Bulk(chunk)] = reply.as_slice() else {
                panic!("SCANDUMP {iterator}: {reply:?}")
            };
            chunks.push((*next, chunk.clone()));
            if *next == 0 {
                break;
            }
            iterator = *next;
        }
        // Reload into a fresh key of the same module and ask both for every item and more.
        for (next, chunk) in &chunks {
            if *next == 0 {
                break;
            }
            let iterator = *next;
            let mut load = arguments("BF.LOADCHUNK $copy", ours);
            load.push(iterator.to_string().into_bytes());
            load.push(chunk.clone());
            assert_eq!(connection.call(&load), Reply::Simple("OK".to_owned()));
        }
        let probe: Vec<Vec<u8>> = (0..3000)
            .map(|i| format!("item-{i}").into_bytes())
            .collect();
        let mut original = arguments("BF.MEXISTS $walk", ours);
        original.extend(probe.iter().cloned());
        let mut copy = arguments("BF.MEXISTS $copy", ours);
        copy.extend(probe.iter().cloned());
        assert_eq!(connection.call(&original), connection.call(&copy));
        dumps.push(chunks);
    }
    let (theirs, ours) = (&dumps[0], &dumps[1]);
    assert!(
        theirs.len() >= 4,
        "a chain of several sub-filters: {}",
        theirs.len()
    );
    assert_eq!(theirs.len(), ours.len());
    assert!(!theirs[0].1.is_empty() && !ours[0].1.is_empty());
    assert_eq!(theirs[1..], ours[1..], "data chunks and iterators");

    let mut load = arguments("BF.LOADCHUNK $foreign 1", true);
    load.push(theirs[0].1.clone());
    assert_eq!(
        connection.call(&load),
        Reply::Error("ERR received bad data".to_owned())
    );
}
