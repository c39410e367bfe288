//! Spawning and signalling child processes.
//!
//! Children get `PR_SET_PDEATHSIG = SIGKILL`, so they die when the test process dies, even if it is
//! killed and no `Drop` runs. That signal is tied to the *thread* that forked the child, not to the
//! process: a server forked by a short-lived thread (a `start_many` worker, or a test's thread when
//! the server is stored in a `static`) would be SIGKILLed as soon as that thread exits. So every
//! fork happens on one dedicated thread that lives as long as the process.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

fn spawner() -> &'static mpsc::Sender<Job> {
    static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("pottery-tests-spawner".into())
            .spawn(move || {
                for job in rx {
                    // A panic here would end the thread and SIGKILL every child it forked.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .expect("pottery-tests: cannot start the spawner thread");
        tx
    })
}

/// Spawns `cmd` from the long-lived spawner thread, with `PR_SET_PDEATHSIG = SIGKILL`, pinned to
/// `cpus` unless that is empty.
pub(crate) fn spawn_with_deathsig(mut cmd: Command, cpus: &[usize]) -> io::Result<Child> {
    // SAFETY: getpid is always safe.
    let parent = unsafe { libc::getpid() };
    let affinity = if cpus.is_empty() {
        None
    } else {
        // SAFETY: an all-zero cpu_set_t is a valid empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &cpu in cpus {
            if cpu >= libc::CPU_SETSIZE as usize {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("CPU {cpu} is out of range"),
                ));
            }
            // SAFETY: cpu < CPU_SETSIZE was checked above.
            unsafe { libc::CPU_SET(cpu, &mut set) };
        }
        Some(set)
    };
    // SAFETY: the closure only makes async-signal-safe system calls (prctl, getppid,
    // sched_setaffinity) on data copied before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(set) = &affinity {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl: then nobody would ever kill us.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    spawner()
        .send(Box::new(move || {
            let _ = tx.send(cmd.spawn());
        }))
        .map_err(|_| io::Error::other("pottery-tests: the spawner thread is gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("pottery-tests: the spawner thread dropped the request"))?
}

/// Sends `sig` to `pid`; true on success.
pub(crate) fn signal(pid: u32, sig: libc::c_int) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: plain kill(2) on a positive pid (never 0 or -1, which would hit process groups).
    unsafe { libc::kill(pid, sig) == 0 }
}

/// True if a live (non-zombie) process with this pid exists: `kill(pid, 0)` succeeds and
/// `/proc/<pid>/stat` does not say zombie. A zombie counts as dead because an orphaned server is
/// reaped by whatever init the machine (or container) has, possibly never.
///
/// ```no_run
/// let server = pottery_tests::Server::start();
/// let pid = server.pid();
/// drop(server);
/// assert!(!pottery_tests::pid_alive(pid));
/// ```
pub fn pid_alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if p <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(p, 0) };
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists && !matches!(proc_state(pid), Some('Z') | Some('X'))
}

/// The state letter of `/proc/<pid>/stat` (`R`, `S`, `T` for stopped, `Z`, ...).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: the state follows the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next()?.chars().next()
}

/// Waits (up to `timeout`) until the process is stopped (`stopped == true`) or no longer stopped.
/// Returns whether it got there.
pub(crate) fn wait_stopped(pid: u32, stopped: bool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match proc_state(pid) {
            Some(c) if (c == 'T' || c == 't') == stopped => return true,
            // Gone, or a zombie that will never stop.
            None | Some('Z') | Some('X') => return false,
            _ => {}
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
