//! [`RateLimiter`]: a GCRA rate limit per key, decided in Redis by the pottery module's
//! `POTTERY.THROTTLE` (redis-cell's `CL.THROTTLE` semantics and key layout).

mod faces;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::face::operation::Operation;
use crate::face::{Blocking, Face};
use crate::transport::connector::Connector;
use crate::transport::key::KeyHandle;

const THROTTLE: &str = "POTTERY.THROTTLE";

/// A rate limit at one key: bursts of up to `max_burst + 1` units, refilled at `count` units
/// per `period`, shared by every client (and every redis-cell `CL.THROTTLE` caller) that uses
/// the key with the same numbers.
///
/// Each call is one `POTTERY.THROTTLE` (the generic cell rate algorithm, run atomically in the
/// server on the server's clock), so any number of processes share the limit exactly. The key
/// holds one timestamp and expires once the limit is full again. It needs the pottery module:
/// without it ([`Mode::WithoutModule`](crate::Mode), or a server without the module) calls
/// fail with [`Error::ModuleRequired`] and write nothing (a Lua fallback would compute the
/// nanosecond timestamps in Lua's 53-bit doubles and could not share redis-cell's keys exactly).
///
/// `RateLimiter` is the sync face ([`Blocking`]); [`aio::RateLimiter`](crate::aio::RateLimiter)
/// has the same methods as futures (see [`Face`]).
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// // 30 requests a minute, bursts of up to 16.
/// let limit = pottery::RateLimiter::open("redis://127.0.0.1:6379/", "user123", 15, 30, Duration::from_secs(60))?;
/// let throttle = limit.try_acquire(1)?;
/// if throttle.allowed {
///     println!("{} left", throttle.remaining);
/// } else {
///     println!("retry in {:?}", throttle.retry_after);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
pub struct RateLimiter<F: Face = Blocking> {
    handle: Arc<KeyHandle>,
    /// `max_burst count period` as the command takes them.
    limit: [i64; 3],
    face: PhantomData<fn() -> F>,
}

impl<F: Face> Clone for RateLimiter<F> {
    fn clone(&self) -> Self {
        Self {
            handle: Arc::clone(&self.handle),
            limit: self.limit,
            face: PhantomData,
        }
    }
}

impl<F: Face> fmt::Debug for RateLimiter<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RateLimiter")
            .field("key", &self.handle.name())
            .field("max_burst", &self.limit[0])
            .field("count", &self.limit[1])
            .field("period_seconds", &self.limit[2])
            .finish()
    }
}

/// What one request to a [`RateLimiter`] got: `CL.THROTTLE`'s reply, with times in
/// milliseconds (rounded up) as [`Duration`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Whether the request passed (and was counted).
    pub allowed: bool,
    /// The whole limit, max_burst + 1 (an `X-RateLimit-Limit` header).
    pub limit: u64,
    /// Units that could be taken right now (`X-RateLimit-Remaining`).
    pub remaining: u64,
    /// For a refused request, when it could pass (`Retry-After`); `None` when allowed, or
    /// when the quantity exceeds the whole limit and never can.
    pub retry_after: Option<Duration>,
    /// Until the limit is full again (`X-RateLimit-Reset`).
    pub reset_after: Duration,
}

impl Throttle {
    fn from_reply(reply: &[i64]) -> Result<Throttle> {
        let unexpected = || Error::UnexpectedReply { command: THROTTLE };
        let &[limited, limit, remaining, retry_after, reset_after] = reply else {
            return Err(unexpected());
        };
        let unsigned = |value: i64| u64::try_from(value).ok();
        let allowed = match limited {
            0 => true,
            1 => false,
            _ => return Err(unexpected()),
        };
        Ok(Throttle {
            allowed,
            limit: unsigned(limit).ok_or_else(unexpected)?,
            remaining: unsigned(remaining).ok_or_else(unexpected)?,
            // -1: allowed, or never.
            retry_after: unsigned(retry_after).map(Duration::from_millis),
            reset_after: unsigned(reset_after)
                .map(Duration::from_millis)
                .ok_or_else(unexpected)?,
        })
    }
}

fn signed(value: u64, argument: &'static str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::InvalidArgument {
        argument,
        problem: "must be at most i64::MAX",
    })
}

impl<F: Face> RateLimiter<F> {
    /// A limit at `key` of `max_burst + 1` units at once, refilled at `count` per `period`
    /// (whole seconds, at least one, as `CL.THROTTLE` takes it). Opens no connection until the
    /// first call; the key is never deleted by `pottery` (it expires by itself).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a `count` of 0, a `period` under a second or not whole
    /// seconds, or numbers above `i64::MAX`; the server checks the rest (a rate faster than one
    /// per nanosecond, a burst whose tolerance overflows) on the first call.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let logins = pottery::RateLimiter::open("redis://127.0.0.1:6379/", "logins:ada", 4, 5, Duration::from_secs(60))?;
    /// # Ok::<(), pottery::Error>(())
    /// ```
    ///
    /// On the async face:
    ///
    /// ```no_run
    /// # async fn run() -> pottery::Result<()> {
    /// use std::time::Duration;
    /// let logins = pottery::aio::RateLimiter::open("redis://127.0.0.1:6379/", "logins:ada", 4, 5, Duration::from_secs(60))?;
    /// let throttle = logins.try_acquire(1).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(
        connector: impl Into<Connector>,
        key: &str,
        max_burst: u64,
        count: u64,
        period: Duration,
    ) -> Result<Self> {
        if count == 0 {
            return Err(Error::InvalidArgument {
                argument: "count",
                problem: "must be at least 1",
            });
        }
        if period.as_secs() == 0 || period.subsec_nanos() != 0 {
            return Err(Error::InvalidArgument {
                argument: "period",
                problem: "must be a whole number of seconds, at least one",
            });
        }
        let limit = [
            signed(max_burst, "max_burst")?,
            signed(count, "count")?,
            signed(period.as_secs(), "period")?,
        ];
        Ok(Self {
            handle: KeyHandle::new::<F>(connector.into(), Some(key))?,
            limit,
            face: PhantomData,
        })
    }

    /// The Redis key.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// let limit = pottery::RateLimiter::open("redis://127.0.0.1:6379/", "api", 9, 10, Duration::from_secs(1))?;
    /// assert_eq!(limit.key(), "api");
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn key(&self) -> &str {
        self.handle.name()
    }

    /// Takes `quantity` units if the limit allows them now (then `allowed` is true and they
    /// are counted), else takes nothing and says when to retry. A quantity of 0 only looks.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// let uploads = pottery::RateLimiter::open("redis://127.0.0.1:6379/", "uploads:ada", 99, 100, Duration::from_secs(3600))?;
    /// let megabytes = 12;
    /// let throttle = uploads.try_acquire(megabytes)?;
    /// assert!(throttle.allowed || throttle.retry_after.is_some() || megabytes > throttle.limit);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn try_acquire(&self, quantity: u64) -> F::Output<Throttle> {
        F::run(self.throttle_operation(quantity))
    }

    /// The limit's state without taking anything (`try_acquire(0)`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// let limit = pottery::RateLimiter::open("redis://127.0.0.1:6379/", "api", 9, 10, Duration::from_secs(1))?;
    /// assert!(limit.peek()?.remaining <= 10);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn peek(&self) -> F::Output<Throttle> {
        F::run(self.throttle_operation(0))
    }

    /// `POTTERY.THROTTLE key max_burst count period quantity MS`, once the connector's mode
    /// says the module is there.
    fn throttle_operation(&self, quantity: u64) -> Operation<Throttle> {
        let quantity = match signed(quantity, "quantity") {
            Ok(quantity) => quantity,
            Err(error) => return Operation::done(Err(error)),
        };
        let mut command = self.handle.command(THROTTLE);
        command.arg(&self.limit[..]).arg(quantity).arg("MS");
        self.handle
            .module_request::<Vec<i64>>(THROTTLE, command)
            .and_then(|reply| Throttle::from_reply(&reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_decode_in_milliseconds_and_odd_shapes_are_refused() {
        let allowed = Throttle::from_reply(&[0, 5, 3, -1, 1500]).unwrap();
        assert!(allowed.allowed && allowed.retry_after.is_none());
        assert_eq!((allowed.limit, allowed.remaining), (5, 3));
        assert_eq!(allowed.reset_after, Duration::from_millis(1500));
        let refused = Throttle::from_reply(&[1, 1, 0, 59_999, 60_000]).unwrap();
        assert_eq!(refused.retry_after, Some(Duration::from_millis(59_999)));
        for odd in [
            &[0, 16, 15, -1][..],
            &[2, 1, 0, -1, 0],
            &[0, -1, 0, -1, 0],
            &[0, 1, 0, -1, -5],
        ] {
            assert!(matches!(
                Throttle::from_reply(odd),
                Err(Error::UnexpectedReply { .. })
            ));
        }
    }

    #[test]
    fn open_checks_what_the_client_can() {
        let open = |count, period| {
            RateLimiter::<Blocking>::open("redis://127.0.0.1:1/", "k", 0, count, period)
        };
        assert!(open(1, Duration::from_secs(1)).is_ok());
        assert!(open(0, Duration::from_secs(1)).is_err());
        assert!(open(1, Duration::from_millis(999)).is_err());
        assert!(open(u64::MAX, Duration::from_secs(1)).is_err());
    }
}
