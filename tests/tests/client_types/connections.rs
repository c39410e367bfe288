//! Shared connections: every container made from one `Connector` shares its connections (one
//! multiplexed connection for async handles, a bounded pool for sync ones); opening a handle
//! costs nothing; a broken connection is reopened for every handle; a dropped async call
//! leaves the shared connection usable.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use futures_util::future::join_all;
use pottery::{aio, Connector, Error, RedisDict};
use pottery_tests::{block_on, start_cluster, Server};

/// Clients connected to `server`, not counting the connection that asks.
fn clients(server: &Server) -> usize {
    let list: String = server.cmd(&["CLIENT", "LIST"]).expect("CLIENT LIST");
    list.lines().count() - 1
}

fn commands_processed(server: &Server) -> i64 {
    let stats = server.info("stats");
    pottery_tests::info_field(&stats, "total_commands_processed")
        .and_then(|value| value.parse().ok())
        .expect("total_commands_processed")
}

#[test]
fn ten_thousand_async_handles_share_one_connection() {
    let server = Server::start();
    let redis = Connector::from(server.url());
    let handles: Vec<aio::RedisDict<u32, u32>> = (0..10_000)
        .map(|index| aio::RedisDict::open(&redis, &format!("dict:{index}")).expect("dict"))
        .collect();
    block_on(async {
        let writes = handles.iter().enumerate().map(|(index, dict)| {
            let dict = dict.clone();
            async move { dict.insert(&1, &(index as u32)).await }
        });
        for written in join_all(writes).await {
            assert_eq!(written.expect("insert"), None);
        }
        assert_eq!(handles[9_999].get(&1).await.expect("get"), Some(9_999));
    });
    assert_eq!(clients(&server), 1);
    let keys: i64 = server.cmd(&["DBSIZE"]).expect("DBSIZE");
    assert_eq!(keys, 10_000);
}

#[test]
fn opening_handles_costs_no_round_trip_and_no_socket() {
    let server = Server::start();
    // What one look at the counter costs (the harness's own connection commands).
    let first_look = commands_processed(&server);
    let before = commands_processed(&server);
    let one_look = before - first_look;
    let redis = Connector::from(server.url());
    let sync: Vec<RedisDict<u32, u32>> = (0..1000)
        .map(|index| RedisDict::open(&redis, &format!("s:{index}")).expect("dict"))
        .collect();
    let asynchronous: Vec<aio::RedisDict<u32, u32>> = (0..1000)
        .map(|index| aio::RedisDict::open(&redis, &format!("a:{index}")).expect("dict"))
        .collect();
    drop((sync, asynchronous));
    assert_eq!(commands_processed(&server), before + one_look);
    assert_eq!(clients(&server), 0);
}

#[test]
fn sync_threads_share_a_bounded_pool() {
    let server = Server::start();
    let redis = Connector::from(server.url()).with_pool_size(3);
    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|thread| {
            let redis = redis.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                for round in 0..200 {
                    // A new handle for every call: handles cost nothing.
                    let dict: RedisDict<u32, u32> =
                        RedisDict::open(&redis, &format!("t:{thread}")).expect("dict");
                    dict.put(&round, &round).expect("put");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    let open = clients(&server);
    assert!(
        (1..=3).contains(&open),
        "{open} connections for a pool of 3"
    );
    for thread in 0..threads {
        let entries: i64 = server.cmd(&["HLEN", &format!("t:{thread}")]).expect("HLEN");
        assert_eq!(entries, 200);
    }
}

#[test]
fn a_restarted_server_is_reopened_for_every_handle() {
    let server = Server::start();
    let redis = Connector::from(server.url());
    let sync: Vec<RedisDict<String, i64>> = (0..8)
        .map(|index| RedisDict::open(&redis, &format!("sync:{index}")).expect("dict"))
        .collect();
    let asynchronous: Vec<aio::RedisDict<String, i64>> = (0..8)
        .map(|index| aio::RedisDict::open(&redis, &format!("async:{index}")).expect("dict"))
        .collect();
    // Several pooled connections at once, so that more than one is idle at the restart.
    std::thread::scope(|scope| {
        for dict in &sync {
            scope.spawn(|| dict.put("a", &1).expect("put"));
        }
    });
    block_on(async {
        for dict in &asynchronous {
            dict.put("a", &1).await.expect("put");
        }
    });

    server.restart();
    // The first call of each face may find its connection closed; that call fails, and every
    // handle's next call goes through a new connection.
    let _ = sync[0].get("a");
    for dict in &sync {
        assert_eq!(dict.get("a").expect("get after restart"), None);
    }
    block_on(async {
        let _ = asynchronous[0].get("a").await;
        for dict in &asynchronous {
            assert_eq!(dict.get("a").await.expect("get after restart"), None);
        }
    });
}

#[test]
fn a_dropped_async_call_leaves_the_shared_connection_usable() {
    let server = Server::start();
    let redis = Connector::from(server.url());
    let dict: aio::RedisDict<String, u64> = aio::RedisDict::open(&redis, "d").expect("dict");
    block_on(async {
        for index in 0..50u64 {
            dict.put(&format!("k{index}"), &index).await.expect("put");
        }
    });
    server.pause();
    block_on(async {
        // Requests on the wire while the server is stopped, then given up.
        let abandoned = (0..10).map(|index| dict.get(&format!("k{index}")));
        let given_up = tokio::time::timeout(Duration::from_millis(50), join_all(abandoned)).await;
        assert!(given_up.is_err(), "a paused server cannot reply");
    });
    server.resume();
    block_on(async {
        // Their late replies must not answer these calls.
        let calls = (0..50u64).map(|index| {
            let dict = dict.clone();
            async move { (index, dict.get(&format!("k{index}")).await) }
        });
        for (index, value) in join_all(calls).await {
            assert_eq!(value.expect("get"), Some(index), "k{index}");
        }
    });
    assert_eq!(clients(&server), 1);
}

#[test]
fn sixty_four_tasks_on_one_handle_lose_no_write() {
    let server = Server::start();
    let dict: aio::RedisDict<u32, u32> = aio::RedisDict::open(server.url(), "d").expect("dict");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tasks: Vec<_> = (0..64u32)
            .map(|task| {
                let dict = dict.clone();
                tokio::spawn(async move {
                    for index in 0..50u32 {
                        let key = task * 1000 + index;
                        assert_eq!(dict.insert(&key, &index).await.expect("insert"), None);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(dict.len().await.expect("len"), 64 * 50);
    });
    assert_eq!(clients(&server), 1);
}

#[test]
fn an_open_connection_serves_its_own_face_only() {
    let server = Server::start();
    let sync_only = Connector::from(server.connection());
    let refused = aio::RedisDict::<u32, u32>::open(&sync_only, "d");
    assert!(matches!(
        refused,
        Err(Error::InvalidArgument {
            argument: "connector",
            ..
        })
    ));
    let dict: RedisDict<u32, u32> = RedisDict::open(&sync_only, "d").expect("sync dict");
    dict.put(&1, &2).expect("put");

    let multiplexed = block_on(server.client().get_multiplexed_async_connection()).expect("conn");
    let async_only = Connector::from(multiplexed);
    assert!(RedisDict::<u32, u32>::open(&async_only, "d").is_err());
    let dict: aio::RedisDict<u32, u32> = aio::RedisDict::open(&async_only, "d").expect("dict");
    assert_eq!(block_on(dict.get(&1)).expect("get"), Some(2));
}

#[test]
fn async_dicts_through_a_cluster_live_on_their_slots_master() {
    let nodes = start_cluster(3);
    let redis = Connector::cluster(nodes.iter().map(Server::url)).expect("cluster");
    let dicts: Vec<aio::RedisDict<String, u32>> = (0..30)
        .map(|index| aio::RedisDict::open(&redis, &format!("user:{index}")).expect("dict"))
        .collect();
    block_on(async {
        for (index, dict) in dicts.iter().enumerate() {
            dict.insert("visits", &(index as u32))
                .await
                .expect("insert");
            assert_eq!(
                dict.insert("visits", &1).await.expect("insert"),
                Some(index as u32)
            );
        }
    });
    let mut found = 0;
    for node in &nodes {
        for index in 0..30 {
            let key = format!("user:{index}");
            let owner: Result<i64, _> = node.cmd(&["HLEN", &key]);
            if let Ok(1) = owner {
                found += 1;
            }
        }
    }
    assert_eq!(
        found, 30,
        "every dict on exactly the node that owns its slot"
    );
}
