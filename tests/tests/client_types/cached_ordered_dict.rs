//! `CachedOrderedDict` on a real server: one `HMGET` for all keys, misses reported in order,
//! writes through to the hash with a sliding expiry, bad input refused with the server up, and
//! the cache shared with Python pottery 3.0.1's `CachedOrderedDict`.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use pottery::{CachedOrderedDict, Error};
use pottery_tests::{python, Server};

fn reset_stats(server: &Server) {
    server.cmd::<()>(&["CONFIG", "RESETSTAT"]).unwrap();
}

#[test]
fn hits_and_misses_come_in_the_given_order_from_one_hmget() {
    let server = Server::start();
    server
        .cmd::<()>(&["HSET", "docs", "3", "\"three\"", "2", "\"two\""])
        .unwrap();
    reset_stats(&server);
    let docs: CachedOrderedDict<u64, String> =
        CachedOrderedDict::open(server.url().as_str(), "docs", [3, 1, 2, 1, 4]).unwrap();
    assert_eq!(server.command_calls("HMGET"), 1);
    assert_eq!(docs.keys().copied().collect::<Vec<_>>(), [3, 1, 2, 4]);
    assert_eq!(docs.len(), 4);
    assert_eq!(docs.misses().copied().collect::<Vec<_>>(), [1, 4]);
    assert_eq!(docs.get(&3).map(String::as_str), Some("three"));
    assert_eq!(docs.get(&1), None);
    assert_eq!(docs.get(&99), None);
    assert!(docs.contains_key(&1));
    assert!(!docs.contains_key(&99));
    let entries: Vec<(u64, Option<String>)> = docs.into_entries();
    assert_eq!(
        entries,
        [
            (3, Some("three".to_owned())),
            (1, None),
            (2, Some("two".to_owned())),
            (4, None)
        ]
    );
}

#[test]
fn filled_misses_are_written_through_and_hit_next_time() {
    let server = Server::start();
    let mut docs: CachedOrderedDict<String, Vec<i64>> = CachedOrderedDict::open(
        server.url().as_str(),
        "docs",
        [
            "".to_owned(),
            "é".to_owned(),
            "😀".to_owned(),
            "\"q\"\n".to_owned(),
        ],
    )
    .unwrap();
    assert_eq!(docs.misses().count(), 4);
    let mut made = 0;
    docs.fill_misses_with(|key| {
        made += 1;
        vec![key.len() as i64, -1]
    })
    .unwrap();
    assert_eq!(made, 4);
    assert_eq!(docs.misses().count(), 0);
    let raw: Option<String> = server.cmd(&["HGET", "docs", "\"\\\"q\\\"\\n\""]).unwrap();
    assert_eq!(raw.as_deref(), Some("[4, -1]"));
    assert_eq!(server.cmd::<i64>(&["HLEN", "docs"]).unwrap(), 4);

    reset_stats(&server);
    let again: CachedOrderedDict<String, Vec<i64>> =
        CachedOrderedDict::open(server.url().as_str(), "docs", ["😀".to_owned()]).unwrap();
    assert_eq!(again.misses().count(), 0);
    assert_eq!(again.get("😀"), Some(&vec![4, -1]));
    assert_eq!(server.command_calls("HMGET"), 1);
}

#[test]
fn every_write_sets_the_expiry_and_none_leaves_it_alone() {
    let server = Server::start();
    let mut docs: CachedOrderedDict<u8, u8> =
        CachedOrderedDict::open(server.url().as_str(), "docs", [1]).unwrap();
    // open's PEXPIRE hit no key: the hash does not exist yet.
    assert_eq!(server.cmd::<i64>(&["EXISTS", "docs"]).unwrap(), 0);
    docs.insert(1, 10).unwrap();
    let ttl: i64 = server.cmd(&["PTTL", "docs"]).unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");

    server.cmd::<()>(&["PERSIST", "docs"]).unwrap();
    let mut forever: CachedOrderedDict<u8, u8> =
        CachedOrderedDict::open_with_timeout(server.url().as_str(), "docs", [1, 2], None).unwrap();
    forever.insert(2, 20).unwrap();
    assert_eq!(server.cmd::<i64>(&["PTTL", "docs"]).unwrap(), -1);

    let long: CachedOrderedDict<u8, u8> = CachedOrderedDict::open_with_timeout(
        server.url().as_str(),
        "docs",
        [2],
        Some(Duration::from_secs(1000)),
    )
    .unwrap();
    assert_eq!(long.get(&2), Some(&20));
    let ttl: i64 = server.cmd(&["PTTL", "docs"]).unwrap();
    assert!(ttl > 60_000 && ttl <= 1_000_000, "{ttl}");
}

#[test]
fn no_keys_sends_no_command() {
    let server = Server::start();
    reset_stats(&server);
    let docs: CachedOrderedDict<u8, u8> =
        CachedOrderedDict::open(server.url().as_str(), "docs", []).unwrap();
    assert!(docs.is_empty());
    assert_eq!(docs.misses().count(), 0);
    assert_eq!(server.command_calls("HMGET"), 0);
    let mut docs = docs;
    docs.extend([]).unwrap();
    assert_eq!(server.cmd::<i64>(&["EXISTS", "docs"]).unwrap(), 0);
}

#[test]
fn new_keys_are_appended_and_later_values_win() {
    let server = Server::start();
    let mut docs: CachedOrderedDict<String, i64> =
        CachedOrderedDict::open(server.url().as_str(), "docs", ["b".to_owned()]).unwrap();
    docs.extend([
        ("z".to_owned(), 1),
        ("b".to_owned(), 2),
        ("z".to_owned(), 3),
    ])
    .unwrap();
    docs.insert("a".to_owned(), i64::MIN).unwrap();
    let entries: Vec<(String, Option<i64>)> = docs
        .iter()
        .map(|(key, value)| (key.clone(), value.copied()))
        .collect();
    assert_eq!(
        entries,
        [
            ("b".to_owned(), Some(2)),
            ("z".to_owned(), Some(3)),
            ("a".to_owned(), Some(i64::MIN))
        ]
    );
    assert_eq!(
        server.cmd::<String>(&["HGET", "docs", "\"z\""]).unwrap(),
        "3"
    );
}

#[test]
fn many_entries_are_written_in_batches() {
    let server = Server::start();
    let mut docs: CachedOrderedDict<u32, u32> =
        CachedOrderedDict::open(server.url().as_str(), "docs", 0..2500).unwrap();
    assert_eq!(docs.misses().count(), 2500);
    docs.fill_misses_with(|n| n * 2).unwrap();
    assert_eq!(server.cmd::<i64>(&["HLEN", "docs"]).unwrap(), 2500);
    let again: CachedOrderedDict<u32, u32> =
        CachedOrderedDict::open(server.url().as_str(), "docs", (0..2500).rev()).unwrap();
    assert_eq!(again.misses().count(), 0);
    assert_eq!(again.iter().next(), Some((&2499, Some(&4998))));
}

#[test]
fn setdefault_keeps_what_the_cache_already_holds_under_contention() {
    let server = Server::start();
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|n| {
            let url = server.url();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut docs: CachedOrderedDict<String, i64> =
                    CachedOrderedDict::open(url.as_str(), "docs", ["k".to_owned()]).unwrap();
                barrier.wait();
                *docs.setdefault("k".to_owned(), n).unwrap()
            })
        })
        .collect();
    let values: Vec<i64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(values.iter().all(|value| *value == values[0]), "{values:?}");
    let stored: String = server.cmd(&["HGET", "docs", "\"k\""]).unwrap();
    assert_eq!(stored, values[0].to_string());

    let mut docs: CachedOrderedDict<String, i64> =
        CachedOrderedDict::open(server.url().as_str(), "docs", []).unwrap();
    assert_eq!(*docs.setdefault("k".to_owned(), 100).unwrap(), values[0]);
    assert_eq!(*docs.setdefault("new".to_owned(), 100).unwrap(), 100);
    assert_eq!(docs.keys().cloned().collect::<Vec<_>>(), ["k", "new"]);
}

#[test]
fn bad_input_is_refused_and_the_server_stays_up() {
    let server = Server::start();
    server.cmd::<()>(&["SET", "text", "x"]).unwrap();
    let wrong_type = CachedOrderedDict::<u8, u8>::open(server.url().as_str(), "text", [1]);
    assert!(
        // The HMGET is pipelined with the PEXPIRE: the redis crate reports it as a pipeline
        // failure that carries the server's WRONGTYPE.
        matches!(&wrong_type, Err(Error::Redis(e)) if e.to_string().contains("WRONGTYPE")),
        "{wrong_type:?}"
    );

    server
        .cmd::<()>(&["HSET", "corrupt", "1", "not json"])
        .unwrap();
    let corrupt = CachedOrderedDict::<u8, u8>::open(server.url().as_str(), "corrupt", [1]);
    assert!(matches!(corrupt, Err(Error::Decode(_))), "{corrupt:?}");

    for timeout in [Duration::ZERO, Duration::from_micros(999), Duration::MAX] {
        let refused = CachedOrderedDict::<u8, u8>::open_with_timeout(
            server.url().as_str(),
            "docs",
            [1],
            Some(timeout),
        );
        assert!(
            matches!(
                refused,
                Err(Error::InvalidArgument {
                    argument: "timeout",
                    ..
                })
            ),
            "{timeout:?}"
        );
    }
    assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

/// Runs `script` with Python pottery, `redis` bound to the server; returns its stdout.
fn run_python(server: &Server, script: &str) -> String {
    let program = format!(
        "import json, sys\nfrom redis import Redis\nfrom pottery import CachedOrderedDict\n\
         redis = Redis(host='127.0.0.1', port={})\n{script}",
        server.port()
    );
    let output = Command::new(python())
        .args(["-c", &program])
        .output()
        .expect("Python runs");
    assert!(
        output.status.success(),
        "Python pottery failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The JSON documents the interop test stores.
#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Doc {
    Map(BTreeMap<String, i64>),
    List(Vec<Option<f64>>),
    Text(String),
}

#[test]
fn python_and_rust_share_the_cache() {
    let server = Server::start();
    // Python fills two misses; Rust hits them and fills the rest.
    let printed = run_python(
        &server,
        "d = CachedOrderedDict(redis_client=redis, redis_key='docs', dict_keys=['a', 'é'])\n\
         print(json.dumps(sorted(d.misses())))\n\
         d.update({'a': {'n': 1}, 'é': [1.5, None]})\n",
    );
    assert_eq!(printed.trim(), "[\"a\", \"\\u00e9\"]");

    let mut docs: CachedOrderedDict<String, Doc> = CachedOrderedDict::open(
        server.url().as_str(),
        "docs",
        ["é".to_owned(), "😀".to_owned(), "a".to_owned()],
    )
    .unwrap();
    assert_eq!(docs.misses().cloned().collect::<Vec<_>>(), ["😀"]);
    assert_eq!(
        docs.get("a"),
        Some(&Doc::Map(BTreeMap::from([("n".to_owned(), 1)])))
    );
    assert_eq!(docs.get("é"), Some(&Doc::List(vec![Some(1.5), None])));
    docs.insert("😀".to_owned(), Doc::Text("smile".to_owned()))
        .unwrap();

    let printed = run_python(
        &server,
        "d = CachedOrderedDict(redis_client=redis, redis_key='docs', dict_keys=['😀', 'a', 'é'])\n\
         print(json.dumps([sorted(d.misses()), list(d.items())]))\n",
    );
    assert_eq!(
        printed.trim(),
        "[[], [[\"\\ud83d\\ude00\", \"smile\"], [\"a\", {\"n\": 1}], [\"\\u00e9\", [1.5, null]]]]"
    );
}
