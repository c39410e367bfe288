//! Host glue: what ties the commands to `redis-server` rather than to their logic.
//!
//! [`dispatch`] turns a C call into a handler call and its result into a reply, [`request`]
//! hands the handler its keys and arguments, [`registration`] describes each command to Redis,
//! [`write`] is the one path by which a change is replicated, signalled and notified, and
//! [`config`] and [`stats`] are the module's configs and `INFO pottery` counters, and
//! [`waiters`] parks the clients of blocking commands in per-key queues.

pub mod config;
pub mod dispatch;
pub mod registration;
pub mod request;
pub mod stats;
pub mod waiters;
pub mod write;
