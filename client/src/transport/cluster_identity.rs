//! Which Redis Cluster a connection leads to, told by the IDs of the cluster's nodes.
//!
//! The URLs a container was given cannot tell: two clients may list different seed nodes of one
//! cluster, and a hash slot is the same number on every cluster. A node's ID is a random 160-bit
//! value (40 hex digits) that it draws once and keeps in its `nodes.conf`, so the nodes of two
//! clusters never share one: two connections whose views of their cluster (`CLUSTER NODES`)
//! name a common node lead to the same cluster.
//!
//! A view is kept for [`NODE_IDS_TRUSTED_FOR`] and then learned again. Clusters change: nodes
//! are added and replaced (with new IDs), and a node taken out of a cluster with `CLUSTER RESET
//! SOFT` keeps its ID and may join another. An old view of a cluster whose nodes were all
//! replaced shares no node with a new one, which only costs combining in the client; a view
//! naming a node that has since moved to another cluster would take the two for one, which is
//! why no view is trusted for long: that takes a node moved within this time of the view.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a view of a cluster's nodes is kept before a container asks for it again: one
/// `CLUSTER NODES` per container at most this often, whatever the number of operations over
/// several containers.
pub(crate) const NODE_IDS_TRUSTED_FOR: Duration = Duration::from_secs(30);

/// The IDs of the nodes of a cluster, as one of its nodes lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeIds(BTreeSet<String>);

impl NodeIds {
    /// The node IDs of a `CLUSTER NODES` reply: the first field of each line, when it is 40 hex
    /// digits (lowercased; Redis writes them lowercase). Other lines are skipped.
    pub(crate) fn parse(cluster_nodes: &str) -> Self {
        let ids = cluster_nodes
            .lines()
            .filter_map(|line| line.split_ascii_whitespace().next())
            .filter(|id| id.len() == 40 && id.bytes().all(|byte| byte.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase)
            .collect();
        Self(ids)
    }

    /// Whether no node ID was found.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether both name a common node: they are views of one cluster.
    pub(crate) fn overlap(&self, other: &Self) -> bool {
        !self.0.is_disjoint(&other.0)
    }
}

/// What a connection learned of its cluster's nodes, and when.
pub(crate) struct KnownNodes {
    /// `None` when the cluster would not tell (`CLUSTER NODES` refused, such as by an ACL).
    ids: Option<Arc<NodeIds>>,
    learned: Instant,
}

impl KnownNodes {
    pub(crate) fn new(ids: Option<Arc<NodeIds>>) -> Self {
        Self {
            ids,
            learned: Instant::now(),
        }
    }

    pub(crate) fn ids(&self) -> Option<Arc<NodeIds>> {
        self.ids.clone()
    }

    /// Whether the view is older than [`NODE_IDS_TRUSTED_FOR`] at `now`.
    pub(crate) fn is_stale_at(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.learned) > NODE_IDS_TRUSTED_FOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CLUSTER NODES` of a Redis 7 node: masters, a replica, a failed node, a node in
    /// handshake, a migrating slot and hostnames.
    const REPLY: &str = "\
07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002,host-2 master - 0 1426238316232 2 connected 5461-10922
292F8B365BB7EDB5E285CAF0B7E6DDC7265D2F4F 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383 [93->-e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca]
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 master,fail - 1426238316232 1426238315232 5 disconnected
824fe116063bc5fcf9f4ffd895bc17aee7731ac3 :0@0 handshake,noaddr - 0 0 0 connected
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460
";

    fn ids(text: &str) -> Vec<String> {
        NodeIds::parse(text).0.into_iter().collect()
    }

    #[test]
    fn node_ids_are_the_first_field_of_each_line() {
        assert_eq!(
            ids(REPLY),
            [
                "07c37dfeb235213a872192d90877d0cd55635b91",
                "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f",
                "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1",
                "6ec23923021cf3ffec47632106199cb7f496ce01",
                "824fe116063bc5fcf9f4ffd895bc17aee7731ac3",
                "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca",
            ]
        );
        // CRLF line ends, leading blanks and a missing final newline change nothing.
        let crlf = REPLY.replace('\n', "\r\n");
        assert_eq!(ids(&crlf), ids(REPLY));
        assert_eq!(ids(&format!("  {}", REPLY.trim_end())), ids(REPLY));
    }

    #[test]
    fn lines_without_a_node_id_are_skipped() {
        assert!(NodeIds::parse("").is_empty());
        assert!(NodeIds::parse("\n\n").is_empty());
        assert!(NodeIds::parse("ERR This instance has cluster support disabled").is_empty());
        // One digit short, one too many, and a non-hex letter.
        let near_misses = "\
07c37dfeb235213a872192d90877d0cd55635b9 127.0.0.1:1@2 master - 0 0 1 connected
07c37dfeb235213a872192d90877d0cd55635b911 127.0.0.1:1@2 master - 0 0 1 connected
07c37dfeb235213a872192d90877d0cd55635b9g 127.0.0.1:1@2 master - 0 0 1 connected
";
        assert!(NodeIds::parse(near_misses).is_empty());
    }

    #[test]
    fn views_of_one_cluster_overlap_and_of_two_do_not() {
        let whole = NodeIds::parse(REPLY);
        // Another node's view, before it learned of the replica.
        let partial: String = REPLY
            .lines()
            .skip(1)
            .map(|line| format!("{line}\n"))
            .collect();
        assert!(whole.overlap(&NodeIds::parse(&partial)));
        let other = NodeIds::parse(concat!(
            "0123456789abcdef0123456789abcdef01234567 127.0.0.1:7000@17000 myself,master",
            " - 0 0 1 connected 0-16383",
        ));
        assert!(!whole.overlap(&other));
        assert!(!whole.overlap(&NodeIds::parse("")));
        assert!(!NodeIds::parse("").overlap(&NodeIds::parse("")));
    }

    #[test]
    fn a_view_goes_stale_after_the_trusted_time() {
        let known = KnownNodes::new(None);
        assert!(!known.is_stale_at(known.learned));
        assert!(!known.is_stale_at(known.learned + NODE_IDS_TRUSTED_FOR));
        assert!(known.is_stale_at(known.learned + NODE_IDS_TRUSTED_FOR + Duration::from_millis(1)));
        // A clock read before the view was learned does not make it stale.
        if let Some(earlier) = known.learned.checked_sub(Duration::from_millis(1)) {
            assert!(!known.is_stale_at(earlier));
        }
    }
}
