//! `POTTERY.THROTTLE` on real servers: redis-cell's published example, the stored TAT and its
//! expiry, peeking, bad input and WRONGTYPE, the limit under 16 concurrent clients, WATCH, and
//! a replica that holds the same TAT and continues the limit once promoted. The `RateLimiter` client is tested in `client_types::rate_limiter`.
//!
//! No test reads the wall clock against a threshold: with a period of an hour or more nothing
//! refills while a test runs, so the server's own accounting must allow exactly max_burst + 1.

use pottery_tests::{wait_for_replication, Server};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};

type Reply = (i64, i64, i64, i64, i64);

fn throttle(server: &Server, args: &[&str]) -> Reply {
    let command = [&["POTTERY.THROTTLE"][..], args].concat();
    server
        .cmd(command)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// The server's clock in nanoseconds (`TIME`).
fn server_now_ns(server: &Server) -> i64 {
    let (seconds, micros): (i64, i64) = server.cmd(&["TIME"]).unwrap();
    seconds * 1_000_000_000 + micros * 1000
}

fn stored_tat(server: &Server, key: &str) -> Option<i64> {
    server
        .cmd::<Option<String>>(&["GET", key])
        .unwrap()
        .map(|value| value.parse().expect("the TAT is a decimal integer"))
}

#[test]
fn reproduces_redis_cells_readme_example_and_stores_its_tat() {
    let server = Server::start();
    let before = server_now_ns(&server);
    assert_eq!(
        throttle(&server, &["user123", "15", "30", "60", "1"]),
        (0, 16, 15, -1, 2)
    );
    let after = server_now_ns(&server);
    // redis-cell's layout: nanoseconds since the epoch, one emission interval (2 s) ahead.
    let tat = stored_tat(&server, "user123").unwrap();
    assert!(
        (before + 2_000_000_000..=after + 2_000_000_000).contains(&tat),
        "{tat}"
    );
    // The key expires at the first millisecond at or after the TAT, never before it.
    let expire_at: i64 = server.cmd(&["PEXPIRETIME", "user123"]).unwrap();
    assert_eq!(expire_at, (tat as u64).div_ceil(1_000_000) as i64);
    // The quantity defaults to 1, and the next request costs another 2 s.
    let second = throttle(&server, &["user123", "15", "30", "60"]);
    assert_eq!((second.0, second.1, second.2, second.3), (0, 16, 14, -1));
    assert!((3..=4).contains(&second.4), "{second:?}");
}

#[test]
fn exactly_max_burst_plus_one_pass_then_retry_after_is_given() {
    let server = Server::start();
    for remaining in (0..5).rev() {
        let reply = throttle(&server, &["burst", "4", "1", "3600"]);
        assert_eq!((reply.0, reply.1, reply.2, reply.3), (0, 5, remaining, -1));
    }
    let tat = stored_tat(&server, "burst");
    let refused = throttle(&server, &["burst", "4", "1", "3600"]);
    assert_eq!((refused.0, refused.1, refused.2), (1, 5, 0));
    // One unit comes back in at most an hour; the whole limit in at most five.
    assert!((3599..=3600).contains(&refused.3), "{refused:?}");
    assert!((17_999..=18_000).contains(&refused.4), "{refused:?}");
    assert_eq!(stored_tat(&server, "burst"), tat, "a refusal wrote");
    // The same in milliseconds.
    let ms = throttle(&server, &["burst", "4", "1", "3600", "1", "MS"]);
    assert_eq!((ms.0, ms.2), (1, 0));
    assert!(
        (3_590_000..=3_600_000).contains(&ms.3) && ms.4 > 17_990_000,
        "{ms:?}"
    );
    // A request larger than the whole limit can never pass: no retry time.
    let huge = throttle(&server, &["fresh", "4", "1", "3600", "6"]);
    assert_eq!(huge, (1, 5, 5, -1, 0));
    let exists: bool = server.cmd(&["EXISTS", "fresh"]).unwrap();
    assert!(!exists);
}

#[test]
fn quantity_zero_peeks_without_writing() {
    let server = Server::start();
    assert_eq!(
        throttle(&server, &["peek", "9", "10", "60", "0"]),
        (0, 10, 10, -1, 0)
    );
    let exists: bool = server.cmd(&["EXISTS", "peek"]).unwrap();
    assert!(!exists, "a peek created the key");
    let taken = throttle(&server, &["peek", "9", "10", "60", "3"]);
    assert_eq!((taken.0, taken.2, taken.4), (0, 7, 18));
    let tat = stored_tat(&server, "peek");
    let peeked = throttle(&server, &["peek", "9", "10", "60", "0"]);
    assert_eq!((peeked.0, peeked.2), (0, 7));
    assert_eq!(stored_tat(&server, "peek"), tat);
}

#[test]
fn continues_a_tat_written_the_way_redis_cell_writes_it() {
    let server = Server::start();
    // CL.THROTTLE stores nanoseconds as a decimal string with a relative TTL (SET ... PX).
    let tat = server_now_ns(&server) + 3 * 60_000_000_000;
    let _: () = server
        .cmd(&["SET", "cell", &tat.to_string(), "PX", "180000"])
        .unwrap();
    // Three of ten units (one per minute) are taken: seven remain.
    let reply = throttle(&server, &["cell", "9", "1", "60", "0"]);
    assert_eq!((reply.0, reply.1, reply.2), (0, 10, 7));
    let reply = throttle(&server, &["cell", "9", "1", "60", "7"]);
    assert_eq!((reply.0, reply.2), (0, 0));
    assert_eq!(stored_tat(&server, "cell"), Some(tat + 7 * 60_000_000_000));
    assert_eq!(throttle(&server, &["cell", "9", "1", "60"]).0, 1);
}

#[test]
fn sixteen_concurrent_clients_get_exactly_the_burst() {
    let server = Arc::new(Server::start());
    const CLIENTS: usize = 16;
    const EACH: usize = 25;
    let allowed = Arc::new(AtomicI64::new(0));
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (server, allowed, barrier) = (
                Arc::clone(&server),
                Arc::clone(&allowed),
                Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                let mut connection = server.connection();
                barrier.wait();
                for _ in 0..EACH {
                    let reply: Reply = redis::cmd("POTTERY.THROTTLE")
                        .arg(&["shared", "99", "1", "86400"])
                        .query(&mut connection)
                        .unwrap();
                    assert_eq!(reply.1, 100);
                    if reply.0 == 0 {
                        allowed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    // 400 requests, no refill within a day: exactly the burst passes.
    assert_eq!(allowed.load(Ordering::Relaxed), 100);
    assert_eq!(throttle(&server, &["shared", "99", "1", "86400", "0"]).2, 0);
}

#[test]
fn bad_input_gets_errors_and_writes_nothing() {
    let server = Server::start();
    let _: () = server.cmd(&["LPUSH", "list", "a"]).unwrap();
    let _: () = server.cmd(&["SET", "text", "hello"]).unwrap();
    let max = "9223372036854775807";
    let cases: &[(&[&str], &str)] = &[
        (
            &["k", "1", "1"],
            "ERR wrong number of arguments for 'pottery.throttle' command",
        ),
        (
            &["k", "x", "1", "1"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["k", "1", "1", "1.5"],
            "ERR value is not an integer or out of range",
        ),
        (&["k", "1", "1", "1", "1", "extra"], "ERR syntax error"),
        (&["k", "1", "1", "1", "MS", "1"], "ERR syntax error"),
        (&["k", "-1", "1", "1"], "ERR max_burst: must be >= 0"),
        (&["k", "1", "0", "1"], "ERR count: must be >= 1"),
        (&["k", "1", "1", "0"], "ERR period: must be >= 1"),
        (&["k", "1", "1", "1", "-1"], "ERR quantity: must be >= 0"),
        (
            &["k", "1", "1", max],
            "ERR period: must be at most 9223372036 seconds",
        ),
        (
            &["k", "1", "2000000000", "1"],
            "ERR count: must be at most one per nanosecond of period",
        ),
        (&["k", max, "1", "1"], "ERR max_burst: is too large"),
        (
            &["k", "9000000000", "1", "9000000000"],
            "ERR max_burst: is too large for this rate",
        ),
        (
            &["k", "1", "1", "1", max],
            "ERR quantity: is too large for this rate",
        ),
        (
            &["list", "1", "1", "1"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            &["text", "1", "1", "1"],
            "ERR value is not an integer or out of range",
        ),
    ];
    let mut connection = server.connection();
    for (args, expected) in cases {
        let error = redis::cmd("POTTERY.THROTTLE")
            .arg(*args)
            .query::<redis::Value>(&mut connection)
            .expect_err(&format!("{args:?} must fail"));
        assert_eq!(&pottery_tests::error_text(&error), expected, "for {args:?}");
    }
    // A stored TAT near the end of time overflows: an error, not a crash.
    let _: () = server.cmd(&["SET", "end", max]).unwrap();
    let error = redis::cmd("POTTERY.THROTTLE")
        .arg(&["end", "1", "1", "1"])
        .query::<redis::Value>(&mut connection)
        .unwrap_err();
    assert_eq!(
        pottery_tests::error_text(&error),
        "ERR increment or decrement would overflow"
    );
    // Every edge number in every position: a reply or an error, never a crash.
    let edges = ["0", "1", "-1", "1000000000", max, "-9223372036854775808"];
    let mut sent = 0;
    for a in edges {
        for b in edges {
            for c in edges {
                for d in edges {
                    match redis::cmd("POTTERY.THROTTLE")
                        .arg(&["edge", a, b, c, d])
                        .query::<redis::Value>(&mut connection)
                    {
                        Ok(_) => {}
                        Err(error) => assert!(error.code().is_some(), "{error}"),
                    }
                    sent += 1;
                }
            }
        }
    }
    assert_eq!(sent, edges.len().pow(4));
    let exists: i64 = server.cmd(&["EXISTS", "k"]).unwrap();
    assert_eq!(exists, 0);
    let text: String = server.cmd(&["GET", "text"]).unwrap();
    assert_eq!(text, "hello");
    let pong: String = server.cmd(&["PING"]).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn only_allowed_requests_signal_watchers() {
    // Their keyspace events are checked with every command's in `keyspace_events`.
    let server = Server::start();
    let mut watcher = server.connection();
    let mut watch_then_commit = |request: &[&str]| -> (i64, bool) {
        let _: () = redis::cmd("WATCH").arg("w").query(&mut watcher).unwrap();
        let limited = throttle(&server, request).0;
        let committed: Option<(String,)> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("side")
            .arg("1")
            .query(&mut watcher)
            .unwrap();
        (limited, committed.is_some())
    };
    // Allowed: the WATCH aborts. Refused, or a peek: it commits.
    assert_eq!(watch_then_commit(&["w", "0", "1", "3600"]), (0, false));
    assert_eq!(watch_then_commit(&["w", "0", "1", "3600"]), (1, true));
    assert_eq!(watch_then_commit(&["w", "0", "1", "3600", "0"]), (0, true));
}

#[test]
fn a_promoted_replica_holds_the_same_tat_and_continues_the_limit() {
    let master = Server::builder().aof(true).fsync_always(true).start();
    let replica = Server::start();
    replica.replicate_from(&master);
    for _ in 0..3 {
        assert_eq!(throttle(&master, &["r", "2", "1", "3600"]).0, 0);
    }
    let offset: String = master
        .info_field("replication", "master_repl_offset")
        .unwrap();
    assert_eq!(throttle(&master, &["r", "2", "1", "3600"]).0, 1);
    assert_eq!(
        master
            .info_field("replication", "master_repl_offset")
            .unwrap(),
        offset,
        "a refusal was replicated"
    );
    wait_for_replication(&master, &replica);
    let tat = stored_tat(&master, "r");
    assert!(tat.is_some());
    assert_eq!(stored_tat(&replica, "r"), tat);
    let master_expiry: i64 = master.cmd(&["PEXPIRETIME", "r"]).unwrap();
    let replica_expiry: i64 = replica.cmd(&["PEXPIRETIME", "r"]).unwrap();
    assert_eq!(replica_expiry, master_expiry, "the expiry is not absolute");

    // Promoted, the replica refuses as the master did.
    let _: () = replica.cmd(&["REPLICAOF", "NO", "ONE"]).unwrap();
    let reply = throttle(&replica, &["r", "2", "1", "3600"]);
    assert_eq!((reply.0, reply.2), (1, 0));

    // The master's AOF replays the same TAT and expiry.
    master.kill();
    master.restart();
    assert_eq!(stored_tat(&master, "r"), tat);
    let reloaded: i64 = master.cmd(&["PEXPIRETIME", "r"]).unwrap();
    assert_eq!(reloaded, master_expiry);
    assert_eq!(throttle(&master, &["r", "2", "1", "3600"]).0, 1);
}
