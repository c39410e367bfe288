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

/// Without the module, `contains` reads the HyperLogLog and decides in the client with the
/// module's register code: the same answers, on a server that has no module at all.
#[test]
fn contains_gives_the_module_s_answers_without_the_module() {
    use pottery::{Connector, Mode};

    let with_module = Server::start();
    let without = Server::builder().without_module().start();
    let elements: Vec<String> = (0..3000).map(|n| format!("element {n}")).collect();
    let probes: Vec<String> = (0..6000).map(|n| format!("probe {n}")).collect();
    let on_module: HyperLogLog<String> = HyperLogLog::open(with_module.url(), "h").unwrap();
    let plain = Connector::from(without.url());
    let on_plain: HyperLogLog<String> = HyperLogLog::open(&plain, "h").unwrap();
    for batch in elements.chunks(500) {
        on_module.extend(batch.iter().cloned()).unwrap();
        on_plain.extend(batch.iter().cloned()).unwrap();
    }
    let expected = on_module.contains_many(&probes).unwrap();
    assert_eq!(on_plain.contains_many(&probes).unwrap(), expected);
    assert!(on_plain
        .contains_many(&elements)
        .unwrap()
        .iter()
        .all(|found| *found));
    assert!(expected.iter().any(|found| !found) && expected.iter().any(|found| *found));
    // Asked once per connector, before the first call that needs to know.
    let before = without.command_calls("COMMAND");
    assert!(!on_plain.contains("never added").unwrap());
    assert_eq!(without.command_calls("COMMAND"), before);

    // The module's answers through the client's own reading, on the module's server too.
    let local = Connector::from(with_module.url()).with_mode(Mode::WithoutModule);
    let read_locally: HyperLogLog<String> = HyperLogLog::open(&local, "h").unwrap();
    assert_eq!(read_locally.contains_many(&probes).unwrap(), expected);

    // Missing keys contain nothing; other values are the module's errors.
    let missing: HyperLogLog<String> = HyperLogLog::open(&plain, "missing").unwrap();
    assert_eq!(missing.contains_many(&probes[..3]).unwrap(), [false; 3]);
    let _: () = without.cmd(&["SET", "text", "not an hll"]).unwrap();
    let text: HyperLogLog<String> = HyperLogLog::open(&plain, "text").unwrap();
    let error = text.contains("a").unwrap_err();
    assert!(
        matches!(&error, pottery::Error::Redis(e) if e.code() == Some("WRONGTYPE")),
        "{error:?}"
    );
    let _: i64 = without.cmd(&["RPUSH", "list", "a"]).unwrap();
    let list: HyperLogLog<String> = HyperLogLog::open(&plain, "list").unwrap();
    assert!(list.contains("a").is_err());
    // Told to use the module where there is none: the server's own error.
    let forced = Connector::from(without.url()).with_mode(Mode::Module);
    let forced: HyperLogLog<String> = HyperLogLog::open(&forced, "h").unwrap();
    assert!(forced.contains("a").is_err());
}
