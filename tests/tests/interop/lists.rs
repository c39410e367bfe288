//! Python pottery 3.0.1's `RedisList`/`RedisDeque` and ours share keys: each reads what the
//! other wrote as equal values, the stored bytes are identical, and a pottery operation that
//! relies on WATCH aborts when one of our module commands changes its key meanwhile.
//!
//! Needs the virtual environment that `scripts/test` creates (or `POTTERY_PYTHON`).

use pottery::{RedisDeque, RedisList};
use pottery_tests::{python, workspace_root, Server};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::process::Command;

/// Runs `lists_worker.py <mode> --port <port> [extra...]` and returns its stdout lines.
pub(crate) fn worker(server: &Server, mode: &str, extra: &[&str]) -> Vec<String> {
    let output = Command::new(python())
        .arg(workspace_root().join("tests/python/lists_worker.py"))
        .args([mode, "--port", &server.port().to_string()])
        .args(extra)
        .output()
        .expect("Python runs");
    assert!(
        output.status.success(),
        "lists_worker.py {mode} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Compares floats by bits so that a lost `-0.0` sign is caught.
trait Exactly {
    fn exactly(&self, other: &Self) -> bool;
}

impl Exactly for f64 {
    fn exactly(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
}

macro_rules! exact_by_eq {
    ($($type:ty),*) => {$(
        impl Exactly for $type {
            fn exactly(&self, other: &Self) -> bool {
                self == other
            }
        }
    )*};
}
exact_by_eq!(
    String,
    i128,
    (String, Vec<i64>),
    BTreeMap<i64, String>,
    Option<bool>
);

/// One case of `CASES` in tests/python/lists_worker.py, with the same values typed in Rust.
struct Case {
    name: &'static str,
    check: fn(&Server, &'static str),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "strings",
            check: |server, name| check(server, name, strings()),
        },
        Case {
            name: "integers",
            check: |server, name| {
                check::<i128>(
                    server,
                    name,
                    vec![
                        0,
                        -1,
                        (1 << 53) + 1,
                        i64::MIN.into(),
                        i64::MAX.into(),
                        1 << 64,
                        -(1 << 64) - 5,
                    ],
                )
            },
        },
        Case {
            name: "floats",
            check: |server, name| {
                check(
                    server,
                    name,
                    vec![
                        0.1,
                        1e16,
                        1e-05,
                        -0.0,
                        1e308,
                        1.5,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        5e-324,
                    ],
                )
            },
        },
        Case {
            name: "pairs",
            check: |server, name| {
                check(
                    server,
                    name,
                    vec![
                        ("a".to_owned(), vec![1, 2]),
                        (String::new(), vec![]),
                        ("🦀".to_owned(), vec![-7]),
                    ],
                )
            },
        },
        Case {
            name: "maps",
            check: |server, name| {
                check(
                    server,
                    name,
                    vec![
                        BTreeMap::from([(10, "a".to_owned()), (9, "b".to_owned())]),
                        BTreeMap::new(),
                        BTreeMap::from([(-1, String::new()), (100, "x".to_owned())]),
                    ],
                )
            },
        },
        Case {
            name: "options",
            check: |server, name| check(server, name, vec![Some(true), Some(false), None]),
        },
    ]
}

fn strings() -> Vec<String> {
    [
        "",
        "a",
        "é",
        "🦀 crab",
        "\u{7f}",
        "\u{0}",
        "\n\t\"\\/",
        "日本語",
        "\u{d7ff}",
        "\u{10ffff}",
    ]
    .map(String::from)
    .to_vec()
}

/// Rust reads Python's keys as `values`, writes its own, and the bytes match Python's.
fn check<T>(server: &Server, name: &'static str, values: Vec<T>)
where
    T: Serialize + DeserializeOwned + Exactly + Debug + Clone + Send + 'static,
{
    for kind in ["list", "deque"] {
        let python_key = format!("py:{kind}:{name}");
        let rust_key = format!("rs:{kind}:{name}");
        let read: Vec<T> = match kind {
            "list" => RedisList::open(server.url(), &python_key).unwrap().to_vec(),
            _ => RedisDeque::open(server.url(), &python_key)
                .unwrap()
                .to_vec(),
        }
        .unwrap();
        assert!(
            read.len() == values.len() && read.iter().zip(&values).all(|(a, b)| a.exactly(b)),
            "{python_key}: read {read:?}, Python wrote {values:?}"
        );
        match kind {
            "list" => RedisList::open(server.url(), &rust_key)
                .unwrap()
                .extend(values.clone()),
            _ => RedisDeque::open(server.url(), &rust_key)
                .unwrap()
                .with_maxlen(values.len())
                .extend(values.clone()),
        }
        .unwrap();
        let python_bytes: Vec<Vec<u8>> = server.cmd(&["LRANGE", &python_key, "0", "-1"]).unwrap();
        let rust_bytes: Vec<Vec<u8>> = server.cmd(&["LRANGE", &rust_key, "0", "-1"]).unwrap();
        assert_eq!(
            rust_bytes
                .iter()
                .map(|b| String::from_utf8_lossy(b))
                .collect::<Vec<_>>(),
            python_bytes
                .iter()
                .map(|b| String::from_utf8_lossy(b))
                .collect::<Vec<_>>(),
            "{name}: stored bytes differ"
        );
        assert_eq!(rust_bytes, python_bytes);
    }
}

#[test]
fn python_and_rust_read_each_others_lists_and_store_the_same_bytes() {
    share_lists(&Server::start());
}

/// Rust reads every case Python wrote on `server` and writes its own, Python reads Rust's, and
/// the bytes match.
pub(crate) fn share_lists(server: &Server) {
    assert_eq!(worker(server, "write", &[]), ["written"]);
    let cases = cases();
    for case in &cases {
        (case.check)(server, case.name);
    }
    let sorted: RedisList<String> = RedisList::open(server.url(), "rs:sorted").unwrap();
    sorted.extend(strings().into_iter().rev()).unwrap();
    sorted.sort().unwrap();

    let lines = worker(server, "read", &[]);
    for case in &cases {
        for kind in ["list", "deque"] {
            let line = format!("equal {kind} {} True", case.name);
            assert!(
                lines.contains(&line),
                "Python disagrees: {lines:?} lacks {line}"
            );
        }
    }
    assert!(
        lines.contains(&"sorted True".to_owned()),
        "our sort is not Python's order: {lines:?}"
    );
}

#[test]
fn python_operations_on_rust_data_agree_with_ours() {
    operations_agree(&Server::start());
}

/// Python rotates what Rust pushed (bounded) on `server`; Rust sees Python's result, and
/// vice versa.
pub(crate) fn operations_agree(server: &Server) {
    let deque = RedisDeque::open(server.url(), "w").unwrap().with_maxlen(10);
    deque.extend(1..=5).unwrap();
    // pottery's rotate(1) with nothing in between commits.
    let no_intrusion = ["--", "PING"];
    assert_eq!(
        worker(
            server,
            "watch",
            &[&["--key", "w"][..], &no_intrusion].concat()
        ),
        ["committed"]
    );
    assert_eq!(deque.to_vec().unwrap(), [5, 1, 2, 3, 4]);
    deque.rotate(-1).unwrap();
    assert_eq!(deque.to_vec().unwrap(), [1, 2, 3, 4, 5]);
}

#[test]
fn a_pottery_watch_aborts_when_our_module_changes_the_key() {
    pottery_tests::requires_module!(
        "it runs the module's list commands against Python pottery's WATCH"
    );
    let server = Server::start();
    let deque = RedisDeque::open(server.url(), "w").unwrap();
    let intrusions: &[&[&str]] = &[
        &["POTTERY.DEQUE.ROTATE", "w", "2"],
        &["POTTERY.DEQUE.PUSH", "w", "LEFT", "10", "0"],
        &["POTTERY.LIST.INSERT", "w", "1", "9"],
        &["POTTERY.LIST.POP", "w", "1"],
        &["POTTERY.LIST.SETSLICE", "w", "0", "1", "7"],
    ];
    for intrusion in intrusions {
        deque.clear().unwrap();
        deque.extend(1..=5).unwrap();
        let mut args = vec!["--key", "w", "--"];
        args.extend_from_slice(intrusion);
        assert_eq!(
            worker(&server, "watch", &args),
            ["aborted"],
            "{intrusion:?} did not abort pottery's WATCH"
        );
    }
    // A module command that changes nothing does not abort it.
    deque.clear().unwrap();
    deque.extend(1..=5).unwrap();
    let args = ["--key", "w", "--", "POTTERY.DEQUE.ROTATE", "w", "5"];
    assert_eq!(worker(&server, "watch", &args), ["committed"]);
    assert_eq!(deque.to_vec().unwrap(), [5, 1, 2, 3, 4]);
}

/// One random case for `lists_worker.py semantics`; each operation reads the fields it needs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SemanticsCase {
    pub(crate) start: Vec<String>,
    pub(crate) op: &'static str,
    pub(crate) index: i64,
    pub(crate) value: String,
    pub(crate) start_index: i64,
    pub(crate) stop_index: i64,
    pub(crate) values: Vec<String>,
    pub(crate) n: i64,
    pub(crate) maxlen: i64,
    pub(crate) left: bool,
}

/// What CPython did with a case.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct PythonOutcome {
    pub(crate) after: Vec<String>,
    pub(crate) length: i64,
    pub(crate) popped: Option<String>,
}

pub(crate) fn random_case(rng: &mut impl rand::Rng) -> SemanticsCase {
    use rand::Rng;
    let element = |rng: &mut dyn rand::RngCore| {
        ["", "a", "b", "é", "🦀", "\"q\""][rng.random_range(0..6)].to_owned()
    };
    let index = |rng: &mut dyn rand::RngCore| match rng.random_range(0..10) {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => rng.random(),
        _ => rng.random_range(-9..9),
    };
    let op = ["insert", "pop", "setslice", "rotate", "push"][rng.random_range(0..5)];
    let maxlen = if rng.random_bool(0.3) {
        -1
    } else {
        rng.random_range(0..7)
    };
    // A Python deque never holds more than its maxlen.
    let start_len = match (op, maxlen) {
        ("push", 0..) => rng.random_range(0..=maxlen as usize),
        _ => rng.random_range(0..7),
    };
    let values_len = if op == "push" {
        rng.random_range(1..5)
    } else {
        rng.random_range(0..4)
    };
    SemanticsCase {
        start: (0..start_len).map(|_| element(rng)).collect(),
        op,
        index: index(rng),
        value: element(rng),
        start_index: index(rng),
        stop_index: index(rng),
        values: (0..values_len).map(|_| element(rng)).collect(),
        n: index(rng),
        maxlen,
        left: rng.random_bool(0.5),
    }
}

/// What CPython does with each case (`lists_worker.py semantics` on `server`).
pub(crate) fn python_outcomes(server: &Server, cases: &[SemanticsCase]) -> Vec<PythonOutcome> {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg(workspace_root().join("tests/python/lists_worker.py"))
        .args(["semantics", "--port", &server.port().to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("Python runs");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for case in cases {
            stdin
                .write_all(&pottery::codec::to_json(case).unwrap())
                .unwrap();
            stdin.write_all(b"\n").unwrap();
        }
    }
    let output = child.wait_with_output().expect("Python finishes");
    assert!(output.status.success(), "lists_worker.py semantics failed");
    let outcomes: Vec<PythonOutcome> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| pottery::codec::from_json(line.as_bytes()).expect("a JSON outcome"))
        .collect();
    assert_eq!(outcomes.len(), cases.len());
    outcomes
}

#[test]
fn module_commands_do_exactly_what_cpython_does() {
    pottery_tests::requires_module!("it runs the module's list commands beside CPython");
    let server = Server::start();
    let mut rng = rand::rng();
    let cases: Vec<SemanticsCase> = (0..400).map(|_| random_case(&mut rng)).collect();
    let outcomes = python_outcomes(&server, &cases);
    let mut connection = server.connection();
    for (case, python) in cases.iter().zip(&outcomes) {
        let _: () = redis::cmd("DEL").arg("k").query(&mut connection).unwrap();
        if !case.start.is_empty() {
            let _: () = redis::cmd("RPUSH")
                .arg("k")
                .arg(&case.start)
                .query(&mut connection)
                .unwrap();
        }
        let command = match case.op {
            "insert" => {
                let mut command = redis::cmd("POTTERY.LIST.INSERT");
                command.arg("k").arg(case.index).arg(&case.value);
                command
            }
            "pop" => {
                let mut command = redis::cmd("POTTERY.LIST.POP");
                command.arg("k").arg(case.index);
                command
            }
            "setslice" => {
                let mut command = redis::cmd("POTTERY.LIST.SETSLICE");
                command
                    .arg("k")
                    .arg(case.start_index)
                    .arg(case.stop_index)
                    .arg(&case.values);
                command
            }
            "rotate" => {
                let mut command = redis::cmd("POTTERY.DEQUE.ROTATE");
                command.arg("k").arg(case.n);
                command
            }
            _ => {
                let mut command = redis::cmd("POTTERY.DEQUE.PUSH");
                command
                    .arg("k")
                    .arg(if case.left { "LEFT" } else { "RIGHT" })
                    .arg(case.maxlen)
                    .arg(&case.values);
                command
            }
        };
        let reply: redis::Value = command.query(&mut connection).unwrap();
        let expected = match case.op {
            "pop" => match &python.popped {
                Some(element) => redis::Value::BulkString(element.clone().into_bytes()),
                None => redis::Value::Nil,
            },
            _ => redis::Value::Int(python.length),
        };
        assert_eq!(reply, expected, "reply to {case:?}");
        let after: Vec<String> = redis::cmd("LRANGE")
            .arg("k")
            .arg(0)
            .arg(-1)
            .query(&mut connection)
            .unwrap();
        assert_eq!(after, python.after, "list after {case:?}");
    }
}
