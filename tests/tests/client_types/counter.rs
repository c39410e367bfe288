//! `RedisCounter` on a real server: the same random operations on a `HashMap` of counts give
//! the same results, concurrent counting loses nothing, and bad stored values are typed errors.

use std::collections::HashMap;
use std::sync::{Arc, Barrier};

use pottery::aio::{self, Tokio};
use pottery::{containers, Blocking, Error, RedisCounter};
use pottery_tests::{Server, Wait};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Debug, Clone)]
enum Operation {
    Get(String),
    Increment(String, i64),
    Insert(String, i64),
    Remove(String),
    ContainsKey(String),
    Len,
    Update(Vec<String>),
    UpdateCounts(Vec<(String, i64)>),
    Subtract(Vec<String>),
    SubtractCounts(Vec<(String, i64)>),
    Total,
    MostCommon(Option<usize>),
    Elements,
    Iterate,
    Plus(Vec<(String, i64)>),
    Minus(Vec<(String, i64)>),
    Union(Vec<(String, i64)>),
    Intersection(Vec<(String, i64)>),
    Clear,
}

fn any_element() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("é".to_owned()),
        Just("🙂".to_owned()),
        "[b-d]"
    ]
}

fn any_counts() -> impl Strategy<Value = Vec<(String, i64)>> {
    proptest::collection::vec((any_element(), -5i64..6), 0..6)
}

fn any_operation() -> impl Strategy<Value = Operation> {
    let elements = || proptest::collection::vec(any_element(), 0..8);
    prop_oneof![
        any_element().prop_map(Operation::Get),
        (any_element(), -10i64..10).prop_map(|(e, d)| Operation::Increment(e, d)),
        (any_element(), -10i64..10).prop_map(|(e, c)| Operation::Insert(e, c)),
        any_element().prop_map(Operation::Remove),
        any_element().prop_map(Operation::ContainsKey),
        Just(Operation::Len),
        elements().prop_map(Operation::Update),
        any_counts().prop_map(Operation::UpdateCounts),
        elements().prop_map(Operation::Subtract),
        any_counts().prop_map(Operation::SubtractCounts),
        Just(Operation::Total),
        proptest::option::of(0usize..4).prop_map(Operation::MostCommon),
        Just(Operation::Elements),
        Just(Operation::Iterate),
        any_counts().prop_map(Operation::Plus),
        any_counts().prop_map(Operation::Minus),
        any_counts().prop_map(Operation::Union),
        any_counts().prop_map(Operation::Intersection),
        Just(Operation::Clear),
    ]
}

/// Python's Counter operators: combine every element's counts, keep the positive results.
fn combine(
    model: &HashMap<String, i64>,
    other: &HashMap<String, i64>,
    operation: impl Fn(i64, i64) -> i64,
) -> HashMap<String, i64> {
    model
        .keys()
        .chain(other.keys())
        .map(|e| {
            (
                e.clone(),
                operation(
                    model.get(e).copied().unwrap_or(0),
                    other.get(e).copied().unwrap_or(0),
                ),
            )
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

fn add(model: &mut HashMap<String, i64>, counts: Vec<(String, i64)>, sign: i64) {
    for (element, count) in counts {
        *model.entry(element).or_insert(0) += sign * count;
    }
}

fn to_map(counts: Vec<(String, i64)>) -> HashMap<String, i64> {
    let mut map = HashMap::new();
    add(&mut map, counts, 1);
    map
}

/// Runs random operations on counters made by `make` (a fresh one for each case) and on a
/// `HashMap` of counts.
fn run_model<F: Wait>(make: &dyn Fn() -> containers::RedisCounter<String, F>, cases: u32) {
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let strategy = proptest::collection::vec(any_operation(), 1..40);
    runner
        .run(&strategy, |operations| {
            let counter = make();
            let mut model: HashMap<String, i64> = HashMap::new();
            for operation in operations {
                match operation {
                    Operation::Get(e) => prop_assert_eq!(
                        F::wait(counter.get(&e)).unwrap(),
                        model.get(&e).copied().unwrap_or(0)
                    ),
                    Operation::Increment(e, d) => {
                        let count = model.entry(e.clone()).or_insert(0);
                        *count += d;
                        prop_assert_eq!(F::wait(counter.increment(&e, d)).unwrap(), *count);
                    }
                    Operation::Insert(e, c) => {
                        F::wait(counter.insert(&e, c)).unwrap();
                        model.insert(e, c);
                    }
                    Operation::Remove(e) => {
                        prop_assert_eq!(F::wait(counter.remove(&e)).unwrap(), model.remove(&e))
                    }
                    Operation::ContainsKey(e) => {
                        prop_assert_eq!(
                            F::wait(counter.contains_key(&e)).unwrap(),
                            model.contains_key(&e)
                        )
                    }
                    Operation::Len => {
                        prop_assert_eq!(F::wait(counter.len()).unwrap(), model.len());
                        prop_assert_eq!(F::wait(counter.is_empty()).unwrap(), model.is_empty());
                    }
                    Operation::Update(elements) => {
                        F::wait(counter.update(elements.clone())).unwrap();
                        add(
                            &mut model,
                            elements.into_iter().map(|e| (e, 1)).collect(),
                            1,
                        );
                    }
                    Operation::UpdateCounts(counts) => {
                        F::wait(counter.update_counts(counts.clone())).unwrap();
                        add(&mut model, counts, 1);
                    }
                    Operation::Subtract(elements) => {
                        F::wait(counter.subtract(elements.clone())).unwrap();
                        add(
                            &mut model,
                            elements.into_iter().map(|e| (e, 1)).collect(),
                            -1,
                        );
                    }
                    Operation::SubtractCounts(counts) => {
                        F::wait(counter.subtract_counts(counts.clone())).unwrap();
                        add(&mut model, counts, -1);
                    }
                    Operation::Total => {
                        prop_assert_eq!(
                            F::wait(counter.total()).unwrap(),
                            model.values().sum::<i64>()
                        )
                    }
                    Operation::MostCommon(n) => {
                        let ours = F::wait(counter.most_common(n)).unwrap();
                        let mut expected: Vec<i64> = model.values().copied().collect();
                        expected.sort_unstable_by(|a, b| b.cmp(a));
                        expected.truncate(n.unwrap_or(usize::MAX));
                        prop_assert_eq!(ours.iter().map(|(_, c)| *c).collect::<Vec<_>>(), expected);
                        for (element, count) in ours {
                            prop_assert_eq!(model.get(&element).copied(), Some(count));
                        }
                    }
                    Operation::Elements => {
                        let mut ours = F::wait(counter.elements()).unwrap();
                        ours.sort();
                        let mut expected: Vec<String> = model
                            .iter()
                            .flat_map(|(e, c)| {
                                std::iter::repeat_n(e.clone(), usize::try_from(*c).unwrap_or(0))
                            })
                            .collect();
                        expected.sort();
                        prop_assert_eq!(ours, expected);
                    }
                    Operation::Iterate => {
                        let ours: HashMap<String, i64> =
                            F::collect(counter.iter()).unwrap().into_iter().collect();
                        prop_assert_eq!(&ours, &model);
                    }
                    Operation::Plus(other) => {
                        let other = to_map(other);
                        prop_assert_eq!(
                            F::wait(counter.plus(&other)).unwrap(),
                            combine(&model, &other, |a, b| a + b)
                        );
                    }
                    Operation::Minus(other) => {
                        let other = to_map(other);
                        prop_assert_eq!(
                            F::wait(counter.minus(&other)).unwrap(),
                            combine(&model, &other, |a, b| a - b)
                        );
                    }
                    Operation::Union(other) => {
                        let other = to_map(other);
                        prop_assert_eq!(
                            F::wait(counter.union(&other)).unwrap(),
                            combine(&model, &other, i64::max)
                        );
                    }
                    Operation::Intersection(other) => {
                        let other = to_map(other);
                        prop_assert_eq!(
                            F::wait(counter.intersection(&other)).unwrap(),
                            combine(&model, &other, i64::min)
                        );
                    }
                    Operation::Clear => {
                        F::wait(counter.clear()).unwrap();
                        model.clear();
                    }
                }
            }
            prop_assert_eq!(F::wait(counter.to_hashmap()).unwrap(), model);
            Ok(())
        })
        .unwrap();
}

/// The model test of a face: `open` makes a counter at a new random key of a server.
fn behaves_like_a_hashmap_of_counts_on<F: Wait>(
    open: fn(&str) -> containers::RedisCounter<String, F>,
) {
    let server = Server::start();
    let url = server.url();
    run_model::<F>(&|| open(&url), 64);
    let left: i64 = server.cmd(&["DBSIZE"]).unwrap();
    assert_eq!(left, 0, "random keys are deleted with their counters");
}

#[test]
fn behaves_like_a_hashmap_of_counts_on_random_operations() {
    behaves_like_a_hashmap_of_counts_on::<Blocking>(|url| RedisCounter::new(url).expect("counter"));
}

#[test]
fn the_async_counter_behaves_like_a_hashmap_of_counts_on_random_operations() {
    behaves_like_a_hashmap_of_counts_on::<Tokio>(|url| {
        aio::RedisCounter::new(url).expect("counter")
    });
}

#[test]
fn four_clients_counting_a_thousand_times_each_lose_nothing() {
    let server = Server::start();
    let clients = 4;
    let increments = 1000;
    let barrier = Arc::new(Barrier::new(clients));
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let url = server.url();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let counter: RedisCounter<String> = RedisCounter::open(url, "hits").unwrap();
                barrier.wait();
                for round in 0..increments {
                    if round % 2 == 0 {
                        counter.increment("page", 1).unwrap();
                    } else {
                        // Multi-element updates are atomic too.
                        counter
                            .update(["page".to_owned(), format!("worker {worker}")])
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let counter: RedisCounter<String> = RedisCounter::open(server.url(), "hits").unwrap();
    assert_eq!(counter.get("page").unwrap(), 4000);
    assert_eq!(counter.total().unwrap(), 4000 + 4 * 500);
    let raw: Option<String> = server.cmd(&["HGET", "hits", "\"page\""]).unwrap();
    assert_eq!(raw.as_deref(), Some("4000"));
}

#[test]
fn non_integer_counts_and_overflow_are_typed_errors() {
    typed_errors_on::<Blocking>(|url, key| RedisCounter::open(url, key).unwrap());
}

#[test]
fn the_async_counter_has_the_same_typed_errors() {
    typed_errors_on::<Tokio>(|url, key| aio::RedisCounter::open(url, key).unwrap());
}

/// Bad stored values and overflows on a face: `open` attaches a counter to a key of a server.
fn typed_errors_on<F: Wait>(open: fn(&str, &str) -> containers::RedisCounter<String, F>) {
    let server = Server::start();
    let _: () = server
        .cmd(&[
            "HSET",
            "c",
            "\"float\"",
            "1.0",
            "\"huge\"",
            "100000000000000000000",
            "\"max\"",
            "9223372036854775807",
        ])
        .unwrap();
    let counter = open(&server.url(), "c");
    assert!(matches!(
        F::wait(counter.get("float")),
        Err(Error::NotAnInteger)
    ));
    assert!(matches!(
        F::wait(counter.get("huge")),
        Err(Error::NotAnInteger)
    ));
    assert!(matches!(
        F::wait(counter.increment("float", 1)),
        Err(Error::NotAnInteger)
    ));
    assert!(matches!(
        F::wait(counter.increment("max", 1)),
        Err(Error::Overflow)
    ));
    // Inside MULTI/EXEC too: the refused increment is the call's error.
    assert!(matches!(
        F::wait(counter.update_counts([("max".to_owned(), 1)])),
        Err(Error::Overflow)
    ));
    assert_eq!(
        F::wait(counter.get("max")).unwrap(),
        i64::MAX,
        "a refused increment changes nothing"
    );
    assert!(matches!(
        F::wait(counter.update_counts([("x".to_owned(), i64::MAX), ("x".to_owned(), 1)])),
        Err(Error::Overflow)
    ));
    assert!(matches!(
        F::wait(counter.subtract_counts([("x".to_owned(), i64::MIN)])),
        Err(Error::Overflow)
    ));
    assert!(matches!(F::wait(counter.total()), Err(Error::NotAnInteger)));
    let _: () = server.cmd(&["SET", "string", "x"]).unwrap();
    let wrong = open(&server.url(), "string");
    assert!(
        matches!(F::wait(wrong.increment("a", 1)), Err(Error::Redis(e)) if e.code() == Some("WRONGTYPE"))
    );
}
