//! The Lua scripts that stand in for the module's list and deque commands (the client's
//! `lua/*.lua`, run here by `EVAL` exactly as the client sends them, see `list_script`): on one server, the same
//! raw arguments (bad ones included) give the same replies, error texts, data, TTL and key
//! existence as the `POTTERY.*` command, over lists that cross the scripts' 1000-element
//! batches.

use pottery_tests::{error_text, eval_list_script, Server, LIST_COMMANDS};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What the key held before the command.
#[derive(Debug, Clone)]
enum Start {
    Absent,
    List(Vec<String>),
    Hash,
}

#[derive(Debug)]
struct Case {
    command: usize,
    args: Vec<String>,
    start: Start,
}

/// Integers as the module reads them and as it refuses them.
fn integer(rng: &mut StdRng, len: usize) -> String {
    const POOL: &[&str] = &[
        "0",
        "-0",
        "+1",
        "01",
        " 1",
        "1.5",
        "",
        "abc",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999",
        "9223372036854775806",
        "-9223372036854775807",
    ];
    let len = len as i64;
    match rng.random_range(0..10) {
        0 => POOL[rng.random_range(0..POOL.len())].to_owned(),
        1 => rng.random::<i64>().to_string(),
        2 => (rng.random_range(-3..=3) * len + rng.random_range(-2..=2)).to_string(),
        _ => rng.random_range(-len - 3..=len + 3).to_string(),
    }
}

fn element(rng: &mut StdRng) -> String {
    const POOL: &[&str] = &["", "a", "b", "é", "🦀", "\"q\"", "\u{0}", "1"];
    POOL[rng.random_range(0..POOL.len())].to_owned()
}

fn elements(rng: &mut StdRng, large: bool) -> Vec<String> {
    let count = match (large, rng.random_range(0..3)) {
        (true, _) => rng.random_range(900..2600),
        (false, 0) => rng.random_range(9..40),
        _ => rng.random_range(0..7),
    };
    (0..count).map(|_| element(rng)).collect()
}

fn random_case(rng: &mut StdRng) -> Case {
    let large = rng.random_bool(0.15);
    let start = match rng.random_range(0..12) {
        0 => Start::Absent,
        1 => Start::Hash,
        _ => {
            let mut items = elements(rng, large);
            // The scripts' own mark, where they must notice it and do without it.
            if !items.is_empty() && rng.random_bool(0.3) {
                let at = rng.random_range(0..items.len());
                items[at] = "\0pottery:list:mark\0".to_owned();
            }
            Start::List(items)
        }
    };
    let len = match &start {
        Start::List(items) => items.len(),
        _ => 0,
    };
    let command = rng.random_range(0..LIST_COMMANDS.len());
    let mut args = match command {
        0 => vec![integer(rng, len), element(rng)],
        1 => vec![integer(rng, len)],
        2 => {
            let mut args = vec![integer(rng, len), integer(rng, len)];
            let many = rng.random_bool(0.1);
            args.extend(elements(rng, many));
            args
        }
        3 => vec![integer(rng, len)],
        _ => {
            const SIDES: &[&str] = &["LEFT", "RIGHT", "left", "rIgHt", "MIDDLE", ""];
            let side = SIDES[rng.random_range(0..SIDES.len())].to_owned();
            let maxlen = match rng.random_range(0..6) {
                0 => integer(rng, len),
                1 => "-1".to_owned(),
                2 => ["-2", "0", "1200", "9223372036854775807"][rng.random_range(0..4)].to_owned(),
                _ => rng.random_range(0..8).to_string(),
            };
            let mut args = vec![side, maxlen];
            let many = rng.random_bool(0.1);
            args.extend(elements(rng, many));
            args.push(element(rng));
            args
        }
    };
    // Sometimes too few or too many arguments.
    match rng.random_range(0..20) {
        0 => {
            args.pop();
        }
        1 => args.push(element(rng)),
        _ => {}
    }
    Case {
        command,
        args,
        start,
    }
}

/// A reply as comparable data: the value, or the error's full text.
fn outcome(reply: redis::RedisResult<redis::Value>) -> Result<redis::Value, String> {
    reply.map_err(|error| error_text(&error))
}

fn set_up(connection: &mut redis::Connection, key: &str, start: &Start) {
    let _: () = redis::cmd("DEL").arg(key).query(connection).unwrap();
    match start {
        Start::Absent => {}
        Start::Hash => {
            let _: () = redis::cmd("HSET")
                .arg(key)
                .arg("f")
                .arg("v")
                .query(connection)
                .unwrap();
        }
        Start::List(items) => {
            if !items.is_empty() {
                let _: () = redis::cmd("RPUSH")
                    .arg(key)
                    .arg(items)
                    .query(connection)
                    .unwrap();
                let _: () = redis::cmd("PEXPIRE")
                    .arg(key)
                    .arg(600_000)
                    .query(connection)
                    .unwrap();
            }
        }
    }
}

/// What a key is after a command: its type, whether it has a TTL, and its elements.
fn state(connection: &mut redis::Connection, key: &str) -> (String, bool, Vec<Vec<u8>>) {
    let kind: String = redis::cmd("TYPE").arg(key).query(connection).unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg(key).query(connection).unwrap();
    let items = if kind == "list" {
        redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query(connection)
            .unwrap()
    } else {
        Vec::new()
    };
    (kind, ttl > 0, items)
}

#[test]
fn scripts_reply_and_store_exactly_what_the_module_commands_do() {
    pottery_tests::requires_module!("it compares every script with its module command");
    let server = Server::start();
    let mut connection = server.connection();
    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut errors = 0;
    for _ in 0..4000 {
        let case = random_case(&mut rng);
        let command = LIST_COMMANDS[case.command];
        set_up(&mut connection, "m", &case.start);
        set_up(&mut connection, "s", &case.start);
        let module = outcome(
            redis::cmd(command)
                .arg("m")
                .arg(&case.args)
                .query(&mut connection),
        );
        let scripted = outcome(eval_list_script(command, "s", &case.args).query(&mut connection));
        errors += usize::from(module.is_err());
        assert_eq!(scripted, module, "{command} {case:?}");
        assert_eq!(
            state(&mut connection, "s"),
            state(&mut connection, "m"),
            "after {command} {case:?}"
        );
    }
    // The bad arguments were really tried, and so were the good ones.
    assert!((200..2400).contains(&errors), "{errors} errors");
}

/// The scripts need nothing the module adds: they run on a server that has none.
#[test]
fn scripts_run_on_a_server_without_the_module() {
    let server = Server::builder().without_module().start();
    let mut connection = server.connection();
    let eval = |connection: &mut redis::Connection, script: usize, args: &[&str]| {
        outcome(eval_list_script(LIST_COMMANDS[script], "k", args).query(connection))
    };
    use redis::Value::{BulkString, Int, Nil};
    let text = |text: &str| BulkString(text.as_bytes().to_vec());
    assert_eq!(eval(&mut connection, 0, &["5", "b"]), Ok(Int(1)));
    assert_eq!(eval(&mut connection, 0, &["0", "a"]), Ok(Int(2)));
    assert_eq!(
        eval(&mut connection, 4, &["RIGHT", "3", "c", "d"]),
        Ok(Int(3))
    );
    assert_eq!(eval(&mut connection, 3, &["1"]), Ok(Int(3)));
    assert_eq!(eval(&mut connection, 1, &["0"]), Ok(text("d")));
    assert_eq!(eval(&mut connection, 2, &["0", "1", "x", "y"]), Ok(Int(3)));
    assert_eq!(eval(&mut connection, 1, &["9"]), Ok(Nil));
    let items: Vec<String> = server.cmd(&["LRANGE", "k", "0", "-1"]).unwrap();
    assert_eq!(items, ["x", "y", "c"]);
    assert_eq!(
        eval(&mut connection, 4, &["LEFT", "-2", "z"]),
        Err("ERR maxlen: must be -1 or >= 0".to_owned())
    );
    assert_eq!(eval(&mut connection, 4, &["LEFT", "0", "z"]), Ok(Int(0)));
    let exists: bool = server.cmd(&["EXISTS", "k"]).unwrap();
    assert!(!exists, "maxlen 0 deletes the key");
}
