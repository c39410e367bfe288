//! `RedisList` and `RedisDeque` where the module is not used (script mode): the model tests of
//! `lists` on both faces, on a server without the module (found by `Mode::Auto`, or set by
//! `Mode::WithoutModule`); the same operations give the same replies and the same stored
//! bytes in both modes; edge cases and `WRONGTYPE`; a flushed script cache is refilled.

use pottery::{aio, Connector, Error, Mode, RedisDeque, RedisList};
use pottery_tests::{block_on, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::lists::{deque_matches_vecdeque, list_matches_vec};

fn without_module() -> Server {
    Server::builder().without_module().start()
}

#[test]
fn list_matches_vec_without_the_module() {
    let server = without_module();
    let list: RedisList<String> = RedisList::open(server.url(), "model").unwrap();
    list_matches_vec(&list);
    // Auto asked once, then ran scripts.
    assert_eq!(server.command_calls("command|info"), 1);
    assert!(server.command_calls("evalsha") > 0);
}

#[test]
fn deque_matches_vecdeque_without_the_module() {
    let server = without_module();
    deque_matches_vecdeque(|| RedisDeque::<String>::open(server.url(), "model").unwrap());
    assert!(server.command_calls("evalsha") > 0);
}

#[test]
fn async_list_and_deque_match_their_models_in_script_mode() {
    let server = without_module();
    let redis = Connector::from(server.url()).with_mode(Mode::WithoutModule);
    let list: aio::RedisList<String> = aio::RedisList::open(&redis, "model").unwrap();
    list_matches_vec(&list);
    deque_matches_vecdeque(|| aio::RedisDeque::<String>::open(&redis, "deque").unwrap());
    // The mode was set: the server was never asked.
    assert_eq!(server.command_calls("command|info"), 0);
    assert!(server.command_calls("evalsha") > 0);
}

/// The same random operations on long lists through a module connector and a script one
/// give the same replies and leave the same bytes.
#[test]
fn script_mode_and_module_mode_store_identical_data() {
    pottery_tests::requires_module!("it compares script mode with a server that has the module");
    let module = Server::start();
    let plain = without_module();
    let connectors = [
        Connector::from(module.url()).with_mode(Mode::Module),
        Connector::from(plain.url()),
    ];
    let lists = connectors
        .each_ref()
        .map(|connector| RedisList::<u32>::open(connector, "l").unwrap());
    let mut rng = StdRng::seed_from_u64(rand::random());
    let mut next = 0u32;
    let mut scripted = 0;
    for round in 0..300 {
        if round % 100 == 0 {
            let items: Vec<u32> = (0..rng.random_range(900..2600)).collect();
            for list in &lists {
                list.clear().unwrap();
                list.extend(items.clone()).unwrap();
            }
        }
        let len = lists[0].len().unwrap() as i64;
        let mut index = || match rng.random_range(0..8) {
            0 => [i64::MIN, i64::MAX, -1, 0][rng.random_range(0..4)],
            1 => rng.random(),
            _ => rng.random_range(-len - 5..=len + 5),
        };
        let (a, b) = (index(), index());
        let op = rng.random_range(0..6);
        let count = if rng.random_bool(0.1) {
            rng.random_range(900..1600)
        } else {
            rng.random_range(0..4)
        };
        let values: Vec<u32> = (next..next + count).collect();
        next += count + 1;
        let maxlen = rng.random_range(0..3000);
        let replies = connectors.each_ref().map(|connector| {
            let list = RedisList::<u32>::open(connector, "l").unwrap();
            let deque = RedisDeque::<u32>::open(connector, "l")
                .unwrap()
                .with_maxlen(maxlen);
            match op {
                0 => format!("{:?}", list.insert(a, &next)),
                1 => format!("{:?}", list.remove(a)),
                2 => format!("{:?}", list.set_slice(a, b, &values)),
                3 => format!("{:?}", deque.rotate(a)),
                4 => format!("{:?}", deque.extend_left(values.clone())),
                _ => format!("{:?}", deque.extend(values.clone())),
            }
        });
        assert_eq!(replies[0], replies[1], "op {op} ({a}, {b}) on {len}");
        let stored = [&module, &plain]
            .map(|server| -> Vec<Vec<u8>> { server.cmd(&["LRANGE", "l", "0", "-1"]).unwrap() });
        assert_eq!(stored[0], stored[1], "op {op} ({a}, {b}) on {len}");
        scripted += u64::from(op < 4 || count > 0);
    }
    // Every operation that sent anything ran its script, found by one COMMAND INFO.
    assert_eq!(plain.command_calls("evalsha"), scripted);
    assert_eq!(plain.command_calls("command|info"), 1);
}

#[test]
fn edge_cases_in_script_mode() {
    let server = without_module();
    let exists = |key: &str| -> bool { server.cmd(&["EXISTS", key]).unwrap() };
    let list: RedisList<String> = RedisList::open(server.url(), "l").unwrap();
    let deque: RedisDeque<String> = RedisDeque::open(server.url(), "l").unwrap();
    // A missing key: nothing to pop, rotate or delete, and no key is made.
    assert_eq!(list.remove(0).unwrap(), None);
    assert_eq!(list.remove(i64::MIN).unwrap(), None);
    assert_eq!(deque.rotate(i64::MAX).unwrap(), 0);
    assert_eq!(list.set_slice(0, i64::MAX, &[] as &[String]).unwrap(), 0);
    deque.clone().with_maxlen(0).push_back("dropped").unwrap();
    assert!(!exists("l"));
    // Huge indexes clamp as in Python.
    assert_eq!(list.insert(i64::MAX, "b").unwrap(), 1);
    assert_eq!(list.insert(i64::MIN, "a").unwrap(), 2);
    assert_eq!(
        list.set_slice(i64::MAX, i64::MIN, &["c".to_owned()])
            .unwrap(),
        3
    );
    assert_eq!(list.to_vec().unwrap(), ["a", "b", "c"]);
    // Rotations by every i64 are exact (a double would round i64::MAX to 2^63).
    let digits: RedisDeque<u8> = RedisDeque::from_iter_in(server.url(), 0..10, None).unwrap();
    digits.rotate(i64::MAX).unwrap(); // 9223372036854775807 mod 10 = 7
    assert_eq!(digits.to_vec().unwrap(), [3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
    digits.rotate(i64::MIN).unwrap(); // floor modulo: 2
    assert_eq!(digits.to_vec().unwrap(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    // Unicode values, and maxlen 0 deletes an existing deque.
    let bounded = deque.clone().with_maxlen(2);
    bounded
        .extend_left(["é".to_owned(), "🦀".to_owned(), "日本".to_owned()])
        .unwrap();
    assert_eq!(bounded.to_vec().unwrap(), ["日本", "🦀"]);
    let stored: Vec<Vec<u8>> = server.cmd(&["LRANGE", "l", "0", "-1"]).unwrap();
    assert_eq!(
        stored,
        [br#""\u65e5\u672c""#.to_vec(), br#""\ud83e\udd80""#.to_vec()]
    );
    deque
        .clone()
        .with_maxlen(0)
        .extend(["x".to_owned()])
        .unwrap();
    assert!(!exists("l"));
    // Popping and slicing the last element away deletes the key too; a TTL survives the rest.
    list.extend(["a".to_owned(), "b".to_owned(), "c".to_owned()])
        .unwrap();
    let _: () = server.cmd(&["PEXPIRE", "l", "600000"]).unwrap();
    assert_eq!(list.insert(1, "x").unwrap(), 4);
    assert_eq!(list.remove(2).unwrap().as_deref(), Some("b"));
    assert_eq!(deque.rotate(1).unwrap(), 3);
    assert_eq!(list.set_slice(0, 3, &["only".to_owned()]).unwrap(), 1);
    let ttl: i64 = server.cmd(&["PTTL", "l"]).unwrap();
    assert!(ttl > 0, "the TTL was lost: {ttl}");
    assert_eq!(list.remove(-1).unwrap().as_deref(), Some("only"));
    assert!(!exists("l"));
}

#[test]
fn wrong_types_are_the_module_s_errors_in_script_mode() {
    pottery_tests::requires_module!("it compares the scripts' errors with the module's");
    let module = Server::start();
    let plain = without_module();
    let mut texts = Vec::new();
    for (server, mode) in [(&module, Mode::Module), (&plain, Mode::Auto)] {
        let _: () = server.cmd(&["HSET", "hash", "f", "v"]).unwrap();
        let redis = Connector::from(server.url()).with_mode(mode);
        let list: RedisList<String> = RedisList::open(&redis, "hash").unwrap();
        let deque: RedisDeque<String> = RedisDeque::open(&redis, "hash").unwrap().with_maxlen(0);
        let errors = [
            list.insert(0, "x").map(drop),
            list.remove(0).map(drop),
            list.set_slice(0, 0, &[] as &[String]).map(drop),
            deque.rotate(1).map(drop),
            deque.push_front("x"),
        ];
        for error in errors {
            match error {
                Err(Error::Redis(error)) => {
                    assert_eq!(error.code(), Some("WRONGTYPE"), "{error:?}");
                    texts.push(pottery_tests::error_text(&error));
                }
                other => panic!("{mode:?}: {other:?}"),
            }
        }
        let kind: String = server.cmd(&["TYPE", "hash"]).unwrap();
        assert_eq!(kind, "hash");
    }
    let (on_module, on_plain) = texts.split_at(5);
    assert_eq!(on_plain, on_module);
}

#[test]
fn a_flushed_script_cache_is_refilled_on_both_faces() {
    let server = without_module();
    let list: RedisList<u8> = RedisList::open(server.url(), "l").unwrap();
    let asynchronous: aio::RedisDeque<u8> = aio::RedisDeque::open(server.url(), "d").unwrap();
    assert_eq!(list.insert(0, &1).unwrap(), 1);
    let loads = server.command_calls("eval");
    let _: () = server.cmd(&["SCRIPT", "FLUSH"]).unwrap();
    assert_eq!(list.insert(0, &2).unwrap(), 2);
    assert_eq!(server.command_calls("eval"), loads + 1, "reloaded once");
    assert_eq!(list.insert(0, &3).unwrap(), 3);
    assert_eq!(server.command_calls("eval"), loads + 1, "then run by hash");
    block_on(async {
        asynchronous.extend([1, 2, 3]).await.unwrap();
        assert_eq!(asynchronous.rotate(1).await.unwrap(), 3);
        let _: () = server.cmd(&["SCRIPT", "FLUSH"]).unwrap();
        assert_eq!(asynchronous.rotate(1).await.unwrap(), 3);
        assert_eq!(asynchronous.to_vec().await.unwrap(), [2, 3, 1]);
    });
    assert_eq!(list.to_vec().unwrap(), [3, 2, 1]);
}

/// On a cluster each script runs on its key's master (it declares its one key), and a master
/// whose script cache was flushed gets the script again.
#[test]
fn scripts_run_on_every_master_of_a_cluster() {
    let nodes = pottery_tests::start_cluster(3);
    let redis = Connector::cluster(nodes.iter().map(Server::url))
        .unwrap()
        .with_mode(Mode::WithoutModule);
    let mut loads = Vec::new();
    for round in 0..2 {
        for n in 0..24 {
            let key = format!("list:{n}");
            let list: RedisList<i32> = RedisList::open(&redis, &key).unwrap();
            list.clear().unwrap();
            list.extend([5, 3, 9]).unwrap();
            assert_eq!(list.insert(1, &7).unwrap(), 4);
            assert_eq!(list.remove(0).unwrap(), Some(5));
            assert_eq!(list.set_slice(0, 1, &[1, 2]).unwrap(), 4);
            let deque: RedisDeque<i32> = RedisDeque::open(&redis, &key).unwrap().with_maxlen(3);
            deque.push_back(&4).unwrap();
            assert_eq!(deque.rotate(1).unwrap(), 3);
            assert_eq!(list.to_vec().unwrap(), [4, 3, 9]);
        }
        if round == 0 {
            loads = nodes
                .iter()
                .map(|node| node.command_calls("eval"))
                .collect();
            for node in &nodes {
                let _: () = node.cmd(&["SCRIPT", "FLUSH"]).unwrap();
            }
        }
    }
    for (node, loaded) in nodes.iter().zip(loads) {
        assert!(
            node.command_calls("evalsha") > 0,
            "no script ran on {}",
            node.url()
        );
        // Each of the 5 scripts sent whole once before the flush and once after.
        assert_eq!(
            (loaded, node.command_calls("eval")),
            (5, 10),
            "{}",
            node.url()
        );
    }
}

/// Redis replicates a script's effects: a replica (and an AOF reload) of a server without the
/// module holds the very bytes and TTL the scripts left, never their transient mark.
#[test]
fn a_replica_and_an_aof_reload_hold_what_the_scripts_wrote() {
    let master = Server::builder()
        .without_module()
        .aof(true)
        .fsync_always(true)
        .start();
    let replica = without_module();
    replica.replicate_from(&master);
    let list: RedisList<u32> = RedisList::open(master.url(), "l").unwrap();
    list.extend(0..100).unwrap();
    let _: () = master.cmd(&["PEXPIRE", "l", "600000"]).unwrap();
    let mut model: Vec<u32> = (0..100).collect();
    for i in 0..50u32 {
        let at = (i * 37 % 90) as usize;
        list.insert(at as i64, &(1000 + i)).unwrap();
        model.insert(at, 1000 + i);
        let at = (i * 53 % 80) as usize + 10;
        assert_eq!(list.remove(at as i64).unwrap(), Some(model.remove(at)));
    }
    let deque: RedisDeque<u32> = RedisDeque::open(master.url(), "l").unwrap().with_maxlen(90);
    deque.rotate(40).unwrap();
    model.rotate_right(40);
    deque.push_front(&7).unwrap();
    model.insert(0, 7);
    model.truncate(90);
    assert_eq!(list.set_slice(20, 30, &[1, 2]).unwrap(), 82);
    model.splice(20..30, [1, 2]);
    pottery_tests::wait_for_replication(&master, &replica);
    let read = |server: &Server| -> (Vec<u32>, bool) {
        let items: Vec<String> = server.cmd(&["LRANGE", "l", "0", "-1"]).unwrap();
        let ttl: i64 = server.cmd(&["PTTL", "l"]).unwrap();
        (
            items.iter().map(|item| item.parse().unwrap()).collect(),
            ttl > 0,
        )
    };
    assert_eq!(read(&master), (model.clone(), true));
    assert_eq!(read(&replica), (model.clone(), true));
    master.kill();
    master.restart();
    assert_eq!(read(&master), (model, true));
}
