//! `RedisCache` on a real server: one computation under concurrent callers (also across
//! handles sharing a Redlock), hit/miss/size statistics, the sliding TTL, bypass, clear, the
//! stored layout and typed errors for bad stored data.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use pottery::{CacheStats, Error, RedisCache, Redlock};
use pottery_tests::Server;

/// Runs a command that must succeed.
fn cmd<T: redis::FromRedisValue>(server: &Server, args: &[&str]) -> T {
    server.cmd(args).expect("the command succeeds")
}

/// Runs `callers` threads that all ask `cache` for the same slow value at once; returns the
/// number of computations and every caller's answer.
fn race(caches: &[RedisCache], callers: usize) -> (usize, Vec<u64>) {
    let computations = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(callers));
    let threads: Vec<_> = (0..callers)
        .map(|index| {
            let cache = caches[index % caches.len()].clone();
            let computations = Arc::clone(&computations);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                cache
                    .get_or_compute("slow", &(21,), || {
                        computations.fetch_add(1, Ordering::SeqCst);
                        // Long enough that every caller arrives while the value is missing.
                        thread::sleep(Duration::from_millis(300));
                        42u64
                    })
                    .expect("cache answers")
            })
        })
        .collect();
    let answers = threads
        .into_iter()
        .map(|thread| thread.join().expect("caller did not panic"))
        .collect();
    (computations.load(Ordering::SeqCst), answers)
}

#[test]
fn computes_once_under_eight_concurrent_callers() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    let (computations, answers) = race(std::slice::from_ref(&cache), 8);
    assert_eq!(computations, 1);
    assert_eq!(answers, vec![42; 8]);
    let stats = cache.stats().unwrap();
    assert_eq!(
        stats,
        CacheStats {
            hits: 7,
            misses: 1,
            size: 1
        }
    );
}

#[test]
fn separate_handles_compute_once_through_the_lock() {
    let server = Server::start();
    // Separate handles share no in-flight table, as separate processes would not.
    let caches: Vec<RedisCache> = (0..4)
        .map(|_| {
            let lock = Redlock::builder()
                .name("cache-lock")
                .master(server.url())
                .ttl(Duration::from_secs(10))
                .build()
                .unwrap();
            RedisCache::open(server.url(), "cache")
                .unwrap()
                .with_lock(lock)
        })
        .collect();
    let (computations, answers) = race(&caches, 8);
    assert_eq!(computations, 1);
    assert_eq!(answers, vec![42; 8]);
}

#[test]
fn counts_hits_and_misses_and_size() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    assert_eq!(cache.stats().unwrap(), CacheStats::default());
    assert!(cache.is_empty().unwrap());
    for n in [1i64, 2, 1, 1, 3, 2] {
        let square: i64 = cache.get_or_compute("square", &(n,), || n * n).unwrap();
        assert_eq!(square, n * n);
    }
    let other: i64 = cache.get_or_compute("cube", &(2,), || 8).unwrap();
    assert_eq!(other, 8);
    assert_eq!(cache.get::<_, i64>("cube", &(3,)).unwrap(), None);
    assert_eq!(
        cache.stats().unwrap(),
        CacheStats {
            hits: 3,
            misses: 5,
            size: 4
        }
    );
    assert!(cache.remove("cube", &(2,)).unwrap());
    assert!(!cache.remove("cube", &(2,)).unwrap());
    assert_eq!(cache.len().unwrap(), 3);
}

#[test]
fn stores_the_documented_layout() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    let greeting: String = cache
        .get_or_compute("greet", &("Ada", 36), || "hi Ada".to_owned())
        .unwrap();
    assert_eq!(greeting, "hi Ada");
    cache.get_or_compute("now", &(), || 7u8).unwrap();
    let stored: BTreeMap<String, String> = cmd(&server, &["HGETALL", "cache"]);
    let expected: BTreeMap<String, String> = [
        (
            r#"["greet", ["Ada", 36]]"#.to_owned(),
            r#""hi Ada""#.to_owned(),
        ),
        (r#"["now", []]"#.to_owned(), "7".to_owned()),
    ]
    .into();
    assert_eq!(stored, expected);
}

#[test]
fn values_round_trip_through_the_codec() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    let value: (Vec<Option<f64>>, String, BTreeMap<String, i128>) = (
        vec![Some(1.5), None, Some(-0.0), Some(1e300)],
        "é😀 \"quoted\"\n".to_owned(),
        [("big".to_owned(), i128::MAX), ("".to_owned(), i128::MIN)].into(),
    );
    let first = cache
        .get_or_compute("complex", &("é😀", [1, 2]), || value.clone())
        .unwrap();
    assert_eq!(first, value);
    let second: (Vec<Option<f64>>, String, BTreeMap<String, i128>) = cache
        .get_or_compute("complex", &("é😀", [1, 2]), || panic!("must be a hit"))
        .unwrap();
    assert_eq!(second, value);
    assert_eq!(cache.stats().unwrap().hits, 1);
}

#[test]
fn ttl_slides_on_every_access() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache")
        .unwrap()
        .with_ttl(Duration::from_secs(100));
    let no_ttl = RedisCache::open(server.url(), "plain").unwrap();
    no_ttl.get_or_compute("f", &(), || 1).unwrap();
    assert_eq!(cmd::<i64>(&server, &["PTTL", "plain"]), -1);

    cache.get_or_compute("f", &(1,), || 1).unwrap();
    let after_store: i64 = cmd(&server, &["PTTL", "cache"]);
    assert!(
        after_store > 90_000 && after_store <= 100_000,
        "{after_store}"
    );
    // Shorten the expiry behind the cache's back: a hit must push it back to the full TTL.
    let _: i64 = cmd(&server, &["PEXPIRE", "cache", "5000"]);
    cache
        .get_or_compute("f", &(1,), || -> i32 { panic!("hit") })
        .unwrap();
    let after_hit: i64 = cmd(&server, &["PTTL", "cache"]);
    assert!(after_hit > 90_000, "{after_hit}");
    let _: i64 = cmd(&server, &["PEXPIRE", "cache", "5000"]);
    cache.get_or_compute("f", &(2,), || 2).unwrap();
    assert!(cmd::<i64>(&server, &["PTTL", "cache"]) > 90_000);

    // The whole hash expires when nothing touches it for the TTL.
    let short = RedisCache::open(server.url(), "short")
        .unwrap()
        .with_ttl(Duration::from_millis(200));
    short.get_or_compute("f", &(), || 1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while cmd::<i64>(&server, &["EXISTS", "short"]) == 1 {
        assert!(Instant::now() < deadline, "the cache hash never expired");
        thread::sleep(Duration::from_millis(20));
    }
    let recomputed = short.get_or_compute("f", &(), || 2).unwrap();
    assert_eq!(recomputed, 2);
}

#[test]
fn bypass_recomputes_without_reading() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    cache.get_or_compute("rate", &("EUR",), || 1.0).unwrap();
    // Garbage where the value is: bypass must not read it.
    let _: i64 = cmd(
        &server,
        &["HSET", "cache", r#"["rate", ["EUR"]]"#, "not json"],
    );
    let fresh: f64 = cache.bypass("rate", &("EUR",), || 1.25).unwrap();
    assert_eq!(fresh, 1.25);
    assert_eq!(cache.get::<_, f64>("rate", &("EUR",)).unwrap(), Some(1.25));
    let stats = cache.stats().unwrap();
    assert_eq!((stats.hits, stats.misses, stats.size), (1, 1, 1));
}

#[test]
fn clear_empties_and_resets_counts() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    for n in 0..10 {
        cache.get_or_compute("id", &(n,), || n).unwrap();
    }
    assert_eq!(cache.len().unwrap(), 10);
    cache.clear().unwrap();
    assert_eq!(cmd::<i64>(&server, &["EXISTS", "cache"]), 0);
    assert_eq!(cache.stats().unwrap(), CacheStats::default());
    let mut computed = false;
    cache
        .get_or_compute("id", &(3,), || {
            computed = true;
            3
        })
        .unwrap();
    assert!(computed, "a cleared cache computes again");
    cache.clear().unwrap(); // clearing an absent hash is fine
}

#[test]
fn bad_stored_data_is_a_typed_error() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    let _: i64 = cmd(&server, &["HSET", "cache", r#"["f", [1]]"#, "{not json"]);
    let error = cache.get_or_compute("f", &(1,), || 1i64).unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    // JSON of another type is a decode error too, and the stored value is left alone.
    let _: i64 = cmd(&server, &["HSET", "cache", r#"["g", []]"#, r#""text""#]);
    let error = cache.get_or_compute("g", &(), || 1i64).unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    assert_eq!(
        cmd::<String>(&server, &["HGET", "cache", r#"["g", []]"#]),
        r#""text""#
    );
    // A key of another type: Redis's WRONGTYPE.
    let _: () = cmd(&server, &["SET", "string", "x"]);
    let wrong = RedisCache::open(server.url(), "string").unwrap();
    let error = wrong.get_or_compute("f", &(), || 1i64).unwrap_err();
    assert!(
        matches!(&error, Error::Redis(e) if e.to_string().contains("WRONGTYPE")),
        "{error:?}"
    );
    assert_eq!(cmd::<String>(&server, &["GET", "string"]), "x");
}

#[test]
fn failed_computation_stores_nothing_and_frees_waiters() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    let failed: Result<i64, Box<dyn std::error::Error>> =
        cache.try_get_or_compute("f", &(), || Err("boom".into()));
    assert_eq!(failed.unwrap_err().to_string(), "boom");
    assert!(cache.is_empty().unwrap());
    // A panicking computation does not wedge the next caller.
    let panicking = cache.clone();
    let outcome = thread::spawn(move || {
        panicking.get_or_compute("f", &(), || -> i64 { panic!("computation panics") })
    })
    .join();
    assert!(outcome.is_err());
    assert_eq!(cache.get_or_compute("f", &(), || 5i64).unwrap(), 5);
}
