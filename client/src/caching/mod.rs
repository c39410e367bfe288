//! Memoization in Redis hashes: the function cache and the ordered cache dict.

pub(crate) mod cache;
pub(crate) mod cached_ordered_dict;
