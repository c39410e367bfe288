//! The sync fan-out ([`SyncMasters`]): no threads. The command is written to every master first
//! (open connections first, so their requests travel while broken ones reconnect). Masters on
//! pottery's own sockets ([`crate::transport::socket`], the usual case) are then waited for
//! together with `poll(2)`, and each reply goes to the machine as soon as it is complete, in
//! arrival order; a round with a single master waits with one blocking read instead (one
//! system call fewer per reply). Masters behind a `redis::Connection` (given open, or TLS) can
//! only be read with blocking reads, one after another: those with a backlog of stale replies
//! before the polled ones, the others after them. A Redis Cluster as a master cannot split a
//! request from its reply: its request runs whole, right after every request was written.
//! Replies left unread when the round stops early are skipped before the connection's next
//! reply; a connection with several of them is read to the end of its backlog even once the
//! outcome is decided (see [`SyncMaster::must_drain`]).

use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::Value;
use rustix::event::{PollFd, PollFlags, Timespec};

use crate::error::Result;
use crate::transport::connector::lock;
use crate::transport::master::Master;
use crate::transport::quorum::{resolve, Machine, Reach, Step};
use crate::transport::sync_master::{Reading, Request, SyncMaster, READ_PASSES};

/// The masters of a sync type, the per-master timeout, and the buffers of a round's command.
pub(crate) struct SyncMasters {
    masters: Vec<SyncMaster>,
    timeout: Duration,
    /// The command a machine writes, and its encodings: kept from round to round.
    command: redis::Cmd,
    request: Request,
}

impl SyncMasters {
    /// Validates and resolves `masters` (at least one; URLs must parse). Connects nothing.
    pub(crate) fn new(masters: Vec<Master>, timeout: Duration) -> Result<Self> {
        let masters = resolve(masters, |master, index| master.into_sync(index, timeout))?;
        Ok(Self {
            masters,
            timeout,
            command: redis::Cmd::new(),
            request: Request::default(),
        })
    }

    /// Drives `machine` to its end: the sync loop. The masters are locked for one round at a
    /// time, so that clones sharing them (a guard's renewal thread) take turns between rounds
    /// and never wait out a pause.
    pub(crate) fn run<M: Machine>(masters: &Mutex<Self>, machine: M) -> M::Output {
        Self::run_waiting(masters, None, machine)
    }

    /// [`run`](Self::run), with `waits` (the second connections, held by the caller for the
    /// whole call) for the rounds that wait in the masters ([`Step::Wait`]): `masters` is not
    /// locked while they wait, so releases and renewals go on.
    pub(crate) fn run_waiting<M: Machine>(
        masters: &Mutex<Self>,
        mut waits: Option<&mut Self>,
        mut machine: M,
    ) -> M::Output {
        loop {
            let mut guard = lock(masters);
            let this = &mut *guard;
            this.command.clear();
            match machine.step(&mut this.command) {
                Step::Round(reach) => {
                    let scripts = this.masters.iter().any(SyncMaster::may_send_scripts);
                    let mut request = std::mem::take(&mut this.request);
                    request.pack(&this.command, scripts);
                    // A script sent by hash is not carried out until its master's reply says
                    // so (it may be `NOSCRIPT`, to be sent again whole): a round that must
                    // reach every master then reads every reply, as the async driver does.
                    let read_all = reach == Reach::Everyone && scripts && request.is_scripted();
                    this.round(&request, Duration::ZERO, |_, reply| {
                        match machine.record(reply) {
                            ControlFlow::Break(()) if read_all => ControlFlow::Continue(()),
                            flow => flow,
                        }
                    });
                    this.request = request;
                }
                Step::Wait(reach, wait) => {
                    let record = |_, reply| machine.record(reply);
                    // Only rounds on masters known to have the module wait (see
                    // `SyncMasters::knows_module`): the module command, never its script.
                    match waits.as_deref_mut() {
                        Some(lane) => {
                            let mut request = std::mem::take(&mut lane.request);
                            request.pack(&this.command, false);
                            drop(guard);
                            lane.round_reaching(reach, &request, wait, record);
                            lane.request = request;
                        }
                        // No second connections: wait on the shared ones, holding them.
                        None => {
                            let mut request = std::mem::take(&mut this.request);
                            request.pack(&this.command, false);
                            this.round_reaching(reach, &request, wait, record);
                            this.request = request;
                        }
                    }
                }
                Step::Sleep(pause) => {
                    drop(guard);
                    std::thread::sleep(pause);
                }
                Step::Done(output) => return output,
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.masters.len()
    }

    /// Whether a round may wait in the masters (`POTTERY.LOCK ... BLOCK` has no script
    /// form): every master found to have the module, but those that could not be reached to
    /// ask (down: a master that comes back without it fails that round).
    pub(crate) fn knows_module(&self) -> bool {
        self.masters.iter().all(SyncMaster::may_wait)
    }

    /// Whether some master has not found out yet whether it has the module.
    pub(crate) fn must_ask_for_module(&self) -> bool {
        self.masters.iter().any(SyncMaster::must_ask_for_module)
    }

    /// Sends `request` to every master (each in its encoding) and hands each master's reply,
    /// in the module command's shape, to `on_reply(master index, reply)` until it returns
    /// `Break`. Waits at most the per-master timeout plus `wait` (how long the command may wait
    /// in a master) for replies (a master that must be reconnected first shares that time). A
    /// request still waiting in a master when the round ends stays there until the caller's
    /// release (`POTTERY.UNLOCK` with its token) answers it; the next waiting round closes such
    /// a connection first (see [`SyncMaster::drop_if_outstanding`]).
    pub(crate) fn round(
        &mut self,
        request: &Request,
        wait: Duration,
        on_reply: impl FnMut(usize, Result<Value>) -> ControlFlow<()>,
    ) {
        self.round_reaching(Reach::Decided, request, wait, on_reply);
    }

    /// [`round`](Self::round) on the masters `reach` includes (the others are not sent
    /// anything).
    pub(crate) fn round_reaching(
        &mut self,
        reach: Reach,
        request: &Request,
        wait: Duration,
        mut on_reply: impl FnMut(usize, Result<Value>) -> ControlFlow<()>,
    ) {
        if !wait.is_zero() {
            for master in &mut self.masters {
                if reach.includes(master.index()) {
                    master.drop_if_outstanding();
                }
            }
        }
        let round_end = Instant::now() + self.timeout + wait;
        let _ = self.send_and_receive(reach, request, round_end, &mut on_reply);
        for master in &mut self.masters {
            master.in_round = false;
            master.abandon();
        }
    }

    fn send_and_receive(
        &mut self,
        reach: Reach,
        request: &Request,
        round_end: Instant,
        on_reply: &mut impl FnMut(usize, Result<Value>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        // Open connections first: their requests are on the wire while the others reconnect.
        for connected_pass in [true, false] {
            for master in &mut self.masters {
                if master.in_round
                    || master.is_connected() != connected_pass
                    || !reach.includes(master.index())
                {
                    continue;
                }
                master.in_round = true;
                if let Err(error) = master.send(request, round_end) {
                    on_reply(master.index(), Err(error))?;
                }
            }
        }
        // A cluster's request runs whole, while the others' requests are on their way.
        for master in &mut self.masters {
            if master.is_awaiting() && master.reading() == Reading::Request {
                let reply = master.request(request);
                on_reply(master.index(), master.finish(request, reply))?;
            }
        }
        let blocking =
            |master: &SyncMaster| master.is_awaiting() && master.reading() == Reading::Blocking;
        for pass in READ_PASSES {
            // Blocking reads with a backlog (pass 0) go first, so that they are drained (see
            // `read_pass`); then the own sockets, read as their replies come.
            if pass == 1 {
                self.poll_own_sockets(request, round_end, on_reply)?;
            }
            for master in &mut self.masters {
                if blocking(master) && master.read_pass() == pass {
                    let reply = master.receive(request, round_end);
                    on_reply(master.index(), master.finish(request, reply))?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Waits for the masters on own sockets until each has replied or failed, or the round
    /// ends, handing every reply to `on_reply` as it completes. Once `on_reply` says `Break`,
    /// only masters that must drain their backlog are still read, and `on_reply` is not called
    /// again.
    fn poll_own_sockets(
        &mut self,
        request: &Request,
        round_end: Instant,
        on_reply: &mut impl FnMut(usize, Result<Value>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut decided = false;
        let mut readable = Vec::new();
        loop {
            let mut waiting = self
                .masters
                .iter()
                .filter(|master| waits_for(master, decided));
            let (Some(first), second) = (waiting.next(), waiting.next()) else {
                break;
            };
            if second.is_none() {
                // One master left to wait for: a blocking read (with the socket's read
                // timeout) costs one system call fewer than poll and read.
                let index = first.index();
                let master = &mut self.masters[index];
                let reply = master.receive(request, round_end);
                if !decided {
                    decided = on_reply(index, master.finish(request, reply)).is_break();
                }
                break;
            }
            let left = round_end.saturating_duration_since(Instant::now());
            readable.clear();
            self.poll(left, decided, &mut readable);
            for &index in &readable {
                let master = &mut self.masters[index];
                if let Some(reply) = master.read_available(request) {
                    if !decided {
                        decided = on_reply(index, master.finish(request, reply)).is_break();
                    }
                }
            }
            if left.is_zero() {
                // That was the last look, for replies that arrived in time: the masters still
                // waited for timed out (a master trickling bytes cannot stretch the round).
                for master in &mut self.masters {
                    if waits_for(master, decided) {
                        let error = master.time_out();
                        if !decided {
                            decided = on_reply(master.index(), Err(error)).is_break();
                        }
                    }
                }
                break;
            }
        }
        if decided {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// Polls the own sockets waited for, for at most `left`, and lists the masters whose
    /// socket is readable (or closed, or failed: the read finds out which) in `readable`,
    /// which must be empty.
    fn poll(&self, left: Duration, decided: bool, readable: &mut Vec<usize>) {
        // `readable` lists the polled masters, in the order of `fds`, until poll says which.
        let mut fds = Vec::with_capacity(self.masters.len());
        for master in &self.masters {
            if let Some(fd) = master.pollable().filter(|_| waits_for(master, decided)) {
                fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
                readable.push(master.index());
            }
        }
        // A day or less always converts; the round's timeout is far shorter.
        let timeout = Timespec::try_from(left.min(Duration::from_secs(86_400))).unwrap_or_default();
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(_) => {
                let mut ready = fds.iter().map(|fd| !fd.revents().is_empty());
                readable.retain(|_| ready.next().unwrap_or(false));
            }
            // Interrupted by a signal: the caller polls again with the time left.
            Err(rustix::io::Errno::INTR) => readable.clear(),
            // Poll itself failed (out of memory): let non-blocking reads find out, one by one.
            Err(_) => {}
        }
    }
}

/// Whether a round still waits for `master` on its own socket: it has not replied yet, and the
/// outcome is not `decided` or the master must drain its backlog anyway.
fn waits_for(master: &SyncMaster, decided: bool) -> bool {
    master.is_awaiting() && master.pollable().is_some() && (!decided || master.must_drain())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn no_masters_is_an_invalid_argument() {
        let error = SyncMasters::new(Vec::new(), Duration::from_millis(10)).err();
        assert!(matches!(
            error,
            Some(Error::InvalidArgument {
                argument: "masters",
                ..
            })
        ));
    }

    #[test]
    fn a_round_reports_every_unreachable_master() {
        let masters = [
            "redis://127.0.0.1:1/",
            "redis://127.0.0.1:2/",
            "redis://127.0.0.1:3/",
        ]
        .into_iter()
        .map(Master::from)
        .collect();
        let Ok(mut masters) = SyncMasters::new(masters, Duration::from_millis(50)) else {
            panic!("valid urls");
        };
        let mut seen = Vec::new();
        masters.round(
            &Request::plain(b"*1\r\n$4\r\nPING\r\n"),
            Duration::ZERO,
            |index, reply| {
                seen.push((index, reply.is_err()));
                ControlFlow::Continue(())
            },
        );
        assert_eq!(seen, [(0, true), (1, true), (2, true)]);

        // A callback that stops early is not called again in that round.
        let mut calls = 0;
        masters.round(
            &Request::plain(b"*1\r\n$4\r\nPING\r\n"),
            Duration::ZERO,
            |_, _| {
                calls += 1;
                ControlFlow::Break(())
            },
        );
        assert_eq!(calls, 1);
    }
}
