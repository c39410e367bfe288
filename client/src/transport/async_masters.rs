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
}

impl AsyncMasters {
    /// Validates and resolves `masters` (at least one; URLs must parse). Connects nothing.
    pub(crate) fn new(masters: Vec<Master>, timeout: Duration) -> Result<Self> {
        let masters = resolve(masters, |master, index| master.into_async(index, timeout))?;
        Ok(Self {
            masters,
            timeout,
            command: redis::Cmd::new(),
        })
    }

    /// Drives `machine` to its end: the async loop. The masters are locked for one round at a
    /// time, so that clones sharing them (a guard's renewal task) take turns between rounds.
    pub(crate) async fn run<M: Machine>(masters: &Mutex<Self>, mut machine: M) -> M::Output {
        loop {
            let mut guard = masters.lock().await;
            let this = &mut *guard;
            this.command.clear();
            match machine.step(&mut this.command) {
                Step::Round(reach) => {
                    let scripts = this.masters.iter().any(AsyncMaster::may_send_scripts);
                    let request = Request::new(&this.command, scripts);
                    let record = |_, reply| machine.record(reply);
                    round(&mut this.masters, this.timeout, &request, reach, record).await;
                }
                Step::Sleep(pause) => {
                    drop(guard);
                    tokio::time::sleep(pause).await;
                }
                Step::Done(output) => return output,
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.masters.len()
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
) {
    let round_end = tokio::time::Instant::now() + timeout;
    if let [master] = masters {
        // One master: nothing to wait for together.
        let reply = master.request(request, round_end).await;
        let _ = on_reply(master.index(), reply);
        return;
    }
    let mut replies: FuturesUnordered<_> = masters
        .iter_mut()
        .map(|master| async move { (master.index(), master.request(request, round_end).await) })
        .collect();
    while let Some((index, reply)) = replies.next().await {
        if on_reply(index, reply).is_break() && reach == Reach::Decided {
            break;
        }
    }
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
