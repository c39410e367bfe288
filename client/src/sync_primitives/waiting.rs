//! Waiting for a semaphore or a lock: in the server's queue (`BLOCK`, the default), or by
//! polling. Each attempt is one command; the loop here decides what the next one is.
//!
//! Waiting in the queue, an attempt asks the module to park it for a slice of the time left
//! (at most half the TTL, because a hold's validity counts from the request), over a dedicated
//! connection so it never holds up the connector's shared ones; a refusal at the end of a
//! slice queues again at once. Polling, attempts are separated by random pauses (jitter, so
//! waiting clients do not retry in lockstep), as Redlock's `blocking(false)` waits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::face::operation::Operation;
use crate::redlock::timing::wait_slice;
use crate::sync_primitives::Timing;

/// One attempt, waiting in the server's queue for up to the given slice (`None`: answer at
/// once): `Some` when it got what it wanted.
pub(crate) type Attempt<T> = Arc<dyn Fn(Option<Duration>) -> Operation<Option<T>> + Send + Sync>;

/// Runs `attempt` until it succeeds or `timeout` is over (one attempt for a zero timeout):
/// waiting in the server's queue if `timing.blocking`, else polling with a random
/// `0..retry_delay` pause between attempts. `None` if no attempt succeeded.
pub(crate) fn wait<T: Send + 'static>(
    attempt: Attempt<T>,
    timeout: Duration,
    timing: Timing,
) -> Operation<Option<T>> {
    let deadline = Instant::now().checked_add(timeout);
    if timing.blocking && !timeout.is_zero() {
        queue(attempt, deadline, timing.ttl)
    } else {
        poll(attempt, deadline, timing.retry_delay)
    }
}

/// How long the next attempt waits in the queue with the time until `deadline` left (`None`:
/// no deadline).
fn slice(deadline: Option<Instant>, ttl: Duration) -> Option<Duration> {
    let left = deadline.map_or(Duration::MAX, |deadline| {
        deadline.saturating_duration_since(Instant::now())
    });
    wait_slice(left, ttl)
}

fn queue<T: Send + 'static>(
    attempt: Attempt<T>,
    deadline: Option<Instant>,
    ttl: Duration,
) -> Operation<Option<T>> {
    let Some(wait) = slice(deadline, ttl) else {
        // No time left to queue: one last answer-at-once attempt.
        return attempt(None);
    };
    attempt(Some(wait)).and_then_send(move |got| {
        if got.is_some() {
            return Operation::done(Ok(got));
        }
        queue(attempt, deadline, ttl)
    })
}

fn poll<T: Send + 'static>(
    attempt: Attempt<T>,
    deadline: Option<Instant>,
    retry_delay: Duration,
) -> Operation<Option<T>> {
    attempt(None).and_then_send(move |got| {
        if got.is_some() {
            return Operation::done(Ok(got));
        }
        let pause = jitter(retry_delay);
        let resume = Instant::now().checked_add(pause);
        match (resume, deadline) {
            (Some(resume), Some(deadline)) if resume < deadline => {
                Operation::pause(pause, move || poll(attempt, Some(deadline), retry_delay))
            }
            // No deadline (a timeout too large for the clock): wait for ever.
            (_, None) => Operation::pause(pause, move || poll(attempt, None, retry_delay)),
            _ => Operation::done(Ok(None)),
        }
    })
}

/// A random pause in `0..retry_delay` (at least 1 ms, so polling never spins).
fn jitter(retry_delay: Duration) -> Duration {
    let most = retry_delay.max(Duration::from_millis(1));
    rand::rng().random_range(Duration::from_millis(1).min(most)..=most)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_at_most_half_the_ttl_and_end_with_the_deadline() {
        let ttl = Duration::from_secs(10);
        let far = Instant::now().checked_add(Duration::from_secs(60));
        assert_eq!(slice(far, ttl), Some(Duration::from_secs(5)));
        assert_eq!(slice(None, ttl), Some(Duration::from_secs(5)));
        let near = Instant::now().checked_add(Duration::from_secs(2));
        assert!(slice(near, ttl).is_some_and(|wait| wait <= Duration::from_secs(2)));
        assert_eq!(slice(Some(Instant::now()), ttl), None);
        // A TTL under 2 ms leaves no slice: such holds are attempted once, not queued.
        assert_eq!(slice(None, Duration::from_millis(1)), None);
    }
}
