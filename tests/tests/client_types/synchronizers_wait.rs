//! `Semaphore` and `RwLock` waiting in the module's queue (`BLOCK`): first come first served,
//! woken the moment permits or the lock are free, on a dedicated connection so the shared
//! ones stay free, and `with_blocking(false)` still polling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use pottery::sync_primitives::{RwLock, Semaphore};
use pottery::Connector;
use pottery_tests::Server;

#[test]
fn semaphore_waiters_are_served_in_arrival_order() {
    pottery_tests::requires_module!("it waits in POTTERY.SEM.ACQUIRE's queue (BLOCK)");
    let server = Server::start();
    let sem: Semaphore = Semaphore::open(server.url(), "sem", 2).unwrap();
    let held = sem.acquire(1).unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let spawn = |name: &'static str, permits: u64| {
        let (sem, order) = (sem.clone(), Arc::clone(&order));
        thread::spawn(move || {
            let permit = sem.acquire(permits)?;
            order.lock().unwrap().push(name);
            Ok::<_, pottery::Error>(permit)
        })
    };
    // A waiter for both permits, then one for a single permit: one permit is free, but the
    // second must not overtake the first.
    let first = spawn("first", 2);
    server.await_blocked_clients(1);
    let second = spawn("second", 1);
    server.await_blocked_clients(2);
    assert_eq!(sem.available().unwrap(), 1);
    held.release().unwrap();
    let first = first.join().unwrap().unwrap();
    // The second still waits: the first holds both permits.
    server.await_blocked_clients(1);
    assert_eq!(sem.available().unwrap(), 0);
    first.release().unwrap();
    let second = second.join().unwrap().unwrap();
    assert_eq!(*order.lock().unwrap(), ["first", "second"]);
    assert_eq!(sem.available().unwrap(), 1);
    second.release().unwrap();
    assert!(
        server.pottery_stat("pottery_waits") >= 2,
        "the waiters parked in the server"
    );
}

#[test]
fn a_permit_that_expires_wakes_the_waiter() {
    pottery_tests::requires_module!("it waits in POTTERY.SEM.ACQUIRE's queue (BLOCK)");
    let server = Server::start();
    let short: Semaphore = Semaphore::open(server.url(), "sem", 1)
        .unwrap()
        .with_ttl(Duration::from_millis(200));
    let abandoned = short.acquire(1).unwrap();
    std::mem::forget(abandoned); // a holder that crashed: its permit only expires
    let waiter: Semaphore = Semaphore::open(server.url(), "sem", 1).unwrap();
    let permit = waiter.acquire(1).unwrap();
    assert!(!permit.is_lost());
    permit.release().unwrap();
    assert!(server.pottery_stat("pottery_waits") >= 1);
}

#[test]
fn a_queued_writer_keeps_later_readers_behind_it() {
    pottery_tests::requires_module!("it waits in POTTERY.RWLOCK's queue (BLOCK)");
    let server = Server::start();
    let lock: RwLock = RwLock::open(server.url(), "rw").unwrap();
    let reader = lock.read().unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (lock, writes) = (lock.clone(), Arc::clone(&writes));
        thread::spawn(move || {
            let guard = lock.write()?;
            writes.fetch_add(1, Ordering::SeqCst);
            guard.release()
        })
    };
    server.await_blocked_clients(1);
    // A reader that comes after the writer queues behind it, although only readers hold.
    let late_readers: Vec<_> = (0..3)
        .map(|_| {
            let (lock, writes) = (lock.clone(), Arc::clone(&writes));
            thread::spawn(move || {
                let guard = lock.read()?;
                let seen = writes.load(Ordering::SeqCst);
                guard.release()?;
                Ok::<_, pottery::Error>(seen)
            })
        })
        .collect();
    server.await_blocked_clients(4);
    reader.release().unwrap();
    writer.join().unwrap().unwrap();
    for late in late_readers {
        assert_eq!(late.join().unwrap().unwrap(), 1, "the writer went first");
    }
    assert_eq!(server.cmd::<i64>(&["EXISTS", "rw"]).unwrap(), 0);
}

#[test]
fn polling_does_not_queue() {
    pottery_tests::requires_module!("it compares with POTTERY.SEM.ACQUIRE's queue");
    let server = Server::start();
    let sem: Semaphore = Semaphore::open(server.url(), "sem", 1)
        .unwrap()
        .with_blocking(false)
        .with_retry_delay(Duration::from_millis(5));
    let held = sem.acquire(1).unwrap();
    let waiter = {
        let sem = sem.clone();
        thread::spawn(move || sem.acquire_timeout(1, Duration::from_millis(100)))
    };
    assert!(waiter.join().unwrap().unwrap().is_none());
    held.release().unwrap();
    assert_eq!(server.pottery_stat("pottery_waits"), 0);
    assert_eq!(server.blocked_clients(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_waiters_do_not_hold_up_the_shared_connection() {
    pottery_tests::requires_module!("it waits in POTTERY.SEM.ACQUIRE's queue (BLOCK)");
    let server = Server::start();
    let redis = Connector::from(server.url().as_str());
    let sem = pottery::aio::Semaphore::open(&redis, "sem", 1).unwrap();
    let held = sem.acquire(1).await.unwrap();
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let sem = sem.clone();
            tokio::spawn(async move { sem.acquire(1).await?.release().await })
        })
        .collect();
    // The test's own thread may block: the tasks run on the runtime's workers.
    server.await_blocked_clients(4);
    // Four clients wait in the server, and the multiplexed connection still answers.
    assert_eq!(sem.available().await.unwrap(), 0);
    let lock = pottery::aio::RwLock::open(&redis, "other").unwrap();
    lock.write().await.unwrap().release().await.unwrap();
    held.release().await.unwrap();
    for waiter in waiters {
        waiter.await.unwrap().unwrap();
    }
    assert_eq!(sem.available().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_tasks_queueing_for_one_permit_lose_no_increment() {
    pottery_tests::requires_module!("it waits in POTTERY.SEM.ACQUIRE's queue (BLOCK)");
    let server = Server::start();
    let redis = Connector::from(server.url().as_str());
    let sem = pottery::aio::Semaphore::open(&redis, "mutex", 1)
        .unwrap()
        .with_acquire_timeout(Duration::from_secs(120));
    let counter = server.client();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (sem, counter) = (sem.clone(), counter.clone());
            tokio::spawn(async move {
                let mut connection = counter.get_multiplexed_async_connection().await.unwrap();
                for _ in 0..10 {
                    let permit = sem.acquire(1).await.unwrap();
                    let value: Option<i64> = redis::cmd("GET")
                        .arg("n")
                        .query_async(&mut connection)
                        .await
                        .unwrap();
                    let _: () = redis::cmd("SET")
                        .arg("n")
                        .arg(value.unwrap_or(0) + 1)
                        .query_async(&mut connection)
                        .await
                        .unwrap();
                    permit.release().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(server.cmd::<i64>(&["GET", "n"]).unwrap(), 160);
    assert!(
        server.pottery_stat("pottery_waits") > 0,
        "the tasks waited in the server"
    );
}
