//! NextId's calls as sans-IO [`Machine`]s, driven by the sync loop for
//! [`NextId`](crate::NextId) and by the async loop for [`aio::NextId`](crate::aio::NextId).

use std::ops::{ControlFlow, RangeInclusive};
use std::time::Instant;

use redis::Value;

use crate::error::{Error, Result};
use crate::nextid::builder::Timing;
use crate::nextid::claim::{Attempt, Reset, Sequence};
use crate::transport::quorum::{single, Machine, Reach, Record, Step};

/// Claiming a block of `count` IDs: propose above everything known, claim on every master,
/// learn from the replies, and retry (at once when overtaken, else after a jitter) until the
/// deadline.
#[derive(Debug)]
pub(crate) struct ClaimBlock<'a> {
    key: &'a str,
    timing: Timing,
    masters: usize,
    count: usize,
    start: Instant,
    sequence: &'a mut Sequence,
    /// The attempt whose round is running or just ran.
    attempt: Option<Attempt>,
    /// The error of the call's previous attempts, kept unless a later one is more useful.
    earlier_error: Option<Error>,
}

impl<'a> ClaimBlock<'a> {
    pub(crate) fn new(
        key: &'a str,
        timing: Timing,
        masters: usize,
        sequence: &'a mut Sequence,
        count: usize,
    ) -> Self {
        Self {
            key,
            timing,
            masters,
            count,
            start: Instant::now(),
            sequence,
            attempt: None,
            earlier_error: None,
        }
    }
}

impl Machine for ClaimBlock<'_> {
    type Output = Result<RangeInclusive<i64>>;

    fn step(&mut self, command: &mut redis::Cmd) -> Step<Self::Output> {
        if let Some(mut attempt) = self.attempt.take() {
            self.sequence.learn(&attempt);
            match attempt.outcome() {
                Ok(block) => return Step::Done(Ok(block)),
                Err(Some(error)) => return Step::Done(Err(error)),
                Err(None) => {}
            }
            let Some(pause) = self
                .timing
                .pause_before_retry(self.start, attempt.overtaken())
            else {
                return Step::Done(Err(attempt.into_error()));
            };
            self.earlier_error = attempt.take_last_error();
            if !pause.is_zero() {
                return Step::Sleep(pause);
            }
        }
        let proposal = match self.sequence.propose(self.count) {
            Ok(proposal) => proposal,
            Err(error) => return Step::Done(Err(error)),
        };
        proposal.write(command, self.key);
        let earlier_error = self.earlier_error.take();
        self.attempt = Some(Attempt::new(proposal, self.masters, earlier_error));
        Step::Round(Reach::Decided)
    }

    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match &mut self.attempt {
            Some(attempt) => attempt.record(reply),
            None => ControlFlow::Break(()),
        }
    }
}

/// Deleting the counter on every master (every master must answer); the sequence forgets
/// what it knew once they all did.
pub(crate) fn reset<'a>(
    key: &'a str,
    masters: usize,
    sequence: &'a mut Sequence,
) -> impl Machine<Output = Result<()>> + 'a {
    single(
        Reach::Everyone,
        Reset::new(masters),
        move |command| {
            command.arg("DEL").arg(key);
        },
        move |reset: Reset| {
            reset.finish()?;
            sequence.reset();
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn timing(deadline: Duration) -> Timing {
        Timing {
            master_timeout: Duration::from_millis(10),
            deadline,
            retry_delay: Duration::from_millis(10),
        }
    }

    #[test]
    fn an_overtaken_claim_proposes_again_at_once_above_what_it_saw() {
        let mut sequence = Sequence::default();
        let mut claim = ClaimBlock::new("k", timing(Duration::from_secs(60)), 1, &mut sequence, 2);
        let mut command = redis::Cmd::new();
        assert!(matches!(
            claim.step(&mut command),
            Step::Round(Reach::Decided)
        ));
        let refused = Ok(Value::Array(vec![Value::Int(0), Value::Int(40)]));
        assert!(claim.record(refused).is_break());
        command.clear();
        assert!(matches!(
            claim.step(&mut command),
            Step::Round(Reach::Decided)
        ));
        let expected = redis::cmd("POTTERY.NEXTID.CLAIM")
            .arg("k")
            .arg(42)
            .arg("FROM")
            .arg(41)
            .get_packed_command();
        assert_eq!(command.get_packed_command(), expected);
        let granted = Ok(Value::Array(vec![Value::Int(1), Value::Int(42)]));
        let _ = claim.record(granted);
        assert!(matches!(claim.step(&mut command), Step::Done(Ok(block)) if block == (41..=42)));
    }

    #[test]
    fn a_claim_gives_up_at_the_deadline() {
        let mut sequence = Sequence::default();
        let mut claim = ClaimBlock::new("k", timing(Duration::ZERO), 1, &mut sequence, 1);
        let mut command = redis::Cmd::new();
        let _ = claim.step(&mut command);
        let _ = claim.record(Err(Error::Timeout {
            master: 0,
            timeout: Duration::from_millis(10),
        }));
        assert!(matches!(
            claim.step(&mut command),
            Step::Done(Err(Error::QuorumNotAchieved { .. }))
        ));
    }
}
