//! The serialized form of a Bloom filter, shared by `SCANDUMP`/`LOADCHUNK`, the RDB and the AOF
//! rewrite: one header chunk, then the bit arrays in data chunks.
//!
//! Header (all integers little-endian; encoding version 1):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `PTBF` |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | 0 = scaling, 1 = NONSCALING |
//! | 6 | 4 | expansion (0 when NONSCALING) |
//! | 10 | 8 | items added |
//! | 18 | 4 | number of sub-filters n, 1..=64 |
//! | 22 | 36·n | per sub-filter: capacity u64, error rate f64 (IEEE 754 bits), hashes u32, bits u64, items u64 |
//!
//! Data: the sub-filters' bit arrays, oldest first, concatenated; byte b of the stream is byte
//! b of that concatenation. A data chunk never spans two sub-filters when we write it, and at
//! most [`CHUNK_BYTES`] long.
//!
//! `SCANDUMP` iterators: 0 asks for the header, which comes back with iterator 1; iterator
//! i ≥ 1 asks for the data at offset i − 1, which comes back with iterator end + 1 (the offset
//! after the chunk, plus one); `[0, ""]` means done. `LOADCHUNK` takes the iterator a chunk came
//! back with: 1 is the header, i ≥ 2 places `data` so that it ends at offset i − 1.
//!
//! Everything a header claims is checked before anything is allocated: a corrupt or hostile
//! header is refused, never trusted with a size.

use crate::bloom::{
    BloomError, BloomFilter, Growth, SubFilter, MAX_EXPANSION, MAX_FILTERS, MAX_HASHES,
};
use std::fmt;

/// Largest data chunk we produce: 16 MiB.
pub const CHUNK_BYTES: usize = 16 << 20;

const MAGIC: &[u8; 4] = b"PTBF";
const VERSION: u8 = 1;
const FIXED_BYTES: usize = 22;
const PER_FILTER_BYTES: usize = 36;

/// Why a chunk or a stored filter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// The header is malformed, inconsistent or out of bounds, or a data chunk does not fit.
    Invalid,
    /// The filter the header describes exceeds the configured byte limit.
    TooLarge,
}

impl ChunkError {
    /// The error reply.
    ///
    /// ```
    /// use pottery_core::bloom::{BloomFilter, Growth, Params};
    /// use pottery_core::bloom_dump::*;
    /// assert_eq!(ChunkError::Invalid.text(), "ERR invalid chunk");
    /// ```
    pub fn text(self) -> &'static str {
        match self {
            ChunkError::Invalid => "ERR invalid chunk",
            ChunkError::TooLarge => BloomError::TooLarge.text(),
        }
    }
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for ChunkError {}

/// The header chunk of `filter`.
///
/// ```
/// use pottery_core::bloom::{BloomFilter, Growth, Params};
/// use pottery_core::bloom_dump::{decode_header, encode_header};
/// let params = Params { capacity: 100, error_rate: 0.01, growth: Growth::NonScaling };
/// let filter = BloomFilter::new(params, 1 << 20).unwrap();
/// let header = encode_header(&filter);
/// assert_eq!(decode_header(&header, 1 << 20).unwrap(), filter);
/// ```
pub fn encode_header(filter: &BloomFilter) -> Vec<u8> {
    let filters = filter.filters();
    let mut out = Vec::with_capacity(FIXED_BYTES + PER_FILTER_BYTES * filters.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    let (flag, expansion) = match filter.growth() {
        Growth::Scaling(expansion) => (0u8, expansion),
        Growth::NonScaling => (1u8, 0),
    };
    out.push(flag);
    out.extend_from_slice(&expansion.to_le_bytes());
    out.extend_from_slice(&filter.items().to_le_bytes());
    out.extend_from_slice(&(filters.len() as u32).to_le_bytes());
    for sub in filters {
        out.extend_from_slice(&sub.capacity.to_le_bytes());
        out.extend_from_slice(&sub.error_rate.to_bits().to_le_bytes());
        out.extend_from_slice(&sub.hashes.to_le_bytes());
        out.extend_from_slice(&sub.bits().to_le_bytes());
        out.extend_from_slice(&sub.items.to_le_bytes());
    }
    out
}

/// Reads little-endian fields from a byte slice without ever indexing past its end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ChunkError> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<N>()
            .ok_or(ChunkError::Invalid)?;
        self.bytes = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, ChunkError> {
        Ok(self.take::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, ChunkError> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, ChunkError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
}

/// One sub-filter's description from a header, checked but not yet allocated.
struct SubHeader {
    capacity: u64,
    error_rate: f64,
    hashes: u32,
    bits: u64,
    items: u64,
}

/// Validates a header chunk and allocates the zeroed filter it describes.
///
/// Checked before allocating: magic and version, exact length, 1..=64 sub-filters (one when
/// NONSCALING), expansion 1..=32768, per sub-filter capacity ≥ 1, 0 < error rate < 1,
/// 1..=1100 hashes, bits a non-zero multiple of 64, items ≤ capacity, the items summing to the
/// total, and the bit arrays together within `max_bytes`.
///
/// ```
/// use pottery_core::bloom::{BloomFilter, Growth, Params};
/// use pottery_core::bloom_dump::*;
/// assert_eq!(decode_header(b"garbage", 1 << 20), Err(ChunkError::Invalid));
/// ```
pub fn decode_header(bytes: &[u8], max_bytes: u64) -> Result<BloomFilter, ChunkError> {
    let mut reader = Reader { bytes };
    if &reader.take::<4>()? != MAGIC || reader.u8()? != VERSION {
        return Err(ChunkError::Invalid);
    }
    let growth = match (reader.u8()?, reader.u32()?) {
        (0, expansion) if (1..=MAX_EXPANSION).contains(&expansion) => Growth::Scaling(expansion),
        (1, 0) => Growth::NonScaling,
        _ => return Err(ChunkError::Invalid),
    };
    let items = reader.u64()?;
    let count = reader.u32()? as usize;
    let count_ok = match growth {
        Growth::Scaling(_) => (1..=MAX_FILTERS).contains(&count),
        Growth::NonScaling => count == 1,
    };
    if !count_ok || reader.bytes.len() != count * PER_FILTER_BYTES {
        return Err(ChunkError::Invalid);
    }
    let mut subs = Vec::with_capacity(count);
    let mut total_bytes = 0u64;
    let mut total_items = 0u64;
    for _ in 0..count {
        let sub = SubHeader {
            capacity: reader.u64()?,
            error_rate: f64::from_bits(reader.u64()?),
            hashes: reader.u32()?,
            bits: reader.u64()?,
            items: reader.u64()?,
        };
        let valid = sub.capacity >= 1
            && sub.error_rate > 0.0
            && sub.error_rate < 1.0
            && (1..=MAX_HASHES).contains(&sub.hashes)
            && sub.bits >= 64
            && sub.bits & 63 == 0
            && sub.items <= sub.capacity;
        if !valid {
            return Err(ChunkError::Invalid);
        }
        total_items = total_items
            .checked_add(sub.items)
            .ok_or(ChunkError::Invalid)?;
        total_bytes = total_bytes
            .checked_add(sub.bits / 8)
            .ok_or(ChunkError::TooLarge)?;
        subs.push(sub);
    }
    if total_items != items {
        return Err(ChunkError::Invalid);
    }
    if total_bytes > max_bytes || usize::try_from(total_bytes).is_err() {
        return Err(ChunkError::TooLarge);
    }
    let filters = subs
        .into_iter()
        .map(|sub| SubFilter {
            capacity: sub.capacity,
            error_rate: sub.error_rate,
            hashes: sub.hashes,
            items: sub.items,
            bytes: vec![0; (sub.bits / 8) as usize],
        })
        .collect();
    Ok(BloomFilter::from_parts(growth, filters, items))
}

/// The data chunk that starts at byte `offset` of the stream: at most [`CHUNK_BYTES`], within
/// one sub-filter; empty at or past the end.
///
/// ```
/// use pottery_core::bloom::{BloomFilter, Growth, Params};
/// use pottery_core::bloom_dump::*;
/// let params = Params { capacity: 10, error_rate: 0.01, growth: Growth::NonScaling };
/// let mut filter = BloomFilter::new(params, 1 << 20).unwrap();
/// write_at(&mut filter, 3, &[7, 8]).unwrap();
/// assert_eq!(&chunk_at(&filter, 3)[..2], &[7, 8]);
/// assert!(chunk_at(&filter, filter.bytes()).is_empty());
/// let size = filter.bytes();
/// assert_eq!(write_at(&mut filter, size, &[1]), Err(ChunkError::Invalid));
/// ```
pub fn chunk_at(filter: &BloomFilter, offset: u64) -> &[u8] {
    let mut start = offset;
    for sub in filter.filters() {
        let length = sub.bytes.len() as u64;
        if start < length {
            let from = start as usize;
            let to = from.saturating_add(CHUNK_BYTES).min(sub.bytes.len());
            return sub.bytes.get(from..to).unwrap_or(&[]);
        }
        start -= length;
    }
    &[]
}

/// Writes `data` at byte `offset` of the stream; [`ChunkError::Invalid`] unless it lies wholly
/// inside the bit arrays. Nothing is written when it does not fit.
///
/// ```
/// use pottery_core::bloom::{BloomFilter, Growth, Params};
/// use pottery_core::bloom_dump::*;
/// let params = Params { capacity: 10, error_rate: 0.01, growth: Growth::NonScaling };
/// let mut filter = BloomFilter::new(params, 1 << 20).unwrap();
/// assert_eq!(write_at(&mut filter, 0, &[0xff]), Ok(()));
/// assert_eq!(write_at(&mut filter, 0, &[]), Err(ChunkError::Invalid));
/// ```
pub fn write_at(filter: &mut BloomFilter, offset: u64, data: &[u8]) -> Result<(), ChunkError> {
    let end = offset
        .checked_add(data.len() as u64)
        .ok_or(ChunkError::Invalid)?;
    if data.is_empty() || end > filter.bytes() {
        return Err(ChunkError::Invalid);
    }
    let mut start = offset;
    let mut rest = data;
    for sub in filter.filters_mut() {
        if rest.is_empty() {
            break;
        }
        let length = sub.bytes.len() as u64;
        if start >= length {
            start -= length;
            continue;
        }
        let from = start as usize;
        let room = sub.bytes.len() - from;
        let (now, later) = rest.split_at(room.min(rest.len()));
        if let Some(target) = sub.bytes.get_mut(from..from + now.len()) {
            target.copy_from_slice(now);
        }
        rest = later;
        start = 0;
    }
    Ok(())
}

/// What `SCANDUMP key iterator` replies.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan<'a> {
    /// The header, to be loaded with iterator 1.
    Header(Vec<u8>),
    /// A data chunk and the iterator to load it with (and to continue the scan from).
    Data(i64, &'a [u8]),
    /// Past the end.
    Done,
}

/// One step of `SCANDUMP`; `None` for a negative iterator.
///
/// ```
/// use pottery_core::bloom::{BloomFilter, Growth, Params};
/// use pottery_core::bloom_dump::{scan, Scan};
/// let params = Params { capacity: 10, error_rate: 0.01, growth: Growth::Scaling(2) };
/// let filter = BloomFilter::new(params, 1 << 20).unwrap();
/// assert!(matches!(scan(&filter, 0), Some(Scan::Header(_))));
/// let Some(Scan::Data(next, chunk)) = scan(&filter, 1) else { panic!() };
/// assert_eq!(next, 1 + chunk.len() as i64);
/// assert_eq!(scan(&filter, next), Some(Scan::Done));
/// ```
pub fn scan(filter: &BloomFilter, iterator: i64) -> Option<Scan<'_>> {
    match iterator {
        ..=-1 => None,
        0 => Some(Scan::Header(encode_header(filter))),
        _ => {
            let offset = (iterator - 1) as u64;
            let chunk = chunk_at(filter, offset);
            if chunk.is_empty() {
                Some(Scan::Done)
            } else {
                // The offset lies inside the filter, whose size fits in memory: no overflow.
                Some(Scan::Data(iterator + chunk.len() as i64, chunk))
            }
        }
    }
}

impl From<ChunkError> for crate::CommandError {
    fn from(error: ChunkError) -> Self {
        crate::CommandError::Reply(error.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bloom::{ItemHashes, Params};
    use proptest::prelude::*;

    const MIB: u64 = 1 << 20;

    fn filled(items: u32, growth: Growth) -> BloomFilter {
        let params = Params {
            capacity: 50,
            error_rate: 0.01,
            growth,
        };
        let mut filter = BloomFilter::new(params, MIB).unwrap();
        for n in 0..items {
            filter
                .insert(&ItemHashes::of(&n.to_le_bytes()), MIB)
                .unwrap();
        }
        filter
    }

    fn round_trip(filter: &BloomFilter) -> BloomFilter {
        let mut iterator = 0;
        let mut copy = None;
        loop {
            match scan(filter, iterator).unwrap() {
                Scan::Header(header) => {
                    copy = Some(decode_header(&header, MIB).unwrap());
                    iterator = 1;
                }
                Scan::Data(next, chunk) => {
                    let target = copy.as_mut().unwrap();
                    let start =
                        crate::bloom::options::chunk_start(next, chunk.len(), target.bytes());
                    write_at(target, start.unwrap(), chunk).unwrap();
                    iterator = next;
                }
                Scan::Done => break,
            }
        }
        copy.unwrap()
    }

    #[test]
    fn scandump_round_trips() {
        for filter in [
            filled(0, Growth::Scaling(2)),
            filled(400, Growth::Scaling(2)),
            filled(50, Growth::NonScaling),
        ] {
            assert_eq!(round_trip(&filter), filter);
        }
    }

    #[test]
    fn headers_claiming_too_much_are_refused_before_allocating() {
        let filter = filled(10, Growth::Scaling(2));
        let header = encode_header(&filter);
        // Bits of sub-filter 0 at offset 22 + 20: claim 2^60 bits.
        let mut huge = header.clone();
        huge[42..50].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert_eq!(decode_header(&huge, MIB), Err(ChunkError::TooLarge));
        // The same filter is refused under a smaller byte limit.
        assert_eq!(decode_header(&header, 8), Err(ChunkError::TooLarge));
    }

    #[test]
    fn malformed_headers_are_invalid() {
        let header = encode_header(&filled(10, Growth::Scaling(2)));
        let mut cases: Vec<Vec<u8>> = vec![Vec::new(), header[..header.len() - 1].to_vec()];
        let mut extended = header.clone();
        extended.push(0);
        cases.push(extended);
        let mut patch = |at: usize, bytes: &[u8]| {
            let mut copy = header.clone();
            copy[at..at + bytes.len()].copy_from_slice(bytes);
            cases.push(copy);
        };
        patch(0, b"X");
        patch(4, &[2]); // version
        patch(5, &[2]); // growth flag
        patch(6, &0u32.to_le_bytes()); // expansion 0 while scaling
        patch(6, &40000u32.to_le_bytes());
        patch(10, &11u64.to_le_bytes()); // items not the sum
        patch(18, &2u32.to_le_bytes()); // filter count vs length
        patch(18, &0u32.to_le_bytes());
        patch(22, &0u64.to_le_bytes()); // capacity 0
        patch(30, &1.5f64.to_bits().to_le_bytes()); // error rate
        patch(30, &f64::NAN.to_bits().to_le_bytes());
        patch(38, &0u32.to_le_bytes()); // hashes
        patch(38, &5000u32.to_le_bytes());
        patch(42, &100u64.to_le_bytes()); // bits not whole words
        patch(42, &0u64.to_le_bytes());
        patch(50, &51u64.to_le_bytes()); // items above capacity
        for case in cases {
            assert_eq!(
                decode_header(&case, MIB),
                Err(ChunkError::Invalid),
                "{case:?}"
            );
        }
    }

    #[test]
    fn data_chunks_must_fit() {
        let mut filter = filled(0, Growth::Scaling(2));
        let size = filter.bytes();
        assert_eq!(write_at(&mut filter, size, &[1]), Err(ChunkError::Invalid));
        assert_eq!(
            write_at(&mut filter, size - 1, &[1, 2]),
            Err(ChunkError::Invalid)
        );
        assert_eq!(
            write_at(&mut filter, u64::MAX, &[1]),
            Err(ChunkError::Invalid)
        );
        assert_eq!(write_at(&mut filter, 0, &[]), Err(ChunkError::Invalid));
        assert_eq!(write_at(&mut filter, size - 1, &[1]), Ok(()));
        assert_eq!(scan(&filter, -1), None);
        assert_eq!(scan(&filter, i64::MAX), Some(Scan::Done));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_header(&bytes, MIB);
        }

        #[test]
        fn writes_spanning_sub_filters_land_in_order(items in 0u32..500, offset in 0u64..400, len in 1usize..300) {
            let mut filter = filled(items, Growth::Scaling(2));
            let data: Vec<u8> = (0..len).map(|i| i as u8 | 1).collect();
            let fits = offset + len as u64 <= filter.bytes();
            prop_assert_eq!(write_at(&mut filter, offset, &data).is_ok(), fits);
            if fits {
                let stream: Vec<u8> = filter.filters().iter().flat_map(|f| f.bytes.clone()).collect();
                prop_assert_eq!(&stream[offset as usize..offset as usize + len], &data[..]);
            }
        }
    }
}
