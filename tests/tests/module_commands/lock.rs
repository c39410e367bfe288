//! The Redlock module commands on real servers: replies, TTLs, fencing, bad arguments, WATCH and
//! keyspace events, and absolute expiry on a replica and after an AOF reload.

use pottery_tests::{wait_for_replication, Server};
use std::time::Duration;

fn get(server: &Server, key: &str) -> Option<String> {
    server.cmd(&["GET", key]).expect("GET answers")
}

fn pttl(server: &Server, key: &str) -> i64 {
    server.cmd(&["PTTL", key]).expect("PTTL answers")
}

fn expire_time(server: &Server, key: &str) -> i64 {
    server
        .cmd(&["PEXPIRETIME", key])
        .expect("PEXPIRETIME answers")
}

#[test]
fn lock_stores_the_plain_token_with_its_ttl() {
    let server = Server::start();
    let got: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "10000"]).unwrap();
    assert_eq!(got, 1);
    assert_eq!(get(&server, "l").as_deref(), Some("me"));
    assert!((9000..=10000).contains(&pttl(&server, "l")));

    let other: i64 = server.cmd(&["POTTERY.LOCK", "l", "you", "10000"]).unwrap();
    assert_eq!(other, 0);
    assert_eq!(get(&server, "l").as_deref(), Some("me"));

    // A retry by the holder is idempotent and resets the TTL.
    let retry: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "50000"]).unwrap();
    assert_eq!(retry, 1);
    assert!(pttl(&server, "l") > 40000);

    // Unicode keys and binary tokens are bytes like any other.
    let token: &[u8] = b"\xff\x00t\xc3\xa9";
    let got: i64 = server
        .cmd(("POTTERY.LOCK", "замок-🔒", token, 1000))
        .unwrap();
    assert_eq!(got, 1);
    let stored: Vec<u8> = server.cmd(&["GET", "замок-🔒"]).unwrap();
    assert_eq!(stored, token);
    let held: i64 = server.cmd(("POTTERY.LOCKED", "замок-🔒", token)).unwrap();
    assert!((1..=1000).contains(&held));
}

#[test]
fn a_lock_expires_and_can_then_be_taken_by_another() {
    let server = Server::start();
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "first", "50"]).unwrap();
    std::thread::sleep(Duration::from_millis(250));
    let got: i64 = server
        .cmd(&["POTTERY.LOCK", "l", "second", "1000"])
        .unwrap();
    assert_eq!(got, 1);
    let released: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "first"]).unwrap();
    assert_eq!(released, 0, "the first holder's release must not delete");
    assert_eq!(get(&server, "l").as_deref(), Some("second"));
}

#[test]
fn unlock_extend_locked_and_holder_only_act_for_the_holder() {
    let server = Server::start();
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "1000"]).unwrap();

    let locked: i64 = server.cmd(&["POTTERY.LOCKED", "l", "me"]).unwrap();
    assert!((1..=1000).contains(&locked), "{locked}");
    let not_mine: i64 = server.cmd(&["POTTERY.LOCKED", "l", "you"]).unwrap();
    assert_eq!(not_mine, 0);
    let absent: i64 = server.cmd(&["POTTERY.LOCKED", "nothing", "me"]).unwrap();
    assert_eq!(absent, 0);

    let holder: (String, i64) = server.cmd(&["POTTERY.LOCK.HOLDER", "l"]).unwrap();
    assert_eq!(holder.0, "me");
    assert!((1..=1000).contains(&holder.1));
    let nobody: Option<(String, i64)> = server.cmd(&["POTTERY.LOCK.HOLDER", "none"]).unwrap();
    assert_eq!(nobody, None);

    let refused: i64 = server
        .cmd(&["POTTERY.EXTEND", "l", "you", "99000"])
        .unwrap();
    assert_eq!(refused, 0);
    assert!(pttl(&server, "l") <= 1000);
    let extended: i64 = server.cmd(&["POTTERY.EXTEND", "l", "me", "99000"]).unwrap();
    assert_eq!(extended, 1);
    assert!(pttl(&server, "l") > 90000);

    let refused: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "you"]).unwrap();
    assert_eq!(refused, 0);
    let released: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "me"]).unwrap();
    assert_eq!(released, 1);
    assert_eq!(get(&server, "l"), None);
    let again: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "me"]).unwrap();
    assert_eq!(again, 0);

    // EXTEND never re-creates a released lock.
    let extended: i64 = server.cmd(&["POTTERY.EXTEND", "l", "me", "1000"]).unwrap();
    assert_eq!(extended, 0);
    assert_eq!(get(&server, "l"), None);

    // A lock set without expiry (by hand) reports -1.
    let _: () = server.cmd(&["SET", "forever", "me"]).unwrap();
    let forever: i64 = server.cmd(&["POTTERY.LOCKED", "forever", "me"]).unwrap();
    assert_eq!(forever, -1);
    let holder: (String, i64) = server.cmd(&["POTTERY.LOCK.HOLDER", "forever"]).unwrap();
    assert_eq!(holder, ("me".to_string(), -1));
}

#[test]
fn fenced_lock_counts_new_holders_only() {
    let server = Server::start();
    let first: i64 = server
        .cmd(&["POTTERY.LOCK.FENCED", "l", "l:fence", "a", "1000"])
        .unwrap();
    assert_eq!(first, 1);
    let retry: i64 = server
        .cmd(&["POTTERY.LOCK.FENCED", "l", "l:fence", "a", "1000"])
        .unwrap();
    assert_eq!(retry, 1, "a retry by the holder must not increment");
    let refused: i64 = server
        .cmd(&["POTTERY.LOCK.FENCED", "l", "l:fence", "b", "1000"])
        .unwrap();
    assert_eq!(refused, 0);
    let _: i64 = server.cmd(&["POTTERY.UNLOCK", "l", "a"]).unwrap();
    let second: i64 = server
        .cmd(&["POTTERY.LOCK.FENCED", "l", "l:fence", "b", "1000"])
        .unwrap();
    assert_eq!(second, 2);
    assert_eq!(get(&server, "l:fence").as_deref(), Some("2"));
    assert_eq!(get(&server, "l").as_deref(), Some("b"));

    // LOCK.FENCE raises the counter only for the holder, never lowers it.
    let raised: (i64, i64) = server
        .cmd(&["POTTERY.LOCK.FENCE", "l", "l:fence", "b", "7"])
        .unwrap();
    assert_eq!(raised, (1, 7));
    let same: (i64, i64) = server
        .cmd(&["POTTERY.LOCK.FENCE", "l", "l:fence", "b", "7"])
        .unwrap();
    assert_eq!(same, (1, 7));
    let lower: (i64, i64) = server
        .cmd(&["POTTERY.LOCK.FENCE", "l", "l:fence", "b", "5"])
        .unwrap();
    assert_eq!(lower, (0, 7));
    let not_holder: (i64, i64) = server
        .cmd(&["POTTERY.LOCK.FENCE", "l", "l:fence", "a", "100"])
        .unwrap();
    assert_eq!(not_holder, (-1, 7));
    assert_eq!(get(&server, "l:fence").as_deref(), Some("7"));

    // A refused fenced lock with a counter at i64::MAX is not an error; a new holder is.
    let _: () = server
        .cmd(&["SET", "full:fence", "9223372036854775807"])
        .unwrap();
    let overflow: redis::RedisResult<i64> =
        server.cmd(&["POTTERY.LOCK.FENCED", "full", "full:fence", "a", "1000"]);
    assert_eq!(
        overflow.unwrap_err().detail(),
        Some("increment or decrement would overflow")
    );
    assert_eq!(
        get(&server, "full"),
        None,
        "a failed command wrote the lock"
    );
}

#[test]
fn fence_check_rejects_stale_tokens() {
    let server = Server::start();
    let cases = [(1, 1), (5, 1), (5, 1), (4, 0), (6, 1), (-1, 0), (5, 0)];
    for (token, expected) in cases {
        let got: i64 = server
            .cmd(&["POTTERY.FENCE.CHECK", "resource", &token.to_string()])
            .unwrap();
        assert_eq!(got, expected, "token {token}");
    }
    assert_eq!(get(&server, "resource").as_deref(), Some("6"));
}

#[test]
fn bad_arguments_get_redis_errors_and_the_server_stays_up() {
    let server = Server::start();
    let _: () = server.cmd(&["LPUSH", "list", "a"]).unwrap();
    let _: () = server.cmd(&["SET", "text", "hello"]).unwrap();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "held", "me", "100000"])
        .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["POTTERY.LOCK", "l", "t"],
            "ERR wrong number of arguments for 'pottery.lock' command",
        ),
        (
            // An optional BLOCK ms may follow, so a stray word is a syntax error.
            &["POTTERY.LOCK", "l", "t", "1", "extra"],
            "ERR syntax error",
        ),
        (
            &["POTTERY.LOCK", "l", "t", "0"],
            "ERR invalid expire time in 'pottery.lock' command",
        ),
        (
            &["POTTERY.LOCK", "l", "t", "-5"],
            "ERR invalid expire time in 'pottery.lock' command",
        ),
        (
            &["POTTERY.LOCK", "l", "t", "1099511627777"],
            "ERR invalid expire time in 'pottery.lock' command",
        ),
        (
            &["POTTERY.LOCK", "l", "t", "ten"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.LOCK", "l", "t", "99999999999999999999"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.LOCK", "l", "", "1000"],
            "ERR token: must not be empty",
        ),
        (
            &["POTTERY.LOCK", "list", "t", "1000"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["POTTERY.LOCK.FENCED", "l", "l", "t", "1000"],
            "ERR fencekey: must differ from key",
        ),
        (
            &["POTTERY.LOCK.FENCED", "l", "text", "t", "1000"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.LOCK.FENCED", "l", "list", "t", "1000"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["POTTERY.LOCK.FENCED", "l", "f", "t", "0"],
            "ERR invalid expire time in 'pottery.lock.fenced' command",
        ),
        (
            &["POTTERY.LOCK.FENCE", "l", "l", "t", "1"],
            "ERR fencekey: must differ from key",
        ),
        (
            &["POTTERY.LOCK.FENCE", "l", "f", "t", "x"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.LOCK.FENCE", "l", "f", "t"],
            "ERR wrong number of arguments for 'pottery.lock.fence' command",
        ),
        (
            &["POTTERY.EXTEND", "held", "me", "0"],
            "ERR invalid expire time in 'pottery.extend' command",
        ),
        (
            &["POTTERY.EXTEND", "held", "", "10"],
            "ERR token: must not be empty",
        ),
        (
            &["POTTERY.UNLOCK", "held", ""],
            "ERR token: must not be empty",
        ),
        (
            &["POTTERY.UNLOCK", "list", "t"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["POTTERY.UNLOCK", "held"],
            "ERR wrong number of arguments for 'pottery.unlock' command",
        ),
        (
            &["POTTERY.LOCKED", "held", ""],
            "ERR token: must not be empty",
        ),
        (
            &["POTTERY.LOCKED", "list", "t"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["POTTERY.LOCK.HOLDER", "list"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["POTTERY.LOCK.HOLDER"],
            "ERR wrong number of arguments for 'pottery.lock.holder' command",
        ),
        (
            &["POTTERY.FENCE.CHECK", "r", "1.5"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.FENCE.CHECK", "text", "1"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.FENCE.CHECK", "list", "1"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
    ];
    for (args, expected) in cases {
        let error = server
            .cmd::<redis::Value>(*args)
            .expect_err(&format!("{args:?} must fail"));
        let text = pottery_tests::error_text(&error);
        assert_eq!(text, *expected, "{args:?}");
    }
    // Nothing was written by a failed command, and the server still serves.
    assert_eq!(get(&server, "l"), None);
    assert_eq!(get(&server, "held").as_deref(), Some("me"));
    assert!(pttl(&server, "held") > 90000);
    let pong: String = server.cmd(&["PING"]).unwrap();
    assert_eq!(pong, "PONG");
    // The largest TTL is accepted.
    let got: i64 = server
        .cmd(&["POTTERY.LOCK", "max", "t", "1099511627776"])
        .unwrap();
    assert_eq!(got, 1);
}

#[test]
fn only_changes_signal_watchers_and_fire_events() {
    let server = Server::start();
    let _: () = server
        .cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"])
        .unwrap();
    let mut subscriber = server.connection();
    let mut pubsub = subscriber.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:pottery.*").unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();

    let mut watcher = server.connection();
    let watch_then_commit = |watcher: &mut redis::Connection, action: &dyn Fn()| -> bool {
        let _: () = redis::cmd("WATCH").arg("w").query(watcher).unwrap();
        action();
        let committed: Option<(String,)> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("side")
            .arg("1")
            .query(watcher)
            .unwrap();
        committed.is_some()
    };

    let lock = || {
        let _: i64 = server.cmd(&["POTTERY.LOCK", "w", "a", "100000"]).unwrap();
    };
    assert!(
        !watch_then_commit(&mut watcher, &lock),
        "LOCK did not signal"
    );
    let message = pubsub.get_message().unwrap();
    assert_eq!(message.get_channel_name(), "__keyevent@0__:pottery.lock");
    assert_eq!(message.get_payload::<String>().unwrap(), "w");

    // Refusals change nothing and signal nothing.
    let refusals = || {
        let _: i64 = server.cmd(&["POTTERY.LOCK", "w", "b", "100000"]).unwrap();
        let _: i64 = server.cmd(&["POTTERY.UNLOCK", "w", "b"]).unwrap();
        let _: i64 = server.cmd(&["POTTERY.EXTEND", "w", "b", "100"]).unwrap();
        let _: i64 = server
            .cmd(&["POTTERY.LOCK.FENCED", "w", "w:f", "b", "100"])
            .unwrap();
        let _: (i64, i64) = server
            .cmd(&["POTTERY.LOCK.FENCE", "w", "w:f", "b", "100"])
            .unwrap();
    };
    assert!(watch_then_commit(&mut watcher, &refusals));

    let extend = || {
        let _: i64 = server.cmd(&["POTTERY.EXTEND", "w", "a", "200000"]).unwrap();
    };
    assert!(
        !watch_then_commit(&mut watcher, &extend),
        "EXTEND did not signal"
    );
    let message = pubsub.get_message().unwrap();
    assert_eq!(message.get_channel_name(), "__keyevent@0__:pottery.extend");

    let unlock = || {
        let _: i64 = server.cmd(&["POTTERY.UNLOCK", "w", "a"]).unwrap();
    };
    assert!(
        !watch_then_commit(&mut watcher, &unlock),
        "UNLOCK did not signal"
    );
    let message = pubsub.get_message().unwrap();
    assert_eq!(message.get_channel_name(), "__keyevent@0__:pottery.unlock");

    let fenced = || {
        let _: i64 = server
            .cmd(&["POTTERY.LOCK.FENCED", "x", "w", "a", "100000"])
            .unwrap();
    };
    assert!(
        !watch_then_commit(&mut watcher, &fenced),
        "LOCK.FENCED did not signal its fence key"
    );
    for key in ["x", "w"] {
        let message = pubsub.get_message().unwrap();
        assert_eq!(
            message.get_channel_name(),
            "__keyevent@0__:pottery.lock.fenced"
        );
        assert_eq!(message.get_payload::<String>().unwrap(), key);
    }
}

#[test]
fn a_replica_and_an_aof_reload_keep_the_absolute_expiry() {
    let master = Server::builder().aof(true).fsync_always(true).start();
    let replica = Server::start();
    replica.replicate_from(&master);

    let _: i64 = master.cmd(&["POTTERY.LOCK", "l", "me", "60000"]).unwrap();
    let _: i64 = master
        .cmd(&["POTTERY.LOCK.FENCED", "f", "f:fence", "me", "60000"])
        .unwrap();
    let _: i64 = master
        .cmd(&["POTTERY.LOCK", "gone", "me", "60000"])
        .unwrap();
    let _: i64 = master.cmd(&["POTTERY.UNLOCK", "gone", "me"]).unwrap();
    let _: i64 = master.cmd(&["POTTERY.LOCK", "ext", "me", "1000"]).unwrap();
    let _: i64 = master
        .cmd(&["POTTERY.EXTEND", "ext", "me", "70000"])
        .unwrap();
    let _: i64 = master.cmd(&["POTTERY.FENCE.CHECK", "res", "9"]).unwrap();

    // Commands that change nothing are not replicated.
    let offset_before = master.info_field("replication", "master_repl_offset");
    let _: i64 = master
        .cmd(&["POTTERY.LOCK", "l", "other", "60000"])
        .unwrap();
    let _: i64 = master.cmd(&["POTTERY.UNLOCK", "l", "other"]).unwrap();
    let _: i64 = master.cmd(&["POTTERY.FENCE.CHECK", "res", "3"]).unwrap();
    assert_eq!(
        master.info_field("replication", "master_repl_offset"),
        offset_before,
        "a command that changed nothing was replicated"
    );

    wait_for_replication(&master, &replica);
    let expiries: Vec<(&str, i64)> = ["l", "f", "ext"]
        .into_iter()
        .map(|key| (key, expire_time(&master, key)))
        .collect();
    for (key, at) in &expiries {
        assert!(*at > 0, "{key} has no expiry on the master");
        assert_eq!(expire_time(&replica, key), *at, "{key} on the replica");
        assert_eq!(get(&replica, key).as_deref(), Some("me"));
    }
    assert_eq!(get(&replica, "f:fence").as_deref(), Some("1"));
    assert_eq!(get(&replica, "gone"), None);
    assert_eq!(get(&replica, "res").as_deref(), Some("9"));

    // Let time pass so that a relative TTL replayed from the AOF would end later.
    std::thread::sleep(Duration::from_millis(1100));
    master.kill();
    master.restart();
    for (key, at) in &expiries {
        assert_eq!(expire_time(&master, key), *at, "{key} after the AOF reload");
    }
    assert_eq!(get(&master, "f:fence").as_deref(), Some("1"));
    assert_eq!(get(&master, "gone"), None);
}

#[test]
fn help_and_command_info_describe_the_lock_commands() {
    let server = Server::start();
    let help: Vec<String> = server.cmd(&["POTTERY.HELP"]).unwrap();
    for line in [
        "POTTERY.LOCK key token ttl_ms [BLOCK ms]",
        "POTTERY.LOCK.FENCED key fencekey token ttl_ms [BLOCK ms]",
        "POTTERY.LOCK.FENCE key fencekey token value",
        "POTTERY.UNLOCK key token",
        "POTTERY.EXTEND key token ttl_ms",
        "POTTERY.LOCKED key token",
        "POTTERY.LOCK.HOLDER key",
        "POTTERY.FENCE.CHECK key token",
    ] {
        assert!(help.contains(&line.to_string()), "{line} missing: {help:?}");
    }
    let keys: Vec<String> = server
        .cmd(&[
            "COMMAND",
            "GETKEYS",
            "pottery.lock.fenced",
            "l",
            "f",
            "t",
            "1",
        ])
        .unwrap();
    assert_eq!(keys, ["l", "f"]);
    let keys: Vec<String> = server
        .cmd(&[
            "COMMAND",
            "GETKEYS",
            "pottery.lock.fence",
            "l",
            "f",
            "t",
            "1",
        ])
        .unwrap();
    assert_eq!(keys, ["l", "f"]);
    // Flags as designed: holders can release and renew on a full server (no deny-oom).
    let info: redis::Value = server
        .cmd(&[
            "COMMAND",
            "INFO",
            "pottery.lock",
            "pottery.unlock",
            "pottery.locked",
        ])
        .unwrap();
    let text = format!("{info:?}");
    let flags_of = |name: &str| -> String {
        let start = text
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {text}"));
        text[start..].chars().take(200).collect()
    };
    assert!(flags_of("pottery.lock\"").contains("denyoom"), "{text}");
    assert!(flags_of("pottery.lock\"").contains("blocking"), "{text}");
    assert!(!flags_of("pottery.unlock").contains("denyoom"), "{text}");
    assert!(flags_of("pottery.locked").contains("readonly"), "{text}");
}

#[test]
fn a_full_server_still_lets_holders_release_and_renew() {
    let server = Server::start();
    let _: i64 = server
        .cmd(&["POTTERY.LOCK", "held", "me", "100000"])
        .unwrap();
    let _: () = server
        .cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        .unwrap();
    let _: () = server.cmd(&["CONFIG", "SET", "maxmemory", "1"]).unwrap();
    let refused = server
        .cmd::<i64>(&["POTTERY.LOCK", "new", "me", "1000"])
        .expect_err("deny-oom");
    assert_eq!(refused.code(), Some("OOM"));
    let extended: i64 = server
        .cmd(&["POTTERY.EXTEND", "held", "me", "200000"])
        .unwrap();
    assert_eq!(extended, 1);
    let held: i64 = server.cmd(&["POTTERY.LOCKED", "held", "me"]).unwrap();
    assert!(held > 100000);
    let released: i64 = server.cmd(&["POTTERY.UNLOCK", "held", "me"]).unwrap();
    assert_eq!(released, 1);
    let _: () = server.cmd(&["CONFIG", "SET", "maxmemory", "0"]).unwrap();
}

#[test]
fn an_rdb_restart_keeps_the_absolute_expiry() {
    let server = Server::builder().rdb(true).start();
    let _: i64 = server.cmd(&["POTTERY.LOCK", "l", "me", "60000"]).unwrap();
    let at = expire_time(&server, "l");
    let _: () = server.cmd(&["SAVE"]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    server.kill();
    server.restart();
    assert_eq!(expire_time(&server, "l"), at);
    assert_eq!(get(&server, "l").as_deref(), Some("me"));
}
