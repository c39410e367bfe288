//! The one error type of the crate, [`Error`], and its [`Result`] alias.
//!
//! Every fallible call in `pottery` returns [`Result<T>`]; match on the [`Error`] variants to
//! react to a specific failure. The enum is `#[non_exhaustive]`: later versions add variants.

use std::fmt;
use std::time::Duration;

/// Everything that can go wrong in `pottery`.
///
/// Masters are named by their position in the list given to the builder (`master` = 0 is the
/// first one), so an error never needs to print a URL that may carry a password.
///
/// # Example
///
/// ```no_run
/// use pottery::{Error, NextId};
///
/// let mut ids = NextId::builder().masters(["redis://127.0.0.1:6379/"]).build()?;
/// match ids.next_id() {
///     Ok(id) => println!("got {id}"),
///     Err(Error::QuorumNotAchieved { granted, quorum, .. }) => {
///         eprintln!("only {granted} of the {quorum} masters needed agreed; try later")
///     }
///     Err(other) => return Err(other),
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the `redis` crate: a reply that is a Redis error (`WRONGTYPE ...`,
    /// `ERR ...`), a failed connection, an invalid URL.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),

    /// Not enough masters agreed before the call's deadline.
    ///
    /// `granted` of the `masters` configured masters agreed in the last attempt, and `quorum`
    /// were needed (a majority, or all of them for operations such as
    /// [`NextId::reset`](crate::NextId::reset) that need every master). `last_error` is the
    /// last per-master failure seen, if any (a master that simply refused has none).
    #[error("quorum not achieved: {granted} of {masters} masters agreed, {quorum} needed")]
    QuorumNotAchieved {
        /// Masters that agreed in the last attempt.
        granted: usize,
        /// Masters that had to agree.
        quorum: usize,
        /// Masters configured.
        masters: usize,
        /// The last per-master error of the last attempt, if any.
        #[source]
        last_error: Option<Box<Error>>,
    },

    /// A 64-bit signed integer would overflow (for example a NextId counter at `i64::MAX`).
    #[error("64-bit integer overflow")]
    Overflow,

    /// An argument given to `pottery` is invalid; nothing was sent to Redis.
    #[error("{argument}: {problem}")]
    InvalidArgument {
        /// The argument's name, as in the method signature.
        argument: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// A master did not answer within the per-master timeout.
    #[error("master {master} did not answer within {timeout:?}")]
    Timeout {
        /// Position of the master in the builder's list.
        master: usize,
        /// The per-master timeout that elapsed.
        timeout: Duration,
    },

    /// A master was not even tried; see [`Unavailable`] for why.
    #[error("master {master} is unavailable: {reason}")]
    MasterUnavailable {
        /// Position of the master in the builder's list.
        master: usize,
        /// Why it was not tried.
        reason: Unavailable,
    },

    /// A value could not be encoded as Python-compatible JSON (see [`crate::codec`]).
    #[error(transparent)]
    Encode(#[from] crate::codec::EncodeError),

    /// Stored bytes could not be decoded into the requested type (see [`crate::codec`]): not
    /// JSON, or JSON of another shape, such as an integer too large for the target type.
    #[error(transparent)]
    Decode(#[from] crate::codec::DecodeError),

    /// A counter value stored in Redis is not a decimal 64-bit integer (a float, a huge number
    /// or text that another writer stored), so it cannot be counted with `HINCRBY`.
    #[error("the value stored for a counter element is not a 64-bit integer")]
    NotAnInteger,

    /// A [`BloomFilter`](crate::BloomFilter) cannot take another element: it does not grow
    /// (NONSCALING) and holds its capacity, or growing would pass 64 sub-filters or the server's
    /// `pottery.bf-max-bytes`.
    #[error("the Bloom filter is full")]
    FilterFull,

    /// A container was given an open connection (see [`Connector`](crate::Connector)),
    /// which broke; `pottery` cannot reopen a connection it did not open. Give a URL or a
    /// `redis::Client` to get reconnection.
    #[error("the container's open connection broke and cannot be reopened")]
    ConnectionBroken,

    /// Every connection of the [`Connector`](crate::Connector)'s pool for sync calls stayed in
    /// use while this call waited for one: more threads call at once than the pool has
    /// connections (see [`Connector::with_pool_size`](crate::Connector::with_pool_size)), or
    /// calls are slow.
    #[error("all {size} pooled connections stayed busy for {waited:?}")]
    PoolTimeout {
        /// The pool's size.
        size: usize,
        /// How long the call waited.
        waited: Duration,
    },

    /// An operation over several containers on a Redis Cluster (set algebra between
    /// [`RedisSet`](crate::RedisSet)s, [`HyperLogLog::merge`](crate::HyperLogLog::merge)) was
    /// given keys in different hash slots of one cluster, which no node can combine in one
    /// command; nothing was sent. Name the containers with a common hash tag, such as `{user:1}:a` and
    /// `{user:1}:b`: a cluster places a key by the part between its first `{` and the next `}`.
    /// Containers made without a name have random keys in random slots, so they need names.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use pottery::{Connector, Error, RedisSet};
    ///
    /// let nodes = ["redis://127.0.0.1:7000/"];
    /// let a: RedisSet<u32> = RedisSet::open(Connector::cluster(nodes)?, "a")?;
    /// let b: RedisSet<u32> = RedisSet::open(Connector::cluster(nodes)?, "b")?;
    /// match a.union(&[&b]) {
    ///     Err(Error::CrossSlot { keys }) => assert_eq!(keys, ["a", "b"]),
    ///     other => panic!("{other:?}"),
    /// }
    /// let a: RedisSet<u32> = RedisSet::open(Connector::cluster(nodes)?, "{group}:a")?;
    /// let b: RedisSet<u32> = RedisSet::open(Connector::cluster(nodes)?, "{group}:b")?;
    /// a.union(&[&b])?;
    /// # Ok::<(), Error>(())
    /// ```
    #[error(
        "keys {keys:?} are in different hash slots of the cluster; give them a common hash tag, \
         such as {{user:1}}:a and {{user:1}}:b"
    )]
    CrossSlot {
        /// The keys of the operation: the container's own first, then the others in order.
        keys: Vec<String>,
    },

    /// The lock was no longer held by this holder when it was released or extended: it had
    /// expired (and may have been taken by another client). Whatever the holder did since its
    /// validity ended was not protected by the lock.
    #[error("the lock had expired or was taken by another holder")]
    LockLost,

    /// The lock stayed held by others until the acquire timeout ended.
    #[error("the lock was not acquired within {timeout:?}")]
    AcquireTimeout {
        /// The acquire timeout that elapsed.
        timeout: Duration,
    },

    /// The lock was extended as often as the builder's `max_extensions` allows.
    #[error("the lock was already extended {max} times")]
    TooManyExtensions {
        /// The configured cap.
        max: u32,
    },

    /// A reply had a shape the command never produces (a server without the pottery module,
    /// or a different module version).
    #[error("unexpected reply to {command}")]
    UnexpectedReply {
        /// The command that got the reply.
        command: &'static str,
    },

    /// A server without the pottery module was sent one of its commands because the mode
    /// said to use it ([`Mode::Module`](crate::Mode::Module)). Use [`Mode::Auto`](crate::Mode::Auto)
    /// or [`Mode::WithoutModule`](crate::Mode::WithoutModule) for such servers.
    #[error("the server does not have the pottery module ({command} is unknown there); use Mode::Auto or Mode::WithoutModule")]
    ModuleNotLoaded {
        /// The module command the server did not know.
        command: &'static str,
    },

    /// A list has no element at this index (Python's `IndexError`), for operations that
    /// cannot answer `None` instead, such as [`RedisList::set`](crate::containers::RedisList::set).
    #[error("list index {index} out of range")]
    IndexOutOfRange {
        /// The index given.
        index: i64,
    },

    /// The operation needs the pottery module's commands, and the connector's
    /// [`Mode`](crate::Mode) says not to use them (or, in `Auto`, the server has no module):
    /// nothing was written.
    #[error("{command} needs the pottery module, which this connector does not use")]
    ModuleRequired {
        /// The module command the operation needs.
        command: &'static str,
    },

    /// [`RateLimiter::acquire`](crate::RateLimiter::acquire) gave up: the limit would not
    /// allow the request before the call's timeout. `retry_after` is when it could pass, `None`
    /// when never (the quantity exceeds the whole limit, max_burst + 1).
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// How long until the request could pass, from the last attempt.
        retry_after: Option<Duration>,
    },

    /// A [`ContextTimer`](crate::ContextTimer) was used out of order: started twice, stopped
    /// twice, or stopped or read before it was started (Python's `RuntimeError`).
    #[error("timer misuse: {0}")]
    Timer(TimerMisuse),
}

/// Why a master was not tried (see [`Error::MasterUnavailable`]).
///
/// # Example
///
/// ```
/// use pottery::{Error, Unavailable};
///
/// fn is_permanent(error: &Error) -> bool {
///     matches!(
///         error,
///         Error::MasterUnavailable { reason: Unavailable::ConnectionBroken, .. }
///     )
/// }
/// # assert!(!is_permanent(&Error::Overflow));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unavailable {
    /// The master was given as an already open connection, which broke. `pottery` cannot
    /// reopen a connection it did not open: give a URL, a `redis::ConnectionInfo` or a
    /// `redis::Client` to get reconnection.
    ConnectionBroken,
    /// A recent attempt to reach the master failed or timed out; `pottery` waits a short,
    /// growing backoff (up to about 2 s) before it connects again, so that a dead master does
    /// not cost a connect timeout on every call.
    Backoff,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::ConnectionBroken => "its open connection broke and cannot be reopened",
            Self::Backoff => "waiting before reconnecting after a failure",
        })
    }
}

/// `Result` with [`Error`] as the error type.
///
/// # Example
///
/// ```
/// fn parse_count(text: &str) -> pottery::Result<usize> {
///     text.parse().map_err(|_| pottery::Error::InvalidArgument {
///         argument: "text",
///         problem: "not a count",
///     })
/// }
/// assert_eq!(parse_count("3").ok(), Some(3));
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether retrying the same request later may succeed: timeouts, unreachable masters,
    /// dropped connections and transient server states (`LOADING`, `BUSY`, `TRYAGAIN`...).
    /// Errors that every retry would repeat (`WRONGTYPE`, `ERR ...`, an unknown command, a
    /// reply of the wrong shape, an invalid argument) are not transient.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::MasterUnavailable { .. } => true,
            Self::Redis(error) => {
                error.is_io_error()
                    || error.is_timeout()
                    || !matches!(error.retry_method(), redis::RetryMethod::NoRetry)
            }
            _ => false,
        }
    }
}

/// How a [`ContextTimer`](crate::ContextTimer) was misused (see [`Error::Timer`]); the texts are Python pottery's.
///
/// # Example
///
/// ```
/// use pottery::{ContextTimer, Error, TimerMisuse};
///
/// let timer = ContextTimer::new();
/// assert!(matches!(timer.elapsed(), Err(Error::Timer(TimerMisuse::NotStarted))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerMisuse {
    /// [`start`](crate::ContextTimer::start) on a timer that has already been started.
    AlreadyStarted,
    /// [`start`](crate::ContextTimer::start) or [`stop`](crate::ContextTimer::stop) on a stopped timer.
    AlreadyStopped,
    /// [`stop`](crate::ContextTimer::stop) or [`elapsed`](crate::ContextTimer::elapsed) before
    /// [`start`](crate::ContextTimer::start).
    NotStarted,
}

impl fmt::Display for TimerMisuse {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::AlreadyStarted => "timer has already been started",
            Self::AlreadyStopped => "timer has already been stopped",
            Self::NotStarted => "timer hasn't yet been started",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_master_and_the_numbers() {
        let error = Error::QuorumNotAchieved {
            granted: 1,
            quorum: 3,
            masters: 5,
            last_error: Some(Box::new(Error::Timeout {
                master: 4,
                timeout: Duration::from_millis(50),
            })),
        };
        assert_eq!(
            error.to_string(),
            "quorum not achieved: 1 of 5 masters agreed, 3 needed"
        );
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("master 4 did not answer within 50ms")
        );
        let unavailable = Error::MasterUnavailable {
            master: 2,
            reason: Unavailable::Backoff,
        };
        assert_eq!(
            unavailable.to_string(),
            "master 2 is unavailable: waiting before reconnecting after a failure"
        );
    }

    #[test]
    fn cross_slot_names_the_keys_and_the_remedy() {
        let error = Error::CrossSlot {
            keys: vec!["a".to_owned(), "b".to_owned()],
        };
        assert_eq!(
            error.to_string(),
            r#"keys ["a", "b"] are in different hash slots of the cluster; give them a common hash tag, such as {user:1}:a and {user:1}:b"#
        );
        assert!(!error.is_transient());
    }

    #[test]
    fn server_errors_that_repeat_are_not_transient() {
        let server_error = |resp: &[u8]| match redis::parse_redis_value(resp) {
            Ok(redis::Value::ServerError(error)) => Error::Redis(error.into()),
            other => panic!("not a server error: {other:?}"),
        };
        assert!(!server_error(b"-WRONGTYPE Operation against a key\r\n").is_transient());
        assert!(!server_error(b"-ERR unknown command\r\n").is_transient());
        assert!(server_error(b"-LOADING Redis is loading\r\n").is_transient());
        let reset =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(Error::Redis(reset).is_transient());
        assert!(Error::Timeout {
            master: 0,
            timeout: Duration::from_millis(1)
        }
        .is_transient());
        assert!(!Error::UnexpectedReply { command: "X" }.is_transient());
        assert!(!Error::Overflow.is_transient());
    }
}
