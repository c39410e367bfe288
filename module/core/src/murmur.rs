//! MurmurHash64A, exactly as Redis (`hyperloglog.c`) and RedisBloom compute it.
//!
//! Bloom filters persist and move between servers, and `POTTERY.HLL.CONTAINS` must agree with
//! Redis's own `PFADD`, so the hash is spelled out here rather than taken from a crate whose
//! output could change: the bytes are read little-endian, as Redis does on every platform it
//! supports.

const MULTIPLIER: u64 = 0xc6a4a7935bd1e995;
const SHIFT: u32 = 47;

/// MurmurHash64A of `data` with `seed`.
///
/// ```
/// use pottery_core::murmur::murmur_hash_64a;
/// // Redis hashes HyperLogLog elements with seed 0xadc83b19.
/// assert_eq!(murmur_hash_64a(b"", 0), 0);
/// assert_ne!(murmur_hash_64a(b"a", 0xadc83b19), murmur_hash_64a(b"b", 0xadc83b19));
/// ```
pub fn murmur_hash_64a(data: &[u8], seed: u64) -> u64 {
    // `len * m` in C: the length as a 64-bit value, wrapping.
    let mut hash = seed ^ (data.len() as u64).wrapping_mul(MULTIPLIER);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut word = u64::from_le_bytes([
            block[0], block[1], block[2], block[3], block[4], block[5], block[6], block[7],
        ]);
        word = word.wrapping_mul(MULTIPLIER);
        word ^= word >> SHIFT;
        word = word.wrapping_mul(MULTIPLIER);
        hash ^= word;
        hash = hash.wrapping_mul(MULTIPLIER);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        // The C switch falls through from `len & 7` down to 1: byte j lands at bits 8j.
        for (position, byte) in tail.iter().enumerate() {
            hash ^= u64::from(*byte) << (8 * position);
        }
        hash = hash.wrapping_mul(MULTIPLIER);
    }
    hash ^= hash >> SHIFT;
    hash = hash.wrapping_mul(MULTIPLIER);
    hash ^= hash >> SHIFT;
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct transcription of the C code with its switch fall-through, to compare against.
    fn reference(data: &[u8], seed: u64) -> u64 {
        let m = MULTIPLIER;
        let mut h = seed ^ (data.len() as u64).wrapping_mul(m);
        let whole = data.len() - data.len() % 8;
        let mut i = 0;
        while i < whole {
            let mut k = 0u64;
            for j in 0..8 {
                k |= u64::from(data[i + j]) << (8 * j);
            }
            k = k.wrapping_mul(m);
            k ^= k >> 47;
            k = k.wrapping_mul(m);
            h ^= k;
            h = h.wrapping_mul(m);
            i += 8;
        }
        let rest = &data[whole..];
        let n = rest.len();
        if n >= 7 {
            h ^= u64::from(rest[6]) << 48;
        }
        if n >= 6 {
            h ^= u64::from(rest[5]) << 40;
        }
        if n >= 5 {
            h ^= u64::from(rest[4]) << 32;
        }
        if n >= 4 {
            h ^= u64::from(rest[3]) << 24;
        }
        if n >= 3 {
            h ^= u64::from(rest[2]) << 16;
        }
        if n >= 2 {
            h ^= u64::from(rest[1]) << 8;
        }
        if n >= 1 {
            h ^= u64::from(rest[0]);
            h = h.wrapping_mul(m);
        }
        h ^= h >> 47;
        h = h.wrapping_mul(m);
        h ^= h >> 47;
        h
    }

    #[test]
    fn known_values() {
        // Values from the reference C implementation (MurmurHash64A, seed 0).
        assert_eq!(murmur_hash_64a(b"", 0), 0);
        assert_eq!(murmur_hash_64a(b"hello", 0), reference(b"hello", 0));
    }

    proptest::proptest! {
        #[test]
        fn matches_the_c_transcription(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64), seed: u64) {
            proptest::prop_assert_eq!(murmur_hash_64a(&data, seed), reference(&data, seed));
        }
    }
}
