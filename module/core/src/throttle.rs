//! `POTTERY.THROTTLE`: rate limiting with the generic cell rate algorithm (GCRA), with
//! redis-cell's `CL.THROTTLE` semantics and reply.
//!
//! The state of a limiter is one number, the theoretical arrival time (TAT): when the key's
//! allowance would be fully used if every allowed request had come exactly on schedule. It is
//! stored as redis-cell stores it, nanoseconds since the Unix epoch as a decimal string in a
//! plain string key, so a key written by `CL.THROTTLE` is read here and the other way round.
//!
//! With `emission` = period / count (the time one unit of quantity costs) and `tolerance` =
//! emission · (max_burst + 1), a request of `quantity` at `now` is allowed when
//! `max(tat, now) + emission · quantity − tolerance ≤ now`; it then moves the TAT to that sum.
//! Arithmetic is exact in integer nanoseconds (redis-cell divides in floating point, the same
//! for periods under about 104 days, and counts `remaining` in whole microseconds, which can
//! make its `remaining` one higher when count does not divide the period in microseconds).

use crate::args::Args;
use crate::error::CommandError;
use std::ops::Deref;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MILLI: i64 = 1_000_000;

/// The unit of the reply's retry-after and reset-after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole seconds, as `CL.THROTTLE` replies: a partial second of 1 ms or more rounds up.
    Seconds,
    /// Milliseconds (the `MS` option), a partial millisecond rounding up.
    Milliseconds,
}

/// A limit: `max_burst` + 1 units at once, refilled at `count` units per `period` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Nanoseconds one unit of quantity costs: period / count.
    emission: i64,
    /// How far ahead of `now` the TAT may run: emission · (max_burst + 1).
    tolerance: i64,
    /// max_burst + 1, the reply's limit.
    limit: i64,
}

/// A parsed call: the limit, the quantity to take and the reply's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// The limit.
    pub gcra: Gcra,
    /// Units to take; 0 only looks.
    pub quantity: i64,
    /// The unit of the reply's times.
    pub unit: Unit,
}

/// Parses `max_burst count period [quantity] [MS]` (the arguments after the key).
///
/// ```
/// use pottery_core::args::Args;
/// use pottery_core::throttle::{parse, Unit};
/// let raw: [&[u8]; 4] = [b"15", b"30", b"60", b"2"];
/// let call = parse(Args::new(&raw)).unwrap();
/// assert_eq!((call.quantity, call.unit), (2, Unit::Seconds));
/// let raw: [&[u8]; 4] = [b"15", b"30", b"0", b"1"];
/// assert_eq!(parse(Args::new(&raw)).unwrap_err().to_string(), "ERR period: must be >= 1");
/// ```
pub fn parse<T: Deref<Target = [u8]>>(mut args: Args<'_, T>) -> Result<Throttle, CommandError> {
    let max_burst = args.next_i64()?;
    let count = args.next_i64()?;
    let period = args.next_i64()?;
    let quantity = if args.remaining() > 0 && !args.clone().eat_keyword("MS") {
        args.next_i64()?
    } else {
        1
    };
    let unit = if args.eat_keyword("MS") {
        Unit::Milliseconds
    } else {
        Unit::Seconds
    };
    args.finish()?;
    if quantity < 0 {
        return Err(argument("quantity", "must be >= 0"));
    }
    Ok(Throttle {
        gcra: Gcra::new(max_burst, count, period)?,
        quantity,
        unit,
    })
}

fn argument(argument: &'static str, problem: &'static str) -> CommandError {
    CommandError::Argument { argument, problem }
}

impl Gcra {
    /// The limit of `max_burst` + 1 units, refilled at `count` per `period` seconds.
    ///
    /// ```
    /// use pottery_core::throttle::Gcra;
    /// assert!(Gcra::new(15, 30, 60).is_ok());
    /// assert!(Gcra::new(-1, 30, 60).is_err());
    /// assert!(Gcra::new(i64::MAX, 1, 1).is_err()); // the limit would overflow
    /// ```
    pub fn new(max_burst: i64, count: i64, period: i64) -> Result<Gcra, CommandError> {
        if max_burst < 0 {
            return Err(argument("max_burst", "must be >= 0"));
        }
        if count < 1 {
            return Err(argument("count", "must be >= 1"));
        }
        if period < 1 {
            return Err(argument("period", "must be >= 1"));
        }
        let period_ns = period
            .checked_mul(NANOS_PER_SECOND)
            .ok_or(argument("period", "must be at most 9223372036 seconds"))?;
        let emission = period_ns / count;
        if emission == 0 {
            return Err(argument(
                "count",
                "must be at most one per nanosecond of period",
            ));
        }
        let limit = max_burst
            .checked_add(1)
            .ok_or(argument("max_burst", "is too large"))?;
        let tolerance = emission
            .checked_mul(limit)
            .ok_or(argument("max_burst", "is too large for this rate"))?;
        Ok(Gcra {
            emission,
            tolerance,
            limit,
        })
    }

    /// Decides a request of `quantity` at `now` (nanoseconds since the epoch) against the
    /// stored TAT (`None`: no key). A TAT in the past counts as `now`.
    ///
    /// ```
    /// use pottery_core::throttle::{Gcra, Unit};
    /// let gcra = Gcra::new(15, 30, 60).unwrap();
    /// let outcome = gcra.decide(None, 1_000_000_000, 1).unwrap();
    /// assert_eq!(outcome.reply(Unit::Seconds), [0, 16, 15, -1, 2]);
    /// assert_eq!(outcome.store, Some(3_000_000_000));
    /// ```
    pub fn decide(
        &self,
        stored: Option<i64>,
        now: i64,
        quantity: i64,
    ) -> Result<Outcome, CommandError> {
        let increment = self
            .emission
            .checked_mul(quantity)
            .ok_or(argument("quantity", "is too large for this rate"))?;
        let tat = stored.map_or(now, |stored| stored.max(now));
        let new_tat = tat.checked_add(increment).ok_or(CommandError::Overflow)?;
        // The request is allowed when new_tat − tolerance ≤ now, that is when it is at most
        // `tolerance` ahead of now.
        let ahead = new_tat - now;
        let (limited, reset_after, retry_after, store) = if ahead > self.tolerance {
            let retry = (increment <= self.tolerance).then_some(ahead - self.tolerance);
            (true, tat - now, retry, None)
        } else {
            let store = (quantity > 0).then_some(new_tat);
            (false, ahead, None, store)
        };
        Ok(Outcome {
            limited,
            limit: self.limit,
            remaining: (self.tolerance - reset_after).max(0) / self.emission,
            retry_after,
            reset_after,
            store,
        })
    }
}

/// What one `POTTERY.THROTTLE` call decided; times in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The request was refused (nothing is stored).
    pub limited: bool,
    /// max_burst + 1.
    pub limit: i64,
    /// Units that could be taken right after this call.
    pub remaining: i64,
    /// When a limited request could succeed, `None` when allowed or larger than the limit.
    pub retry_after: Option<i64>,
    /// Until the limiter is full again (the TAT minus now).
    pub reset_after: i64,
    /// The new TAT to store, `None` when nothing changes (limited, or quantity 0).
    pub store: Option<i64>,
}

impl Outcome {
    /// The five integers: limited (0 allowed, 1 limited), limit, remaining, retry-after (-1
    /// when allowed) and reset-after, in `unit`.
    pub fn reply(&self, unit: Unit) -> [i64; 5] {
        [
            i64::from(self.limited),
            self.limit,
            self.remaining,
            self.retry_after.map_or(-1, |ns| round_up(ns, unit)),
            round_up(self.reset_after, unit),
        ]
    }
}

/// `ns` (≥ 0) in `unit`, rounded up as redis-cell rounds: a partial second counts once it
/// reaches a millisecond, a partial millisecond always.
fn round_up(ns: i64, unit: Unit) -> i64 {
    match unit {
        Unit::Seconds => {
            ns / NANOS_PER_SECOND + i64::from(ns % NANOS_PER_SECOND >= NANOS_PER_MILLI)
        }
        Unit::Milliseconds => ns / NANOS_PER_MILLI + i64::from(ns % NANOS_PER_MILLI > 0),
    }
}

/// The absolute expiry (Unix milliseconds) of a key holding `tat`: the first millisecond at
/// or after it, when the key's absence means the same as its value.
///
/// ```
/// use pottery_core::throttle::expiry_ms;
/// assert_eq!(expiry_ms(3_000_000_000), 3_000);
/// assert_eq!(expiry_ms(3_000_000_001), 3_001);
/// ```
pub fn expiry_ms(tat: i64) -> i64 {
    tat / NANOS_PER_MILLI + i64::from(tat % NANOS_PER_MILLI > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: i64 = NANOS_PER_SECOND;
    const MS: i64 = NANOS_PER_MILLI;

    #[test]
    fn reproduces_redis_cells_readme() {
        // CL.THROTTLE user123 15 30 60 1 on a fresh key.
        let gcra = Gcra::new(15, 30, 60).unwrap();
        let now = 1_700_000_000 * S;
        let first = gcra.decide(None, now, 1).unwrap();
        assert_eq!(first.reply(Unit::Seconds), [0, 16, 15, -1, 2]);
        let second = gcra.decide(first.store, now, 1).unwrap();
        assert_eq!(second.reply(Unit::Seconds), [0, 16, 14, -1, 4]);
    }

    // redis-cell's own table (cell/mod.rs, `it_rate_limits`): limit 5, one per second;
    // (offset ms, quantity, remaining, reset_after ns, retry_after ns or -1 s, limited).
    #[test]
    fn reproduces_redis_cells_test_table() {
        let gcra = Gcra::new(4, 1, 1).unwrap();
        let start = 1_700_000_000 * S + 123_456_789;
        let cases: [(i64, i64, i64, i64, Option<i64>, bool); 15] = [
            (0, 6, 5, 0, None, true),
            (0, 1, 4, S, None, false),
            (0, 1, 3, 2 * S, None, false),
            (0, 1, 2, 3 * S, None, false),
            (0, 1, 1, 4 * S, None, false),
            (0, 1, 0, 5 * S, None, false),
            (0, 1, 0, 5 * S, Some(S), true),
            (3000, 1, 2, 3000 * MS, None, false),
            (3100, 1, 1, 3900 * MS, None, false),
            (4000, 1, 1, 4000 * MS, None, false),
            (8000, 1, 4, 1000 * MS, None, false),
            (9500, 1, 4, 1000 * MS, None, false),
            (9500, 0, 4, S, None, false),
            (9500, 2, 2, 3 * S, None, false),
            (9500, 5, 2, 3 * S, Some(3 * S), true),
        ];
        let mut tat = None;
        for (number, (offset, quantity, remaining, reset, retry, limited)) in
            cases.into_iter().enumerate()
        {
            let outcome = gcra.decide(tat, start + offset * MS, quantity).unwrap();
            assert_eq!(outcome.limited, limited, "case {number}");
            assert_eq!(outcome.limit, 5, "case {number}");
            assert_eq!(outcome.remaining, remaining, "case {number}");
            assert_eq!(outcome.reset_after, reset, "case {number}");
            assert_eq!(outcome.retry_after, retry, "case {number}");
            tat = outcome.store.or(tat);
        }
    }

    #[test]
    fn peeking_and_refusing_store_nothing() {
        let gcra = Gcra::new(0, 1, 10).unwrap();
        let peek = gcra.decide(None, 5 * S, 0).unwrap();
        assert_eq!(
            (peek.store, peek.reply(Unit::Seconds)),
            (None, [0, 1, 1, -1, 0])
        );
        let taken = gcra.decide(None, 5 * S, 1).unwrap();
        assert_eq!(taken.store, Some(15 * S));
        let refused = gcra.decide(taken.store, 6 * S, 1).unwrap();
        assert_eq!(refused.store, None);
        assert_eq!(refused.reply(Unit::Seconds), [1, 1, 0, 9, 9]);
        assert_eq!(refused.reply(Unit::Milliseconds), [1, 1, 0, 9000, 9000]);
        // Larger than the whole limit: never possible, so no retry time.
        let huge = gcra.decide(None, 5 * S, 2).unwrap();
        assert_eq!(huge.reply(Unit::Seconds), [1, 1, 1, -1, 0]);
    }

    #[test]
    fn rounding_follows_redis_cell() {
        assert_eq!(round_up(0, Unit::Seconds), 0);
        assert_eq!(round_up(MS - 1, Unit::Seconds), 0);
        assert_eq!(round_up(MS, Unit::Seconds), 1);
        assert_eq!(round_up(S, Unit::Seconds), 1);
        assert_eq!(round_up(S + MS, Unit::Seconds), 2);
        assert_eq!(round_up(1, Unit::Milliseconds), 1);
        assert_eq!(round_up(MS, Unit::Milliseconds), 1);
        assert_eq!(expiry_ms(1), 1);
    }

    #[test]
    fn bad_arguments_are_named() {
        let text = |raw: &[&[u8]]| parse(Args::new(raw)).unwrap_err().to_string();
        assert_eq!(text(&[b"-1", b"1", b"1"]), "ERR max_burst: must be >= 0");
        assert_eq!(text(&[b"1", b"0", b"1"]), "ERR count: must be >= 1");
        assert_eq!(text(&[b"1", b"1", b"-5"]), "ERR period: must be >= 1");
        assert_eq!(
            text(&[b"1", b"1", b"1", b"-1"]),
            "ERR quantity: must be >= 0"
        );
        assert_eq!(
            text(&[b"1", b"x", b"1"]),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(
            text(&[b"1", b"1", b"1", b"1", b"MS", b"x"]),
            "ERR syntax error"
        );
        assert_eq!(text(&[b"1", b"1", b"1", b"MS", b"1"]), "ERR syntax error");
        assert!(text(&[b"1", b"1", b"9223372036854775807"]).starts_with("ERR period: "));
        assert!(text(&[b"1", b"2000000000", b"1"]).starts_with("ERR count: "));
        assert!(text(&[b"9223372036854775807", b"1", b"1"]).starts_with("ERR max_burst: "));
        assert!(text(&[b"9223372036854775806", b"1", b"1"]).starts_with("ERR max_burst: "));
        let raw: [&[u8]; 4] = [b"1", b"1", b"1", b"ms"];
        let call = parse(Args::new(&raw)).unwrap();
        assert_eq!((call.quantity, call.unit), (1, Unit::Milliseconds));
        let gcra = Gcra::new(1, 1, 1).unwrap();
        assert!(gcra.decide(None, S, i64::MAX).is_err());
        assert_eq!(
            gcra.decide(Some(i64::MAX - 1), S, 1),
            Err(CommandError::Overflow)
        );
    }

    proptest! {
        // Any arguments: no panic; an accepted call replies a limit of max_burst + 1 and
        // a remaining within 0..=limit.
        #[test]
        fn any_input_is_safe(
            raw in proptest::collection::vec(
                prop_oneof![any::<i64>().prop_map(|n| n.to_string()), "[0-9]{1,3}", "MS|ms|x"],
                0..7,
            ),
            stored in any::<Option<i64>>(),
            now in 0i64..(1 << 62),
        ) {
            let views: Vec<&[u8]> = raw.iter().map(|item| item.as_bytes()).collect();
            if let Ok(call) = parse(Args::new(&views)) {
                if let Ok(outcome) = call.gcra.decide(stored, now, call.quantity) {
                    prop_assert!(outcome.remaining >= 0 && outcome.remaining <= outcome.limit);
                    let reply = outcome.reply(call.unit);
                    prop_assert!(reply[3] >= -1 && reply[4] >= 0);
                    if let Some(tat) = outcome.store {
                        prop_assert!(tat > now && tat - now <= call.gcra.tolerance);
                    }
                }
            }
        }

        // Over any sequence of requests at non-decreasing times, the units allowed never
        // exceed the burst plus what the rate refilled since the first request.
        #[test]
        fn never_allows_more_than_burst_plus_refill(
            max_burst in 0i64..20,
            count in 1i64..50,
            period in 1i64..5,
            steps in proptest::collection::vec((0i64..300 * MS, 0i64..4), 1..60),
        ) {
            let gcra = Gcra::new(max_burst, count, period).unwrap();
            let start = 1_700_000_000 * S;
            let (mut now, mut tat, mut allowed) = (start, None, 0i64);
            for (advance, quantity) in steps {
                now += advance;
                let outcome = gcra.decide(tat, now, quantity).unwrap();
                if !outcome.limited {
                    allowed += quantity;
                }
                tat = outcome.store.or(tat);
                let refilled = (now - start) / gcra.emission;
                prop_assert!(allowed <= max_burst + 1 + refilled);
            }
        }
    }
}
