//! `Semaphore` and `RwLock` on real servers, both faces: permits up to the limit, release on
//! drop, expiry and the loss signal, extension, bad input, 16 clients never above the limit,
//! readers and writers excluding each other, a writer not starved by a stream of readers, and
//! auto-renewal with its loss signal.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pottery::aio::Tokio;
use pottery::sync_primitives::{RwLock, Semaphore};
use pottery::{Blocking, Connector, Error, Mode};
use pottery_tests::{block_on, Server, Wait};

fn is_redis_error(error: &Error, text: &str) -> bool {
    matches!(error, Error::Redis(inner) if inner.to_string().contains(text))
}

/// Waits, by the server's own state and without a time threshold, until nobody holds `key`.
fn until_key_gone(server: &Server, key: &str) {
    while server.cmd::<i64>(&["EXISTS", key]).unwrap() == 1 {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn permits_up_to_the_limit<F: Wait>() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let sem: Semaphore<F> = Semaphore::open(server.url(), "sem", 3).unwrap();
    let two = F::wait(sem.acquire(2)).unwrap();
    assert_eq!(two.permits(), 2);
    assert_eq!(two.key(), "sem");
    assert!(two.validity() > Duration::ZERO && two.validity() <= sem.ttl());
    assert!(!two.is_lost());
    assert!(F::wait(sem.try_acquire(2)).unwrap().is_none());
    let one = F::wait(sem.try_acquire(1))
        .unwrap()
        .expect("one permit is free");
    assert_eq!(F::wait(sem.available()).unwrap(), 0);
    let stored: i64 = server.cmd(&["HGET", "sem", ""]).unwrap();
    assert_eq!(stored, 3, "the limit lives in the hash");
    let token_field: String = server.cmd(&["HGET", "sem", two.token()]).unwrap();
    assert!(token_field.starts_with("2:"));
    F::wait(two.extend()).unwrap();
    F::wait(two.release()).unwrap();
    assert_eq!(F::wait(sem.available()).unwrap(), 2);
    F::wait(one.release()).unwrap();
    assert_eq!(server.cmd::<i64>(&["EXISTS", "sem"]).unwrap(), 0);

    // Bad input never reaches the server.
    for permits in [0, 4, u64::MAX] {
        let refused = F::wait(sem.try_acquire(permits)).unwrap_err();
        assert!(
            matches!(
                refused,
                Error::InvalidArgument {
                    argument: "permits",
                    ..
                }
            ),
            "{refused:?}"
        );
    }
    for limit in [0, u64::MAX, 1 << 63] {
        let refused = Semaphore::<F>::open(server.url(), "sem", limit).unwrap_err();
        assert!(matches!(
            refused,
            Error::InvalidArgument {
                argument: "limit",
                ..
            }
        ));
    }
    let huge: Semaphore<F> = Semaphore::open(server.url(), "huge", i64::MAX as u64).unwrap();
    let all = F::wait(huge.try_acquire(i64::MAX as u64))
        .unwrap()
        .expect("free");
    assert_eq!(F::wait(huge.available()).unwrap(), 0);
    F::wait(all.release()).unwrap();

    // Programs that disagree on the limit are told so; other types are WRONGTYPE.
    let _held = F::wait(sem.acquire(1)).unwrap();
    let other: Semaphore<F> = Semaphore::open(server.url(), "sem", 5).unwrap();
    let error = F::wait(other.try_acquire(1)).unwrap_err();
    assert!(is_redis_error(&error, "limit: does not match"), "{error:?}");
    let _: () = server.cmd(&["SET", "text", "x"]).unwrap();
    let text: Semaphore<F> = Semaphore::open(server.url(), "text", 1).unwrap();
    assert!(is_redis_error(
        &F::wait(text.try_acquire(1)).unwrap_err(),
        "WRONGTYPE"
    ));
    let as_lock: RwLock<F> = RwLock::open(server.url(), "sem").unwrap();
    let error = F::wait(as_lock.try_read()).unwrap_err();
    assert!(
        is_redis_error(&error, "not a valid pottery read-write lock"),
        "{error:?}"
    );

    let without = Connector::from(server.url().as_str()).with_mode(Mode::WithoutModule);
    assert!(matches!(
        Semaphore::<F>::open(without, "sem", 1).unwrap_err(),
        Error::InvalidArgument {
            argument: "connector",
            ..
        }
    ));
}

#[test]
fn permits_up_to_the_limit_sync() {
    permits_up_to_the_limit::<Blocking>();
}

#[test]
fn permits_up_to_the_limit_async() {
    permits_up_to_the_limit::<Tokio>();
}

fn an_expired_hold_is_lost_and_frees_its_permits<F: Wait>() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let sem: Semaphore<F> = Semaphore::open(server.url(), "sem", 1)
        .unwrap()
        .with_ttl(Duration::from_millis(30));
    let permit = F::wait(sem.acquire(1)).unwrap();
    until_key_gone(&server, "sem");
    assert!(permit.is_lost(), "past its validity");
    assert_eq!(F::wait(sem.available()).unwrap(), 1);
    assert!(matches!(
        F::wait(permit.extend()).unwrap_err(),
        Error::LockLost
    ));
    assert_eq!(
        server.cmd::<i64>(&["EXISTS", "sem"]).unwrap(),
        0,
        "extend never re-creates"
    );
    let next = F::wait(sem.clone().with_ttl(Duration::from_secs(60)).acquire(1)).unwrap();
    assert!(matches!(
        F::wait(permit.release()).unwrap_err(),
        Error::LockLost
    ));
    assert_eq!(
        F::wait(sem.available()).unwrap(),
        0,
        "the late release freed nothing of the next holder's"
    );
    F::wait(next.release()).unwrap();

    let lock: RwLock<F> = RwLock::open(server.url(), "rw")
        .unwrap()
        .with_ttl(Duration::from_millis(30));
    let writer = F::wait(lock.write()).unwrap();
    until_key_gone(&server, "rw");
    assert!(writer.is_lost());
    let reader = F::wait(lock.try_read())
        .unwrap()
        .expect("the expired writer let readers in");
    assert!(matches!(
        F::wait(writer.release()).unwrap_err(),
        Error::LockLost
    ));
    drop(reader);
}

#[test]
fn an_expired_hold_is_lost_and_frees_its_permits_sync() {
    an_expired_hold_is_lost_and_frees_its_permits::<Blocking>();
}

#[test]
fn an_expired_hold_is_lost_and_frees_its_permits_async() {
    an_expired_hold_is_lost_and_frees_its_permits::<Tokio>();
}

#[test]
fn the_sync_guards_release_on_drop() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let sem = pottery::Semaphore::open(server.url(), "sem", 2).unwrap();
    {
        let _a = sem.acquire(1).unwrap();
        let _b = sem.acquire(1).unwrap();
        assert_eq!(sem.available().unwrap(), 0);
    }
    assert_eq!(sem.available().unwrap(), 2);
    let lock = pottery::RwLock::open(server.url(), "rw").unwrap();
    {
        let _reader = lock.read().unwrap();
        assert!(lock.try_write().unwrap().is_none());
    }
    drop(
        lock.try_write()
            .unwrap()
            .expect("the reader was released on drop"),
    );
    assert_eq!(server.cmd::<i64>(&["EXISTS", "sem", "rw"]).unwrap(), 0);
}

#[test]
fn the_async_guards_drop_spawns_a_release() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    block_on(async {
        let sem = pottery::aio::Semaphore::open(server.url(), "sem", 1).unwrap();
        drop(sem.acquire(1).await.unwrap());
        // The release runs as a task on this runtime: wait for its effect, not for a time.
        while sem.available().await.unwrap() != 1 {
            tokio::task::yield_now().await;
        }
        let lock = pottery::aio::RwLock::open(server.url(), "rw").unwrap();
        drop(lock.write().await.unwrap());
        while lock.try_read().await.unwrap().is_none() {
            tokio::task::yield_now().await;
        }
    });
}

#[test]
fn try_write_leaves_no_intent_and_a_timed_out_writer_withdraws_its_own() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let lock = pottery::RwLock::open(server.url(), "rw")
        .unwrap()
        .with_retry_delay(Duration::from_millis(2));
    let reader = lock.read().unwrap();
    assert!(lock.try_write().unwrap().is_none());
    let fields: Vec<String> = server.cmd(&["HVALS", "rw"]).unwrap();
    assert!(
        fields.iter().all(|value| value.starts_with("read:")),
        "{fields:?}"
    );
    assert!(lock
        .write_timeout(Duration::from_millis(20))
        .unwrap()
        .is_none());
    let fields: Vec<String> = server.cmd(&["HVALS", "rw"]).unwrap();
    assert_eq!(fields.len(), 1, "the intent was withdrawn: {fields:?}");
    assert!(
        lock.try_read().unwrap().is_some(),
        "so readers get in again"
    );
    reader.release().unwrap();
}

#[test]
fn sixteen_sync_clients_never_hold_more_than_the_limit() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let limit = 3;
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let url = server.url();
            std::thread::spawn(move || {
                let sem = pottery::Semaphore::open(url.as_str(), "sem", limit)
                    .unwrap()
                    .with_retry_delay(Duration::from_millis(3))
                    .with_acquire_timeout(Duration::from_secs(120));
                let mut connection = redis::Client::open(url.as_str())
                    .unwrap()
                    .get_connection()
                    .unwrap();
                let mut most = 0;
                for _ in 0..10 {
                    let permit = sem.acquire(1).unwrap();
                    let inside: i64 = redis::cmd("INCR")
                        .arg("inside")
                        .query(&mut connection)
                        .unwrap();
                    most = most.max(inside);
                    std::thread::yield_now();
                    let _: i64 = redis::cmd("DECR")
                        .arg("inside")
                        .query(&mut connection)
                        .unwrap();
                    permit.release().unwrap();
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
        (1..=limit as i64).contains(&most),
        "saw {most} holders at once"
    );
    assert_eq!(server.cmd::<i64>(&["EXISTS", "sem"]).unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_async_tasks_never_hold_more_than_the_limit() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let redis = Connector::from(server.url().as_str());
    let sem = pottery::aio::Semaphore::open(&redis, "sem", 2)
        .unwrap()
        .with_retry_delay(Duration::from_millis(3))
        .with_acquire_timeout(Duration::from_secs(120));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (sem, inside, most) = (sem.clone(), Arc::clone(&inside), Arc::clone(&most));
            tokio::spawn(async move {
                for _ in 0..10 {
                    let permit = sem.acquire(1).await.unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    permit.release().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let most = most.load(Ordering::SeqCst);
    assert!((1..=2).contains(&most), "saw {most} holders at once");
}

#[test]
fn readers_share_and_writers_exclude_under_concurrency() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let shared_reads = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..12)
        .map(|n| {
            let url = server.url();
            let shared_reads = Arc::clone(&shared_reads);
            std::thread::spawn(move || {
                let lock = pottery::RwLock::open(url.as_str(), "rw")
                    .unwrap()
                    .with_retry_delay(Duration::from_millis(3))
                    .with_acquire_timeout(Duration::from_secs(120));
                let mut connection = redis::Client::open(url.as_str())
                    .unwrap()
                    .get_connection()
                    .unwrap();
                let mut incr = |key: &str, by: i64| -> i64 {
                    redis::cmd("INCRBY")
                        .arg(key)
                        .arg(by)
                        .query(&mut connection)
                        .unwrap()
                };
                for _ in 0..8 {
                    if n % 3 == 0 {
                        let writer = lock.write().unwrap();
                        assert_eq!(incr("writers", 1), 1, "one writer at a time");
                        assert_eq!(incr("readers", 0), 0, "no reader beside a writer");
                        incr("writers", -1);
                        writer.release().unwrap();
                    } else {
                        let reader = lock.read().unwrap();
                        if incr("readers", 1) > 1 {
                            shared_reads.fetch_add(1, Ordering::SeqCst);
                        }
                        assert_eq!(incr("writers", 0), 0, "no writer beside a reader");
                        std::thread::yield_now();
                        incr("readers", -1);
                        reader.release().unwrap();
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(server.cmd::<i64>(&["EXISTS", "rw"]).unwrap(), 0);
    eprintln!(
        "reads that overlapped another: {}",
        shared_reads.load(Ordering::SeqCst)
    );
}

fn a_writer_gets_in_despite_a_stream_of_readers<F: Wait>() {
    pottery_tests::requires_module!("Semaphore and RwLock need POTTERY.SEM/RWLOCK");
    let server = Server::start();
    let stop = Arc::new(AtomicBool::new(false));
    // Readers that hand over: each takes its next read before it releases the current one,
    // so from the first read on someone always reads. A writer that waited for a moment
    // without readers would wait for ever; only its intent (refusing the next reads) lets it in.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop) = (server.url(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let lock = pottery::RwLock::open(url.as_str(), "rw").unwrap();
                let (mut reads, mut waits) = (0u64, 0u64);
                let mut current = None;
                while !stop.load(Ordering::SeqCst) {
                    let next = lock.try_read().unwrap();
                    match next {
                        Some(_) => reads += 1,
                        None => waits += 1,
                    }
                    let was_reading = current.is_some();
                    if let Some(previous) = std::mem::replace(&mut current, next) {
                        let _ = previous.release();
                    }
                    if !was_reading || current.is_none() {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                (reads, waits)
            })
        })
        .collect();
    while server.cmd::<Vec<String>>(&["HKEYS", "rw"]).unwrap().len() < 2 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let lock: RwLock<F> = RwLock::open(server.url(), "rw")
        .unwrap()
        .with_acquire_timeout(Duration::from_secs(600));
    let writer = F::wait(lock.write()).expect("the writer is not starved");
    let holders: Vec<(String, String, i64)> = server.cmd(&["POTTERY.RWLOCK.INFO", "rw"]).unwrap();
    assert_eq!(holders.iter().filter(|h| h.1 == "read").count(), 0);
    F::wait(writer.release()).unwrap();
    stop.store(true, Ordering::SeqCst);
    let (reads, waits) = readers
        .into_iter()
        .map(|reader| reader.join().unwrap())
        .fold((0, 0), |(r, w), (reads, waits)| (r + reads, w + waits));
    assert!(
        reads > 0 && waits > 0,
        "readers read and were held back: {reads} reads, {waits} waits"
    );
}

#[test]
fn a_writer_gets_in_despite_a_stream_of_readers_sync() {
    a_writer_gets_in_despite_a_stream_of_readers::<Blocking>();
}

#[test]
fn a_writer_gets_in_despite_a_stream_of_readers_async() {
    a_writer_gets_in_despite_a_stream_of_readers::<Tokio>();
}

/// Waits until `done` (checked every 10 ms); a minute without it is a failure, not slowness.
fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "never saw {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn auto_renewal_keeps_a_permit_past_its_ttl_and_reports_its_loss() {
    pottery_tests::requires_module!("Semaphore needs POTTERY.SEM");
    let server = Server::start();
    let lost = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&lost);
    let sem: Semaphore = Semaphore::open(server.url(), "renewed", 1)
        .unwrap()
        .with_ttl(Duration::from_millis(1500))
        .with_auto_renew(true)
        .with_on_lost(move || flag.store(true, Ordering::SeqCst));
    let permit = sem.acquire(1).unwrap();
    // Renewed at a third of the TTL: after several TTLs the server still counts it.
    let mut renewals = 0;
    while renewals < 3 {
        let before = server.command_calls("pottery.sem.extend");
        until("a renewal", || {
            server.command_calls("pottery.sem.extend") > before
        });
        renewals += 1;
        assert_eq!(
            sem.available().unwrap(),
            0,
            "still held after {renewals} renewals"
        );
    }
    assert!(!permit.is_lost());
    assert!(!lost.load(Ordering::SeqCst));
    // Taken away behind its back: the next renewal finds out.
    let _: i64 = server.cmd(&["DEL", "renewed"]).unwrap();
    until("the loss signal", || lost.load(Ordering::SeqCst));
    assert!(permit.is_lost());
    assert!(matches!(permit.release(), Err(Error::LockLost)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_auto_renewal_keeps_a_write_lock_and_stops_at_release() {
    pottery_tests::requires_module!("RwLock needs POTTERY.RWLOCK");
    let server = Server::start();
    let redis = Connector::from(server.url().as_str());
    let lock = pottery::aio::RwLock::open(&redis, "renewed-rw")
        .unwrap()
        .with_ttl(Duration::from_millis(1500))
        .with_auto_renew(true);
    let writer = lock.write().await.unwrap();
    let before = server.command_calls("pottery.rwlock.extend");
    // The test's own thread may block: the renewal task runs on the runtime's workers.
    until("three renewals", || {
        server.command_calls("pottery.rwlock.extend") >= before + 3
    });
    assert!(!writer.is_lost());
    assert!(lock.try_read().await.unwrap().is_none(), "still held");
    writer.release().await.unwrap();
    assert_eq!(server.cmd::<i64>(&["EXISTS", "renewed-rw"]).unwrap(), 0);
    // Released: the renewal task stops (it would extend every 500 ms).
    let after = server.command_calls("pottery.rwlock.extend");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(server.command_calls("pottery.rwlock.extend"), after);
}
