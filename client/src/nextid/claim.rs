//! The client side of the NextId protocol: the last value known, the block to propose, and
//! what the masters' replies to a claim (or a reset) add up to.

use std::ops::{ControlFlow, RangeInclusive};

use redis::Value;

use crate::error::{Error, Result};
use crate::transport::quorum::{keep_informative, Record, Tally};

/// The claim command's name, in replies and errors.
pub(crate) const CLAIM: &str = "POTTERY.NEXTID.CLAIM";

/// What one master said to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// `[1, value]`: the master stored `value`.
    Granted(i64),
    /// `[0, current]`: the master kept `current`.
    Refused(i64),
}

/// Decodes a `POTTERY.NEXTID.CLAIM` reply.
pub(crate) fn parse_claim(reply: Value) -> Result<Claim> {
    match reply {
        Value::Array(items) => match items.as_slice() {
            [Value::Int(1), Value::Int(value)] => Ok(Claim::Granted(*value)),
            [Value::Int(0), Value::Int(current)] => Ok(Claim::Refused(*current)),
            _ => Err(Error::UnexpectedReply { command: CLAIM }),
        },
        Value::ServerError(error) => Err(Error::Redis(error.into())),
        _ => Err(Error::UnexpectedReply { command: CLAIM }),
    }
}

/// The client side of the protocol, shared by the sync and async types: the last value known
/// and one attempt's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Sequence {
    /// The highest counter this client knows some master holds (0 at first and after reset).
    last: i64,
}

impl Sequence {
    /// The block of `count` IDs to propose next: `first..=value`.
    pub(crate) fn propose(&self, count: usize) -> Result<Proposal> {
        if count == 0 {
            return Err(Error::InvalidArgument {
                argument: "n",
                problem: "must be at least 1",
            });
        }
        let first = self.last.max(0).checked_add(1).ok_or(Error::Overflow)?;
        let extra = i64::try_from(count - 1).map_err(|_| Error::Overflow)?;
        let value = first.checked_add(extra).ok_or(Error::Overflow)?;
        Ok(Proposal { first, value })
    }

    /// Learns from a finished attempt: the next proposal starts above everything seen.
    pub(crate) fn learn(&mut self, attempt: &Attempt) {
        self.last = self.last.max(attempt.highest_seen);
    }

    pub(crate) fn reset(&mut self) {
        self.last = 0;
    }

    /// The highest counter this client knows some master holds.
    pub(crate) fn last(&self) -> i64 {
        self.last
    }
}

/// The block one attempt claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Proposal {
    pub(crate) first: i64,
    pub(crate) value: i64,
}

impl Proposal {
    /// Writes `POTTERY.NEXTID.CLAIM key value [FROM first]` into `command`.
    pub(crate) fn write(&self, command: &mut redis::Cmd, key: &str) {
        command.arg(CLAIM).arg(key).arg(self.value);
        if self.first != self.value {
            command.arg("FROM").arg(self.first);
        }
    }
}

/// One attempt: the masters' answers to one proposal.
#[derive(Debug)]
pub(crate) struct Attempt {
    proposal: Proposal,
    tally: Tally,
    /// max(proposed value, every current a master reported).
    highest_seen: i64,
    /// A master refused with a current that this client did not claim: another client is
    /// ahead, not merely this client's own earlier claim (which would be exactly the value).
    overtaken: bool,
    /// Failures that every retry would repeat (`WRONGTYPE`, unknown command...).
    permanent_failures: usize,
    first_permanent: Option<Error>,
    last_error: Option<Error>,
}

impl Attempt {
    /// A new attempt; `earlier_error` is the error the call's previous attempts reported, kept
    /// unless this attempt sees a more useful one.
    pub(crate) fn new(proposal: Proposal, masters: usize, earlier_error: Option<Error>) -> Self {
        Self {
            proposal,
            tally: Tally::majority(masters),
            highest_seen: proposal.value,
            overtaken: false,
            permanent_failures: 0,
            first_permanent: None,
            last_error: earlier_error,
        }
    }

    fn failed(&mut self, error: Error) {
        self.tally.fail();
        if !error.is_transient() {
            self.permanent_failures += 1;
            if self.first_permanent.is_none() {
                self.first_permanent = Some(error);
                return;
            }
        }
        keep_informative(&mut self.last_error, error);
    }

    /// The last error worth reporting, to carry into the next attempt of the same call.
    pub(crate) fn take_last_error(&mut self) -> Option<Error> {
        self.last_error
            .take()
            .or_else(|| self.first_permanent.take())
    }

    /// The attempt's result: the block, a final error, or `Err(None)` to retry.
    pub(crate) fn outcome(&mut self) -> Result<RangeInclusive<i64>, Option<Error>> {
        if self.tally.succeeded() {
            return Ok(self.proposal.first..=self.proposal.value);
        }
        // When errors that retrying would repeat leave too few masters for a quorum, say so
        // now instead of retrying until the deadline.
        let others = self.tally.masters() - self.tally.needed();
        if self.permanent_failures > others {
            return Err(self.first_permanent.take());
        }
        Err(None)
    }

    /// Another client is ahead: retrying at once with the values learned is worthwhile.
    pub(crate) fn overtaken(&self) -> bool {
        self.overtaken
    }

    /// The error to give up with at the deadline.
    pub(crate) fn into_error(self) -> Error {
        Error::QuorumNotAchieved {
            granted: self.tally.granted(),
            quorum: self.tally.needed(),
            masters: self.tally.masters(),
            last_error: self.last_error.or(self.first_permanent).map(Box::new),
        }
    }
}

impl Record for Attempt {
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply.and_then(parse_claim) {
            Ok(Claim::Granted(value)) if value == self.proposal.value => self.tally.grant(),
            Ok(Claim::Granted(value)) => {
                // Not what was proposed: a server speaking another protocol version.
                self.highest_seen = self.highest_seen.max(value);
                self.failed(Error::UnexpectedReply { command: CLAIM });
            }
            Ok(Claim::Refused(current)) => {
                self.highest_seen = self.highest_seen.max(current);
                self.overtaken |= current != self.proposal.value;
                self.tally.fail();
            }
            Err(error) => self.failed(error),
        }
        self.tally.flow()
    }
}

/// A reset's bookkeeping: every master must delete the key.
#[derive(Debug)]
pub(crate) struct Reset {
    tally: Tally,
    last_error: Option<Error>,
}

impl Reset {
    pub(crate) fn new(masters: usize) -> Self {
        Self {
            tally: Tally::needing(masters, masters),
            last_error: None,
        }
    }

    pub(crate) fn finish(self) -> Result<()> {
        if self.tally.succeeded() {
            Ok(())
        } else {
            Err(Error::QuorumNotAchieved {
                granted: self.tally.granted(),
                quorum: self.tally.needed(),
                masters: self.tally.masters(),
                last_error: self.last_error.map(Box::new),
            })
        }
    }
}

impl Record for Reset {
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match reply {
            Ok(Value::Int(_)) => self.tally.grant(),
            Ok(Value::ServerError(error)) => {
                self.tally.fail();
                keep_informative(&mut self.last_error, Error::Redis(error.into()));
            }
            Ok(_) => {
                self.tally.fail();
                keep_informative(
                    &mut self.last_error,
                    Error::UnexpectedReply { command: "DEL" },
                );
            }
            Err(error) => {
                self.tally.fail();
                keep_informative(&mut self.last_error, error);
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::error::Unavailable;

    fn reply(resp: &[u8]) -> Value {
        match redis::parse_redis_value(resp) {
            Ok(value) => value,
            Err(error) => panic!("bad test reply: {error}"),
        }
    }

    #[test]
    fn parses_claim_replies() {
        assert_eq!(
            parse_claim(reply(b"*2\r\n:1\r\n:42\r\n")).ok(),
            Some(Claim::Granted(42))
        );
        assert_eq!(
            parse_claim(reply(b"*2\r\n:0\r\n:-7\r\n")).ok(),
            Some(Claim::Refused(-7))
        );
        let wrongtype = parse_claim(reply(b"-WRONGTYPE Operation against a key\r\n"));
        assert!(
            matches!(&wrongtype, Err(Error::Redis(error)) if error.code() == Some("WRONGTYPE"))
        );
        for odd in [
            &b":1\r\n"[..],
            b"*2\r\n:2\r\n:1\r\n",
            b"*1\r\n:1\r\n",
            b"*2\r\n:1\r\n$2\r\n42\r\n",
            b"$-1\r\n",
        ] {
            assert!(matches!(
                parse_claim(reply(odd)),
                Err(Error::UnexpectedReply { command: CLAIM })
            ));
        }
    }

    #[test]
    fn proposals_start_above_the_last_known_value() {
        let mut sequence = Sequence::default();
        assert_eq!(
            sequence.propose(1).ok(),
            Some(Proposal { first: 1, value: 1 })
        );
        assert_eq!(
            sequence.propose(100).ok(),
            Some(Proposal {
                first: 1,
                value: 100
            })
        );
        assert!(matches!(
            sequence.propose(0),
            Err(Error::InvalidArgument { argument: "n", .. })
        ));
        sequence.last = -5;
        assert_eq!(sequence.propose(1).ok().map(|p| p.first), Some(1));
        sequence.last = i64::MAX - 1;
        assert_eq!(
            sequence.propose(1).ok(),
            Some(Proposal {
                first: i64::MAX,
                value: i64::MAX
            })
        );
        assert!(matches!(sequence.propose(2), Err(Error::Overflow)));
        sequence.last = i64::MAX;
        assert!(matches!(sequence.propose(1), Err(Error::Overflow)));
        sequence.last = 0;
        assert!(matches!(sequence.propose(usize::MAX), Err(Error::Overflow)));
    }

    fn granted(value: i64) -> Result<Value> {
        Ok(Value::Array(vec![Value::Int(1), Value::Int(value)]))
    }

    fn refused(current: i64) -> Result<Value> {
        Ok(Value::Array(vec![Value::Int(0), Value::Int(current)]))
    }

    #[test]
    fn a_majority_of_grants_wins_and_stops_the_round() {
        let proposal = Proposal {
            first: 11,
            value: 20,
        };
        let mut attempt = Attempt::new(proposal, 5, None);
        assert!(attempt.record(granted(20)).is_continue());
        assert!(attempt.record(refused(30)).is_continue());
        assert!(attempt
            .record(Err(Error::Timeout {
                master: 2,
                timeout: Duration::from_millis(5)
            }))
            .is_continue());
        assert!(attempt.record(granted(20)).is_continue());
        assert!(attempt.record(granted(20)).is_break());
        assert_eq!(attempt.outcome().ok(), Some(11..=20));
        assert!(attempt.overtaken());
        let mut sequence = Sequence::default();
        sequence.learn(&attempt);
        // The refusal showed 30 somewhere: the next proposal goes above it.
        assert_eq!(sequence.propose(1).ok().map(|p| p.first), Some(31));
    }

    #[test]
    fn a_refusal_of_our_own_value_never_leads_to_reproposing_it() {
        // Our earlier claim of 5 timed out but landed: the masters now say [0, 5].
        let mut sequence = Sequence { last: 4 };
        let Ok(proposal) = sequence.propose(1) else {
            panic!("no overflow here");
        };
        assert_eq!(proposal.value, 5);
        let mut attempt = Attempt::new(proposal, 3, None);
        assert!(attempt.record(refused(5)).is_continue());
        assert!(attempt.record(refused(5)).is_break());
        assert!(matches!(attempt.outcome(), Err(None)));
        // Maybe our own claim, maybe a competitor's with the same value: not known to be behind.
        assert!(!attempt.overtaken());
        sequence.learn(&attempt);
        assert_eq!(sequence.propose(1).ok().map(|p| p.value), Some(6));

        // Even when every master failed without saying anything, the proposal moves on.
        let mut attempt = Attempt::new(Proposal { first: 6, value: 6 }, 1, None);
        assert!(attempt
            .record(Err(Error::Timeout {
                master: 0,
                timeout: Duration::from_millis(5)
            }))
            .is_break());
        sequence.learn(&attempt);
        assert_eq!(sequence.propose(1).ok().map(|p| p.value), Some(7));
        let Error::QuorumNotAchieved {
            granted,
            quorum,
            masters,
            last_error,
        } = attempt.into_error()
        else {
            panic!("wrong error");
        };
        assert_eq!((granted, quorum, masters), (0, 1, 1));
        assert!(matches!(
            last_error.as_deref(),
            Some(Error::Timeout { master: 0, .. })
        ));
    }

    #[test]
    fn errors_that_would_repeat_fail_fast_only_without_a_possible_quorum() {
        let wrongtype = || Ok(reply(b"-WRONGTYPE Operation against a key\r\n"));
        let proposal = Proposal { first: 1, value: 1 };

        // One bad master of three: retrying can still reach a quorum.
        let mut attempt = Attempt::new(proposal, 3, None);
        let _ = attempt.record(wrongtype());
        let _ = attempt.record(refused(9));
        assert!(matches!(attempt.outcome(), Err(None)));

        // Two of three: no retry can succeed.
        let mut attempt = Attempt::new(proposal, 3, None);
        let _ = attempt.record(wrongtype());
        assert!(attempt.record(wrongtype()).is_break());
        assert!(matches!(
            attempt.outcome(),
            Err(Some(Error::Redis(ref error))) if error.code() == Some("WRONGTYPE")
        ));

        // A grant of another value is a protocol mismatch, not a grant.
        let mut attempt = Attempt::new(proposal, 1, None);
        assert!(attempt.record(granted(2)).is_break());
        assert!(matches!(
            attempt.outcome(),
            Err(Some(Error::UnexpectedReply { .. }))
        ));
    }

    #[test]
    fn a_backoff_never_hides_the_failure_that_caused_it() {
        let timeout = || Error::Timeout {
            master: 0,
            timeout: Duration::from_millis(5),
        };
        let backoff = || Error::MasterUnavailable {
            master: 0,
            reason: Unavailable::Backoff,
        };
        let proposal = Proposal { first: 1, value: 1 };
        let mut first = Attempt::new(proposal, 1, None);
        let _ = first.record(Err(timeout()));
        let mut second = Attempt::new(proposal, 1, first.take_last_error());
        let _ = second.record(Err(backoff()));
        let Error::QuorumNotAchieved { last_error, .. } = second.into_error() else {
            panic!("wrong error");
        };
        assert!(matches!(last_error.as_deref(), Some(Error::Timeout { .. })));

        let mut only_backoff = Attempt::new(proposal, 1, None);
        let _ = only_backoff.record(Err(backoff()));
        assert!(matches!(
            only_backoff.take_last_error(),
            Some(Error::MasterUnavailable { .. })
        ));
    }

    #[test]
    fn reset_needs_every_master() {
        let mut reset = Reset::new(3);
        assert!(reset.record(Ok(Value::Int(1))).is_continue());
        assert!(reset.record(Ok(Value::Int(0))).is_continue());
        assert!(reset.finish().is_err_and(|error| matches!(
            error,
            Error::QuorumNotAchieved {
                granted: 2,
                quorum: 3,
                masters: 3,
                last_error: None
            }
        )));
        let mut reset = Reset::new(2);
        let _ = reset.record(Ok(Value::Int(1)));
        let _ = reset.record(Ok(Value::Int(1)));
        assert!(reset.finish().is_ok());
    }

    #[test]
    fn claims_carry_from_only_for_blocks() {
        let packed = |proposal: Proposal| {
            let mut command = redis::Cmd::new();
            proposal.write(&mut command, "nextid:x");
            command.get_packed_command()
        };
        let single = Proposal { first: 7, value: 7 };
        assert_eq!(
            packed(single),
            redis::cmd(CLAIM)
                .arg("nextid:x")
                .arg(7)
                .get_packed_command()
        );
        let block = Proposal { first: 7, value: 9 };
        assert_eq!(
            packed(block),
            redis::cmd(CLAIM)
                .arg("nextid:x")
                .arg(9)
                .arg("FROM")
                .arg(7)
                .get_packed_command()
        );
    }
}
