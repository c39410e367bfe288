//! `pottery::RateLimiter` (both faces, one model test through `pottery_tests::faces::Wait`)
//! against real servers: redis-cell's README example, exactly the burst for 16 concurrent
//! clients (no refill happens within a day-long period, so the server's own accounting must
//! allow exactly max_burst + 1), `acquire` waiting out the retry time, bad arguments, and a
//! typed error without the module.

use pottery::aio::Tokio;
use pottery::rate_limit::RateLimiter;
use pottery::{Blocking, Connector, Error, Mode, Throttle};
use pottery_tests::{block_on, Server, Wait};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

fn readme_example<F: Wait>() {
    pottery_tests::requires_module!("POTTERY.THROTTLE has no script form");
    let server = Server::start();
    let limit = RateLimiter::<F>::open(server.url(), "user123", 15, 30, MINUTE).unwrap();
    assert_eq!(limit.key(), "user123");
    let first = F::wait(limit.try_acquire(1)).unwrap();
    assert_eq!(
        first,
        Throttle {
            allowed: true,
            limit: 16,
            remaining: 15,
            retry_after: None,
            reset_after: Duration::from_secs(2),
        }
    );
    let peeked = F::wait(limit.peek()).unwrap();
    assert_eq!((peeked.allowed, peeked.remaining), (true, 15));
    // The rest of the burst, then a refusal with a retry time of at most one interval (2 s).
    for remaining in (0..15).rev() {
        assert_eq!(F::wait(limit.try_acquire(1)).unwrap().remaining, remaining);
    }
    let refused = F::wait(limit.try_acquire(1)).unwrap();
    assert!(!refused.allowed);
    let retry = refused.retry_after.expect("a retry time");
    assert!(
        retry > Duration::ZERO && retry <= Duration::from_secs(2),
        "{retry:?}"
    );
    // More than the whole limit never passes.
    let huge = F::wait(limit.try_acquire(17)).unwrap();
    assert_eq!((huge.allowed, huge.retry_after), (false, None));
}

#[test]
fn reproduces_redis_cells_example_on_both_faces() {
    readme_example::<Blocking>();
    readme_example::<Tokio>();
}

#[test]
fn sixteen_threads_get_exactly_the_burst() {
    pottery_tests::requires_module!("POTTERY.THROTTLE has no script form");
    let server = Server::start();
    let limit = RateLimiter::<Blocking>::open(server.url(), "shared", 49, 1, DAY).unwrap();
    let allowed = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (limit, allowed) = (limit.clone(), Arc::clone(&allowed));
            std::thread::spawn(move || {
                for _ in 0..10 {
                    if limit.try_acquire(1).unwrap().allowed {
                        allowed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(allowed.load(Ordering::Relaxed), 50);
    assert_eq!(limit.peek().unwrap().remaining, 0);
}

#[test]
fn sixteen_tasks_on_one_connection_get_exactly_the_burst() {
    pottery_tests::requires_module!("POTTERY.THROTTLE has no script form");
    let server = Server::start();
    let limit = RateLimiter::<Tokio>::open(server.url(), "tasks", 29, 1, DAY).unwrap();
    let allowed: u64 = block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let limit = limit.clone();
                tokio::spawn(async move {
                    let mut allowed = 0;
                    for _ in 0..5 {
                        // Quantities of 2: 30 units are 15 requests.
                        if limit.try_acquire(2).await.unwrap().allowed {
                            allowed += 1;
                        }
                    }
                    allowed
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total
    });
    assert_eq!(allowed, 15);
}

#[test]
fn acquire_waits_out_the_retry_time_or_gives_up_at_once() {
    pottery_tests::requires_module!("POTTERY.THROTTLE has no script form");
    let server = Server::start();
    // One unit a second, no burst beyond it.
    let limit =
        RateLimiter::<Blocking>::open(server.url(), "slow", 0, 1, Duration::from_secs(1)).unwrap();
    assert!(limit.acquire(1, Duration::ZERO).unwrap().allowed);
    match limit.acquire(1, Duration::ZERO) {
        Err(Error::RateLimited {
            retry_after: Some(retry),
        }) => assert!(retry <= Duration::from_secs(1), "{retry:?}"),
        other => panic!("{other:?}"),
    }
    // With time to wait, the second unit passes after the retry time.
    assert!(limit.acquire(1, Duration::from_secs(30)).unwrap().allowed);
    assert!(matches!(
        limit.acquire(2, Duration::from_secs(30)),
        Err(Error::RateLimited { retry_after: None })
    ));
    let limit =
        RateLimiter::<Tokio>::open(server.url(), "slow-async", 0, 1, Duration::from_secs(1))
            .unwrap();
    block_on(async {
        assert!(limit.acquire(1, Duration::ZERO).await.unwrap().allowed);
        assert!(
            limit
                .acquire(1, Duration::from_secs(30))
                .await
                .unwrap()
                .allowed
        );
    });
}

#[test]
fn bad_arguments_are_refused_before_sending() {
    pottery_tests::requires_module!("POTTERY.THROTTLE has no script form");
    let url = "redis://127.0.0.1:1/";
    for (result, argument) in [
        (
            RateLimiter::<Blocking>::open(url, "k", 1, 0, MINUTE),
            "count",
        ),
        (
            RateLimiter::<Blocking>::open(url, "k", 1, 1, Duration::from_millis(1500)),
            "period",
        ),
        (
            RateLimiter::<Blocking>::open(url, "k", 1, 1, Duration::ZERO),
            "period",
        ),
        (
            RateLimiter::<Blocking>::open(url, "k", u64::MAX, 1, MINUTE),
            "max_burst",
        ),
    ] {
        match result {
            Err(Error::InvalidArgument { argument: got, .. }) => assert_eq!(got, argument),
            other => panic!("{argument}: {other:?}"),
        }
    }
    // What only the server can check comes back as its error.
    let server = Server::start();
    let limit =
        RateLimiter::<Blocking>::open(server.url(), "k", 1, 2_000_000_000, Duration::from_secs(1))
            .unwrap();
    match limit.try_acquire(1) {
        Err(Error::Redis(error)) => assert!(error.to_string().contains("count"), "{error}"),
        other => panic!("{other:?}"),
    }
    let _: () = server.cmd(&["RPUSH", "list", "a"]).unwrap();
    let wrong = RateLimiter::<Blocking>::open(server.url(), "list", 1, 1, MINUTE).unwrap();
    match wrong.try_acquire(1) {
        Err(Error::Redis(error)) => assert_eq!(error.code(), Some("WRONGTYPE")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_the_module_calls_fail_typed_and_write_nothing() {
    let without = Server::builder().without_module().start();
    let limit = RateLimiter::<Blocking>::open(without.url(), "k", 1, 1, MINUTE).unwrap();
    assert!(matches!(
        limit.try_acquire(1),
        Err(Error::ModuleRequired {
            command: "POTTERY.THROTTLE"
        })
    ));
    let with_module = Server::start();
    let local = Connector::from(with_module.url()).with_mode(Mode::WithoutModule);
    let limit = RateLimiter::<Tokio>::open(&local, "k", 1, 1, MINUTE).unwrap();
    assert!(matches!(
        block_on(limit.try_acquire(1)),
        Err(Error::ModuleRequired { .. })
    ));
    for server in [&without, &with_module] {
        let exists: bool = server.cmd(&["EXISTS", "k"]).unwrap();
        assert!(!exists);
    }
}
