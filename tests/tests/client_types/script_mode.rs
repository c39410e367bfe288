//! Redlock and NextId on servers without the pottery module: every lock and ID operation runs
//! as a Lua script with the module command's semantics, on both faces, with the mode found
//! once per connection, `NOSCRIPT` handled, masters of both kinds mixed, and exact 64-bit
//! counters.

use pottery::{Error, Master, Mode, NextId, Redlock};
use pottery_tests::{block_on, Server};
use std::collections::HashSet;
use std::time::Duration;

fn plain(n: usize) -> Vec<Server> {
    Server::builder().without_module().start_many(n)
}

fn urls(servers: &[Server]) -> Vec<String> {
    servers.iter().map(Server::url).collect()
}

/// `NOSCRIPT` replies the server sent.
fn noscript_replies(server: &Server) -> u64 {
    server
        .info_field("errorstats", "errorstat_NOSCRIPT")
        .and_then(|count| count.strip_prefix("count=")?.parse().ok())
        .unwrap_or(0)
}

fn lock_builder(servers: &[Server], name: &str) -> pottery::RedlockBuilder {
    Redlock::builder()
        .name(name)
        .masters(urls(servers))
        .ttl(Duration::from_secs(10))
        .master_timeout(Duration::from_millis(200))
        .acquire_timeout(Duration::from_secs(20))
        .retry_delay(Duration::from_millis(5))
}

fn ids_builder(servers: &[Server], name: &str) -> pottery::NextIdBuilder {
    NextId::builder()
        .name(name)
        .masters(urls(servers))
        .master_timeout(Duration::from_millis(200))
        .deadline(Duration::from_secs(10))
}

#[test]
fn a_lock_without_the_module_acquires_extends_reports_and_releases() {
    let masters = plain(5);
    let lock = lock_builder(&masters, "printer").build().unwrap();
    let other = lock_builder(&masters, "printer").build().unwrap();
    assert!(lock.holder().unwrap().is_none());
    let mut guard = lock.try_acquire().unwrap().expect("free");
    let stored: String = masters[3].cmd(&["GET", "redlock:printer"]).unwrap();
    assert_eq!(stored, guard.token());
    let pttl: i64 = masters[3].cmd(&["PTTL", "redlock:printer"]).unwrap();
    assert!(pttl > 9_000 && pttl <= 10_000, "PTTL {pttl}");
    assert!(other.try_acquire().unwrap().is_none(), "held by the first");
    let holder = other.holder().unwrap().expect("a majority agrees");
    assert_eq!(holder.token, guard.token());
    assert!(holder.ttl.is_some_and(|ttl| ttl <= Duration::from_secs(10)));
    assert!(other.is_locked().unwrap());
    let left = guard.locked().unwrap().expect("held");
    assert!(left > Duration::from_secs(8) && left < Duration::from_secs(10));
    let _: () = masters[0]
        .cmd(&["PEXPIRE", "redlock:printer", "3000"])
        .unwrap();
    guard.extend().unwrap();
    let renewed: i64 = masters[0].cmd(&["PTTL", "redlock:printer"]).unwrap();
    assert!(renewed > 9_000, "extend reset the TTL: {renewed}");
    guard.release().unwrap();
    assert!(!other.is_locked().unwrap());
    for master in &masters {
        assert!(!master.cmd::<bool>(&["EXISTS", "redlock:printer"]).unwrap());
        // Auto mode asked once per connection (one for each lock) and then used scripts only.
        assert_eq!(master.command_calls("command|info"), 2);
        // Each script went whole once per connection, then by hash: never a NOSCRIPT.
        assert!(master.command_calls("evalsha") >= 2);
        assert_eq!(noscript_replies(master), 0);
    }
}

#[test]
fn two_masters_down_still_lock_and_fencing_tokens_increase() {
    let masters = plain(5);
    let lock = lock_builder(&masters, "fenced")
        .fencing(true)
        .mode(Mode::WithoutModule)
        .build()
        .unwrap();
    let rival = lock_builder(&masters, "fenced")
        .fencing(true)
        .build()
        .unwrap();
    let mut last = 0;
    for round in 0..8 {
        if round == 3 {
            masters[1].kill();
            masters[4].kill();
        }
        let holder = if round % 2 == 0 { &lock } else { &rival };
        let guard = holder.acquire().unwrap();
        let token = guard.fencing_token().expect("fencing on");
        assert!(token > last, "token {token} after {last}");
        last = token;
        guard.release().unwrap();
    }
    let counter: String = masters[0].cmd(&["GET", "redlock:fenced:fence"]).unwrap();
    assert_eq!(counter, last.to_string());
    masters[2].kill();
    assert!(matches!(
        lock.try_acquire(),
        Err(Error::QuorumNotAchieved { .. })
    ));
}

#[test]
fn fence_counters_above_2_pow_53_stay_exact() {
    let masters = plain(3);
    let big = "9007199254740993";
    for master in &masters {
        let _: () = master.cmd(&["SET", "redlock:big:fence", big]).unwrap();
    }
    let lock = lock_builder(&masters, "big").fencing(true).build().unwrap();
    let guard = lock.acquire().unwrap();
    assert_eq!(guard.fencing_token(), Some(9_007_199_254_740_994));
    guard.release().unwrap();
    for master in &masters {
        let _: () = master
            .cmd(&["SET", "redlock:big:fence", &i64::MAX.to_string()])
            .unwrap();
    }
    let error = lock.try_acquire().unwrap_err();
    let Error::QuorumNotAchieved {
        last_error: Some(last),
        ..
    } = error
    else {
        panic!("overflow refused: {error:?}");
    };
    assert!(last.to_string().contains("overflow"), "{last}");
    assert!(!masters[0].cmd::<bool>(&["EXISTS", "redlock:big"]).unwrap());
}

#[test]
fn next_id_without_the_module_is_unique_across_clients_and_exact_near_the_top() {
    let masters = plain(5);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut ids = ids_builder(&masters, "orders").build().unwrap();
            std::thread::spawn(move || {
                (0..100)
                    .map(|_| ids.next_id().expect("an id"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for thread in threads {
        for id in thread.join().expect("worker finished") {
            assert!(seen.insert(id), "duplicate id {id}");
        }
    }
    assert_eq!(seen.len(), 400);

    for master in &masters {
        let _: () = master
            .cmd(&["SET", "nextid:big", "9007199254740993"])
            .unwrap();
    }
    masters[0].kill();
    masters[3].kill();
    let mut ids = ids_builder(&masters, "big").build().unwrap();
    assert_eq!(ids.next_id().unwrap(), 9_007_199_254_740_994);
    assert_eq!(
        ids.next_ids(3).unwrap(),
        9_007_199_254_740_995..=9_007_199_254_740_997
    );
    let stored: String = masters[1].cmd(&["GET", "nextid:big"]).unwrap();
    assert_eq!(stored, "9007199254740997");
    for master in [&masters[1], &masters[2], &masters[4]] {
        let _: () = master
            .cmd(&["SET", "nextid:big", &(i64::MAX - 1).to_string()])
            .unwrap();
    }
    assert_eq!(ids.next_id().unwrap(), i64::MAX);
    assert!(matches!(ids.next_id(), Err(Error::Overflow)));
}

#[test]
fn mode_module_on_a_server_without_it_is_a_typed_error() {
    let masters = plain(1);
    let mut ids = ids_builder(&masters, "strict")
        .mode(Mode::Module)
        .build()
        .unwrap();
    assert!(matches!(
        ids.next_id(),
        Err(Error::ModuleNotLoaded {
            command: "POTTERY.NEXTID.CLAIM"
        })
    ));
    let lock = lock_builder(&masters, "strict")
        .mode(Mode::Module)
        .build()
        .unwrap();
    let error = lock.try_acquire().unwrap_err();
    assert!(
        matches!(
            &error,
            Error::QuorumNotAchieved { last_error: Some(last), .. }
                if matches!(**last, Error::ModuleNotLoaded { command: "POTTERY.LOCK" })
        ),
        "{error:?}"
    );
    assert_eq!(masters[0].command_calls("command|info"), 0);
}

#[test]
fn a_script_flush_mid_run_reloads_the_scripts_transparently() {
    let masters = plain(3);
    let lock = lock_builder(&masters, "flushed").build().unwrap();
    let mut ids = ids_builder(&masters, "flushed").build().unwrap();
    let guard = lock.acquire().unwrap();
    assert_eq!(ids.next_id().unwrap(), 1);
    for master in &masters {
        let _: () = master.cmd(&["SCRIPT", "FLUSH"]).unwrap();
    }
    guard.release().unwrap();
    assert_eq!(ids.next_id().unwrap(), 2);
    let again = lock.acquire().unwrap();
    again.release().unwrap();
    for master in &masters {
        assert!(!master.cmd::<bool>(&["EXISTS", "redlock:flushed"]).unwrap());
        // The flush made the scripts sent by hash answer NOSCRIPT; they went whole again.
        assert!(noscript_replies(master) >= 1);
        assert!(master.command_calls("eval") >= 3);
    }
}

#[test]
fn masters_with_and_without_the_module_share_one_lock_and_one_counter() {
    pottery_tests::requires_module!("it needs masters with the module beside those without");
    let with = Server::start_many(2);
    let without = plain(3);
    let mut masters: Vec<Master> = with.iter().map(|server| server.url().into()).collect();
    masters.extend(without.iter().map(|server| Master::from(server.url())));
    let lock = Redlock::builder()
        .name("mixed")
        .masters(masters)
        .fencing(true)
        .build()
        .unwrap();
    let guard = lock.acquire().unwrap();
    assert_eq!(guard.fencing_token(), Some(1));
    for server in with.iter().chain(&without) {
        let stored: String = server.cmd(&["GET", "redlock:mixed"]).unwrap();
        assert_eq!(stored, guard.token());
    }
    guard.release().unwrap();
    assert!(with[0].command_calls("pottery.unlock") >= 1);
    assert!(without[0].command_calls("eval") >= 1);
    assert_eq!(noscript_replies(&without[0]), 0);
}

#[test]
fn the_async_face_runs_the_scripts_too() {
    let masters = plain(5);
    block_on(async {
        let lock = lock_builder(&masters, "aio")
            .fencing(true)
            .build_async()
            .await
            .unwrap();
        let mut guard = lock.acquire().await.unwrap();
        assert_eq!(guard.fencing_token(), Some(1));
        let holder = lock.holder().await.unwrap().expect("held");
        assert_eq!(holder.token, guard.token());
        assert!(guard.locked().await.unwrap().is_some());
        guard.extend().await.unwrap();
        for master in &masters {
            let _: () = master.cmd(&["SCRIPT", "FLUSH"]).unwrap();
        }
        guard.release().await.unwrap();
        assert!(!lock.is_locked().await.unwrap());

        for master in &masters[..3] {
            let _: () = master
                .cmd(&["SET", "nextid:aio", "9007199254740993"])
                .unwrap();
        }
        masters[3].kill();
        masters[4].kill();
        let mut ids = ids_builder(&masters, "aio").build_async().await.unwrap();
        assert_eq!(ids.next_id().await.unwrap(), 9_007_199_254_740_994);
    });
    for master in &masters[..3] {
        // At least once for the lock's connection and once for the ids' (again when a round
        // that was decided without this master dropped its request before the answer).
        assert!(master.command_calls("command|info") >= 2);
        assert!(master.command_calls("evalsha") >= 1);
    }
}

#[test]
fn script_writes_reach_the_aof_and_a_replica_with_absolute_expiry() {
    let master = Server::builder()
        .without_module()
        .aof(true)
        .fsync_always(true)
        .start();
    let replica = Server::builder().without_module().start();
    replica.replicate_from(&master);
    let lock = lock_builder(std::slice::from_ref(&master), "durable")
        .fencing(true)
        .build()
        .unwrap();
    let mut guard = lock.acquire().unwrap();
    guard.extend().unwrap();
    pottery_tests::wait_for_replication(&master, &replica);
    let token: String = replica.cmd(&["GET", "redlock:durable"]).unwrap();
    assert_eq!(token, guard.token());
    let pttl: i64 = replica.cmd(&["PTTL", "redlock:durable"]).unwrap();
    assert!(pttl > 0 && pttl <= 10_000, "replica PTTL {pttl}");
    let fence: String = replica.cmd(&["GET", "redlock:durable:fence"]).unwrap();
    assert_eq!(fence, "1");
    let aof_dir = master.data_dir().join("appendonlydir");
    let aof: String = std::fs::read_dir(&aof_dir)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".incr.aof"))
        .map(|entry| String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned())
        .collect();
    // Relative TTLs never land in the AOF: SET ... PXAT and PEXPIREAT only.
    assert!(aof.contains("PXAT"), "{aof}");
    assert!(aof.contains("PEXPIREAT"), "{aof}");
    assert!(
        !aof.contains("\r\nPX\r\n") && !aof.contains("\r\nPEXPIRE\r\n"),
        "{aof}"
    );
    guard.release().unwrap();
    pottery_tests::wait_for_replication(&master, &replica);
    assert!(!replica.cmd::<bool>(&["EXISTS", "redlock:durable"]).unwrap());
}

#[test]
fn scripts_run_through_a_cluster_without_the_module_on_both_faces() {
    let nodes = pottery_tests::start_cluster_of(&Server::builder().without_module(), 3);
    let client =
        redis::cluster::ClusterClient::new(nodes.iter().map(Server::url).collect::<Vec<_>>())
            .unwrap();
    // Fencing needs the lock and its counter in one slot: a hash tag in the name.
    let lock = Redlock::builder()
        .name("{printer}")
        .master(&client)
        .fencing(true)
        .master_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut ids = NextId::builder()
        .name("orders")
        .master(&client)
        .master_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    for expected in 1..=3 {
        let guard = lock.acquire().unwrap();
        assert_eq!(guard.fencing_token(), Some(expected));
        assert_eq!(ids.next_id().unwrap(), expected);
        guard.release().unwrap();
    }
    // Without a hash tag the two keys are in different slots: refused as with the module.
    let untagged = Redlock::builder()
        .name("printer")
        .master(&client)
        .fencing(true)
        .acquire_timeout(Duration::ZERO)
        .build()
        .unwrap();
    assert!(untagged.try_acquire().is_err());
    block_on(async {
        let lock = Redlock::builder()
            .name("{printer}")
            .master(&client)
            .fencing(true)
            .master_timeout(Duration::from_secs(1))
            .build_async()
            .await
            .unwrap();
        let guard = lock.acquire().await.unwrap();
        assert_eq!(guard.fencing_token(), Some(4));
        guard.release().await.unwrap();
    });
    let probes: u64 = nodes
        .iter()
        .map(|node| node.command_calls("command|info"))
        .sum();
    assert!(probes >= 1, "Auto mode asked");
}
