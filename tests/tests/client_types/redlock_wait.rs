//! `Redlock::acquire` waiting in the masters' queues (`POTTERY.LOCK ... BLOCK`): it parks
//! instead of polling, a holder on the same `Redlock` still releases, no increment is lost
//! under 16 contending clients, waiters on several masters queue on one (the gate), and two of
//! five masters down still hand the lock over.

use pottery::Redlock;
use pottery_tests::Server;
use std::thread;
use std::time::Duration;

fn lock_over(servers: &[Server], name: &str) -> Redlock {
    Redlock::builder()
        .name(name)
        .masters(servers.iter().map(Server::url).collect::<Vec<_>>())
        .ttl(Duration::from_secs(10))
        .master_timeout(Duration::from_millis(200))
        .acquire_timeout(Duration::from_secs(30))
        .build()
        .expect("valid builder")
}

#[test]
fn a_waiting_acquire_parks_in_the_queue_and_gets_the_lock_on_release() {
    pottery_tests::requires_module!("it waits in POTTERY.LOCK's queue (BLOCK)");
    let server = Server::start();
    let holder = lock_over(std::slice::from_ref(&server), "parked");
    let guard = holder.acquire().unwrap();
    let waiter = lock_over(std::slice::from_ref(&server), "parked");
    let waiting = thread::spawn(move || waiter.acquire().map(|guard| guard.release()));
    server.await_blocked_clients(1);
    guard.release().unwrap();
    waiting.join().unwrap().unwrap().unwrap();
    // It waited in the queue: one park, no refused polls.
    assert_eq!(server.pottery_stat("pottery_waits"), 1);
    assert_eq!(server.pottery_stat("pottery_locks_refused"), 0);

    // Turned off, acquire polls as before.
    let polling = Redlock::builder()
        .name("parked")
        .master(server.url())
        .acquire_timeout(Duration::from_millis(100))
        .blocking(false)
        .build()
        .unwrap();
    let guard = holder.acquire().unwrap();
    assert!(polling.acquire().is_err());
    assert_eq!(server.pottery_stat("pottery_waits"), 1);
    assert!(server.pottery_stat("pottery_locks_refused") > 0);
    guard.release().unwrap();
}

#[test]
fn a_clone_waiting_does_not_hold_up_the_holders_release() {
    pottery_tests::requires_module!("it waits in POTTERY.LOCK's queue (BLOCK)");
    let server = Server::start();
    let lock = lock_over(std::slice::from_ref(&server), "clones");
    let guard = lock.acquire().unwrap();
    let clone = lock.clone();
    let waiting = thread::spawn(move || clone.acquire().map(|guard| guard.release()));
    server.await_blocked_clients(1);
    // The release goes over the shared connections while the clone waits on its own.
    guard.release().unwrap();
    waiting.join().unwrap().unwrap().unwrap();
}

#[test]
fn sixteen_waiting_clients_lose_no_increment() {
    pottery_tests::requires_module!("it waits in POTTERY.LOCK's queue (BLOCK)");
    let server = Server::start();
    let url = server.url();
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let lock = lock_over(std::slice::from_ref(&server), "counter");
            let url = url.clone();
            thread::spawn(move || {
                let mut connection = redis::Client::open(url)
                    .and_then(|client| client.get_connection())
                    .expect("counter connection");
                for _ in 0..50 {
                    let guard = lock.acquire().expect("acquired");
                    let value: Option<i64> =
                        redis::cmd("GET").arg("n").query(&mut connection).unwrap();
                    let () = redis::cmd("SET")
                        .arg("n")
                        .arg(value.unwrap_or(0) + 1)
                        .query(&mut connection)
                        .unwrap();
                    guard.release().expect("released while valid");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker finished");
    }
    let total: i64 = server.cmd(&["GET", "n"]).unwrap();
    assert_eq!(total, 800);
    assert!(
        server.pottery_stat("pottery_waits") > 0,
        "the clients waited"
    );
}

#[test]
fn two_of_five_masters_down_still_hand_the_lock_over() {
    pottery_tests::requires_module!("it waits in POTTERY.LOCK's queue (BLOCK)");
    let masters = Server::start_many(5);
    // The first two are down: waiters queue on the third (the gate moves on past failures).
    masters[0].kill();
    masters[1].kill();
    let holder = lock_over(&masters, "majority");
    let guard = holder.acquire().unwrap();
    let waiter = lock_over(&masters, "majority");
    let waiting = thread::spawn(move || {
        let guard = waiter.acquire()?;
        let validity = guard.validity();
        guard.release()?;
        Ok::<_, pottery::Error>(validity)
    });
    masters[2].await_blocked_clients(1);
    // Only the gate holds a waiter: no majority waits on a minority.
    for master in &masters[3..] {
        assert_eq!(master.blocked_clients(), 0);
    }
    guard.release().unwrap();
    let validity = waiting.join().unwrap().unwrap();
    assert!(validity > Duration::ZERO);
    // Nobody is left queued on the masters that are up, and nothing is held.
    for master in &masters[2..] {
        master.await_blocked_clients(0);
        let held: Option<String> = master.cmd(&["GET", "redlock:majority"]).unwrap();
        assert_eq!(held, None);
    }
}

#[test]
fn waiters_on_five_masters_take_turns_through_the_gate() {
    pottery_tests::requires_module!("it waits in POTTERY.LOCK's queue (BLOCK)");
    let masters = Server::start_many(5);
    let holder = lock_over(&masters, "turns");
    let guard = holder.acquire().unwrap();
    // Eight waiters queue on the first master only, whatever order they reach the others in.
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let waiter = lock_over(&masters, "turns");
            thread::spawn(move || {
                for _ in 0..5 {
                    waiter.acquire()?.release()?;
                }
                Ok::<_, pottery::Error>(())
            })
        })
        .collect();
    masters[0].await_blocked_clients(8);
    for master in &masters[1..] {
        assert_eq!(master.blocked_clients(), 0);
    }
    guard.release().unwrap();
    for waiter in waiters {
        waiter.join().unwrap().unwrap();
    }
    for master in &masters {
        let held: Option<String> = master.cmd(&["GET", "redlock:turns"]).unwrap();
        assert_eq!(held, None);
    }
}

#[test]
fn a_waiting_acquire_times_out_with_acquire_timeout() {
    pottery_tests::requires_module!("it waits in POTTERY.LOCK's queue (BLOCK)");
    let server = Server::start();
    let holder = lock_over(std::slice::from_ref(&server), "busy");
    let _guard = holder.acquire().unwrap();
    let waiter = Redlock::builder()
        .name("busy")
        .master(server.url())
        .acquire_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    assert!(matches!(
        waiter.acquire(),
        Err(pottery::Error::AcquireTimeout { .. })
    ));
    server.await_blocked_clients(0);
    assert_eq!(server.pottery_stat("pottery_wait_timeouts"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_face_waits_in_the_queue_too() {
    pottery_tests::requires_module!("it waits in POTTERY.LOCK's queue (BLOCK)");
    let server = Server::start();
    let build = || {
        Redlock::builder()
            .name("async")
            .master(server.url())
            .acquire_timeout(Duration::from_secs(30))
            .build_async()
    };
    let holder = build().await.unwrap();
    let guard = holder.acquire().await.unwrap();
    let clone = holder.clone();
    let waiting = tokio::spawn(async move {
        let guard = clone.acquire().await?;
        guard.release().await
    });
    while server.pottery_stat("pottery_waits") == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // The holder releases on the shared connection while the clone waits on its own.
    guard.release().await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(server.pottery_stat("pottery_locks_refused"), 0);
}
