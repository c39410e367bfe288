//! The pottery client's types against real servers: containers, lists, Redlock, NextId,
//! caches, the probabilistic types, cluster connections, the sync fan-out and the codec.
//!
//! One test binary: each submodule was once its own `tests/*.rs` file.

mod aio_caching;
mod aio_lists;
mod aio_probabilistic;
mod aio_sets;
mod bloom_filter;
mod cache;
mod cached_macro;
mod cached_ordered_dict;
mod cluster;
mod cluster_nextid;
mod codec;
mod connections;
mod counter;
mod dict;
mod hyperloglog;
mod list_scripts;
mod lists;
mod lists_without_module;
mod nextid;
mod pass;
mod rate_limiter;
mod redlock;
mod redlock_wait;
mod resp3;
mod script_mode;
mod script_parity;
mod set;
mod sync_fanout;
mod synchronizers;
mod synchronizers_wait;
