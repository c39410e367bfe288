//! The `BloomFilter` client over the module's native filter: JSON items, creation parameters,
//! accuracy, a full filter as a typed error, and key ownership.

use pottery::{BloomFilter, BloomInfo, Error};
use pottery_tests::Server;
use serde::Serialize;

#[derive(Serialize)]
struct Visit {
    page: String,
    user: u64,
}

#[test]
fn items_are_json_and_answers_are_exact_for_added_items() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let filter: BloomFilter<String> = BloomFilter::open(server.url(), "names", 1000, 0.01).unwrap();
    assert!(filter.is_empty().unwrap());
    assert_eq!(
        filter.info().unwrap(),
        None,
        "nothing is created before the first write"
    );
    assert!(filter.add("ada").unwrap());
    assert!(!filter.add("ada").unwrap());
    assert!(filter.add("ключ 🔑").unwrap());
    assert!(filter.contains("ada").unwrap());
    // The server holds JSON(element): the 5 bytes "ada" with quotes, not the raw string.
    assert_eq!(
        server
            .cmd::<i64>(&["POTTERY.BF.EXISTS", "names", "\"ada\""])
            .unwrap(),
        1
    );
    assert_eq!(
        server
            .cmd::<i64>(&[
                "POTTERY.BF.EXISTS",
                "names",
                "\"\\u043a\\u043b\\u044e\\u0447 \\ud83d\\udd11\""
            ])
            .unwrap(),
        1
    );
    assert_eq!(filter.len().unwrap(), 2);
    assert_eq!(
        filter.contains_many(&["ada".to_owned()][..0]).unwrap(),
        Vec::<bool>::new()
    );

    let visits: BloomFilter<Visit> = BloomFilter::open(server.url(), "visits", 100, 0.01).unwrap();
    let visit = Visit {
        page: "/".into(),
        user: 7,
    };
    assert!(visits.add(&visit).unwrap());
    assert_eq!(
        server
            .cmd::<i64>(&[
                "POTTERY.BF.EXISTS",
                "visits",
                "{\"page\": \"/\", \"user\": 7}"
            ])
            .unwrap(),
        1
    );
}

#[test]
fn the_filter_is_created_with_the_given_parameters() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let filter: BloomFilter<u64> = BloomFilter::open(server.url(), "sized", 5000, 0.001).unwrap();
    assert_eq!(filter.extend(0..10).unwrap(), 10);
    // Scaling: the first sub-filter runs at half the error rate; bits rounded up to words.
    let bits = (-5000.0 * 0.0005f64.ln() / std::f64::consts::LN_2.powi(2)).ceil();
    let size = ((bits / 64.0).ceil() * 8.0) as u64;
    assert_eq!(
        filter.info().unwrap(),
        Some(BloomInfo {
            capacity: 5000,
            size,
            filters: 1,
            items: 10,
            expansion: Some(2)
        })
    );
    // An existing filter keeps its own parameters.
    let other: BloomFilter<u64> = BloomFilter::open(server.url(), "sized", 10, 0.5).unwrap();
    other.add(&99).unwrap();
    assert_eq!(other.info().unwrap().unwrap().capacity, 5000);
}

#[test]
fn no_false_negatives_and_a_bounded_false_positive_rate() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let filter: BloomFilter<String> = BloomFilter::new(server.url(), 20_000, 0.01).unwrap();
    let added: Vec<String> = (0..20_000).map(|n| format!("member-{n}")).collect();
    filter.extend(added.iter().cloned()).unwrap();
    for batch in added.chunks(1000) {
        assert!(
            filter
                .contains_many(batch)
                .unwrap()
                .iter()
                .all(|found| *found),
            "a false negative"
        );
    }
    let probes: Vec<String> = (0..100_000).map(|n| format!("probe-{n}")).collect();
    let false_positives: usize = probes
        .chunks(1000)
        .map(|batch| {
            filter
                .contains_many(batch)
                .unwrap()
                .iter()
                .filter(|found| **found)
                .count()
        })
        .sum();
    let rate = false_positives as f64 / probes.len() as f64;
    assert!(rate <= 0.0105, "false-positive rate {rate}");
}

#[test]
fn a_filter_that_cannot_grow_is_a_typed_error() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let _: () = server
        .cmd(&["POTTERY.BF.RESERVE", "fixed", "0.01", "2", "NONSCALING"])
        .unwrap();
    let filter: BloomFilter<u32> = BloomFilter::open(server.url(), "fixed", 100, 0.01).unwrap();
    assert_eq!(filter.extend([1, 2]).unwrap(), 2);
    assert!(matches!(filter.add(&3), Err(Error::FilterFull)));
    assert!(matches!(filter.extend([4, 5]), Err(Error::FilterFull)));
    assert_eq!(filter.len().unwrap(), 2);

    let limited = Server::builder()
        .module_args(["bf-max-bytes", "2048"])
        .start();
    let growing: BloomFilter<u32> = BloomFilter::open(limited.url(), "growing", 100, 0.01).unwrap();
    assert!(matches!(growing.extend(0..100_000), Err(Error::FilterFull)));

    // Another type at the key is Redis's WRONGTYPE, not a full filter.
    let _: () = server.cmd(&["SET", "text", "x"]).unwrap();
    let text: BloomFilter<u32> = BloomFilter::open(server.url(), "text", 100, 0.01).unwrap();
    assert!(matches!(text.add(&1), Err(Error::Redis(e)) if e.code() == Some("WRONGTYPE")));
}

#[test]
fn bad_parameters_are_refused_before_any_round_trip() {
    for (capacity, error_rate) in [
        (0, 0.01),
        (1 << 41, 0.01),
        (10, 0.0),
        (10, 1.0),
        (10, f64::NAN),
    ] {
        // Nothing listens on port 1: the check must come first.
        let result = BloomFilter::<u8>::open("redis://127.0.0.1:1/", "k", capacity, error_rate);
        assert!(
            matches!(result, Err(Error::InvalidArgument { .. })),
            "{capacity} {error_rate}"
        );
    }
}

#[test]
fn a_random_key_is_deleted_with_its_last_handle() {
    pottery_tests::requires_module!("BloomFilter is the module's native type");
    let server = Server::start();
    let filter: BloomFilter<u8> = BloomFilter::new(server.url(), 10, 0.1).unwrap();
    let key = filter.key().to_owned();
    assert!(key.starts_with("pottery:"));
    let clone = filter.clone();
    filter.add(&1).unwrap();
    drop(filter);
    assert_eq!(server.cmd::<i64>(&["EXISTS", &key]).unwrap(), 1);
    drop(clone);
    assert_eq!(server.cmd::<i64>(&["EXISTS", &key]).unwrap(), 0);
}
