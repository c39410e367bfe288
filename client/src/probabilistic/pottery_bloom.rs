//! [`PotteryBloomFilter`]: a Bloom filter in Python pottery 3.0.1's own layout (a plain Redis
//! string used as a bitmap), so Python and Rust services share filters, on any Redis, with or
//! without the pottery module.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;

use crate::codec::to_json;
use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

/// A Bloom filter stored exactly as Python pottery 3.0.1's `BloomFilter` stores it: a Redis
/// string of `m` bits, where an element sets the bits `murmur3_x86_32(JSON(element), seed) mod
/// m` for seeds `0..k` (bit 0 is the first byte's most significant bit, as `SETBIT` counts), with
/// `m = ceil(−n·ln p / ln² 2)` and `k = ceil(m / n · ln 2)` for the `num_elements` n and
/// `false_positives` p given. A Python service and a Rust one that open the same key with the
/// same n and p see each other's elements.
///
/// It needs no module: `add`/`extend` are one `BITFIELD ... SET u1` each (which also tells
/// whether the element was new), `contains` one `BITFIELD_RO ... GET u1`, `len` a `BITCOUNT`
/// (pottery's approximation). Prefer [`BloomFilter`](crate::BloomFilter) where the module is
/// loaded and no Python service shares the filter: it grows as it fills and keeps its own
/// parameters.
///
/// `PotteryBloomFilter<T>` is the sync face; [`aio::PotteryBloomFilter`](crate::aio::PotteryBloomFilter)
/// has the same methods as futures.
///
/// # Example
///
/// ```no_run
/// use pottery::PotteryBloomFilter;
///
/// // from Python: BloomFilter(num_elements=100, false_positives=0.01, key='dilberts')
/// let dilberts: PotteryBloomFilter<String> =
///     PotteryBloomFilter::open("redis://127.0.0.1:6379/", "dilberts", 100, 0.01)?;
/// dilberts.add("rajiv")?;
/// assert!(dilberts.contains("rajiv")?);
/// assert!(!dilberts.contains("dan")?);
/// assert_eq!(dilberts.len()?, 1);
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct PotteryBloomFilter<T, F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    bits: u64,
    hashes: u32,
    types: PhantomData<fn() -> T>,
    face: PhantomData<F>,
}

impl<T, F: Face> Clone for PotteryBloomFilter<T, F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            bits: self.bits,
            hashes: self.hashes,
            types: PhantomData,
            face: PhantomData,
        }
    }
}

impl<T, F: Face> fmt::Debug for PotteryBloomFilter<T, F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PotteryBloomFilter")
            .field("key", &self.handle.name())
            .field("bits", &self.bits)
            .field("hashes", &self.hashes)
            .finish()
    }
}

/// The most bits a filter may have: Redis strings hold at most 2^32 bits (512 MiB).
const MAX_BITS: f64 = 4_294_967_296.0;

/// Pottery's sizes for `num_elements` and `false_positives`: (bits m, hashes k).
fn sizes(num_elements: u64, false_positives: f64) -> Result<(u64, u32)> {
    if num_elements == 0 {
        return Err(Error::InvalidArgument {
            argument: "num_elements",
            problem: "must be at least 1",
        });
    }
    if !(false_positives > 0.0 && false_positives < 1.0) {
        return Err(Error::InvalidArgument {
            argument: "false_positives",
            problem: "must be between 0 and 1",
        });
    }
    let n = num_elements as f64;
    let bits = (-n * false_positives.ln() / std::f64::consts::LN_2.powi(2)).ceil();
    if bits > MAX_BITS {
        return Err(Error::InvalidArgument {
            argument: "num_elements",
            problem: "the filter would exceed 2^32 bits, the most a Redis string holds",
        });
    }
    let hashes = (bits / n * std::f64::consts::LN_2).ceil();
    // Both are small positive integers now: bits <= 2^32, hashes <= bits.
    Ok((bits as u64, hashes as u32))
}

/// MurmurHash3 x86_32 (Austin Appleby's, as Python's `mmh3.hash`), read as the signed 32-bit
/// value `mmh3.hash` returns.
pub(crate) fn murmur3_x86_32(data: &[u8], seed: u32) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut hash = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        hash ^= k;
        hash = hash
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    let mut k: u32 = 0;
    for (index, byte) in tail.iter().enumerate() {
        k ^= u32::from(*byte) << (8 * index);
    }
    if !tail.is_empty() {
        hash ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    hash ^= data.len() as u32;
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85eb_ca6b);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xc2b2_ae35);
    hash ^= hash >> 16;
    hash as i32
}

impl<T: Serialize, F: Face> PotteryBloomFilter<T, F> {
    /// Attaches to the filter at `key` with Python pottery's parameters: the number of
    /// elements expected and the false-positive rate wanted (they size the bitmap; give the
    /// values the Python side uses). Opens no connection until the first call.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for `num_elements` 0, `false_positives` outside (0, 1), or a
    /// filter larger than a Redis string can hold.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let seen: pottery::PotteryBloomFilter<u64> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "seen", 1_000_000, 0.001)?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn open(
        connector: impl Into<Connector>,
        key: &str,
        num_elements: u64,
        false_positives: f64,
    ) -> Result<Self> {
        let (bits, hashes) = sizes(num_elements, false_positives)?;
        Ok(Self {
            handle: KeyHandle::new::<F>(connector.into(), Some(key))?,
            bits,
            hashes,
            types: PhantomData,
            face: PhantomData,
        })
    }

    /// The Redis key of the bitmap.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<u64> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 10, 0.01)?;
    /// assert_eq!(filter.key(), "f");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// The bits of the bitmap (pottery's `size()`) and hash functions per element
    /// (`num_hashes()`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<u64> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// assert_eq!(filter.shape(), (959, 7));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn shape(&self) -> (u64, u32) {
        (self.bits, self.hashes)
    }

    /// The bit offsets of `element`, as pottery's `_bit_offsets`.
    fn offsets<Q: Serialize + ?Sized>(&self, element: &Q) -> Result<Vec<u64>> {
        let encoded = to_json(element)?;
        let bits = i64::try_from(self.bits).unwrap_or(i64::MAX);
        Ok((0..self.hashes)
            .map(|seed| {
                // Python's `%` is a floor modulo: never negative.
                i64::from(murmur3_x86_32(&encoded, seed)).rem_euclid(bits) as u64
            })
            .collect())
    }

    /// One `BITFIELD` (or `BITFIELD_RO`) over the bits of `elements`: `SET u1 offset 1` to
    /// add, `GET u1 offset` to test.
    fn bitfield<'a, Q, I>(&self, elements: I, set: bool) -> Result<(redis::Cmd, usize)>
    where
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        let mut command = self
            .handle
            .command(if set { "BITFIELD" } else { "BITFIELD_RO" });
        let mut count = 0;
        for element in elements {
            for offset in self.offsets(element)? {
                if set {
                    command.arg("SET").arg("u1").arg(offset).arg(1);
                } else {
                    command.arg("GET").arg("u1").arg(offset);
                }
            }
            count += 1;
        }
        Ok((command, count))
    }

    /// Per element, whether all its `k` bits in `bits` are set.
    fn all_set(bits: Vec<i64>, hashes: u32) -> Vec<bool> {
        bits.chunks(hashes.max(1) as usize)
            .map(|chunk| chunk.iter().all(|bit| *bit == 1))
            .collect()
    }

    /// Adds `element`; `true` if it was certainly not in the filter before (one of its bits
    /// was still clear).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<String> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// assert!(filter.add("a")?);
    /// assert!(!filter.add("a")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn add<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        let hashes = self.hashes;
        F::run(Operation::build(|| {
            let (command, _) = self.bitfield([element], true)?;
            Ok(self
                .handle
                .request::<Vec<i64>>(command)
                .map(move |old| !Self::all_set(old, hashes).iter().all(|set| *set)))
        }))
    }

    /// Adds every element of `elements` in one `BITFIELD`; how many were certainly new.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<u32> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// assert_eq!(filter.extend(&[1, 2, 3])?, 3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn extend<'a, Q, I>(&self, elements: I) -> F::Output<usize>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        let hashes = self.hashes;
        F::run(Operation::build(|| {
            let (command, count) = self.bitfield(elements, true)?;
            if count == 0 {
                return Ok(Operation::done(Ok(0)));
            }
            // Within one BITFIELD an element's SETs see the bits the elements before it set,
            // as separate adds would.
            Ok(self.handle.request::<Vec<i64>>(command).map(move |old| {
                Self::all_set(old, hashes)
                    .iter()
                    .filter(|was_there| !**was_there)
                    .count()
            }))
        }))
    }

    /// Whether `element` may have been added (`false`: certainly not).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<String> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// assert!(!filter.contains("never")?);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains<Q>(&self, element: &Q) -> F::Output<bool>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        F::run(
            self.contains_operation([element])
                .map(|found| found.first().copied().unwrap_or(false)),
        )
    }

    /// Per element, whether it may have been added, in one `BITFIELD_RO`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<u32> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// filter.add(&1)?;
    /// assert_eq!(filter.contains_many(&[1, 2])?, [true, false]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn contains_many<'a, Q, I>(&self, elements: I) -> F::Output<Vec<bool>>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        F::run(self.contains_operation(elements))
    }

    fn contains_operation<'a, Q, I>(&self, elements: I) -> Operation<Vec<bool>>
    where
        Q: Serialize + ?Sized + 'a,
        I: IntoIterator<Item = &'a Q>,
    {
        let hashes = self.hashes;
        Operation::build(|| {
            let (command, count) = self.bitfield(elements, false)?;
            if count == 0 {
                return Ok(Operation::done(Ok(Vec::new())));
            }
            Ok(self
                .handle
                .request::<Vec<i64>>(command)
                .map(move |bits| Self::all_set(bits, hashes)))
        })
    }

    /// Pottery's estimate of the number of elements added, from the bits set (`BITCOUNT`):
    /// ⌊−m/k · ln(1 − set/m)⌋.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<u32> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// filter.extend(&[1, 2, 3])?;
    /// assert_eq!(filter.len()?, 3);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn len(&self) -> F::Output<u64> {
        let (bits, hashes) = (self.bits as f64, f64::from(self.hashes));
        F::run(
            self.handle
                .request::<u64>(self.handle.command("BITCOUNT"))
                .map(move |set| {
                    let estimate = -bits / hashes * (1.0 - set as f64 / bits).ln();
                    if estimate.is_finite() {
                        estimate.floor() as u64
                    } else {
                        u64::MAX
                    }
                }),
        )
    }

    /// Removes every element (`UNLINK` of the key).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let filter: pottery::PotteryBloomFilter<u32> =
    ///     pottery::PotteryBloomFilter::open("redis://127.0.0.1:6379/", "f", 100, 0.01)?;
    /// filter.clear()?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn clear(&self) -> F::Output<()> {
        F::run(self.handle.request(self.handle.command("UNLINK")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_the_reference_vectors() {
        // From the SMHasher reference, as Python's mmh3.hash (signed) gives them.
        assert_eq!(murmur3_x86_32(b"", 0), 0);
        assert_eq!(murmur3_x86_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_x86_32(b"hello", 0), 0x248b_fa47_u32 as i32);
        assert_eq!(murmur3_x86_32(b"foo", 0), -156_908_512);
        assert_eq!(
            murmur3_x86_32(b"The quick brown fox jumps over the lazy dog", 0),
            0x2e4f_f723
        );
    }

    #[test]
    fn offsets_are_pottery_s() {
        // pottery 3.0.1's doctest: BloomFilter(num_elements=100, false_positives=0.01).
        let Ok(filter) =
            PotteryBloomFilter::<String>::open("redis://127.0.0.1:1/", "dilberts", 100, 0.01)
        else {
            panic!("valid parameters");
        };
        assert_eq!(filter.shape(), (959, 7));
        assert_eq!(
            filter.offsets("rajiv").ok(),
            Some(vec![183, 319, 787, 585, 8, 471, 711])
        );
        assert_eq!(
            filter.offsets("raj").ok(),
            Some(vec![482, 875, 725, 667, 109, 714, 595])
        );
        assert_eq!(
            filter.offsets("dan").ok(),
            Some(vec![687, 925, 954, 707, 615, 914, 620])
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(sizes(0, 0.01).is_err());
        assert!(sizes(10, 0.0).is_err());
        assert!(sizes(10, 1.0).is_err());
        assert!(sizes(10, f64::NAN).is_err());
        assert!(sizes(u64::MAX, 0.01).is_err());
        assert_eq!(sizes(1, 0.5).ok(), Some((2, 2)));
    }
}
