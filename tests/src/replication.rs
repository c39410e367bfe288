//! Master/replica setup and waiting for replicas to catch up.

use std::time::{Duration, Instant};

use crate::server::{info_field, tail};
use crate::Server;

const POLL: Duration = Duration::from_millis(10);

impl Server {
    /// Makes this server a replica of `master` (`REPLICAOF 127.0.0.1 <port>`) and waits until the
    /// link is up, the initial sync has finished and the replica has caught up with the master's
    /// replication offset. Panics with both servers' `INFO replication` if that does not happen
    /// within the ready timeout (10 s by default).
    ///
    /// Not remembered across [`restart`](Self::restart): call it again after restarting a
    /// replica.
    ///
    /// ```no_run
    /// use pottery_tests::{wait_for_replication, Server};
    ///
    /// let master = Server::start();
    /// let replica = Server::start();
    /// replica.replicate_from(&master);
    /// let _: () = master.cmd(&["SET", "k", "v"]).unwrap();
    /// wait_for_replication(&master, &replica);
    /// assert_eq!(replica.cmd::<String>(&["GET", "k"]).unwrap(), "v");
    /// ```
    pub fn replicate_from(&self, master: &Server) {
        assert_ne!(
            self.port(),
            master.port(),
            "a server cannot replicate from itself"
        );
        let reply: String = self
            .cmd(&["REPLICAOF", "127.0.0.1", &master.port().to_string()])
            .unwrap_or_else(|e| panic!("pottery-tests: REPLICAOF on {}: {e}", self.url()));
        assert!(reply.starts_with("OK"), "REPLICAOF answered {reply:?}");
        let deadline = Instant::now() + self.options().ready_timeout_value();
        loop {
            let info = self.info("replication");
            let up = info_field(&info, "master_link_status") == Some("up");
            let syncing = info_field(&info, "master_sync_in_progress") != Some("0");
            if up && !syncing {
                break;
            }
            if Instant::now() >= deadline {
                panic!(
                    "pottery-tests: replica {} did not finish syncing from {}.\nreplica INFO:\n{info}\nmaster INFO:\n{}\nreplica log tail:\n{}",
                    self.addr(),
                    master.addr(),
                    master.info("replication"),
                    tail(&self.log(), 30),
                );
            }
            std::thread::sleep(POLL);
        }
        wait_for_replication(master, self);
    }
}

/// Waits until `replica` has processed everything `master` had replicated when this was called:
/// the replica's `slave_repl_offset` reaches the master's `master_repl_offset` (and the link is
/// up). Panics with both servers' `INFO replication` after the replica's ready timeout (10 s by
/// default).
///
/// ```no_run
/// # let (master, replica) = (pottery_tests::Server::start(), pottery_tests::Server::start());
/// # replica.replicate_from(&master);
/// let _: i64 = master.cmd(&["INCR", "n"]).unwrap();
/// pottery_tests::wait_for_replication(&master, &replica);
/// assert_eq!(replica.cmd::<i64>(&["GET", "n"]).unwrap(), 1);
/// ```
pub fn wait_for_replication(master: &Server, replica: &Server) {
    let master_info = master.info("replication");
    let target: i64 = info_field(&master_info, "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("pottery-tests: no master_repl_offset in:\n{master_info}"));
    let deadline = Instant::now() + replica.options().ready_timeout_value();
    loop {
        let info = replica.info("replication");
        let up = info_field(&info, "master_link_status") == Some("up");
        let master_port = info_field(&info, "master_port");
        let offset: Option<i64> =
            info_field(&info, "slave_repl_offset").and_then(|v| v.parse().ok());
        if up && master_port == Some(master.port().to_string().as_str()) {
            if let Some(offset) = offset {
                if offset >= target {
                    return;
                }
            }
        }
        if Instant::now() >= deadline {
            panic!(
                "pottery-tests: replica {} did not reach master {}'s offset {target}.\nreplica INFO:\n{info}\nmaster INFO:\n{}",
                replica.addr(),
                master.addr(),
                master.info("replication"),
            );
        }
        std::thread::sleep(POLL);
    }
}
