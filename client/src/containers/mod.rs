//! `std::collections` look-alikes stored in Redis: dict, set, counter, list, deque and queue,
//! and their server-side iteration, generic over their [`Face`](crate::Face).
//!
//! Use them through the crate root for the sync face (`pottery::RedisDict<K, V>`) and through
//! [`aio`](crate::aio) for the async one (`pottery::aio::RedisDict<K, V>`); name them here only
//! in code generic over both.

pub(crate) mod counter;
pub(crate) mod deque;
pub(crate) mod dict;
pub(crate) mod list;
pub(crate) mod queue;
pub(crate) mod scan;
pub(crate) mod set;

pub use self::dict::RedisDict;
