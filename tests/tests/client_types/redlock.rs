//! The `Redlock` and `aio::Redlock` clients on five real masters: mutual exclusion under
//! contention, expiry, extension and auto-renewal, masters killed, paused and restarted, and
//! fencing tokens.

use pottery::{Error, Redlock};
use pottery_tests::Server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn urls(servers: &[Server]) -> Vec<String> {
    servers.iter().map(Server::url).collect()
}

fn lock_over(servers: &[Server], name: &str, ttl: Duration) -> Redlock {
    Redlock::builder()
        .name(name)
        .masters(urls(servers))
        .ttl(ttl)
        .master_timeout(Duration::from_millis(200))
        .acquire_timeout(Duration::from_secs(20))
        .retry_delay(Duration::from_millis(5))
        .build()
        .expect("valid builder")
}

#[test]
fn eight_threads_increment_a_plain_counter_without_losing_any() {
    let masters = Server::start_many(5);
    let counter_url = masters[0].url();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let lock = lock_over(&masters, "counter", Duration::from_secs(5));
            let url = counter_url.clone();
            std::thread::spawn(move || {
                let mut connection = redis::Client::open(url)
                    .and_then(|client| client.get_connection())
                    .expect("counter connection");
                for _ in 0..200 {
                    let guard = lock.acquire().expect("acquired");
                    let value: Option<i64> = redis::cmd("GET")
                        .arg("plain-counter")
                        .query(&mut connection)
                        .expect("GET");
                    let _: () = redis::cmd("SET")
                        .arg("plain-counter")
                        .arg(value.unwrap_or(0) + 1)
                        .query(&mut connection)
                        .expect("SET");
                    guard.release().expect("released while valid");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("worker finished");
    }
    let total: i64 = masters[0].cmd(&["GET", "plain-counter"]).unwrap();
    assert_eq!(total, 1600);
}

#[test]
fn a_lock_held_past_its_ttl_is_taken_and_the_late_release_says_so() {
    let masters = Server::start_many(5);
    let first = lock_over(&masters, "expiring", Duration::from_millis(200));
    let second = lock_over(&masters, "expiring", Duration::from_secs(5));
    let guard = first.acquire().unwrap();
    assert!(guard.validity() <= Duration::from_millis(200));
    assert!(second.try_acquire().unwrap().is_none(), "held: not free");
    std::thread::sleep(Duration::from_millis(400));
    assert!(guard.is_lost(), "validity ran out");
    let taken = second.try_acquire().unwrap().expect("expired lock is free");
    assert!(matches!(guard.release(), Err(Error::LockLost)));
    // The late release did not touch the new holder's lock.
    let holder = first.holder().unwrap().expect("held by the second");
    assert_eq!(holder.token, taken.token());
    taken.release().unwrap();
    assert!(!first.is_locked().unwrap());
}

#[test]
fn try_acquire_holder_locked_and_drop() {
    let masters = Server::start_many(5);
    let lock = lock_over(&masters, "printer", Duration::from_secs(10));
    let other = lock_over(&masters, "printer", Duration::from_secs(10));
    assert_eq!(lock.key(), "redlock:printer");
    assert_eq!((lock.masters(), lock.quorum()), (5, 3));
    assert!(lock.holder().unwrap().is_none());
    {
        let guard = lock.try_acquire().unwrap().expect("free");
        let stored: String = masters[2].cmd(&["GET", "redlock:printer"]).unwrap();
        assert_eq!(stored, guard.token());
        let holder = other.holder().unwrap().expect("a majority agrees");
        assert_eq!(holder.token, guard.token());
        assert!(holder.ttl.is_some_and(|ttl| ttl <= Duration::from_secs(10)));
        assert!(other.is_locked().unwrap());
        let left = guard.locked().unwrap().expect("held");
        assert!(left > Duration::from_secs(8) && left < Duration::from_secs(10));
        let started = Instant::now();
        assert!(other
            .acquire_timeout(Duration::from_millis(100))
            .unwrap()
            .is_none());
        // It kept trying until no further attempt (after a pause of up to the 5 ms retry
        // delay) could start before the timeout.
        assert!(started.elapsed() >= Duration::from_millis(95));
    } // dropped: released on a majority before drop returns, on the rest right after
    assert!(
        !other.is_locked().unwrap(),
        "the guard's drop did not release"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    let held_anywhere = || {
        masters
            .iter()
            .any(|master| master.cmd::<bool>(&["EXISTS", "redlock:printer"]).unwrap())
    };
    while held_anywhere() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!held_anywhere(), "a master kept the released lock");
    let value = other.synchronize(|| 7).unwrap();
    assert_eq!(value, 7);
    assert!(!lock.is_locked().unwrap());
}

#[test]
fn extend_keeps_a_lock_for_three_ttls_and_the_cap_holds() {
    let masters = Server::start_many(5);
    let ttl = Duration::from_millis(600);
    let lock = lock_over(&masters, "extended", ttl);
    let rival = lock_over(&masters, "extended", ttl);
    let mut guard = lock.acquire().unwrap();
    let started = Instant::now();
    while started.elapsed() < ttl * 3 {
        std::thread::sleep(ttl / 3);
        guard.extend().unwrap();
        assert!(rival.try_acquire().unwrap().is_none());
    }
    assert!(!guard.is_lost());
    guard.release().unwrap();

    let capped = Redlock::builder()
        .name("capped")
        .masters(urls(&masters))
        .max_extensions(2)
        .build()
        .unwrap();
    let mut guard = capped.acquire().unwrap();
    guard.extend().unwrap();
    guard.extend().unwrap();
    assert!(matches!(
        guard.extend(),
        Err(Error::TooManyExtensions { max: 2 })
    ));
}

#[test]
fn auto_renewal_keeps_the_lock_and_reports_a_lost_majority() {
    let masters = Server::start_many(5);
    let ttl = Duration::from_millis(600);
    let told = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&told);
    let lock = Redlock::builder()
        .name("renewed")
        .masters(urls(&masters))
        .ttl(ttl)
        .master_timeout(Duration::from_millis(50))
        .auto_renew(true)
        .on_lost(move || flag.store(true, Ordering::SeqCst))
        .build()
        .unwrap();
    let rival = lock_over(&masters, "renewed", ttl);
    let guard = lock.acquire().unwrap();
    let started = Instant::now();
    while started.elapsed() < ttl * 3 {
        std::thread::sleep(ttl / 4);
        assert!(!guard.is_lost(), "renewal let the lock lapse");
        assert!(rival.try_acquire().unwrap().is_none());
    }
    for master in &masters[..3] {
        master.kill();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !guard.is_lost() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        guard.is_lost(),
        "renewal still reports a lock without majority"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !told.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(told.load(Ordering::SeqCst), "on_lost was not called");
    assert!(guard.release().is_err());
}

#[test]
fn two_masters_down_still_works_three_down_is_a_quorum_error() {
    let masters = Server::start_many(5);
    let lock = Redlock::builder()
        .name("faults")
        .masters(urls(&masters))
        .master_timeout(Duration::from_millis(100))
        .acquire_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    masters[0].kill();
    masters[3].kill();
    let guard = lock.acquire().expect("3 of 5 suffice");
    assert!(lock.is_locked().unwrap());
    guard.release().unwrap();

    masters[4].kill();
    let started = Instant::now();
    match lock.acquire() {
        Err(Error::QuorumNotAchieved {
            granted,
            quorum: 3,
            masters: 5,
            last_error: Some(_),
        }) if granted < 3 => {}
        other => panic!("expected a quorum error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(matches!(
        lock.try_acquire(),
        Err(Error::QuorumNotAchieved { .. })
    ));
    assert!(matches!(
        lock.holder(),
        Err(Error::QuorumNotAchieved { .. })
    ));
    // Failed attempts release what they took: nothing stays behind on the masters still up
    // (the releases are on the wire when the call returns; give them a moment to land).
    let deadline = Instant::now() + Duration::from_secs(2);
    let left_behind = || {
        masters[1..3]
            .iter()
            .any(|master| master.cmd::<bool>(&["EXISTS", "redlock:faults"]).unwrap())
    };
    while left_behind() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!left_behind());
}

#[test]
fn a_paused_master_does_not_stop_an_acquire_within_its_timeout() {
    let masters = Server::start_many(5);
    let acquire_timeout = Duration::from_secs(2);
    let lock = Redlock::builder()
        .name("paused")
        .masters(urls(&masters))
        .master_timeout(Duration::from_millis(250))
        .acquire_timeout(acquire_timeout)
        .build()
        .unwrap();
    // A client acquires and releases in a loop while one master is frozen mid-way (SIGSTOP
    // lands while requests are in flight); every acquire still completes within its timeout.
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::clone(&stop);
    let worker = std::thread::spawn(move || {
        let mut slowest = Duration::ZERO;
        let mut acquired = 0;
        while !running.load(Ordering::SeqCst) {
            let started = Instant::now();
            let guard = lock.acquire().expect("4 masters answer");
            slowest = slowest.max(started.elapsed());
            assert!(!guard.is_lost());
            // A loaded machine can make the masters miss their timeout: the lock then expires.
            match guard.release() {
                Ok(()) | Err(pottery::Error::QuorumNotAchieved { .. }) => {}
                Err(other) => panic!("release: {other:?}"),
            }
            acquired += 1;
        }
        (acquired, slowest)
    });
    std::thread::sleep(Duration::from_millis(200));
    masters[1].pause();
    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::SeqCst);
    let (acquired, slowest) = worker.join().expect("worker finished");
    masters[1].resume();
    assert!(acquired > 10, "only {acquired} acquisitions");
    assert!(slowest < acquire_timeout, "an acquire took {slowest:?}");
}

#[test]
fn fencing_tokens_strictly_increase_across_holders_and_restarts() {
    pottery_tests::requires_module!("the resource checks tokens with POTTERY.FENCE.CHECK");
    let masters = Server::builder().aof(true).fsync_always(true).start_many(5);
    let lock = Redlock::builder()
        .name("fenced")
        .masters(urls(&masters))
        .master_timeout(Duration::from_millis(200))
        .acquire_timeout(Duration::from_secs(5))
        // A release can miss a master that was just restarted (its connection backs off)
        // while the acquisition's waiting connection reached it: that lock stays until its
        // TTL, which must be shorter than the acquire timeout when only 3 of 5 are up.
        .ttl(Duration::from_secs(2))
        .fencing(true)
        .build()
        .unwrap();
    let resource = Server::start();
    let mut last = 0;
    for round in 0..12 {
        // Kill and restart masters on their data dirs between holders, two at a time.
        if round % 3 == 2 {
            for master in &masters[round % 5..(round % 5 + 2).min(5)] {
                master.kill();
                master.restart();
            }
        }
        if round == 6 {
            masters[0].kill();
            masters[4].kill();
        }
        let guard = lock.acquire().unwrap();
        let token = guard.fencing_token().expect("fencing on");
        assert!(token > last, "token {token} after {last}");
        let accepted: i64 = resource
            .cmd(&["POTTERY.FENCE.CHECK", "resource", &token.to_string()])
            .unwrap();
        assert_eq!(accepted, 1);
        last = token;
        guard.release().unwrap();
        if round == 8 {
            masters[0].restart();
            masters[4].restart();
        }
    }
    // An earlier holder's token is stale at the resource.
    let stale: i64 = resource
        .cmd(&["POTTERY.FENCE.CHECK", "resource", &(last - 1).to_string()])
        .unwrap();
    assert_eq!(stale, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_redlock_has_the_same_surface() {
    let masters = Server::start_many(5);
    let build = |name: &str| {
        Redlock::builder()
            .name(name)
            .masters(urls(&masters))
            .master_timeout(Duration::from_millis(200))
            .retry_delay(Duration::from_millis(5))
            .acquire_timeout(Duration::from_secs(20))
    };
    // Mutual exclusion: 8 tasks x 50 increments of a plain counter.
    let counter = masters[0].client();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let lock = build("async-counter").build_async().await.unwrap();
        let client = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            for _ in 0..50 {
                let guard = lock.acquire().await.unwrap();
                let value: Option<i64> = redis::cmd("GET")
                    .arg("async-counter")
                    .query_async(&mut connection)
                    .await
                    .unwrap();
                let _: () = redis::cmd("SET")
                    .arg("async-counter")
                    .arg(value.unwrap_or(0) + 1)
                    .query_async(&mut connection)
                    .await
                    .unwrap();
                guard.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total: i64 = masters[0].cmd(&["GET", "async-counter"]).unwrap();
    assert_eq!(total, 400);

    // Fencing, holder, locked, extend, try_acquire, synchronize.
    let lock = build("async").fencing(true).build_async().await.unwrap();
    let rival = build("async").build_async().await.unwrap();
    let mut guard = lock.acquire().await.unwrap();
    let first = guard.fencing_token().unwrap();
    assert_eq!(
        rival.holder().await.unwrap().map(|holder| holder.token),
        Some(guard.token().to_string())
    );
    assert!(guard.locked().await.unwrap().is_some());
    guard.extend().await.unwrap();
    assert!(rival.try_acquire().await.unwrap().is_none());
    guard.release().await.unwrap();
    let second = lock.acquire().await.unwrap();
    assert!(second.fencing_token().unwrap() > first);
    drop(second); // spawns a release
    let deadline = Instant::now() + Duration::from_secs(2);
    while rival.is_locked().await.unwrap() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(rival.synchronize(async { 5 }).await.unwrap(), 5);

    // Expiry reported by release, and auto-renewal that reports a lost majority.
    let short = build("async-short")
        .ttl(Duration::from_millis(100))
        .build_async()
        .await
        .unwrap();
    let guard = short.acquire().await.unwrap();
    guard.lost().await;
    // Lost by the client's reckoning; let the masters' clocks pass the TTL too.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let released = guard.release().await;
    assert!(matches!(released, Err(Error::LockLost)), "{released:?}");

    let renewed = build("async-renewed")
        .ttl(Duration::from_millis(600))
        .master_timeout(Duration::from_millis(50))
        .auto_renew(true)
        .build_async()
        .await
        .unwrap();
    let guard = renewed.acquire().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(!guard.is_lost(), "renewal let the lock lapse");
    assert!(rival_for(&masters, "async-renewed")
        .try_acquire()
        .unwrap()
        .is_none());
    for master in &masters[..3] {
        master.kill();
    }
    tokio::time::timeout(Duration::from_secs(5), guard.lost())
        .await
        .expect("lost majority reported");
    assert!(guard.is_lost());
}

fn rival_for(masters: &[Server], name: &str) -> Redlock {
    lock_over(masters, name, Duration::from_secs(1))
}
