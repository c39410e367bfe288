//! `std::collections` look-alikes stored in Redis: dict, set, counter, list, deque and queue,
//! and their server-side iteration, generic over their [`Face`](crate::Face).
//!
//! Use them through the crate root for the sync face (`pottery::RedisDict<K, V>`) and through
//! [`aio`](crate::aio) for the async one (`pottery::aio::RedisDict<K, V>`); name them here only
//! in code generic over both.

pub(crate) mod counter;
pub(crate) mod counter_arithmetic;
pub(crate) mod deque;
pub(crate) mod dict;
pub(crate) mod list;
pub(crate) mod queue;
pub(crate) mod scan;
pub(crate) mod set;
pub(crate) mod set_algebra;

pub use self::counter::RedisCounter;
pub use self::deque::RedisDeque;
pub use self::dict::RedisDict;
pub use self::list::{ListIter, RedisList};
pub use self::queue::RedisQueue;
pub use self::set::RedisSet;
