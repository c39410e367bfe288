//! Redlock's calls as sans-IO [`Machine`]s, driven by the sync loop for
//! [`Redlock`](crate::Redlock) and by the async loop for [`aio::Redlock`](crate::aio::Redlock):
//! each says which command goes to every master, when to pause, and what the replies mean.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use redis::Value;

use crate::error::{Error, Result};
use crate::redlock::builder::Settings;
use crate::redlock::rounds::{FenceRound, Holder, HolderRound, LockedRound, Round};
use crate::transport::key::uuid4;
use crate::transport::quorum::{majority, single, Machine, Reach, Record, Step};

/// A lock taken: what a guard is made of.
#[derive(Debug)]
pub(crate) struct Acquired {
    pub(crate) token: String,
    pub(crate) fence: Option<i64>,
    pub(crate) valid_until: Instant,
}

/// Why one attempt did not acquire.
#[derive(Debug)]
enum Refusal {
    /// Other holders have it (enough masters answered).
    Held,
    /// Too few masters answered.
    Unavailable(Error),
}

/// Acquiring: a lock round, with fencing a fence round, a release round after a failed attempt
/// that may have taken some masters, and a jittered pause before the next attempt, until the
/// deadline. `Ok(None)` when others held the lock all along; the quorum error when too few
/// masters answered in the last attempt.
///
/// A waiting acquisition on several masters queues on one of them only, the *gate* (the first
/// master, or the next one while it fails), and locks the others once the gate hands it the
/// lock. Waiting on all of them at once would deadlock: each master hands the lock to the head
/// of its own queue, the queues' orders differ, and waiters holding some masters would wait
/// for the others' holders until their slices end. Through the gate, waiters reach the other
/// masters one at a time, in the gate's FIFO order.
pub(crate) struct Acquire<'a> {
    settings: &'a Settings,
    masters: usize,
    /// No attempt starts at or after it (`None`: one attempt).
    deadline: Option<Instant>,
    /// Attempts wait in the masters' queues ([`Step::Wait`]) instead of polling.
    waits: bool,
    /// The master a waiting attempt on several masters queues on.
    gate: usize,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    /// A new attempt comes next.
    Start,
    /// Waiting in the gate's queue (several masters).
    Gating { token: String, round: Round },
    Locking {
        token: String,
        start: Instant,
        round: Round,
    },
    Fencing {
        token: String,
        start: Instant,
        round: Round,
        value: i64,
        fence: FenceRound,
    },
    /// Releasing what a failed attempt may have taken; `refusal` is that attempt's outcome.
    Releasing { refusal: Refusal, round: Round },
}

impl<'a> Acquire<'a> {
    /// Attempts until `timeout` is over (a zero timeout makes one attempt); `waits`: each
    /// attempt waits in the masters' queues for a slice of the time left (the driver has the
    /// connections for it).
    pub(crate) fn new(
        settings: &'a Settings,
        masters: usize,
        timeout: Duration,
        waits: bool,
    ) -> Self {
        Self {
            settings,
            masters,
            deadline: Instant::now().checked_add(timeout),
            waits: waits && settings.blocking,
            gate: 0,
            phase: Phase::Start,
        }
    }

    /// How long the next attempt waits in the masters' queues, if it does.
    fn wait_slice(&self, start: Instant) -> Option<Duration> {
        let left = self.deadline?.checked_duration_since(start)?;
        self.waits.then(|| self.settings.wait_slice(left)).flatten()
    }

    /// After the lock round (and the fence round): the guard, or a release of what was taken,
    /// or the next attempt.
    fn settle(
        &mut self,
        command: &mut redis::Cmd,
        token: String,
        start: Instant,
        round: Round,
        fence: Option<(i64, FenceRound)>,
    ) -> Option<Step<Result<Option<Acquired>>>> {
        let settings = self.settings;
        let mut agreed = None;
        let mut failure = None;
        if round.succeeded() {
            if let Some((value, mut fence)) = fence {
                if fence.succeeded() {
                    agreed = Some(value);
                } else {
                    failure = fence.take_error();
                }
            }
            if let Some(valid_until) = settings.valid_until(start) {
                if !settings.fencing || agreed.is_some() {
                    return Some(Step::Done(Ok(Some(Acquired {
                        token,
                        fence: agreed,
                        valid_until,
                    }))));
                }
            }
        }
        let needs_release = round.needs_release();
        let refusal = if round.succeeded() {
            // Taken, but too late or without an agreed fencing token: another try may do.
            match failure {
                Some(error) if !error.is_transient() => Refusal::Unavailable(error),
                _ => Refusal::Held,
            }
        } else if round.unavailable() {
            Refusal::Unavailable(round.into_error())
        } else {
            Refusal::Held
        };
        if needs_release {
            // Best effort: a lock left behind expires with its TTL.
            settings.write_unlock(command, &token);
            self.phase = Phase::Releasing {
                refusal,
                round: Round::release(self.masters),
            };
            return Some(Step::Round(Reach::Everyone));
        }
        self.retry(refusal, false)
    }

    /// The lock round on every master, waiting there up to `wait` if given.
    fn lock_round(
        &mut self,
        command: &mut redis::Cmd,
        token: String,
        start: Instant,
        wait: Option<Duration>,
    ) -> Step<Result<Option<Acquired>>> {
        let settings = self.settings;
        let step = match wait {
            Some(wait) => {
                settings.write_lock_waiting(command, &token, wait);
                Step::Wait(Reach::Decided, wait)
            }
            None => {
                settings.write_lock(command, &token);
                Step::Round(Reach::Decided)
            }
        };
        self.phase = Phase::Locking {
            token,
            start,
            round: Round::acquire(settings, self.masters),
        };
        step
    }

    /// After the gate's reply: the other masters' lock round once the gate granted, else a
    /// new attempt (on the next gate if this one failed).
    fn through_gate(
        &mut self,
        command: &mut redis::Cmd,
        token: String,
        mut round: Round,
    ) -> Option<Step<Result<Option<Acquired>>>> {
        let settings = self.settings;
        if round.succeeded() {
            // The gate is ours, so the lock's last holder released it: the other masters are
            // free too but for its release still on the way, or a holder that did not wait.
            // A short wait covers the first and does not keep the gate from the next waiter
            // long for the second. The gate locks again with the same token, which renews it:
            // the validity counts from this round.
            let start = Instant::now();
            let short = settings.master_timeout.max(Duration::from_millis(1));
            let wait = self.wait_slice(start).map(|slice| slice.min(short));
            return Some(self.lock_round(command, token, start, wait));
        }
        if !round.needs_release() {
            // Refused at the end of its slice: the next attempt queues again at once.
            return self.retry(Refusal::Held, false);
        }
        // Down, or too slow to answer: the next master is the gate, after a pause. Until then
        // the attempt counts as unavailable, so that the deadline answers a quorum error.
        self.gate = (self.gate + 1) % self.masters;
        let refusal = Refusal::Unavailable(Error::QuorumNotAchieved {
            granted: 0,
            quorum: majority(self.masters),
            masters: self.masters,
            last_error: round.take_error().map(Box::new),
        });
        // Its request may still be queued at the gate: released, it cannot be granted.
        settings.write_unlock(command, &token);
        self.phase = Phase::Releasing {
            refusal,
            round: Round::release(self.masters),
        };
        Some(Step::Round(Reach::Everyone))
    }

    /// After a failed attempt (`released`: one that took some masters and gave them back): a
    /// pause before the next, or the end at the deadline. `None`: the next attempt starts at
    /// once.
    fn retry(
        &mut self,
        refusal: Refusal,
        released: bool,
    ) -> Option<Step<Result<Option<Acquired>>>> {
        // A waiting attempt that was refused waited already: the next one queues again at
        // once. Unreachable masters still get the jitter, not a busy loop, and so does a split
        // vote (each master granted a different waiter): queued again in the same order, the
        // same waiters would split the masters again and again.
        let pause = match refusal {
            Refusal::Held if self.waits && !released => Duration::ZERO,
            _ => self.settings.jitter(),
        };
        let next = Instant::now().checked_add(pause);
        if next
            .zip(self.deadline)
            .is_none_or(|(next, deadline)| next >= deadline)
        {
            return Some(Step::Done(match refusal {
                Refusal::Held => Ok(None),
                Refusal::Unavailable(error) => Err(error),
            }));
        }
        (!pause.is_zero()).then_some(Step::Sleep(pause))
    }
}

impl Machine for Acquire<'_> {
    type Output = Result<Option<Acquired>>;

    fn step(&mut self, command: &mut redis::Cmd) -> Step<Self::Output> {
        let settings = self.settings;
        loop {
            let step = match std::mem::replace(&mut self.phase, Phase::Start) {
                Phase::Start => {
                    // A new token per attempt: a waiting request of a released one is refused.
                    let token = uuid4();
                    let start = Instant::now();
                    match self.wait_slice(start) {
                        Some(wait) if self.masters > 1 => {
                            settings.write_lock_waiting(command, &token, wait);
                            self.phase = Phase::Gating {
                                token,
                                round: Round::acquire(settings, 1),
                            };
                            return Step::Wait(Reach::Only(self.gate), wait);
                        }
                        wait => Some(self.lock_round(command, token, start, wait)),
                    }
                }
                Phase::Gating { token, round } => self.through_gate(command, token, round),
                Phase::Locking {
                    token,
                    start,
                    round,
                } if round.succeeded() && settings.fencing => {
                    let value = round.highest_counter();
                    settings.write_fence(command, &token, value);
                    self.phase = Phase::Fencing {
                        token,
                        start,
                        round,
                        value,
                        fence: FenceRound::new(value, self.masters),
                    };
                    Some(Step::Round(Reach::Decided))
                }
                Phase::Locking {
                    token,
                    start,
                    round,
                } => self.settle(command, token, start, round, None),
                Phase::Fencing {
                    token,
                    start,
                    round,
                    value,
                    fence,
                } => self.settle(command, token, start, round, Some((value, fence))),
                Phase::Releasing { refusal, .. } => self.retry(refusal, true),
            };
            if let Some(step) = step {
                return step;
            }
        }
    }

    fn record(&mut self, reply: Result<Value>) -> ControlFlow<()> {
        match &mut self.phase {
            Phase::Locking { round, .. }
            | Phase::Releasing { round, .. }
            | Phase::Gating { round, .. } => round.record(reply),
            Phase::Fencing { fence, .. } => fence.record(reply),
            Phase::Start => ControlFlow::Break(()),
        }
    }
}

/// Releases `token`: `Ok` when a majority deleted it, [`Error::LockLost`] when so many masters
/// said "not ours" that no majority held it.
pub(crate) fn release<'a>(
    settings: &'a Settings,
    masters: usize,
    token: &'a str,
) -> impl Machine<Output = Result<()>> + 'a {
    single(
        Reach::Everyone,
        Round::release(masters),
        move |command| settings.write_unlock(command, token),
        |round: Round| {
            if round.succeeded() {
                Ok(())
            } else {
                Err(round.into_lost_or_error())
            }
        },
    )
}

/// Extends `token`: the new validity when a majority extended it in time, else the round (to
/// tell a lost lock from unreachable masters).
pub(crate) fn extend<'a>(
    settings: &'a Settings,
    masters: usize,
    token: &'a str,
) -> impl Machine<Output = Result<Instant, Round>> + 'a {
    let start = Instant::now();
    single(
        Reach::Decided,
        Round::extend(masters),
        move |command| settings.write_extend(command, token),
        move |round: Round| match (round.succeeded(), settings.valid_until(start)) {
            (true, Some(until)) => Ok(until),
            _ => Err(round),
        },
    )
}

/// How long a majority still holds `token`, less the drift allowance.
pub(crate) fn locked<'a>(
    settings: &'a Settings,
    masters: usize,
    token: &'a str,
) -> impl Machine<Output = Result<Option<Duration>>> + 'a {
    single(
        Reach::Decided,
        LockedRound::new(masters, settings.ttl_ms),
        move |command| settings.write_locked(command, token),
        |round: LockedRound| round.finish(settings.drift()),
    )
}

/// The holder a majority of masters reports.
pub(crate) fn holder(
    settings: &Settings,
    masters: usize,
) -> impl Machine<Output = Result<Option<Holder>>> + '_ {
    single(
        Reach::Decided,
        HolderRound::new(masters),
        |command| settings.write_holder(command),
        HolderRound::finish,
    )
}

/// [`Error::TooManyExtensions`] once a guard was extended as often as the builder allows.
pub(crate) fn check_extensions(settings: &Settings, extensions: u32) -> Result<()> {
    match settings.max_extensions {
        Some(max) if extensions >= max => Err(Error::TooManyExtensions { max }),
        _ => Ok(()),
    }
}

/// What auto-renewal does after one extension attempt.
#[derive(Debug)]
pub(crate) enum Renewal {
    /// Extended: the new validity; renew again after [`Settings::renew_every`].
    Extended(Instant),
    /// Masters did not answer: try again after this pause, while the validity lasts.
    Retry(Duration),
    /// A majority no longer holds the lock, or its validity ran out: mark it lost and stop.
    Lost,
}

/// Decides auto-renewal's next move from an extension's outcome and the validity until then.
pub(crate) fn renewal(
    settings: &Settings,
    extended: Result<Instant, Round>,
    valid_until: Instant,
) -> Renewal {
    match extended {
        Ok(until) => Renewal::Extended(until),
        Err(round) if round.lost_for_sure() || Instant::now() >= valid_until => Renewal::Lost,
        Err(_) => Renewal::Retry(
            (settings.master_timeout + settings.jitter())
                .min(valid_until.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(1)),
        ),
    }
}

/// Carries out auto-renewal's decision after one extension attempt: keeps the new validity
/// with `set_until`, or marks the lock lost with `mark_lost` and runs the `on_lost` callback
/// (`None`: renewal stops). Otherwise, the wait before the next attempt.
pub(crate) fn after_renewal(
    settings: &Settings,
    extended: Result<Instant, Round>,
    valid_until: Instant,
    set_until: impl FnOnce(Instant),
    mark_lost: impl FnOnce(),
) -> Option<Duration> {
    match renewal(settings, extended, valid_until) {
        Renewal::Extended(until) => {
            set_until(until);
            Some(settings.renew_every())
        }
        Renewal::Retry(pause) => Some(pause),
        Renewal::Lost => {
            mark_lost();
            if let Some(on_lost) = &settings.on_lost {
                on_lost();
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redlock::builder::RedlockBuilder;

    fn settings(fencing: bool) -> Settings {
        let Ok((settings, _)) = RedlockBuilder::default()
            .name("n")
            .fencing(fencing)
            .retry_delay(Duration::ZERO)
            .validate()
        else {
            panic!("valid");
        };
        settings
    }

    fn args(command: &redis::Cmd) -> Vec<Vec<u8>> {
        command
            .args_iter()
            .map(|arg| match arg {
                redis::Arg::Simple(bytes) => bytes.to_vec(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn an_acquisition_locks_then_fences_then_hands_out_the_guard() {
        let settings = settings(true);
        let mut machine = Acquire::new(&settings, 3, Duration::from_secs(1), false);
        let mut command = redis::Cmd::new();
        assert!(matches!(
            machine.step(&mut command),
            Step::Round(Reach::Decided)
        ));
        assert_eq!(args(&command)[0], b"POTTERY.LOCK.FENCED");
        let _ = machine.record(Ok(Value::Int(4)));
        assert!(machine.record(Ok(Value::Int(7))).is_break());
        command.clear();
        assert!(matches!(
            machine.step(&mut command),
            Step::Round(Reach::Decided)
        ));
        assert_eq!(args(&command)[0], b"POTTERY.LOCK.FENCE");
        assert_eq!(args(&command)[4], b"7");
        let fenced = || Ok(Value::Array(vec![Value::Int(1), Value::Int(7)]));
        let _ = machine.record(fenced());
        let _ = machine.record(fenced());
        command.clear();
        let Step::Done(Ok(Some(acquired))) = machine.step(&mut command) else {
            panic!("acquired");
        };
        assert_eq!((acquired.fence, acquired.token.len()), (Some(7), 36));
    }

    #[test]
    fn a_failed_attempt_releases_what_it_took_and_gives_up_at_the_deadline() {
        let settings = settings(false);
        let mut machine = Acquire::new(&settings, 3, Duration::ZERO, false);
        let mut command = redis::Cmd::new();
        let _ = machine.step(&mut command);
        let _ = machine.record(Ok(Value::Int(1)));
        let _ = machine.record(Ok(Value::Int(0)));
        let _ = machine.record(Ok(Value::Int(0)));
        command.clear();
        assert!(matches!(
            machine.step(&mut command),
            Step::Round(Reach::Everyone)
        ));
        assert_eq!(args(&command)[0], b"POTTERY.UNLOCK");
        let _ = machine.record(Ok(Value::Int(1)));
        command.clear();
        assert!(matches!(machine.step(&mut command), Step::Done(Ok(None))));
    }

    #[test]
    fn a_waiting_acquisition_blocks_for_a_slice_then_queues_again_at_once() {
        let settings = settings(false);
        let mut machine = Acquire::new(&settings, 1, Duration::from_secs(60), true);
        let mut command = redis::Cmd::new();
        let Step::Wait(Reach::Decided, wait) = machine.step(&mut command) else {
            panic!("a waiting round");
        };
        // At most half the TTL (10 s by default), so the validity stays useful.
        assert_eq!(wait, Duration::from_secs(5));
        let written = args(&command);
        assert_eq!(written[0], b"POTTERY.LOCK");
        assert_eq!(&written[4..], [b"BLOCK".to_vec(), b"5000".to_vec()]);
        // Refused at the end of its wait: the next attempt waits again, without a pause.
        assert!(machine.record(Ok(Value::Int(0))).is_break());
        command.clear();
        assert!(matches!(
            machine.step(&mut command),
            Step::Wait(Reach::Decided, _)
        ));
        // A single attempt (no time to wait) never blocks.
        let mut once = Acquire::new(&settings, 1, Duration::ZERO, true);
        command.clear();
        assert!(matches!(once.step(&mut command), Step::Round(_)));
        assert_eq!(args(&command).len(), 4);
    }

    #[test]
    fn a_waiting_acquisition_on_several_masters_queues_on_the_gate_only() {
        let settings = settings(false);
        let mut machine = Acquire::new(&settings, 3, Duration::from_secs(60), true);
        let mut command = redis::Cmd::new();
        let Step::Wait(Reach::Only(0), wait) = machine.step(&mut command) else {
            panic!("a waiting round on the first master");
        };
        assert_eq!(wait, Duration::from_secs(5));
        let token = args(&command)[2].clone();
        // The gate granted: the others are locked with the same token, with a short wait.
        assert!(machine.record(Ok(Value::Int(1))).is_break());
        command.clear();
        let Step::Wait(Reach::Decided, wait) = machine.step(&mut command) else {
            panic!("a waiting round on every master");
        };
        assert_eq!(wait, settings.master_timeout);
        assert_eq!(args(&command)[2], token);
        let _ = machine.record(Ok(Value::Int(1)));
        assert!(machine.record(Ok(Value::Int(1))).is_break());
        command.clear();
        let Step::Done(Ok(Some(acquired))) = machine.step(&mut command) else {
            panic!("acquired");
        };
        assert_eq!(acquired.token.as_bytes(), token);
    }

    #[test]
    fn a_failing_gate_hands_over_to_the_next_master_and_ends_as_a_quorum_error() {
        let settings = settings(false);
        let mut machine = Acquire::new(&settings, 3, Duration::from_millis(200), true);
        let mut command = redis::Cmd::new();
        let down = || {
            Err(Error::Timeout {
                master: 0,
                timeout: Duration::from_millis(100),
            })
        };
        for gate in 0..2 {
            command.clear();
            let Step::Wait(Reach::Only(asked), _) = machine.step(&mut command) else {
                panic!("a waiting round on the gate");
            };
            assert_eq!(asked, gate);
            let _ = machine.record(down());
            // Its request may be queued there still: released everywhere first.
            command.clear();
            assert!(matches!(
                machine.step(&mut command),
                Step::Round(Reach::Everyone)
            ));
            assert_eq!(args(&command)[0], b"POTTERY.UNLOCK");
            let _ = machine.record(Ok(Value::Int(0)));
        }
        // Both failed: at the deadline the answer is a quorum error; the next attempt would
        // queue on the third.
        assert_eq!(machine.gate, 2);
        std::thread::sleep(Duration::from_millis(250));
        command.clear();
        assert!(matches!(
            machine.step(&mut command),
            Step::Done(Err(Error::QuorumNotAchieved {
                granted: 0,
                quorum: 2,
                masters: 3,
                last_error: Some(_),
            }))
        ));
    }

    #[test]
    fn renewal_tells_a_lost_lock_from_silent_masters() {
        let settings = settings(false);
        let until = Instant::now() + Duration::from_secs(5);
        assert!(matches!(
            renewal(&settings, Ok(until), until),
            Renewal::Extended(_)
        ));
        let mut refused = Round::extend(3);
        let _ = refused.record(Ok(Value::Int(0)));
        let _ = refused.record(Ok(Value::Int(0)));
        assert!(matches!(
            renewal(&settings, Err(refused), until),
            Renewal::Lost
        ));
        let silent = Round::extend(3);
        assert!(matches!(
            renewal(&settings, Err(silent), until),
            Renewal::Retry(pause) if pause <= settings.master_timeout
        ));
        assert!(check_extensions(&settings, 1_000).is_ok());
    }
}
