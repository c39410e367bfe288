//! [`Server`]: one `redis-server` process owned by a test, and its [`ServerBuilder`].

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::{FromRedisValue, RedisResult, ToRedisArgs};

use crate::ports::{self, PortReservation};
use crate::process::{self, spawn_with_deathsig};

/// Default deadline for a server to answer `PING` (and finish loading) after a (re)start, and for
/// the "eventually" waits of [`Server::replicate_from`] and
/// [`wait_for_replication`](crate::wait_for_replication).
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Read and write timeout of the connections handed out by [`Server::connection`] and used by
/// [`Server::cmd`].
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How many fresh ports [`ServerBuilder::start`] tries when another program steals the port
/// between our check and `redis-server`'s bind.
const START_PORT_ATTEMPTS: usize = 10;
/// How many times [`Server::restart`] retries binding the same port.
const RESTART_BIND_ATTEMPTS: usize = 50;
const RESTART_BIND_PAUSE: Duration = Duration::from_millis(100);
const POLL: Duration = Duration::from_millis(10);
/// Name of the file (inside the data dir) that receives the server's stdout and stderr.
const LOG_FILE: &str = "redis.log";
/// Save points used by [`ServerBuilder::rdb`]`(true)`.
const RDB_SAVE_POINTS: &str = "1 1";

/// Which module, if any, a server loads.
#[derive(Clone, Debug)]
enum ModuleChoice {
    /// [`crate::module_path`], resolved when the server starts; none in the pass
    /// [`without_module`](crate::without_module).
    Default,
    Path(PathBuf),
    None,
}

/// Options for starting a [`Server`]; get one from [`Server::builder`].
///
/// Every server binds 127.0.0.1 only, on a free random port, with its own temporary data dir,
/// `--enable-debug-command local --enable-module-command local` and
/// `--repl-diskless-sync-delay 0` (so replicas sync at once). By default the pottery module is
/// loaded and persistence is off (`--save '' --appendonly no`).
///
/// ```no_run
/// use pottery_tests::Server;
///
/// let server = Server::builder()
///     .aof(true)
///     .fsync_always(true)
///     .module_args(["pottery.bf-error-rate", "0.001"])
///     .config("maxmemory", "64mb")
///     .start();
/// assert_eq!(server.cmd::<String>(&["PING"]).unwrap(), "PONG");
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until .start() is called"]
pub struct ServerBuilder {
    module: ModuleChoice,
    module_args: Vec<OsString>,
    aof: bool,
    fsync_always: bool,
    rdb: bool,
    args: Vec<OsString>,
    data_dir: Option<PathBuf>,
    ready_timeout: Duration,
    cpus: Vec<usize>,
    cluster: bool,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            module: ModuleChoice::Default,
            module_args: Vec::new(),
            aof: false,
            fsync_always: false,
            rdb: false,
            args: Vec::new(),
            data_dir: None,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            cpus: Vec::new(),
            cluster: false,
        }
    }
}

impl ServerBuilder {
    /// Same as [`Server::builder`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Append-only file persistence: `--appendonly yes` (default `no`). The AOF lives in the data
    /// dir, so it survives [`Server::kill`] + [`Server::restart`].
    pub fn aof(mut self, on: bool) -> Self {
        self.aof = on;
        self
    }

    /// `--appendfsync always` (default: Redis's `everysec`). Only meaningful together with
    /// [`aof(true)`](Self::aof).
    pub fn fsync_always(mut self, on: bool) -> Self {
        self.fsync_always = on;
        self
    }

    /// RDB snapshots: `--save "1 1"` (a background save each second after a write) instead of
    /// `--save ''`. An explicit `SAVE`/`BGSAVE` writes `dump.rdb` into the data dir either way,
    /// and a restart loads it either way.
    pub fn rdb(mut self, on: bool) -> Self {
        self.rdb = on;
        self
    }

    /// Start plain `redis-server`, without `--loadmodule` (e.g. to test `MODULE LOAD`).
    pub fn without_module(mut self) -> Self {
        self.module = ModuleChoice::None;
        self
    }

    /// Load this module file instead of [`crate::module_path`].
    pub fn module(mut self, path: impl Into<PathBuf>) -> Self {
        self.module = ModuleChoice::Path(path.into());
        self
    }

    /// Module load arguments: `--loadmodule <so> arg1 arg2 ...` (appended to earlier ones).
    pub fn module_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.module_args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// One extra `redis-server` command-line argument, e.g. `.arg("--maxmemory").arg("10mb")`.
    /// Extra arguments come last, so they override the harness defaults.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Several extra `redis-server` arguments (see [`arg`](Self::arg)).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// A config directive: `.config("maxmemory", "10mb")` is `.arg("--maxmemory").arg("10mb")`.
    pub fn config(self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.arg(format!("--{name}")).arg(value)
    }

    /// Use this directory as the data dir (created if missing) instead of a fresh temporary one.
    /// The harness never deletes a directory given here, e.g. to start a server on an RDB file
    /// prepared in advance.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// How long a (re)start may take until `PING` answers and loading finished (default
    /// [`DEFAULT_READY_TIMEOUT`]); raise it for big datasets.
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Pins the server process (all its threads and forks) to this CPU with
    /// `sched_setaffinity`; call again to allow more CPUs. For benchmarks. The start panics if
    /// the CPU does not exist.
    ///
    /// ```no_run
    /// let server = pottery_tests::Server::builder().cpu(0).start();
    /// ```
    pub fn cpu(mut self, cpu: usize) -> Self {
        self.cpus.push(cpu);
        self
    }

    /// Starts the server in cluster mode (`--cluster-enabled yes`, its `nodes.conf` in the data
    /// dir) and also reserves its cluster bus port (port + 10000) so no other harness server
    /// takes it. Join servers into a cluster with [`start_cluster`](crate::start_cluster).
    ///
    /// ```no_run
    /// let node = pottery_tests::Server::builder().cluster_enabled().start();
    /// ```
    pub fn cluster_enabled(mut self) -> Self {
        self.cluster = true;
        self
    }

    pub(crate) fn ready_timeout_value(&self) -> Duration {
        self.ready_timeout
    }

    /// Starts the server and waits until it answers `PING`. Panics (with the server's log) if it
    /// does not come up.
    pub fn start(&self) -> Server {
        let module = match &self.module {
            // The pass without the module starts every default server plain.
            ModuleChoice::Default if crate::without_module() => None,
            ModuleChoice::Default => Some(crate::module_path()),
            ModuleChoice::Path(p) => Some(p.clone()),
            ModuleChoice::None => None,
        };
        let mut failures = Vec::new();
        for _ in 0..START_PORT_ATTEMPTS {
            let port_lock = ports::reserve_port();
            let port = port_lock.port();
            // A cluster node also listens on port + 10000 (its bus).
            let bus_lock = match self.cluster {
                true => match port
                    .checked_add(10_000)
                    .and_then(PortReservation::try_acquire)
                {
                    Some(lock) => Some(lock),
                    None => {
                        failures.push(format!("port {port}: its cluster bus port is taken"));
                        continue;
                    }
                },
                false => None,
            };
            let (dir, owns_dir) = match &self.data_dir {
                Some(d) => {
                    if let Err(e) = std::fs::create_dir_all(d) {
                        panic!("pottery-tests: cannot create data dir {d:?}: {e}");
                    }
                    (absolute(d), false)
                }
                None => (make_temp_dir(port), true),
            };
            let log_path = dir.join(LOG_FILE);
            match launch(self, module.as_deref(), port, &dir, &log_path) {
                Ok(child) => {
                    let pid = child.id();
                    return Server {
                        port,
                        options: self.clone(),
                        module,
                        dir,
                        owns_dir,
                        log_path,
                        state: Mutex::new(State {
                            child: Some(child),
                            pid,
                            paused: false,
                        }),
                        _port_lock: port_lock,
                        _bus_lock: bus_lock,
                    };
                }
                Err(LaunchError::AddrInUse(_)) => {
                    failures.push(format!("port {port}: address already in use"));
                    if owns_dir {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                }
                Err(LaunchError::Failed(msg)) => {
                    // The log is part of the message; keep the dir only if asked to.
                    if owns_dir && !keep_data() {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    panic!("pottery-tests: redis-server on port {port} (dir {dir:?}) failed to start: {msg}")
                }
            }
        }
        panic!(
            "pottery-tests: redis-server could not bind a port after {START_PORT_ATTEMPTS} attempts: {failures:?}"
        );
    }

    /// Starts `n` servers with these options concurrently (faster than one after another).
    /// Panics if a [`data_dir`](Self::data_dir) was given and `n > 1` (they would share it).
    pub fn start_many(&self, n: usize) -> Vec<Server> {
        assert!(
            self.data_dir.is_none() || n <= 1,
            "pottery-tests: start_many({n}) with one data_dir would share it between servers"
        );
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n).map(|_| scope.spawn(|| self.start())).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    }
}

/// A `redis-server` child process started by this test process, killed on drop.
///
/// All methods take `&self` (the process state is behind a mutex), so a `Server` can be shared
/// between threads (`&Server`, `Arc<Server>`). Dropping it — also while unwinding from a panic —
/// SIGKILLs the process (resuming it first if paused), reaps it, removes its temporary data dir
/// (unless the environment variable `POTTERY_KEEP_DATA` is set) and frees its port. If the test
/// process itself is killed, the server gets SIGKILL from the kernel (`PR_SET_PDEATHSIG`).
///
/// ```no_run
/// use pottery_tests::Server;
///
/// let server = Server::start();
/// let _: () = server.cmd(&["SET", "k", "v"]).unwrap();
/// let mut con = server.connection();
/// let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
/// assert_eq!(v, "v");
/// ```
pub struct Server {
    port: u16,
    options: ServerBuilder,
    module: Option<PathBuf>,
    dir: PathBuf,
    owns_dir: bool,
    log_path: PathBuf,
    state: Mutex<State>,
    // Dropped after `Drop::drop` killed the process.
    _port_lock: PortReservation,
    // The cluster bus port of a cluster node.
    _bus_lock: Option<PortReservation>,
}

#[derive(Debug)]
struct State {
    /// `None` once killed or shut down by the harness.
    child: Option<Child>,
    /// Pid of the latest process (kept after it is gone).
    pid: u32,
    paused: bool,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("port", &self.port)
            .field("pid", &self.pid())
            .field("dir", &self.dir)
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a server with the defaults (module loaded, no persistence) and waits until it
    /// answers `PING`.
    ///
    /// ```no_run
    /// let server = pottery_tests::Server::start();
    /// assert!(server.is_running());
    /// ```
    pub fn start() -> Server {
        ServerBuilder::default().start()
    }

    /// Options for a server to start; see [`ServerBuilder`].
    ///
    /// ```no_run
    /// let plain = pottery_tests::Server::builder().without_module().start();
    /// ```
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Starts `n` default servers concurrently, each on its own port.
    ///
    /// ```no_run
    /// let masters = pottery_tests::Server::start_many(3);
    /// let urls: Vec<String> = masters.iter().map(|s| s.url()).collect();
    /// ```
    pub fn start_many(n: usize) -> Vec<Server> {
        ServerBuilder::default().start_many(n)
    }

    /// The TCP port on 127.0.0.1; it stays the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Pid of the current (or, once killed, the latest) `redis-server` process.
    pub fn pid(&self) -> u32 {
        self.lock().pid
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// `"127.0.0.1:<port>"`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The module file this server loads, if any.
    pub fn module(&self) -> Option<&Path> {
        self.module.as_deref()
    }

    /// The options the server was started with (and is restarted with).
    pub fn options(&self) -> &ServerBuilder {
        &self.options
    }

    /// A `redis::Client` for this server (connects lazily).
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("pottery-tests: invalid server URL")
    }

    /// A new synchronous connection with [`DEFAULT_IO_TIMEOUT`] as connect, read and write
    /// timeout. Panics if the server does not accept it.
    ///
    /// ```no_run
    /// let server = pottery_tests::Server::start();
    /// let mut con = server.connection();
    /// let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    /// ```
    pub fn connection(&self) -> redis::Connection {
        self.connect_with_timeout(DEFAULT_IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("pottery-tests: cannot connect to {}: {e}", self.url()))
    }

    /// A new synchronous connection whose connect, read and write timeouts are `timeout`; returns
    /// the error instead of panicking (e.g. to check that a killed server refuses connections).
    pub fn connect_with_timeout(&self, timeout: Duration) -> RedisResult<redis::Connection> {
        connect(self.port, timeout)
    }

    /// Runs one command on a fresh connection (so it works across restarts) and converts the
    /// reply. `args` is anything `redis::ToRedisArgs`: `&["SET", "k", "v"]`, a `Vec<Vec<u8>>`,
    /// or a tuple mixing strings, bytes and numbers.
    ///
    /// ```no_run
    /// let server = pottery_tests::Server::start();
    /// let _: () = server.cmd(&["SET", "k", "v"]).unwrap();
    /// let n: i64 = server.cmd(("APPEND", "k", b"\x00\xff".as_slice())).unwrap();
    /// assert_eq!(n, 3);
    /// let v: Vec<u8> = server.cmd(&["GET", "k"]).unwrap();
    /// let err = server.cmd::<()>(&["POTTERY.LOCK", "k"]).unwrap_err();
    /// ```
    pub fn cmd<T: FromRedisValue>(&self, args: impl ToRedisArgs) -> RedisResult<T> {
        let mut con = self.connect_with_timeout(DEFAULT_IO_TIMEOUT)?;
        let mut cmd = redis::Cmd::new();
        cmd.arg(args);
        cmd.query(&mut con)
    }

    /// `INFO <section>` as text. Panics if the server does not answer.
    pub fn info(&self, section: &str) -> String {
        self.cmd(&["INFO", section])
            .unwrap_or_else(|e| panic!("pottery-tests: INFO {section} on {}: {e}", self.url()))
    }

    /// One field of `INFO <section>`, e.g. `info_field("replication", "role")` → `"master"`.
    pub fn info_field(&self, section: &str, field: &str) -> Option<String> {
        info_field(&self.info(section), field).map(str::to_owned)
    }

    /// One counter of the module's `INFO pottery` section (`pottery_waits`, ...).
    pub fn pottery_stat(&self, field: &str) -> u64 {
        self.info_field("pottery", field)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "pottery-tests: INFO pottery has no {field} on {}",
                    self.url()
                )
            })
    }

    /// How many clients are blocked in a command (`INFO clients` `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.info_field("clients", "blocked_clients")
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("pottery-tests: no blocked_clients on {}", self.url()))
    }

    /// Waits until exactly `count` clients are blocked (a wait for the server, not a timing
    /// assertion); panics after the ready timeout (10 s by default).
    pub fn await_blocked_clients(&self, count: usize) {
        let deadline = Instant::now() + self.options().ready_timeout_value();
        while self.blocked_clients() != count {
            assert!(
                Instant::now() < deadline,
                "pottery-tests: never {count} blocked clients on {} (now {})",
                self.url(),
                self.blocked_clients()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// How many times the server ran `command` (any case) since it started or the last
    /// `CONFIG RESETSTAT`, from `INFO commandstats` (0 if never).
    pub fn command_calls(&self, command: &str) -> u64 {
        let field = format!("cmdstat_{}", command.to_ascii_lowercase());
        self.info_field("commandstats", &field).map_or(0, |stats| {
            let calls = stats
                .split(',')
                .find_map(|part| part.strip_prefix("calls="))
                .expect("calls= in commandstats");
            calls.parse().expect("a number of calls")
        })
    }

    /// Waits, polling `INFO persistence` every 20 ms, until no AOF rewrite is in progress or
    /// scheduled (after a `BGREWRITEAOF`); false if that has not happened within `timeout`.
    /// Callers assert on it with their own message.
    pub fn aof_rewrite_finished_within(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let idle = |field| self.info_field("persistence", field).as_deref() == Some("0");
            if idle("aof_rewrite_in_progress") && idle("aof_rewrite_scheduled") {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The data dir (`dump.rdb`, `appendonlydir/`, `redis.log`); kept across restarts.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the file receiving the server's stdout and stderr (its log).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The server's log so far (all runs, since restarts append), lossily decoded.
    pub fn log(&self) -> String {
        read_log(&self.log_path, 0)
    }

    /// True if the process has been started and has not exited (a paused server is running).
    pub fn is_running(&self) -> bool {
        let mut st = self.lock();
        match st.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// True between [`pause`](Self::pause) and [`resume`](Self::resume).
    pub fn is_paused(&self) -> bool {
        self.lock().paused
    }

    /// SIGKILLs the server (resuming it first if paused) and reaps it; its port then refuses
    /// connections until [`restart`](Self::restart). No-op if it is not running.
    pub fn kill(&self) {
        kill_locked(&mut self.lock());
    }

    /// Freezes the server with SIGSTOP (waits until the kernel reports it stopped). Connections
    /// are still accepted by the kernel but nothing is answered until [`resume`](Self::resume).
    pub fn pause(&self) {
        let mut st = self.lock();
        assert!(
            st.child.is_some(),
            "pottery-tests: pause() on a server that is not running"
        );
        if st.paused {
            return;
        }
        assert!(
            process::signal(st.pid, libc::SIGSTOP),
            "pottery-tests: SIGSTOP to pid {} failed",
            st.pid
        );
        st.paused = true;
        if !process::wait_stopped(st.pid, true, self.options.ready_timeout) {
            panic!("pottery-tests: pid {} did not stop after SIGSTOP", st.pid);
        }
    }

    /// Continues a paused server with SIGCONT. No-op if it is not paused.
    pub fn resume(&self) {
        let mut st = self.lock();
        if !st.paused {
            return;
        }
        st.paused = false;
        if st.child.is_some() {
            process::signal(st.pid, libc::SIGCONT);
            process::wait_stopped(st.pid, false, self.options.ready_timeout);
        }
    }

    /// Starts the server again on the same port and data dir with the same options, killing the
    /// running process first if there is one, and waits until it answers `PING` and has finished
    /// loading (`loading:0`). Retries while the port is still busy. A replica comes back as a
    /// master: call [`replicate_from`](Self::replicate_from) again.
    pub fn restart(&self) {
        let mut st = self.lock();
        kill_locked(&mut st);
        let mut last_log = String::new();
        for _ in 0..RESTART_BIND_ATTEMPTS {
            match launch(
                &self.options,
                self.module.as_deref(),
                self.port,
                &self.dir,
                &self.log_path,
            ) {
                Ok(child) => {
                    st.pid = child.id();
                    st.child = Some(child);
                    st.paused = false;
                    return;
                }
                Err(LaunchError::AddrInUse(log)) => {
                    last_log = log;
                    std::thread::sleep(RESTART_BIND_PAUSE);
                }
                Err(LaunchError::Failed(msg)) => {
                    drop(st);
                    panic!(
                        "pottery-tests: restart of redis-server on port {} failed: {msg}",
                        self.port
                    );
                }
            }
        }
        drop(st);
        panic!(
            "pottery-tests: restart: port {} still in use after {RESTART_BIND_ATTEMPTS} attempts; last log:\n{last_log}",
            self.port
        );
    }

    /// Graceful stop: sends `SHUTDOWN` (which saves an RDB if save points are configured, i.e.
    /// with [`ServerBuilder::rdb`]) and waits for the process to exit. Panics if the server
    /// refuses or does not exit in time. No-op if it is not running.
    pub fn shutdown(&self) {
        let mut st = self.lock();
        let Some(child) = st.child.as_mut() else {
            return;
        };
        if !matches!(child.try_wait(), Ok(None)) {
            kill_locked(&mut st);
            return;
        }
        if st.paused {
            process::signal(st.pid, libc::SIGCONT);
            st.paused = false;
        }
        let reply: RedisResult<redis::Value> = self.cmd(&["SHUTDOWN"]);
        let deadline = Instant::now() + self.options.ready_timeout;
        loop {
            let child = st.child.as_mut().expect("child present");
            if let Ok(Some(_)) = child.try_wait() {
                st.child = None;
                return;
            }
            if Instant::now() >= deadline {
                kill_locked(&mut st);
                drop(st);
                panic!(
                    "pottery-tests: redis-server on port {} did not exit after SHUTDOWN (reply {reply:?}); log:\n{}",
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock must not stop Drop from killing the process.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        let crashed = match st.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(Some(status))) => Some(status),
            _ => None,
        };
        let pid = st.pid;
        kill_locked(st);
        if let Some(status) = crashed {
            // The server died on its own (e.g. the module crashed it): say so, with the log tail.
            eprintln!(
                "pottery-tests: redis-server on port {} (pid {pid}) had exited by itself ({status}); log tail:\n{}",
                self.port,
                tail(&read_log(&self.log_path, 0), 40)
            );
        }
        if self.owns_dir {
            if keep_data() {
                eprintln!(
                    "pottery-tests: POTTERY_KEEP_DATA set: keeping {:?} (port {})",
                    self.dir, self.port
                );
            } else {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }
    }
}

fn keep_data() -> bool {
    std::env::var_os("POTTERY_KEEP_DATA").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Kills and reaps the current process, if any (resuming it first if paused).
fn kill_locked(st: &mut State) {
    if let Some(mut child) = st.child.take() {
        if matches!(child.try_wait(), Ok(None)) {
            if st.paused {
                process::signal(st.pid, libc::SIGCONT);
            }
            // Child::kill sends SIGKILL to this child's pid (never by name).
            let _ = child.kill();
        }
        let _ = child.wait();
    }
    st.paused = false;
}

/// The value of `field` in an `INFO` reply.
///
/// ```
/// let info = "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n";
/// assert_eq!(pottery_tests::info_field(info, "role"), Some("master"));
/// assert_eq!(pottery_tests::info_field(info, "nope"), None);
/// ```
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == field).then(|| v.trim_end())
    })
}

fn connect(port: u16, timeout: Duration) -> RedisResult<redis::Connection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    let con = client.get_connection_with_timeout(timeout)?;
    con.set_read_timeout(Some(timeout))?;
    con.set_write_timeout(Some(timeout))?;
    Ok(con)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn make_temp_dir(port: u16) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = absolute(&std::env::temp_dir());
    for _ in 0..1000 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("pottery-test-{}-{port}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("pottery-tests: cannot create data dir {dir:?}: {e}"),
        }
    }
    panic!("pottery-tests: cannot create a fresh data dir under {base:?}");
}

/// The server binary every harness server runs: env `POTTERY_REDIS_SERVER` (e.g. a
/// `valkey-server`), else `redis-server` from `PATH`.
pub fn redis_server_binary() -> OsString {
    std::env::var_os("POTTERY_REDIS_SERVER").unwrap_or_else(|| "redis-server".into())
}

fn server_args(
    opts: &ServerBuilder,
    module: Option<&Path>,
    port: u16,
    dir: &Path,
) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |s: &dyn AsRef<OsStr>| a.push(s.as_ref().to_owned());
    push(&"--port");
    push(&port.to_string());
    push(&"--bind");
    push(&"127.0.0.1");
    push(&"--daemonize");
    push(&"no");
    push(&"--dir");
    push(&dir);
    push(&"--save");
    push(&if opts.rdb { RDB_SAVE_POINTS } else { "" });
    push(&"--appendonly");
    push(&if opts.aof { "yes" } else { "no" });
    if opts.fsync_always {
        push(&"--appendfsync");
        push(&"always");
    }
    push(&"--enable-debug-command");
    push(&"local");
    push(&"--enable-module-command");
    push(&"local");
    push(&"--repl-diskless-sync-delay");
    push(&"0");
    if let Some(m) = module {
        push(&"--loadmodule");
        push(&m);
        for arg in &opts.module_args {
            push(arg);
        }
    }
    if opts.cluster {
        push(&"--cluster-enabled");
        push(&"yes");
        push(&"--cluster-config-file");
        push(&"nodes.conf");
    }
    for arg in &opts.args {
        push(arg);
    }
    a
}

enum LaunchError {
    /// The process exited because its port was taken; carries the log of this attempt.
    AddrInUse(String),
    /// Anything else; carries a description and the log.
    Failed(String),
}

/// Spawns one `redis-server` on `port` and waits until it is ready.
fn launch(
    opts: &ServerBuilder,
    module: Option<&Path>,
    port: u16,
    dir: &Path,
    log_path: &Path,
) -> Result<Child, LaunchError> {
    let log_start = std::fs::metadata(log_path).map(|m| m.len()).unwrap_or(0);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(|e| LaunchError::Failed(format!("cannot open log file {log_path:?}: {e}")))?;
    let log2 = log
        .try_clone()
        .map_err(|e| LaunchError::Failed(format!("cannot clone log file handle: {e}")))?;
    let bin = redis_server_binary();
    let mut cmd = Command::new(&bin);
    cmd.args(server_args(opts, module, port, dir))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    let mut child = spawn_with_deathsig(cmd, &opts.cpus).map_err(|e| {
        let cpus = if opts.cpus.is_empty() {
            String::new()
        } else {
            format!("; or CPUs {:?} are not available", opts.cpus)
        };
        LaunchError::Failed(format!(
            "cannot run {bin:?}: {e} (is redis-server installed? POTTERY_REDIS_SERVER overrides the binary{cpus})"
        ))
    })?;
    let pid = child.id();
    let deadline = Instant::now() + opts.ready_timeout;
    let mut last_err: String;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = read_log(log_path, log_start);
            return Err(if log.contains("Address already in use") {
                LaunchError::AddrInUse(log)
            } else {
                LaunchError::Failed(format!(
                    "redis-server exited ({status}) before answering PING; its log:\n{log}"
                ))
            });
        }
        match probe(port, pid) {
            Ok(true) => return Ok(child),
            Ok(false) => last_err = "still loading".into(),
            Err(e) => last_err = e,
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = read_log(log_path, log_start);
            return Err(LaunchError::Failed(format!(
                "not ready after {:?} (last: {last_err}); its log:\n{log}",
                opts.ready_timeout
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Ok(true) if the server with `pid` answers PING on `port` and is not loading.
fn probe(port: u16, pid: u32) -> Result<bool, String> {
    let mut con = connect(port, Duration::from_secs(1)).map_err(|e| e.to_string())?;
    let pong: String = redis::cmd("PING")
        .query(&mut con)
        .map_err(|e| e.to_string())?;
    if pong != "PONG" {
        return Err(format!("PING answered {pong:?}"));
    }
    let info: String = redis::cmd("INFO")
        .arg("server")
        .arg("persistence")
        .query(&mut con)
        .map_err(|e| e.to_string())?;
    let answering_pid = info_field(&info, "process_id");
    if answering_pid != Some(pid.to_string().as_str()) {
        return Err(format!(
            "port {port} is answered by process {answering_pid:?}, not by our pid {pid}"
        ));
    }
    Ok(info_field(&info, "loading") == Some("0"))
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn read_log(path: &Path, from: u64) -> String {
    let mut buf = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let _ = f.read_to_end(&mut buf);
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_reports_a_taken_port_as_addr_in_use() {
        let reservation = ports::reserve_port();
        let port = reservation.port();
        let _listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let dir = make_temp_dir(port);
        let opts = ServerBuilder::new().without_module();
        let result = launch(&opts, None, port, &dir, &dir.join(LOG_FILE));
        let _ = std::fs::remove_dir_all(&dir);
        match result {
            Err(LaunchError::AddrInUse(log)) => assert!(log.contains("Address already in use")),
            Err(LaunchError::Failed(msg)) => panic!("expected AddrInUse, got: {msg}"),
            Ok(_) => panic!("redis-server bound a port that is taken"),
        }
    }

    #[test]
    fn server_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Server>();
        assert_send_sync::<ServerBuilder>();
    }
}
