//! The arguments of `POTTERY.BF.RESERVE` and `POTTERY.BF.INSERT`, checked in RedisBloom's order
//! and refused with RedisBloom's texts, so that a RedisBloom client sees the same error for the
//! same mistake. Where RedisBloom accepts what it should not (unknown words, limits it lacks,
//! options its documentation calls exclusive), the refusal and its text are ours; the README's
//! RedisBloom compatibility table lists each case.

use super::{check_capacity, check_error_rate, BloomError, Growth};
use crate::error::CommandError;
use crate::integer::parse_i64;
use std::ops::Deref;

/// RedisBloom's texts, verbatim: some carry no `ERR` code, and one ends with a space.
pub mod text {
    /// `RESERVE`: an error rate that is a number outside (0, 1).
    pub const ERROR_RATE_RANGE: &str = "ERR (0 < error rate range < 1) ";
    /// `RESERVE`: a capacity below 1.
    pub const CAPACITY_RANGE: &str = "ERR (capacity should be larger than 0)";
    /// `RESERVE`: `EXPANSION` as the last argument.
    pub const NO_EXPANSION: &str = "ERR no expansion";
    /// `RESERVE`: an expansion below 1.
    pub const EXPANSION_RANGE: &str = "ERR expansion should be greater or equal to 1";
    /// `RESERVE` (and ours for `INSERT`): `NONSCALING` with `EXPANSION`.
    pub const CANNOT_EXPAND: &str = "Nonscaling filters cannot expand";
    /// `INSERT`: a word that is no option.
    pub const UNKNOWN_ARGUMENT: &str = "Unknown argument received";
    /// `INSERT`: a number out of range.
    pub const BAD_ARGUMENT: &str = "Bad argument received";
    /// `INSERT`: a capacity that is no integer.
    pub const INSERT_CAPACITY: &str = "Bad capacity";
    /// `INSERT`: an error rate that is no number.
    pub const INSERT_ERROR_RATE: &str = "Bad error rate";
    /// `INSERT`: an expansion that is no integer.
    pub const INSERT_EXPANSION: &str = "Bad expansion";
    /// `INFO`: a field that does not exist.
    pub const INFO_FIELD: &str = "Invalid information value";
    /// `SCANDUMP`: an iterator that is no integer (without a code, unlike `LOADCHUNK`'s).
    pub const SCANDUMP_ITERATOR: &str = "Second argument must be numeric";
    /// `LOADCHUNK`: an iterator that is no integer.
    pub const LOADCHUNK_ITERATOR: &str = "ERR Second argument must be numeric";
    /// `LOADCHUNK`: a header that does not decode, or an iterator before its data.
    pub const BAD_DATA: &str = "ERR received bad data";
    /// `LOADCHUNK`: a chunk that starts outside the filter.
    pub const NO_LINK: &str = "ERR invalid offset - no link found";
    /// `LOADCHUNK`: a chunk that runs past the end of the filter.
    pub const TOO_BIG: &str = "ERR invalid chunk - Too big for current filter";
}

/// Parses a double as Redis's `string2d` (RedisBloom's `RedisModule_StringToDouble`) does: no
/// leading space, nothing after the number, no NaN, and no decimal that overflows to infinity
/// or underflows to zero (`inf` itself is a number).
///
/// ```
/// use pottery_core::bloom::options::parse_double;
/// assert_eq!(parse_double(b"0.01"), Some(0.01));
/// assert_eq!(parse_double(b"inf"), Some(f64::INFINITY));
/// assert_eq!(parse_double(b"1e-400"), None);
/// assert_eq!(parse_double(b"nan"), None);
/// assert_eq!(parse_double(b" 1"), None);
/// ```
pub fn parse_double(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    let digits = text.trim_start_matches(['+', '-']);
    let spelled_infinity =
        digits.eq_ignore_ascii_case("inf") || digits.eq_ignore_ascii_case("infinity");
    let mantissa = digits.split(['e', 'E']).next().unwrap_or("");
    let zero_mantissa = mantissa.bytes().all(|b| b == b'0' || b == b'.');
    match value {
        v if v.is_nan() => None,
        v if v.is_infinite() && !spelled_infinity => None,
        v if v == 0.0 && !zero_mantissa => None,
        v => Some(v),
    }
}

/// What `RESERVE key error_rate capacity [EXPANSION n] [NONSCALING]` asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reserve {
    /// 0 < error_rate < 1.
    pub error_rate: f64,
    /// 1..=2^40.
    pub capacity: u64,
    /// `None`: the configured default expansion.
    pub growth: Option<Growth>,
}

/// Parses `RESERVE`'s arguments after the key, checking them in RedisBloom's order: the count,
/// the error rate, the capacity, `EXPANSION` last, `NONSCALING` with `EXPANSION`, the expansion.
/// Then, ours: any word that is neither option is `ERR syntax error` (RedisBloom ignores it),
/// and the limits 2^40 and 32768 RedisBloom lacks.
///
/// ```
/// use pottery_core::bloom::options::{parse_reserve, Reserve};
/// use pottery_core::bloom::Growth;
/// let args: [&[u8]; 4] = [b"0.01", b"100", b"EXPANSION", b"4"];
/// let reserve = parse_reserve("pottery.bf.reserve", &args).unwrap();
/// assert_eq!(reserve, Reserve { error_rate: 0.01, capacity: 100, growth: Some(Growth::Scaling(4)) });
/// let args: [&[u8]; 2] = [b"1", b"100"];
/// assert_eq!(
///     parse_reserve("pottery.bf.reserve", &args).unwrap_err().to_string(),
///     "ERR (0 < error rate range < 1) "
/// );
/// ```
pub fn parse_reserve<T: Deref<Target = [u8]>>(
    command: &'static str,
    args: &[T],
) -> Result<Reserve, CommandError> {
    let reply = CommandError::Reply;
    // RedisBloom takes at most key, rate, capacity, EXPANSION n and NONSCALING.
    let (rate, capacity, options) = match args {
        [rate, capacity, options @ ..] if options.len() <= 3 => (rate, capacity, options),
        _ => return Err(CommandError::WrongArity { command }),
    };
    let error_rate = parse_double(rate).ok_or(BloomError::BadErrorRate)?;
    if !(error_rate > 0.0 && error_rate < 1.0) {
        return Err(reply(text::ERROR_RATE_RANGE));
    }
    let capacity = parse_i64(capacity).ok_or(BloomError::BadCapacity)?;
    if capacity <= 0 {
        return Err(reply(text::CAPACITY_RANGE));
    }
    let is = |arg: &T, word: &str| arg.eq_ignore_ascii_case(word.as_bytes());
    let non_scaling = options.iter().any(|arg| is(arg, "NONSCALING"));
    let expansion_at = options.iter().position(|arg| is(arg, "EXPANSION"));
    let expansion = match expansion_at {
        None => None,
        Some(at) => {
            let value = options.get(at + 1).ok_or(reply(text::NO_EXPANSION))?;
            if non_scaling {
                return Err(reply(text::CANNOT_EXPAND));
            }
            let expansion = parse_i64(value).ok_or(BloomError::BadExpansion)?;
            if expansion < 1 {
                return Err(reply(text::EXPANSION_RANGE));
            }
            Some((at, expansion))
        }
    };
    // Ours: every word is an option (RedisBloom ignores the others).
    let mut index = 0;
    while let Some(arg) = options.get(index) {
        index += match expansion {
            Some((at, _)) if at == index => 2,
            _ if is(arg, "NONSCALING") => 1,
            _ => return Err(CommandError::Syntax),
        };
    }
    let capacity = check_capacity(capacity)?;
    let growth = match (non_scaling, expansion) {
        (true, _) => Some(Growth::NonScaling),
        (false, Some((_, expansion))) => Some(Growth::scaling(expansion)?),
        (false, None) => None,
    };
    Ok(Reserve {
        error_rate,
        capacity,
        growth,
    })
}

/// What `INSERT key [CAPACITY c] [ERROR e] [EXPANSION n] [NOCREATE] [NONSCALING] ITEMS item
/// [item ...]` asks for.
#[derive(Debug, PartialEq)]
pub struct Insert<'a, T> {
    /// `None`: the configured default.
    pub capacity: Option<u64>,
    /// `None`: the configured default.
    pub error_rate: Option<f64>,
    /// `None`: scaling by the configured default expansion.
    pub growth: Option<Growth>,
    /// `NOCREATE`: a missing key is `ERR not found`.
    pub no_create: bool,
    /// The items, at least one.
    pub items: &'a [T],
}

/// Parses `INSERT`'s arguments after the key in RedisBloom's order: each option and its value
/// as it comes (a value that is no number is refused at once), then a missing `ITEMS` or no
/// item (`ERR wrong number of arguments`), then the ranges together (`Bad argument received`,
/// which also covers our limits of 2^40 and 32768). Ours last: `NOCREATE` with `CAPACITY` or
/// `ERROR`, and `NONSCALING` with `EXPANSION`, which RedisBloom accepts and ignores.
///
/// ```
/// use pottery_core::bloom::options::parse_insert;
/// let args: [&[u8]; 4] = [b"CAPACITY", b"10", b"ITEMS", b"a"];
/// let insert = parse_insert("pottery.bf.insert", &args).unwrap();
/// assert_eq!((insert.capacity, insert.items.len()), (Some(10), 1));
/// let args: [&[u8]; 3] = [b"BOGUS", b"ITEMS", b"a"];
/// assert_eq!(
///     parse_insert("pottery.bf.insert", &args).unwrap_err().to_string(),
///     "Unknown argument received"
/// );
/// ```
pub fn parse_insert<'a, T: Deref<Target = [u8]>>(
    command: &'static str,
    args: &'a [T],
) -> Result<Insert<'a, T>, CommandError> {
    let reply = CommandError::Reply;
    let arity = CommandError::WrongArity { command };
    let (mut capacity, mut error_rate, mut expansion) = (None, None, None);
    let (mut no_create, mut non_scaling) = (false, false);
    let mut index = 0;
    let items = loop {
        let Some(word) = args.get(index) else {
            return Err(arity);
        };
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        index += 1;
        if is("ITEMS") {
            break args.get(index..).unwrap_or_default();
        } else if is("NOCREATE") {
            no_create = true;
            continue;
        } else if is("NONSCALING") {
            non_scaling = true;
            continue;
        }
        let value = |what: &'static str| args.get(index).ok_or(arity.clone()).map(|v| (v, what));
        if is("CAPACITY") {
            let (value, what) = value(text::INSERT_CAPACITY)?;
            capacity = Some(parse_i64(value).ok_or(reply(what))?);
        } else if is("ERROR") {
            let (value, what) = value(text::INSERT_ERROR_RATE)?;
            error_rate = Some(parse_double(value).ok_or(reply(what))?);
        } else if is("EXPANSION") {
            let (value, what) = value(text::INSERT_EXPANSION)?;
            expansion = Some(parse_i64(value).ok_or(reply(what))?);
        } else {
            return Err(reply(text::UNKNOWN_ARGUMENT));
        }
        index += 1;
    };
    if items.is_empty() {
        return Err(arity);
    }
    let bad = || reply(text::BAD_ARGUMENT);
    // RedisBloom's one text for every number out of range, ours included.
    let capacity = capacity
        .map(|c| check_capacity(c).map_err(|_| bad()))
        .transpose()?;
    let error_rate = error_rate
        .map(|e| check_error_rate(e).map_err(|_| bad()))
        .transpose()?;
    let expansion = expansion
        .map(|x| Growth::scaling(x).map_err(|_| bad()))
        .transpose()?;
    if no_create && (capacity.is_some() || error_rate.is_some()) {
        return Err(CommandError::Argument {
            argument: "NOCREATE",
            problem: "cannot be combined with CAPACITY or ERROR",
        });
    }
    let growth = match (non_scaling, expansion) {
        (true, Some(_)) => return Err(reply(text::CANNOT_EXPAND)),
        (true, None) => Some(Growth::NonScaling),
        (false, expansion) => expansion,
    };
    Ok(Insert {
        capacity,
        error_rate,
        growth,
        no_create,
        items,
    })
}

/// Where a `LOADCHUNK` data chunk of `length` bytes loaded with `iterator` starts in a filter
/// of `size` bytes, refused as RedisBloom refuses it: an iterator before its own data is bad
/// data, a start outside the filter has no link, and an end past it is too big. (RedisBloom
/// also refuses a chunk that spans two sub-filters; we write it across them.)
///
/// ```
/// use pottery_core::bloom::options::{chunk_start, text};
/// // A 10-byte chunk that came back with iterator 11 starts at offset 0.
/// assert_eq!(chunk_start(11, 10, 100), Ok(0));
/// assert_eq!(chunk_start(5, 10, 100), Err(text::BAD_DATA));
/// assert_eq!(chunk_start(10, 10, 100), Err(text::NO_LINK));
/// assert_eq!(chunk_start(200, 10, 100), Err(text::NO_LINK));
/// assert_eq!(chunk_start(101, 10, 95), Err(text::TOO_BIG));
/// ```
pub fn chunk_start(iterator: i64, length: usize, size: u64) -> Result<u64, &'static str> {
    let length = length as u64;
    let iterator = u64::try_from(iterator)
        .ok()
        .filter(|i| *i > 0 && *i >= length)
        .ok_or(text::BAD_DATA)?;
    let start = (iterator - length).checked_sub(1).ok_or(text::NO_LINK)?;
    if start >= size {
        return Err(text::NO_LINK);
    }
    if length > size - start {
        return Err(text::TOO_BIG);
    }
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bloom::{MAX_CAPACITY, MAX_EXPANSION};
    use proptest::prelude::*;

    fn words() -> impl Strategy<Value = Vec<Vec<u8>>> {
        let word = prop_oneof![
            Just(b"EXPANSION".to_vec()),
            Just(b"NONSCALING".to_vec()),
            Just(b"NOCREATE".to_vec()),
            Just(b"CAPACITY".to_vec()),
            Just(b"ERROR".to_vec()),
            Just(b"ITEMS".to_vec()),
            Just(b"0".to_vec()),
            Just(b"-1".to_vec()),
            Just(b"0.5".to_vec()),
            Just(b"100".to_vec()),
            Just(b"99999999999999999999".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        proptest::collection::vec(word, 0..9)
    }

    proptest! {
        // Any arguments: no panic, and what is accepted is within every limit.
        #[test]
        fn reserve_accepts_only_what_fits(args in words()) {
            if let Ok(reserve) = parse_reserve("pottery.bf.reserve", &args) {
                prop_assert!(reserve.error_rate > 0.0 && reserve.error_rate < 1.0);
                prop_assert!((1..=MAX_CAPACITY).contains(&reserve.capacity));
                if let Some(Growth::Scaling(x)) = reserve.growth {
                    prop_assert!((1..=MAX_EXPANSION).contains(&x));
                }
            }
        }

        #[test]
        fn insert_accepts_only_what_fits(args in words()) {
            if let Ok(insert) = parse_insert("pottery.bf.insert", &args) {
                prop_assert!(!insert.items.is_empty());
                prop_assert!(insert.capacity.is_none_or(|c| (1..=MAX_CAPACITY).contains(&c)));
                prop_assert!(insert.error_rate.is_none_or(|e| e > 0.0 && e < 1.0));
                prop_assert!(!(insert.no_create && (insert.capacity.is_some() || insert.error_rate.is_some())));
            }
        }

        // An accepted chunk lies wholly inside the filter.
        #[test]
        fn chunk_start_stays_inside(iterator in any::<i64>(), length in 0usize..1000, size in 0u64..2000) {
            if let Ok(start) = chunk_start(iterator, length, size) {
                prop_assert!(start < size);
                prop_assert!(start + length as u64 <= size);
            }
        }
    }

    #[test]
    fn redisbloom_order_of_checks() {
        let reserve = |args: &[&[u8]]| parse_reserve("r", args).map_err(|e| e.to_string());
        // The error rate before the capacity, the last-word EXPANSION before NONSCALING.
        assert_eq!(reserve(&[b"2", b"0"]).unwrap_err(), text::ERROR_RATE_RANGE);
        assert_eq!(
            reserve(&[b"0.1", b"1", b"NONSCALING", b"EXPANSION"]).unwrap_err(),
            text::NO_EXPANSION
        );
        assert_eq!(
            reserve(&[b"0.1", b"1", b"EXPANSION", b"0", b"NONSCALING"]).unwrap_err(),
            text::CANNOT_EXPAND
        );
        assert_eq!(
            reserve(&[b"0.1", b"1", b"BOGUS", b"EXPANSION"]).unwrap_err(),
            text::NO_EXPANSION
        );
        assert_eq!(
            reserve(&[b"0.1", b"1", b"EXPANSION", b"2", b"X", b"Y"]).unwrap_err(),
            "ERR wrong number of arguments for 'r' command"
        );
        let insert = |args: &[&[u8]]| {
            parse_insert("i", args)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        // A value that is no number at once; ranges only once ITEMS is found.
        assert_eq!(
            insert(&[b"CAPACITY", b"0", b"ERROR", b"x", b"ITEMS", b"a"]).unwrap_err(),
            text::INSERT_ERROR_RATE
        );
        assert_eq!(
            insert(&[b"CAPACITY", b"0", b"BOGUS"]).unwrap_err(),
            text::UNKNOWN_ARGUMENT
        );
        assert_eq!(
            insert(&[b"CAPACITY", b"0"]).unwrap_err(),
            "ERR wrong number of arguments for 'i' command"
        );
        assert_eq!(
            insert(&[b"CAPACITY", b"0", b"ITEMS", b"a"]).unwrap_err(),
            text::BAD_ARGUMENT
        );
        assert_eq!(parse_double(b"1e400"), None);
        assert_eq!(parse_double(b"0.0"), Some(0.0));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
    }
}
