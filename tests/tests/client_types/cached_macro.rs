//! `#[pottery::cached]` on a real server: one computation then hits, the stored field for
//! arguments of several types, the sliding TTL, `_no_cache`, `_prime_cache` and `_cache()`, one
//! computation under eight concurrent callers, errors returned and never stored, Redis errors
//! surfacing through the user's error type, and recursion through the cache.
//!
//! Each test owns its cached functions and their caches: the caches are statics, so a test
//! points them at its own server before the first call.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, OnceLock};
use std::thread;
use std::time::Duration;

use pottery::{CacheStats, Error, RedisCache};
use pottery_tests::Server;
use serde::Serialize;

/// Runs a command that must succeed.
fn cmd<T: redis::FromRedisValue>(server: &Server, args: &[&str]) -> T {
    server.cmd(args).expect("the command succeeds")
}

/// The cache hash at `key` on `server`, field by field.
fn stored(server: &Server, key: &str) -> BTreeMap<String, String> {
    cmd(server, &["HGETALL", key])
}

/// Points a test's cache static at `server`; each test calls this once for its own static.
fn open(cell: &'static OnceLock<RedisCache>, server: &Server, key: &str) -> &'static RedisCache {
    let cache = RedisCache::open(server.url(), key).expect("the URL parses");
    assert!(cell.set(cache).is_ok(), "each test opens its cache once");
    cell.get().expect("just set")
}

static SQUARE_CACHE: OnceLock<RedisCache> = OnceLock::new();
static SQUARE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[pottery::cached(cache = *SQUARE_CACHE.get().expect("the test opened the cache"))]
fn square(n: i64) -> pottery::Result<i64> {
    SQUARE_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(n * n)
}

#[test]
fn computes_once_then_hits() {
    let server = Server::start();
    open(&SQUARE_CACHE, &server, "squares");
    assert_eq!(square_cache().stats().unwrap(), CacheStats::default());
    assert_eq!(square(4).unwrap(), 16);
    assert_eq!(square(4).unwrap(), 16);
    assert_eq!(square(-4).unwrap(), 16);
    assert_eq!(square(4).unwrap(), 16);
    assert_eq!(SQUARE_RUNS.load(Ordering::SeqCst), 2);
    assert_eq!(
        square_cache().stats().unwrap(),
        CacheStats {
            hits: 2,
            misses: 2,
            size: 2
        }
    );
    assert_eq!(
        stored(&server, "squares"),
        [
            (r#"["square", [-4]]"#.to_owned(), "16".to_owned()),
            (r#"["square", [4]]"#.to_owned(), "16".to_owned()),
        ]
        .into()
    );
}

#[derive(Serialize)]
struct Point {
    y: i32,
    x: i32,
}

static LAYOUT_CACHE: OnceLock<RedisCache> = OnceLock::new();

fn layout_cache_of_test() -> &'static RedisCache {
    LAYOUT_CACHE.get().expect("the test opened the cache")
}

#[pottery::cached(cache = layout_cache_of_test())]
fn describe(label: &str, owned: String, point: &Point, count: u64) -> pottery::Result<String> {
    Ok(format!("{label}{owned}({}, {})x{count}", point.x, point.y))
}

#[pottery::cached(cache = layout_cache_of_test(), name = "greeting-v2")]
fn greet(name: &str) -> pottery::Result<String> {
    Ok(format!("hi {name}"))
}

#[pottery::cached(cache = layout_cache_of_test())]
fn constant() -> pottery::Result<Vec<Option<u8>>> {
    Ok(vec![Some(1), None])
}

/// Patterns other than a plain name, and a parameter named like the macro's own local.
#[pottery::cached(cache = layout_cache_of_test())]
fn patterns(mut cache: u8, (left, right): (u8, u8), _: bool) -> pottery::Result<u8> {
    cache += left + right;
    Ok(cache)
}

#[test]
fn stores_the_field_as_json_of_name_and_arguments() {
    let server = Server::start();
    open(&LAYOUT_CACHE, &server, "layout");
    let point = Point { y: -2, x: 1 };
    assert_eq!(
        describe("é😀", "\"q\"".to_owned(), &point, 7).unwrap(),
        "é😀\"q\"(1, -2)x7"
    );
    assert_eq!(greet("Ada").unwrap(), "hi Ada");
    assert_eq!(constant().unwrap(), vec![Some(1), None]);
    assert_eq!(patterns(1, (2, 3), true).unwrap(), 6);

    let expected: BTreeMap<String, String> = [
        (
            r#"["describe", ["\u00e9\ud83d\ude00", "\"q\"", {"x": 1, "y": -2}, 7]]"#,
            r#""\u00e9\ud83d\ude00\"q\"(1, -2)x7""#,
        ),
        (r#"["greeting-v2", ["Ada"]]"#, r#""hi Ada""#),
        (r#"["constant", []]"#, "[1, null]"),
        (r#"["patterns", [1, [2, 3], true]]"#, "6"),
    ]
    .into_iter()
    .map(|(field, value)| (field.to_owned(), value.to_owned()))
    .collect();
    assert_eq!(stored(&server, "layout"), expected);

    // The same fields as RedisCache's own calls: they hit what the macro stored.
    let cache = layout_cache_of_test();
    let hits_before = cache.stats().unwrap().hits;
    let greeting: Option<String> = cache.get("greeting-v2", &("Ada",)).unwrap();
    assert_eq!(greeting.as_deref(), Some("hi Ada"));
    let described: Option<String> = cache.get("describe", &("é😀", "\"q\"", &point, 7)).unwrap();
    assert!(described.is_some());
    assert_eq!(cache.stats().unwrap().hits, hits_before + 2);
}

static TTL_URL: OnceLock<String> = OnceLock::new();

#[pottery::cached(
    url = TTL_URL.get().expect("the test set the URL").as_str(),
    key = "ttl-cache",
    ttl_secs = 100
)]
fn ttl_double(n: u32) -> pottery::Result<u64> {
    Ok(u64::from(n) * 2)
}

#[test]
fn ttl_slides_on_every_call() {
    let server = Server::start();
    TTL_URL.set(server.url()).expect("set once");
    assert_eq!(
        ttl_double_cache().unwrap().ttl(),
        Some(Duration::from_secs(100))
    );
    assert_eq!(ttl_double(1).unwrap(), 2);
    let after_store: i64 = cmd(&server, &["PTTL", "ttl-cache"]);
    assert!(
        after_store > 90_000 && after_store <= 100_000,
        "{after_store}"
    );
    // Shorten the expiry behind the cache's back: a hit pushes it back to the full TTL.
    let _: i64 = cmd(&server, &["PEXPIRE", "ttl-cache", "5000"]);
    assert_eq!(ttl_double(1).unwrap(), 2);
    assert_eq!(ttl_double_cache().unwrap().stats().unwrap().hits, 1);
    let after_hit: i64 = cmd(&server, &["PTTL", "ttl-cache"]);
    assert!(after_hit > 90_000, "{after_hit}");
}

static BYPASS_CACHE: OnceLock<RedisCache> = OnceLock::new();
static BYPASS_RUNS: AtomicUsize = AtomicUsize::new(0);

#[pottery::cached(cache = *BYPASS_CACHE.get().expect("the test opened the cache"))]
fn rate(from: &str, to: &str) -> pottery::Result<f64> {
    let runs = BYPASS_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(if (from, to) == ("EUR", "USD") {
        1.0 + runs as f64
    } else {
        0.0
    })
}

#[test]
fn no_cache_prime_cache_and_clear() {
    let server = Server::start();
    let cache = open(&BYPASS_CACHE, &server, "rates");
    let field = r#"["rate", ["EUR", "USD"]]"#;

    // The body alone: runs every time, stores nothing, counts nothing.
    assert_eq!(rate_no_cache("EUR", "USD").unwrap(), 1.0);
    assert_eq!(rate_no_cache("EUR", "USD").unwrap(), 2.0);
    assert!(cache.is_empty().unwrap());

    assert_eq!(rate("EUR", "USD").unwrap(), 3.0);
    // Garbage where the value is: priming must neither read it nor count.
    let _: i64 = cmd(&server, &["HSET", "rates", field, "not json"]);
    assert_eq!(rate_prime_cache("EUR", "USD").unwrap(), 4.0);
    assert_eq!(cmd::<String>(&server, &["HGET", "rates", field]), "4.0");
    assert_eq!(rate("EUR", "USD").unwrap(), 4.0);
    assert_eq!(BYPASS_RUNS.load(Ordering::SeqCst), 4);
    assert_eq!(
        cache.stats().unwrap(),
        CacheStats {
            hits: 1,
            misses: 1,
            size: 1
        }
    );

    rate_cache().clear().unwrap();
    assert_eq!(cmd::<i64>(&server, &["EXISTS", "rates"]), 0);
    assert_eq!(cache.stats().unwrap(), CacheStats::default());
    assert_eq!(
        rate("EUR", "USD").unwrap(),
        5.0,
        "a cleared cache computes again"
    );
}

static RACE_CACHE: OnceLock<RedisCache> = OnceLock::new();
static RACE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[pottery::cached(cache = *RACE_CACHE.get().expect("the test opened the cache"))]
fn slow_lookup(id: u64, region: &str) -> pottery::Result<String> {
    RACE_RUNS.fetch_add(1, Ordering::SeqCst);
    // Long enough that every caller arrives while the value is missing.
    thread::sleep(Duration::from_millis(300));
    Ok(format!("{id}@{region}"))
}

#[test]
fn eight_concurrent_callers_compute_once() {
    let server = Server::start();
    let cache = open(&RACE_CACHE, &server, "race");
    let barrier = Barrier::new(8);
    let answers: Vec<String> = thread::scope(|scope| {
        let callers: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    slow_lookup(42, "eu-west").expect("the cache answers")
                })
            })
            .collect();
        callers
            .into_iter()
            .map(|caller| caller.join().expect("caller did not panic"))
            .collect()
    });
    assert_eq!(RACE_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(answers, vec!["42@eu-west".to_owned(); 8]);
    assert_eq!(
        cache.stats().unwrap(),
        CacheStats {
            hits: 7,
            misses: 1,
            size: 1
        }
    );
}

/// A user error type: the body's own failure, or the cache's.
#[derive(Debug)]
enum LookupError {
    NotYet,
    Cache(Error),
}

impl From<Error> for LookupError {
    fn from(error: Error) -> Self {
        LookupError::Cache(error)
    }
}

static FAILING_CACHE: OnceLock<RedisCache> = OnceLock::new();
static FAILING_RUNS: AtomicUsize = AtomicUsize::new(0);

#[pottery::cached(cache = *FAILING_CACHE.get().expect("the test opened the cache"))]
fn flaky(id: u8) -> Result<u8, LookupError> {
    // Fails twice, then succeeds.
    match FAILING_RUNS.fetch_add(1, Ordering::SeqCst) {
        0 | 1 => Err(LookupError::NotYet),
        _ => Ok(id),
    }
}

#[test]
fn errors_are_returned_and_never_stored() {
    let server = Server::start();
    let cache = open(&FAILING_CACHE, &server, "flaky");
    assert!(matches!(flaky(9), Err(LookupError::NotYet)));
    assert!(cache.is_empty().unwrap());
    assert!(matches!(flaky_prime_cache(9), Err(LookupError::NotYet)));
    assert!(cache.is_empty().unwrap());
    assert_eq!(flaky(9).unwrap(), 9);
    assert_eq!(flaky(9).unwrap(), 9);
    assert_eq!(FAILING_RUNS.load(Ordering::SeqCst), 3);
    assert_eq!(cache.len().unwrap(), 1);

    // A stored value of another type is the cache's Decode error, through the user's type.
    let _: i64 = cmd(
        &server,
        &["HSET", "flaky", r#"["flaky", [1]]"#, r#""text""#],
    );
    assert!(
        matches!(flaky(1), Err(LookupError::Cache(Error::Decode(_)))),
        "a decode error surfaces"
    );
    // A key of another type: Redis's WRONGTYPE, through the user's type too.
    let _: i64 = cmd(&server, &["DEL", "flaky"]);
    let _: () = cmd(&server, &["SET", "flaky", "x"]);
    let error = flaky(2).unwrap_err();
    assert!(
        matches!(&error, LookupError::Cache(Error::Redis(e)) if e.to_string().contains("WRONGTYPE")),
        "{error:?}"
    );
    assert_eq!(FAILING_RUNS.load(Ordering::SeqCst), 3, "no computation ran");
}

#[pottery::cached(url = "not a redis url", key = "nowhere")]
fn unreachable_cache(n: u8) -> pottery::Result<u8> {
    Ok(n)
}

#[test]
fn a_bad_url_is_an_error_from_every_call() {
    for _ in 0..2 {
        let error = unreachable_cache(1).unwrap_err();
        assert!(matches!(error, Error::Redis(_)), "{error:?}");
        assert!(matches!(unreachable_cache_cache(), Err(Error::Redis(_))));
        assert!(matches!(
            unreachable_cache_prime_cache(1),
            Err(Error::Redis(_))
        ));
    }
    assert_eq!(unreachable_cache_no_cache(1).unwrap(), 1);
}

static FIB_URL: OnceLock<String> = OnceLock::new();
static FIB_RUNS: AtomicUsize = AtomicUsize::new(0);

#[pottery::cached(url = FIB_URL.get().expect("the test set the URL"), key = "fib")]
fn fib(n: u64) -> pottery::Result<u64> {
    FIB_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(if n < 2 { n } else { fib(n - 1)? + fib(n - 2)? })
}

#[test]
fn recursion_goes_through_the_cache() {
    let server = Server::start();
    FIB_URL.set(server.url()).expect("set once");
    // Uncached, fib(80) would take about 10^16 calls.
    assert_eq!(fib(80).unwrap(), 23_416_728_348_467_685);
    assert_eq!(FIB_RUNS.load(Ordering::SeqCst), 81);
    let stats = fib_cache().unwrap().stats().unwrap();
    assert_eq!((stats.misses, stats.size), (81, 81));
    // From fib(3) up, each level finds fib(n - 2) stored by its call of fib(n - 1).
    assert_eq!(stats.hits, 78);
    assert_eq!(fib(80).unwrap(), 23_416_728_348_467_685);
    assert_eq!(FIB_RUNS.load(Ordering::SeqCst), 81);
}
