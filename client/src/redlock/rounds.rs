//! The bookkeeping of one Redlock round: which masters granted, refused or failed, and what
//! that means for the lock.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Duration;

use redis::Value;

use crate::error::{Error, Result};
use crate::redlock::builder::{
    Settings, EXTEND, LOCK, LOCKED, LOCK_FENCE, LOCK_FENCED, LOCK_HOLDER, UNLOCK,
};
use crate::transport::quorum::{keep_informative, majority, server_error, Record, Tally};

/// Counts a round of yes/no answers (`1`/`0` integer replies, or fence counters where any
/// positive value is a yes) and keeps the most useful error.
#[derive(Debug)]
pub(crate) struct Round {
    command: &'static str,
    tally: Tally,
    /// Masters that answered "no" (held by another token, or not held by ours).
    refused: usize,
    /// The largest fence counter among the yes answers (fenced acquisitions).
    highest_counter: i64,
    last_error: Option<Error>,
}

impl Round {
    fn new(command: &'static str, masters: usize) -> Self {
        Self {
            command,
            tally: Tally::majority(masters),
            refused: 0,
            highest_counter: 0,
            last_error: None,
        }
    }

    /// An acquisition round (`LOCK` or `LOCK.FENCED`).
    pub(crate) fn acquire(settings: &Settings, masters: usize) -> Self {
        Self::new(if settings.fencing { LOCK_FENCED } else { LOCK }, masters)
    }

    /// A release round (sent with [`Reach::Everyone`](crate::transport::quorum::Reach)).
    pub(crate) fn release(masters: usize) -> Self {
        Self::new(UNLOCK, masters)
    }

    /// An extension round.
    pub(crate) fn extend(masters: usize) -> Self {
        Self::new(EXTEND, masters)
    }

    fn fail(&mut self, error: Error) {
        self.tally.fail();
        keep_informative(&mut self.last_error, error);
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.tally.succeeded()
    }

    /// The highest fence counter granted.
    pub(crate) fn highest_counter(&self) -> i64 {
        self.highest_counter
    }

    /// Whether some master may hold the token after this round: any master that did not
    /// answer "no" (it granted, failed, or was not read because the round stopped early).
    pub(crate) fn needs_release(&self) -> bool {
        self.refused < self.tally.masters()
    }

    /// Masters that failed (errors, timeouts) rather than answering yes or no.
    fn errors(&self) -> usize {
        self.tally.masters() - self.tally.granted() - self.refused
    }

    /// Whether a failed round failed because masters could not be reached: without those
    /// errors a majority could have answered. Otherwise enough masters answered "no".
    pub(crate) fn unavailable(&self) -> bool {
        self.errors() > self.tally.masters() - self.tally.needed()
    }

    /// Whether a majority is certainly no longer ours: so many masters said "no" that the
    /// others cannot make a majority.
    pub(crate) fn lost_for_sure(&self) -> bool {
        self.refused > self.tally.masters() - self.tally.needed()
    }

    /// The most informative error a master gave, if one did.
    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.last_error.take()
    }

    /// The error for a round that did not reach its quorum.
    pub(crate) fn into_error(self) -> Error {
        Error::QuorumNotAchieved {
            granted: self.tally.granted(),
            quorum: self.tally.needed(),
            masters: self.tally.masters(),
            last_error: self.last_error.map(Box::new),
        }
    }

    /// A release or extension that did not reach its quorum: [`Error::LockLost`] only when
    /// so many masters said "not ours" that no majority can hold it; when errors or timeouts
    /// left the answer open, the quorum error.
    pub(crate) fn into_lost_or_error(self) -> Error {
        if self.lost_for_sure() {
            Error::LockLost
        } else {
            self.into_error()
        }
    }
}

impl Record for Round {
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Int(0)) => {
                self.refused += 1;
                self.tally.fail();
            }
            Ok(Value::Int(value)) if value > 0 => {
                self.highest_counter = self.highest_counter.max(value);
                self.tally.grant();
            }
            Ok(other) => self.fail(server_error(other, self.command)),
            Err(error) => self.fail(error),
        }
        self.tally.flow()
    }
}

/// Counts `[1, value]` replies to `LOCK.FENCE value`.
#[derive(Debug)]
pub(crate) struct FenceRound {
    value: i64,
    tally: Tally,
    last_error: Option<Error>,
}

impl FenceRound {
    pub(crate) fn new(value: i64, masters: usize) -> Self {
        Self {
            value,
            tally: Tally::majority(masters),
            last_error: None,
        }
    }

    fn fail(&mut self, error: Error) {
        self.tally.fail();
        keep_informative(&mut self.last_error, error);
    }

    pub(crate) fn succeeded(&self) -> bool {
        self.tally.succeeded()
    }

    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.last_error.take()
    }
}

impl Record for FenceRound {
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Array(items)) => match items.as_slice() {
                [Value::Int(1), Value::Int(value)] if *value == self.value => self.tally.grant(),
                [Value::Int(0 | -1), Value::Int(_)] => self.tally.fail(),
                _ => self.fail(Error::UnexpectedReply {
                    command: LOCK_FENCE,
                }),
            },
            Ok(other) => self.fail(server_error(other, LOCK_FENCE)),
            Err(error) => self.fail(error),
        }
        self.tally.flow()
    }
}

/// Collects `POTTERY.LOCKED` replies: the time left on the masters that hold our token.
#[derive(Debug)]
pub(crate) struct LockedRound {
    masters: usize,
    /// The TTL in ms, for masters that hold the token without expiry.
    ttl_ms: i64,
    /// Milliseconds left per master holding the token (`-1` without expiry counts as the TTL).
    left: Vec<i64>,
    errors: usize,
    last_error: Option<Error>,
}

impl LockedRound {
    pub(crate) fn new(masters: usize, ttl_ms: i64) -> Self {
        Self {
            masters,
            ttl_ms,
            left: Vec::with_capacity(masters),
            errors: 0,
            last_error: None,
        }
    }

    /// The time a majority still holds the lock for (the quorum-th longest), less the drift
    /// allowance; `None` when no majority holds it; the quorum error when too few masters
    /// answered to tell.
    pub(crate) fn finish(mut self, drift: Duration) -> Result<Option<Duration>> {
        let needed = majority(self.masters);
        if self.left.len() < needed {
            if self.errors > self.masters - needed {
                return Err(Error::QuorumNotAchieved {
                    granted: self.left.len(),
                    quorum: needed,
                    masters: self.masters,
                    last_error: self.last_error.map(Box::new),
                });
            }
            return Ok(None);
        }
        self.left.sort_unstable_by(|a, b| b.cmp(a));
        let ms = self.left.get(needed - 1).copied().unwrap_or(0);
        let left = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        Ok(left.checked_sub(drift).filter(|left| !left.is_zero()))
    }
}

impl Record for LockedRound {
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Int(0)) => {}
            Ok(Value::Int(-1)) => self.left.push(self.ttl_ms),
            Ok(Value::Int(ms)) if ms > 0 => self.left.push(ms),
            Ok(other) => {
                self.errors += 1;
                keep_informative(&mut self.last_error, server_error(other, LOCKED));
            }
            Err(error) => {
                self.errors += 1;
                keep_informative(&mut self.last_error, error);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Who holds a lock, as a majority of masters report it ([`Redlock::holder`](crate::Redlock::holder)).
///
/// # Example
///
/// ```no_run
/// let lock = pottery::Redlock::builder().name("printer").master("redis://127.0.0.1:6379/").build()?;
/// if let Some(holder) = lock.holder()? {
///     println!("held by {} for at least {:?}", holder.token, holder.ttl);
/// }
/// # Ok::<(), pottery::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Holder {
    /// The holder's token, as stored on the masters (the value of the lock key).
    pub token: String,
    /// How long a majority of masters still keep it (the shortest among them), or `None` for
    /// a lock set without expiry.
    pub ttl: Option<Duration>,
}

/// Collects `POTTERY.LOCK.HOLDER` replies and finds a token a majority agrees on.
#[derive(Debug)]
pub(crate) struct HolderRound {
    masters: usize,
    /// Per token: the remaining ms reported by each master that holds it (-1: no expiry).
    tokens: HashMap<Vec<u8>, Vec<i64>>,
    failed: usize,
    last_error: Option<Error>,
}

impl HolderRound {
    pub(crate) fn new(masters: usize) -> Self {
        Self {
            masters,
            tokens: HashMap::new(),
            failed: 0,
            last_error: None,
        }
    }

    /// The holder a majority agrees on; an error when too few masters answered to tell.
    pub(crate) fn finish(mut self) -> Result<Option<Holder>> {
        let needed = majority(self.masters);
        for (token, mut left) in self.tokens.drain() {
            if left.len() >= needed {
                left.sort_unstable_by(|a, b| b.cmp(a));
                let ms = left.get(needed - 1).copied().unwrap_or(-1);
                let ttl = (ms >= 0).then(|| Duration::from_millis(ms.unsigned_abs()));
                return Ok(Some(Holder {
                    token: String::from_utf8_lossy(&token).into_owned(),
                    ttl,
                }));
            }
        }
        if self.masters - self.failed < needed {
            return Err(Error::QuorumNotAchieved {
                granted: self.masters - self.failed,
                quorum: needed,
                masters: self.masters,
                last_error: self.last_error.map(Box::new),
            });
        }
        Ok(None)
    }
}

impl Record for HolderRound {
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Nil) => {}
            Ok(Value::Array(items)) => match items.as_slice() {
                [Value::BulkString(token), Value::Int(ms)] => {
                    self.tokens.entry(token.clone()).or_default().push(*ms);
                }
                _ => {
                    self.failed += 1;
                    keep_informative(
                        &mut self.last_error,
                        Error::UnexpectedReply {
                            command: LOCK_HOLDER,
                        },
                    );
                }
            },
            Ok(other) => {
                self.failed += 1;
                keep_informative(&mut self.last_error, server_error(other, LOCK_HOLDER));
            }
            Err(error) => {
                self.failed += 1;
                keep_informative(&mut self.last_error, error);
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redlock::builder::tests::settings;

    #[test]
    fn rounds_tell_contention_from_unavailability() {
        let mut round = Round::acquire(&settings(1000), 5);
        for reply in [Ok(Value::Int(0)), Ok(Value::Int(0)), Ok(Value::Int(0))] {
            let _ = round.record(reply);
        }
        assert!(!round.succeeded() && !round.unavailable() && round.lost_for_sure());

        let mut round = Round::acquire(&settings(1000), 5);
        let timeout = || {
            Err(Error::Timeout {
                master: 0,
                timeout: Duration::from_millis(1),
            })
        };
        let _ = round.record(Ok(Value::Int(1)));
        for _ in 0..3 {
            let _ = round.record(timeout());
        }
        assert!(!round.succeeded() && round.unavailable());
        assert!(matches!(
            round.into_error(),
            Error::QuorumNotAchieved {
                granted: 1,
                quorum: 3,
                masters: 5,
                last_error: Some(_)
            }
        ));

        // A release where one granting master timed out: not proof of a lost lock.
        let mut release = Round::release(5);
        for reply in [Ok(Value::Int(0)), Ok(Value::Int(0)), timeout()] {
            let _ = release.record(reply);
        }
        assert!(!release.succeeded() && !release.lost_for_sure());
        assert!(matches!(
            release.into_lost_or_error(),
            Error::QuorumNotAchieved { .. }
        ));
        let mut release = Round::release(5);
        for _ in 0..3 {
            let _ = release.record(Ok(Value::Int(0)));
        }
        assert!(matches!(release.into_lost_or_error(), Error::LockLost));

        let mut fenced = Round::acquire(&settings(1000), 3);
        let _ = fenced.record(Ok(Value::Int(4)));
        let flow = fenced.record(Ok(Value::Int(7)));
        assert!(flow.is_break() && fenced.succeeded());
        assert_eq!(fenced.highest_counter(), 7);
    }

    #[test]
    fn fence_and_holder_rounds_need_a_majority() {
        let mut fence = FenceRound::new(7, 3);
        let _ = fence.record(Ok(Value::Array(vec![Value::Int(1), Value::Int(7)])));
        let _ = fence.record(Ok(Value::Array(vec![Value::Int(0), Value::Int(9)])));
        assert!(!fence.succeeded());
        let _ = fence.record(Ok(Value::Array(vec![Value::Int(1), Value::Int(7)])));
        assert!(fence.succeeded());

        let holder = |token: &str, ms: i64| {
            Ok(Value::Array(vec![
                Value::BulkString(token.as_bytes().to_vec()),
                Value::Int(ms),
            ]))
        };
        let mut round = HolderRound::new(3);
        let _ = round.record(holder("a", 900));
        let _ = round.record(holder("b", 900));
        let _ = round.record(Ok(Value::Nil));
        assert!(matches!(round.finish(), Ok(None)));
        let mut round = HolderRound::new(3);
        let _ = round.record(holder("a", 900));
        let _ = round.record(holder("a", 500));
        let _ = round.record(Ok(Value::Nil));
        let found = round.finish().ok().flatten();
        assert_eq!(
            found,
            Some(Holder {
                token: "a".into(),
                ttl: Some(Duration::from_millis(500))
            })
        );

        let mut locked = LockedRound::new(3, 1000);
        let _ = locked.record(Ok(Value::Int(1000)));
        let _ = locked.record(Ok(Value::Int(800)));
        let _ = locked.record(Ok(Value::Int(0)));
        let left = locked.finish(Duration::from_millis(12)).ok().flatten();
        assert_eq!(left, Some(Duration::from_millis(788)));
    }
}
