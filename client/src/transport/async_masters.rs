//! The async fan-out ([`AsyncMasters`]): one future per master in a `FuturesUnordered`, each
//! bounded by the round's end; the futures still running when the outcome is decided are
//! dropped, which a multiplexed connection tolerates.

use std::ops::ControlFlow;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use redis::Value;
use tokio::sync::Mutex;

use crate::error::Result;
use crate::transport::async_master::{AsyncMaster, Request};
use crate::transport::master::Master;
use crate::transport::quorum::{resolve, Machine, Reach, Step};

/// The masters of an async type, the per-master timeout, and the command a machine writes
/// (kept from round to round).
pub(crate) struct AsyncMasters {
    masters: Vec<AsyncMaster>,
    timeout: Duration,
    command: redis::Cmd,
    /// Masters whose last waiting request went unanswered (it may still wait in them): their
    /// connection is reopened before the next one.
    outstanding: Vec<bool>,
}

impl AsyncMasters {
    /// Validates and resolves `masters` (at least one; URLs must parse). Connects nothing.
    pub(crate) fn new(masters: Vec<Master>, timeout: Duration) -> Result<Self> {
        let masters = resolve(masters, |master, index| master.into_async(index, timeout))?;
        Ok(Self {
            outstanding: vec![false; masters.len()],
            masters,
            timeout,
            command: redis::Cmd::new(),
        })
    }

    /// Drives `machine` to its end: the async loop. The masters are locked for one round at a
    /// time, so that clones sharing them (a guard's renewal task) take turns between rounds.
    pub(crate) async fn run<M: Machine>(masters: &Mutex<Self>, machine: M) -> M::Output {
        Self::run_waiting(masters, None, machine).await
    }

    /// A second set of connections for rounds that wait in the masters (see
    /// [`run_waiting`](Self::run_waiting)): their replies may take longer than the per-master
    /// timeout, which the round bounds instead.
    pub(crate) fn new_waiting(masters: Vec<Master>, timeout: Duration) -> Result<Self> {
        let masters = resolve(masters, |master, index| {
            master
                .into_async(index, timeout)
                .map(AsyncMaster::unbounded_replies)
        })?;
        Ok(Self {
            outstanding: vec![false; masters.len()],
            masters,
            timeout,
            command: redis::Cmd::new(),
        })
    }

    /// [`run`](Self::run), with `waits` (the second connections, held by the caller for the
    /// whole call) for the rounds that wait in the masters ([`Step::Wait`]): `masters` is not
    /// locked while they wait, so releases and renewals go on.
    pub(crate) async fn run_waiting<M: Machine>(
        masters: &Mutex<Self>,
        mut waits: Option<&mut Self>,
        mut machine: M,
    ) -> M::Output {
        loop {
            let mut guard = masters.lock().await;
            let this = &mut *guard;
            this.command.clear();
            match machine.step(&mut this.command) {
                Step::Round(reach) => {
                    let scripts = this.masters.iter().any(AsyncMaster::may_send_scripts);
                    let request = Request::new(&this.command, scripts);
                    let record = |_, reply| machine.record(reply);
                    let _ = round(&mut this.masters, this.timeout, &request, reach, record).await;
                }
                Step::Wait(reach, wait) => {
                    let record = |_, reply| machine.record(reply);
                    let timeout = this.timeout + wait;
                    // Only rounds on masters known to have the module wait (see
                    // `AsyncMasters::knows_module`): the module command, never its script.
                    let command = std::mem::take(&mut this.command);
                    match waits.as_deref_mut() {
                        Some(lane) => {
                            drop(guard);
                            let request = Request::new(&command, false);
                            lane.wait_round(timeout, &request, reach, record).await;
                        }
                        // No second connections: wait on the shared ones, holding them.
                        None => {
                            let request = Request::new(&command, false);
                            this.wait_round(timeout, &request, reach, record).await;
                            drop(request);
                            this.command = command;
                        }
                    }
                }
                Step::Sleep(pause) => {
                    drop(guard);
                    tokio::time::sleep(pause).await;
                }
                Step::Done(output) => return output,
            }
        }
    }

    /// A round that may wait in the masters: connections with an unanswered waiting request
    /// are reopened first, and those left unanswered now are noted.
    async fn wait_round(
        &mut self,
        timeout: Duration,
        request: &Request<'_>,
        reach: Reach,
        on_reply: impl FnMut(usize, Result<Value>) -> ControlFlow<()>,
    ) {
        for (master, outstanding) in self.masters.iter_mut().zip(&self.outstanding) {
            if *outstanding {
                master.reopen_next();
            }
        }
        let replied = round(&mut self.masters, timeout, request, reach, on_reply).await;
        self.outstanding = replied.into_iter().map(|replied| !replied).collect();
    }

    pub(crate) fn len(&self) -> usize {
        self.masters.len()
    }

    /// Whether a round may wait in the masters (`POTTERY.LOCK ... BLOCK` has no script
    /// form): every master found to have the module, but those that could not be reached to
    /// ask (down: a master that comes back without it fails that round).
    pub(crate) fn knows_module(&self) -> bool {
        self.masters.iter().all(AsyncMaster::may_wait)
    }

    /// Whether some master has not found out yet whether it has the module.
    pub(crate) fn must_ask_for_module(&self) -> bool {
        self.masters.iter().any(AsyncMaster::must_ask_for_module)
    }
}

/// Sends `request` to every master concurrently (each in its encoding) and hands each reply to `on_reply(master
/// index, reply)` in the order they arrive, until it returns `Break` (unless every master must
/// be reached) or the per-master timeout is over (masters still silent then get
/// [`Error::Timeout`](crate::Error::Timeout)). Dropping the requests still running is fine for a multiplexed
/// connection, but a request dropped that early may not have been sent.
async fn round(
    masters: &mut [AsyncMaster],
    timeout: Duration,
    request: &Request<'_>,
    reach: Reach,
    mut on_reply: impl FnMut(usize, Result<Value>) -> ControlFlow<()>,
) -> Vec<bool> {
    let round_end = tokio::time::Instant::now() + timeout;
    // Masters the round does not reach count as answered: nothing of theirs is outstanding.
    let mut replied: Vec<bool> = (0..masters.len())
        .map(|index| !reach.includes(index))
        .collect();
    // One master to ask (the only one, or the one the round reaches): nothing to wait for
    // together.
    let single = match reach {
        Reach::Only(index) => Some(index),
        Reach::Decided | Reach::Everyone => (masters.len() == 1).then_some(0),
    };
    if let Some(index) = single {
        if let Some(master) = masters.get_mut(index) {
            let reply = master.request(request, round_end).await;
            let _ = on_reply(master.index(), reply);
            replied[index] = true;
        }
        return replied;
    }
    let mut replies: FuturesUnordered<_> = masters
        .iter_mut()
        .map(|master| async move { (master.index(), master.request(request, round_end).await) })
        .collect();
    while let Some((index, reply)) = replies.next().await {
        if let Some(done) = replied.get_mut(index) {
            *done = true;
        }
        if on_reply(index, reply).is_break() && reach == Reach::Decided {
            break;
        }
    }
    replied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn no_masters_is_an_invalid_argument() {
        let error = AsyncMasters::new(Vec::new(), Duration::from_millis(10)).err();
        assert!(matches!(error, Some(Error::InvalidArgument { .. })));
    }
}
