//! The module's list and deque commands on real servers: Python semantics against a `Vec` model
//! on random operations, edge cases, bad input, keyspace events and WATCH, replication and AOF,
//! concurrency, and a large rotation.

use pottery_tests::{wait_for_replication, Server};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use redis::Value;
use std::collections::VecDeque;
use std::time::Duration;

type Bytes = Vec<u8>;

fn items(server: &Server, key: &str) -> Vec<Bytes> {
    server
        .cmd(&["LRANGE", key, "0", "-1"])
        .expect("LRANGE answers")
}

fn exists(server: &Server, key: &str) -> bool {
    server.cmd(&["EXISTS", key]).expect("EXISTS answers")
}

fn text(items: &[Bytes]) -> Vec<String> {
    items
        .iter()
        .map(|item| String::from_utf8_lossy(item).into_owned())
        .collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

/// Python's semantics, written directly on std collections (independently of the module's
/// `pottery_core::list`).
mod python {
    use super::Bytes;
    use std::collections::VecDeque;

    fn absolute(index: i64, len: usize) -> i128 {
        let index = i128::from(index);
        if index < 0 {
            index + len as i128
        } else {
            index
        }
    }

    fn clamped(index: i64, len: usize) -> usize {
        absolute(index, len).clamp(0, len as i128) as usize
    }

    pub fn insert(list: &mut Vec<Bytes>, index: i64, item: Bytes) {
        let at = clamped(index, list.len());
        list.insert(at, item);
    }

    pub fn pop(list: &mut Vec<Bytes>, index: i64) -> Option<Bytes> {
        let at = absolute(index, list.len());
        (0..list.len() as i128)
            .contains(&at)
            .then(|| list.remove(at as usize))
    }

    pub fn set_slice(list: &mut Vec<Bytes>, start: i64, stop: i64, values: &[Bytes]) {
        let low = clamped(start, list.len());
        let high = clamped(stop, list.len()).max(low);
        list.splice(low..high, values.iter().cloned());
    }

    pub fn rotate(list: &mut [Bytes], n: i64) {
        if !list.is_empty() {
            let k = i128::from(n).rem_euclid(list.len() as i128) as usize;
            list.rotate_right(k);
        }
    }

    /// `deque(maxlen=m)` extended one value at a time (`left`: `extendleft`).
    pub fn extend(list: &mut Vec<Bytes>, left: bool, maxlen: i64, values: &[Bytes]) {
        let mut deque: VecDeque<Bytes> = list.drain(..).collect();
        let bound = usize::try_from(maxlen).ok();
        let trim = |deque: &mut VecDeque<Bytes>| {
            while bound.is_some_and(|bound| deque.len() > bound) {
                if left {
                    deque.pop_back();
                } else {
                    deque.pop_front();
                }
            }
        };
        trim(&mut deque);
        for value in values {
            if left {
                deque.push_front(value.clone());
            } else {
                deque.push_back(value.clone());
            }
            trim(&mut deque);
        }
        list.extend(deque);
    }
}

#[derive(Debug, Clone)]
enum Operation {
    Insert(i64, Bytes),
    Pop(Option<i64>),
    SetSlice(i64, i64, Vec<Bytes>),
    Rotate(i64),
    Push(bool, i64, Vec<Bytes>),
}

fn index() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => -10i64..10,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => any::<i64>(),
    ]
}

/// Elements with the contents that break naive code: empty, unicode, astral, NUL and 0xFF
/// bytes, separators, and longer runs.
fn element() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        Just(b"".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just("🦀".as_bytes().to_vec()),
        Just(b"\x00\xff\r\n".to_vec()),
        Just(b"\"a\"".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        "[a-z]{1,3}".prop_map(String::into_bytes),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    let values = || proptest::collection::vec(element(), 0..5);
    prop_oneof![
        (index(), element()).prop_map(|(i, v)| Operation::Insert(i, v)),
        proptest::option::of(index()).prop_map(Operation::Pop),
        (index(), index(), values()).prop_map(|(a, b, v)| Operation::SetSlice(a, b, v)),
        index().prop_map(Operation::Rotate),
        (
            any::<bool>(),
            prop_oneof![Just(-1i64), 0i64..6],
            proptest::collection::vec(element(), 1..5)
        )
            .prop_map(|(left, maxlen, v)| Operation::Push(left, maxlen, v)),
    ]
}

/// Runs `operation` on the server and on the model; returns an error text on any difference.
fn apply(
    connection: &mut redis::Connection,
    model: &mut Vec<Bytes>,
    operation: &Operation,
) -> Result<(), String> {
    let key = "model";
    let length = |reply: redis::RedisResult<i64>, model: &Vec<Bytes>| match reply {
        Ok(len) if len == model.len() as i64 => Ok(()),
        other => Err(format!(
            "replied {other:?}, Python has {} items",
            model.len()
        )),
    };
    match operation {
        Operation::Insert(index, item) => {
            let reply = redis::cmd("POTTERY.LIST.INSERT")
                .arg(key)
                .arg(*index)
                .arg(item)
                .query(connection);
            python::insert(model, *index, item.clone());
            length(reply, model)?;
        }
        Operation::Pop(index) => {
            let mut command = redis::cmd("POTTERY.LIST.POP");
            command.arg(key);
            if let Some(index) = index {
                command.arg(*index);
            }
            let reply: Option<Bytes> = command.query(connection).map_err(|e| e.to_string())?;
            let expected = python::pop(model, index.unwrap_or(-1));
            if reply != expected {
                return Err(format!("popped {reply:?}, Python popped {expected:?}"));
            }
        }
        Operation::SetSlice(start, stop, values) => {
            let reply = redis::cmd("POTTERY.LIST.SETSLICE")
                .arg(key)
                .arg(*start)
                .arg(*stop)
                .arg(values)
                .query(connection);
            python::set_slice(model, *start, *stop, values);
            length(reply, model)?;
        }
        Operation::Rotate(n) => {
            let reply = redis::cmd("POTTERY.DEQUE.ROTATE")
                .arg(key)
                .arg(*n)
                .query(connection);
            python::rotate(model, *n);
            length(reply, model)?;
        }
        Operation::Push(left, maxlen, values) => {
            let reply = redis::cmd("POTTERY.DEQUE.PUSH")
                .arg(key)
                .arg(if *left { "LEFT" } else { "RIGHT" })
                .arg(*maxlen)
                .arg(values)
                .query(connection);
            python::extend(model, *left, *maxlen, values);
            length(reply, model)?;
        }
    }
    let (stored, exists): (Vec<Bytes>, bool) = redis::pipe()
        .cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .cmd("EXISTS")
        .arg(key)
        .query(connection)
        .map_err(|e| e.to_string())?;
    if &stored != model {
        return Err(format!("stored {stored:?}, Python has {model:?}"));
    }
    if exists == model.is_empty() {
        return Err("an empty list must leave no key, a non-empty one a key".into());
    }
    Ok(())
}

#[test]
fn commands_follow_python_on_random_operations() {
    let server = Server::start();
    let connection = std::cell::RefCell::new(server.connection());
    let strategy = (
        proptest::collection::vec(element(), 0..8),
        proptest::collection::vec(operation(), 1..25),
    );
    let mut runner = TestRunner::new(Config {
        cases: 150,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(start, operations)| {
            let mut connection = connection.borrow_mut();
            let connection = &mut *connection;
            let _: () = redis::cmd("DEL").arg("model").query(connection).unwrap();
            if !start.is_empty() {
                let _: () = redis::cmd("RPUSH")
                    .arg("model")
                    .arg(&start)
                    .query(connection)
                    .unwrap();
            }
            let mut model = start;
            for operation in &operations {
                apply(connection, &mut model, operation)
                    .map_err(|problem| TestCaseError::fail(format!("{operation:?}: {problem}")))?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn rotate_follows_python_for_any_count() {
    let server = Server::start();
    let _: () = server
        .cmd(&["RPUSH", "d", "a", "b", "c", "d", "e"])
        .unwrap();
    let cases: &[(i64, &[&str])] = &[
        (1, &["e", "a", "b", "c", "d"]),
        (-1, &["b", "c", "d", "e", "a"]),
        (7, &["d", "e", "a", "b", "c"]),
        (-7, &["c", "d", "e", "a", "b"]),
        (5, &["a", "b", "c", "d", "e"]),
        // i64::MAX = 5·1844674407370955161 + 2; i64::MIN mod 5 = 2 as well (floor modulo).
        (i64::MAX, &["d", "e", "a", "b", "c"]),
        (i64::MIN, &["d", "e", "a", "b", "c"]),
        (0, &["a", "b", "c", "d", "e"]),
    ];
    for (n, expected) in cases {
        let _: () = server.cmd(&["DEL", "d"]).unwrap();
        let _: () = server
            .cmd(&["RPUSH", "d", "a", "b", "c", "d", "e"])
            .unwrap();
        let len: i64 = server
            .cmd(&["POTTERY.DEQUE.ROTATE", "d", &n.to_string()])
            .unwrap();
        assert_eq!(len, 5);
        assert_eq!(text(&items(&server, "d")), strings(expected), "rotate({n})");
    }
    // Absent and one-element lists: nothing to do, no key created, no modulo by zero.
    for n in [i64::MIN, -1, 0, 1, i64::MAX] {
        let len: i64 = server
            .cmd(&["POTTERY.DEQUE.ROTATE", "absent", &n.to_string()])
            .unwrap();
        assert_eq!(len, 0);
        assert!(!exists(&server, "absent"));
    }
    let _: () = server.cmd(&["RPUSH", "one", "x"]).unwrap();
    let len: i64 = server.cmd(&["POTTERY.DEQUE.ROTATE", "one", "-3"]).unwrap();
    assert_eq!(len, 1);
}

#[test]
fn deque_push_extends_trims_and_keeps_the_ttl() {
    let server = Server::start();
    let len: i64 = server
        .cmd(&["POTTERY.DEQUE.PUSH", "d", "RIGHT", "-1", "a", "b"])
        .unwrap();
    assert_eq!(len, 2);
    // extendleft order: the last value ends at the head.
    let len: i64 = server
        .cmd(&["POTTERY.DEQUE.PUSH", "d", "left", "-1", "x", "y"])
        .unwrap();
    assert_eq!(len, 4);
    assert_eq!(text(&items(&server, "d")), strings(&["y", "x", "a", "b"]));

    let _: () = server.cmd(&["EXPIRE", "d", "1000"]).unwrap();
    let len: i64 = server
        .cmd(&["POTTERY.DEQUE.PUSH", "d", "RIGHT", "3", "c"])
        .unwrap();
    assert_eq!(len, 3);
    assert_eq!(text(&items(&server, "d")), strings(&["a", "b", "c"]));
    // More values than the bound: only the last ones stay, the old items all go.
    let len: i64 = server
        .cmd(&["POTTERY.DEQUE.PUSH", "d", "LEFT", "2", "p", "q", "r"])
        .unwrap();
    assert_eq!(len, 2);
    assert_eq!(text(&items(&server, "d")), strings(&["r", "q"]));
    let ttl: i64 = server.cmd(&["TTL", "d"]).unwrap();
    assert!(
        (1..=1000).contains(&ttl),
        "a trimming push lost the TTL: {ttl}"
    );

    // maxlen 0 stores nothing and deletes the key; on a missing key it creates nothing.
    let len: i64 = server
        .cmd(&["POTTERY.DEQUE.PUSH", "d", "RIGHT", "0", "z"])
        .unwrap();
    assert_eq!(len, 0);
    assert!(!exists(&server, "d"));
    let len: i64 = server
        .cmd(&["POTTERY.DEQUE.PUSH", "d", "LEFT", "0", "z"])
        .unwrap();
    assert_eq!(len, 0);
    assert!(!exists(&server, "d"));

    // A huge bound is as good as none.
    let len: i64 = server
        .cmd(&[
            "POTTERY.DEQUE.PUSH",
            "d",
            "RIGHT",
            &i64::MAX.to_string(),
            "🦀",
            "",
        ])
        .unwrap();
    assert_eq!(len, 2);
    assert_eq!(text(&items(&server, "d")), strings(&["🦀", ""]));
}

#[test]
fn insert_pop_and_setslice_follow_python() {
    let server = Server::start();
    for (index, value) in [("0", "b"), ("-100", "a"), ("100", "d"), ("-1", "c")] {
        let _: i64 = server
            .cmd(&["POTTERY.LIST.INSERT", "l", index, value])
            .unwrap();
    }
    assert_eq!(text(&items(&server, "l")), strings(&["a", "b", "c", "d"]));
    let len: i64 = server
        .cmd(&["POTTERY.LIST.INSERT", "l", &i64::MIN.to_string(), "^"])
        .unwrap();
    assert_eq!(len, 5);
    let len: i64 = server
        .cmd(&["POTTERY.LIST.INSERT", "l", &i64::MAX.to_string(), "$"])
        .unwrap();
    assert_eq!(len, 6);
    assert_eq!(
        text(&items(&server, "l")),
        strings(&["^", "a", "b", "c", "d", "$"])
    );

    let popped: Option<String> = server.cmd(&["POTTERY.LIST.POP", "l"]).unwrap();
    assert_eq!(popped.as_deref(), Some("$"));
    let popped: Option<String> = server.cmd(&["POTTERY.LIST.POP", "l", "2"]).unwrap();
    assert_eq!(popped.as_deref(), Some("b"));
    let popped: Option<String> = server.cmd(&["POTTERY.LIST.POP", "l", "-4"]).unwrap();
    assert_eq!(popped.as_deref(), Some("^"));
    for out_of_range in ["3", "-4", &i64::MIN.to_string(), &i64::MAX.to_string()] {
        let popped: Option<String> = server
            .cmd(&["POTTERY.LIST.POP", "l", out_of_range])
            .unwrap();
        assert_eq!(popped, None, "pop({out_of_range})");
    }
    assert_eq!(text(&items(&server, "l")), strings(&["a", "c", "d"]));
    let popped: Option<String> = server.cmd(&["POTTERY.LIST.POP", "absent"]).unwrap();
    assert_eq!(popped, None);
    assert!(!exists(&server, "absent"));

    // l[1:2] = [x, y, z]; l[-1:] = []; l[:0] = [start]; del l[:]
    let len: i64 = server
        .cmd(&["POTTERY.LIST.SETSLICE", "l", "1", "2", "x", "y", "z"])
        .unwrap();
    assert_eq!(len, 5);
    assert_eq!(
        text(&items(&server, "l")),
        strings(&["a", "x", "y", "z", "d"])
    );
    let len: i64 = server
        .cmd(&["POTTERY.LIST.SETSLICE", "l", "-1", &i64::MAX.to_string()])
        .unwrap();
    assert_eq!(len, 4);
    let len: i64 = server
        .cmd(&["POTTERY.LIST.SETSLICE", "l", "0", "0", "start"])
        .unwrap();
    assert_eq!(len, 5);
    // A stop before the start inserts at the start.
    let len: i64 = server
        .cmd(&["POTTERY.LIST.SETSLICE", "l", "3", "1", "in"])
        .unwrap();
    assert_eq!(len, 6);
    assert_eq!(
        text(&items(&server, "l")),
        strings(&["start", "a", "x", "in", "y", "z"])
    );
    let len: i64 = server
        .cmd(&[
            "POTTERY.LIST.SETSLICE",
            "l",
            &i64::MIN.to_string(),
            &i64::MAX.to_string(),
        ])
        .unwrap();
    assert_eq!(len, 0);
    assert!(!exists(&server, "l"));
    // Creates the key like insert does.
    let len: i64 = server
        .cmd(&["POTTERY.LIST.SETSLICE", "new", "5", "9", "only"])
        .unwrap();
    assert_eq!(len, 1);
    assert_eq!(text(&items(&server, "new")), strings(&["only"]));

    // Popping the last element deletes the key.
    let popped: Option<String> = server.cmd(&["POTTERY.LIST.POP", "new", "0"]).unwrap();
    assert_eq!(popped.as_deref(), Some("only"));
    assert!(!exists(&server, "new"));
}

#[test]
fn bad_input_gets_an_error_and_the_server_stays_up() {
    let server = Server::start();
    let _: () = server.cmd(&["HSET", "hash", "f", "v"]).unwrap();
    let _: () = server.cmd(&["SET", "text", "hello"]).unwrap();
    let _: () = server.cmd(&["SADD", "set", "m"]).unwrap();
    let _: () = server.cmd(&["RPUSH", "list", "a", "b"]).unwrap();
    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
    let arity = |name: &str| format!("ERR wrong number of arguments for '{name}' command");
    let mut cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["POTTERY.DEQUE.ROTATE", "list"],
            arity("pottery.deque.rotate"),
        ),
        (
            vec!["POTTERY.DEQUE.ROTATE", "list", "1", "2"],
            arity("pottery.deque.rotate"),
        ),
        (
            vec!["POTTERY.DEQUE.ROTATE", "list", "x"],
            NOT_INTEGER.into(),
        ),
        (
            vec!["POTTERY.DEQUE.ROTATE", "list", "1.5"],
            NOT_INTEGER.into(),
        ),
        (
            vec!["POTTERY.DEQUE.ROTATE", "list", "9223372036854775808"],
            NOT_INTEGER.into(),
        ),
        (
            vec!["POTTERY.DEQUE.ROTATE", "list", "-9223372036854775809"],
            NOT_INTEGER.into(),
        ),
        (
            vec!["POTTERY.DEQUE.PUSH", "list", "LEFT", "-1"],
            arity("pottery.deque.push"),
        ),
        (
            vec!["POTTERY.DEQUE.PUSH", "list", "UP", "-1", "v"],
            "ERR syntax error".into(),
        ),
        (
            vec!["POTTERY.DEQUE.PUSH", "list", "LEFT", "-2", "v"],
            "ERR maxlen: must be -1 or >= 0".into(),
        ),
        (
            vec![
                "POTTERY.DEQUE.PUSH",
                "list",
                "LEFT",
                "-9223372036854775808",
                "v",
            ],
            "ERR maxlen: must be -1 or >= 0".into(),
        ),
        (
            vec!["POTTERY.DEQUE.PUSH", "list", "RIGHT", "many", "v"],
            NOT_INTEGER.into(),
        ),
        (
            vec!["POTTERY.LIST.INSERT", "list", "0"],
            arity("pottery.list.insert"),
        ),
        (
            vec!["POTTERY.LIST.INSERT", "list", "0", "a", "b"],
            arity("pottery.list.insert"),
        ),
        (
            vec!["POTTERY.LIST.INSERT", "list", "", "a"],
            NOT_INTEGER.into(),
        ),
        (vec!["POTTERY.LIST.POP"], arity("pottery.list.pop")),
        (
            vec!["POTTERY.LIST.POP", "list", "1", "2"],
            "ERR syntax error".into(),
        ),
        (vec!["POTTERY.LIST.POP", "list", "-0"], NOT_INTEGER.into()),
        (
            vec!["POTTERY.LIST.SETSLICE", "list", "0"],
            arity("pottery.list.setslice"),
        ),
        (
            vec!["POTTERY.LIST.SETSLICE", "list", "0", "+1", "v"],
            NOT_INTEGER.into(),
        ),
        (
            vec!["POTTERY.LIST.SETSLICE", "list", "a", "1"],
            NOT_INTEGER.into(),
        ),
    ];
    for key in ["hash", "text", "set"] {
        cases.push((vec!["POTTERY.DEQUE.ROTATE", key, "1"], WRONGTYPE.into()));
        cases.push((
            vec!["POTTERY.DEQUE.PUSH", key, "RIGHT", "-1", "v"],
            WRONGTYPE.into(),
        ));
        cases.push((
            vec!["POTTERY.DEQUE.PUSH", key, "RIGHT", "0", "v"],
            WRONGTYPE.into(),
        ));
        cases.push((vec!["POTTERY.LIST.INSERT", key, "0", "v"], WRONGTYPE.into()));
        cases.push((vec!["POTTERY.LIST.POP", key], WRONGTYPE.into()));
        cases.push((vec!["POTTERY.LIST.POP", key, "99"], WRONGTYPE.into()));
        cases.push((
            vec!["POTTERY.LIST.SETSLICE", key, "0", "0"],
            WRONGTYPE.into(),
        ));
    }
    let mut connection = server.connection();
    for (args, expected) in &cases {
        let error = redis::cmd(args[0])
            .arg(&args[1..])
            .query::<Value>(&mut connection)
            .expect_err(&format!("{args:?} must fail"));
        let text = pottery_tests::error_text(&error);
        assert_eq!(&text, expected, "for {args:?}");
    }
    // Binary garbage in every position.
    let garbage: Vec<u8> = (0..=255u8).collect();
    for command in [
        "POTTERY.DEQUE.ROTATE",
        "POTTERY.DEQUE.PUSH",
        "POTTERY.LIST.INSERT",
        "POTTERY.LIST.POP",
        "POTTERY.LIST.SETSLICE",
    ] {
        let error = redis::cmd(command)
            .arg("list")
            .arg(&garbage[..])
            .arg(&garbage[..])
            .arg(&garbage[..])
            .query::<Value>(&mut connection)
            .unwrap_err();
        assert_eq!(error.code(), Some("ERR"), "{command}");
    }
    // No failing command wrote anything, and the server still answers.
    assert_eq!(text(&items(&server, "list")), strings(&["a", "b"]));
    assert_eq!(server.cmd::<String>(&["GET", "text"]).unwrap(), "hello");
    assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

#[test]
fn command_info_gives_the_key_to_cluster_routing_and_acls() {
    let server = Server::start();
    let invocations: &[&[&str]] = &[
        &["POTTERY.DEQUE.ROTATE", "k", "1"],
        &["POTTERY.DEQUE.PUSH", "k", "LEFT", "-1", "v", "w"],
        &["POTTERY.LIST.INSERT", "k", "0", "v"],
        &["POTTERY.LIST.POP", "k"],
        &["POTTERY.LIST.POP", "k", "3"],
        &["POTTERY.LIST.SETSLICE", "k", "0", "1"],
        &["POTTERY.LIST.SETSLICE", "k", "0", "1", "v", "w"],
    ];
    for invocation in invocations {
        let keys: Vec<String> = server
            .cmd([&["COMMAND", "GETKEYS"][..], invocation].concat())
            .unwrap();
        assert_eq!(keys, vec!["k".to_string()], "{invocation:?}");
    }
    // A user who may only read cannot rotate; one who may write can.
    let _: () = server
        .cmd(&["ACL", "SETUSER", "reader", "on", "nopass", "+@all", "%R~*"])
        .unwrap();
    let _: () = server
        .cmd(&["ACL", "SETUSER", "writer", "on", "nopass", "+@all", "%RW~*"])
        .unwrap();
    let mut connection = server.connection();
    let _: () = redis::cmd("AUTH")
        .arg("reader")
        .arg("x")
        .query(&mut connection)
        .unwrap();
    let denied = redis::cmd("POTTERY.DEQUE.ROTATE")
        .arg("k")
        .arg(1)
        .query::<i64>(&mut connection)
        .unwrap_err();
    assert_eq!(denied.code(), Some("NOPERM"));
    let _: () = redis::cmd("AUTH")
        .arg("writer")
        .arg("x")
        .query(&mut connection)
        .unwrap();
    let len: i64 = redis::cmd("POTTERY.LIST.INSERT")
        .arg("k")
        .arg(0)
        .arg("v")
        .query(&mut connection)
        .unwrap();
    assert_eq!(len, 1);
}

#[test]
fn changes_fire_events_and_abort_watchers_and_no_ops_do_neither() {
    let server = Server::start();
    let _: () = server
        .cmd(&["CONFIG", "SET", "notify-keyspace-events", "KElg"])
        .unwrap();
    let mut subscriber = server.connection();
    let mut pubsub = subscriber.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _: () = server.cmd(&["RPUSH", "l", "a", "b", "c"]).unwrap();
    let message = pubsub.get_message().unwrap();
    assert_eq!(message.get_channel_name(), "__keyevent@0__:rpush");

    let no_ops: &[&[&str]] = &[
        &["POTTERY.DEQUE.ROTATE", "l", "3"],
        &["POTTERY.DEQUE.ROTATE", "l", "0"],
        &["POTTERY.DEQUE.ROTATE", "absent", "1"],
        &["POTTERY.LIST.POP", "l", "3"],
        &["POTTERY.LIST.POP", "absent"],
        &["POTTERY.LIST.SETSLICE", "l", "2", "1"],
        &["POTTERY.LIST.SETSLICE", "absent", "0", "5"],
        &["POTTERY.DEQUE.PUSH", "absent", "RIGHT", "0", "v"],
    ];
    let changes: &[(&[&str], &[&str])] = &[
        (
            &["POTTERY.DEQUE.ROTATE", "l", "1"],
            &["pottery.deque.rotate"],
        ),
        (
            &["POTTERY.DEQUE.PUSH", "l", "LEFT", "5", "z"],
            &["pottery.deque.push"],
        ),
        (
            &["POTTERY.LIST.INSERT", "l", "1", "y"],
            &["pottery.list.insert"],
        ),
        (&["POTTERY.LIST.POP", "l", "1"], &["pottery.list.pop"]),
        (
            &["POTTERY.LIST.SETSLICE", "l", "0", "1", "w"],
            &["pottery.list.setslice"],
        ),
        // Emptying the list also fires `del`, as LPOP does.
        (
            &["POTTERY.LIST.SETSLICE", "l", "0", "-1"],
            &["pottery.list.setslice"],
        ),
        (&["POTTERY.LIST.POP", "l"], &["pottery.list.pop", "del"]),
        (
            &["POTTERY.DEQUE.PUSH", "n", "RIGHT", "-1", "v"],
            &["pottery.deque.push"],
        ),
        (
            &["POTTERY.DEQUE.PUSH", "n", "RIGHT", "0", "v"],
            &["pottery.deque.push", "del"],
        ),
    ];
    let mut watcher = server.connection();
    let watched_commit = |watcher: &mut redis::Connection, key: &str, command: &[&str]| {
        let _: () = redis::cmd("WATCH").arg(key).query(watcher).unwrap();
        let _: Value = server.cmd(command).unwrap();
        let committed: Option<(String,)> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("side")
            .arg("1")
            .query(watcher)
            .unwrap();
        committed.is_some()
    };
    for command in no_ops {
        assert!(
            watched_commit(&mut watcher, command[1], command),
            "{command:?} changed nothing but aborted a WATCH"
        );
    }
    for (command, events) in changes {
        assert!(
            !watched_commit(&mut watcher, command[1], command),
            "{command:?} did not signal the WATCHed key"
        );
        for event in *events {
            let message = pubsub.get_message().unwrap();
            assert_eq!(
                message.get_channel_name(),
                format!("__keyevent@0__:{event}"),
                "after {command:?}"
            );
            assert_eq!(message.get_payload::<String>().unwrap(), command[1]);
        }
    }
    // Nothing else was published: the next event is this marker, not a no-op's.
    let _: () = server.cmd(&["RPUSH", "marker", "m"]).unwrap();
    let message = pubsub.get_message().unwrap();
    assert_eq!(message.get_channel_name(), "__keyevent@0__:rpush");
    assert_eq!(message.get_payload::<String>().unwrap(), "marker");
}

#[test]
fn a_replica_and_an_aof_reload_hold_the_same_lists() {
    let master = Server::builder().aof(true).fsync_always(true).start();
    let replica = Server::start();
    replica.replicate_from(&master);
    let commands: &[&[&str]] = &[
        &[
            "POTTERY.DEQUE.PUSH",
            "d",
            "RIGHT",
            "4",
            "a",
            "b",
            "c",
            "d",
            "e",
        ],
        &["POTTERY.DEQUE.ROTATE", "d", "-9223372036854775807"],
        &["POTTERY.DEQUE.PUSH", "d", "LEFT", "-1", "é", "🦀"],
        &["POTTERY.LIST.INSERT", "d", "-2", "mid"],
        &["POTTERY.LIST.POP", "d", "1"],
        &["POTTERY.LIST.SETSLICE", "d", "1", "3", "x", "y", "z"],
        &["POTTERY.LIST.SETSLICE", "gone", "0", "0", "v"],
        &["POTTERY.LIST.POP", "gone"],
    ];
    for command in commands {
        let _: Value = master.cmd(command).unwrap();
    }
    let expected = items(&master, "d");
    assert_eq!(expected.len(), 7);
    let offset = master
        .info_field("replication", "master_repl_offset")
        .unwrap();
    for no_op in [
        &["POTTERY.DEQUE.ROTATE", "d", "7"][..],
        &["POTTERY.LIST.POP", "d", "99"],
        &["POTTERY.LIST.SETSLICE", "d", "3", "3"],
    ] {
        let _: Value = master.cmd(no_op).unwrap();
    }
    assert_eq!(
        master
            .info_field("replication", "master_repl_offset")
            .unwrap(),
        offset,
        "a command that changed nothing was replicated"
    );
    wait_for_replication(&master, &replica);
    assert_eq!(items(&replica, "d"), expected);
    assert!(!exists(&replica, "gone"));

    master.kill();
    master.restart();
    assert_eq!(items(&master, "d"), expected);
    assert!(!exists(&master, "gone"));

    // And an RDB snapshot (the replica runs without AOF).
    let _: () = replica.cmd(&["SAVE"]).unwrap();
    replica.kill();
    replica.restart();
    assert_eq!(items(&replica, "d"), expected);
}

#[test]
fn concurrent_inserts_lose_nothing() {
    let server = Server::start();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let mut connection = server.connection();
            std::thread::spawn(move || {
                for i in 0..250i64 {
                    // Spread over the head, the middle and the tail.
                    let index = (i * 7919 + thread) % 61 - 30;
                    let _: i64 = redis::cmd("POTTERY.LIST.INSERT")
                        .arg("shared")
                        .arg(index)
                        .arg(format!("{thread}:{i}"))
                        .query(&mut connection)
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut stored = text(&items(&server, "shared"));
    stored.sort();
    let mut expected: Vec<String> = (0..4)
        .flat_map(|thread| (0..250).map(move |i| format!("{thread}:{i}")))
        .collect();
    expected.sort();
    assert_eq!(stored, expected);
}

#[test]
fn rotating_a_large_list_by_half_keeps_every_element_in_order() {
    let server = Server::start();
    let len = 200_000usize;
    let mut connection = server.connection();
    for chunk in (0..len).collect::<Vec<_>>().chunks(10_000) {
        let _: () = redis::cmd("RPUSH")
            .arg("big")
            .arg(chunk)
            .query(&mut connection)
            .unwrap();
    }
    let half = (len / 2) as i64;
    for n in [half, half + 1, -half - 1, 1, -1] {
        let reply: i64 = redis::cmd("POTTERY.DEQUE.ROTATE")
            .arg("big")
            .arg(n)
            .query(&mut connection)
            .unwrap();
        assert_eq!(reply, len as i64);
    }
    // The net rotation is half + (half + 1) − (half + 1) + 1 − 1 = half.
    let mut expected: VecDeque<usize> = (0..len).collect();
    expected.rotate_right(len / 2);
    let stored: Vec<usize> = redis::cmd("LRANGE")
        .arg("big")
        .arg(0)
        .arg(-1)
        .query(&mut connection)
        .unwrap();
    assert_eq!(stored, Vec::from(expected));
}
