//! Key adapters: how each kind of value the commands touch sits in a Redis key.
//!
//! Plain strings ([`string_key`]) carry locks ([`lock_key`]) and decimal counters
//! ([`counter_key`]); hashes ([`hash_key`]) carry semaphores and read-write locks; lists
//! ([`list_key`]) run `pottery_core::list` in place; the Bloom filter
//! is a native type ([`bloom_type`]) reached through [`bloom_key`]. Commands reach keys only
//! through these, so the raw module API stays out of the command files.

pub mod bloom_key;
pub mod bloom_type;
pub mod counter_key;
pub mod hash_key;
pub mod list_key;
pub mod lock_key;
pub mod open_key;
pub mod string_key;
