//! The bounded pool of sync connections that the containers of one connector share.
//!
//! A call takes an idle connection (or opens one while fewer than the pool's size are open),
//! uses it for one round trip and gives it back. When every connection is in use, the call
//! waits for one to come back, at most [`DEFAULT_CONTAINER_TIMEOUT`]. A connection that broke is
//! not given back; since the others to the same server likely broke with it (a restart), the
//! idle ones are dropped as well, and the next calls open fresh ones.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::transport::connector::{
    breaks_connection, into_error, lock, Origin, DEFAULT_CONTAINER_TIMEOUT,
};
use crate::transport::session::Session;

/// Connections a connector opens for sync calls at most, unless told otherwise.
pub(crate) const DEFAULT_POOL_SIZE: usize = 16;

pub(crate) struct Pool {
    state: Mutex<State>,
    returned: Condvar,
    size: AtomicUsize,
}

struct State {
    idle: Vec<Session>,
    /// Connections open, idle or in use.
    open: usize,
    /// Bumped when idle connections are dropped, so that connections in use at that moment
    /// are not given back either.
    generation: u64,
}

impl Pool {
    /// A pool of up to `size` connections, starting with `initial` (an open connection the
    /// user gave, which cannot be reopened) if any.
    pub(crate) fn new(size: usize, initial: Option<Session>) -> Self {
        let open = usize::from(initial.is_some());
        Self {
            state: Mutex::new(State {
                idle: initial.into_iter().collect(),
                open,
                generation: 0,
            }),
            returned: Condvar::new(),
            size: AtomicUsize::new(size),
        }
    }

    pub(crate) fn size(&self) -> usize {
        self.size.load(Ordering::Relaxed)
    }

    pub(crate) fn set_size(&self, size: usize) {
        self.size.store(size, Ordering::Relaxed);
    }

    /// An idle connection, a new one from `origin`, or one given back within the timeout.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionBroken`] when the pool has no connection and cannot open one (it was
    /// given an open connection that broke); [`Error::PoolTimeout`] when every connection
    /// stayed in use; the connect's own errors.
    fn checkout(&self, origin: Option<&Origin>) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + DEFAULT_CONTAINER_TIMEOUT;
        let mut state = lock(&self.state);
        loop {
            if let Some(session) = state.idle.pop() {
                let generation = state.generation;
                return Ok(Pooled::new(self, session, generation));
            }
            if state.open < self.size() {
                let Some(origin) = origin else {
                    return Err(Error::ConnectionBroken);
                };
                state.open += 1;
                let generation = state.generation;
                drop(state);
                return match origin.open() {
                    Ok(session) => Ok(Pooled::new(self, session, generation)),
                    Err(error) => {
                        self.forget_one();
                        Err(error.into())
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::PoolTimeout {
                    size: self.size(),
                    waited: DEFAULT_CONTAINER_TIMEOUT,
                });
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Runs `work` on a pooled connection (see [`checkout`](Self::checkout)). A connection
    /// that `work` left in an unknown state ([`breaks_connection`]) is closed, and so are the
    /// idle ones.
    pub(crate) fn run<T>(
        &self,
        origin: Option<&Origin>,
        work: impl FnOnce(&mut Session) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let mut pooled = self.checkout(origin)?;
        let Some(session) = pooled.session.as_mut() else {
            return Err(Error::ConnectionBroken);
        };
        match work(session) {
            Ok(value) => Ok(value),
            Err(error) => {
                if breaks_connection(&error) {
                    pooled.session = None;
                    self.forget_one();
                    self.drop_idle();
                }
                Err(into_error(error))
            }
        }
    }

    /// Drops every idle connection (after one broke, the others to that server likely did
    /// too), and makes sure those in use now are not given back.
    pub(crate) fn drop_idle(&self) {
        let mut state = lock(&self.state);
        let dropped = std::mem::take(&mut state.idle);
        state.open = state.open.saturating_sub(dropped.len());
        state.generation = state.generation.wrapping_add(1);
        drop(state);
        self.returned.notify_all();
        drop(dropped);
    }

    fn give_back(&self, session: Session, generation: u64) {
        let mut state = lock(&self.state);
        if state.generation == generation && state.open <= self.size() {
            state.idle.push(session);
        } else {
            state.open = state.open.saturating_sub(1);
        }
        drop(state);
        self.returned.notify_one();
    }

    fn forget_one(&self) {
        let mut state = lock(&self.state);
        state.open = state.open.saturating_sub(1);
        drop(state);
        self.returned.notify_one();
    }
}

/// A connection taken from the pool: given back when dropped, unless the call broke it.
struct Pooled<'a> {
    pool: &'a Pool,
    session: Option<Session>,
    generation: u64,
}

impl<'a> Pooled<'a> {
    fn new(pool: &'a Pool, session: Session, generation: u64) -> Self {
        Self {
            pool,
            session: Some(session),
            generation,
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        // Also reached when a call panics: the slot is never lost.
        if let Some(session) = self.session.take() {
            self.pool.give_back(session, self.generation);
        }
    }
}
