//! The `HyperLogLog` client: JSON elements shared with Python pottery's `HyperLogLog`,
//! membership without false negatives, merge.

use pottery::{Error, HyperLogLog};
use pottery_tests::{python_output, Server};

/// Runs `code` with `hll` bound to Python pottery's HyperLogLog at `key`; its stdout.
pub(crate) fn with_python(server: &Server, key: &str, code: &str) -> String {
    python_output(&format!(
        "from pottery import HyperLogLog\nfrom redis import Redis\nhll = HyperLogLog(redis=Redis(host='127.0.0.1', port={}), key={key:?})\n{code}\n",
        server.port()
    ))
}

#[test]
fn basics_without_false_negatives_on_both_encodings() {
    let server = Server::start();
    let hll: HyperLogLog<String> = HyperLogLog::open(server.url(), "h").unwrap();
    assert!(hll.is_empty().unwrap());
    assert!(
        !hll.contains("a").unwrap(),
        "a missing key contains nothing"
    );
    assert!(hll.add("a").unwrap());
    assert!(!hll.add("a").unwrap());
    for count in [300, 5000] {
        let elements: Vec<String> = (0..count).map(|n| format!("e{n}-ключ")).collect();
        hll.extend(elements.iter().cloned()).unwrap();
        for batch in elements.chunks(1000) {
            assert!(
                hll.contains_many(batch).unwrap().iter().all(|found| *found),
                "a false negative"
            );
        }
        let estimate = hll.len().unwrap() as f64;
        assert!(
            (estimate - (count + 1) as f64).abs() < 0.05 * count as f64,
            "{estimate} for {count}"
        );
    }
    let encoding: Vec<u8> = server.cmd(&["GETRANGE", "h", "4", "4"]).unwrap();
    assert_eq!(encoding, [0], "dense after 5000 elements");
    assert!(!hll.extend(Vec::new()).unwrap());
}

#[test]
fn python_pottery_and_ours_share_the_key() {
    let server = Server::start();
    // Python adds; we count and find the same elements.
    with_python(&server, "shared", "hll.update(['ada', 'ключ', 'x' * 100])");
    let ours: HyperLogLog<String> = HyperLogLog::open(server.url(), "shared").unwrap();
    assert_eq!(
        ours.contains_many(&["ada".to_owned(), "ключ".to_owned(), "x".repeat(100)])
            .unwrap(),
        [true, true, true]
    );
    assert_eq!(ours.len().unwrap(), 3);
    // We add; Python finds our elements and counts them.
    ours.extend(["grace".to_owned(), "ada".to_owned()]).unwrap();
    assert_eq!(
        with_python(
            &server,
            "shared",
            "print(len(hll), 'grace' in hll, 'ada' in hll)"
        ),
        "4 True True"
    );
    // Python sees the same JSON for structured values.
    let pairs: HyperLogLog<(u32, String)> = HyperLogLog::open(server.url(), "pairs").unwrap();
    pairs.add(&(1, "a".to_owned())).unwrap();
    assert_eq!(
        with_python(&server, "pairs", "print([1, 'a'] in hll, len(hll))"),
        "True 1"
    );
}

#[test]
fn merge_counts_the_union() {
    let server = Server::start();
    let monday: HyperLogLog<u32> = HyperLogLog::open(server.url(), "monday").unwrap();
    let tuesday: HyperLogLog<u32> = HyperLogLog::open(server.url(), "tuesday").unwrap();
    monday.extend(0..100).unwrap();
    tuesday.extend(50..150).unwrap();
    let week: HyperLogLog<u32> = HyperLogLog::new(server.url()).unwrap();
    week.merge(&[&monday, &tuesday]).unwrap();
    let union = week.len().unwrap();
    assert!((145..=155).contains(&union), "{union}");
    assert!(week.contains(&149).unwrap() && week.contains(&0).unwrap());

    let elsewhere = Server::start();
    let remote: HyperLogLog<u32> = HyperLogLog::open(elsewhere.url(), "remote").unwrap();
    assert!(matches!(
        week.merge(&[&remote]),
        Err(Error::InvalidArgument {
            argument: "others",
            ..
        })
    ));
}
