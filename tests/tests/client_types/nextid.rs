//! The `NextId` client over one and five masters, with masters killed, paused and restarted,
//! and exact above 2^53 (checked against the module's own replies first). The module's NextID
//! commands themselves are tested in `module_commands::nextid`.

use pottery::{Error, NextId};
use pottery_tests::Server;
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
fn values_above_2_pow_53_are_exact_and_overflow_is_an_error() {
    pottery_tests::requires_module!(
        "it sends POTTERY.NEXTID itself (script mode has its own test of this)"
    );
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
