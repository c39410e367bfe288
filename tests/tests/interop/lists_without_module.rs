//! Python pottery 3.0.1 and our lists in script mode, on a server without the module: the
//! keys and bytes are shared as with the module, each script does exactly what CPython does,
//! and a script that changes a key aborts pottery's WATCH on it, as the module command does.

use pottery::{Connector, Mode, RedisDeque, RedisList};
use pottery_tests::{list_script, Server};

use super::lists::{
    operations_agree, python_outcomes, random_case, share_lists, worker, SemanticsCase,
};

fn without_module() -> Server {
    Server::builder().without_module().start()
}

#[test]
fn python_and_rust_share_lists_without_the_module() {
    let server = without_module();
    share_lists(&server);
    operations_agree(&server);
    // Rust's bounded pushes and rotations there were scripts.
    assert!(server.command_calls("evalsha") > 0);
}

#[test]
fn scripts_do_exactly_what_cpython_does() {
    let server = without_module();
    let mut rng = rand::rng();
    let cases: Vec<SemanticsCase> = (0..400).map(|_| random_case(&mut rng)).collect();
    let outcomes = python_outcomes(&server, &cases);
    let redis = Connector::from(server.url()).with_mode(Mode::WithoutModule);
    let list: RedisList<String> = RedisList::open(&redis, "k").unwrap();
    for (case, python) in cases.iter().zip(&outcomes) {
        list.clear().unwrap();
        list.extend(case.start.clone()).unwrap();
        let deque = RedisDeque::<String>::open(&redis, "k").unwrap();
        let deque = match usize::try_from(case.maxlen) {
            Ok(maxlen) => deque.with_maxlen(maxlen),
            Err(_) => deque,
        };
        let (length, popped) = match case.op {
            "insert" => (list.insert(case.index, &case.value).unwrap(), None),
            "pop" => (0, list.remove(case.index).unwrap()),
            "setslice" => (
                list.set_slice(case.start_index, case.stop_index, &case.values)
                    .unwrap(),
                None,
            ),
            "rotate" => (deque.rotate(case.n).unwrap(), None),
            _ => {
                if case.left {
                    deque.extend_left(case.values.clone()).unwrap();
                } else {
                    deque.extend(case.values.clone()).unwrap();
                }
                (deque.len().unwrap(), None)
            }
        };
        if case.op == "pop" {
            assert_eq!(popped, python.popped, "reply to {case:?}");
        } else {
            assert_eq!(length as i64, python.length, "reply to {case:?}");
        }
        assert_eq!(list.to_vec().unwrap(), python.after, "list after {case:?}");
    }
}

#[test]
fn a_pottery_watch_aborts_when_our_script_changes_the_key() {
    let server = without_module();
    let deque: RedisDeque<i32> = RedisDeque::open(server.url(), "w").unwrap();
    let intrusions: &[(&str, &[&str])] = &[
        ("POTTERY.DEQUE.ROTATE", &["2"]),
        ("POTTERY.DEQUE.PUSH", &["LEFT", "10", "0"]),
        ("POTTERY.LIST.INSERT", &["1", "9"]),
        ("POTTERY.LIST.POP", &["1"]),
        ("POTTERY.LIST.SETSLICE", &["0", "1", "7"]),
    ];
    let watch = |command: &str, args: &[&str]| {
        deque.clear().unwrap();
        deque.extend(1..=5).unwrap();
        let script = list_script(command);
        let mut intrusion = vec!["--key", "w", "--", "EVAL", &script, "1", "w"];
        intrusion.extend_from_slice(args);
        worker(&server, "watch", &intrusion)
    };
    for (command, args) in intrusions {
        assert_eq!(
            watch(command, args),
            ["aborted"],
            "{command} {args:?} did not abort pottery's WATCH"
        );
    }
    // A script that changes nothing does not abort it.
    assert_eq!(watch("POTTERY.DEQUE.ROTATE", &["5"]), ["committed"]);
    assert_eq!(deque.to_vec().unwrap(), [5, 1, 2, 3, 4]);
}
