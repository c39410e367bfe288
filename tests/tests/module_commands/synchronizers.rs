//! `POTTERY.SEM.*` on real servers: replies, the hash layout, expiry (of holders and of the
//! key), idempotent retries, bad arguments, WRONGTYPE, 16 clients under a limit, and the
//! effects a replica receives for both synchronizers (`synchronizers_rwlock` has the rest of
//! `POTTERY.RWLOCK.*`).

use pottery_tests::{wait_for_replication, Server};
use redis::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub(super) fn int(server: &Server, args: &[&str]) -> i64 {
    server
        .cmd(args)
        .unwrap_or_else(|error| panic!("{args:?}: {error}"))
}

pub(super) fn error(server: &Server, args: &[&str]) -> String {
    match server.cmd::<Value>(args) {
        Ok(value) => panic!("{args:?} answered {value:?}"),
        Err(error) => pottery_tests::error_text(&error),
    }
}

pub(super) fn hash(server: &Server, key: &str) -> BTreeMap<String, String> {
    server.cmd(&["HGETALL", key]).unwrap()
}

/// The expiry stored for `holder` in a holders hash.
pub(super) fn holder_expiry(server: &Server, key: &str, holder: &str) -> i64 {
    let value: String = server.cmd(&["HGET", key, holder]).unwrap();
    value.rsplit(':').next().unwrap().parse().unwrap()
}

/// Waits (without a time threshold) until the server's clock has passed `at_ms`.
pub(super) fn until_server_time_passes(server: &Server, at_ms: i64) {
    loop {
        let (seconds, micros): (i64, i64) = server.cmd(&["TIME"]).unwrap();
        if seconds * 1000 + micros / 1000 > at_ms {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn permits_add_up_to_the_limit_and_release_frees_them() {
    let server = Server::start();
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "a", "2", "3", "60000"]
        ),
        1
    );
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "b", "2", "3", "60000"]
        ),
        0
    );
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "c", "1", "3", "60000"]
        ),
        1
    );
    assert_eq!(int(&server, &["POTTERY.SEM.AVAILABLE", "s", "3"]), 0);
    // The layout: holder -> "<permits>:<expires_at_ms>", "" -> limit; key TTL = latest.
    let stored = hash(&server, "s");
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[""], "3");
    assert!(stored["a"].starts_with("2:") && stored["c"].starts_with("1:"));
    let latest = holder_expiry(&server, "s", "a").max(holder_expiry(&server, "s", "c"));
    assert_eq!(int(&server, &["PEXPIRETIME", "s"]), latest);

    let info: (i64, i64, Vec<(String, i64, i64)>) = server.cmd(&["POTTERY.SEM.INFO", "s"]).unwrap();
    assert_eq!((info.0, info.1), (3, 3));
    assert_eq!(
        info.2.iter().map(|h| (&h.0[..], h.1)).collect::<Vec<_>>(),
        [("a", 2), ("c", 1)]
    );
    assert!(info.2.iter().all(|h| (1..=60000).contains(&h.2)));

    assert_eq!(int(&server, &["POTTERY.SEM.RELEASE", "s", "a"]), 1);
    assert_eq!(int(&server, &["POTTERY.SEM.RELEASE", "s", "a"]), 0);
    assert_eq!(int(&server, &["POTTERY.SEM.AVAILABLE", "s", "3"]), 2);
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "b", "2", "3", "60000"]
        ),
        1
    );
    assert_eq!(int(&server, &["POTTERY.SEM.RELEASE", "s", "b"]), 1);
    assert_eq!(int(&server, &["POTTERY.SEM.RELEASE", "s", "c"]), 1);
    assert_eq!(
        int(&server, &["EXISTS", "s"]),
        0,
        "the last release deletes the key"
    );
    assert_eq!(
        server.cmd::<Value>(&["POTTERY.SEM.INFO", "s"]).unwrap(),
        Value::Nil
    );
    assert_eq!(int(&server, &["POTTERY.SEM.AVAILABLE", "s", "7"]), 7);
}

#[test]
fn retries_refresh_extend_never_recreates_and_the_limit_must_agree() {
    let server = Server::start();
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "a", "2", "2", "1000"]
        ),
        1
    );
    let first = holder_expiry(&server, "s", "a");
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "a", "2", "2", "500000"]
        ),
        1
    );
    assert!(
        holder_expiry(&server, "s", "a") > first,
        "a retry refreshes"
    );
    assert_eq!(
        int(&server, &["POTTERY.SEM.AVAILABLE", "s", "2"]),
        0,
        "and takes no more"
    );
    assert_eq!(
        error(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "a", "1", "2", "1000"]
        ),
        "ERR permits: differs from the permits the holder holds"
    );
    assert_eq!(
        error(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "b", "1", "3", "1000"]
        ),
        "ERR limit: does not match the semaphore's limit"
    );
    assert_eq!(
        error(&server, &["POTTERY.SEM.AVAILABLE", "s", "3"]),
        "ERR limit: does not match the semaphore's limit"
    );
    assert_eq!(int(&server, &["POTTERY.SEM.EXTEND", "s", "a", "900000"]), 1);
    assert_eq!(
        int(&server, &["PEXPIRETIME", "s"]),
        holder_expiry(&server, "s", "a")
    );
    assert_eq!(
        int(&server, &["POTTERY.SEM.EXTEND", "s", "nobody", "900000"]),
        0
    );
    assert_eq!(
        int(&server, &["POTTERY.SEM.EXTEND", "missing", "a", "900000"]),
        0
    );
    assert_eq!(
        int(&server, &["EXISTS", "missing"]),
        0,
        "EXTEND never creates"
    );
}

#[test]
fn expired_holders_free_their_permits_and_are_pruned() {
    let server = Server::start();
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "long", "1", "2", "600000"]
        ),
        1
    );
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "short", "1", "2", "30"]
        ),
        1
    );
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "x", "1", "2", "600000"]
        ),
        0
    );
    until_server_time_passes(&server, holder_expiry(&server, "s", "short"));
    assert_eq!(
        int(&server, &["POTTERY.SEM.AVAILABLE", "s", "2"]),
        1,
        "reads skip it"
    );
    assert_eq!(
        int(&server, &["HEXISTS", "s", "short"]),
        1,
        "reads do not prune"
    );
    assert_eq!(
        int(&server, &["POTTERY.SEM.EXTEND", "s", "short", "600000"]),
        0
    );
    assert_eq!(int(&server, &["HEXISTS", "s", "short"]), 0, "writes prune");
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "s", "x", "1", "2", "600000"]
        ),
        1
    );

    // An abandoned semaphore goes with its last holder's expiry: Redis drops the key.
    assert_eq!(
        int(&server, &["POTTERY.SEM.ACQUIRE", "t", "a", "1", "1", "20"]),
        1
    );
    until_server_time_passes(&server, holder_expiry(&server, "t", "a"));
    assert_eq!(int(&server, &["EXISTS", "t"]), 0);
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "t", "b", "1", "9", "1000"]
        ),
        1,
        "and with it its limit"
    );
}

#[test]
fn bad_arguments_and_wrong_types_are_refused_with_nothing_written() {
    let server = Server::start();
    let cases: &[(&[&str], &str)] = &[
        (
            &["POTTERY.SEM.ACQUIRE", "s", "", "1", "1", "10"],
            "ERR holder: must not be empty",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "0", "1", "10"],
            "ERR permits: must be positive",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "-1", "1", "10"],
            "ERR permits: must be positive",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "2", "1", "10"],
            "ERR permits: must not exceed limit",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "1", "0", "10"],
            "ERR limit: must be positive",
        ),
        (
            &[
                "POTTERY.SEM.ACQUIRE",
                "s",
                "a",
                "1",
                "-9223372036854775808",
                "10",
            ],
            "ERR limit: must be positive",
        ),
        (
            &[
                "POTTERY.SEM.ACQUIRE",
                "s",
                "a",
                "1",
                "99999999999999999999",
                "10",
            ],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "x", "1", "10"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "1", "1", "0"],
            "ERR invalid expire time in 'pottery.sem.acquire' command",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "1", "1", "1099511627777"],
            "ERR invalid expire time in 'pottery.sem.acquire' command",
        ),
        (
            &["POTTERY.SEM.ACQUIRE", "s", "a", "1", "1"],
            "ERR wrong number of arguments for 'pottery.sem.acquire' command",
        ),
        (
            &["POTTERY.SEM.EXTEND", "s", "a", "-5"],
            "ERR invalid expire time in 'pottery.sem.extend' command",
        ),
        (
            &["POTTERY.SEM.AVAILABLE", "s", "0"],
            "ERR limit: must be positive",
        ),
        (
            &["POTTERY.RWLOCK.READ", "r", "", "10"],
            "ERR holder: must not be empty",
        ),
        (
            &["POTTERY.RWLOCK.READ", "r", "a", "0"],
            "ERR invalid expire time in 'pottery.rwlock.read' command",
        ),
        (
            &["POTTERY.RWLOCK.WRITE", "r", "a", "10", "-1"],
            "ERR intent_ms: must be between 0 and 2^40",
        ),
        (
            &["POTTERY.RWLOCK.WRITE", "r", "a", "10", "1099511627777"],
            "ERR intent_ms: must be between 0 and 2^40",
        ),
        (
            &["POTTERY.RWLOCK.WRITE", "r", "a", "10"],
            "ERR wrong number of arguments for 'pottery.rwlock.write' command",
        ),
        // An optional BLOCK ms may follow, so extra arguments are a syntax error.
        (
            &["POTTERY.RWLOCK.WRITE", "r", "a", "10", "1", "extra"],
            "ERR syntax error",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(&error(&server, args), expected, "{args:?}");
    }
    let _: () = server.cmd(&["SET", "string", "x"]).unwrap();
    let _: i64 = server.cmd(&["RPUSH", "list", "x"]).unwrap();
    for key in ["string", "list"] {
        for args in [
            vec!["POTTERY.SEM.ACQUIRE", key, "a", "1", "1", "10"],
            vec!["POTTERY.SEM.INFO", key],
            vec!["POTTERY.RWLOCK.READ", key, "a", "10"],
            vec!["POTTERY.RWLOCK.INFO", key],
        ] {
            assert!(
                error(&server, &args)
                    .starts_with("WRONGTYPE Operation against a key holding the wrong kind"),
                "{args:?}"
            );
        }
    }
    // A hash in another layout, or a semaphore used as a lock and the other way round.
    let _: i64 = server.cmd(&["HSET", "dict", "\"a\"", "1"]).unwrap();
    assert_eq!(
        int(
            &server,
            &["POTTERY.SEM.ACQUIRE", "sem", "a", "1", "1", "60000"]
        ),
        1
    );
    assert_eq!(
        int(&server, &["POTTERY.RWLOCK.READ", "rw", "a", "60000"]),
        1
    );
    for (args, expected) in [
        (
            vec!["POTTERY.SEM.ACQUIRE", "dict", "a", "1", "1", "10"],
            "WRONGTYPE Key is not a valid pottery semaphore",
        ),
        (
            vec!["POTTERY.SEM.RELEASE", "rw", "a"],
            "WRONGTYPE Key is not a valid pottery semaphore",
        ),
        (
            vec!["POTTERY.RWLOCK.READ", "dict", "a", "10"],
            "WRONGTYPE Key is not a valid pottery read-write lock",
        ),
        (
            vec!["POTTERY.RWLOCK.INFO", "sem"],
            "WRONGTYPE Key is not a valid pottery read-write lock",
        ),
    ] {
        assert_eq!(error(&server, &args), expected, "{args:?}");
    }
    assert_eq!(hash(&server, "dict").len(), 1, "nothing written");
    assert_eq!(
        int(&server, &["EXISTS", "s", "r"]),
        0,
        "nothing created by a refused call"
    );
}

#[test]
fn unicode_binary_and_huge_values() {
    let server = Server::start();
    let holder: &[u8] = b"\xff\x00h\xc3\xa9:1";
    let acquired: i64 = server
        .cmd((
            "POTTERY.SEM.ACQUIRE",
            "семафор-🚦",
            holder,
            i64::MAX,
            i64::MAX,
            1_099_511_627_776i64,
        ))
        .unwrap();
    assert_eq!(acquired, 1);
    let available: i64 = server
        .cmd(("POTTERY.SEM.AVAILABLE", "семафор-🚦", i64::MAX))
        .unwrap();
    assert_eq!(available, 0);
    let other: i64 = server
        .cmd(("POTTERY.SEM.ACQUIRE", "семафор-🚦", "b", 1, i64::MAX, 1000))
        .unwrap();
    assert_eq!(other, 0);
    let released: i64 = server
        .cmd(("POTTERY.SEM.RELEASE", "семафор-🚦", holder))
        .unwrap();
    assert_eq!(released, 1);
}

#[test]
fn a_replica_gets_the_effects_with_absolute_times() {
    let master = Server::start();
    let replica = Server::start();
    replica.replicate_from(&master);
    assert_eq!(
        int(
            &master,
            &["POTTERY.SEM.ACQUIRE", "s", "a", "1", "2", "600000"]
        ),
        1
    );
    assert_eq!(
        int(
            &master,
            &["POTTERY.SEM.ACQUIRE", "s", "gone", "1", "2", "10"]
        ),
        1
    );
    until_server_time_passes(&master, holder_expiry(&master, "s", "gone"));
    assert_eq!(
        int(
            &master,
            &["POTTERY.SEM.ACQUIRE", "s", "b", "1", "2", "700000"]
        ),
        1
    );
    assert_eq!(
        int(&master, &["POTTERY.RWLOCK.READ", "rw", "r", "600000"]),
        1
    );
    assert_eq!(
        int(
            &master,
            &["POTTERY.RWLOCK.WRITE", "rw", "w", "600000", "300000"]
        ),
        0
    );
    wait_for_replication(&master, &replica);
    for key in ["s", "rw"] {
        assert_eq!(hash(&replica, key), hash(&master, key), "{key}");
        assert_eq!(
            int(&replica, &["PEXPIRETIME", key]),
            int(&master, &["PEXPIRETIME", key])
        );
    }
    assert_eq!(
        hash(&replica, "s").len(),
        3,
        "the expired holder was pruned on both"
    );
    let on_replica: (i64, i64, Vec<(String, i64, i64)>) =
        replica.cmd(&["POTTERY.SEM.INFO", "s"]).unwrap();
    assert_eq!(on_replica.1, 2, "read-only commands answer on the replica");
    assert_eq!(int(&master, &["POTTERY.SEM.RELEASE", "s", "a"]), 1);
    assert_eq!(int(&master, &["POTTERY.SEM.RELEASE", "s", "b"]), 1);
    wait_for_replication(&master, &replica);
    assert_eq!(int(&replica, &["EXISTS", "s"]), 0);
}

#[test]
fn sixteen_clients_never_hold_more_than_the_limit() {
    let server = Server::start();
    let limit = 3;
    let threads: Vec<_> = (0..16)
        .map(|n| {
            let mut connection = server.connection();
            std::thread::spawn(move || {
                let holder = format!("client-{n}");
                let mut most = 0;
                let mut held = 0;
                while held < 20 {
                    let got: i64 = redis::cmd("POTTERY.SEM.ACQUIRE")
                        .arg(&["sem", &holder, "1", &limit.to_string(), "60000"])
                        .query(&mut connection)
                        .unwrap();
                    if got == 0 {
                        std::thread::yield_now();
                        continue;
                    }
                    held += 1;
                    let inside: i64 = redis::cmd("INCR")
                        .arg("inside")
                        .query(&mut connection)
                        .unwrap();
                    most = most.max(inside);
                    let _: i64 = redis::cmd("DECR")
                        .arg("inside")
                        .query(&mut connection)
                        .unwrap();
                    let released: i64 = redis::cmd("POTTERY.SEM.RELEASE")
                        .arg(&["sem", &holder])
                        .query(&mut connection)
                        .unwrap();
                    assert_eq!(released, 1);
                }
                most
            })
        })
        .collect();
    let most = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .max()
        .unwrap();
    assert!(
        (1..=limit).contains(&most),
        "at most {limit} inside at once, saw {most}"
    );
}
