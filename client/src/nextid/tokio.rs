//! [`aio::NextId`](NextId): the same distributed ID sequence as [`crate::NextId`], driven by
//! the async loop on tokio.
//!
//! One `redis::aio::MultiplexedConnection` per master, opened on the first call (with the
//! per-master timeout as both connection and response timeout) and reopened after it breaks.
//! A call sends its claim to every master concurrently and returns as soon as a majority
//! granted it; the requests still in flight are dropped, which a multiplexed connection
//! tolerates. The redis crate drives each multiplexed connection with a tokio task of its own.

use std::ops::RangeInclusive;

use tokio::sync::Mutex;

use crate::error::Result;
use crate::nextid::builder::Settings;
use crate::nextid::claim::Sequence;
use crate::nextid::info::{sequence_face, SequenceInfo};
use crate::transport::async_masters::AsyncMasters;

/// A distributed sequence of unique, increasing `i64` IDs, agreed by a majority of Redis
/// masters (async, tokio).
///
/// Same protocol, keys, defaults and errors as the sync [`pottery::NextId`](crate::NextId),
/// which documents them; built by [`NextIdBuilder::build_async`](crate::NextIdBuilder::build_async).
/// Calls take `&mut self`; the returned futures are `Send`. They must run inside a tokio
/// runtime with I/O and time enabled (`enable_all`, as `#[tokio::main]` does).
///
/// # Example
///
/// ```no_run
/// # async fn run() -> pottery::Result<()> {
/// let mut ids = pottery::NextId::builder()
///     .name("orders")
///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
///     .build_async().await?;
/// let id = ids.next_id().await?;
/// let block = ids.next_ids(100).await?;
/// assert!(*block.start() > id);
/// # Ok(()) }
/// ```
pub struct NextId {
    info: SequenceInfo,
    /// Locked by the async loop, for one round at a time (never contended: calls take `&mut`).
    masters: Mutex<AsyncMasters>,
    sequence: Sequence,
}

sequence_face!(NextId, "aio::NextId", "sequence": |ids| ids.sequence);

impl NextId {
    pub(crate) fn new(settings: Settings, masters: AsyncMasters) -> Self {
        Self {
            info: SequenceInfo::new(settings, masters.len()),
            masters: Mutex::new(masters),
            sequence: Sequence::default(),
        }
    }

    /// Returns the next ID; see [`NextId::next_id`](crate::NextId::next_id).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build_async().await?;
    /// let first = ids.next_id().await?;
    /// assert!(ids.next_id().await? > first);
    /// # Ok(()) }
    /// ```
    pub async fn next_id(&mut self) -> Result<i64> {
        self.claim(1).await.map(|block| *block.start())
    }

    /// Claims a block of `n` consecutive IDs; see [`NextId::next_ids`](crate::NextId::next_ids).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build_async().await?;
    /// let block = ids.next_ids(100).await?;
    /// assert_eq!(block.clone().count(), 100);
    /// # Ok(()) }
    /// ```
    pub async fn next_ids(&mut self, n: usize) -> Result<RangeInclusive<i64>> {
        self.claim(n).await
    }

    /// Deletes the counter on every master; see [`NextId::reset`](crate::NextId::reset) (needs
    /// every master, not linearizable with concurrent calls).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// let mut ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build_async().await?;
    /// ids.reset().await?;
    /// assert_eq!(ids.next_id().await?, 1);
    /// # Ok(()) }
    /// ```
    pub async fn reset(&mut self) -> Result<()> {
        let reset = self.info.reset(&mut self.sequence);
        AsyncMasters::run(&self.masters, reset).await
    }

    async fn claim(&mut self, count: usize) -> Result<RangeInclusive<i64>> {
        let claim = self.info.claim(&mut self.sequence, count);
        AsyncMasters::run(&self.masters, claim).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt;

    use crate::{Error, NextId};

    fn assert_send<T: Send>(value: T) -> T {
        value
    }

    #[test]
    fn both_flavours_can_move_between_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<crate::aio::NextId>();
        fn send<T: Send>() {}
        send::<crate::NextId>();
        send::<crate::Error>();
        send_and_sync::<crate::Error>();
    }

    #[test]
    fn builds_without_a_runtime_and_rejects_sync_connections() {
        // Building opens nothing, so it completes on its first poll, without a runtime.
        let built = NextId::builder()
            .masters([
                "redis://127.0.0.1:1/",
                "redis://127.0.0.1:2/",
                "redis://127.0.0.1:3/",
            ])
            .build_async()
            .now_or_never();
        let Some(Ok(ids)) = built else {
            panic!("valid");
        };
        assert_eq!((ids.masters(), ids.quorum()), (3, 2));
        assert!(matches!(
            NextId::builder().build_async().now_or_never(),
            Some(Err(Error::InvalidArgument {
                argument: "masters",
                ..
            }))
        ));
    }

    #[tokio::test]
    async fn unreachable_masters_give_quorum_not_achieved_by_the_deadline() {
        let Ok(mut ids) = NextId::builder()
            .masters([
                "redis://127.0.0.1:1/",
                "redis://127.0.0.1:2/",
                "redis://127.0.0.1:3/",
            ])
            .deadline(Duration::from_millis(30))
            .retry_delay(Duration::from_millis(5))
            .build_async()
            .await
        else {
            panic!("valid");
        };
        let error = assert_send(ids.next_id()).await;
        assert!(matches!(
            error,
            Err(Error::QuorumNotAchieved {
                granted: 0,
                quorum: 2,
                masters: 3,
                last_error: Some(_)
            })
        ));
        assert!(matches!(
            ids.next_ids(0).await,
            Err(Error::InvalidArgument { argument: "n", .. })
        ));
        assert!(matches!(
            assert_send(ids.reset()).await,
            Err(Error::QuorumNotAchieved { quorum: 3, .. })
        ));
    }
}
