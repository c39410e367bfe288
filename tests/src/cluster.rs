//! A Redis Cluster of harness servers on loopback, made with `redis-cli --cluster create`.

use crate::Server;
use std::process::Command;
use std::time::{Duration, Instant};

/// Starts `masters` cluster-enabled servers with the module, joins them into one cluster with
/// every slot assigned (no replicas) and waits until every node reports `cluster_state:ok`.
///
/// ```no_run
/// let nodes = pottery_tests::start_cluster(3);
/// let urls: Vec<String> = nodes.iter().map(|node| node.url()).collect();
/// let client = redis::cluster::ClusterClient::new(urls).unwrap();
/// ```
pub fn start_cluster(masters: usize) -> Vec<Server> {
    start_cluster_of(&Server::builder(), masters)
}

/// As [`start_cluster`], with servers made by `builder` (for example
/// [`without_module`](crate::ServerBuilder::without_module)); cluster mode is turned on.
pub fn start_cluster_of(builder: &crate::ServerBuilder, masters: usize) -> Vec<Server> {
    assert!(
        masters >= 3,
        "redis-cli --cluster create needs at least 3 masters"
    );
    let nodes = builder.clone().cluster_enabled().start_many(masters);
    let addresses: Vec<String> = nodes.iter().map(Server::addr).collect();
    let output = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .expect("redis-cli runs");
    assert!(
        output.status.success(),
        "redis-cli --cluster create failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let started = Instant::now();
    for node in &nodes {
        while node
            .info_field_of("CLUSTER", &["INFO"], "cluster_state")
            .as_deref()
            != Some("ok")
        {
            assert!(
                started.elapsed() < crate::DEFAULT_READY_TIMEOUT,
                "the cluster did not become ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    nodes
}

impl Server {
    /// A `field:value` line of a command's text reply, such as `cluster_state` of
    /// `CLUSTER INFO`; `None` if the command fails or lacks the field.
    pub fn info_field_of(&self, command: &str, args: &[&str], field: &str) -> Option<String> {
        let mut full = vec![command];
        full.extend_from_slice(args);
        let text: String = self.cmd(&full).ok()?;
        crate::info_field(&text, field).map(str::to_string)
    }
}
