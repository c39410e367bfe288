//! NextID end to end: the module's commands on real servers, and the `NextId` client over one
//! and five masters, with masters killed, paused and restarted.

use pottery::{Error, NextId};
use pottery_tests::{wait_for_replication, Server};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn urls(servers: &[Server]) -> Vec<String> {
    servers.iter().map(Server::url).collect()
}

fn next_id_over(servers: &[Server], name: &str) -> NextId {
    NextId::builder()
        .name(name)
        .masters(urls(servers))
        .master_timeout(Duration::from_millis(200))
        .deadline(Duration::from_secs(2))
        .build()
        .expect("valid builder")
}

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
fn values_above_2_pow_53_are_exact_and_overflow_is_an_error() {
    let server = Server::start();
    let above = (1i64 << 53) + 1;
    let _: () = server.cmd(&["SET", "big", &above.to_string()]).unwrap();
    let id: i64 = server.cmd(&["POTTERY.NEXTID", "big"]).unwrap();
    assert_eq!(id, above + 1);
    let claimed: (i64, i64) = server
        .cmd(&["POTTERY.NEXTID.CLAIM", "big", &(above + 3).to_string()])
        .unwrap();
    assert_eq!(claimed, (1, above + 3));
    assert_eq!(counter(&server, "big"), Some((above + 3).to_string()));

    let _: () = server.cmd(&["SET", "max", &i64::MAX.to_string()]).unwrap();
    let overflow = server.cmd::<i64>(&["POTTERY.NEXTID", "max"]).unwrap_err();
    assert_eq!(
        overflow.detail(),
        Some("increment or decrement would overflow")
    );

    // The client: exact above 2^53, then a typed overflow at i64::MAX.
    let name = "client-big";
    let key = format!("nextid:{name}");
    let _: () = server.cmd(&["SET", &key, &above.to_string()]).unwrap();
    let mut ids = next_id_over(std::slice::from_ref(&server), name);
    assert_eq!(ids.next_id().unwrap(), above + 1);
    assert_eq!(ids.next_ids(3).unwrap(), above + 2..=above + 4);
    let _: () = server
        .cmd(&["SET", &key, &(i64::MAX - 1).to_string()])
        .unwrap();
    assert_eq!(ids.next_id().unwrap(), i64::MAX);
    assert!(matches!(ids.next_id(), Err(Error::Overflow)));
    assert!(matches!(ids.next_ids(2), Err(Error::Overflow)));
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

#[test]
fn one_master_gives_one_two_three() {
    let server = Server::start();
    let mut ids = next_id_over(std::slice::from_ref(&server), "seq");
    assert_eq!(ids.next_id().unwrap(), 1);
    assert_eq!(ids.next_id().unwrap(), 2);
    assert_eq!(ids.next_id().unwrap(), 3);
    let taken: Vec<i64> = ids.by_ref().take(3).collect::<Result<_, _>>().unwrap();
    assert_eq!(taken, vec![4, 5, 6]);
    assert_eq!(ids.next_ids(10).unwrap(), 7..=16);
    assert_eq!(counter(&server, "nextid:seq").as_deref(), Some("16"));
    ids.reset().unwrap();
    assert_eq!(counter(&server, "nextid:seq"), None);
    assert_eq!(ids.next_id().unwrap(), 1);
    assert!(matches!(
        ids.next_ids(0),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn default_name_is_current() {
    let server = Server::start();
    let mut ids = NextId::builder().masters([server.url()]).build().unwrap();
    assert_eq!(ids.next_id().unwrap(), 1);
    assert_eq!(counter(&server, "nextid:current").as_deref(), Some("1"));
}

#[test]
fn five_masters_four_threads_hand_out_unique_increasing_ids() {
    let servers = Server::start_many(5);
    let urls = urls(&servers);
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let urls = urls.clone();
            std::thread::spawn(move || {
                let mut ids = NextId::builder()
                    .name("shared")
                    .masters(urls)
                    .deadline(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let mut mine = Vec::with_capacity(500);
                for round in 0..500 {
                    // Mix single IDs and blocks.
                    if round % 50 == thread {
                        mine.extend(ids.next_ids(3).unwrap());
                    } else {
                        mine.push(ids.next_id().unwrap());
                    }
                }
                mine
            })
        })
        .collect();
    let mut all = HashSet::new();
    let mut total = 0;
    for thread in threads {
        let mine = thread.join().expect("thread finished");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "not increasing within a thread"
        );
        total += mine.len();
        all.extend(mine);
    }
    assert_eq!(all.len(), total, "an ID was handed out twice");
    assert_eq!(total, 4 * 500 + 4 * 10 * 2);
}

#[test]
fn two_of_five_masters_down_still_works() {
    let servers = Server::start_many(5);
    let mut ids = next_id_over(&servers, "two-down");
    assert_eq!(ids.next_id().unwrap(), 1);
    servers[0].kill();
    servers[3].kill();
    let mut last = 1;
    for _ in 0..20 {
        let id = ids.next_id().unwrap();
        assert!(id > last);
        last = id;
    }
    // A fresh client that never saw the dead masters works too.
    let mut fresh = next_id_over(&servers, "two-down");
    assert!(fresh.next_id().unwrap() > last);
}

#[test]
fn three_of_five_masters_down_is_a_quorum_error_by_the_deadline() {
    let servers = Server::start_many(5);
    let deadline = Duration::from_millis(800);
    let mut ids = NextId::builder()
        .name("three-down")
        .masters(urls(&servers))
        .master_timeout(Duration::from_millis(100))
        .deadline(deadline)
        .build()
        .unwrap();
    assert_eq!(ids.next_id().unwrap(), 1);
    for server in &servers[..3] {
        server.kill();
    }
    let started = Instant::now();
    let error = ids.next_id().unwrap_err();
    let elapsed = started.elapsed();
    match error {
        Error::QuorumNotAchieved {
            granted,
            quorum,
            masters,
            ..
        } => {
            assert_eq!((quorum, masters), (3, 5));
            assert!(granted <= 2);
        }
        other => panic!("expected QuorumNotAchieved, got {other:?}"),
    }
    // Generous slack: the point is that the call gives up near its deadline, not hangs.
    assert!(
        elapsed >= deadline.mul_f32(0.5),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < deadline + Duration::from_secs(3),
        "overran: {elapsed:?}"
    );
}

#[test]
fn a_paused_master_costs_at_most_its_timeout() {
    let servers = Server::start_many(5);
    let master_timeout = Duration::from_millis(300);
    let mut ids = NextId::builder()
        .name("paused")
        .masters(urls(&servers))
        .master_timeout(master_timeout)
        .deadline(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(ids.next_id().unwrap(), 1);
    servers[0].pause();
    let mut last = 1;
    for _ in 0..5 {
        let started = Instant::now();
        let id = ids.next_id().unwrap();
        let elapsed = started.elapsed();
        assert!(id > last);
        last = id;
        assert!(
            elapsed < master_timeout + Duration::from_secs(1),
            "a paused master cost {elapsed:?}"
        );
    }
    servers[0].resume();
    assert!(ids.next_id().unwrap() > last);
}

#[test]
fn masters_killed_and_restarted_with_fsync_always_never_duplicate() {
    let servers = Server::builder().aof(true).fsync_always(true).start_many(5);
    let urls = urls(&servers);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let urls = urls.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut ids = NextId::builder()
                    .name("restarts")
                    .masters(urls)
                    .master_timeout(Duration::from_millis(100))
                    .deadline(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let mut mine = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    mine.push(ids.next_id().expect("a majority is always up"));
                }
                mine
            })
        })
        .collect();
    // Kill and restart two masters at a time, so a majority is always up but every master
    // restarts from its AOF at least once.
    for round in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        let pair = [round % 5, (round + 2) % 5];
        for &index in &pair {
            servers[index].kill();
        }
        std::thread::sleep(Duration::from_millis(100));
        for &index in &pair {
            servers[index].restart();
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut all = HashSet::new();
    let mut total = 0;
    for worker in workers {
        let mine = worker.join().expect("worker finished");
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
        total += mine.len();
        all.extend(mine);
    }
    assert!(total > 30, "too few IDs to mean anything: {total}");
    assert_eq!(
        all.len(),
        total,
        "an ID was handed out twice across restarts"
    );
}

#[test]
fn reset_needs_every_master() {
    let servers = Server::start_many(3);
    let mut ids = next_id_over(&servers, "reset");
    assert_eq!(ids.next_ids(5).unwrap(), 1..=5);
    servers[2].kill();
    assert!(ids.reset().is_err());
    assert!(ids.next_id().unwrap() > 5);
}

#[test]
fn async_next_id_matches_sync() {
    let servers = Server::start_many(5);
    let urls = urls(&servers);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut ids = NextId::builder()
            .name("async")
            .masters(urls.clone())
            .build_async()
            .await
            .unwrap();
        assert_eq!(ids.next_id().await.unwrap(), 1);
        assert_eq!(ids.next_ids(4).await.unwrap(), 2..=5);

        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let urls = urls.clone();
                tokio::spawn(async move {
                    let mut ids = NextId::builder()
                        .name("async")
                        .masters(urls)
                        .deadline(Duration::from_secs(10))
                        .build_async()
                        .await
                        .unwrap();
                    let mut mine = Vec::new();
                    for _ in 0..100 {
                        mine.push(ids.next_id().await.unwrap());
                    }
                    mine
                })
            })
            .collect();
        let mut all = HashSet::new();
        for task in tasks {
            let mine = task.await.unwrap();
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
            assert!(mine.iter().all(|&id| id > 5));
            all.extend(mine);
        }
        assert_eq!(all.len(), 400);

        ids.reset().await.unwrap();
        assert_eq!(ids.next_id().await.unwrap(), 1);

        for server in &servers[..3] {
            server.kill();
        }
        let error = ids.next_id().await.unwrap_err();
        assert!(
            matches!(error, Error::QuorumNotAchieved { .. }),
            "{error:?}"
        );
    });
}
