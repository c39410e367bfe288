//! The state the calls on one connection share, and a call's wait for its replies: the
//! caller-driven multiplexing described in [`super`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use redis::{ErrorKind, RedisError, RedisResult, Value};
use tokio::time::{Instant, Sleep};

use super::Stream;
use crate::transport::connector::lock;
use crate::transport::resp::ReplyParser;
use crate::transport::socket::Handshake;

/// Bytes read in one system call at least; the read buffer grows only for a reply that does
/// not fit.
const READ_CHUNK: usize = 4096;

/// A deadline that never comes, for a timeout beyond what an `Instant` can hold.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A read buffer this large is given back once it is empty again.
const KEEP_READ_BUFFER: usize = 1 << 20;

/// Who is waiting for a slot's replies.
enum Owner {
    /// A call, woken through its waker once the replies are in (or the connection broke).
    Waiting(Option<Waker>),
    /// Nobody: the call was dropped; its replies are discarded.
    Abandoned,
    /// The replies are in; the call has not taken them yet.
    Done(RedisResult<Vec<Value>>),
    /// The call took its result: the slot only waits to leave the queue.
    Gone,
}

/// The replies one request is owed, in the queue of pending requests.
struct Slot {
    /// When the call fails if its replies are not in (and the connection breaks).
    deadline: Instant,
    /// Replies still to skip before those kept (a transaction's `MULTI` and `QUEUED`s).
    skip: usize,
    /// Replies to keep.
    count: usize,
    replies: Vec<Value>,
    /// The first server error among the skipped replies: a transaction that did not run.
    aborted: Option<RedisError>,
    owner: Owner,
}

/// Everything the calls on one connection share.
pub(super) struct State {
    stream: Stream,
    /// Bytes to write; those before `sent` are written.
    out: Vec<u8>,
    sent: usize,
    /// Bytes read; `start..end` are not parsed yet (at most a reply's beginning).
    inbox: Vec<u8>,
    start: usize,
    end: usize,
    parser: ReplyParser,
    handshake: Handshake,
    /// The requests whose replies are not taken yet, oldest first; slot `id` is at
    /// `id - first`.
    slots: VecDeque<Slot>,
    first: u64,
    /// The slot the next reply is for (`first + slots.len()` when none is owed).
    receiving: u64,
    /// The call that reads now, if any.
    reader: Option<u64>,
    /// Why the connection broke, as every later call reports it.
    broken: Option<RedisError>,
    /// No waiting call's deadline is before this (`None`: no call to watch). Kept low rather
    /// than exact, so that the timer is set again only when it fires, not for every call.
    alarm: Option<Instant>,
    /// The timer the reader waits on beside the socket, set for `alarm`.
    timer: Option<Pin<Box<Sleep>>>,
}

impl State {
    pub(super) fn new(stream: Stream, handshake: &[u8], replies: Handshake) -> Self {
        Self {
            stream,
            out: handshake.to_vec(),
            sent: 0,
            inbox: Vec::new(),
            start: 0,
            end: 0,
            parser: ReplyParser::default(),
            handshake: replies,
            slots: VecDeque::new(),
            first: 0,
            receiving: 0,
            reader: None,
            broken: None,
            alarm: None,
            timer: None,
        }
    }

    /// Whether the connection broke: no call can succeed on it any more.
    pub(super) fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// Waits (as the reader) until `alarm`: once it comes, fails the calls whose deadline
    /// passed and breaks the connection if there are any (their replies may still come).
    /// `Pending` while no deadline passed.
    fn watch(&mut self, context: &mut Context<'_>) -> Poll<()> {
        loop {
            let Some(alarm) = self.alarm else {
                return Poll::Pending;
            };
            match &mut self.timer {
                Some(timer) if timer.deadline() == alarm => {}
                Some(timer) => timer.as_mut().reset(alarm),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(alarm))),
            }
            if let Some(timer) = &mut self.timer {
                ready!(timer.as_mut().poll(context));
            }
            let now = Instant::now();
            let mut late = false;
            let mut next = None::<Instant>;
            for slot in &mut self.slots {
                if !matches!(slot.owner, Owner::Waiting(_)) {
                    continue;
                }
                if slot.deadline <= now {
                    late = true;
                    let timed_out = io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the Redis server did not reply in time",
                    );
                    let owner = Owner::Done(Err(timed_out.into()));
                    if let Owner::Waiting(Some(waker)) = std::mem::replace(&mut slot.owner, owner) {
                        waker.wake();
                    }
                } else {
                    next = Some(next.map_or(slot.deadline, |next| next.min(slot.deadline)));
                }
            }
            self.alarm = next;
            if late {
                self.break_with(aborted("an earlier reply timed out"));
                return Poll::Ready(());
            }
        }
    }
    fn slot(&mut self, id: u64) -> Option<&mut Slot> {
        let index = usize::try_from(id.checked_sub(self.first)?).ok()?;
        self.slots.get_mut(index)
    }

    /// Drops the slots at the head of the queue whose calls are done with them.
    fn pop_gone(&mut self) {
        while self
            .slots
            .front()
            .is_some_and(|slot| matches!(slot.owner, Owner::Gone))
        {
            self.slots.pop_front();
            self.first += 1;
        }
    }

    /// Writes what the socket takes of the out buffer. When it takes no more, `context` is
    /// woken once it does.
    fn flush(&mut self, context: &mut Context<'_>) -> Result<(), RedisError> {
        while self.sent < self.out.len() {
            match self.stream.poll_write(context, &self.out[self.sent..]) {
                Poll::Ready(Ok(0)) => return Err(broken_by(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(written)) => self.sent += written,
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(error)) => return Err(broken_by(error)),
                Poll::Pending => return Ok(()),
            }
        }
        self.out.clear();
        self.sent = 0;
        Ok(())
    }

    /// Reads once from the socket and hands out every reply completed by what came.
    fn read(&mut self, context: &mut Context<'_>) -> Poll<Result<(), RedisError>> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.inbox.len() > KEEP_READ_BUFFER {
                self.inbox = Vec::new();
            }
        }
        if self.end == self.inbox.len() {
            if self.start > 0 {
                self.inbox.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = (self.inbox.len() * 2).max(READ_CHUNK);
                self.inbox.resize(grown, 0);
            }
        }
        let read = match ready!(self.stream.poll_read(context, &mut self.inbox[self.end..])) {
            Ok(0) => {
                let closed = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the Redis server closed the connection",
                );
                return Poll::Ready(Err(closed.into()));
            }
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => 0,
            Err(error) => return Poll::Ready(Err(broken_by(error))),
        };
        self.end += read;
        loop {
            let (used, reply) = self
                .parser
                .parse(&self.inbox[self.start..self.end])
                .map_err(|error| aborted(RedisError::from(error)))?;
            self.start += used;
            match reply {
                Some(reply) => self.deliver(reply)?,
                None => return Poll::Ready(Ok(())),
            }
        }
    }

    /// Gives `reply` to the slot it answers (after the handshake's).
    fn deliver(&mut self, reply: Value) -> Result<(), RedisError> {
        let Some(reply) = self.handshake.accept(reply)? else {
            return Ok(());
        };
        let receiving = self.receiving;
        let Some(slot) = self.slot(receiving) else {
            return Err(aborted("the Redis server sent a reply nobody asked for"));
        };
        if slot.skip > 0 {
            slot.skip -= 1;
            if let (Value::ServerError(error), None) = (reply, &slot.aborted) {
                slot.aborted = Some(error.into());
            }
        } else {
            slot.replies.push(reply);
        }
        if slot.skip > 0 || slot.replies.len() < slot.count {
            return Ok(());
        }
        let result = match slot.aborted.take() {
            Some(error) => Err(error),
            None => Ok(std::mem::take(&mut slot.replies)),
        };
        match std::mem::replace(&mut slot.owner, Owner::Gone) {
            Owner::Waiting(waker) => {
                slot.owner = Owner::Done(result);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Owner::Abandoned | Owner::Done(_) | Owner::Gone => {}
        }
        self.receiving += 1;
        self.pop_gone();
        Ok(())
    }

    /// Wakes the call that should drive the socket now: the reader, or else the oldest call
    /// still waiting (which becomes the reader when it runs).
    fn wake_driver(&mut self) {
        let from = match self.reader {
            Some(reader) => reader,
            None => self.receiving,
        };
        let skip = usize::try_from(from.saturating_sub(self.first)).unwrap_or(usize::MAX);
        for slot in self.slots.iter().skip(skip) {
            if let Owner::Waiting(Some(waker)) = &slot.owner {
                waker.wake_by_ref();
                return;
            }
        }
    }

    /// Marks the connection broken by `error` and wakes every waiting call.
    pub(super) fn break_with(&mut self, error: RedisError) {
        if self.broken.is_some() {
            return;
        }
        self.broken = Some(error);
        self.stream.shutdown();
        for slot in &mut self.slots {
            if let Owner::Waiting(waker) = &mut slot.owner {
                if let Some(waker) = waker.take() {
                    waker.wake();
                }
            }
        }
    }
}

/// A connection-level error from the socket: as it is when the `redis` crate sees it as a
/// dropped connection, else one that says the connection broke.
fn broken_by(error: io::Error) -> RedisError {
    let error = RedisError::from(error);
    if error.is_unrecoverable_error() {
        error
    } else {
        aborted(error)
    }
}

/// The I/O error every call gets on a connection that broke for `why`.
fn aborted(why: impl fmt::Display) -> RedisError {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        format!("the connection to the Redis server broke: {why}"),
    )
    .into()
}

/// One request's wait for its replies.
pub(super) struct Call {
    shared: Arc<Mutex<State>>,
    place: Place,
}

/// Where a call stands.
struct Place {
    /// Its slot.
    id: u64,
    /// Whether it is the reader.
    reading: bool,
    /// Whether it returned its result.
    finished: bool,
}

impl Call {
    /// Queues the request `write` packs, owed `skip + count` replies within `timeout`.
    /// Nothing is written until the call is polled.
    pub(super) fn start(
        shared: &Arc<Mutex<State>>,
        write: impl FnOnce(&mut Vec<u8>),
        skip: usize,
        count: usize,
        timeout: Duration,
    ) -> RedisResult<Self> {
        let mut state = lock(shared);
        if let Some(error) = &state.broken {
            return Err(error.clone());
        }
        if state.sent == state.out.len() {
            state.out.clear();
            state.sent = 0;
        }
        let before = state.out.len();
        write(&mut state.out);
        if state.out.len() == before || skip + count == 0 {
            state.out.truncate(before);
            return Err((ErrorKind::Client, "empty command").into());
        }
        let id = state.first + state.slots.len() as u64;
        let now = Instant::now();
        // A timeout past what an `Instant` holds is as good as none.
        let deadline = now.checked_add(timeout).unwrap_or(now + NEVER);
        state.alarm = Some(state.alarm.map_or(deadline, |alarm| alarm.min(deadline)));
        state.slots.push_back(Slot {
            deadline,
            skip,
            count,
            replies: Vec::with_capacity(count),
            aborted: None,
            owner: Owner::Waiting(None),
        });
        Ok(Self {
            shared: Arc::clone(shared),
            place: Place {
                id,
                reading: false,
                finished: false,
            },
        })
    }
}

impl Place {
    /// Takes the result if the replies are in.
    fn take(&mut self, state: &mut State) -> Option<RedisResult<Vec<Value>>> {
        let owner = &mut state.slot(self.id)?.owner;
        if !matches!(owner, Owner::Done(_)) {
            return None;
        }
        let Owner::Done(result) = std::mem::replace(owner, Owner::Gone) else {
            return None;
        };
        state.pop_gone();
        self.finish(state);
        Some(result)
    }

    /// The error of a call on a broken connection; its slot is abandoned.
    fn give_up(&mut self, state: &mut State) -> RedisError {
        self.abandon(state);
        state
            .broken
            .clone()
            .unwrap_or_else(|| aborted("the connection broke"))
    }

    /// Leaves the slot's replies to be discarded (or drops a result not taken).
    fn abandon(&mut self, state: &mut State) {
        if let Some(slot) = state.slot(self.id) {
            match slot.owner {
                Owner::Done(_) => {
                    slot.owner = Owner::Gone;
                    state.pop_gone();
                }
                _ => slot.owner = Owner::Abandoned,
            }
        }
        self.finish(state);
    }

    /// Gives up the reader role, and wakes whoever must drive the socket next.
    fn finish(&mut self, state: &mut State) {
        self.finished = true;
        if self.reading {
            self.reading = false;
            state.reader = None;
            state.wake_driver();
        } else if state.sent < state.out.len() {
            // This call may be the one waiting for the socket to take more bytes.
            state.wake_driver();
        }
    }
}

impl Future for Call {
    type Output = RedisResult<Vec<Value>>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let place = &mut this.place;
        let mut guard = lock(&this.shared);
        let state = &mut *guard;
        loop {
            if let Some(result) = place.take(state) {
                return Poll::Ready(result);
            }
            if state.broken.is_some() {
                return Poll::Ready(Err(place.give_up(state)));
            }
            let Some(slot) = state.slot(place.id) else {
                // Unreachable: a slot leaves the queue only once its call took the result.
                place.finish(state);
                return Poll::Ready(Err(aborted("a reply slot went missing")));
            };
            match &mut slot.owner {
                Owner::Waiting(Some(waker)) if waker.will_wake(context.waker()) => {}
                owner => *owner = Owner::Waiting(Some(context.waker().clone())),
            }
            if let Err(error) = state.flush(context) {
                state.break_with(error);
                continue;
            }
            if state.reader.is_none() {
                state.reader = Some(place.id);
                place.reading = true;
            }
            if !place.reading {
                return Poll::Pending;
            }
            match state.read(context) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => state.break_with(error),
                Poll::Pending => {
                    if state.watch(context).is_pending() {
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.place.finished {
            self.place.abandon(&mut lock(&self.shared));
        }
    }
}
