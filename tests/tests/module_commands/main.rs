//! The module's `POTTERY.*` commands straight through redis, on real servers: replies, errors,
//! keyspace events, persistence and replication, ACLs, `INFO`, encodings, a fuzzer, and the
//! commands through a cluster. No pottery client type is under test here.
//!
//! One test binary: each submodule was once its own `tests/*.rs` file.

mod acl_and_memory;
mod bloom;
mod cluster;
mod encoding;
mod errors;
mod fuzz;
mod hll;
mod info;
mod keyspace_events;
mod lists;
mod lock;
mod lock_wait;
mod nextid;
mod persistence;
mod redisbloom_compat;
mod resp3;
mod sem_rwlock_block;
mod synchronizers;
mod synchronizers_rwlock;
mod throttle;
