//! The module's replies to RESP3 clients (`HELLO 3`): booleans where RedisBloom replies
//! booleans (BF.ADD, MADD, INSERT, EXISTS, MEXISTS), a map for BF.INFO, nulls for absent
//! values, and for every other command the same reply as over RESP2.

use pottery_tests::redis::{self, Value};
use pottery_tests::Server;

/// A connection that speaks RESP3 (`HELLO 3` on connect).
fn resp3(server: &Server) -> redis::Connection {
    let url = format!("{}?protocol=resp3", server.url());
    redis::Client::open(url)
        .and_then(|client| client.get_connection())
        .expect("a RESP3 connection")
}

fn run(connection: &mut redis::Connection, args: &[&str]) -> Value {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command
        .query::<Value>(connection)
        .unwrap_or_else(|error| panic!("{args:?}: {error}"))
}

#[test]
fn bloom_replies_are_booleans_and_a_map_over_resp3_and_integers_over_resp2() {
    let server = Server::start();
    let mut three = resp3(&server);
    let mut two = server.connection();
    assert_eq!(
        run(&mut three, &["POTTERY.BF.ADD", "f", "a"]),
        Value::Boolean(true)
    );
    assert_eq!(run(&mut two, &["POTTERY.BF.ADD", "f", "a"]), Value::Int(0));
    assert_eq!(
        run(&mut three, &["POTTERY.BF.MADD", "f", "a", "b"]),
        Value::Array(vec![Value::Boolean(false), Value::Boolean(true)])
    );
    assert_eq!(
        run(&mut three, &["POTTERY.BF.INSERT", "f", "ITEMS", "c"]),
        Value::Array(vec![Value::Boolean(true)])
    );
    assert_eq!(
        run(&mut three, &["POTTERY.BF.EXISTS", "f", "a"]),
        Value::Boolean(true)
    );
    assert_eq!(
        run(&mut three, &["POTTERY.BF.EXISTS", "missing", "a"]),
        Value::Boolean(false)
    );
    assert_eq!(
        run(&mut three, &["POTTERY.BF.MEXISTS", "f", "a", "zz"]),
        Value::Array(vec![Value::Boolean(true), Value::Boolean(false)])
    );
    assert_eq!(
        run(&mut two, &["POTTERY.BF.EXISTS", "f", "a"]),
        Value::Int(1)
    );

    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "fixed", "0.01", "10", "NONSCALING"])
        .expect("reserve");
    let simple = |text: &str| Value::SimpleString(text.to_owned());
    assert_eq!(
        run(&mut three, &["POTTERY.BF.INFO", "fixed"]),
        Value::Map(vec![
            (simple("Capacity"), Value::Int(10)),
            (simple("Size"), Value::Int(16)),
            (simple("Number of filters"), Value::Int(1)),
            (simple("Number of items inserted"), Value::Int(0)),
            (simple("Expansion rate"), Value::Nil),
        ])
    );
    // RESP2 keeps RedisBloom's flat array, in the same order.
    assert_eq!(
        run(&mut two, &["POTTERY.BF.INFO", "fixed"]),
        Value::Array(vec![
            simple("Capacity"),
            Value::Int(10),
            simple("Size"),
            Value::Int(16),
            simple("Number of filters"),
            Value::Int(1),
            simple("Number of items inserted"),
            Value::Int(0),
            simple("Expansion rate"),
            Value::Nil,
        ])
    );
    // A field alone: a one-entry map over RESP3 and `[value]` over RESP2, as RedisBloom.
    assert_eq!(
        run(&mut three, &["POTTERY.BF.INFO", "fixed", "CAPACITY"]),
        Value::Map(vec![(simple("Capacity"), Value::Int(10))])
    );
    assert_eq!(
        run(&mut two, &["POTTERY.BF.INFO", "fixed", "CAPACITY"]),
        Value::Array(vec![Value::Int(10)])
    );
}

/// A RESP3 reply with its RESP3-only types turned into RESP2's (as Redis does for a RESP2
/// client): what the other commands must reply alike over both protocols.
fn as_resp2(value: Value) -> Value {
    match value {
        Value::Map(pairs) => Value::Array(
            pairs
                .into_iter()
                .flat_map(|(key, value)| [as_resp2(key), as_resp2(value)])
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(as_resp2).collect()),
        Value::Boolean(flag) => Value::Int(i64::from(flag)),
        other => other,
    }
}

#[test]
fn every_other_family_replies_alike_over_both_protocols() {
    let commands: &[&[&str]] = &[
        &["POTTERY.LOCK", "lock", "token", "10000"],
        &["POTTERY.LOCK", "lock", "other", "10000"],
        &["POTTERY.LOCKED", "lock", "other"],
        &["POTTERY.LOCK.HOLDER", "nobody"],
        &["POTTERY.LOCK.FENCED", "fenced", "fence", "token", "10000"],
        &["POTTERY.LOCK.FENCE", "fenced", "fence", "token", "5"],
        &["POTTERY.FENCE.CHECK", "resource", "3"],
        &["POTTERY.EXTEND", "lock", "token", "20000"],
        &["POTTERY.UNLOCK", "lock", "token"],
        &["POTTERY.NEXTID", "ids"],
        &["POTTERY.NEXTID.CLAIM", "ids", "10"],
        &["POTTERY.NEXTID.CLAIM", "ids", "5"],
        &["POTTERY.LIST.INSERT", "list", "0", "a"],
        &["POTTERY.LIST.SETSLICE", "list", "1", "1", "b", "c"],
        &["POTTERY.LIST.POP", "list", "0"],
        &["POTTERY.LIST.POP", "nolist"],
        &["POTTERY.DEQUE.PUSH", "deque", "RIGHT", "2", "x", "y", "z"],
        &["POTTERY.DEQUE.ROTATE", "deque", "1"],
        &["POTTERY.HLL.CONTAINS", "nohll", "a"],
        &["POTTERY.BF.CARD", "nofilter"],
        &["POTTERY.BF.RESERVE", "filter", "0.01", "100"],
        &["POTTERY.BF.SCANDUMP", "filter", "0"],
        &["POTTERY.HELP"],
    ];
    let two = Server::start();
    let three = Server::start();
    let (mut over_two, mut over_three) = (two.connection(), resp3(&three));
    for args in commands {
        let resp2 = run(&mut over_two, args);
        let resp3 = run(&mut over_three, args);
        // PTTLs may differ by the time between the two servers' calls.
        if args[0] == "POTTERY.LOCKED" {
            assert!(matches!((&resp2, &resp3), (Value::Int(_), Value::Int(_))));
            continue;
        }
        assert_eq!(as_resp2(resp3), resp2, "{args:?}");
    }
}
