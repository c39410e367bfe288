//! `aio::RedisSet` and `aio::RedisCounter` on real servers, beyond the model tests that `set`
//! and `counter` run on both faces: concurrent tasks on one shared handle losing nothing, set
//! algebra on one server and across two, `Stream` iteration over many batches, typed errors,
//! and data Python pottery reads.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::StreamExt;
use pottery::aio::{RedisCounter, RedisSet};
use pottery::{Connector, Error};
use pottery_tests::{python_output, Server};

/// Tasks and calls per task of the concurrency tests.
const TASKS: usize = 64;
const CALLS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_on_one_counter_handle_lose_no_increment() {
    let server = Server::start();
    let hits: Arc<RedisCounter<String>> =
        Arc::new(RedisCounter::open(server.url(), "hits").unwrap());
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let hits = Arc::clone(&hits);
            tokio::spawn(async move {
                for call in 0..CALLS {
                    if call % 2 == 0 {
                        hits.increment("page", 1).await.unwrap();
                    } else {
                        // Multi-element updates are atomic too.
                        let mine = format!("task {task}");
                        hits.update(["page".to_owned(), mine]).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let total = i64::try_from(TASKS * CALLS).unwrap();
    assert_eq!(hits.get("page").await.unwrap(), total);
    assert_eq!(hits.total().await.unwrap(), total + total / 2);
    let raw: Option<String> = server.cmd(&["HGET", "hits", "\"page\""]).unwrap();
    assert_eq!(raw, Some(total.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_on_one_set_handle_insert_every_member() {
    let server = Server::start();
    let members: Arc<RedisSet<String>> = Arc::new(RedisSet::open(server.url(), "members").unwrap());
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let members = Arc::clone(&members);
            tokio::spawn(async move {
                for call in 0..CALLS {
                    assert!(members.insert(&format!("{task}/{call}")).await.unwrap());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let expected: HashSet<String> = (0..TASKS)
        .flat_map(|task| (0..CALLS).map(move |call| format!("{task}/{call}")))
        .collect();
    assert_eq!(members.len().await.unwrap(), TASKS * CALLS);
    assert_eq!(members.to_hashset().await.unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_algebra_on_one_server_runs_there_and_across_two_in_the_client() {
    let servers = Server::start_many(2);
    let here = Connector::from(servers[0].url());
    let a = RedisSet::from_iter_in(&here, [1, 2, 3]).await.unwrap();
    let b = RedisSet::from_iter_in(&here, [3, 4]).await.unwrap();
    let c = RedisSet::from_iter_in(&here, [3, 5]).await.unwrap();
    assert_eq!(a.intersection(&[&b, &c]).await.unwrap(), HashSet::from([3]));
    assert_eq!(
        a.union(&[&b, &c]).await.unwrap(),
        HashSet::from([1, 2, 3, 4, 5])
    );
    assert_eq!(a.symmetric_difference(&b).await.unwrap(), [1, 2, 4].into());
    assert_eq!(a.symmetric_difference_update(&c).await.unwrap(), 3); // a script: {1, 2, 5}
    assert_eq!(a.difference_update(&[&b]).await.unwrap(), 3);
    assert_eq!(a.intersection_update(&[&c]).await.unwrap(), 1);
    assert_eq!(a.union_update(&[&b]).await.unwrap(), 3);
    // One command each, on the server (and a SINTER in the script); no member was fetched to
    // the client.
    let calls = servers[0].info("commandstats");
    for (command, count) in [
        ("sinter", 2),
        ("sunion", 1),
        ("sinterstore", 1),
        ("sunionstore", 1),
        ("sdiffstore", 1),
    ] {
        let stat = format!("cmdstat_{command}:calls={count},");
        assert!(calls.contains(&stat), "{calls}");
    }
    assert!(!calls.contains("cmdstat_smembers"), "{calls}");
    assert_eq!(a.to_hashset().await.unwrap(), [3, 4, 5].into());

    // Two connectors to two servers: each set is read through its own container.
    let there = Connector::from(servers[1].url());
    let d = RedisSet::from_iter_in(&there, [4, 6]).await.unwrap();
    assert_eq!(a.union(&[&d]).await.unwrap(), [3, 4, 5, 6].into());
    assert_eq!(a.intersection(&[&d]).await.unwrap(), [4].into());
    assert_eq!(d.difference(&[&a]).await.unwrap(), [6].into());
    assert_eq!(a.symmetric_difference(&d).await.unwrap(), [3, 5, 6].into());
    assert_eq!(a.symmetric_difference_update(&d).await.unwrap(), 3);
    assert_eq!(a.to_hashset().await.unwrap(), [3, 5, 6].into());
    assert_eq!(d.union_update(&[&a]).await.unwrap(), 4);
    assert_eq!(d.to_hashset().await.unwrap(), [3, 4, 5, 6].into());
    assert!(servers[1].info("commandstats").contains("cmdstat_smembers"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_iterate_over_many_batches_and_end_with_a_typed_error() {
    let server = Server::start();
    let set: RedisSet<u32> = RedisSet::new(server.url()).unwrap();
    set.extend(0..2500).await.unwrap();
    let mut scan = set.iter();
    let mut seen = HashSet::new();
    while let Some(member) = scan.next().await {
        seen.insert(member.unwrap());
    }
    assert_eq!(seen, (0..2500).collect());

    let counter: RedisCounter<u32> = RedisCounter::new(server.url()).unwrap();
    counter
        .update_counts((0..1500).map(|n| (n, i64::from(n) + 1)))
        .await
        .unwrap();
    let counts: HashMap<u32, i64> = counter
        .iter()
        .map(Result::unwrap)
        .collect::<HashMap<_, _>>()
        .await;
    assert_eq!(counts.len(), 1500);
    assert_eq!(counts[&1499], 1500);

    // An undecodable member ends the stream with a typed error.
    let _: () = server.cmd(&["SADD", set.key(), "not json"]).unwrap();
    let results: Vec<pottery::Result<u32>> = set.iter().collect().await;
    assert!(
        matches!(results.last(), Some(Err(Error::Decode(_)))),
        "{results:?}"
    );

    let _: () = server.cmd(&["SET", "string", "x"]).unwrap();
    let wrong: RedisSet<u32> = RedisSet::open(server.url(), "string").unwrap();
    let results: Vec<pottery::Result<u32>> = wrong.iter().collect().await;
    assert!(
        matches!(&results[..], [Err(Error::Redis(e))] if e.code() == Some("WRONGTYPE")),
        "{results:?}"
    );
}

/// Runs `code` after binding `counter` and `members` to Python pottery's `RedisCounter` at
/// `hits` and `RedisSet` at `tags`; its stdout.
fn with_python(server: &Server, code: &str) -> String {
    let script = format!(
        "from pottery import RedisCounter, RedisSet\nfrom redis import Redis\n\
         redis = Redis(host='127.0.0.1', port={})\n\
         counter = RedisCounter(redis=redis, key='hits')\n\
         members = RedisSet(redis=redis, key='tags')\n{code}\n",
        server.port()
    );
    python_output(&script)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pottery_reads_what_the_async_types_wrote() {
    let server = Server::start();
    let redis = Connector::from(server.url());
    let counter: RedisCounter<String> = RedisCounter::open(&redis, "hits").unwrap();
    counter
        .update("the cat saw the ключ".split(' ').map(String::from))
        .await
        .unwrap();
    counter.increment("cat", 4).await.unwrap();
    let members: RedisSet<(u32, String)> = RedisSet::open(&redis, "tags").unwrap();
    members
        .extend([(1, "é".to_owned()), (2, "🙂".to_owned())])
        .await
        .unwrap();
    let seen = tokio::task::spawn_blocking(move || {
        let code = "print(sorted(counter.items()), counter.most_common(1), sorted(members))";
        with_python(&server, code)
    })
    .await
    .unwrap();
    assert_eq!(
        seen,
        "[('cat', 5), ('saw', 1), ('the', 2), ('ключ', 1)] [('cat', 5)] [[1, 'é'], [2, '🙂']]"
    );
}
