//! The arithmetic of a hold with a TTL, shared by Redlock and the single-master synchronizers
//! (`Semaphore`, `RwLock`): how long it is surely held, how often to renew it, and how long one
//! attempt may wait in the server's queue.

use std::time::{Duration, Instant};

/// The clock-drift allowance of a hold of `ttl`: 1% of the TTL + 2 ms.
pub(crate) fn drift(ttl: Duration) -> Duration {
    ttl / 100 + Duration::from_millis(2)
}

/// Until when a hold of `ttl` granted by a request sent at `start` is surely held, if ever.
pub(crate) fn valid_until(ttl: Duration, start: Instant) -> Option<Instant> {
    let until = start.checked_add(ttl.checked_sub(drift(ttl))?)?;
    (until > Instant::now()).then_some(until)
}

/// How often auto-renewal extends a hold of `ttl`: a third of the TTL.
pub(crate) fn renew_every(ttl: Duration) -> Duration {
    (ttl / 3).max(Duration::from_millis(1))
}

/// How long one waiting attempt may wait with `left` until its deadline: at most half of
/// `ttl`, because the validity counts from the request; `None` when that is under a
/// millisecond (a plain attempt then).
pub(crate) fn wait_slice(left: Duration, ttl: Duration) -> Option<Duration> {
    let slice = left.min(ttl / 2);
    (slice >= Duration::from_millis(1)).then_some(slice)
}

/// Appends `BLOCK ms` (whole milliseconds, at least 1: `BLOCK 0` would wait for ever) to a
/// command that waits in the server's queue for up to `wait`; nothing for `None`.
pub(crate) fn block_argument(command: &mut redis::Cmd, wait: Option<Duration>) {
    if let Some(wait) = wait {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        command.arg("BLOCK").arg(ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_at_most_half_the_ttl() {
        let ttl = Duration::from_secs(10);
        assert_eq!(wait_slice(Duration::MAX, ttl), Some(Duration::from_secs(5)));
        assert_eq!(
            wait_slice(Duration::from_secs(2), ttl),
            Some(Duration::from_secs(2))
        );
        assert_eq!(wait_slice(Duration::from_micros(900), ttl), None);
        // A TTL under 2 ms leaves no slice.
        assert_eq!(wait_slice(Duration::MAX, Duration::from_millis(1)), None);
    }

    #[test]
    fn a_waiting_attempt_asks_for_block_in_whole_milliseconds() {
        let mut command = redis::cmd("POTTERY.SEM.ACQUIRE");
        block_argument(&mut command, Some(Duration::from_micros(1500)));
        block_argument(&mut command, None);
        let args: Vec<_> = command
            .args_iter()
            .map(|arg| match arg {
                redis::Arg::Simple(bytes) => bytes.to_vec(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(args[1..], [b"BLOCK".to_vec(), b"1".to_vec()]);
    }
}
