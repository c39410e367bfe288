//! The README's "## Errors" table is the contract users read: every row's example runs here
//! against a fresh server with the fixture the README describes, and must reply exactly the
//! error the row shows. Every module command (but `POTTERY.HELP`) must have a row, so a new
//! command cannot ship without its errors documented.

use pottery_tests::{workspace_root, Server};
use redis::Value;
use std::collections::BTreeSet;

/// One row of the table: the command, the exact error reply, the invocation that triggers it.
#[derive(Debug)]
struct Row {
    command: String,
    error: String,
    example: String,
}

/// The rows of the one table in the README's "## Errors" section.
fn error_table() -> Vec<Row> {
    let readme =
        std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md is readable");
    let section = readme
        .split("\n## ")
        .find(|section| section.starts_with("Errors\n"))
        .expect("README.md has a \"## Errors\" section");
    let mut rows = Vec::new();
    for line in section.lines().filter(|line| line.starts_with('|')) {
        let cells: Vec<&str> = line
            .trim_matches('|')
            .split('|')
            .map(|cell| cell.trim())
            .collect();
        assert_eq!(cells.len(), 3, "a row has three cells: {line}");
        if cells[0] == "Command" || cells[0].starts_with("---") {
            continue;
        }
        let code = |cell: &str| {
            cell.strip_prefix('`')
                .and_then(|cell| cell.strip_suffix('`'))
                .unwrap_or_else(|| panic!("cell {cell:?} is not `code`: {line}"))
                .to_string()
        };
        rows.push(Row {
            command: code(cells[0]),
            error: code(cells[1]),
            example: code(cells[2]),
        });
    }
    rows
}

/// Splits an example into arguments at spaces, keeping a "double-quoted" argument (possibly
/// empty) whole, as `redis-cli` does for these simple cases.
fn split_arguments(example: &str) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut current: Option<String> = None;
    let mut quoted = false;
    for character in example.chars() {
        match (character, quoted) {
            ('"', false) => {
                quoted = true;
                current.get_or_insert_with(String::new);
            }
            ('"', true) => quoted = false,
            (' ', false) => arguments.extend(current.take()),
            (other, _) => current.get_or_insert_with(String::new).push(other),
        }
    }
    assert!(!quoted, "unbalanced quote in {example:?}");
    arguments.extend(current);
    arguments
}

#[test]
fn the_splitter_keeps_quoted_and_empty_arguments() {
    assert_eq!(
        split_arguments(r#"POTTERY.LOCK door "" 10000"#),
        ["POTTERY.LOCK", "door", "", "10000"]
    );
    assert_eq!(split_arguments(r#"SET k "a b""#), ["SET", "k", "a b"]);
    assert_eq!(split_arguments("PING"), ["PING"]);
}

/// The keys the README's fixture note describes.
fn create_fixture(server: &Server) {
    let setup: &[&[&str]] = &[
        &["SET", "text", "hello"],
        &["RPUSH", "list", "a", "b", "c"],
        &["SET", "maxed", "9223372036854775807"],
        &["POTTERY.LOCK", "held", "other", "600000"],
        &["POTTERY.SEM.ACQUIRE", "sem", "other", "1", "2", "600000"],
        &["POTTERY.RWLOCK.READ", "rw", "other", "600000"],
        &["POTTERY.RWLOCK.WRITE", "wl", "other", "600000", "0"],
        &["POTTERY.BF.RESERVE", "bf", "0.01", "1", "NONSCALING"],
        &["POTTERY.BF.ADD", "bf", "first"],
        &["POTTERY.BF.RESERVE", "chain", "0.01", "1", "EXPANSION", "1"],
        &["PFADD", "badhll", "a"],
        &["APPEND", "badhll", "x"],
    ];
    for command in setup {
        server
            .cmd::<Value>(*command)
            .unwrap_or_else(|error| panic!("fixture {command:?}: {error}"));
    }
    // Each new item fills a capacity-1 sub-filter, so the next one adds a sub-filter.
    let filters = |server: &Server| {
        server
            .cmd::<Vec<i64>>(&["POTTERY.BF.INFO", "chain", "FILTERS"][..])
            .expect("INFO FILTERS")
            .first()
            .copied()
            .unwrap_or(0)
    };
    let mut item = 0;
    while filters(server) < 64 {
        assert!(item < 1000, "chain never reached 64 sub-filters");
        server
            .cmd::<i64>(&["POTTERY.BF.ADD", "chain", &format!("fill-{item}")][..])
            .expect("filling chain");
        item += 1;
    }
}

/// The reply's error text, code included: a top-level error, or the first error entry of an
/// array (how `POTTERY.BF.MADD` and `POTTERY.BF.INSERT` reply a failed item).
fn error_text(reply: redis::RedisResult<Value>) -> Result<String, String> {
    match reply {
        Err(error) => Ok(pottery_tests::error_text(&error)),
        Ok(Value::Array(entries)) => entries
            .iter()
            .find_map(|entry| match entry {
                Value::ServerError(error) => Some(format!(
                    "{} {}",
                    error.code(),
                    error.details().unwrap_or("")
                )),
                _ => None,
            })
            .ok_or_else(|| format!("an array without an error: {entries:?}")),
        Ok(other) => Err(format!("no error: {other:?}")),
    }
}

fn run(server: &Server, example: &str) -> redis::RedisResult<Value> {
    server.cmd::<Value>(split_arguments(example))
}

#[test]
fn every_example_replies_the_error_the_readme_shows() {
    let rows = error_table();
    assert!(rows.len() > 50, "the Errors table lost its rows");
    let server = Server::start();
    create_fixture(&server);
    let mut failures = Vec::new();
    for row in &rows {
        let name = split_arguments(&row.example)
            .first()
            .cloned()
            .unwrap_or_default();
        assert!(
            name.eq_ignore_ascii_case(&row.command),
            "the example {:?} does not run {}",
            row.example,
            row.command
        );
        match error_text(run(&server, &row.example)) {
            Ok(text) if text == row.error => {}
            Ok(text) => failures.push(format!("{}: replied {text:?}", row.example)),
            Err(problem) => failures.push(format!("{}: {problem}", row.example)),
        }
    }
    assert!(
        failures.is_empty(),
        "README error rows that do not hold:\n{}",
        failures.join("\n")
    );
    // The errors wrote nothing: the fixture is as it was, and the server still answers.
    assert_eq!(server.cmd::<String>(&["GET", "text"][..]).unwrap(), "hello");
    assert_eq!(server.cmd::<i64>(&["LLEN", "list"][..]).unwrap(), 3);
    assert_eq!(
        server.cmd::<i64>(&["POTTERY.BF.CARD", "bf"][..]).unwrap(),
        1
    );
    for absent in [
        "new",
        "door",
        "ids",
        "resource",
        "door:fence",
        "held:fence",
        "slots",
    ] {
        assert_eq!(
            server.cmd::<i64>(&["EXISTS", absent][..]).unwrap(),
            0,
            "{absent}"
        );
    }
    assert_eq!(server.cmd::<String>(&["PING"][..]).unwrap(), "PONG");
}

/// The module's commands as the server lists them, lowercase.
fn module_commands(server: &Server) -> BTreeSet<String> {
    server
        .cmd::<Vec<String>>(&["COMMAND", "LIST", "FILTERBY", "MODULE", "pottery"][..])
        .expect("COMMAND LIST FILTERBY MODULE")
        .into_iter()
        .map(|name| name.to_ascii_lowercase())
        .collect()
}

#[test]
fn every_module_command_has_a_row() {
    let server = Server::start();
    let commands = module_commands(&server);
    assert!(commands.contains("pottery.nextid"), "{commands:?}");
    let documented: BTreeSet<String> = error_table()
        .iter()
        .map(|row| row.command.to_ascii_lowercase())
        .collect();
    let missing: Vec<&String> = commands
        .iter()
        .filter(|name| *name != "pottery.help" && !documented.contains(*name))
        .collect();
    assert!(missing.is_empty(), "commands without a row: {missing:?}");
    let unknown: Vec<&String> = documented.difference(&commands).collect();
    assert!(unknown.is_empty(), "rows for unknown commands: {unknown:?}");
}

/// The note's "from Redis itself" arity error, for every command that takes arguments.
#[test]
fn every_command_without_arguments_gets_redis_arity_error() {
    let server = Server::start();
    for name in module_commands(&server) {
        if name == "pottery.help" {
            continue;
        }
        let text = error_text(server.cmd::<Value>(&[name.as_str()][..]))
            .unwrap_or_else(|problem| panic!("{name}: {problem}"));
        assert_eq!(
            text,
            format!("ERR wrong number of arguments for '{name}' command")
        );
    }
    assert_eq!(server.cmd::<String>(&["PING"][..]).unwrap(), "PONG");
}
