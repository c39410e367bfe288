//! Packing commands into RESP bytes without the `redis::Cmd` allocations.
//!
//! The sync fan-out writes one command to several masters, so a command is packed once into a
//! reused buffer and the same bytes go to every master. Integers are formatted on the stack.

/// One argument of a command.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// A binary-safe string.
    Bytes(&'a [u8]),
    /// A signed integer, sent in decimal.
    Int(i64),
}

/// Appends the RESP array header for `count` arguments (`*<count>\r\n`).
pub(crate) fn push_array_header(buffer: &mut Vec<u8>, count: usize) {
    buffer.push(b'*');
    push_length(buffer, count);
    buffer.extend_from_slice(b"\r\n");
}

/// Appends one argument as a RESP bulk string (`$<len>\r\n<bytes>\r\n`).
pub(crate) fn push_arg(buffer: &mut Vec<u8>, arg: Arg<'_>) {
    match arg {
        Arg::Bytes(bytes) => {
            buffer.push(b'$');
            push_length(buffer, bytes.len());
            buffer.extend_from_slice(b"\r\n");
            buffer.extend_from_slice(bytes);
        }
        Arg::Int(value) => {
            let mut digits = [0u8; 20];
            let text = format_decimal(&mut digits, value.unsigned_abs());
            let negative = value < 0;
            buffer.push(b'$');
            push_length(buffer, text.len() + usize::from(negative));
            buffer.extend_from_slice(b"\r\n");
            if negative {
                buffer.push(b'-');
            }
            buffer.extend_from_slice(text);
        }
    }
    buffer.extend_from_slice(b"\r\n");
}

/// Packs a whole command, replacing what `buffer` held.
pub(crate) fn pack(buffer: &mut Vec<u8>, args: &[Arg<'_>]) {
    buffer.clear();
    push_array_header(buffer, args.len());
    for arg in args {
        push_arg(buffer, *arg);
    }
}

fn push_length(buffer: &mut Vec<u8>, length: usize) {
    let mut digits = [0u8; 20];
    // usize is at most 64 bits on every target Rust supports, so this cannot truncate.
    buffer.extend_from_slice(format_decimal(&mut digits, length as u64));
}

/// Writes `value` in decimal at the end of `digits` and returns the written part.
fn format_decimal(digits: &mut [u8; 20], mut value: u64) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        // `value % 10` is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &digits[start..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(args: &[Arg<'_>]) -> Vec<u8> {
        let mut buffer = b"stale".to_vec();
        pack(&mut buffer, args);
        buffer
    }

    #[test]
    fn packs_like_the_redis_crate() {
        for value in [0, 7, -1, 10, 1234567890, i64::MAX, i64::MIN] {
            let args = [
                Arg::Bytes(b"POTTERY.NEXTID.CLAIM"),
                Arg::Bytes(b"nextid:\xffx"),
                Arg::Int(value),
                Arg::Bytes(b""),
            ];
            let expected = redis::cmd("POTTERY.NEXTID.CLAIM")
                .arg(&b"nextid:\xffx"[..])
                .arg(value)
                .arg("")
                .get_packed_command();
            assert_eq!(packed(&args), expected, "value {value}");
        }
    }

    #[test]
    fn packs_a_bare_command() {
        assert_eq!(packed(&[Arg::Bytes(b"PING")]), b"*1\r\n$4\r\nPING\r\n");
    }
}
