//! Python pottery 3.0.1's `Redlock` and ours exclude each other on the same name, in both
//! directions, on the same five masters: same key (`redlock:<name>`), same plain token value.
//!
//! Needs the virtual environment that `scripts/test` creates (or `POTTERY_PYTHON`).

use pottery::Redlock;
use pottery_tests::{python, workspace_root, Server};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn ports(servers: &[Server]) -> String {
    let ports: Vec<String> = servers.iter().map(|s| s.port().to_string()).collect();
    ports.join(",")
}

fn worker(mode: &str, servers: &[Server], name: &str) -> Command {
    let mut command = Command::new(python());
    command
        .arg(workspace_root().join("tests/python/redlock_worker.py"))
        .args([mode, "--ports", &ports(servers), "--name", name]);
    command
}

/// One non-blocking attempt by Python pottery: whether it acquired.
fn python_try(servers: &[Server], name: &str) -> bool {
    let output = worker("try", servers, name).output().expect("Python runs");
    assert!(
        output.status.success(),
        "Python pottery failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match String::from_utf8_lossy(&output.stdout).trim() {
        "acquired 1" => true,
        "acquired 0" => false,
        other => panic!("unexpected Python output: {other}"),
    }
}

fn ours(servers: &[Server], name: &str) -> Redlock {
    Redlock::builder()
        .name(name)
        .masters(servers.iter().map(Server::url))
        .master_timeout(Duration::from_millis(500))
        .build()
        .expect("valid builder")
}

#[test]
fn python_holder_excludes_rust() {
    python_holder_excludes_rust_on(Server::start_many(5));
}

/// The same on servers without the module: Rust's scripts and Python's share the lock.
#[test]
fn python_holder_excludes_rust_without_the_module() {
    python_holder_excludes_rust_on(Server::builder().without_module().start_many(5));
}

fn python_holder_excludes_rust_on(servers: Vec<Server>) {
    let mut child = worker("hold", &servers, "shared")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("Python starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("Python answers");
    assert_eq!(line.trim(), "acquired 1");

    let lock = ours(&servers, "shared");
    assert!(
        lock.try_acquire().unwrap().is_none(),
        "Rust took a lock Python holds"
    );
    let holder = lock
        .holder()
        .unwrap()
        .expect("Python's token on a majority");
    assert_eq!(
        holder.token.len(),
        36,
        "pottery stores a uuid4: {}",
        holder.token
    );
    // Python pottery needs a majority, not every master (a loaded one may answer too late).
    let stored = pottery_tests::get_on_each(&servers, "redlock:shared");
    let holding = stored
        .iter()
        .filter(|token| token.as_deref() == Some(holder.token.as_str()))
        .count();
    assert!(holding >= 3, "{stored:?}");
    assert!(
        stored.iter().flatten().all(|token| *token == holder.token),
        "{stored:?}"
    );

    let mut stdin = child.stdin.take().expect("piped stdin");
    writeln!(stdin, "release").unwrap();
    stdin.flush().unwrap();
    for expected in ["locked 1", "released"] {
        line.clear();
        stdout.read_line(&mut line).expect("Python answers");
        assert_eq!(line.trim(), expected);
    }
    assert!(child.wait().expect("Python exits").success());

    let guard = lock
        .try_acquire()
        .unwrap()
        .expect("free after Python released");
    guard.release().unwrap();
}

#[test]
fn rust_holder_excludes_python() {
    rust_holder_excludes_python_on(Server::start_many(5));
}

/// The same on servers without the module: Rust's scripts and Python's share the lock.
#[test]
fn rust_holder_excludes_python_without_the_module() {
    rust_holder_excludes_python_on(Server::builder().without_module().start_many(5));
}

fn rust_holder_excludes_python_on(servers: Vec<Server>) {
    let lock = ours(&servers, "shared");
    let guard = lock.acquire().unwrap();
    assert!(
        !python_try(&servers, "shared"),
        "Python took a lock Rust holds"
    );
    guard.release().unwrap();
    assert!(
        python_try(&servers, "shared"),
        "Python could not take a free lock"
    );
}
