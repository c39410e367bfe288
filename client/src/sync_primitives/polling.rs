//! Waiting for a semaphore or a lock by polling: attempts separated by random pauses (jitter,
//! so waiting clients do not retry in lockstep) until one succeeds or the deadline passes, as
//! Redlock's single-master path waits. Each attempt is one non-blocking command, so a blocking
//! variant (the server waking waiters) can replace this loop without changing the attempts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::face::operation::Operation;

/// One attempt: `Some` when it got what it wanted.
pub(crate) type Attempt<T> = Arc<dyn Fn() -> Operation<Option<T>> + Send + Sync>;

/// Runs `attempt` until it succeeds or `timeout` is over (one attempt for a zero timeout),
/// pausing a random `0..retry_delay` between attempts. `None` if no attempt succeeded.
pub(crate) fn poll<T: Send + 'static>(
    attempt: Attempt<T>,
    timeout: Duration,
    retry_delay: Duration,
) -> Operation<Option<T>> {
    let deadline = Instant::now().checked_add(timeout);
    again(attempt, deadline, retry_delay)
}

fn again<T: Send + 'static>(
    attempt: Attempt<T>,
    deadline: Option<Instant>,
    retry_delay: Duration,
) -> Operation<Option<T>> {
    attempt().and_then_send(move |got| {
        if got.is_some() {
            return Operation::done(Ok(got));
        }
        let pause = jitter(retry_delay);
        let resume = Instant::now().checked_add(pause);
        match (resume, deadline) {
            (Some(resume), Some(deadline)) if resume < deadline => {
                Operation::pause(pause, move || again(attempt, Some(deadline), retry_delay))
            }
            // No deadline (a timeout too large for the clock): wait for ever.
            (_, None) => Operation::pause(pause, move || again(attempt, None, retry_delay)),
            _ => Operation::done(Ok(None)),
        }
    })
}

/// A random pause in `0..retry_delay` (at least 1 ms, so polling never spins).
fn jitter(retry_delay: Duration) -> Duration {
    let most = retry_delay.max(Duration::from_millis(1));
    rand::rng().random_range(Duration::from_millis(1).min(most)..=most)
}
