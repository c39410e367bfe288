//! Probabilistic membership and cardinality: the module's Bloom filter and Redis's HyperLogLog.

pub(crate) mod bloom;
pub(crate) mod hyperloglog;
