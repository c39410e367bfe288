//! Memoization in Redis hashes: the function cache [`RedisCache`] and the ordered cache dict
//! [`CachedOrderedDict`], generic over their [`Face`](crate::Face).
//!
//! Use them through the crate root for the sync face (`pottery::RedisCache`) and through
//! [`aio`](crate::aio) for the async one (`pottery::aio::RedisCache`); name them here only in
//! code generic over both.

pub(crate) mod cache;
mod cache_blocking;
#[cfg(feature = "tokio")]
mod cache_tokio;
pub(crate) mod cached_ordered_dict;
mod cached_ordered_dict_faces;

pub use self::cache::{CacheStats, RedisCache};
pub use self::cached_ordered_dict::{CachedOrderedDict, DEFAULT_CACHE_TIMEOUT};
