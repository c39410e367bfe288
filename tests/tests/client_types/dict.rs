//! `RedisDict` on a real server: the same random operations on a `HashMap` give the same
//! results; keys are owned or not as designed; atomic operations stay atomic under contention.

use std::collections::HashMap;
use std::sync::{Arc, Barrier};

use pottery::aio::Tokio;
use pottery::{containers, Blocking, Error, RedisDict};
use pottery_tests::{block_on, Server, Wait};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Debug, Clone)]
enum Operation {
    Get(String),
    Insert(String, i64),
    Put(String, i64),
    Remove(String),
    ContainsKey(String),
    Len,
    SetDefault(String, i64),
    GetOrInsertWith(String, i64),
    Extend(Vec<(String, i64)>),
    Clear,
    Iterate,
    Keys,
    Values,
    Snapshot,
}

fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("é".to_owned()),
        Just("😀".to_owned()),
        Just("\"quoted\"\n".to_owned()),
        "[a-c]{1,3}",
    ]
}

fn any_operation() -> impl Strategy<Value = Operation> {
    let value = prop_oneof![any::<i64>(), -3i64..3];
    prop_oneof![
        any_key().prop_map(Operation::Get),
        (any_key(), value.clone()).prop_map(|(k, v)| Operation::Insert(k, v)),
        (any_key(), value.clone()).prop_map(|(k, v)| Operation::Put(k, v)),
        any_key().prop_map(Operation::Remove),
        any_key().prop_map(Operation::ContainsKey),
        Just(Operation::Len),
        (any_key(), value.clone()).prop_map(|(k, v)| Operation::SetDefault(k, v)),
        (any_key(), value.clone()).prop_map(|(k, v)| Operation::GetOrInsertWith(k, v)),
        proptest::collection::vec((any_key(), value), 0..5).prop_map(Operation::Extend),
        Just(Operation::Clear),
        Just(Operation::Iterate),
        Just(Operation::Keys),
        Just(Operation::Values),
        Just(Operation::Snapshot),
    ]
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

#[test]
fn behaves_like_a_hashmap_on_random_operations() {
    behaves_like_a_hashmap::<Blocking>(|dict, key, value| dict.get_or_insert_with(key, || value));
}

#[test]
fn the_async_dict_behaves_like_a_hashmap_on_random_operations() {
    behaves_like_a_hashmap::<Tokio>(|dict, key, value| {
        block_on(dict.get_or_insert_with(key, || value))
    });
}

/// The model test of both faces: the same random operations on a `HashMap` and a dict.
fn behaves_like_a_hashmap<F: Wait>(
    get_or_insert_with: impl Fn(
        &containers::RedisDict<String, i64, F>,
        &str,
        i64,
    ) -> pottery::Result<i64>,
) where
    containers::RedisDict<String, i64, F>: Opens,
{
    let server = Server::start();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let strategy = proptest::collection::vec(any_operation(), 1..40);
    runner
        .run(&strategy, |operations| {
            let dict = <containers::RedisDict<String, i64, F> as Opens>::new(server.url());
            let mut model: HashMap<String, i64> = HashMap::new();
            for operation in operations {
                match operation.clone() {
                    Operation::Get(k) => {
                        prop_assert_eq!(F::wait(dict.get(&k)).unwrap(), model.get(&k).copied())
                    }
                    Operation::Insert(k, v) => {
                        prop_assert_eq!(F::wait(dict.insert(&k, &v)).unwrap(), model.insert(k, v))
                    }
                    Operation::Put(k, v) => {
                        prop_assert_eq!(
                            F::wait(dict.put(&k, &v)).unwrap(),
                            model.insert(k, v).is_none()
                        )
                    }
                    Operation::Remove(k) => {
                        prop_assert_eq!(F::wait(dict.remove(&k)).unwrap(), model.remove(&k))
                    }
                    Operation::ContainsKey(k) => {
                        prop_assert_eq!(
                            F::wait(dict.contains_key(&k)).unwrap(),
                            model.contains_key(&k)
                        )
                    }
                    Operation::Len => {
                        prop_assert_eq!(F::wait(dict.len()).unwrap(), model.len());
                        prop_assert_eq!(F::wait(dict.is_empty()).unwrap(), model.is_empty());
                    }
                    Operation::SetDefault(k, v) => {
                        prop_assert_eq!(
                            F::wait(dict.setdefault(&k, &v)).unwrap(),
                            *model.entry(k).or_insert(v)
                        );
                    }
                    Operation::GetOrInsertWith(k, v) => {
                        prop_assert_eq!(
                            get_or_insert_with(&dict, &k, v).unwrap(),
                            *model.entry(k).or_insert_with(|| v)
                        );
                    }
                    Operation::Extend(entries) => {
                        F::wait(dict.extend(entries.clone())).unwrap();
                        model.extend(entries);
                    }
                    Operation::Clear => {
                        F::wait(dict.clear()).unwrap();
                        model.clear();
                    }
                    Operation::Iterate => {
                        let ours: Vec<(String, i64)> = F::collect(dict.iter()).unwrap();
                        prop_assert_eq!(sorted(ours), sorted(model.clone().into_iter().collect()));
                    }
                    Operation::Keys => {
                        let ours: Vec<String> = F::collect(dict.keys()).unwrap();
                        prop_assert_eq!(sorted(ours), sorted(model.keys().cloned().collect()));
                    }
                    Operation::Values => {
                        let ours: Vec<i64> = F::collect(dict.values()).unwrap();
                        prop_assert_eq!(sorted(ours), sorted(model.values().copied().collect()));
                    }
                    Operation::Snapshot => {
                        prop_assert_eq!(F::wait(dict.to_hashmap()).unwrap(), model.clone())
                    }
                }
            }
            prop_assert_eq!(F::wait(dict.to_hashmap()).unwrap(), model);
            Ok(())
        })
        .unwrap();
    // Every dict above had a random key, deleted when it was dropped.
    let left: i64 = server.cmd(&["DBSIZE"]).unwrap();
    assert_eq!(left, 0);
}

/// Opens a dict at a new random key, on either face.
trait Opens {
    fn new(url: String) -> Self;
}

impl Opens for containers::RedisDict<String, i64, Blocking> {
    fn new(url: String) -> Self {
        RedisDict::new(url).expect("dict")
    }
}

impl Opens for containers::RedisDict<String, i64, Tokio> {
    fn new(url: String) -> Self {
        pottery::aio::RedisDict::new(url).expect("dict")
    }
}

#[test]
fn stores_python_pottery_bytes() {
    let server = Server::start();
    let dict: RedisDict<serde_json_like::Key, Vec<f64>> =
        RedisDict::open(server.url(), "layout").unwrap();
    dict.put(&serde_json_like::Key::Number(10), &vec![1e16, -0.0])
        .unwrap();
    dict.put(&serde_json_like::Key::Number(9), &vec![0.5])
        .unwrap();
    let raw: HashMap<Vec<u8>, Vec<u8>> = server.cmd(&["HGETALL", "layout"]).unwrap();
    assert_eq!(
        raw,
        HashMap::from([
            (b"10".to_vec(), b"[1e+16, -0.0]".to_vec()),
            (b"9".to_vec(), b"[0.5]".to_vec()),
        ])
    );
    let text: RedisDict<String, String> = RedisDict::open(server.url(), "text").unwrap();
    text.put("é", "😀").unwrap();
    let raw: HashMap<Vec<u8>, Vec<u8>> = server.cmd(&["HGETALL", "text"]).unwrap();
    assert_eq!(
        raw,
        HashMap::from([(br#""\u00e9""#.to_vec(), br#""\ud83d\ude00""#.to_vec())])
    );
}

mod serde_json_like {
    /// An integer key, as Python stores `d[10]`.
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Eq, Hash)]
    #[serde(untagged)]
    pub enum Key {
        Number(i64),
    }
}

#[test]
fn iterates_large_hashes_in_batches_without_losing_entries() {
    let server = Server::start();
    let dict = RedisDict::from_iter_in(server.url(), (0..2500).map(|n: i64| (n, n * 2))).unwrap();
    let mut seen: Vec<(i64, i64)> = dict.iter().collect::<Result<_, _>>().unwrap();
    seen.sort_unstable();
    assert_eq!(seen, (0..2500).map(|n| (n, n * 2)).collect::<Vec<_>>());
    assert_eq!(dict.len().unwrap(), 2500);
    let mut sum = 0;
    for entry in &dict {
        sum += entry.unwrap().1;
    }
    assert_eq!(sum, 2 * (0..2500).sum::<i64>());
}

#[test]
fn random_keys_go_with_the_last_clone_and_named_keys_stay() {
    let server = Server::start();
    let dict: RedisDict<String, i64> = RedisDict::new(server.url()).unwrap();
    let key = dict.key().to_owned();
    assert!(key.starts_with("pottery:"));
    dict.put("a", &1).unwrap();
    let clone = dict.clone();
    drop(dict);
    let exists: i64 = server.cmd(&["EXISTS", &key]).unwrap();
    assert_eq!(exists, 1, "a clone still owns the key");
    let iterator = clone.iter();
    drop(clone);
    let exists: i64 = server.cmd(&["EXISTS", &key]).unwrap();
    assert_eq!(exists, 1, "an iterator still owns the key");
    drop(iterator);
    let exists: i64 = server.cmd(&["EXISTS", &key]).unwrap();
    assert_eq!(exists, 0);

    let named: RedisDict<String, i64> =
        RedisDict::open(server.url(), "pottery:named-by-me").unwrap();
    named.put("a", &1).unwrap();
    drop(named);
    let exists: i64 = server.cmd(&["EXISTS", "pottery:named-by-me"]).unwrap();
    assert_eq!(exists, 1);
}

#[test]
fn wrong_types_and_bad_bytes_are_typed_errors() {
    let server = Server::start();
    let _: () = server.cmd(&["SET", "string", "x"]).unwrap();
    let dict: RedisDict<String, i64> = RedisDict::open(server.url(), "string").unwrap();
    match dict.get("a") {
        Err(Error::Redis(error)) => assert_eq!(error.code(), Some("WRONGTYPE")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(dict.put("a", &1), Err(Error::Redis(_))));
    // Pipelined and transactional calls report their first command's error, matchable alike.
    let wrongtype = |result: pottery::Result<()>| matches!(result, Err(Error::Redis(error)) if error.code() == Some("WRONGTYPE"));
    assert!(wrongtype(dict.insert("a", &1).map(drop)));
    assert!(wrongtype(dict.extend([("b".to_string(), 2)])));
    assert!(wrongtype(dict.setdefault("c", &3).map(drop)));
    let _: () = server
        .cmd(&[
            "HSET",
            "h",
            "\"a\"",
            "not json",
            "\"big\"",
            "18446744073709551616",
        ])
        .unwrap();
    let dict: RedisDict<String, i64> = RedisDict::open(server.url(), "h").unwrap();
    assert!(matches!(dict.get("a"), Err(Error::Decode(_))));
    assert!(matches!(dict.get("big"), Err(Error::Decode(_))));
    let wide: RedisDict<String, i128> = RedisDict::open(server.url(), "h").unwrap();
    assert_eq!(wide.get("big").unwrap(), Some(1i128 << 64));
    // The scan stops at the first undecodable entry, with its error.
    assert!(dict
        .iter()
        .any(|entry| matches!(entry, Err(Error::Decode(_)))));
}

#[test]
fn concurrent_removes_hand_each_value_to_one_caller() {
    let server = Server::start();
    let dict = RedisDict::from_iter_in(server.url(), (0..200).map(|n: i64| (n, n))).unwrap();
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = server.url();
            let key = dict.key().to_owned();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mine: RedisDict<i64, i64> = RedisDict::open(url, &key).unwrap();
                barrier.wait();
                (0..200)
                    .filter_map(|n| mine.remove(&n).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut won: Vec<i64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    won.sort_unstable();
    assert_eq!(won, (0..200).collect::<Vec<_>>());
}

#[test]
fn a_dict_from_a_url_reconnects_after_a_restart_and_an_open_connection_does_not() {
    let server = Server::builder().aof(true).fsync_always(true).start();
    let dict: RedisDict<String, i64> = RedisDict::open(server.url(), "kept").unwrap();
    dict.put("a", &1).unwrap();
    let given: RedisDict<String, i64> = RedisDict::open(server.connection(), "kept").unwrap();
    assert_eq!(given.get("a").unwrap(), Some(1));
    server.restart();
    // The first call after the restart may find the old socket closed; the next reconnects.
    let first = dict.get("a");
    assert!(
        matches!(first, Ok(Some(1)) | Err(Error::Redis(_))),
        "{first:?}"
    );
    assert_eq!(dict.get("a").unwrap(), Some(1));
    // An open connection cannot be reopened: once it broke, it stays broken.
    assert!(matches!(given.get("a"), Err(Error::Redis(_))));
    assert!(matches!(given.get("a"), Err(Error::ConnectionBroken)));
}

#[test]
fn concurrent_setdefaults_agree_on_one_value() {
    let server = Server::start();
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4i64)
        .map(|worker| {
            let url = server.url();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let dict: RedisDict<i64, i64> = RedisDict::open(url, "defaults").unwrap();
                barrier.wait();
                (0..100)
                    .map(|n| dict.setdefault(&n, &worker).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<i64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let dict: RedisDict<i64, i64> = RedisDict::open(server.url(), "defaults").unwrap();
    let stored = dict.to_hashmap().unwrap();
    for result in &results {
        for (n, value) in result.iter().enumerate() {
            // Every caller saw the value that stayed, whoever stored it.
            assert_eq!(stored[&i64::try_from(n).unwrap()], *value);
        }
    }
}
