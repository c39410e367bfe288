//! Every example in README.md runs here: the Rust blocks (compiled by build.rs into functions)
//! against fresh servers, the `redis-cli` sessions through the real `redis-cli` with their output
//! compared line by line, and `scripts/serve` as the README tells users to start it.

use pottery_tests::{start_cluster, workspace_root, Server};
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

type Example = fn() -> Result<(), Box<dyn std::error::Error>>;

/// The servers of the example running now, by the port the README names for them.
static EXAMPLE_URLS: Mutex<Option<HashMap<u16, &'static str>>> = Mutex::new(None);

/// The URL of the server standing for `redis://127.0.0.1:<port>/` in the example running now.
/// A function rather than a local so that items in a block (a `static`, a macro attribute)
/// can name it too; leaked so that it is a `&'static str` like the literal it replaces.
fn readme_url(port: u16) -> &'static str {
    EXAMPLE_URLS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|urls| urls.get(&port).copied())
        .unwrap_or_else(|| panic!("no server was started for README port {port}"))
}

include!(concat!(env!("OUT_DIR"), "/readme_examples.rs"));

fn readme() -> String {
    std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md is readable")
}

#[test]
fn rust_examples_run() {
    assert!(
        !README_EXAMPLES.is_empty(),
        "the README has no Rust example"
    );
    let mut failures = Vec::new();
    for (number, ports, on_cluster, needs_module, example) in README_EXAMPLES {
        if *needs_module && pottery_tests::without_module() {
            println!("README Rust example {number} skipped without the module: fenced rust,module");
            continue;
        }
        let servers = if *on_cluster {
            start_cluster(3.max(ports.len()))
        } else {
            Server::start_many(ports.len())
        };
        let urls = ports
            .iter()
            .zip(&servers)
            .map(|(&port, server)| (port, &*server.url().leak()))
            .collect();
        *EXAMPLE_URLS.lock().unwrap_or_else(PoisonError::into_inner) = Some(urls);
        // An example may recurse deeply (an async cached Fibonacci polls 80 nested futures),
        // more than a test thread's 2 MiB hold in an unoptimized build.
        let outcome = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || example().map_err(|error| error.to_string()))
            .expect("a thread for the example")
            .join()
            .unwrap_or_else(|_| Err("it panicked".to_owned()));
        if let Err(error) = outcome {
            failures.push(format!("README Rust example {number} failed: {error}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A ```console block: the commands after `127.0.0.1:6379> ` prompts and the lines after them.
struct Session {
    commands: Vec<String>,
    expected: Vec<String>,
}

fn console_sessions(text: &str) -> Vec<Session> {
    let mut sessions = Vec::new();
    let mut current: Option<Session> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```console") => {
                current = Some(Session {
                    commands: Vec::new(),
                    expected: Vec::new(),
                })
            }
            (Some(_), "```") => sessions.extend(current.take()),
            (Some(session), line) => match line.strip_prefix("127.0.0.1:6379> ") {
                Some(command) => session.commands.push(command.to_string()),
                None => session.expected.push(line.to_string()),
            },
            (None, _) => {}
        }
    }
    sessions
}

#[test]
fn redis_cli_sessions_print_what_the_readme_shows() {
    pottery_tests::requires_module!("the sessions run the module's commands");
    let sessions = console_sessions(&readme());
    assert!(!sessions.is_empty(), "the README has no redis-cli session");
    for session in sessions {
        let server = Server::start();
        let mut child = Command::new("redis-cli")
            .args([
                "--no-raw",
                "-h",
                "127.0.0.1",
                "-p",
                &server.port().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-cli runs");
        let mut input = session.commands.join("\n");
        input.push('\n');
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("redis-cli reads its input");
        let output = child.wait_with_output().expect("redis-cli finishes");
        let printed: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(
            printed, session.expected,
            "redis-cli output differs from the README for {:?}",
            session.commands
        );
    }
}

/// Stops the `scripts/serve` process group (bash, then redis-server through exec) by pid.
struct ServeProcess(std::process::Child);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let pid = self.0.id() as i32;
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

#[test]
fn scripts_serve_starts_a_server_with_the_module() {
    use std::os::unix::process::CommandExt;
    let port = pottery_tests::free_port();
    let log = std::env::temp_dir().join(format!("pottery-serve-{port}.log"));
    let log_file = std::fs::File::create(&log).expect("temp dir is writable");
    let mut command = Command::new(workspace_root().join("scripts/serve"));
    command
        .args(["--port", &port.to_string()])
        // The test run has built the module already; cargo's build lock is held while tests
        // run, so the script must not build again here.
        .env("POTTERY_MODULE", pottery_tests::module_path())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log file"))
        .stderr(log_file)
        .process_group(0);
    let _serve = ServeProcess(command.spawn().expect("scripts/serve starts"));
    let url = format!("redis://127.0.0.1:{port}/");
    let started = Instant::now();
    let mut connection = loop {
        let attempt = redis::Client::open(url.as_str())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)));
        match attempt {
            Ok(connection) => break connection,
            Err(_) if started.elapsed() < Duration::from_secs(120) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(error) => panic!(
                "scripts/serve did not come up: {error}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        }
    };
    let id: i64 = redis::cmd("POTTERY.NEXTID")
        .arg("x")
        .query(&mut connection)
        .expect("the module is loaded");
    assert_eq!(id, 1);
    let printed = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        printed.contains(&format!("redis-cli -p {port}")),
        "scripts/serve did not print how to reach it:\n{printed}"
    );
    let _ = std::fs::remove_file(&log);
}
