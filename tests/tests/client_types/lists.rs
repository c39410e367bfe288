//! `RedisList`, `RedisDeque` and `RedisQueue` against real servers: each type against its std
//! counterpart on random operation sequences, the stored layout, concurrency, blocking `get`,
//! and key ownership. The model tests are generic over the face: `aio_lists` runs them on the
//! async types.

use pottery::{containers, Error, RedisDeque, RedisList, RedisQueue};
use pottery_tests::{Server, Wait};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Strings that stress the JSON layer: empty, quotes, escapes, unicode and astral characters.
fn element() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\"quoted\" \\ back".to_owned()),
        Just("é ☕ 🦀 \u{7f}\n".to_owned()),
        "[a-e]{1,3}",
        any::<String>(),
    ]
}

/// Small indices, the extremes, and two that a server reading 32 bits takes for 0 and -1.
fn index() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => -8i64..8,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just(1 << 32),
        1 => Just(-(1 << 32) - 1),
    ]
}

fn absolute(index: i64, len: usize) -> Option<usize> {
    let index = i128::from(index);
    let at = if index < 0 {
        index + len as i128
    } else {
        index
    };
    (0..len as i128).contains(&at).then_some(at as usize)
}

fn clamped(index: i64, len: usize) -> usize {
    let index = i128::from(index);
    let at = if index < 0 {
        index + len as i128
    } else {
        index
    };
    at.clamp(0, len as i128) as usize
}

#[derive(Debug, Clone)]
enum ListOperation {
    Push(String),
    Pop,
    Insert(i64, String),
    Remove(i64),
    Get(i64),
    Set(i64, String),
    Slice(i64, i64),
    SetSlice(i64, i64, Vec<String>),
    Extend(Vec<String>),
    Contains(String),
    Position(String),
    Sort,
    Clear,
}

fn list_operation() -> impl Strategy<Value = ListOperation> {
    let values = || proptest::collection::vec(element(), 0..4);
    prop_oneof![
        3 => element().prop_map(ListOperation::Push),
        1 => Just(ListOperation::Pop),
        3 => (index(), element()).prop_map(|(i, v)| ListOperation::Insert(i, v)),
        2 => index().prop_map(ListOperation::Remove),
        2 => index().prop_map(ListOperation::Get),
        2 => (index(), element()).prop_map(|(i, v)| ListOperation::Set(i, v)),
        2 => (index(), index()).prop_map(|(a, b)| ListOperation::Slice(a, b)),
        2 => (index(), index(), values()).prop_map(|(a, b, v)| ListOperation::SetSlice(a, b, v)),
        1 => values().prop_map(ListOperation::Extend),
        1 => element().prop_map(ListOperation::Contains),
        1 => element().prop_map(ListOperation::Position),
        1 => Just(ListOperation::Sort),
        1 => Just(ListOperation::Clear),
    ]
}

/// Runs one operation on the `RedisList` (of either face) and on a `Vec` with Python's index
/// rules.
fn run_list<F: Wait>(
    list: &containers::RedisList<String, F>,
    model: &mut Vec<String>,
    operation: &ListOperation,
) -> Result<(), TestCaseError> {
    match operation.clone() {
        ListOperation::Push(value) => {
            F::wait(list.push(&value)).unwrap();
            model.push(value);
        }
        ListOperation::Pop => prop_assert_eq!(F::wait(list.pop()).unwrap(), model.pop()),
        ListOperation::Insert(index, value) => {
            let len = F::wait(list.insert(index, &value)).unwrap();
            model.insert(clamped(index, model.len()), value);
            prop_assert_eq!(len, model.len());
        }
        ListOperation::Remove(index) => {
            let expected = absolute(index, model.len()).map(|at| model.remove(at));
            prop_assert_eq!(F::wait(list.remove(index)).unwrap(), expected);
        }
        ListOperation::Get(index) => {
            let expected = absolute(index, model.len()).map(|at| model[at].clone());
            prop_assert_eq!(F::wait(list.get(index)).unwrap(), expected);
        }
        ListOperation::Set(index, value) => match absolute(index, model.len()) {
            Some(at) => {
                F::wait(list.set(index, &value)).unwrap();
                model[at] = value;
            }
            None => {
                let refused = matches!(
                    F::wait(list.set(index, &value)),
                    Err(Error::IndexOutOfRange { index: i }) if i == index
                );
                prop_assert!(refused, "set({}) out of range must fail", index);
            }
        },
        ListOperation::Slice(start, stop) => {
            let (low, high) = (clamped(start, model.len()), clamped(stop, model.len()));
            let expected = model[low..high.max(low)].to_vec();
            prop_assert_eq!(F::wait(list.slice(start, stop)).unwrap(), expected);
        }
        ListOperation::SetSlice(start, stop, values) => {
            let len = F::wait(list.set_slice(start, stop, &values)).unwrap();
            let low = clamped(start, model.len());
            let high = clamped(stop, model.len()).max(low);
            model.splice(low..high, values);
            prop_assert_eq!(len, model.len());
        }
        ListOperation::Extend(values) => {
            F::wait(list.extend(values.clone())).unwrap();
            model.extend(values);
        }
        ListOperation::Contains(value) => {
            prop_assert_eq!(
                F::wait(list.contains(&value)).unwrap(),
                model.contains(&value)
            )
        }
        ListOperation::Position(value) => prop_assert_eq!(
            F::wait(list.position(&value)).unwrap(),
            model.iter().position(|item| *item == value)
        ),
        ListOperation::Sort => {
            F::wait(list.sort()).unwrap();
            model.sort();
        }
        ListOperation::Clear => {
            F::wait(list.clear()).unwrap();
            model.clear();
        }
    }
    prop_assert_eq!(F::wait(list.len()).unwrap(), model.len());
    prop_assert_eq!(&F::wait(list.to_vec()).unwrap(), model);
    Ok(())
}

#[test]
fn list_matches_vec_on_random_operations() {
    let server = Server::start();
    let list: RedisList<String> = RedisList::open(server.url(), "model").unwrap();
    list_matches_vec(&list);
}

/// The model test of a list of either face: random operations on it and on a `Vec`, compared
/// after each one, then the whole list iterated.
pub(crate) fn list_matches_vec<F: Wait>(list: &containers::RedisList<String, F>) {
    runner(120)
        .run(
            &proptest::collection::vec(list_operation(), 1..30),
            |operations| {
                F::wait(list.clear()).unwrap();
                let mut model = Vec::new();
                for operation in &operations {
                    run_list(list, &mut model, operation)?;
                }
                prop_assert_eq!(F::collect(list.iter()).unwrap(), model);
                Ok(())
            },
        )
        .unwrap();
}

#[derive(Debug, Clone)]
enum DequeOperation {
    PushBack(String),
    PushFront(String),
    PopBack,
    PopFront,
    Extend(Vec<String>),
    ExtendLeft(Vec<String>),
    Rotate(i64),
    Front,
    Back,
    Get(i64),
}

fn deque_operation() -> impl Strategy<Value = DequeOperation> {
    let values = || proptest::collection::vec(element(), 0..5);
    prop_oneof![
        2 => element().prop_map(DequeOperation::PushBack),
        2 => element().prop_map(DequeOperation::PushFront),
        1 => Just(DequeOperation::PopBack),
        1 => Just(DequeOperation::PopFront),
        1 => values().prop_map(DequeOperation::Extend),
        1 => values().prop_map(DequeOperation::ExtendLeft),
        2 => prop_oneof![-20i64..20, Just(i64::MIN), Just(i64::MAX)].prop_map(DequeOperation::Rotate),
        1 => Just(DequeOperation::Front),
        1 => Just(DequeOperation::Back),
        1 => index().prop_map(DequeOperation::Get),
    ]
}

/// Python's bounded deque on a `VecDeque`: each push drops from the other end past `maxlen`.
fn bounded_push(model: &mut VecDeque<String>, maxlen: Option<usize>, value: String, front: bool) {
    if front {
        model.push_front(value);
    } else {
        model.push_back(value);
    }
    while maxlen.is_some_and(|bound| model.len() > bound) {
        if front {
            model.pop_back();
        } else {
            model.pop_front();
        }
    }
}

fn run_deque<F: Wait>(
    deque: &containers::RedisDeque<String, F>,
    model: &mut VecDeque<String>,
    operation: &DequeOperation,
) -> Result<(), TestCaseError> {
    let maxlen = deque.maxlen();
    match operation.clone() {
        DequeOperation::PushBack(value) => {
            F::wait(deque.push_back(&value)).unwrap();
            bounded_push(model, maxlen, value, false);
        }
        DequeOperation::PushFront(value) => {
            F::wait(deque.push_front(&value)).unwrap();
            bounded_push(model, maxlen, value, true);
        }
        DequeOperation::PopBack => {
            prop_assert_eq!(F::wait(deque.pop_back()).unwrap(), model.pop_back())
        }
        DequeOperation::PopFront => {
            prop_assert_eq!(F::wait(deque.pop_front()).unwrap(), model.pop_front())
        }
        DequeOperation::Extend(values) => {
            F::wait(deque.extend(values.clone())).unwrap();
            for value in values {
                bounded_push(model, maxlen, value, false);
            }
        }
        DequeOperation::ExtendLeft(values) => {
            F::wait(deque.extend_left(values.clone())).unwrap();
            for value in values {
                bounded_push(model, maxlen, value, true);
            }
        }
        DequeOperation::Rotate(n) => {
            let len = F::wait(deque.rotate(n)).unwrap();
            if !model.is_empty() {
                let k = i128::from(n).rem_euclid(model.len() as i128) as usize;
                model.rotate_right(k);
            }
            prop_assert_eq!(len, model.len());
        }
        DequeOperation::Front => {
            prop_assert_eq!(F::wait(deque.front()).unwrap(), model.front().cloned())
        }
        DequeOperation::Back => {
            prop_assert_eq!(F::wait(deque.back()).unwrap(), model.back().cloned())
        }
        DequeOperation::Get(index) => {
            let expected = absolute(index, model.len()).map(|at| model[at].clone());
            prop_assert_eq!(F::wait(deque.get(index)).unwrap(), expected);
        }
    }
    prop_assert_eq!(F::wait(deque.len()).unwrap(), model.len());
    prop_assert_eq!(F::wait(deque.to_vec()).unwrap(), Vec::from(model.clone()));
    Ok(())
}

#[test]
fn deque_matches_vecdeque_on_random_operations() {
    let server = Server::start();
    deque_matches_vecdeque(|| RedisDeque::<String>::open(server.url(), "model").unwrap());
}

/// The model test of deques of either face, opened by `open` and bounded or not: random
/// operations on one and on a `VecDeque` bounded as Python's, compared after each one.
pub(crate) fn deque_matches_vecdeque<F: Wait>(
    open: impl Fn() -> containers::RedisDeque<String, F>,
) {
    let strategy = (
        proptest::option::of(0usize..6),
        proptest::collection::vec(deque_operation(), 1..30),
    );
    runner(150)
        .run(&strategy, |(maxlen, operations)| {
            let mut deque = open();
            if let Some(bound) = maxlen {
                deque = deque.with_maxlen(bound);
            }
            F::wait(deque.clear()).unwrap();
            let mut model = VecDeque::new();
            for operation in &operations {
                run_deque(&deque, &mut model, operation)?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn elements_are_stored_as_python_json() {
    let server = Server::start();
    let strings: RedisList<String> = RedisList::open(server.url(), "l").unwrap();
    strings.push("a").unwrap();
    // One Redis list may hold JSON of any shape, as Python lists do.
    let floats: RedisList<f64> = RedisList::open(server.url(), "l").unwrap();
    floats.push(&1.0).unwrap();
    strings.push("é🦀").unwrap();
    let stored: Vec<Vec<u8>> = server.cmd(&["LRANGE", "l", "0", "-1"]).unwrap();
    assert_eq!(
        stored,
        [
            b"\"a\"".to_vec(),
            b"1.0".to_vec(),
            br#""\u00e9\ud83e\udd80""#.to_vec()
        ]
    );
    let deque: RedisDeque<(i32, bool)> = RedisDeque::open(server.url(), "d").unwrap();
    deque.extend_left([(1, true), (2, false)]).unwrap();
    let stored: Vec<String> = server.cmd(&["LRANGE", "d", "0", "-1"]).unwrap();
    assert_eq!(stored, ["[2, false]", "[1, true]"]);
    let queue: RedisQueue<Option<u8>> = RedisQueue::open(server.url(), "q").unwrap();
    queue.put(&None).unwrap();
    let stored: Vec<String> = server.cmd(&["LRANGE", "q", "0", "-1"]).unwrap();
    assert_eq!(stored, ["null"]);
}

#[test]
fn wrong_types_and_undecodable_items_are_typed_errors() {
    let server = Server::start();
    let _: () = server.cmd(&["HSET", "hash", "f", "v"]).unwrap();
    let list: RedisList<String> = RedisList::open(server.url(), "hash").unwrap();
    let wrongtype = list.insert(0, "x").unwrap_err();
    assert!(
        matches!(&wrongtype, Error::Redis(e) if e.code() == Some("WRONGTYPE")),
        "{wrongtype:?}"
    );
    let deque: RedisDeque<String> = RedisDeque::open(server.url(), "hash").unwrap();
    assert!(matches!(deque.rotate(1), Err(Error::Redis(_))));

    let _: () = server.cmd(&["RPUSH", "raw", "not json"]).unwrap();
    let list: RedisList<String> = RedisList::open(server.url(), "raw").unwrap();
    assert!(matches!(list.get(0), Err(Error::Decode(_))));
    let mut iter = list.iter();
    assert!(matches!(iter.next(), Some(Err(Error::Decode(_)))));
    // A number too big for the element type is an error, never a silently rounded value.
    let _: () = server
        .cmd(&["RPUSH", "big", "18446744073709551616"])
        .unwrap();
    let numbers: RedisList<u64> = RedisList::open(server.url(), "big").unwrap();
    assert!(matches!(numbers.get(0), Err(Error::Decode(_))));
}

#[test]
fn iteration_crosses_batches_in_order() {
    let server = Server::start();
    let list = RedisList::from_iter_in(server.url(), 0..2500u32).unwrap();
    let items: Vec<u32> = list.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(items, (0..2500).collect::<Vec<_>>());
    let exactly_one_batch = RedisList::from_iter_in(server.url(), 0..1000u32).unwrap();
    assert_eq!(exactly_one_batch.iter().count(), 1000);
    let empty: RedisList<u32> = RedisList::new(server.url()).unwrap();
    assert_eq!(empty.iter().count(), 0);
}

#[test]
fn concurrent_inserts_through_the_client_lose_nothing() {
    let server = Server::start();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let list: RedisList<String> = RedisList::open(server.url(), "shared").unwrap();
            std::thread::spawn(move || {
                for i in 0..250i64 {
                    list.insert((i * 37 + thread) % 23 - 11, &format!("{thread}:{i}"))
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let list: RedisList<String> = RedisList::open(server.url(), "shared").unwrap();
    let mut stored = list.to_vec().unwrap();
    stored.sort();
    let mut expected: Vec<String> = (0..4)
        .flat_map(|thread| (0..250).map(move |i| format!("{thread}:{i}")))
        .collect();
    expected.sort();
    assert_eq!(stored, expected);
}

#[test]
fn concurrent_bounded_pushes_keep_the_bound() {
    let server = Server::start();
    let threads: Vec<_> = (0..4u32)
        .map(|thread| {
            let deque: RedisDeque<u32> = RedisDeque::open(server.url(), "capped")
                .unwrap()
                .with_maxlen(50);
            std::thread::spawn(move || {
                for i in 0..200 {
                    if i % 2 == 0 {
                        deque.push_back(&(thread * 1000 + i)).unwrap();
                    } else {
                        deque.push_front(&(thread * 1000 + i)).unwrap();
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let deque: RedisDeque<u32> = RedisDeque::open(server.url(), "capped").unwrap();
    let items: Vec<u32> = (&deque).into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(items.len(), 50);
    let mut unique = items.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 50, "an element was duplicated: {items:?}");
    assert!(items
        .iter()
        .all(|item| item % 1000 < 200 && item / 1000 < 4));
}

#[test]
fn a_consumer_blocked_in_get_wakes_within_milliseconds_of_a_put() {
    let server = Server::start();
    let queue: RedisQueue<u64> = RedisQueue::new(server.url()).unwrap();
    let consumer = queue.clone();
    let waiter = std::thread::spawn(move || {
        let item = consumer.get(Duration::from_secs(30));
        (item, Instant::now())
    });
    // Put only once the consumer is really blocked in BLPOP.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.info_field("clients", "blocked_clients").as_deref() != Some("1") {
        assert!(Instant::now() < deadline, "the consumer never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Other calls through the same queue do not wait behind the blocked get.
    assert_eq!(queue.len().unwrap(), 0);
    let put_at = Instant::now();
    queue.put(&7).unwrap();
    let (item, woke_at) = waiter.join().unwrap();
    assert_eq!(item.unwrap(), Some(7));
    let latency = woke_at.duration_since(put_at);
    // Generous for a loaded 2-core machine; a consumer that polled or waited for its timeout
    // would take seconds.
    assert!(
        latency < Duration::from_millis(500),
        "woke {latency:?} after the put"
    );
}

#[test]
fn queue_is_fifo_and_get_returns_none_when_time_is_up() {
    let server = Server::start();
    let queue: RedisQueue<String> = RedisQueue::open(server.url(), "q").unwrap();
    assert!(queue.is_empty().unwrap());
    for item in ["a", "b", "c"] {
        queue.put(item).unwrap();
    }
    assert_eq!(queue.len().unwrap(), 3);
    assert_eq!(
        queue.get(Duration::from_secs(1)).unwrap().as_deref(),
        Some("a")
    );
    assert_eq!(queue.get_nowait().unwrap().as_deref(), Some("b"));
    assert_eq!(queue.get(Duration::ZERO).unwrap().as_deref(), Some("c"));
    let started = Instant::now();
    assert_eq!(queue.get(Duration::from_millis(200)).unwrap(), None);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Sub-millisecond waits are rounded up, never sent as BLPOP's "forever" 0.
    assert_eq!(queue.get(Duration::from_micros(10)).unwrap(), None);
    assert!(matches!(
        queue.get(Duration::MAX),
        Err(Error::InvalidArgument {
            argument: "timeout",
            ..
        })
    ));
    // Both connections recover after the server restarts: the first call on each may find
    // its socket broken, and the next one reconnects.
    server.kill();
    server.restart();
    let _ = queue.len();
    queue.put("after").unwrap();
    let item = match queue.get(Duration::from_secs(1)) {
        Ok(item) => item,
        Err(_) => queue.get(Duration::from_secs(1)).unwrap(),
    };
    assert_eq!(item.as_deref(), Some("after"));
}

#[test]
fn a_queue_on_an_open_connection_refuses_to_block_it() {
    let server = Server::start();
    let queue: RedisQueue<u8> = RedisQueue::open(server.connection(), "q").unwrap();
    queue.put(&1).unwrap();
    assert_eq!(queue.get_nowait().unwrap(), Some(1));
    assert!(matches!(
        queue.get(Duration::from_millis(10)),
        Err(Error::InvalidArgument {
            argument: "connector",
            ..
        })
    ));
}

#[test]
fn random_keys_live_as_long_as_their_last_handle() {
    let server = Server::start();
    let keys = |server: &Server| -> Vec<String> { server.cmd(&["KEYS", "pottery:*"]).unwrap() };
    let list = RedisList::from_iter_in(server.url(), [1, 2]).unwrap();
    let deque = RedisDeque::from_iter_in(server.url(), [1, 2, 3], Some(2)).unwrap();
    assert_eq!(deque.to_vec().unwrap(), [2, 3]);
    let queue: RedisQueue<i32> = RedisQueue::new(server.url()).unwrap();
    queue.put(&1).unwrap();
    assert_eq!(keys(&server).len(), 3);
    let clone = list.clone();
    drop(list);
    assert_eq!(keys(&server).len(), 3, "a clone still owns the list");
    drop(clone);
    drop(deque);
    drop(queue);
    assert!(keys(&server).is_empty());
    // Named keys stay.
    let named: RedisList<i32> = RedisList::open(server.url(), "pottery:named").unwrap();
    named.push(&1).unwrap();
    drop(named);
    let exists: bool = server.cmd(&["EXISTS", "pottery:named"]).unwrap();
    assert!(exists);
}
