//! `aio::BloomFilter` and `aio::HyperLogLog` on real servers: the sync types' checks on the
//! async face (JSON items, creation parameters, no false negatives, a full filter as a typed
//! error, merge within one server only), many tasks on one shared handle, and a HyperLogLog
//! that Python pottery counts.

use std::sync::Arc;

use pottery::aio::{BloomFilter, HyperLogLog};
use pottery::{BloomInfo, Connector, Error};
use pottery_tests::Server;

/// Tasks and elements per task of the concurrency tests.
const TASKS: usize = 64;
const ELEMENTS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bloom_filter_stores_json_items_with_its_parameters() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let filter: BloomFilter<String> =
        BloomFilter::open(server.url(), "names", 5000, 0.001).unwrap();
    assert!(filter.is_empty().await.unwrap());
    assert_eq!(
        filter.info().await.unwrap(),
        None,
        "created by the first write"
    );
    assert!(filter.add("ada").await.unwrap());
    assert!(!filter.add("ada").await.unwrap());
    assert!(filter.contains("ada").await.unwrap());
    assert_eq!(
        server
            .cmd::<i64>(&["POTTERY.BF.EXISTS", "names", "\"ada\""])
            .unwrap(),
        1,
        "the item is JSON(element)"
    );
    let names: Vec<String> = (0..10).map(|n| format!("name {n}")).collect();
    assert_eq!(filter.extend(names.clone()).await.unwrap(), 10);
    assert_eq!(
        filter.contains_many(&names).await.unwrap(),
        [true; 10],
        "no false negative"
    );
    assert_eq!(
        filter.contains_many(&names[..0]).await.unwrap(),
        Vec::<bool>::new()
    );
    assert_eq!(filter.len().await.unwrap(), 11);
    let bits = (-5000.0 * 0.0005f64.ln() / std::f64::consts::LN_2.powi(2)).ceil();
    assert_eq!(
        filter.info().await.unwrap(),
        Some(BloomInfo {
            capacity: 5000,
            size: ((bits / 64.0).ceil() * 8.0) as u64,
            filters: 1,
            items: 11,
            expansion: Some(2)
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bloom_filter_that_cannot_grow_is_a_typed_error() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "fixed", "0.01", "2", "NONSCALING"])
        .unwrap();
    let filter: BloomFilter<u32> = BloomFilter::open(server.url(), "fixed", 100, 0.01).unwrap();
    assert_eq!(filter.extend([1, 2]).await.unwrap(), 2);
    assert!(matches!(filter.add(&3).await, Err(Error::FilterFull)));
    assert!(matches!(
        filter.extend([4, 5]).await,
        Err(Error::FilterFull)
    ));
    assert_eq!(filter.len().await.unwrap(), 2);

    let _: () = server.cmd(&["SET", "text", "x"]).unwrap();
    let text: BloomFilter<u32> = BloomFilter::open(server.url(), "text", 100, 0.01).unwrap();
    assert!(matches!(text.add(&1).await, Err(Error::Redis(e)) if e.code() == Some("WRONGTYPE")));
    // Checked before any round trip: nothing listens on port 1.
    assert!(matches!(
        BloomFilter::<u8>::open("redis://127.0.0.1:1/", "k", 0, 0.01),
        Err(Error::InvalidArgument {
            argument: "capacity",
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_on_one_bloom_filter_handle() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let filter: Arc<BloomFilter<String>> =
        Arc::new(BloomFilter::open(server.url(), "shared", 1000, 0.01).unwrap());
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let filter = Arc::clone(&filter);
            tokio::spawn(async move {
                let mut new = 0;
                for element in 0..ELEMENTS {
                    new += u64::from(filter.add(&format!("{task}/{element}")).await.unwrap());
                }
                new
            })
        })
        .collect();
    let mut new = 0;
    for task in tasks {
        new += task.await.unwrap();
    }
    // Each add that answered "new" was counted once by the filter, whatever the false
    // positives, and every element added is found.
    assert_eq!(filter.len().await.unwrap(), new);
    let all: Vec<String> = (0..TASKS)
        .flat_map(|task| (0..ELEMENTS).map(move |element| format!("{task}/{element}")))
        .collect();
    assert!(filter
        .contains_many(&all)
        .await
        .unwrap()
        .iter()
        .all(|found| *found));
    // The filter grew past its capacity, keeping its rate.
    assert!(filter.info().await.unwrap().unwrap().filters > 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hyperloglog_counts_without_false_negatives() {
    let server = Server::start();
    let hll: HyperLogLog<String> = HyperLogLog::open(server.url(), "h").unwrap();
    assert!(hll.is_empty().await.unwrap());
    assert!(
        !hll.contains("a").await.unwrap(),
        "a missing key contains nothing"
    );
    assert!(hll.add("a").await.unwrap());
    assert!(!hll.add("a").await.unwrap());
    let elements: Vec<String> = (0..3000).map(|n| format!("e{n}-ключ")).collect();
    assert!(hll.extend(elements.iter().cloned()).await.unwrap());
    for batch in elements.chunks(1000) {
        assert!(hll
            .contains_many(batch)
            .await
            .unwrap()
            .iter()
            .all(|found| *found));
    }
    let estimate = hll.len().await.unwrap() as f64;
    assert!((estimate - 3001.0).abs() < 150.0, "{estimate}");
    assert!(!hll.extend(Vec::new()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_on_one_hyperloglog_handle() {
    let server = Server::start();
    let hll: Arc<HyperLogLog<u64>> = Arc::new(HyperLogLog::open(server.url(), "visits").unwrap());
    let tasks: Vec<_> = (0..TASKS as u64)
        .map(|task| {
            let hll = Arc::clone(&hll);
            tokio::spawn(async move {
                for element in 0..ELEMENTS as u64 {
                    hll.add(&(task * 1000 + element)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let all: Vec<u64> = (0..TASKS as u64)
        .flat_map(|task| (0..ELEMENTS as u64).map(move |element| task * 1000 + element))
        .collect();
    assert!(hll
        .contains_many(&all)
        .await
        .unwrap()
        .iter()
        .all(|found| *found));
    let estimate = hll.len().await.unwrap() as f64;
    let exact = (TASKS * ELEMENTS) as f64;
    assert!((estimate - exact).abs() < 0.05 * exact, "{estimate}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyperloglogs_merge_on_one_server_only() {
    let servers = Server::start_many(2);
    let here = Connector::from(servers[0].url());
    let monday: HyperLogLog<u32> = HyperLogLog::open(&here, "monday").unwrap();
    let tuesday: HyperLogLog<u32> = HyperLogLog::open(&here, "tuesday").unwrap();
    monday.extend(0..100).await.unwrap();
    tuesday.extend(50..150).await.unwrap();
    let week: HyperLogLog<u32> = HyperLogLog::new(&here).unwrap();
    week.merge(&[&monday, &tuesday]).await.unwrap();
    let union = week.len().await.unwrap();
    assert!((145..=155).contains(&union), "{union}");
    assert!(week.contains(&149).await.unwrap() && week.contains(&0).await.unwrap());

    let remote: HyperLogLog<u32> = HyperLogLog::open(servers[1].url(), "remote").unwrap();
    remote.extend(1000..1100).await.unwrap();
    assert!(matches!(
        week.merge(&[&remote]).await,
        Err(Error::InvalidArgument {
            argument: "others",
            ..
        })
    ));
    assert_eq!(week.len().await.unwrap(), union, "nothing was merged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pottery_counts_what_the_async_hyperloglog_added() {
    let server = Server::start();
    let hll: HyperLogLog<String> = HyperLogLog::open(server.url(), "shared").unwrap();
    hll.extend(["ada", "ключ", "grace", "ada"].map(String::from))
        .await
        .unwrap();
    let seen = tokio::task::spawn_blocking(move || {
        let code = "print(len(hll), 'ada' in hll, 'ключ' in hll)";
        super::hyperloglog::with_python(&server, "shared", code)
    })
    .await
    .unwrap();
    assert_eq!(seen, "3 True True");
}
