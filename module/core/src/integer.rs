//! Integers exactly as Redis reads and writes them.
//!
//! Redis's `string2ll` accepts an optional `-`, then digits without leading zeros, no spaces and
//! no `+`; anything else (including `-0` and values outside `i64`) is "not an integer". Keeping
//! the same rule means `POTTERY.NEXTID` and `INCR` agree on which stored values are counters.

/// Parses `bytes` as Redis's `string2ll` does; `None` when Redis would reply
/// `ERR value is not an integer or out of range`.
///
/// ```
/// use pottery_core::integer::parse_i64;
/// assert_eq!(parse_i64(b"-42"), Some(-42));
/// assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
/// assert_eq!(parse_i64(b"007"), None);
/// assert_eq!(parse_i64(b"+1"), None);
/// ```
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes {
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    // Accumulate as a negative number so that i64::MIN, whose magnitude has no positive
    // counterpart, parses without a special case.
    let mut value: i64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(i64::from(byte - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// The longest decimal form of an `i64` (`-9223372036854775808`).
pub const MAX_I64_DIGITS: usize = 20;

/// Writes `value` in decimal into `buffer` and returns the written bytes, without allocating.
///
/// ```
/// use pottery_core::integer::{format_i64, MAX_I64_DIGITS};
/// let mut buffer = [0u8; MAX_I64_DIGITS];
/// assert_eq!(format_i64(i64::MIN, &mut buffer), b"-9223372036854775808");
/// ```
pub fn format_i64(value: i64, buffer: &mut [u8; MAX_I64_DIGITS]) -> &[u8] {
    let mut position = buffer.len();
    let mut magnitude = value.unsigned_abs();
    loop {
        position -= 1;
        buffer[position] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        position -= 1;
        buffer[position] = b'-';
    }
    &buffer[position..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_what_redis_accepts() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn rejects_what_redis_rejects() {
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1.0",
            b"1e3",
            b"0x10",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999999",
            "١".as_bytes(),
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    proptest! {
        #[test]
        fn round_trips(value: i64) {
            let mut buffer = [0u8; MAX_I64_DIGITS];
            let text = format_i64(value, &mut buffer);
            let expected = value.to_string();
            prop_assert_eq!(text, expected.as_bytes());
            prop_assert_eq!(parse_i64(text), Some(value));
        }

        #[test]
        fn agrees_with_std_on_canonical_text(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            // Whatever parses must be the canonical decimal form of the result.
            if let Some(value) = parse_i64(&bytes) {
                let canonical = value.to_string();
                prop_assert_eq!(canonical.as_bytes(), &bytes[..]);
            }
        }
    }
}
