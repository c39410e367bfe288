//! `RedisSet` on a real server: the same random operations on a `HashSet` give the same
//! results, set algebra agrees with std on one server and across two.

use std::collections::HashSet;

use pottery::aio::{self, Tokio};
use pottery::{containers, Blocking, Error, RedisSet};
use pottery_tests::{Server, Wait};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[derive(Debug, Clone)]
enum Operation {
    Insert(String),
    Remove(String),
    Contains(String),
    ContainsMany(Vec<String>),
    Len,
    Pop,
    Extend(Vec<String>),
    Clear,
    Iterate,
    /// Replaces the second set's contents, to vary the algebra's operands.
    FillOther(Vec<String>),
    Union,
    Intersection,
    Difference,
    SymmetricDifference,
    UnionUpdate,
    IntersectionUpdate,
    DifferenceUpdate,
    SymmetricDifferenceUpdate,
}

fn any_element() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("1".to_owned()),
        Just("ü".to_owned()),
        Just("𝄞\u{7f}".to_owned()),
        "[a-d]{1,2}",
    ]
}

fn any_operation() -> impl Strategy<Value = Operation> {
    let elements = || proptest::collection::vec(any_element(), 0..6);
    prop_oneof![
        any_element().prop_map(Operation::Insert),
        any_element().prop_map(Operation::Remove),
        any_element().prop_map(Operation::Contains),
        elements().prop_map(Operation::ContainsMany),
        Just(Operation::Len),
        Just(Operation::Pop),
        elements().prop_map(Operation::Extend),
        Just(Operation::Clear),
        Just(Operation::Iterate),
        elements().prop_map(Operation::FillOther),
        Just(Operation::Union),
        Just(Operation::Intersection),
        Just(Operation::Difference),
        Just(Operation::SymmetricDifference),
        Just(Operation::UnionUpdate),
        Just(Operation::IntersectionUpdate),
        Just(Operation::DifferenceUpdate),
        Just(Operation::SymmetricDifferenceUpdate),
    ]
}

/// Runs random operations on two sets made by `make_ours` and `make_other` (fresh ones for
/// each case) and on two `HashSet`s; the other set may live on another server, which moves
/// the algebra into the client.
fn run_model<F: Wait>(
    make_ours: &dyn Fn() -> containers::RedisSet<String, F>,
    make_other: &dyn Fn() -> containers::RedisSet<String, F>,
    cases: u32,
) {
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let strategy = proptest::collection::vec(any_operation(), 1..40);
    runner
        .run(&strategy, |operations| {
            let (set, other) = (make_ours(), make_other());
            let mut model: HashSet<String> = HashSet::new();
            let mut other_model: HashSet<String> = HashSet::new();
            for operation in operations {
                match operation {
                    Operation::Insert(e) => {
                        prop_assert_eq!(F::wait(set.insert(&e)).unwrap(), model.insert(e))
                    }
                    Operation::Remove(e) => {
                        prop_assert_eq!(F::wait(set.remove(&e)).unwrap(), model.remove(&e))
                    }
                    Operation::Contains(e) => {
                        prop_assert_eq!(F::wait(set.contains(&e)).unwrap(), model.contains(&e))
                    }
                    Operation::ContainsMany(elements) => {
                        let expected: Vec<bool> =
                            elements.iter().map(|e| model.contains(e)).collect();
                        prop_assert_eq!(F::wait(set.contains_many(&elements)).unwrap(), expected);
                    }
                    Operation::Len => {
                        prop_assert_eq!(F::wait(set.len()).unwrap(), model.len());
                        prop_assert_eq!(F::wait(set.is_empty()).unwrap(), model.is_empty());
                    }
                    Operation::Pop => match F::wait(set.pop()).unwrap() {
                        Some(element) => prop_assert!(model.remove(&element)),
                        None => prop_assert!(model.is_empty()),
                    },
                    Operation::Extend(elements) => {
                        F::wait(set.extend(elements.clone())).unwrap();
                        model.extend(elements);
                    }
                    Operation::Clear => {
                        F::wait(set.clear()).unwrap();
                        model.clear();
                    }
                    Operation::Iterate => {
                        let ours: HashSet<String> =
                            F::collect(set.iter()).unwrap().into_iter().collect();
                        prop_assert_eq!(&ours, &model);
                    }
                    Operation::FillOther(elements) => {
                        F::wait(other.clear()).unwrap();
                        F::wait(other.extend(elements.clone())).unwrap();
                        other_model = elements.into_iter().collect();
                    }
                    Operation::Union => {
                        prop_assert_eq!(
                            F::wait(set.union(&[&other])).unwrap(),
                            &model | &other_model
                        )
                    }
                    Operation::Intersection => {
                        prop_assert_eq!(
                            F::wait(set.intersection(&[&other])).unwrap(),
                            &model & &other_model
                        )
                    }
                    Operation::Difference => {
                        prop_assert_eq!(
                            F::wait(set.difference(&[&other])).unwrap(),
                            &model - &other_model
                        )
                    }
                    Operation::SymmetricDifference => prop_assert_eq!(
                        F::wait(set.symmetric_difference(&other)).unwrap(),
                        &model ^ &other_model
                    ),
                    Operation::UnionUpdate => {
                        model = &model | &other_model;
                        prop_assert_eq!(F::wait(set.union_update(&[&other])).unwrap(), model.len());
                    }
                    Operation::IntersectionUpdate => {
                        model = &model & &other_model;
                        prop_assert_eq!(
                            F::wait(set.intersection_update(&[&other])).unwrap(),
                            model.len()
                        );
                    }
                    Operation::DifferenceUpdate => {
                        model = &model - &other_model;
                        prop_assert_eq!(
                            F::wait(set.difference_update(&[&other])).unwrap(),
                            model.len()
                        );
                    }
                    Operation::SymmetricDifferenceUpdate => {
                        model = &model ^ &other_model;
                        prop_assert_eq!(
                            F::wait(set.symmetric_difference_update(&other)).unwrap(),
                            model.len()
                        );
                    }
                }
            }
            prop_assert_eq!(F::wait(set.to_hashset()).unwrap(), model);
            prop_assert_eq!(F::wait(other.to_hashset()).unwrap(), other_model);
            Ok(())
        })
        .unwrap();
}

/// Opens a set at a new random key of a server, on one face.
type Opens<F> = fn(&str) -> containers::RedisSet<String, F>;

fn sync_set(url: &str) -> RedisSet<String> {
    RedisSet::new(url).expect("set")
}

fn async_set(url: &str) -> aio::RedisSet<String> {
    aio::RedisSet::new(url).expect("set")
}

/// The model test of a face, with both sets on one server.
fn behaves_like_a_hashset_on<F: Wait>(open: Opens<F>) {
    let server = Server::start();
    let url = server.url();
    run_model::<F>(&|| open(&url), &|| open(&url), 64);
    let left: i64 = server.cmd(&["DBSIZE"]).unwrap();
    assert_eq!(left, 0, "random keys are deleted with their sets");
}

/// The model test of a face, with the other set on another server.
fn algebra_across_two_servers_on<F: Wait>(open: Opens<F>) {
    let servers = Server::start_many(2);
    let (ours, theirs) = (servers[0].url(), servers[1].url());
    run_model::<F>(&|| open(&ours), &|| open(&theirs), 24);
}

#[test]
fn behaves_like_a_hashset_on_one_server() {
    behaves_like_a_hashset_on::<Blocking>(sync_set);
}

#[test]
fn the_async_set_behaves_like_a_hashset_on_one_server() {
    behaves_like_a_hashset_on::<Tokio>(async_set);
}

#[test]
fn set_algebra_across_two_servers_runs_in_the_client() {
    algebra_across_two_servers_on::<Blocking>(sync_set);
}

#[test]
fn async_set_algebra_across_two_servers_runs_in_the_client() {
    algebra_across_two_servers_on::<Tokio>(async_set);
}

#[test]
fn algebra_on_one_server_runs_on_the_server() {
    let server = Server::start();
    let url = server.url();
    let a = RedisSet::from_iter_in(&url, [1, 2, 3]).unwrap();
    let b = RedisSet::from_iter_in(&url, [3, 4]).unwrap();
    let c = RedisSet::from_iter_in(&url, [3, 5]).unwrap();
    assert_eq!(a.intersection(&[&b, &c]).unwrap(), HashSet::from([3]));
    assert_eq!(a.union(&[&b, &c]).unwrap(), HashSet::from([1, 2, 3, 4, 5]));
    // One SINTER and one SUNION; no member was fetched to the client.
    let calls = server.info("commandstats");
    assert!(calls.contains("cmdstat_sinter:calls=1,"), "{calls}");
    assert!(calls.contains("cmdstat_sunion:calls=1,"), "{calls}");
    assert!(!calls.contains("cmdstat_smembers"), "{calls}");
    assert_eq!(a.difference_update(&[&b]).unwrap(), 2);
    let raw: HashSet<Vec<u8>> = server.cmd(&["SMEMBERS", a.key()]).unwrap();
    assert_eq!(raw, HashSet::from([b"1".to_vec(), b"2".to_vec()]));
}

#[test]
fn members_are_python_json_and_types_are_checked() {
    let server = Server::start();
    let set: RedisSet<(i32, String)> = RedisSet::open(server.url(), "pairs").unwrap();
    set.insert(&(1, "é".to_owned())).unwrap();
    let raw: Vec<Vec<u8>> = server.cmd(&["SMEMBERS", "pairs"]).unwrap();
    assert_eq!(raw, [br#"[1, "\u00e9"]"#.to_vec()]);
    let _: () = server.cmd(&["SET", "string", "x"]).unwrap();
    let wrong: RedisSet<i32> = RedisSet::open(server.url(), "string").unwrap();
    assert!(matches!(wrong.insert(&1), Err(Error::Redis(e)) if e.code() == Some("WRONGTYPE")));
    assert_eq!(
        wrong.contains_many::<i32, _>([]).unwrap(),
        Vec::<bool>::new()
    );
}
