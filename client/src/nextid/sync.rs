//! [`NextId`]: distributed, monotonically increasing IDs over one or more Redis masters, on
//! the sync loop.

use std::ops::RangeInclusive;
use std::sync::Mutex;

#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::nextid::builder::{NextIdBuilder, Settings};
use crate::nextid::claim::Sequence;
use crate::nextid::info::{sequence_face, SequenceInfo};
use crate::transport::sync_masters::SyncMasters;

/// A distributed sequence of unique, increasing `i64` IDs, agreed by a majority of Redis
/// masters with the pottery module loaded (sync).
///
/// Built with [`NextId::builder`]; see [Protocol](#protocol) below for how IDs are agreed and
/// what the masters must guarantee. IDs start at 1 and increase across completed calls, by any client
/// of the same key, but are not gap-free: a failed attempt burns its proposal.
///
/// `NextId` is also an endless [`Iterator`] of `Result<i64>`. Calls take `&mut self`; to share
/// one between threads, wrap it in a `Mutex` (or give each thread its own: they coordinate
/// through the masters).
///
/// # Protocol
///
/// Each master stores a decimal counter at `nextid:<name>` and runs
/// `POTTERY.NEXTID.CLAIM key value [FROM first]`, which stores `value` only if the whole block
/// `first..=value` lies above the stored counter and replies `[1, value]` or `[0, current]`.
/// With n masters and q = floor(n/2) + 1:
///
/// 1. propose p = max(last known, 0) + 1 (for a block of k IDs: first = p, value = p + k - 1);
/// 2. send the claim to every master in parallel, each with the per-master timeout;
/// 3. as soon as q masters replied `[1, value]`, hand out `p..=value`;
/// 4. otherwise next proposal = max(value, every current seen) + 1 — never the same p again,
///    because a `[0, p]` may be this client's own earlier claim that timed out — and retry
///    until the call's deadline: at once if a master showed that another client is ahead (the
///    new proposal is fresh), else after a random jitter in `0..retry_delay` (two clients that
///    split the masters with the same proposal, or failing masters).
///
/// Two completed calls always got their majorities from sets of masters that share at least one
/// master, which stored the first block and refused anything not above it: IDs are unique and
/// increase across completed calls, whichever client makes them. Python pottery 3.0.1's `NextID`
/// stores the same counter at the same key and claims with "set if greater", so Python and Rust
/// services can draw from one sequence.
///
/// The masters must persist every write (`appendonly yes`, `appendfsync always`) and must not
/// fail over to asynchronous replicas: a master that comes back with an older counter can let a
/// duplicate through.
///
/// # Example
///
/// ```no_run
/// let mut ids = pottery::NextId::builder()
///     .name("orders")
///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
///     .build()?;
/// let id = ids.next_id()?;
/// let block = ids.next_ids(100)?;
/// assert!(*block.start() > id);
/// for id in ids.by_ref().take(3) {
///     println!("{}", id?);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct NextId {
    info: SequenceInfo,
    /// Locked by the sync loop, for one round at a time (never contended: calls take `&mut`).
    masters: Mutex<SyncMasters>,
    sequence: Sequence,
}

sequence_face!(NextId, "NextId", "last": |ids| ids.sequence.last());

impl NextId {
    /// Starts a [`NextIdBuilder`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// println!("{}", ids.next_id()?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn builder() -> NextIdBuilder {
        NextIdBuilder::default()
    }

    pub(crate) fn new(settings: Settings, masters: SyncMasters) -> Self {
        Self {
            info: SequenceInfo::new(settings, masters.len()),
            masters: Mutex::new(masters),
            sequence: Sequence::default(),
        }
    }

    /// Returns the next ID.
    ///
    /// Errors: [`Error::QuorumNotAchieved`] when no majority agreed before the deadline;
    /// [`Error::Overflow`] once the sequence reached `i64::MAX`; [`Error::Redis`] at once when
    /// so many masters answer with an error that retrying cannot help (`WRONGTYPE` because the
    /// key holds another type, an unknown command because the module is not loaded).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// let first = ids.next_id()?;
    /// let second = ids.next_id()?;
    /// assert!(second > first);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn next_id(&mut self) -> Result<i64> {
        self.claim(1).map(|block| *block.start())
    }

    /// Claims a block of `n` consecutive IDs in one round trip and returns it. The whole block
    /// is above every ID handed out before, by any client, and no other client gets any ID in
    /// it. `n` must be at least 1 ([`Error::InvalidArgument`]); a block that would pass
    /// `i64::MAX` is [`Error::Overflow`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// let block = ids.next_ids(100)?;
    /// assert_eq!(block.clone().count(), 100);
    /// for id in block {
    ///     // use id
    /// }
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn next_ids(&mut self, n: usize) -> Result<RangeInclusive<i64>> {
        self.claim(n)
    }

    /// Deletes the counter on every master, so the sequence starts again at 1, and forgets the
    /// last ID this client knew.
    ///
    /// Needs every master: if any master fails, the error is [`Error::QuorumNotAchieved`] with
    /// `quorum` equal to the number of masters (the masters that answered did delete the key).
    /// Not linearizable with concurrent calls: IDs handed out around a reset may repeat IDs
    /// from before it. Use it when nothing else uses the sequence (tests, maintenance).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
    /// ids.reset()?;
    /// assert_eq!(ids.next_id()?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn reset(&mut self) -> Result<()> {
        let reset = self.info.reset(&mut self.sequence);
        SyncMasters::run(&self.masters, reset)
    }

    fn claim(&mut self, count: usize) -> Result<RangeInclusive<i64>> {
        let claim = self.info.claim(&mut self.sequence, count);
        SyncMasters::run(&self.masters, claim)
    }
}

/// An endless sequence of [`NextId::next_id`] results.
///
/// # Example
///
/// ```no_run
/// let mut ids = pottery::NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
/// let three: Vec<i64> = ids.by_ref().take(3).collect::<Result<_, _>>()?;
/// assert!(three.windows(2).all(|pair| pair[0] < pair[1]));
/// # Ok::<(), pottery::Error>(())
/// ```
impl Iterator for NextId {
    type Item = Result<i64>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_id())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::error::Error;

    #[test]
    fn builder_validates_without_connecting() {
        let ids = NextId::builder()
            .masters(["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"])
            .master("redis://127.0.0.1:3/")
            .name("orders")
            .build();
        let Ok(ids) = ids else {
            panic!("building connects nothing, so unreachable masters are fine");
        };
        assert_eq!(ids.key(), "nextid:orders");
        assert_eq!((ids.masters(), ids.quorum()), (3, 2));

        assert!(matches!(
            NextId::builder().build(),
            Err(Error::InvalidArgument {
                argument: "masters",
                ..
            })
        ));
        assert!(matches!(
            NextId::builder()
                .master("redis://127.0.0.1/")
                .master_timeout(Duration::ZERO)
                .build(),
            Err(Error::InvalidArgument {
                argument: "master_timeout",
                ..
            })
        ));
        assert!(matches!(
            NextId::builder().master("no scheme").build(),
            Err(Error::Redis(_))
        ));
        // `masters` replaces, `master` appends.
        let Ok(ids) = NextId::builder()
            .master("redis://127.0.0.1:1/")
            .masters(["redis://127.0.0.1:2/"])
            .build()
        else {
            panic!("valid");
        };
        assert_eq!(ids.masters(), 1);
    }

    #[test]
    fn unreachable_masters_give_quorum_not_achieved_by_the_deadline() {
        let Ok(mut ids) = NextId::builder()
            .masters(["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"])
            .deadline(Duration::from_millis(30))
            .retry_delay(Duration::from_millis(5))
            .build()
        else {
            panic!("valid");
        };
        let start = Instant::now();
        let error = ids.next_id();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(matches!(
            error,
            Err(Error::QuorumNotAchieved {
                granted: 0,
                quorum: 2,
                masters: 2,
                last_error: Some(_)
            })
        ));
        assert!(matches!(
            ids.next_ids(0),
            Err(Error::InvalidArgument { argument: "n", .. })
        ));
        assert!(matches!(
            ids.reset(),
            Err(Error::QuorumNotAchieved {
                granted: 0,
                quorum: 2,
                ..
            })
        ));
    }
}
