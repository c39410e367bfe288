//! Python pottery 3.0.1's `NextID` and ours share one sequence: same key, same counter, and no
//! ID handed out twice when both run at once on the same five masters.
//!
//! Needs the virtual environment that `scripts/test` creates (or `POTTERY_PYTHON`).

use pottery::NextId;
use pottery_tests::{python, workspace_root, Server};
use std::collections::HashSet;
use std::process::{Command, Output};
use std::time::Duration;

/// Runs pottery's NextID in Python; returns the IDs it handed out and its quorum failures.
fn pottery_ids(servers: &[Server], name: &str, threads: usize, count: usize) -> (Vec<i64>, usize) {
    let ports: Vec<String> = servers.iter().map(|s| s.port().to_string()).collect();
    let output: Output = Command::new(python())
        .arg(workspace_root().join("tests/python/nextid_worker.py"))
        .args(["ids", "--ports", &ports.join(","), "--name", name])
        .args([
            "--threads",
            &threads.to_string(),
            "--count",
            &count.to_string(),
        ])
        .output()
        .expect("Python runs");
    assert!(
        output.status.success(),
        "Python pottery failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ids = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("id "))
        .map(|id| id.parse().expect("an integer ID"))
        .collect();
    let failures = stdout
        .lines()
        .find_map(|line| line.strip_prefix("quorum_failures "))
        .and_then(|n| n.parse().ok())
        .expect("Python reports its quorum failures");
    (ids, failures)
}

fn ours(servers: &[Server], name: &str) -> NextId {
    NextId::builder()
        .name(name)
        .masters(servers.iter().map(Server::url))
        .deadline(Duration::from_secs(10))
        .build()
        .expect("valid builder")
}

#[test]
fn python_and_rust_continue_one_sequence() {
    python_and_rust_continue_one_sequence_on(Server::start_many(5));
}

/// The same on servers without the module: Rust's scripts and Python's share the counter.
#[test]
fn python_and_rust_continue_one_sequence_without_the_module() {
    python_and_rust_continue_one_sequence_on(Server::builder().without_module().start_many(5));
}

fn python_and_rust_continue_one_sequence_on(servers: Vec<Server>) {
    let (python_first, failures) = pottery_ids(&servers, "shared", 1, 3);
    assert_eq!((python_first, failures), (vec![1, 2, 3], 0));
    let mut rust = ours(&servers, "shared");
    assert_eq!(rust.next_id().unwrap(), 4);
    assert_eq!(rust.next_ids(3).unwrap(), 5..=7);
    let (python_next, _) = pottery_ids(&servers, "shared", 1, 2);
    assert_eq!(python_next, vec![8, 9]);
    assert_eq!(rust.next_id().unwrap(), 10);
    // A claim needs a majority, not every master (a loaded one may answer too late).
    let stored = pottery_tests::get_on_each(&servers, "nextid:shared");
    let at_ten = stored
        .iter()
        .filter(|value| value.as_deref() == Some("10"))
        .count();
    assert!(at_ten >= 3, "{stored:?}");
}

#[test]
fn python_and_rust_interleaved_never_hand_out_an_id_twice() {
    python_and_rust_interleaved_never_hand_out_an_id_twice_on(Server::start_many(5));
}

/// The same on servers without the module: Rust's scripts and Python's share the counter.
#[test]
fn python_and_rust_interleaved_never_hand_out_an_id_twice_without_the_module() {
    python_and_rust_interleaved_never_hand_out_an_id_twice_on(
        Server::builder().without_module().start_many(5),
    );
}

fn python_and_rust_interleaved_never_hand_out_an_id_twice_on(servers: Vec<Server>) {
    let urls: Vec<String> = servers.iter().map(Server::url).collect();
    let rust_threads: Vec<_> = (0..3)
        .map(|thread| {
            let urls = urls.clone();
            std::thread::spawn(move || {
                let mut ids = NextId::builder()
                    .name("contended")
                    .masters(urls)
                    .deadline(Duration::from_secs(20))
                    .build()
                    .unwrap();
                let mut mine = Vec::new();
                for round in 0..300 {
                    if round % 37 == thread {
                        mine.extend(ids.next_ids(5).unwrap());
                    } else {
                        mine.push(ids.next_id().unwrap());
                    }
                }
                mine
            })
        })
        .collect();
    let (python, python_failures) = pottery_ids(&servers, "contended", 3, 300);
    let mut rust = Vec::new();
    for thread in rust_threads {
        rust.extend(thread.join().expect("Rust thread finished"));
    }
    eprintln!(
        "Python handed out {} IDs ({} QuorumNotAchieved after pottery's 3 tries), Rust {}",
        python.len(),
        python_failures,
        rust.len()
    );
    assert_eq!(
        python.len() + python_failures,
        3 * 300,
        "every Python attempt accounted for"
    );
    assert!(
        !python.is_empty(),
        "Python pottery handed out nothing: the test proves nothing"
    );
    let python_set: HashSet<i64> = python.iter().copied().collect();
    assert_eq!(
        python_set.len(),
        python.len(),
        "Python handed out an ID twice"
    );
    let mut all: HashSet<i64> = python_set;
    for id in &rust {
        assert!(all.insert(*id), "ID {id} was handed out twice");
    }
    assert!(all.iter().all(|&id| id > 0 && id < (1 << 53)));
}
