//! Pure logic of the pottery Redis module.
//!
//! Nothing here touches Redis types, so unit and property tests exercise it directly, without a
//! server and without the module's Redis allocator. The module crate (`pottery-module`) is a thin
//! layer that turns Redis arguments into calls to this crate and its results into replies.
//!
//! - [`spec`] describes commands (flags, key specs, arguments); [`catalog`] lists every command
//!   once, and that one table drives registration, `POTTERY.HELP` and `COMMAND DOCS`.
//! - [`args`] parses arguments with Redis's own error texts ([`error::CommandError`]).
//! - [`integer`] parses and formats integers exactly like Redis (`string2ll`).
//! - [`lock`] decides the Redlock commands (one master's part of a distributed lock).
//! - [`bloom`] sizes, hashes and grows Bloom filters; [`bloom_dump`] is their serialized form.
//! - [`hll`] answers HyperLogLog membership from Redis's register layout; [`murmur`] is the
//!   MurmurHash64A both use.
//! - [`semaphore`] and [`rwlock`] decide the semaphore and read-write lock commands over the
//!   expiring holders of [`holders`].
//! - [`nextid`] is the per-master logic of the distributed NextID protocol.
//! - [`throttle`] is the GCRA rate limiter of `POTTERY.THROTTLE` (redis-cell's semantics).
//! - [`waiters`] is the per-key FIFO of clients parked by blocking commands.
//! - [`list`] is Python `list`/`deque` semantics (indexes, slices, rotation, maxlen) over any
//!   list store.

pub mod args;
pub mod bloom;
pub mod bloom_dump;
pub mod catalog;
pub mod error;
pub mod hll;
pub mod holders;
pub mod integer;
pub mod list;
pub mod load_args;
pub mod lock;
pub mod murmur;
pub mod nextid;
pub mod rwlock;
pub mod semaphore;
pub mod spec;
pub mod throttle;
pub mod waiters;

pub use error::CommandError;
