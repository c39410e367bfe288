//! Bloom filters in keys: the native type of [`super::bloom_type`] read and stored through the
//! `redis-module` key API, whose type check gives `WRONGTYPE` for any other value.

use super::bloom_type::BLOOM_TYPE;
use crate::host::stats;
use pottery_core::bloom::BloomFilter;
use pottery_core::CommandError;
use redis_module::key::{RedisKey, RedisKeyWritable};

/// The filter at a key opened for reading: `None` when absent, `WRONGTYPE` for other types.
pub fn filter_ref(key: &RedisKey) -> Result<Option<&BloomFilter>, CommandError> {
    key.get_value::<BloomFilter>(&BLOOM_TYPE)
        .map_err(|_| CommandError::WrongType)
}

/// The filter at a key opened for writing: `None` when absent, `WRONGTYPE` for other types.
pub fn filter_mut<'a>(key: &RedisKeyWritable) -> Result<Option<&'a mut BloomFilter>, CommandError> {
    key.get_value::<BloomFilter>(&BLOOM_TYPE)
        .map_err(|_| CommandError::WrongType)
}

/// Stores a new `filter` at an empty key, counting its bytes for `INFO pottery`.
pub fn store(key: &RedisKeyWritable, filter: BloomFilter) -> Result<(), CommandError> {
    let bytes = filter.bytes();
    key.set_value(&BLOOM_TYPE, filter)
        .map_err(|_| CommandError::Internal("ERR could not store the Bloom filter"))?;
    stats::bloom_created(bytes);
    Ok(())
}
