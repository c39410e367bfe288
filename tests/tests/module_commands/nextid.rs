//! The module's NextID commands on real servers: replies and the stored counter, TTLs, bad
//! arguments, help and command docs, WATCH and keyspace events, replication and AOF. The
//! `NextId` client is tested in `client_types::nextid`.

use pottery_tests::{wait_for_replication, Server};
use std::time::Duration;

fn counter(server: &Server, key: &str) -> Option<String> {
    server.cmd(&["GET", key]).expect("GET answers")
}

#[test]
fn module_command_counts_from_one_exactly() {
    let server = Server::start();
    for expected in 1..=3i64 {
        let id: i64 = server.cmd(&["POTTERY.NEXTID", "plain"]).unwrap();
        assert_eq!(id, expected);
    }
    assert_eq!(counter(&server, "plain").as_deref(), Some("3"));
    // Keys are bytes: unicode and binary names work like any other.
    let id: i64 = server.cmd(&["POTTERY.NEXTID", "ключ-🔑"]).unwrap();
    assert_eq!(id, 1);
}

#[test]
fn claim_replies_and_stores_as_designed() {
    let server = Server::start();
    let won: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "c", "10"]).unwrap();
    assert_eq!(won, (1, 10));
    let lost: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "c", "10"]).unwrap();
    assert_eq!(lost, (0, 10));
    let lower: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "c", "3"]).unwrap();
    assert_eq!(lower, (0, 10));
    // A block claim wins only if the whole block lies above the counter.
    let overlapping: (i64, i64) = server
        .cmd(&["POTTERY.NEXTID.CLAIM", "c", "20", "FROM", "10"])
        .unwrap();
    assert_eq!(overlapping, (0, 10));
    let block: (i64, i64) = server
        .cmd(&["POTTERY.NEXTID.CLAIM", "c", "20", "from", "11"])
        .unwrap();
    assert_eq!(block, (1, 20));
    assert_eq!(counter(&server, "c").as_deref(), Some("20"));
    let negative: (i64, i64) = server
        .cmd(&["POTTERY.NEXTID.CLAIM", "fresh", "-5"])
        .unwrap();
    assert_eq!(negative, (0, 0));
    let exists: bool = server.cmd(&["EXISTS", "fresh"]).unwrap();
    assert!(!exists, "a lost claim must not create the key");
}

#[test]
fn nextid_keeps_the_ttl_like_incr() {
    let server = Server::start();
    let _: () = server.cmd(&["SET", "ttl", "41", "EX", "1000"]).unwrap();
    let id: i64 = server.cmd(&["POTTERY.NEXTID", "ttl"]).unwrap();
    assert_eq!(id, 42);
    let ttl: i64 = server.cmd(&["TTL", "ttl"]).unwrap();
    assert!((1..=1000).contains(&ttl), "TTL lost: {ttl}");
}

#[test]
fn bad_arguments_get_redis_errors_and_the_server_stays_up() {
    let server = Server::start();
    let _: () = server.cmd(&["LPUSH", "list", "a"]).unwrap();
    let _: () = server.cmd(&["HSET", "hash", "f", "v"]).unwrap();
    let _: () = server.cmd(&["SET", "text", "hello"]).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["POTTERY.NEXTID"],
            "ERR wrong number of arguments for 'pottery.nextid' command",
        ),
        (
            &["POTTERY.NEXTID", "a", "b"],
            "ERR wrong number of arguments for 'pottery.nextid' command",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a"],
            "ERR wrong number of arguments for 'pottery.nextid.claim' command",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "ten"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "1.5"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "99999999999999999999"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "-9223372036854775809"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", " 1"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", ""],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "5", "FROM"],
            "ERR syntax error",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "5", "TO", "3"],
            "ERR syntax error",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "5", "FROM", "3", "x"],
            "ERR syntax error",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "5", "FROM", "x"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "a", "5", "FROM", "6"],
            "ERR first: must not exceed value",
        ),
        (
            &["POTTERY.NEXTID", "list"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "hash", "1"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["POTTERY.NEXTID", "text"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.NEXTID.CLAIM", "text", "1"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.HELP", "extra"],
            "ERR wrong number of arguments for 'pottery.help' command",
        ),
    ];
    let mut connection = server.connection();
    for (args, expected) in cases {
        let error = redis::cmd(args[0])
            .arg(&args[1..])
            .query::<redis::Value>(&mut connection)
            .expect_err(&format!("{args:?} must fail"));
        let text = pottery_tests::error_text(&error);
        assert_eq!(&text, expected, "for {args:?}");
    }
    // Binary garbage in every position.
    let garbage: Vec<u8> = (0..=255u8).collect();
    let error = redis::cmd("POTTERY.NEXTID.CLAIM")
        .arg(&garbage[..])
        .arg(&garbage[..])
        .query::<redis::Value>(&mut connection)
        .unwrap_err();
    assert_eq!(error.code(), Some("ERR"));
    // Nothing was written by any failing command, and the server still answers.
    let exists: i64 = server.cmd(&["EXISTS", "a"]).unwrap();
    assert_eq!(exists, 0);
    let pong: String = server.cmd(&["PING"]).unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(counter(&server, "text").as_deref(), Some("hello"));
}

#[test]
fn help_and_command_docs_describe_every_command() {
    let server = Server::start();
    let help: Vec<String> = server.cmd(&["POTTERY.HELP"]).unwrap();
    assert!(help.contains(&"POTTERY.NEXTID key".to_string()), "{help:?}");
    assert!(help.contains(&"POTTERY.NEXTID.CLAIM key value [FROM first]".to_string()));
    for spec in pottery_core_catalog() {
        assert!(
            help.contains(&spec.0.to_string()),
            "{} missing from HELP",
            spec.0
        );
        let keys: Vec<String> = if spec.1.is_empty() {
            Vec::new()
        } else {
            let mut args = vec!["GETKEYS", spec.1[0]];
            args.extend_from_slice(&spec.1[1..]);
            server.cmd([&["COMMAND"][..], &args].concat()).unwrap()
        };
        assert_eq!(keys, spec.2, "COMMAND GETKEYS for {}", spec.0);
    }
    let docs: redis::Value = server
        .cmd(&["COMMAND", "DOCS", "pottery.nextid.claim"])
        .unwrap();
    let text = format!("{docs:?}");
    for needle in ["summary", "FROM", "optional", "key_spec_index", "module"] {
        assert!(text.contains(needle), "COMMAND DOCS lacks {needle}: {text}");
    }
    let modules: Vec<Vec<redis::Value>> = server.cmd(&["MODULE", "LIST"]).unwrap();
    let listed = format!("{modules:?}");
    assert!(
        listed.contains("pottery") && listed.contains("100"),
        "{listed}"
    );
}

/// (help line, a sample invocation, the keys COMMAND GETKEYS must find in it).
fn pottery_core_catalog() -> Vec<(&'static str, Vec<&'static str>, Vec<String>)> {
    vec![
        ("POTTERY.HELP", vec![], vec![]),
        (
            "POTTERY.NEXTID key",
            vec!["pottery.nextid", "k1"],
            vec!["k1".into()],
        ),
        (
            "POTTERY.NEXTID.CLAIM key value [FROM first]",
            vec!["pottery.nextid.claim", "k2", "5", "FROM", "2"],
            vec!["k2".into()],
        ),
    ]
}

#[test]
fn writes_signal_watchers_and_fire_events_only_when_they_change_something() {
    let server = Server::start();
    let _: () = server
        .cmd(&["CONFIG", "SET", "notify-keyspace-events", "KE$"])
        .unwrap();
    let mut subscriber = server.connection();
    let mut pubsub = subscriber.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:pottery.*").unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();

    let _: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "w", "5"]).unwrap();
    let message = pubsub.get_message().unwrap();
    assert_eq!(
        message.get_channel_name(),
        "__keyevent@0__:pottery.nextid.claim"
    );
    assert_eq!(message.get_payload::<String>().unwrap(), "w");

    // A losing claim changes nothing: a WATCHing transaction still commits.
    let mut watcher = server.connection();
    let _: () = redis::cmd("WATCH").arg("w").query(&mut watcher).unwrap();
    let _: (i64, i64) = server.cmd(&["POTTERY.NEXTID.CLAIM", "w", "5"]).unwrap();
    let committed: Option<(String,)> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("side")
        .arg("1")
        .query(&mut watcher)
        .unwrap();
    assert!(
        committed.is_some(),
        "a claim that changed nothing aborted a WATCH"
    );

    // A winning one aborts it, and fires its event.
    let _: () = redis::cmd("WATCH").arg("w").query(&mut watcher).unwrap();
    let _: i64 = server.cmd(&["POTTERY.NEXTID", "w"]).unwrap();
    let aborted: Option<(String,)> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("side")
        .arg("2")
        .query(&mut watcher)
        .unwrap();
    assert!(aborted.is_none(), "a write did not signal the WATCHed key");
    let message = pubsub.get_message().unwrap();
    assert_eq!(message.get_channel_name(), "__keyevent@0__:pottery.nextid");
}

#[test]
fn a_replica_and_an_aof_reload_hold_the_same_counter() {
    let master = Server::builder().aof(true).fsync_always(true).start();
    let replica = Server::start();
    replica.replicate_from(&master);
    for _ in 0..5 {
        let _: i64 = master.cmd(&["POTTERY.NEXTID", "r"]).unwrap();
    }
    let _: (i64, i64) = master
        .cmd(&["POTTERY.NEXTID.CLAIM", "r", "100", "FROM", "50"])
        .unwrap();
    let offset_before: String = master
        .info_field("replication", "master_repl_offset")
        .unwrap();
    let _: (i64, i64) = master.cmd(&["POTTERY.NEXTID.CLAIM", "r", "7"]).unwrap();
    assert_eq!(
        master
            .info_field("replication", "master_repl_offset")
            .unwrap(),
        offset_before,
        "a claim that changed nothing was replicated"
    );
    wait_for_replication(&master, &replica);
    assert_eq!(counter(&replica, "r").as_deref(), Some("100"));

    master.kill();
    master.restart();
    assert_eq!(counter(&master, "r").as_deref(), Some("100"));
    let next: i64 = master.cmd(&["POTTERY.NEXTID", "r"]).unwrap();
    assert_eq!(next, 101);
}
