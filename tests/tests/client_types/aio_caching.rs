//! The async face of the caching types on a real server: `aio::RedisCache` (one computation
//! then hits, the stored layout, the sliding TTL, single-flight under eight concurrent tasks,
//! also across handles through an async Redlock, errors never stored), `aio::CachedOrderedDict`
//! (one `HMGET`, misses, async fill, write-through), `#[pottery::cached]` on `async fn`s
//! (including recursion through the cache), and sync and async caches sharing one key.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pottery::aio::{CachedOrderedDict, RedisCache};
use pottery::{CacheStats, Error};
use pottery_tests::Server;
use tokio::sync::{Barrier, Notify};

/// Runs a command that must succeed.
fn cmd<T: redis::FromRedisValue>(server: &Server, args: &[&str]) -> T {
    server.cmd(args).expect("the command succeeds")
}

#[tokio::test]
async fn computes_once_then_hits_with_the_sync_layout() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    assert_eq!(cache.stats().await.unwrap(), CacheStats::default());
    let runs = AtomicUsize::new(0);
    for _ in 0..3 {
        let greeting: String = cache
            .get_or_compute("greet", &("Ada", 36), || async {
                runs.fetch_add(1, Ordering::SeqCst);
                "hi Ada".to_owned()
            })
            .await
            .unwrap();
        assert_eq!(greeting, "hi Ada");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let now: u8 = cache
        .get_or_compute("now", &(), || async { 7 })
        .await
        .unwrap();
    assert_eq!(now, 7);
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
    assert_eq!(
        cache.stats().await.unwrap(),
        CacheStats {
            hits: 2,
            misses: 2,
            size: 2
        }
    );
    assert_eq!(cache.get::<_, u8>("now", &()).await.unwrap(), Some(7));
    assert_eq!(cache.get::<_, u8>("later", &()).await.unwrap(), None);
    assert_eq!(cache.stats().await.unwrap().misses, 3);
    assert!(cache.remove("now", &()).await.unwrap());
    assert!(!cache.remove("now", &()).await.unwrap());
    assert_eq!(cache.len().await.unwrap(), 1);
    cache.clear().await.unwrap();
    assert!(cache.is_empty().await.unwrap());
    assert_eq!(cmd::<i64>(&server, &["EXISTS", "cache"]), 0);
    assert_eq!(cache.stats().await.unwrap(), CacheStats::default());
}

#[tokio::test]
async fn ttl_slides_on_every_access() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache")
        .unwrap()
        .with_ttl(Duration::from_secs(100));
    cache
        .get_or_compute("f", &(1,), || async { 1 })
        .await
        .unwrap();
    let after_store: i64 = cmd(&server, &["PTTL", "cache"]);
    assert!(
        after_store > 90_000 && after_store <= 100_000,
        "{after_store}"
    );
    // Shorten the expiry behind the cache's back: a hit must push it back to the full TTL.
    let _: i64 = cmd(&server, &["PEXPIRE", "cache", "5000"]);
    let hit: i32 = cache
        .get_or_compute("f", &(1,), || async { panic!("a hit") })
        .await
        .unwrap();
    assert_eq!(hit, 1);
    assert!(cmd::<i64>(&server, &["PTTL", "cache"]) > 90_000);
    let _: i64 = cmd(&server, &["PEXPIRE", "cache", "5000"]);
    assert_eq!(cache.get::<_, i32>("f", &(1,)).await.unwrap(), Some(1));
    assert!(cmd::<i64>(&server, &["PTTL", "cache"]) > 90_000);
    let _: i64 = cmd(&server, &["PEXPIRE", "cache", "5000"]);
    let fresh: i32 = cache.bypass("f", &(2,), || async { 2 }).await.unwrap();
    assert_eq!(fresh, 2);
    assert!(cmd::<i64>(&server, &["PTTL", "cache"]) > 90_000);

    let plain = RedisCache::open(server.url(), "plain").unwrap();
    plain
        .get_or_compute("f", &(), || async { 1 })
        .await
        .unwrap();
    assert_eq!(cmd::<i64>(&server, &["PTTL", "plain"]), -1);
}

/// Eight tasks ask for one value at once. The computation does not finish until the server
/// has run nine `HGET`s (one per caller, and the computing one's second read once it holds the
/// computation): every caller has then found the value missing, so the seven that did not
/// compute waited for the one that did (no timing involved).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_tasks_compute_once() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    cmd::<()>(&server, &["CONFIG", "RESETSTAT"]);
    let runs = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (cache, runs, release, barrier) = (
                cache.clone(),
                Arc::clone(&runs),
                Arc::clone(&release),
                Arc::clone(&barrier),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                cache
                    .get_or_compute("slow", &(21,), || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        release.notified().await;
                        42u64
                    })
                    .await
                    .expect("the cache answers")
            })
        })
        .collect();
    let server = Arc::new(server);
    let watcher = Arc::clone(&server);
    tokio::task::spawn_blocking(move || {
        while watcher.command_calls("HGET") < 9 {
            std::thread::sleep(Duration::from_millis(5));
        }
    })
    .await
    .unwrap();
    // The server counted the ninth HGET before the task that sent it read the reply and
    // started computing: wait for that start (bounded), then no other may have started.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while runs.load(Ordering::SeqCst) == 0 && tokio::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one task computes");
    release.notify_one();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("no task panicked"));
    }
    assert_eq!(answers, vec![42; 8]);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        cache.stats().await.unwrap(),
        CacheStats {
            hits: 7,
            misses: 1,
            size: 1
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn separate_handles_compute_once_through_the_async_lock() {
    let server = Server::start();
    // Separate handles share no in-flight table, as separate processes would not.
    let mut caches = Vec::new();
    for _ in 0..4 {
        let lock = pottery::Redlock::builder()
            .name("cache-lock")
            .master(server.url())
            .ttl(Duration::from_secs(10))
            .build_async()
            .await
            .unwrap();
        caches.push(
            RedisCache::open(server.url(), "cache")
                .unwrap()
                .with_lock(lock),
        );
    }
    let runs = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|index| {
            let cache: RedisCache = caches[index % caches.len()].clone();
            let (runs, barrier) = (Arc::clone(&runs), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                cache
                    .get_or_compute("slow", &(21,), || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        // Lets the other callers arrive while the value is missing.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        42u64
                    })
                    .await
                    .expect("the cache answers")
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("no task panicked"), 42);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(cmd::<i64>(&server, &["EXISTS", "redlock:cache-lock"]), 0);
}

#[tokio::test]
async fn errors_are_returned_and_never_stored() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "cache").unwrap();
    let failed: Result<i64, Box<dyn std::error::Error + Send + Sync>> = cache
        .try_get_or_compute("f", &(), || async { Err("boom".into()) })
        .await;
    assert_eq!(failed.unwrap_err().to_string(), "boom");
    assert!(cache.is_empty().await.unwrap());
    let primed: Result<i64, Error> = cache
        .try_call_and_store("f", (), |()| async {
            Err(Error::InvalidArgument {
                argument: "x",
                problem: "test",
            })
        })
        .await;
    assert!(primed.is_err());
    assert!(cache.is_empty().await.unwrap());
    let value: i64 = cache
        .try_get_or_call("f", (), |()| async { Ok::<_, Error>(5) })
        .await
        .unwrap();
    assert_eq!(value, 5);
    assert_eq!(cache.len().await.unwrap(), 1);

    // A cancelled computation does not wedge the next caller.
    let cancelled = cache.get_or_compute("g", &(), std::future::pending::<i64>);
    assert!(tokio::time::timeout(Duration::from_millis(50), cancelled)
        .await
        .is_err());
    assert_eq!(
        cache
            .get_or_compute("g", &(), || async { 6i64 })
            .await
            .unwrap(),
        6
    );
    // Bad stored data is the typed Decode error.
    let _: i64 = cmd(&server, &["HSET", "cache", r#"["h", []]"#, "{not json"]);
    let error = cache
        .get_or_compute("h", &(), || async { 1i64 })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
}

#[tokio::test]
async fn ordered_dict_reports_misses_fills_them_and_writes_through() {
    let server = Server::start();
    cmd::<()>(&server, &["HSET", "docs", "3", "\"three\""]);
    cmd::<()>(&server, &["CONFIG", "RESETSTAT"]);
    let mut docs: CachedOrderedDict<u64, String> =
        CachedOrderedDict::open(server.url().as_str(), "docs", [3, 1, 2, 1])
            .await
            .unwrap();
    assert_eq!(server.command_calls("HMGET"), 1);
    assert_eq!(docs.keys().copied().collect::<Vec<_>>(), [3, 1, 2]);
    assert_eq!(docs.misses().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(docs.get(&3).map(String::as_str), Some("three"));
    let pttl: i64 = cmd(&server, &["PTTL", "docs"]);
    assert!(pttl > 50_000 && pttl <= 60_000, "{pttl}");

    docs.fill_misses_with(|&id| async move { format!("document {id}") })
        .await
        .unwrap();
    assert_eq!(docs.misses().count(), 0);
    assert_eq!(
        cmd::<String>(&server, &["HGET", "docs", "2"]),
        "\"document 2\""
    );
    docs.insert(4, "four".to_owned()).await.unwrap();
    assert_eq!(docs.keys().copied().collect::<Vec<_>>(), [3, 1, 2, 4]);
    assert_eq!(cmd::<String>(&server, &["HGET", "docs", "4"]), "\"four\"");
    // setdefault keeps what the hash holds.
    assert_eq!(
        docs.setdefault(3, "other".to_owned()).await.unwrap(),
        "three"
    );
    assert_eq!(docs.setdefault(5, "five".to_owned()).await.unwrap(), "five");

    // The next lookup hits everything, and the sync face sees the same cache.
    let again: CachedOrderedDict<u64, String> =
        CachedOrderedDict::open(server.url().as_str(), "docs", [1, 2, 3, 4, 5])
            .await
            .unwrap();
    assert_eq!(again.misses().count(), 0);
    let entries = again.into_entries();
    let sync = tokio::task::spawn_blocking({
        let url = server.url();
        move || {
            pottery::CachedOrderedDict::<u64, String>::open(url.as_str(), "docs", [1, 2, 3, 4, 5])
                .unwrap()
                .into_entries()
        }
    })
    .await
    .unwrap();
    assert_eq!(sync, entries);

    let bad = CachedOrderedDict::<u8, u8>::open_with_timeout(
        server.url().as_str(),
        "docs",
        [1],
        Some(Duration::ZERO),
    )
    .await;
    assert!(matches!(bad, Err(Error::InvalidArgument { .. })), "{bad:?}");
}

static SQUARE_CACHE: OnceLock<RedisCache> = OnceLock::new();
static SQUARE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[pottery::cached(cache = *SQUARE_CACHE.get().expect("the test opened the cache"))]
async fn square(n: i64) -> pottery::Result<i64> {
    SQUARE_RUNS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    Ok(n * n)
}

#[tokio::test]
async fn cached_async_fn_computes_once_then_hits() {
    let server = Server::start();
    let cache = RedisCache::open(server.url(), "squares").unwrap();
    assert!(SQUARE_CACHE.set(cache).is_ok());
    assert_eq!(square(4).await.unwrap(), 16);
    assert_eq!(square(4).await.unwrap(), 16);
    assert_eq!(square(-4).await.unwrap(), 16);
    assert_eq!(SQUARE_RUNS.load(Ordering::SeqCst), 2);
    assert_eq!(
        square_cache().stats().await.unwrap(),
        CacheStats {
            hits: 1,
            misses: 2,
            size: 2
        }
    );
    let stored: BTreeMap<String, String> = cmd(&server, &["HGETALL", "squares"]);
    assert_eq!(
        stored,
        [
            (r#"["square", [-4]]"#.to_owned(), "16".to_owned()),
            (r#"["square", [4]]"#.to_owned(), "16".to_owned()),
        ]
        .into()
    );
    // A cached async fn is a Send future: it can be spawned.
    assert_eq!(tokio::spawn(square(4)).await.unwrap().unwrap(), 16);
}

static RATE_URL: OnceLock<String> = OnceLock::new();
static RATE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
enum RateError {
    Unknown,
    Cache(Error),
}

impl From<Error> for RateError {
    fn from(error: Error) -> Self {
        RateError::Cache(error)
    }
}

#[pottery::cached(url = RATE_URL.get().expect("the test set the URL"), key = "rates", ttl_secs = 100)]
async fn rate(from: &str, to: &str) -> Result<f64, RateError> {
    let runs = RATE_RUNS.fetch_add(1, Ordering::SeqCst);
    match (from, to) {
        ("EUR", "USD") => Ok(1.0 + runs as f64),
        _ => Err(RateError::Unknown),
    }
}

#[tokio::test]
async fn cached_async_fn_no_cache_prime_cache_and_clear() {
    let server = Server::start();
    RATE_URL.set(server.url()).expect("set once");
    let cache = rate_cache().unwrap();
    assert_eq!(cache.ttl(), Some(Duration::from_secs(100)));
    let field = r#"["rate", ["EUR", "USD"]]"#;

    assert_eq!(rate_no_cache("EUR", "USD").await.unwrap(), 1.0);
    assert!(cache.is_empty().await.unwrap());
    assert_eq!(rate("EUR", "USD").await.unwrap(), 2.0);
    assert_eq!(rate("EUR", "USD").await.unwrap(), 2.0);
    assert!(cmd::<i64>(&server, &["PTTL", "rates"]) > 90_000);
    // Garbage where the value is: priming neither reads it nor counts.
    let _: i64 = cmd(&server, &["HSET", "rates", field, "not json"]);
    assert_eq!(rate_prime_cache("EUR", "USD").await.unwrap(), 3.0);
    assert_eq!(cmd::<String>(&server, &["HGET", "rates", field]), "3.0");
    assert_eq!(rate("EUR", "USD").await.unwrap(), 3.0);

    // Errors are returned and never stored.
    assert!(matches!(rate("EUR", "XYZ").await, Err(RateError::Unknown)));
    assert!(matches!(
        rate_prime_cache("EUR", "XYZ").await,
        Err(RateError::Unknown)
    ));
    assert_eq!(cache.len().await.unwrap(), 1);
    assert_eq!(RATE_RUNS.load(Ordering::SeqCst), 5);
    assert_eq!(
        cache.stats().await.unwrap(),
        CacheStats {
            hits: 2,
            misses: 2,
            size: 1
        }
    );

    rate_cache().unwrap().clear().await.unwrap();
    assert_eq!(cmd::<i64>(&server, &["EXISTS", "rates"]), 0);
    assert_eq!(rate("EUR", "USD").await.unwrap(), 6.0, "computed again");
    // A stored value of another type surfaces as the cache's error, through the user's type.
    let _: i64 = cmd(&server, &["HSET", "rates", field, r#""text""#]);
    assert!(matches!(
        rate("EUR", "USD").await,
        Err(RateError::Cache(Error::Decode(_)))
    ));
}

static FIB_URL: OnceLock<String> = OnceLock::new();
static FIB_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Recursion through the cache: an async fn that awaits itself needs a box.
#[pottery::cached(url = FIB_URL.get().expect("the test set the URL"), key = "fib")]
async fn fib(n: u64) -> pottery::Result<u64> {
    FIB_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(if n < 2 {
        n
    } else {
        Box::pin(fib(n - 1)).await? + Box::pin(fib(n - 2)).await?
    })
}

#[test]
fn recursion_goes_through_the_cache() {
    // fib(80) polls 80 nested futures at its deepest; unoptimized test builds need more than
    // a test thread's default 2 MiB of stack for that.
    let recursion = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let server = Server::start();
                FIB_URL.set(server.url()).expect("set once");
                assert_eq!(fib(80).await.unwrap(), 23_416_728_348_467_685);
                assert_eq!(FIB_RUNS.load(Ordering::SeqCst), 81);
                let stats = fib_cache().unwrap().stats().await.unwrap();
                assert_eq!((stats.hits, stats.misses, stats.size), (78, 81, 81));
                assert_eq!(fib(80).await.unwrap(), 23_416_728_348_467_685);
                assert_eq!(FIB_RUNS.load(Ordering::SeqCst), 81);
            });
        })
        .expect("a thread");
    recursion.join().expect("the recursion test passed");
}

static SHARED_URL: OnceLock<String> = OnceLock::new();

#[pottery::cached(url = SHARED_URL.get().expect("the test set the URL"), key = "shared", name = "double")]
fn double_sync(n: u32) -> pottery::Result<u64> {
    Ok(u64::from(n) * 2)
}

#[pottery::cached(url = SHARED_URL.get().expect("the test set the URL"), key = "shared", name = "double")]
async fn double_async(n: u32) -> pottery::Result<u64> {
    Ok(u64::from(n) * 2)
}

/// Sync and async caches on one key store the same fields: each reads what the other stored.
#[test]
fn sync_and_async_caches_on_one_key_share_their_entries() {
    let server = Server::start();
    SHARED_URL.set(server.url()).expect("set once");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sync = pottery::RedisCache::open(server.url(), "shared").unwrap();
    let asynchronous = RedisCache::open(server.url(), "shared").unwrap();

    let stored: String = sync
        .get_or_compute("greet", &("Ada",), || "hi Ada".to_owned())
        .unwrap();
    let read: String = runtime
        .block_on(asynchronous.get_or_compute("greet", &("Ada",), || async { panic!("a hit") }))
        .unwrap();
    assert_eq!(read, stored);
    let computed: String = runtime
        .block_on(asynchronous.get_or_compute("greet", &("Bob",), || async { "hi Bob".to_owned() }))
        .unwrap();
    let read: String = sync
        .get_or_compute("greet", &("Bob",), || panic!("a hit"))
        .unwrap();
    assert_eq!(read, computed);
    assert_eq!(
        (sync.stats().unwrap().hits, sync.stats().unwrap().misses),
        (1, 1)
    );

    // The macro's functions of either face, with one name on one key.
    assert_eq!(double_sync(21).unwrap(), 42);
    assert_eq!(runtime.block_on(double_async(21)).unwrap(), 42);
    assert_eq!(runtime.block_on(double_async(5)).unwrap(), 10);
    assert_eq!(double_sync(5).unwrap(), 10);
    assert_eq!(double_sync_cache().unwrap().stats().unwrap().hits, 1);
    let async_stats = runtime
        .block_on(double_async_cache().unwrap().stats())
        .unwrap();
    assert_eq!((async_stats.hits, async_stats.misses), (1, 1));
    assert_eq!(async_stats.size, 4);
}
