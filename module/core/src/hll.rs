//! Membership in a Redis HyperLogLog without changing it: would `PFADD` change the value?
//!
//! Redis 7.0's `hyperloglog.c`: an element's MurmurHash64A (seed 0xadc83b19) picks register
//! `hash & 16383` (the low 14 bits); the remaining 50 bits, with bit 50 forced on, give the
//! count = trailing zeros + 1 (1..=51). `PFADD` changes the value iff the register is below the
//! count, so "maybe present" is register ≥ count. Values are a 16-byte header (`HYLL`, encoding
//! byte, 3 unused bytes, cached cardinality) followed by the registers: dense is 16384 6-bit
//! registers packed little-endian; sparse is a run-length code of ZERO `00xxxxxx` (x+1 zeros),
//! XZERO `01xxxxxx yyyyyyyy` (x·256+y+1 zeros) and VAL `1vvvvvxx` (x+1 registers of value v+1).

use crate::murmur::murmur_hash_64a;

/// The seed Redis hashes HyperLogLog elements with.
pub const HLL_SEED: u64 = 0xadc83b19;
/// Registers in every HyperLogLog (2^14).
pub const REGISTERS: usize = 1 << 14;
const INDEX_BITS: u32 = 14;
const COUNT_BITS: u32 = 50;
const HEADER_BYTES: usize = 16;
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << REGISTER_BITS) - 1;
/// Size of a dense value: the header and 16384 6-bit registers.
pub const DENSE_BYTES: usize = HEADER_BYTES + (REGISTERS * REGISTER_BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;

/// Why a string cannot be read as a HyperLogLog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HllError {
    /// Not an HLL at all (Redis's `isHLLObjectOrReply` check).
    NotHll,
    /// An HLL header with a sparse body that does not describe exactly 16384 registers.
    Corrupt,
}

impl HllError {
    /// Redis's own reply text.
    ///
    /// ```
    /// use pottery_core::hll::*;
    /// assert_eq!(HllError::Corrupt.text(), "INVALIDOBJ Corrupted HLL object detected");
    /// ```
    pub fn text(self) -> &'static str {
        match self {
            HllError::NotHll => "WRONGTYPE Key is not a valid HyperLogLog string value.",
            HllError::Corrupt => "INVALIDOBJ Corrupted HLL object detected",
        }
    }
}

/// The register an element maps to and the count `PFADD` would store there.
///
/// ```
/// use pottery_core::hll::{pattern, REGISTERS};
/// let (index, count) = pattern(b"apple");
/// assert!(index < REGISTERS && (1..=51).contains(&count));
/// ```
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur_hash_64a(element, HLL_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> INDEX_BITS) | (1 << COUNT_BITS);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A HyperLogLog's registers, read from its string value.
#[derive(Debug)]
pub enum Registers<'a> {
    /// The packed 6-bit registers of a dense value (header stripped).
    Dense(&'a [u8]),
    /// One byte per register, decoded from a sparse value.
    Sparse(Vec<u8>),
}

impl Registers<'_> {
    /// Checks the value like Redis does and reads its registers.
    ///
    /// ```
    /// use pottery_core::hll::*;
    /// // What PFADD creates for an empty HLL: a sparse value with one XZERO run of 16384.
    /// let mut value = b"HYLL\x01".to_vec();
    /// value.extend_from_slice(&[0; 11]);
    /// value.extend_from_slice(&[0x7f, 0xff]);
    /// let registers = Registers::parse(&value).unwrap();
    /// assert_eq!(registers.get(0), 0);
    /// assert!(!registers.may_contain(b"anything"));
    /// assert_eq!(Registers::parse(b"text").unwrap_err(), HllError::NotHll);
    /// ```
    pub fn parse(value: &[u8]) -> Result<Registers<'_>, HllError> {
        if value.len() < HEADER_BYTES || !value.starts_with(b"HYLL") {
            return Err(HllError::NotHll);
        }
        match value.get(4) {
            Some(&DENSE) if value.len() == DENSE_BYTES => {
                Ok(Registers::Dense(value.get(HEADER_BYTES..).unwrap_or(&[])))
            }
            Some(&SPARSE) => decode_sparse(value.get(HEADER_BYTES..).unwrap_or(&[])),
            _ => Err(HllError::NotHll),
        }
    }

    /// Register `index` (< 16384).
    pub fn get(&self, index: usize) -> u8 {
        match self {
            Registers::Dense(packed) => {
                let bit = index * REGISTER_BITS;
                let (byte, shift) = (bit / 8, bit % 8);
                // The last register reads one byte past the array in C (the string's NUL).
                let low = u16::from(packed.get(byte).copied().unwrap_or(0));
                let high = u16::from(packed.get(byte + 1).copied().unwrap_or(0));
                (((low | (high << 8)) >> shift) as u8) & REGISTER_MAX
            }
            Registers::Sparse(registers) => registers.get(index).copied().unwrap_or(0),
        }
    }

    /// Whether `PFADD` of `element` would leave the value unchanged (it may have been added).
    pub fn may_contain(&self, element: &[u8]) -> bool {
        let (index, count) = pattern(element);
        self.get(index) >= count
    }
}

fn decode_sparse(mut code: &[u8]) -> Result<Registers<'static>, HllError> {
    let mut registers = vec![0u8; REGISTERS];
    let mut index = 0usize;
    while let Some((&op, rest)) = code.split_first() {
        let (run, value, rest) = if op & 0x80 != 0 {
            (usize::from(op & 0x03) + 1, ((op >> 2) & 0x1f) + 1, rest)
        } else if op & 0x40 != 0 {
            let (&low, rest) = rest.split_first().ok_or(HllError::Corrupt)?;
            (
                (usize::from(op & 0x3f) << 8 | usize::from(low)) + 1,
                0,
                rest,
            )
        } else {
            (usize::from(op & 0x3f) + 1, 0, rest)
        };
        let end = index + run;
        let slots = registers.get_mut(index..end).ok_or(HllError::Corrupt)?;
        slots.fill(value);
        index = end;
        code = rest;
    }
    if index == REGISTERS {
        Ok(Registers::Sparse(registers))
    } else {
        Err(HllError::Corrupt)
    }
}

impl From<HllError> for crate::CommandError {
    fn from(error: HllError) -> Self {
        crate::CommandError::Reply(error.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(encoding: u8) -> Vec<u8> {
        let mut value = b"HYLL".to_vec();
        value.push(encoding);
        value.extend_from_slice(&[0; 11]);
        value
    }

    /// A dense value with register `index` set to `value`, packed like Redis's
    /// `HLL_DENSE_SET_REGISTER`.
    fn dense_with(index: usize, value: u8) -> Vec<u8> {
        let mut out = header(DENSE);
        out.resize(DENSE_BYTES, 0);
        let bit = index * REGISTER_BITS;
        let (byte, shift) = (HEADER_BYTES + bit / 8, bit % 8);
        out[byte] |= value << shift;
        if byte + 1 < out.len() && shift > 2 {
            out[byte + 1] |= value >> (8 - shift);
        }
        out
    }

    #[test]
    fn empty_sparse_value_contains_nothing() {
        // What PFADD creates: one XZERO covering every register.
        let mut value = header(SPARSE);
        value.extend_from_slice(&[0x7f, 0xff]);
        let registers = Registers::parse(&value).unwrap();
        assert!(!registers.may_contain(b"anything"));
    }

    #[test]
    fn sparse_runs_map_to_registers() {
        let (index, count) = pattern(b"x");
        let mut value = header(SPARSE);
        // XZERO for registers before index (1..=16384 per opcode), then VAL, then XZERO.
        let emit_zeros = |mut n: usize, value: &mut Vec<u8>| {
            while n > 0 {
                let run = n.min(16384);
                let code = run - 1;
                value.push(0x40 | (code >> 8) as u8);
                value.push((code & 0xff) as u8);
                n -= run;
            }
        };
        emit_zeros(index, &mut value);
        value.push(0x80 | ((count.min(32) - 1) << 2));
        emit_zeros(REGISTERS - index - 1, &mut value);
        let registers = Registers::parse(&value).unwrap();
        assert_eq!(registers.get(index), count.min(32));
        assert_eq!(registers.may_contain(b"x"), count <= 32);
    }

    #[test]
    fn dense_registers_read_like_redis() {
        for index in [0, 1, 2, 3, 4, 5, 1000, REGISTERS - 2, REGISTERS - 1] {
            for value in [1, 17, REGISTER_MAX] {
                let dense = dense_with(index, value);
                let registers = Registers::parse(&dense).unwrap();
                assert_eq!(registers.get(index), value, "register {index}");
                if index > 0 {
                    assert_eq!(registers.get(index - 1), 0);
                }
                if index + 1 < REGISTERS {
                    assert_eq!(registers.get(index + 1), 0);
                }
            }
        }
        let (index, count) = pattern(b"y");
        assert!(Registers::parse(&dense_with(index, count))
            .unwrap()
            .may_contain(b"y"));
        assert!(!Registers::parse(&dense_with(index, count - 1))
            .unwrap()
            .may_contain(b"y"));
    }

    #[test]
    fn invalid_and_corrupt_values_are_told_apart() {
        assert_eq!(Registers::parse(b"").unwrap_err(), HllError::NotHll);
        assert_eq!(
            Registers::parse(b"not a hyperloglog value").unwrap_err(),
            HllError::NotHll
        );
        let mut short_dense = header(DENSE);
        short_dense.resize(DENSE_BYTES - 1, 0);
        assert_eq!(
            Registers::parse(&short_dense).unwrap_err(),
            HllError::NotHll
        );
        assert_eq!(Registers::parse(&header(2)).unwrap_err(), HllError::NotHll);
        // Sparse bodies that cover too few or too many registers, or end inside an opcode.
        let mut cases = vec![header(SPARSE)];
        let mut too_many = header(SPARSE);
        too_many.extend_from_slice(&[0x7f, 0xff, 0x00]);
        cases.push(too_many);
        let mut truncated = header(SPARSE);
        truncated.push(0x7f);
        cases.push(truncated);
        let mut short = header(SPARSE);
        short.extend_from_slice(&[0x7f, 0xfe]);
        cases.push(short);
        for case in cases {
            assert_eq!(
                Registers::parse(&case).unwrap_err(),
                HllError::Corrupt,
                "{case:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_sparse_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut value = header(SPARSE);
            value.extend_from_slice(&body);
            if let Ok(registers) = Registers::parse(&value) {
                let _ = registers.may_contain(b"z");
            }
        }
    }
}
