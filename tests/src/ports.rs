//! Free loopback ports, reserved across threads *and* processes.
//!
//! A port is handed out only if
//! 1. this process can take an exclusive `flock` on `$TMPDIR/pottery-tests-ports/<port>` (every
//!    harness user, in this process or in another one such as a nextest sibling, holds that lock
//!    for as long as its [`Server`](crate::Server) lives, including while the server is killed and
//!    waiting for a restart), and
//! 2. the port can be bound on 127.0.0.1 right now (nothing else listens on it).
//!
//! Another program may still grab the port between the check and `redis-server`'s own bind; the
//! server module detects "Address already in use" in the server's log and asks for another port.

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::ops::RangeInclusive;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use rand::Rng;

/// Ports are drawn from here, minus the kernel's ephemeral range (outgoing connections' local
/// ports, read from `/proc/sys/net/ipv4/ip_local_port_range`).
const PORT_RANGE: RangeInclusive<u16> = 15_000..=32_767;
/// How many random ports to try before giving up.
const MAX_TRIES: usize = 2_000;

/// An exclusive reservation of one loopback TCP port among all harness users (threads and
/// processes), released on drop. The port itself is not bound: start your own listener on it.
///
/// ```no_run
/// let reservation = pottery_tests::reserve_port();
/// let port: u16 = reservation.port();
/// // ... start something on 127.0.0.1:port, keep `reservation` alive meanwhile ...
/// ```
#[derive(Debug)]
pub struct PortReservation {
    port: u16,
    path: PathBuf,
    // Closing the file releases the flock; kept last so that it is dropped after `path` is
    // unlinked in `Drop`.
    _file: File,
}

impl PortReservation {
    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Takes the lock for `port` if nobody (in any process) holds it.
    pub(crate) fn try_acquire(port: u16) -> Option<PortReservation> {
        Self::try_acquire_in(&lock_dir(), port)
    }

    fn try_acquire_in(dir: &std::path::Path, port: u16) -> Option<PortReservation> {
        let path = dir.join(port.to_string());
        // The previous owner unlinks the file before closing it, so the file we locked may have
        // been unlinked between our open() and flock(): check that the path still names it.
        for _ in 0..16 {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .ok()?;
            // SAFETY: flock on a valid, owned file descriptor.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc != 0 {
                return None;
            }
            let (Ok(ours), Ok(named)) = (file.metadata(), std::fs::metadata(&path)) else {
                continue;
            };
            if ours.dev() == named.dev() && ours.ino() == named.ino() {
                return Some(PortReservation {
                    port,
                    path,
                    _file: file,
                });
            }
        }
        None
    }
}

impl Drop for PortReservation {
    fn drop(&mut self) {
        // Unlink while still holding the lock (see `try_acquire`), then the file closes.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn lock_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("pottery-tests-ports");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("pottery-tests: cannot create the port lock directory {dir:?}: {e}");
    }
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| sweep_stale_locks(&dir));
    dir
}

/// Removes lock files left behind by processes that died without running `Drop` (their flock
/// died with them). Safe against concurrent users: a file is unlinked only while we hold its
/// lock, exactly like `PortReservation::drop`, and `try_acquire` re-checks the inode after locking.
fn sweep_stale_locks(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(port) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u16>().ok())
        else {
            continue;
        };
        // Acquiring and dropping the lock unlinks the file.
        drop(PortReservation::try_acquire_in(dir, port));
    }
}

/// True if nothing listens on 127.0.0.1:`port` (or on the wildcard address) right now.
pub(crate) fn port_is_bindable(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// The kernel's ephemeral port range, if readable.
fn ephemeral_range() -> Option<RangeInclusive<u16>> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<u16>());
    match (it.next(), it.next()) {
        (Some(Ok(lo)), Some(Ok(hi))) if lo <= hi => Some(lo..=hi),
        _ => None,
    }
}

/// Reserves a random free loopback port: nothing listens on it now, it is outside the kernel's
/// ephemeral range, and no other harness user (thread or process) gets it while the returned
/// reservation lives. Panics if no port is found after many random tries.
pub fn reserve_port() -> PortReservation {
    let ephemeral = ephemeral_range();
    let candidates: Vec<RangeInclusive<u16>> = match &ephemeral {
        Some(e) => {
            let mut v = Vec::new();
            if *PORT_RANGE.start() < *e.start() {
                v.push(*PORT_RANGE.start()..=(*e.start() - 1).min(*PORT_RANGE.end()));
            }
            if *PORT_RANGE.end() > *e.end() {
                v.push((*e.end() + 1).max(*PORT_RANGE.start())..=*PORT_RANGE.end());
            }
            if v.is_empty() {
                // The ephemeral range swallows ours: use what is left of the high ports.
                if *e.start() > 10_000 {
                    v.push(10_000..=*e.start() - 1);
                }
                if *e.end() < 65_000 {
                    v.push(*e.end() + 1..=65_000);
                }
            }
            if v.is_empty() {
                v.push(PORT_RANGE);
            }
            v
        }
        None => vec![PORT_RANGE],
    };
    let total: u32 = candidates
        .iter()
        .map(|r| u32::from(*r.end()) - u32::from(*r.start()) + 1)
        .sum();
    let mut rng = rand::rng();
    for _ in 0..MAX_TRIES {
        let mut pick = rng.random_range(0..total);
        let mut port = *PORT_RANGE.start();
        for r in &candidates {
            let len = u32::from(*r.end()) - u32::from(*r.start()) + 1;
            if pick < len {
                // pick < len <= 65536 - start, so this fits in u16.
                port = *r.start() + pick as u16;
                break;
            }
            pick -= len;
        }
        if let Some(lock) = PortReservation::try_acquire(port) {
            if port_is_bindable(port) {
                return lock;
            }
        }
    }
    panic!("pottery-tests: found no free loopback port after {MAX_TRIES} random tries");
}

/// A free loopback port for a server the test starts itself (e.g. through a script), reserved
/// against other harness users until this process exits. Prefer [`reserve_port`] where the
/// reservation can be dropped earlier.
///
/// ```no_run
/// let port = pottery_tests::free_port();
/// let url = format!("redis://127.0.0.1:{port}/");
/// ```
pub fn free_port() -> u16 {
    let reservation = reserve_port();
    let port = reservation.port();
    // Never unlocked by us: the flock goes away with the process, and a later sweep removes
    // the file.
    std::mem::forget(reservation);
    port
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserved_port_is_not_handed_out_again_until_released() {
        let lock = reserve_port();
        let port = lock.port();
        assert!(PortReservation::try_acquire(port).is_none());
        drop(lock);
        let again = PortReservation::try_acquire(port).expect("released port can be locked again");
        assert_eq!(again.port(), port);
    }

    #[test]
    fn reserved_ports_avoid_the_ephemeral_range() {
        let lock = reserve_port();
        if let Some(e) = ephemeral_range() {
            if *PORT_RANGE.start() < *e.start() || *PORT_RANGE.end() > *e.end() {
                assert!(!e.contains(&lock.port()), "{} in {e:?}", lock.port());
            }
        }
    }
}
