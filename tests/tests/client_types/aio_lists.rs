//! `aio::RedisList`, `aio::RedisDeque` and `aio::RedisQueue` against real servers: the async
//! types pass the sync types' model tests (the same generators and checks, from `lists`), a
//! blocked `get` holds up none of the calls sharing its connector, a cancelled `get` harms
//! nothing, and iteration is a `Stream` across pages.

use std::time::Duration;

use futures_util::StreamExt;
use pottery::aio::{RedisDeque, RedisDict, RedisList, RedisQueue};
use pottery::{Connector, Error};
use pottery_tests::{block_on, Server};

use super::lists::{deque_matches_vecdeque, list_matches_vec};

#[test]
fn async_list_matches_vec_on_random_operations() {
    let server = Server::start();
    let list: RedisList<String> = RedisList::open(server.url(), "model").unwrap();
    list_matches_vec(&list);
}

#[test]
fn async_deque_matches_vecdeque_on_random_operations() {
    let server = Server::start();
    deque_matches_vecdeque(|| RedisDeque::<String>::open(server.url(), "model").unwrap());
}

#[test]
fn both_faces_share_one_layout() {
    let server = Server::start();
    let sync: pottery::RedisList<(u8, String)> =
        pottery::RedisList::open(server.url(), "l").unwrap();
    let asynchronous: RedisList<(u8, String)> = RedisList::open(server.url(), "l").unwrap();
    block_on(async {
        asynchronous.push(&(1, "é".to_owned())).await.unwrap();
        sync.push(&(2, "b".to_owned())).unwrap();
        asynchronous.sort_by(|a, b| b.0.cmp(&a.0)).await.unwrap();
        assert_eq!(asynchronous.to_vec().await.unwrap(), sync.to_vec().unwrap());
    });
    let stored: Vec<String> = server.cmd(&["LRANGE", "l", "0", "-1"]).unwrap();
    assert_eq!(stored, [r#"[2, "b"]"#, r#"[1, "\u00e9"]"#]);
}

/// Waits until the server has `count` clients blocked (in `BLPOP`).
async fn until_blocked_clients(server: &Server, count: usize) {
    let expected = count.to_string();
    for _ in 0..6000 {
        if server.info_field("clients", "blocked_clients").as_deref() == Some(expected.as_str()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the server never had {count} blocked clients");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_get_holds_up_none_of_64_tasks_on_its_connector() {
    let server = Server::start();
    let redis = Connector::from(server.url());
    let queue: RedisQueue<u32> = RedisQueue::open(&redis, "jobs").unwrap();
    // A wait far beyond the test: only the put below can end it.
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move { queue.get(Duration::from_secs(600)).await }
    });
    until_blocked_clients(&server, 1).await;
    let tasks: Vec<tokio::task::JoinHandle<pottery::Result<()>>> = (0..64u32)
        .map(|task| {
            let queue = queue.clone();
            let list: RedisList<u32> = RedisList::open(&redis, "side").unwrap();
            let dict: RedisDict<u32, u32> = RedisDict::open(&redis, "side:dict").unwrap();
            tokio::spawn(async move {
                assert_eq!(queue.len().await?, 0);
                assert_eq!(queue.get_nowait().await?, None);
                list.push(&task).await?;
                dict.insert(&task, &(task * 2)).await?;
                assert_eq!(dict.get(&task).await?, Some(task * 2));
                Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(!waiting.is_finished(), "the get returned without an item");
    let list: RedisList<u32> = RedisList::open(&redis, "side").unwrap();
    assert_eq!(list.len().await.unwrap(), 64);
    queue.put(&7).await.unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), Some(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_get_leaves_the_queue_and_its_connector_working() {
    let server = Server::start();
    let redis = Connector::from(server.url());
    let queue: RedisQueue<String> = RedisQueue::open(&redis, "q").unwrap();
    let list: RedisList<u32> = RedisList::open(&redis, "l").unwrap();
    list.push(&1).await.unwrap(); // the shared connection is open before the cancel
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move { queue.get(Duration::from_secs(600)).await }
    });
    until_blocked_clients(&server, 1).await;
    waiting.abort();
    assert!(waiting.await.unwrap_err().is_cancelled());
    // The dropped get took its connection with it: the server no longer blocks for it, so it
    // cannot take the next item.
    until_blocked_clients(&server, 0).await;
    queue.put("after").await.unwrap();
    assert_eq!(list.len().await.unwrap(), 1);
    assert_eq!(
        queue.get(Duration::from_secs(5)).await.unwrap().as_deref(),
        Some("after")
    );
    // Another blocking get works too (on a new or kept dedicated connection).
    let (item, put) = tokio::join!(queue.get(Duration::from_secs(600)), queue.put("next"));
    put.unwrap();
    assert_eq!(item.unwrap().as_deref(), Some("next"));
    // A get dropped by the caller's own `select!`, on the current task, once it waits.
    tokio::select! {
        item = queue.get(Duration::from_secs(600)) => panic!("nothing was put: {item:?}"),
        () = until_blocked_clients(&server, 1) => {}
    }
    until_blocked_clients(&server, 0).await;
    queue.put("last").await.unwrap();
    assert_eq!(queue.get_nowait().await.unwrap().as_deref(), Some("last"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_get_has_the_sync_rules_and_errors() {
    let server = Server::start();
    let queue: RedisQueue<String> = RedisQueue::open(server.url(), "q").unwrap();
    for item in ["a", "b", "c"] {
        queue.put(item).await.unwrap();
    }
    assert_eq!(
        queue.get(Duration::from_secs(1)).await.unwrap().as_deref(),
        Some("a")
    );
    assert_eq!(
        queue.get(Duration::ZERO).await.unwrap().as_deref(),
        Some("b")
    );
    assert_eq!(queue.get_nowait().await.unwrap().as_deref(), Some("c"));
    // Sub-millisecond waits are rounded up, never sent as BLPOP's "forever" 0.
    assert_eq!(queue.get(Duration::from_micros(10)).await.unwrap(), None);
    assert!(matches!(
        queue.get(Duration::MAX).await,
        Err(Error::InvalidArgument {
            argument: "timeout",
            ..
        })
    ));
    // An open connection cannot give a dedicated one.
    let connection = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let given: RedisQueue<u8> = RedisQueue::open(connection, "q2").unwrap();
    given.put(&1).await.unwrap();
    assert!(matches!(
        given.get(Duration::from_millis(10)).await,
        Err(Error::InvalidArgument {
            argument: "connector",
            ..
        })
    ));
    assert_eq!(given.get_nowait().await.unwrap(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_iteration_crosses_pages_in_order() {
    let server = Server::start();
    let list = RedisList::from_iter_in(server.url(), 0..2500u32)
        .await
        .unwrap();
    let mut stream = list.iter();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item.unwrap());
    }
    assert_eq!(items, (0..2500).collect::<Vec<_>>());
    let exactly_one_page = RedisList::from_iter_in(server.url(), 0..1000u32)
        .await
        .unwrap();
    assert_eq!(exactly_one_page.iter().count().await, 1000);
    let empty: RedisList<u32> = RedisList::new(server.url()).unwrap();
    assert_eq!(empty.iter().count().await, 0);
    let deque = RedisDeque::from_iter_in(server.url(), 0..1500u32, Some(1200))
        .await
        .unwrap();
    let kept: Vec<u32> = deque.iter().map(Result::unwrap).collect::<Vec<_>>().await;
    assert_eq!(kept, (300..1500).collect::<Vec<_>>());
    // An undecodable element ends the stream with the error.
    let _: () = server.cmd(&["RPUSH", "raw", "1", "not json", "3"]).unwrap();
    let raw: RedisList<u32> = RedisList::open(server.url(), "raw").unwrap();
    let seen: Vec<pottery::Result<u32>> = raw.iter().collect().await;
    assert!(
        matches!(seen[..], [Ok(1), Err(Error::Decode(_))]),
        "{seen:?}"
    );
}
