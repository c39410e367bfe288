//! One master's part of Redlock: argument rules and the decisions of the lock commands.
//!
//! A lock is a plain string key holding its holder's token with a TTL, so `GET`/`PTTL` and other
//! Redlock implementations (pottery's Lua scripts) see the same thing. A fence counter is a
//! decimal integer in a second key. The functions here decide; the module reads the keys,
//! calls them, and writes what they say.

use crate::error::CommandError;
use crate::integer::parse_i64;

/// The largest TTL a lock may have: 2^40 ms (about 35 years), small enough that now + TTL can
/// never overflow a 64-bit millisecond clock.
pub const MAX_TTL_MS: i64 = 1 << 40;

/// Parses `ttl_ms`: an integer in 1..=2^40, else Redis's own `SET ... PX` error naming
/// `command` (the lowercase registered name).
///
/// ```
/// use pottery_core::lock::ttl_ms;
/// assert_eq!(ttl_ms(b"1000", "pottery.lock"), Ok(1000));
/// assert_eq!(
///     ttl_ms(b"0", "pottery.lock").unwrap_err().to_string(),
///     "ERR invalid expire time in 'pottery.lock' command"
/// );
/// ```
pub fn ttl_ms(raw: &[u8], command: &'static str) -> Result<i64, CommandError> {
    let ttl = parse_i64(raw).ok_or(CommandError::NotAnInteger)?;
    if (1..=MAX_TTL_MS).contains(&ttl) {
        Ok(ttl)
    } else {
        Err(CommandError::InvalidExpireTime { command })
    }
}

/// Parses the `BLOCK ms` of a blocking lock command: how long to wait in the key's queue,
/// 0 for as long as it takes (Redis's convention for `BLPOP` and `XREAD BLOCK`), at most
/// [`MAX_TTL_MS`] like a TTL. The errors are Redis's own texts for a bad blocking timeout.
///
/// ```
/// use pottery_core::lock::block_ms;
/// assert_eq!(block_ms(b"0"), Ok(0));
/// assert_eq!(block_ms(b"-1").unwrap_err().to_string(), "ERR timeout is negative");
/// assert_eq!(
///     block_ms(b"1.5").unwrap_err().to_string(),
///     "ERR timeout is not an integer or out of range"
/// );
/// ```
pub fn block_ms(raw: &[u8]) -> Result<i64, CommandError> {
    let timeout = parse_i64(raw).ok_or(CommandError::Reply(
        "ERR timeout is not an integer or out of range",
    ))?;
    if timeout < 0 {
        Err(CommandError::Reply("ERR timeout is negative"))
    } else if timeout > MAX_TTL_MS {
        Err(CommandError::Reply("ERR timeout is out of range"))
    } else {
        Ok(timeout)
    }
}

/// Checks that a token is not empty (an empty token could never be told apart from "no
/// holder" by clients that read the value).
///
/// ```
/// use pottery_core::lock::token;
/// assert_eq!(token(b"t-1"), Ok(&b"t-1"[..]));
/// assert!(token(b"").is_err());
/// ```
pub fn token(raw: &[u8]) -> Result<&[u8], CommandError> {
    if raw.is_empty() {
        Err(CommandError::Argument {
            argument: "token",
            problem: "must not be empty",
        })
    } else {
        Ok(raw)
    }
}

/// Checks that the fence counter is a different key than the lock: one key cannot hold both a
/// token and a counter.
///
/// ```
/// use pottery_core::lock::distinct_fence_key;
/// assert!(distinct_fence_key(b"redlock:a", b"redlock:a:fence").is_ok());
/// assert!(distinct_fence_key(b"redlock:a", b"redlock:a").is_err());
/// ```
pub fn distinct_fence_key(key: &[u8], fence_key: &[u8]) -> Result<(), CommandError> {
    if key == fence_key {
        Err(CommandError::Argument {
            argument: "fencekey",
            problem: "must differ from key",
        })
    } else {
        Ok(())
    }
}

/// What `POTTERY.LOCK` does, given the token the lock key holds now (`None`: absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Absent: store the token with the TTL. A new holder.
    Acquire,
    /// Already held by this token (a retry): reset the TTL.
    Refresh,
    /// Held by another token: change nothing.
    Refuse,
}

/// Decides `POTTERY.LOCK key token ttl_ms`.
///
/// ```
/// use pottery_core::lock::{lock, Lock};
/// assert_eq!(lock(None, b"me"), Lock::Acquire);
/// assert_eq!(lock(Some(b"me"), b"me"), Lock::Refresh);
/// assert_eq!(lock(Some(b"you"), b"me"), Lock::Refuse);
/// ```
pub fn lock(holder: Option<&[u8]>, token: &[u8]) -> Lock {
    match holder {
        None => Lock::Acquire,
        Some(holder) if holder == token => Lock::Refresh,
        Some(_) => Lock::Refuse,
    }
}

/// What `POTTERY.LOCK.FENCED` writes to the fence counter, if anything: `Some(new value)` for
/// a new acquisition (and for a retry that finds no counter, so the reply is always ≥ 1),
/// `None` when the counter stays as it is.
///
/// ```
/// use pottery_core::lock::{fence_after_lock, Lock};
/// assert_eq!(fence_after_lock(Lock::Acquire, None), Ok(Some(1)));
/// assert_eq!(fence_after_lock(Lock::Acquire, Some(41)), Ok(Some(42)));
/// assert_eq!(fence_after_lock(Lock::Refresh, Some(42)), Ok(None));
/// assert_eq!(fence_after_lock(Lock::Refuse, Some(42)), Ok(None));
/// ```
pub fn fence_after_lock(decision: Lock, counter: Option<i64>) -> Result<Option<i64>, CommandError> {
    match (decision, counter) {
        (Lock::Refuse, _) => Ok(None),
        (Lock::Refresh, Some(current)) if current >= 1 => Ok(None),
        (Lock::Acquire | Lock::Refresh, current) => current
            .unwrap_or(0)
            .max(0)
            .checked_add(1)
            .map(Some)
            .ok_or(CommandError::Overflow),
    }
}

/// The outcome of `POTTERY.LOCK.FENCE key fencekey token value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// The counter now equals the value; `changed` says whether it had to be written.
    Set {
        /// The counter's value, the command's `value`.
        value: i64,
        /// The counter was below `value` (or absent) and is written.
        changed: bool,
    },
    /// The counter is above the value already: reply `[0, current]`.
    Above(i64),
    /// The lock is not held by the token: reply `[-1, current]`, nothing written.
    NotHeld(i64),
}

impl Fence {
    /// The reply: `[1, value]`, `[0, current]` or `[-1, current]`.
    pub fn reply(self) -> [i64; 2] {
        match self {
            Fence::Set { value, .. } => [1, value],
            Fence::Above(current) => [0, current],
            Fence::NotHeld(current) => [-1, current],
        }
    }
}

/// Decides `POTTERY.LOCK.FENCE`: raise the counter to `value` only for the lock's holder.
///
/// ```
/// use pottery_core::lock::{fence, Fence};
/// assert_eq!(fence(true, Some(3), 5), Fence::Set { value: 5, changed: true });
/// assert_eq!(fence(true, Some(5), 5), Fence::Set { value: 5, changed: false });
/// assert_eq!(fence(true, Some(7), 5), Fence::Above(7));
/// assert_eq!(fence(false, Some(3), 5), Fence::NotHeld(3));
/// ```
pub fn fence(held_by_token: bool, counter: Option<i64>, value: i64) -> Fence {
    let current = counter.unwrap_or(0);
    if !held_by_token {
        Fence::NotHeld(current)
    } else if current > value {
        Fence::Above(current)
    } else {
        Fence::Set {
            value,
            changed: counter != Some(value),
        }
    }
}

/// The outcome of `POTTERY.FENCE.CHECK key token` on the protected resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceCheck {
    /// The token is at least the stored one; `store` says whether it must be written.
    Accept {
        /// The stored value is below the token (or absent) and becomes the token.
        store: bool,
    },
    /// An earlier holder's token: reject.
    Stale,
}

/// Decides `POTTERY.FENCE.CHECK`: accept a token not below the highest seen (absent = 0).
///
/// ```
/// use pottery_core::lock::{fence_check, FenceCheck};
/// assert_eq!(fence_check(None, 1), FenceCheck::Accept { store: true });
/// assert_eq!(fence_check(Some(4), 4), FenceCheck::Accept { store: false });
/// assert_eq!(fence_check(Some(4), 3), FenceCheck::Stale);
/// ```
pub fn fence_check(stored: Option<i64>, token: i64) -> FenceCheck {
    let highest = stored.unwrap_or(0);
    if token < highest {
        FenceCheck::Stale
    } else {
        FenceCheck::Accept {
            store: stored != Some(token),
        }
    }
}

/// What `POTTERY.LOCKED` and `POTTERY.LOCK.HOLDER` report for the remaining time of a held lock,
/// from Redis's remaining TTL (`None`: no expiry).
///
/// A key whose TTL reached exactly 0 ms is still present (Redis expires it only once the time
/// is past), so it reports 1 rather than the 0 that means "not held".
///
/// ```
/// use pottery_core::lock::ms_left;
/// assert_eq!(ms_left(Some(1500)), 1500);
/// assert_eq!(ms_left(Some(0)), 1);
/// assert_eq!(ms_left(None), -1);
/// ```
pub fn ms_left(remaining: Option<i64>) -> i64 {
    match remaining {
        Some(ms) => ms.max(1),
        None => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ttl_limits_are_inclusive_and_worded_like_redis() {
        assert_eq!(ttl_ms(b"1", "pottery.extend"), Ok(1));
        assert_eq!(ttl_ms(b"1099511627776", "pottery.extend"), Ok(MAX_TTL_MS));
        for bad in [&b"0"[..], b"-1", b"1099511627777", b"9223372036854775807"] {
            assert_eq!(
                ttl_ms(bad, "pottery.extend"),
                Err(CommandError::InvalidExpireTime {
                    command: "pottery.extend"
                })
            );
        }
        assert_eq!(
            ttl_ms(b"1.5", "pottery.lock"),
            Err(CommandError::NotAnInteger)
        );
        assert_eq!(ttl_ms(b"", "pottery.lock"), Err(CommandError::NotAnInteger));
    }

    #[test]
    fn fenced_lock_counts_only_new_holders() {
        assert_eq!(fence_after_lock(Lock::Refresh, None), Ok(Some(1)));
        assert_eq!(fence_after_lock(Lock::Refresh, Some(0)), Ok(Some(1)));
        assert_eq!(fence_after_lock(Lock::Acquire, Some(-7)), Ok(Some(1)));
        assert_eq!(
            fence_after_lock(Lock::Acquire, Some(i64::MAX)),
            Err(CommandError::Overflow)
        );
        assert_eq!(fence_after_lock(Lock::Refuse, Some(i64::MAX)), Ok(None));
    }

    #[test]
    fn fence_replies_match_design() {
        assert_eq!(fence(true, None, 1).reply(), [1, 1]);
        assert_eq!(fence(true, Some(9), 1).reply(), [0, 9]);
        assert_eq!(fence(false, None, 1).reply(), [-1, 0]);
        assert_eq!(
            fence(true, None, 0),
            Fence::Set {
                value: 0,
                changed: true
            }
        );
    }

    proptest! {
        // Whatever order tokens arrive in, the resource accepts a token only if no larger one
        // was accepted before it.
        #[test]
        fn fence_check_never_accepts_after_a_larger_token(tokens in prop::collection::vec(any::<i64>(), 0..50)) {
            let mut stored = None;
            let mut highest_accepted: Option<i64> = None;
            for token in tokens {
                match fence_check(stored, token) {
                    FenceCheck::Accept { store } => {
                        prop_assert!(highest_accepted.is_none_or(|h| token >= h));
                        prop_assert!(token >= stored.unwrap_or(0));
                        if store { stored = Some(token); }
                        highest_accepted = Some(highest_accepted.map_or(token, |h| h.max(token)));
                    }
                    FenceCheck::Stale => prop_assert!(token < stored.unwrap_or(0)),
                }
            }
        }

        // Successive new acquisitions always get strictly larger counters.
        #[test]
        fn new_holders_get_increasing_counters(start in any::<Option<i64>>(), holders in 1usize..20) {
            let mut counter = start;
            let mut last = None;
            for _ in 0..holders {
                match fence_after_lock(Lock::Acquire, counter) {
                    Ok(Some(next)) => {
                        prop_assert!(next >= 1);
                        prop_assert!(last.is_none_or(|l| next > l));
                        last = Some(next);
                        counter = Some(next);
                    }
                    Ok(None) => prop_assert!(false, "an acquisition must count"),
                    Err(error) => prop_assert_eq!(error, CommandError::Overflow),
                }
            }
        }
    }
}
