//! The client over connections that speak RESP3 (`?protocol=resp3`): maps, sets and booleans
//! in replies decode as their RESP2 shapes do, so every type gives the same results.

use std::collections::{HashMap, HashSet};

use pottery::{
    BloomFilter, Connector, HyperLogLog, RedisCounter, RedisDeque, RedisDict, RedisList, RedisSet,
};
use pottery_tests::Server;

fn over_resp3(server: &Server) -> Connector {
    Connector::from(format!("{}?protocol=resp3", server.url()))
}

#[test]
fn containers_read_resp3_maps_sets_and_booleans() {
    let server = Server::start();
    let redis = over_resp3(&server);

    let dict: RedisDict<String, i64> = RedisDict::open(&redis, "dict").unwrap();
    dict.extend([("a".to_owned(), 1), ("b".to_owned(), 2)])
        .unwrap();
    assert_eq!(dict.insert("a", &3).unwrap(), Some(1)); // MULTI/EXEC
    assert_eq!(
        dict.to_hashmap().unwrap(), // HGETALL: a map in RESP3
        HashMap::from([("a".to_owned(), 3), ("b".to_owned(), 2)])
    );
    let mut entries: Vec<(String, i64)> = dict.iter().collect::<Result<_, _>>().unwrap();
    entries.sort();
    assert_eq!(entries, [("a".to_owned(), 3), ("b".to_owned(), 2)]);

    let set: RedisSet<u32> = RedisSet::open(&redis, "set").unwrap();
    set.extend([1, 2, 3]).unwrap();
    let other: RedisSet<u32> = RedisSet::open(&redis, "other").unwrap();
    other.extend([3, 4]).unwrap();
    assert_eq!(set.to_hashset().unwrap(), HashSet::from([1, 2, 3])); // SMEMBERS: a set
    assert_eq!(set.union(&[&other]).unwrap(), HashSet::from([1, 2, 3, 4]));
    assert_eq!(set.contains_many([&1, &9]).unwrap(), [true, false]);

    let counter: RedisCounter<String> = RedisCounter::open(&redis, "counter").unwrap();
    counter
        .update("a b a c a".split(' ').map(str::to_owned))
        .unwrap();
    assert_eq!(counter.most_common(Some(1)).unwrap(), [("a".to_owned(), 3)]);
    assert_eq!(counter.total().unwrap(), 5);

    let list: RedisList<String> = RedisList::open(&redis, "list").unwrap();
    list.extend(["x", "y", "z"].map(String::from)).unwrap();
    list.insert(1, "w").unwrap();
    assert_eq!(list.pop().unwrap().as_deref(), Some("z"));
    assert_eq!(list.to_vec().unwrap(), ["x", "w", "y"]);
    let deque: RedisDeque<u32> = RedisDeque::open(&redis, "deque").unwrap();
    deque.extend([1, 2, 3]).unwrap();
    deque.rotate(1).unwrap();
    assert_eq!(deque.to_vec().unwrap(), [3, 1, 2]);
}

#[test]
fn bloom_filters_read_resp3_booleans_and_the_info_map() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let redis = over_resp3(&server);
    let filter: BloomFilter<String> = BloomFilter::open(&redis, "filter", 1000, 0.01).unwrap();
    assert!(filter.add("a").unwrap()); // a RESP3 boolean
    assert!(!filter.add("a").unwrap());
    assert_eq!(filter.extend(["b", "c"].map(String::from)).unwrap(), 2);
    assert_eq!(filter.contains_many(["a", "zz"]).unwrap(), [true, false]);
    let info = filter.info().unwrap().expect("the filter exists"); // a RESP3 map
    assert_eq!((info.capacity, info.items, info.filters), (1000, 3, 1));
    assert_eq!(info.expansion, Some(2));
}

#[test]
fn hyperloglogs_read_resp3_booleans() {
    let server = Server::start();
    let redis = over_resp3(&server);
    let hll: HyperLogLog<String> = HyperLogLog::open(&redis, "hll").unwrap();
    assert!(hll.add("a").unwrap());
    assert!(hll.contains("a").unwrap());
    assert_eq!(hll.len().unwrap(), 1);
}
