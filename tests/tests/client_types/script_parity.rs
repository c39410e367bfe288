//! The Lua scripts that stand in for the module's lock and ID commands (client script mode),
//! run side by side with the module commands on the same inputs: the same replies (counters,
//! which the scripts reply as decimal text, read as integers), the same errors word for word,
//! and the same data and expiry afterwards.

use pottery_tests::redis::Value;
use pottery_tests::Server;

macro_rules! lua {
    ($file:literal) => {
        concat!(
            include_str!("../../../client/src/transport/scripted/prelude.lua"),
            include_str!(concat!("../../../client/src/transport/scripted/", $file))
        )
    };
}

/// A command, its number of keys, and its script.
const COMMANDS: &[(&str, usize, &str)] = &[
    ("POTTERY.LOCK", 1, lua!("lock.lua")),
    ("POTTERY.LOCK.FENCED", 2, lua!("lock_fenced.lua")),
    ("POTTERY.LOCK.FENCE", 2, lua!("lock_fence.lua")),
    ("POTTERY.UNLOCK", 1, lua!("unlock.lua")),
    ("POTTERY.EXTEND", 1, lua!("extend.lua")),
    ("POTTERY.LOCKED", 1, lua!("locked.lua")),
    ("POTTERY.LOCK.HOLDER", 1, lua!("lock_holder.lua")),
    ("POTTERY.FENCE.CHECK", 1, lua!("fence_check.lua")),
    ("POTTERY.NEXTID", 1, lua!("nextid.lua")),
    ("POTTERY.NEXTID.CLAIM", 1, lua!("nextid_claim.lua")),
];

const MAX: &str = "9223372036854775807";
const BIG: &str = "9007199254740993";

/// Setup commands, the command, and its arguments after the name: keys are `l` (lock) and `f`
/// (fence or counter).
type Case = (Vec<Vec<&'static str>>, &'static str, Vec<&'static str>);

fn cases() -> Vec<Case> {
    let set = |key, value| vec!["SET", key, value];
    let held = || vec!["SET", "l", "t", "PX", "50000"];
    let mut cases = vec![
        (vec![], "POTTERY.LOCK", vec!["l", "t", "60000"]),
        (vec![held()], "POTTERY.LOCK", vec!["l", "t", "60000"]),
        (vec![held()], "POTTERY.LOCK", vec!["l", "other", "60000"]),
        (vec![set("l", "t")], "POTTERY.LOCK", vec!["l", "t", "60000"]),
        (vec![], "POTTERY.LOCK", vec!["l", "", "60000"]),
        (vec![], "POTTERY.LOCK", vec!["l", "t", "0"]),
        (vec![], "POTTERY.LOCK", vec!["l", "t", "-1"]),
        (vec![], "POTTERY.LOCK", vec!["l", "t", "1099511627776"]),
        (vec![], "POTTERY.LOCK", vec!["l", "t", "1099511627777"]),
        (vec![], "POTTERY.LOCK", vec!["l", "t", "1.5"]),
        (vec![], "POTTERY.LOCK", vec!["l", "t", "007"]),
        (vec![], "POTTERY.LOCK", vec!["l", "t", MAX]),
        (
            vec![vec!["HSET", "l", "a", "1"]],
            "POTTERY.LOCK",
            vec!["l", "t", "100"],
        ),
        (vec![], "POTTERY.LOCK.FENCED", vec!["l", "f", "t", "60000"]),
        (
            vec![set("f", BIG)],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "t", "60000"],
        ),
        (
            vec![set("f", "-7")],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "t", "60000"],
        ),
        (
            vec![set("f", "x")],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "t", "60000"],
        ),
        (
            vec![set("f", MAX)],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "t", "60000"],
        ),
        (
            vec![held(), set("f", "4")],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "t", "60000"],
        ),
        (
            vec![held(), set("f", "0")],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "t", "60000"],
        ),
        (
            vec![held(), set("f", "4")],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "u", "60000"],
        ),
        (vec![], "POTTERY.LOCK.FENCED", vec!["l", "l", "t", "60000"]),
        (
            vec![set("f", "5"), vec!["EXPIRE", "f", "900"]],
            "POTTERY.LOCK.FENCED",
            vec!["l", "f", "t", "9"],
        ),
        (
            vec![held(), set("f", "3")],
            "POTTERY.LOCK.FENCE",
            vec!["l", "f", "t", BIG],
        ),
        (
            vec![held(), set("f", BIG)],
            "POTTERY.LOCK.FENCE",
            vec!["l", "f", "t", "9007199254740992"],
        ),
        (
            vec![held(), set("f", BIG)],
            "POTTERY.LOCK.FENCE",
            vec!["l", "f", "t", BIG],
        ),
        (
            vec![held()],
            "POTTERY.LOCK.FENCE",
            vec!["l", "f", "t", "-3"],
        ),
        (
            vec![held(), set("f", "3")],
            "POTTERY.LOCK.FENCE",
            vec!["l", "f", "u", "9"],
        ),
        (
            vec![held()],
            "POTTERY.LOCK.FENCE",
            vec!["l", "f", "t", "nine"],
        ),
        (
            vec![held(), set("f", "x")],
            "POTTERY.LOCK.FENCE",
            vec!["l", "f", "u", "9"],
        ),
        (vec![held()], "POTTERY.UNLOCK", vec!["l", "t"]),
        (vec![held()], "POTTERY.UNLOCK", vec!["l", "u"]),
        (vec![], "POTTERY.UNLOCK", vec!["l", "t"]),
        (vec![held()], "POTTERY.UNLOCK", vec!["l", ""]),
        (vec![held()], "POTTERY.EXTEND", vec!["l", "t", "90000"]),
        (vec![held()], "POTTERY.EXTEND", vec!["l", "u", "90000"]),
        (vec![], "POTTERY.EXTEND", vec!["l", "t", "90000"]),
        (vec![held()], "POTTERY.EXTEND", vec!["l", "t", "0"]),
        (vec![held()], "POTTERY.LOCKED", vec!["l", "t"]),
        (vec![set("l", "t")], "POTTERY.LOCKED", vec!["l", "t"]),
        (vec![held()], "POTTERY.LOCKED", vec!["l", "u"]),
        (vec![], "POTTERY.LOCK.HOLDER", vec!["l"]),
        (vec![set("l", "t")], "POTTERY.LOCK.HOLDER", vec!["l"]),
        (
            vec![vec!["SADD", "l", "t"]],
            "POTTERY.LOCK.HOLDER",
            vec!["l"],
        ),
        (vec![], "POTTERY.FENCE.CHECK", vec!["f", "0"]),
        (vec![], "POTTERY.FENCE.CHECK", vec!["f", "-1"]),
        (
            vec![set("f", BIG)],
            "POTTERY.FENCE.CHECK",
            vec!["f", "9007199254740992"],
        ),
        (vec![set("f", BIG)], "POTTERY.FENCE.CHECK", vec!["f", BIG]),
        (vec![set("f", BIG)], "POTTERY.FENCE.CHECK", vec!["f", MAX]),
        (
            vec![],
            "POTTERY.FENCE.CHECK",
            vec!["f", "-9223372036854775808"],
        ),
        (
            vec![],
            "POTTERY.FENCE.CHECK",
            vec!["f", "-9223372036854775809"],
        ),
        (vec![], "POTTERY.NEXTID", vec!["f"]),
        (vec![set("f", BIG)], "POTTERY.NEXTID", vec!["f"]),
        (vec![set("f", "-1")], "POTTERY.NEXTID", vec!["f"]),
        (vec![set("f", MAX)], "POTTERY.NEXTID", vec!["f"]),
        (vec![set("f", "1e3")], "POTTERY.NEXTID", vec!["f"]),
        (vec![], "POTTERY.NEXTID.CLAIM", vec!["f", "1"]),
        (
            vec![set("f", BIG)],
            "POTTERY.NEXTID.CLAIM",
            vec!["f", "9007199254740994"],
        ),
        (vec![set("f", BIG)], "POTTERY.NEXTID.CLAIM", vec!["f", BIG]),
        (
            vec![set("f", "100")],
            "POTTERY.NEXTID.CLAIM",
            vec!["f", "200", "FROM", "100"],
        ),
        (
            vec![set("f", "100")],
            "POTTERY.NEXTID.CLAIM",
            vec!["f", "200", "from", "101"],
        ),
        (vec![], "POTTERY.NEXTID.CLAIM", vec!["f", "2", "FROM", "3"]),
        (vec![], "POTTERY.NEXTID.CLAIM", vec!["f", "-5"]),
        (
            vec![set("f", "-10")],
            "POTTERY.NEXTID.CLAIM",
            vec!["f", "-3"],
        ),
        (vec![], "POTTERY.NEXTID.CLAIM", vec!["f", "2", "TO", "3"]),
        (vec![], "POTTERY.NEXTID.CLAIM", vec!["f", "x"]),
        (vec![set("f", MAX)], "POTTERY.NEXTID.CLAIM", vec!["f", MAX]),
        (
            vec![vec!["LPUSH", "f", "1"]],
            "POTTERY.NEXTID.CLAIM",
            vec!["f", "5"],
        ),
    ];
    // The same case twice in a row: the second sees the first's effect.
    cases.push((
        vec![vec!["POTTERY.NEXTID", "f"], vec!["POTTERY.NEXTID", "f"]],
        "POTTERY.NEXTID",
        vec!["f"],
    ));
    cases
}

/// The reply with counters as integers (the client reads script replies this way), except a
/// holder's token.
fn as_module_replies(command: &str, reply: Value) -> Value {
    let integer = |value: Value| match value {
        Value::BulkString(text) => std::str::from_utf8(&text)
            .ok()
            .and_then(|text| text.parse::<i64>().ok())
            .map_or(Value::BulkString(text), Value::Int),
        other => other,
    };
    if command == "POTTERY.LOCK.HOLDER" {
        return reply;
    }
    match reply {
        Value::Array(items) => Value::Array(items.into_iter().map(integer).collect()),
        other => integer(other),
    }
}

/// What the keys hold afterwards: type, value and whether they expire (and roughly when).
fn state(connection: &mut redis::Connection) -> Vec<String> {
    ["l", "f"]
        .into_iter()
        .map(|key| {
            let kind: String = redis::cmd("TYPE").arg(key).query(connection).unwrap();
            let value: Option<String> = if kind == "string" {
                redis::cmd("GET").arg(key).query(connection).unwrap()
            } else {
                None
            };
            let pttl: i64 = redis::cmd("PTTL").arg(key).query(connection).unwrap();
            let expiry = if pttl < 0 { pttl } else { (pttl + 999) / 1000 };
            format!("{key}: {kind} {value:?} ttl {expiry}s")
        })
        .collect()
}

fn run(connection: &mut redis::Connection, args: &[&str]) -> Value {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query(connection).unwrap_or_else(|error| {
        let text = error.to_string();
        Value::SimpleString(format!("error: {text}"))
    })
}

/// Milliseconds left, in whole seconds: the two servers' clocks run on between the calls.
fn coarse(command: &str, value: Value) -> Value {
    let seconds = |value: Value| match value {
        Value::Int(ms) if ms > 1 => Value::Int((ms + 999) / 1000),
        other => other,
    };
    match (command, value) {
        ("POTTERY.LOCKED", value) => seconds(value),
        ("POTTERY.LOCK.HOLDER", Value::Array(mut items)) if items.len() == 2 => {
            let ms = items.pop().map(seconds);
            items.extend(ms);
            Value::Array(items)
        }
        (_, value) => value,
    }
}

/// An error's text as both replies show it: the redis crate adds `- ` between kind and detail.
fn normalized(value: Value) -> Value {
    match value {
        Value::ServerError(error) => Value::SimpleString(format!(
            "error: {} {}",
            error.code(),
            error.details().unwrap_or_default()
        )),
        other => other,
    }
}

#[test]
fn every_script_replies_errs_and_writes_as_its_module_command() {
    pottery_tests::requires_module!("it compares every script with its module command");
    let module = Server::start();
    let plain = Server::builder().without_module().start();
    let mut with = module.connection();
    let mut without = plain.connection();
    for (setup, command, args) in cases() {
        for connection in [&mut with, &mut without] {
            let _ = run(connection, &["FLUSHALL"]);
        }
        let (_, keys, script) = COMMANDS
            .iter()
            .find(|(name, _, _)| *name == command)
            .expect("a script for every command");
        for step in &setup {
            let _ = run(&mut with, step);
            match COMMANDS.iter().find(|(name, _, _)| *name == step[0]) {
                Some((_, keys, script)) => {
                    let count = keys.to_string();
                    let mut scripted = vec!["EVAL", script, &count];
                    scripted.extend(&step[1..]);
                    let _ = run(&mut without, &scripted);
                }
                None => {
                    let _ = run(&mut without, step);
                }
            }
        }
        let mut direct = vec![command];
        direct.extend(&args);
        let count = keys.to_string();
        let mut scripted = vec!["EVAL", script, &count];
        scripted.extend(&args);
        let expected = coarse(command, normalized(run(&mut with, &direct)));
        let got = as_module_replies(command, run(&mut without, &scripted));
        let got = coarse(command, normalized(got));
        let case = format!("{setup:?} {command} {args:?}");
        assert_eq!(got, expected, "reply to {case}");
        assert_eq!(state(&mut without), state(&mut with), "data after {case}");
    }
}
