//! Python pottery 3.0.1's `RedisDict`, `RedisSet` and `RedisCounter` and ours share keys: each
//! side reads what the other wrote as equal values, finds the same keys and members, and both
//! store identical bytes.
//!
//! The tricky contents are defined twice, independently: in `tests/python/containers_worker.py`
//! and here. Needs the virtual environment that `scripts/test` creates (or `POTTERY_PYTHON`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::process::Command;

use pottery::{RedisCounter, RedisDict, RedisSet};
use pottery_tests::{python, workspace_root, Server};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Runs the Python worker; returns its stdout and whether it succeeded.
fn worker(action: &str, server: &Server, prefix: &str) -> (String, bool) {
    let output = Command::new(python())
        .arg(workspace_root().join("tests/python/containers_worker.py"))
        .args([
            action,
            "--port",
            &server.port().to_string(),
            "--prefix",
            prefix,
        ])
        .output()
        .expect("Python runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() && stdout.is_empty() {
        panic!(
            "Python pottery failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (stdout, output.status.success())
}

/// Any JSON value Python can store, with integers beyond 64 bits and `-0.0` kept exact.
#[derive(Debug, Clone)]
enum Value {
    Null,
    Bool(bool),
    Integer(i128),
    Float(f64),
    Text(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Null, Self::Null) => true,
            (Self::Bool(a), Self::Bool(b)) => a == b,
            (Self::Integer(a), Self::Integer(b)) => a == b,
            // Bit equality: -0.0 must stay -0.0 through both codecs.
            (Self::Float(a), Self::Float(b)) => a.to_bits() == b.to_bits(),
            (Self::Text(a), Self::Text(b)) => a == b,
            (Self::List(a), Self::List(b)) => a == b,
            (Self::Map(a), Self::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(value) => serializer.serialize_bool(*value),
            Self::Integer(value) => serializer.serialize_i128(*value),
            Self::Float(value) => serializer.serialize_f64(*value),
            Self::Text(value) => serializer.serialize_str(value),
            Self::List(items) => items.serialize(serializer),
            Self::Map(entries) => entries.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
                Ok(Value::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
                Ok(Value::Integer(value.into()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
                Ok(Value::Integer(value.into()))
            }
            fn visit_i128<E>(self, value: i128) -> Result<Value, E> {
                Ok(Value::Integer(value))
            }
            fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
                i128::try_from(value)
                    .map(Value::Integer)
                    .map_err(|_| E::custom("integer beyond i128"))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
                Ok(Value::Float(value))
            }
            fn visit_str<E>(self, value: &str) -> Result<Value, E> {
                Ok(Value::Text(value.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = sequence.next_element()? {
                    items.push(item);
                }
                Ok(Value::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = BTreeMap::new();
                while let Some((key, value)) = map.next_entry()? {
                    entries.insert(key, value);
                }
                Ok(Value::Map(entries))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// The same contents as `DICT` in containers_worker.py.
fn dict_contents() -> Vec<(String, Value)> {
    vec![
        (
            "é".into(),
            Value::List(vec![Value::Integer(1), Value::Float(2.5), Value::Null]),
        ),
        (
            "😀".into(),
            map(vec![(
                "nested",
                map(vec![("z", Value::Integer(1)), ("a", Value::Float(-0.0))]),
            )]),
        ),
        ("tab\t\u{7f}".into(), Value::Bool(true)),
        ("big".into(), Value::Integer(1 << 70)),
        ("neg_big".into(), Value::Integer(-(1 << 65))),
        ("float".into(), Value::Float(1e16)),
        ("small".into(), Value::Float(1e-5)),
        ("inf".into(), Value::Float(f64::INFINITY)),
        (String::new(), text("")),
        ("quote\"\\/".into(), text("/")),
        (
            "deep".into(),
            Value::List(vec![Value::List(vec![map(vec![
                ("b", Value::List(vec![])),
                ("a", map(vec![])),
            ])])]),
        ),
    ]
}

/// `INT_DICT`.
fn int_dict_contents() -> Vec<(i64, Value)> {
    vec![
        (10, text("ten")),
        (9, text("nine")),
        (-1, Value::List(vec![Value::Bool(true), Value::Bool(false)])),
        (1 << 40, Value::Float(0.1)),
    ]
}

/// `SET`.
fn set_contents() -> Vec<Value> {
    vec![
        text("é"),
        text("😀"),
        text("ctrl\u{1}\u{7f}"),
        Value::Integer(1 << 70),
        Value::Float(-0.5),
        Value::Float(1e16),
        Value::Bool(true),
        Value::Null,
        text("1"),
    ]
}

/// `COUNTER`.
fn counter_contents() -> Vec<(String, i64)> {
    vec![
        ("é".into(), 3),
        ("😀".into(), -2),
        ("a".into(), 0),
        ("zebra".into(), 1 << 62),
    ]
}

fn same_items<T: PartialEq + fmt::Debug>(found: &[T], expected: &[T]) {
    assert_eq!(found.len(), expected.len(), "found {found:?}");
    for item in expected {
        assert!(found.contains(item), "{item:?} missing from {found:?}");
    }
}

fn write_ours(server: &Server, prefix: &str) {
    let url = server.url();
    let dict: RedisDict<String, Value> = RedisDict::open(&url, &format!("{prefix}dict")).unwrap();
    dict.extend(dict_contents()).unwrap();
    let int_dict: RedisDict<i64, Value> =
        RedisDict::open(&url, &format!("{prefix}intdict")).unwrap();
    int_dict.extend(int_dict_contents()).unwrap();
    let set: RedisSet<Value> = RedisSet::open(&url, &format!("{prefix}set")).unwrap();
    set.extend(set_contents()).unwrap();
    let counter: RedisCounter<String> =
        RedisCounter::open(&url, &format!("{prefix}counter")).unwrap();
    counter.update_counts(counter_contents()).unwrap();
}

#[test]
fn rust_reads_what_python_wrote() {
    let server = Server::start();
    worker("write", &server, "py:");
    let url = server.url();

    let dict: RedisDict<String, Value> = RedisDict::open(&url, "py:dict").unwrap();
    let found: Vec<(String, Value)> = dict.iter().collect::<Result<_, _>>().unwrap();
    same_items(&found, &dict_contents());
    for (key, value) in dict_contents() {
        assert!(dict.contains_key(&key).unwrap(), "{key:?}");
        assert_eq!(dict.get(&key).unwrap(), Some(value));
    }

    let int_dict: RedisDict<i64, Value> = RedisDict::open(&url, "py:intdict").unwrap();
    let found: Vec<(i64, Value)> = int_dict.iter().collect::<Result<_, _>>().unwrap();
    same_items(&found, &int_dict_contents());
    assert_eq!(int_dict.get(&(1 << 40)).unwrap(), Some(Value::Float(0.1)));

    let set: RedisSet<Value> = RedisSet::open(&url, "py:set").unwrap();
    let found: Vec<Value> = set.iter().collect::<Result<_, _>>().unwrap();
    same_items(&found, &set_contents());
    assert!(set
        .contains_many(&set_contents())
        .unwrap()
        .into_iter()
        .all(|found| found));
    assert!(
        !set.contains(&Value::Integer(1)).unwrap(),
        "1 is not True in JSON"
    );

    let counter: RedisCounter<String> = RedisCounter::open(&url, "py:counter").unwrap();
    let found: HashMap<String, i64> = counter.to_hashmap().unwrap();
    assert_eq!(found, counter_contents().into_iter().collect());
    assert_eq!(counter.increment("é", 1).unwrap(), 4);
}

#[test]
fn python_reads_what_rust_wrote_and_the_bytes_are_identical() {
    let server = Server::start();
    write_ours(&server, "rs:");
    let (report, success) = worker("check", &server, "rs:");
    assert!(success, "Python read different values:\n{report}");
    assert_eq!(
        report
            .lines()
            .filter(|line| line.starts_with("equal "))
            .count(),
        4,
        "{report}"
    );

    worker("write", &server, "py:");
    for name in ["dict", "intdict", "counter"] {
        let ours: HashMap<Vec<u8>, Vec<u8>> =
            server.cmd(&["HGETALL", &format!("rs:{name}")]).unwrap();
        let theirs: HashMap<Vec<u8>, Vec<u8>> =
            server.cmd(&["HGETALL", &format!("py:{name}")]).unwrap();
        assert_eq!(ours, theirs, "{name}");
        assert!(!ours.is_empty());
    }
    let ours: HashSet<Vec<u8>> = server.cmd(&["SMEMBERS", "rs:set"]).unwrap();
    let theirs: HashSet<Vec<u8>> = server.cmd(&["SMEMBERS", "py:set"]).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(ours.len(), set_contents().len());
}

#[test]
fn a_python_check_notices_a_different_value() {
    // The check above can fail: change one count and Python reports it.
    let server = Server::start();
    write_ours(&server, "rs:");
    let counter: RedisCounter<String> = RedisCounter::open(server.url(), "rs:counter").unwrap();
    counter.increment("a", 1).unwrap();
    let (report, success) = worker("check", &server, "rs:");
    assert!(!success);
    assert!(report.contains("differs counter"), "{report}");
}
