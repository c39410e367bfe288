//! Python's `repr(float)`, which `json.dumps` writes for every float.

use std::io::Write as _;

/// Appends `value` as Python's `repr` (and `json.dumps`) writes it.
///
/// Both Rust's `{:e}` and Python's `repr` produce the shortest digit string that reads back as
/// the same float; they only lay the digits out differently. Python writes a decimal point
/// position `decpt` (value = 0.d1d2… × 10^decpt) in fixed notation when −4 < decpt ≤ 16 and in
/// exponent notation otherwise, with a signed exponent of at least two digits.
pub(crate) fn write_python_float(out: &mut Vec<u8>, value: f64) {
    if value.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
        return;
    }
    // At most 17 significant digits, a sign, a point and a 4-character exponent.
    let mut scientific = [0u8; 32];
    let mut cursor = std::io::Cursor::new(&mut scientific[..]);
    // Cannot fail: the buffer is larger than any `{:e}` output of an f64.
    let _ = write!(cursor, "{value:e}");
    let written = usize::try_from(cursor.position()).unwrap_or(0);
    let text = &scientific[..written];
    let (mantissa, exponent) = match text.iter().position(|&byte| byte == b'e') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, &b"0"[..]),
    };
    let (negative, mantissa) = match mantissa.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, mantissa),
    };
    let mut digits = [0u8; 24];
    let mut count = 0;
    for &byte in mantissa {
        if byte.is_ascii_digit() && count < digits.len() {
            digits[count] = byte;
            count += 1;
        }
    }
    let digits = &digits[..count];
    let exponent: i32 = std::str::from_utf8(exponent)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0);
    let decimal_point = exponent + 1;
    if negative {
        out.push(b'-');
    }
    if -4 < decimal_point && decimal_point <= 16 {
        write_fixed(out, digits, decimal_point);
    } else {
        write_exponent(out, digits, exponent);
    }
}

fn write_fixed(out: &mut Vec<u8>, digits: &[u8], decimal_point: i32) {
    let length = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if decimal_point <= 0 {
        out.extend_from_slice(b"0.");
        for _ in decimal_point..0 {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else if decimal_point >= length {
        out.extend_from_slice(digits);
        for _ in length..decimal_point {
            out.push(b'0');
        }
        out.extend_from_slice(b".0");
    } else {
        let split = usize::try_from(decimal_point).unwrap_or(0);
        out.extend_from_slice(&digits[..split]);
        out.push(b'.');
        out.extend_from_slice(&digits[split..]);
    }
}

fn write_exponent(out: &mut Vec<u8>, digits: &[u8], exponent: i32) {
    if let Some((first, rest)) = digits.split_first() {
        out.push(*first);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest);
        }
    }
    out.push(b'e');
    out.push(if exponent < 0 { b'-' } else { b'+' });
    let magnitude = exponent.unsigned_abs();
    if magnitude < 10 {
        out.push(b'0');
    }
    let _ = write!(out, "{magnitude}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(value: f64) -> String {
        let mut out = Vec::new();
        write_python_float(&mut out, value);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn matches_python_repr() {
        // Each pair was checked against CPython 3.11's repr().
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (0.00012345, "0.00012345"),
            (1e308, "1e+308"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (2.5e-300, "2.5e-300"),
            (1e100, "1e+100"),
            (123.456, "123.456"),
            (9007199254740993.0, "9007199254740992.0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(repr(value), expected, "{value:e}");
        }
    }
}
