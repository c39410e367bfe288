//! Self-tests of the test harness (`pottery_tests::Server`).
//!
//! Most tests use `without_module()` so that they check the harness itself; the tests named
//! `module_*` need the built module (`cargo build --release -p pottery-module`).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pottery_tests::redis::{self, Value};
use pottery_tests::{pid_alive, wait_for_replication, Server, Software, Version};

/// A plain server (no module), so these tests do not depend on the module being built.
fn plain() -> Server {
    Server::builder().without_module().start()
}

/// Polls `cond` until it holds or a generous deadline passes.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn module_names(server: &Server) -> Vec<String> {
    let modules: Vec<HashMap<String, Value>> = server.cmd(&["MODULE", "LIST"]).unwrap();
    modules
        .iter()
        .map(|m| match m.get("name") {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(Value::SimpleString(s)) => s.clone(),
            other => panic!("unexpected MODULE LIST entry: {other:?}"),
        })
        .collect()
}

#[test]
fn servers_get_distinct_ports_and_answer_ping() {
    let servers = Server::builder().without_module().start_many(4);
    let ports: HashSet<u16> = servers.iter().map(Server::port).collect();
    assert_eq!(ports.len(), 4, "ports: {ports:?}");
    let pids: HashSet<u32> = servers.iter().map(Server::pid).collect();
    assert_eq!(pids.len(), 4);
    for s in &servers {
        assert!(s.is_running());
        assert_eq!(s.cmd::<String>(&["PING"]).unwrap(), "PONG");
        assert_eq!(s.url(), format!("redis://127.0.0.1:{}/", s.port()));
        assert_eq!(
            s.info_field("server", "tcp_port"),
            Some(s.port().to_string())
        );
        assert_eq!(
            s.info_field("server", "process_id"),
            Some(s.pid().to_string())
        );
    }
}

#[test]
fn default_options_bind_loopback_without_persistence() {
    let s = plain();
    let get = |name: &str| -> String {
        let kv: Vec<String> = s.cmd(&["CONFIG", "GET", name]).unwrap();
        assert_eq!(kv.len(), 2, "{name}: {kv:?}");
        kv[1].clone()
    };
    assert_eq!(get("bind"), "127.0.0.1");
    assert_eq!(get("save"), "");
    assert_eq!(get("appendonly"), "no");
    assert_eq!(get("enable-debug-command"), "local");
    assert_eq!(get("enable-module-command"), "local");
    assert_eq!(
        std::path::PathBuf::from(get("dir")).canonicalize().unwrap(),
        s.data_dir().canonicalize().unwrap()
    );
    // DEBUG is enabled for local connections.
    let _: () = s.cmd(&["SET", "k", "v"]).unwrap();
    let digest: String = s.cmd(&["DEBUG", "DIGEST"]).unwrap();
    assert_eq!(digest.len(), 40);
    // The log is captured.
    assert!(
        s.log().contains("Ready to accept connections"),
        "{}",
        s.log()
    );
}

#[test]
fn extra_args_and_config_are_passed() {
    let s = Server::builder()
        .without_module()
        .config("maxmemory", "12mb")
        .arg("--hz")
        .arg("20")
        .args(["--maxmemory-policy", "allkeys-lru"])
        .start();
    let mm: Vec<String> = s.cmd(&["CONFIG", "GET", "maxmemory"]).unwrap();
    assert_eq!(mm[1], (12 * 1024 * 1024).to_string());
    let hz: Vec<String> = s.cmd(&["CONFIG", "GET", "hz"]).unwrap();
    assert_eq!(hz[1], "20");
    let policy: Vec<String> = s.cmd(&["CONFIG", "GET", "maxmemory-policy"]).unwrap();
    assert_eq!(policy[1], "allkeys-lru");
}

#[test]
fn cmd_accepts_bytes_and_mixed_tuples() {
    let s = plain();
    let key: &[u8] = b"bin\x00key";
    let _: () = s.cmd(("SET", key, b"\xff\x00\x01".as_slice())).unwrap();
    let v: Vec<u8> = s.cmd(("GET", key)).unwrap();
    assert_eq!(v, b"\xff\x00\x01");
    let args: Vec<Vec<u8>> = vec![b"INCRBY".to_vec(), b"n".to_vec(), b"5".to_vec()];
    assert_eq!(s.cmd::<i64>(&args).unwrap(), 5);
    assert_eq!(s.cmd::<i64>(("INCRBY", "n", 2)).unwrap(), 7);
    let err = s.cmd::<()>(&["INCR"]).unwrap_err();
    assert!(
        err.to_string().contains("wrong number of arguments"),
        "{err}"
    );
    // A connection and a Client work too.
    let mut con = s.connection();
    let n: i64 = redis::cmd("GET").arg("n").query(&mut con).unwrap();
    assert_eq!(n, 7);
    let mut con2 = s.client().get_connection().unwrap();
    let n: i64 = redis::cmd("GET").arg("n").query(&mut con2).unwrap();
    assert_eq!(n, 7);
}

#[test]
fn module_is_loaded_by_default() {
    let s = Server::start();
    let module = s.module().expect("module path").to_path_buf();
    assert!(module.ends_with(pottery_tests::MODULE_FILE_NAME));
    let names = module_names(&s);
    assert!(
        names.iter().any(|n| n == "pottery"),
        "MODULE LIST: {names:?}"
    );
}

#[test]
fn module_args_are_passed_to_the_module() {
    // A documented load-time config, at its default value.
    let s = Server::builder()
        .module_args(["bf-error-rate", "0.01"])
        .start();
    let modules: Vec<HashMap<String, Value>> = s.cmd(&["MODULE", "LIST"]).unwrap();
    let pottery = modules
        .iter()
        .find(|m| matches!(m.get("name"), Some(Value::BulkString(n)) if n == b"pottery"))
        .expect("pottery in MODULE LIST");
    let args: Vec<String> = match pottery.get("args") {
        Some(v) => redis::from_redis_value(v.clone()).unwrap(),
        None => panic!("no args in {pottery:?}"),
    };
    assert_eq!(args, ["bf-error-rate", "0.01"]);
}

/// What `MODULE LIST` shows on a server started without ours: nothing on Redis; Valkey 9
/// ships its Lua engine as a static module.
fn built_in_modules(server: &Server) -> Vec<String> {
    match server.software() {
        Software::Valkey if server.version() >= Version(9, 0, 0) => vec!["lua".to_owned()],
        _ => Vec::new(),
    }
}

#[test]
fn module_can_be_loaded_later_with_module_load() {
    let s = plain();
    let built_in = built_in_modules(&s);
    assert_eq!(module_names(&s), built_in);
    let path = pottery_tests::module_path();
    let path = path.to_str().unwrap();
    let _: () = s.cmd(&["MODULE", "LOAD", path]).unwrap();
    let mut loaded = module_names(&s);
    loaded.sort();
    let mut expected = built_in;
    expected.push("pottery".to_owned());
    expected.sort();
    assert_eq!(loaded, expected);
}

#[test]
fn software_and_version_are_what_the_binary_says() {
    let s = plain();
    let output = Command::new(pottery_tests::redis_server_binary())
        .arg("--version")
        .output()
        .expect("the server binary runs");
    // "Redis server v=7.0.15 sha=..." or "Valkey server v=9.1.2 sha=...".
    let banner = String::from_utf8_lossy(&output.stdout).into_owned();
    let (name, rest) = banner.split_once(" server v=").expect("a version banner");
    let version = rest.split_whitespace().next().expect("a version");
    let expected = match name {
        "Redis" => Software::Redis,
        "Valkey" => Software::Valkey,
        other => panic!("unknown server {other:?} in {banner:?}"),
    };
    assert_eq!(s.software(), expected);
    assert_eq!(s.version(), Version::parse(version));
    assert!(s.version() >= Version(7, 0, 0), "{}", s.version());
}

#[test]
fn a_server_that_cannot_start_panics_with_its_log() {
    let err = std::panic::catch_unwind(|| {
        Server::builder()
            .module("/nonexistent/libnothing.so")
            .start()
    })
    .expect_err("a missing module must fail the start");
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("failed to start"), "{msg}");
    assert!(msg.contains("/nonexistent/libnothing.so"), "{msg}");
    assert!(msg.contains("Module") || msg.contains("module"), "{msg}");
}

#[test]
fn kill_makes_the_port_refuse_connections() {
    let s = plain();
    let pid = s.pid();
    s.kill();
    assert!(!s.is_running());
    assert!(!pid_alive(pid));
    let err = TcpStream::connect(("127.0.0.1", s.port())).expect_err("port must be closed");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(s.cmd::<String>(&["PING"]).is_err());
    // Killing again is a no-op.
    s.kill();
}

#[test]
fn pause_stops_answers_and_resume_brings_them_back() {
    let s = plain();
    let mut con = s.connect_with_timeout(Duration::from_millis(300)).unwrap();
    s.pause();
    assert!(s.is_paused());
    assert!(s.is_running(), "a paused server is still running");
    let err = redis::cmd("PING")
        .query::<String>(&mut con)
        .expect_err("a paused server must not answer");
    assert!(err.is_timeout(), "{err:?}");
    s.resume();
    assert!(!s.is_paused());
    let mut con = s.connection();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn restart_with_aof_keeps_data_on_the_same_port() {
    let s = Server::builder()
        .without_module()
        .aof(true)
        .fsync_always(true)
        .start();
    let port = s.port();
    let old_pid = s.pid();
    let _: () = s.cmd(&["SET", "k", "v"]).unwrap();
    s.kill();
    s.restart();
    assert_eq!(s.port(), port);
    assert_ne!(s.pid(), old_pid);
    assert!(!pid_alive(old_pid));
    assert_eq!(s.info_field("persistence", "loading").as_deref(), Some("0"));
    assert_eq!(
        s.info_field("persistence", "aof_enabled").as_deref(),
        Some("1")
    );
    assert_eq!(
        s.cmd::<Option<String>>(&["GET", "k"]).unwrap().as_deref(),
        Some("v")
    );
    let fsync: Vec<String> = s.cmd(&["CONFIG", "GET", "appendfsync"]).unwrap();
    assert_eq!(fsync[1], "always");
    assert!(s.data_dir().join("appendonlydir").is_dir());
}

#[test]
fn restart_without_persistence_loses_data_but_explicit_save_keeps_it() {
    let s = plain();
    let _: () = s.cmd(&["SET", "lost", "1"]).unwrap();
    s.restart(); // restart kills a running server itself
    assert_eq!(s.cmd::<Option<String>>(&["GET", "lost"]).unwrap(), None);
    let _: () = s.cmd(&["SET", "kept", "1"]).unwrap();
    let _: () = s.cmd(&["SAVE"]).unwrap();
    assert!(s.data_dir().join("dump.rdb").is_file());
    s.kill();
    s.restart();
    assert_eq!(
        s.cmd::<Option<String>>(&["GET", "kept"])
            .unwrap()
            .as_deref(),
        Some("1")
    );
}

#[test]
fn rdb_server_saves_on_graceful_shutdown() {
    let s = Server::builder().without_module().rdb(true).start();
    let save: Vec<String> = s.cmd(&["CONFIG", "GET", "save"]).unwrap();
    assert_ne!(save[1], "");
    let _: () = s.cmd(&["SET", "k", "v"]).unwrap();
    s.shutdown();
    assert!(!s.is_running());
    assert!(s.data_dir().join("dump.rdb").is_file());
    s.restart();
    assert_eq!(
        s.cmd::<Option<String>>(&["GET", "k"]).unwrap().as_deref(),
        Some("v")
    );
}

#[test]
fn restart_works_while_clients_still_hold_connections() {
    // The killed server's sockets linger (FIN_WAIT/TIME_WAIT) on its port.
    let s = plain();
    let mut con = s.connection();
    let _: () = redis::cmd("SET").arg("a").arg(1).query(&mut con).unwrap();
    let mut raw = Vec::new();
    for _ in 0..5 {
        raw.push(TcpStream::connect(("127.0.0.1", s.port())).unwrap());
    }
    for _ in 0..3 {
        s.kill();
        s.restart();
        assert_eq!(s.cmd::<String>(&["PING"]).unwrap(), "PONG");
    }
    // The old connection is dead; a new one works.
    assert!(redis::cmd("PING").query::<String>(&mut con).is_err());
    drop(raw);
}

#[test]
fn restart_of_a_paused_server() {
    let s = plain();
    s.pause();
    s.restart();
    assert!(!s.is_paused());
    assert_eq!(s.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

#[test]
fn replica_receives_writes() {
    let servers = Server::builder().without_module().start_many(2);
    let (master, replica) = (&servers[0], &servers[1]);
    let _: () = master.cmd(&["SET", "before", "1"]).unwrap();
    replica.replicate_from(master);
    assert_eq!(
        replica.info_field("replication", "role").as_deref(),
        Some("slave")
    );
    assert_eq!(
        replica
            .cmd::<Option<String>>(&["GET", "before"])
            .unwrap()
            .as_deref(),
        Some("1")
    );
    for i in 0..100 {
        let _: () = master
            .cmd(&["SET", &format!("k{i}"), &i.to_string()])
            .unwrap();
    }
    wait_for_replication(master, replica);
    assert_eq!(replica.cmd::<i64>(&["DBSIZE"]).unwrap(), 101);
    assert_eq!(replica.cmd::<String>(&["GET", "k99"]).unwrap(), "99");
    // The replica is read-only.
    assert!(replica.cmd::<()>(&["SET", "x", "1"]).is_err());
}

#[test]
fn replica_catches_up_after_being_paused() {
    let servers = Server::builder().without_module().start_many(2);
    let (master, replica) = (&servers[0], &servers[1]);
    replica.replicate_from(master);
    replica.pause();
    let _: () = master.cmd(&["SET", "while-paused", "1"]).unwrap();
    replica.resume();
    wait_for_replication(master, replica);
    assert_eq!(
        replica
            .cmd::<Option<String>>(&["GET", "while-paused"])
            .unwrap()
            .as_deref(),
        Some("1")
    );
}

#[test]
fn drop_kills_the_process_and_removes_the_data_dir() {
    let s = plain();
    let pid = s.pid();
    let dir = s.data_dir().to_path_buf();
    let port = s.port();
    assert!(pid_alive(pid));
    assert!(dir.is_dir());
    drop(s);
    assert!(!pid_alive(pid));
    if std::env::var_os("POTTERY_KEEP_DATA").is_none() {
        assert!(!dir.exists(), "{dir:?} should be gone");
    }
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn drop_of_a_paused_server_kills_it() {
    let s = plain();
    let pid = s.pid();
    s.pause();
    drop(s);
    assert!(!pid_alive(pid));
}

#[test]
fn a_panicking_test_still_stops_its_server() {
    let pid = Mutex::new(None);
    let result = std::panic::catch_unwind(|| {
        let s = plain();
        *pid.lock().unwrap() = Some(s.pid());
        panic!("simulated test failure");
    });
    assert!(result.is_err());
    let pid = pid.lock().unwrap().expect("server was started");
    assert!(!pid_alive(pid));
}

#[test]
fn a_server_started_by_a_short_lived_thread_survives_the_thread() {
    // PR_SET_PDEATHSIG fires when the *thread* that forked the child exits; the harness forks
    // from a dedicated long-lived thread so this does not kill the server.
    let s = std::thread::spawn(plain).join().unwrap();
    let mut still_fine = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(10));
        if s.is_running() && s.cmd::<String>(&["PING"]).is_ok() {
            still_fine += 1;
        }
    }
    assert_eq!(still_fine, 20);
    // Same for a restart done from another thread.
    std::thread::scope(|scope| {
        scope.spawn(|| s.restart());
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(s.is_running());
    assert_eq!(s.cmd::<String>(&["PING"]).unwrap(), "PONG");
}

const CHILD_ENV: &str = "POTTERY_HARNESS_SELFTEST_CHILD";

/// Run by `servers_die_with_the_test_process` in a child process: starts a server, prints its
/// pid and aborts (no destructor runs).
#[test]
#[ignore = "helper run in a child process by servers_die_with_the_test_process"]
fn child_process_that_aborts() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let s = plain();
    println!("SERVER_PID {}", s.pid());
    println!("SERVER_DIR {}", s.data_dir().display());
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    std::process::abort();
}

#[test]
fn servers_die_with_the_test_process() {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "child_process_that_aborts",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut pid = None;
    let mut dir = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest may print "test <name> ... " on the same line first.
        if let Some((_, p)) = line.split_once("SERVER_PID ") {
            pid = Some(p.trim().parse::<u32>().unwrap());
        }
        if let Some((_, d)) = line.split_once("SERVER_DIR ") {
            dir = Some(std::path::PathBuf::from(d.trim()));
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child must have aborted");
    let pid = pid.expect("child printed its server's pid");
    eventually("the orphaned server is killed", || !pid_alive(pid));
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_given_data_dir_is_reused_and_never_deleted() {
    let base = std::env::temp_dir().join(format!("pottery-harness-given-{}", std::process::id()));
    let dir = base.join("data");
    {
        let s = Server::builder().without_module().data_dir(&dir).start();
        assert_eq!(s.data_dir(), dir.as_path());
        let _: () = s.cmd(&["SET", "k", "from-rdb"]).unwrap();
        let _: () = s.cmd(&["SAVE"]).unwrap();
    }
    assert!(
        dir.join("dump.rdb").is_file(),
        "the harness must keep a given dir"
    );
    {
        let s = Server::builder().without_module().data_dir(&dir).start();
        assert_eq!(s.cmd::<String>(&["GET", "k"]).unwrap(), "from-rdb");
    }
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn free_ports_are_distinct_and_bindable() {
    let a = pottery_tests::free_port();
    let b = pottery_tests::free_port();
    assert_ne!(a, b);
    for port in [a, b] {
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("a free port binds");
    }
    let r = pottery_tests::reserve_port();
    assert!(r.port() != a && r.port() != b);
}

#[test]
fn cpu_pins_the_server() {
    let s = Server::builder().without_module().cpu(0).start();
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid())).unwrap();
    let allowed = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(str::trim);
    assert_eq!(allowed, Some("0"), "{status}");
    let err = std::panic::catch_unwind(|| Server::builder().without_module().cpu(1000).start());
    assert!(
        err.is_err(),
        "a CPU that does not exist must fail the start"
    );
}
