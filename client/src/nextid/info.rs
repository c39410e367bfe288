//! [`SequenceInfo`]: what both faces of a NextId read without a round trip, written once.

use crate::error::Result;
use crate::nextid::builder::{Settings, Timing};
use crate::nextid::claim::Sequence;
use crate::nextid::machine::{self, ClaimBlock};
use crate::transport::quorum::{majority, Machine};

/// What a [`NextId`](crate::NextId) (and an [`aio::NextId`](crate::aio::NextId)) is set up
/// with: its key and masters. Both sequence types dereference to it, so these are called on
/// the sequence itself: `ids.key()`, `ids.quorum()`.
///
/// # Example
///
/// ```
/// let ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build()?;
/// assert_eq!((ids.key(), ids.masters(), ids.quorum()), ("nextid:current", 1, 1));
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug)]
pub struct SequenceInfo {
    pub(crate) key: String,
    pub(crate) count: usize,
    pub(crate) timing: Timing,
}

impl SequenceInfo {
    pub(crate) fn new(settings: Settings, count: usize) -> Self {
        let Settings { key, timing } = settings;
        Self { key, count, timing }
    }

    /// The machine of one call that claims `count` IDs, on a face's `sequence`.
    pub(crate) fn claim<'a>(&'a self, sequence: &'a mut Sequence, count: usize) -> ClaimBlock<'a> {
        ClaimBlock::new(&self.key, self.timing, self.count, sequence, count)
    }

    /// The machine that deletes the counter on every master and forgets `sequence`.
    pub(crate) fn reset<'a>(
        &'a self,
        sequence: &'a mut Sequence,
    ) -> impl Machine<Output = Result<()>> + 'a {
        machine::reset(&self.key, self.count, sequence)
    }

    /// The key on every master: `nextid:<name>`.
    ///
    /// # Example
    ///
    /// ```
    /// let ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(ids.key(), "nextid:current");
    /// # #[cfg(feature = "tokio")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// #     let ids = pottery::NextId::builder()
    /// #         .name("orders")
    /// #         .master("redis://127.0.0.1:6379/")
    /// #         .build_async().await?;
    /// #     assert_eq!(ids.key(), "nextid:orders");
    /// #     Ok::<(), pottery::Error>(())
    /// # })?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The number of masters configured.
    ///
    /// # Example
    ///
    /// ```
    /// let ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build()?;
    /// assert_eq!(ids.masters(), 1);
    /// # #[cfg(feature = "tokio")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// #     let ids = pottery::NextId::builder().master("redis://127.0.0.1:6379/").build_async().await?;
    /// #     assert_eq!(ids.masters(), 1);
    /// #     Ok::<(), pottery::Error>(())
    /// # })?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn masters(&self) -> usize {
        self.count
    }

    /// The number of masters that must agree on each ID: floor(masters / 2) + 1.
    ///
    /// # Example
    ///
    /// ```
    /// let ids = pottery::NextId::builder()
    ///     .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/", "redis://127.0.0.1:6381/"])
    ///     .build()?;
    /// assert_eq!(ids.quorum(), 2);
    /// # #[cfg(feature = "tokio")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// #     let ids = pottery::NextId::builder()
    /// #         .masters(["redis://127.0.0.1:6379/", "redis://127.0.0.1:6380/"])
    /// #         .build_async().await?;
    /// #     assert_eq!(ids.quorum(), 2);
    /// #     Ok::<(), pottery::Error>(())
    /// # })?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn quorum(&self) -> usize {
        majority(self.count)
    }
}

/// The `Deref` to [`SequenceInfo`] and the `Debug` (named `$name`, ending with the field
/// `$field`: `$value` of `$ids`) of a face's sequence type, which keeps its [`SequenceInfo`] at
/// `info`.
macro_rules! sequence_face {
    ($ids:ident, $name:literal, $field:literal: |$this:ident| $value:expr) => {
        /// The key, masters and quorum of this sequence, like a `MutexGuard` derefs to its
        /// data: `ids.key()`, `ids.quorum()`.
        impl std::ops::Deref for $ids {
            type Target = $crate::nextid::info::SequenceInfo;

            fn deref(&self) -> &Self::Target {
                &self.info
            }
        }

        impl std::fmt::Debug for $ids {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let $this = self;
                formatter
                    .debug_struct($name)
                    .field("key", &$this.info.key)
                    .field("masters", &$this.info.count)
                    .field("timing", &$this.info.timing)
                    .field($field, &$value)
                    .finish()
            }
        }
    };
}
pub(crate) use sequence_face;
