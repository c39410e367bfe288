//! Majorities over independent masters, and the sans-IO shape of every Redlock and NextId
//! call: a [`Machine`] that asks for rounds and pauses, driven by one sync loop
//! ([`SyncMasters::run`](crate::transport::sync_masters::SyncMasters::run)) and one async loop
//! (`AsyncMasters::run`).
//!
//! A *round* sends one command to every master, each within the per-master timeout, and hands
//! each reply (or per-master error) to the machine, which tallies it and says whether the
//! outcome is decided; the round then stops waiting for the other masters. Between rounds the
//! machine may ask for a pause (the jitter before a retry) and finally says it is done. The
//! machine never touches a socket or a clock of the runtime, so the protocol (what to send,
//! when to retry, how to read the replies) is written once for both faces.

use std::ops::ControlFlow;
use std::time::Duration;

use redis::Value;

use crate::error::{Error, Result, Unavailable};
use crate::transport::master::Master;

/// The number of masters that form a majority of `masters`: floor(n/2) + 1.
///
/// Any two majorities of the same masters share at least one master, which is what makes a
/// value agreed by a majority visible to every later majority.
pub(crate) const fn majority(masters: usize) -> usize {
    masters / 2 + 1
}

/// Counts the masters that agreed and those that did not, for one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    masters: usize,
    needed: usize,
    granted: usize,
    failed: usize,
}

impl Tally {
    /// A tally that needs a majority of `masters`.
    pub(crate) const fn majority(masters: usize) -> Self {
        Self::needing(majority(masters), masters)
    }

    /// A tally that needs `needed` of `masters` (for example all of them).
    pub(crate) const fn needing(needed: usize, masters: usize) -> Self {
        Self {
            masters,
            needed,
            granted: 0,
            failed: 0,
        }
    }

    pub(crate) fn grant(&mut self) {
        self.granted += 1;
    }

    pub(crate) fn fail(&mut self) {
        self.failed += 1;
    }

    pub(crate) const fn granted(&self) -> usize {
        self.granted
    }

    pub(crate) const fn needed(&self) -> usize {
        self.needed
    }

    pub(crate) const fn masters(&self) -> usize {
        self.masters
    }

    /// Enough masters agreed.
    pub(crate) const fn succeeded(&self) -> bool {
        self.granted >= self.needed
    }

    /// So many masters failed that the others can no longer make up the number needed.
    pub(crate) const fn failed_for_sure(&self) -> bool {
        self.failed > self.masters.saturating_sub(self.needed)
    }

    /// The outcome is known; further replies cannot change it.
    pub(crate) const fn decided(&self) -> bool {
        self.succeeded() || self.failed_for_sure()
    }

    /// `Break` once decided, for returning from a round's callback.
    pub(crate) const fn flow(&self) -> ControlFlow<()> {
        if self.decided() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Resolves the builder's masters into connection slots, refusing an empty list.
pub(crate) fn resolve<T>(
    masters: Vec<Master>,
    mut resolve_one: impl FnMut(Master, usize) -> Result<T>,
) -> Result<Vec<T>> {
    if masters.is_empty() {
        return Err(Error::InvalidArgument {
            argument: "masters",
            problem: "at least one master is required",
        });
    }
    masters
        .into_iter()
        .enumerate()
        .map(|(index, master)| resolve_one(master, index))
        .collect()
}

/// What a [`Machine`] asks its driver to do next.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// Send the command the machine just wrote to every master (a round, each master within
    /// the per-master timeout) and hand every reply to [`Machine::record`]; then ask again.
    Round(Reach),
    /// A round whose command may wait in the masters (`POTTERY.LOCK ... BLOCK`) up to this
    /// long: each master has the per-master timeout plus the wait to reply, on the face's
    /// second set of connections ([`Lanes::waits`](crate::redlock::info::Lanes)). A request
    /// still waiting once the outcome is decided is answered by the caller's release, which
    /// names its token.
    Wait(Reach, Duration),
    /// Pause this long (never zero), then ask again.
    Sleep(Duration),
    /// The call's result.
    Done(T),
}

/// Which masters a round must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The round may end as soon as [`Machine::record`] says `Break`.
    Decided,
    /// Every master must receive the command even once the outcome is decided (a release:
    /// every master that may hold the token should drop it). The sync driver writes to every
    /// master before it reads any reply, so it still stops reading at `Break` (unless a master
    /// was sent a script by hash, which may come back `NOSCRIPT` and be sent again); the async
    /// one would drop requests not sent yet, so it waits for every master and records every
    /// reply.
    Everyone,
    /// Only the master with this index receives the command (the gate a waiting Redlock
    /// acquisition queues on, see [`Acquire`](crate::redlock::machine::Acquire)); the round
    /// ends with its reply.
    Only(usize),
}

impl Reach {
    /// Whether the master with `index` receives the round's command.
    pub(crate) fn includes(self, index: usize) -> bool {
        match self {
            Self::Only(only) => only == index,
            Self::Decided | Self::Everyone => true,
        }
    }
}

/// A call as a sans-IO state machine: it writes commands and reads replies, its driver does
/// the I/O and the waiting.
pub(crate) trait Machine {
    type Output;

    /// The next step. Before [`Step::Round`] the machine writes the round's command into
    /// `command`, which the driver hands over empty (keeping its buffers from round to round).
    fn step(&mut self, command: &mut redis::Cmd) -> Step<Self::Output>;

    /// One master's reply (or error) to the current round; `Break` once the outcome is
    /// decided.
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()>;
}

/// The bookkeeping of one round: what the replies add up to.
pub(crate) trait Record {
    /// One master's reply (or error); `Break` once the outcome is decided.
    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()>;
}

/// A call of one round: write the command, record the replies, finish.
pub(crate) struct Single<R, W, F> {
    reach: Reach,
    state: SingleState<R, W, F>,
}

enum SingleState<R, W, F> {
    Ready { round: R, write: W, finish: F },
    Sent { round: R, finish: F },
    Finished,
}

/// A machine that sends the command `write` makes to every master, records the replies in
/// `round` and turns it into the result with `finish`.
pub(crate) fn single<R, W, F, T>(reach: Reach, round: R, write: W, finish: F) -> Single<R, W, F>
where
    R: Record,
    W: FnOnce(&mut redis::Cmd),
    F: FnOnce(R) -> T,
{
    Single {
        reach,
        state: SingleState::Ready {
            round,
            write,
            finish,
        },
    }
}

impl<R, W, F, T> Machine for Single<R, W, F>
where
    R: Record,
    W: FnOnce(&mut redis::Cmd),
    F: FnOnce(R) -> T,
{
    type Output = T;

    fn step(&mut self, command: &mut redis::Cmd) -> Step<T> {
        match std::mem::replace(&mut self.state, SingleState::Finished) {
            SingleState::Ready {
                round,
                write,
                finish,
            } => {
                write(command);
                self.state = SingleState::Sent { round, finish };
                Step::Round(self.reach)
            }
            SingleState::Sent { round, finish } => Step::Done(finish(round)),
            // A driver asks no more after `Done`.
            SingleState::Finished => Step::Sleep(Duration::from_millis(1)),
        }
    }

    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match &mut self.state {
            SingleState::Sent { round, .. } => round.record(reply),
            _ => ControlFlow::Break(()),
        }
    }
}

/// Keeps the most useful per-master error of a call: the newest, except that "waiting for a
/// backoff" never hides the failure that started the backoff.
pub(crate) fn keep_informative(kept: &mut Option<Error>, new: Error) {
    let is_backoff = |error: &Error| {
        matches!(
            error,
            Error::MasterUnavailable {
                reason: Unavailable::Backoff,
                ..
            }
        )
    };
    if !is_backoff(&new) || kept.as_ref().is_none_or(is_backoff) {
        *kept = Some(new);
    }
}

/// The server's error in `reply`, or [`Error::UnexpectedReply`] for a reply of another shape.
pub(crate) fn server_error(reply: Value, command: &'static str) -> Error {
    match reply {
        Value::ServerError(error) => Error::Redis(error.into()),
        _ => Error::UnexpectedReply { command },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_is_more_than_half() {
        let expected = [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)];
        for (masters, quorum) in expected {
            assert_eq!(majority(masters), quorum, "{masters} masters");
            // Two majorities always overlap.
            assert!(2 * majority(masters) > masters);
        }
    }

    #[test]
    fn tally_decides_as_soon_as_the_outcome_is_certain() {
        let mut tally = Tally::majority(5);
        tally.grant();
        tally.fail();
        tally.grant();
        assert!(!tally.decided());
        tally.grant();
        assert!(tally.succeeded() && tally.decided());
        assert!(tally.flow().is_break());

        let mut tally = Tally::majority(5);
        tally.fail();
        tally.fail();
        assert!(!tally.decided());
        tally.fail();
        assert!(tally.failed_for_sure() && !tally.succeeded());
        assert!(tally.flow().is_break());

        let mut all = Tally::needing(3, 3);
        all.grant();
        all.grant();
        assert!(!all.decided());
        all.fail();
        assert!(all.failed_for_sure());

        let single = Tally::majority(1);
        assert_eq!(single.needed(), 1);
        assert!(single.flow().is_continue());
    }

    struct Count(usize);

    impl Record for Count {
        fn record(&mut self, _: Result<Value>) -> ControlFlow<()> {
            self.0 += 1;
            ControlFlow::Continue(())
        }
    }

    #[test]
    fn a_single_round_writes_then_finishes() {
        let mut machine = single(
            Reach::Everyone,
            Count(0),
            |command: &mut redis::Cmd| {
                command.arg("PING");
            },
            |count: Count| count.0,
        );
        let mut command = redis::Cmd::new();
        assert!(matches!(
            machine.step(&mut command),
            Step::Round(Reach::Everyone)
        ));
        assert_eq!(command.get_packed_command(), b"*1\r\n$4\r\nPING\r\n");
        let _ = machine.record(Ok(Value::Okay));
        let _ = machine.record(Ok(Value::Okay));
        assert!(matches!(machine.step(&mut command), Step::Done(2)));
    }

    #[test]
    fn a_backoff_never_hides_the_failure_behind_it() {
        let timeout = || Error::Timeout {
            master: 0,
            timeout: Duration::from_millis(5),
        };
        let unavailable = |reason| Error::MasterUnavailable { master: 0, reason };
        let mut kept = None;
        keep_informative(&mut kept, timeout());
        keep_informative(&mut kept, unavailable(Unavailable::Backoff));
        assert!(matches!(kept, Some(Error::Timeout { .. })));
        keep_informative(&mut kept, unavailable(Unavailable::ConnectionBroken));
        assert!(matches!(
            kept,
            Some(Error::MasterUnavailable {
                reason: Unavailable::ConnectionBroken,
                ..
            })
        ));
        let mut only = None;
        keep_informative(&mut only, unavailable(Unavailable::Backoff));
        assert!(only.is_some());
    }
}
