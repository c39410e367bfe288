//! Probabilistic membership and cardinality, generic over their [`Face`](crate::Face): the
//! pottery module's native Bloom filter, Python pottery's bitmap Bloom filter and Redis's
//! HyperLogLog.
//!
//! Use them through the crate root for the sync face (`pottery::BloomFilter<T>`) and through
//! [`aio`](crate::aio) for the async one (`pottery::aio::BloomFilter<T>`); name them here only
//! in code generic over both.

pub(crate) mod bloom;
pub(crate) mod hyperloglog;
pub(crate) mod pottery_bloom;

pub use self::bloom::{BloomFilter, BloomInfo};
pub use self::hyperloglog::HyperLogLog;
pub use self::pottery_bloom::PotteryBloomFilter;
