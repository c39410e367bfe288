//! The Bloom filter: sizing, hashing, bit positions and the scaling chain of sub-filters.
//!
//! Everything that decides which bits an item sets is fixed forever, because filters persist in
//! RDB/AOF files and move to replicas and other servers:
//! - h1 = MurmurHash64A(item, seed 0xc6a4a7935bd1e995), h2 = MurmurHash64A(item, seed h1);
//! - hash number i of a sub-filter with `bits` bits sets bit (h1 + i·h2) mod bits, in wrapping
//!   64-bit arithmetic (so filters beyond 2^32 bits use every bit);
//! - sub-filter i (from 0) holds capacity·expansion^i items at error rate error_rate·0.5^(i+1);
//!   a NONSCALING filter has one sub-filter at error_rate;
//! - bits = ceil(−n·ln p / ln²2) rounded up to whole 64-bit words, hashes = ceil(ln 2 · bits / n)
//!   (from the unrounded bits).
//!
//! Every size is checked before anything is allocated: a failed allocation aborts Redis.

use crate::murmur::murmur_hash_64a;
use std::fmt;

pub mod options;

/// Seed of the first hash (h1); the second hash is seeded with h1.
pub const HASH_SEED: u64 = 0xc6a4a7935bd1e995;
/// Largest capacity a user may ask for.
pub const MAX_CAPACITY: u64 = 1 << 40;
/// Largest growth factor between sub-filters.
pub const MAX_EXPANSION: u32 = 32768;
/// Most sub-filters one filter may have.
pub const MAX_FILTERS: usize = 64;
/// Most hash functions a sub-filter may use: −log2 of the smallest positive double is 1075, so
/// no valid error rate needs more; a stored header claiming more is corrupt.
pub const MAX_HASHES: u32 = 1100;

/// Why a filter could not be created, grown or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BloomError {
    /// The error rate is not strictly between 0 and 1.
    BadErrorRate,
    /// The capacity is not within 1..=2^40.
    BadCapacity,
    /// The expansion is not within 1..=32768.
    BadExpansion,
    /// A scaling filter would need more than [`MAX_FILTERS`] sub-filters.
    TooManyFilters,
    /// A NONSCALING filter holds its capacity already.
    Full,
    /// The filter's bit arrays would exceed the configured byte limit.
    TooLarge,
}

impl BloomError {
    /// The error reply, as RedisBloom words its errors where it has one.
    ///
    /// ```
    /// use pottery_core::bloom::*;
    /// assert_eq!(BloomError::BadCapacity.text(), "ERR bad capacity");
    /// ```
    pub fn text(self) -> &'static str {
        match self {
            BloomError::BadErrorRate => "ERR bad error rate",
            BloomError::BadCapacity => "ERR bad capacity",
            BloomError::BadExpansion => "ERR bad expansion",
            BloomError::TooManyFilters => "ERR max number of sub-filters reached",
            BloomError::Full => "ERR non scaling filter is full",
            BloomError::TooLarge => "ERR capacity: filter would exceed pottery.bf-max-bytes",
        }
    }
}

impl fmt::Display for BloomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for BloomError {}

/// Whether a full filter adds a larger sub-filter, and by which factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    /// Each new sub-filter holds `expansion` times the previous one's capacity.
    Scaling(u32),
    /// One sub-filter; adding to a full filter is an error.
    NonScaling,
}

impl Growth {
    /// `Scaling(expansion)` after checking 1 ≤ expansion ≤ 32768.
    ///
    /// ```
    /// use pottery_core::bloom::*;
    /// assert_eq!(Growth::scaling(4), Ok(Growth::Scaling(4)));
    /// assert_eq!(Growth::scaling(0), Err(BloomError::BadExpansion));
    /// ```
    pub fn scaling(expansion: i64) -> Result<Growth, BloomError> {
        u32::try_from(expansion)
            .ok()
            .filter(|x| (1..=MAX_EXPANSION).contains(x))
            .map(Growth::Scaling)
            .ok_or(BloomError::BadExpansion)
    }

    /// The expansion factor, `None` for a NONSCALING filter.
    ///
    /// ```
    /// use pottery_core::bloom::*;
    /// assert_eq!(Growth::Scaling(3).expansion(), Some(3));
    /// assert_eq!(Growth::NonScaling.expansion(), None);
    /// ```
    pub fn expansion(self) -> Option<u32> {
        match self {
            Growth::Scaling(expansion) => Some(expansion),
            Growth::NonScaling => None,
        }
    }
}

/// Checks 0 < error_rate < 1 (NaN fails).
///
/// ```
/// use pottery_core::bloom::*;
/// assert_eq!(check_error_rate(0.01), Ok(0.01));
/// assert_eq!(check_error_rate(1.0), Err(BloomError::BadErrorRate));
/// ```
pub fn check_error_rate(error_rate: f64) -> Result<f64, BloomError> {
    if error_rate > 0.0 && error_rate < 1.0 {
        Ok(error_rate)
    } else {
        Err(BloomError::BadErrorRate)
    }
}

/// Checks 1 ≤ capacity ≤ 2^40.
///
/// ```
/// use pottery_core::bloom::*;
/// assert_eq!(check_capacity(100), Ok(100));
/// assert_eq!(check_capacity(0), Err(BloomError::BadCapacity));
/// ```
pub fn check_capacity(capacity: i64) -> Result<u64, BloomError> {
    u64::try_from(capacity)
        .ok()
        .filter(|c| (1..=MAX_CAPACITY).contains(c))
        .ok_or(BloomError::BadCapacity)
}

/// The two hashes of an item, computed once and used for every sub-filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemHashes {
    /// MurmurHash64A(item, [`HASH_SEED`]).
    pub h1: u64,
    /// MurmurHash64A(item, h1).
    pub h2: u64,
}

impl ItemHashes {
    /// The hashes of `item`'s bytes.
    ///
    /// ```
    /// use pottery_core::bloom::ItemHashes;
    /// let hashes = ItemHashes::of(b"apple");
    /// assert_eq!(hashes, ItemHashes::of(b"apple"));
    /// ```
    pub fn of(item: &[u8]) -> ItemHashes {
        let h1 = murmur_hash_64a(item, HASH_SEED);
        ItemHashes {
            h1,
            h2: murmur_hash_64a(item, h1),
        }
    }

    /// The bit that hash number `i` selects in an array of `bits` bits (`bits` > 0).
    ///
    /// ```
    /// use pottery_core::bloom::ItemHashes;
    /// let hashes = ItemHashes { h1: u64::MAX, h2: 3 };
    /// // The sum wraps at 2^64 before the remainder is taken.
    /// assert_eq!(hashes.bit(1, 1 << 40), 2);
    /// ```
    pub fn bit(&self, i: u32, bits: u64) -> u64 {
        self.h1.wrapping_add(u64::from(i).wrapping_mul(self.h2)) % bits.max(1)
    }
}

/// Size of one sub-filter, computed from its capacity and error rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Bits in the array, a multiple of 64.
    pub bits: u64,
    /// Hash functions per item.
    pub hashes: u32,
}

impl Layout {
    /// The layout for `capacity` items at `error_rate`, or [`BloomError::TooLarge`] when the bit
    /// array would exceed `max_bytes` (checked in floating point before any integer conversion).
    ///
    /// ```
    /// use pottery_core::bloom::Layout;
    /// let layout = Layout::for_capacity(1000, 0.01, 1 << 20).unwrap();
    /// assert_eq!(layout.bits, 9600); // ceil(9585.06) rounded up to whole words
    /// assert_eq!(layout.hashes, 7);
    /// ```
    pub fn for_capacity(
        capacity: u64,
        error_rate: f64,
        max_bytes: u64,
    ) -> Result<Layout, BloomError> {
        check_error_rate(error_rate)?;
        if capacity == 0 {
            return Err(BloomError::BadCapacity);
        }
        let ln2 = std::f64::consts::LN_2;
        let items = capacity as f64;
        let exact_bits = (-items * error_rate.ln() / (ln2 * ln2)).ceil();
        // A sub-filter's error rate halves with each one, so it can underflow towards zero and
        // the size towards infinity: compare as floats first.
        let max_bits = (max_bytes as f64) * 8.0;
        if !exact_bits.is_finite() || exact_bits > max_bits || exact_bits > (u64::MAX / 2) as f64 {
            return Err(BloomError::TooLarge);
        }
        let raw_bits = (exact_bits as u64).max(1);
        let bits = raw_bits
            .div_ceil(64)
            .checked_mul(64)
            .ok_or(BloomError::TooLarge)?;
        if bits / 8 > max_bytes {
            return Err(BloomError::TooLarge);
        }
        let hashes = (ln2 * raw_bits as f64 / items)
            .ceil()
            .clamp(1.0, MAX_HASHES as f64) as u32;
        Ok(Layout { bits, hashes })
    }

    /// Bytes of the bit array.
    ///
    /// ```
    /// use pottery_core::bloom::*;
    /// assert_eq!(Layout::for_capacity(1000, 0.01, 1 << 20).unwrap().bytes(), 1200);
    /// ```
    pub fn bytes(&self) -> u64 {
        self.bits / 8
    }
}

/// One fixed-size Bloom filter of the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct SubFilter {
    /// Items it was sized for.
    pub capacity: u64,
    /// False-positive rate it was sized for.
    pub error_rate: f64,
    /// Hash functions per item.
    pub hashes: u32,
    /// Items added to it.
    pub items: u64,
    /// The bit array; bit b is bit (b mod 8) of byte b / 8. Its length is a multiple of 8.
    pub bytes: Vec<u8>,
}

impl SubFilter {
    /// A zeroed sub-filter. The caller has checked `layout` against the byte limit.
    ///
    /// ```
    /// use pottery_core::bloom::*;
    /// let layout = Layout::for_capacity(10, 0.01, 1 << 20).unwrap();
    /// let mut sub = SubFilter::new(10, 0.01, layout);
    /// let item = ItemHashes::of(b"x");
    /// assert!(!sub.contains(&item));
    /// sub.insert(&item);
    /// assert!(sub.contains(&item));
    /// assert_eq!(sub.bits(), layout.bits);
    /// assert!(!sub.is_full());
    /// ```
    pub fn new(capacity: u64, error_rate: f64, layout: Layout) -> SubFilter {
        SubFilter {
            capacity,
            error_rate,
            hashes: layout.hashes,
            items: 0,
            bytes: vec![0; layout.bytes() as usize],
        }
    }

    /// Bits in the array.
    pub fn bits(&self) -> u64 {
        self.bytes.len() as u64 * 8
    }

    /// Whether every bit of the item is set.
    pub fn contains(&self, hashes: &ItemHashes) -> bool {
        let bits = self.bits().max(1);
        // (h1 + i·h2) mod bits, with i·h2 accumulated in the same wrapping arithmetic as
        // [`ItemHashes::bit`].
        let mut position = hashes.h1;
        for _ in 0..self.hashes {
            let bit = position % bits;
            match self.bytes.get((bit / 8) as usize) {
                Some(byte) if byte & (1 << (bit % 8)) != 0 => {}
                _ => return false,
            }
            position = position.wrapping_add(hashes.h2);
        }
        true
    }

    /// Sets every bit of the item.
    pub fn insert(&mut self, hashes: &ItemHashes) {
        let bits = self.bits().max(1);
        let mut position = hashes.h1;
        for _ in 0..self.hashes {
            let bit = position % bits;
            if let Some(byte) = self.bytes.get_mut((bit / 8) as usize) {
                *byte |= 1 << (bit % 8);
            }
            position = position.wrapping_add(hashes.h2);
        }
    }

    /// Whether it holds as many items as it was sized for.
    pub fn is_full(&self) -> bool {
        self.items >= self.capacity
    }
}

/// The parameters a filter is created with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Capacity of the first sub-filter, 1..=2^40.
    pub capacity: u64,
    /// Target false-positive rate of the whole filter, 0 < p < 1.
    pub error_rate: f64,
    /// Growth once the last sub-filter is full.
    pub growth: Growth,
}

/// A scalable Bloom filter: a chain of sub-filters, each larger and stricter than the last.
///
/// ```
/// use pottery_core::bloom::{BloomFilter, Growth, ItemHashes, Params};
/// let params = Params { capacity: 100, error_rate: 0.01, growth: Growth::Scaling(2) };
/// let mut filter = BloomFilter::new(params, 1 << 20).unwrap();
/// let apple = ItemHashes::of(b"apple");
/// assert_eq!(filter.insert(&apple, 1 << 20), Ok(true));
/// assert_eq!(filter.insert(&apple, 1 << 20), Ok(false));
/// assert!(filter.contains(&apple));
/// assert_eq!(filter.items(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BloomFilter {
    growth: Growth,
    filters: Vec<SubFilter>,
    items: u64,
}

impl BloomFilter {
    /// A filter with one empty sub-filter, checked against `max_bytes` before allocating.
    ///
    /// ```
    /// use pottery_core::bloom::*;
    /// let params = Params { capacity: 1000, error_rate: 0.01, growth: Growth::NonScaling };
    /// let filter = BloomFilter::new(params, 1 << 20).unwrap();
    /// assert_eq!((filter.capacity(), filter.bytes(), filter.items()), (1000, 1200, 0));
    /// assert_eq!(filter.filters().len(), 1);
    /// assert_eq!(filter.growth(), Growth::NonScaling);
    /// assert_eq!(filter.params(), params);
    /// assert!(!filter.contains(&ItemHashes::of(b"x")));
    /// assert_eq!(BloomFilter::new(params, 100), Err(BloomError::TooLarge));
    /// ```
    pub fn new(params: Params, max_bytes: u64) -> Result<BloomFilter, BloomError> {
        check_error_rate(params.error_rate)?;
        if !(1..=MAX_CAPACITY).contains(&params.capacity) {
            return Err(BloomError::BadCapacity);
        }
        if let Growth::Scaling(expansion) = params.growth {
            Growth::scaling(i64::from(expansion))?;
        }
        let error_rate = match params.growth {
            Growth::Scaling(_) => params.error_rate * 0.5,
            Growth::NonScaling => params.error_rate,
        };
        let layout = Layout::for_capacity(params.capacity, error_rate, max_bytes)?;
        Ok(BloomFilter {
            growth: params.growth,
            filters: vec![SubFilter::new(params.capacity, error_rate, layout)],
            items: 0,
        })
    }

    /// Reassembles a filter from validated parts (see [`crate::bloom_dump`]).
    pub(crate) fn from_parts(growth: Growth, filters: Vec<SubFilter>, items: u64) -> BloomFilter {
        BloomFilter {
            growth,
            filters,
            items,
        }
    }

    /// Whether the item may have been added (`false`: it certainly was not).
    pub fn contains(&self, hashes: &ItemHashes) -> bool {
        // Newest first: the largest sub-filters hold most items.
        self.filters
            .iter()
            .rev()
            .any(|filter| filter.contains(hashes))
    }

    /// Adds the item: `Ok(true)` if it was new, `Ok(false)` if it may have been added before.
    /// A full last sub-filter first grows the chain, checked against `max_bytes` and
    /// [`MAX_FILTERS`]; a full NONSCALING filter is [`BloomError::Full`].
    pub fn insert(&mut self, hashes: &ItemHashes, max_bytes: u64) -> Result<bool, BloomError> {
        if self.contains(hashes) {
            return Ok(false);
        }
        if self.filters.last().is_none_or(SubFilter::is_full) {
            self.grow(max_bytes)?;
        }
        let last = self.filters.last_mut().ok_or(BloomError::Full)?;
        last.insert(hashes);
        last.items = last.items.saturating_add(1);
        self.items = self.items.saturating_add(1);
        Ok(true)
    }

    fn grow(&mut self, max_bytes: u64) -> Result<(), BloomError> {
        let Growth::Scaling(expansion) = self.growth else {
            return Err(BloomError::Full);
        };
        if self.filters.len() >= MAX_FILTERS {
            return Err(BloomError::TooManyFilters);
        }
        let last = self.filters.last().ok_or(BloomError::Full)?;
        let capacity = last
            .capacity
            .checked_mul(u64::from(expansion))
            .ok_or(BloomError::TooLarge)?;
        let error_rate = last.error_rate * 0.5;
        let used = self.bytes();
        let room = max_bytes.checked_sub(used).ok_or(BloomError::TooLarge)?;
        // Halving can underflow to zero after many sub-filters: that is a size problem, not a
        // bad argument of the user's.
        let layout =
            Layout::for_capacity(capacity, error_rate, room).map_err(|error| match error {
                BloomError::BadErrorRate => BloomError::TooLarge,
                other => other,
            })?;
        self.filters
            .push(SubFilter::new(capacity, error_rate, layout));
        Ok(())
    }

    /// Items added (each counted once, when it was new).
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Sum of the sub-filters' capacities.
    pub fn capacity(&self) -> u64 {
        self.filters
            .iter()
            .fold(0u64, |sum, filter| sum.saturating_add(filter.capacity))
    }

    /// Bytes of all bit arrays.
    pub fn bytes(&self) -> u64 {
        self.filters.iter().fold(0u64, |sum, filter| {
            sum.saturating_add(filter.bytes.len() as u64)
        })
    }

    /// How the filter grows.
    pub fn growth(&self) -> Growth {
        self.growth
    }

    /// The sub-filters, oldest first.
    pub fn filters(&self) -> &[SubFilter] {
        &self.filters
    }

    pub(crate) fn filters_mut(&mut self) -> &mut [SubFilter] {
        &mut self.filters
    }

    /// The parameters that recreate this filter's first sub-filter: what replication sends.
    pub fn params(&self) -> Params {
        let first = self.filters.first();
        let capacity = first.map_or(1, |filter| filter.capacity);
        let sub_error = first.map_or(0.01, |filter| filter.error_rate);
        let error_rate = match self.growth {
            Growth::Scaling(_) => sub_error * 2.0,
            Growth::NonScaling => sub_error,
        };
        Params {
            capacity,
            error_rate,
            growth: self.growth,
        }
    }
}

/// Formats an error rate so that parsing it back gives the same double (shortest round trip).
///
/// ```
/// use pottery_core::bloom::format_error_rate;
/// assert_eq!(format_error_rate(0.01), "0.01");
/// assert_eq!(format_error_rate(1e-300), "1e-300");
/// ```
pub fn format_error_rate(error_rate: f64) -> String {
    if error_rate >= 1e-5 {
        format!("{error_rate}")
    } else {
        format!("{error_rate:e}")
    }
}

/// Parses an error rate argument: a decimal or exponent number strictly between 0 and 1.
///
/// ```
/// use pottery_core::bloom::*;
/// assert_eq!(parse_error_rate(b"0.001"), Ok(0.001));
/// assert_eq!(parse_error_rate(b"1.5"), Err(BloomError::BadErrorRate));
/// ```
pub fn parse_error_rate(text: &[u8]) -> Result<f64, BloomError> {
    std::str::from_utf8(text)
        .ok()
        .filter(|text| !text.is_empty() && text.trim() == *text)
        .and_then(|text| text.parse::<f64>().ok())
        .ok_or(BloomError::BadErrorRate)
        .and_then(check_error_rate)
}

impl From<BloomError> for crate::CommandError {
    fn from(error: BloomError) -> Self {
        crate::CommandError::Reply(error.text())
    }
}

#[cfg(test)]
mod tests;
