//! Semaphores with expiring permits: the decisions of the `POTTERY.SEM.*` commands.
//!
//! A semaphore is a hash in the [`holders`](crate::holders) layout: field = holder, value =
//! `<permits>:<expires_at_ms>`, and the metadata field (the empty name) = the limit. The limit
//! lives as long as the semaphore has a live holder; a caller passing a different limit while
//! it does gets an error, so two programs cannot disagree about one semaphore silently.

use crate::error::CommandError;
use crate::holders::{ms_left, Changes, Holders, Queue, Table};
use crate::integer::{format_i64, parse_i64, MAX_I64_DIGITS};

/// The reply for a hash that is not a semaphore in this layout.
pub const NOT_A_SEMAPHORE: CommandError =
    CommandError::Reply("WRONGTYPE Key is not a valid pottery semaphore");

const LIMIT_MISMATCH: CommandError = CommandError::Argument {
    argument: "limit",
    problem: "does not match the semaphore's limit",
};

/// Parses `limit`: an integer ≥ 1.
///
/// ```
/// use pottery_core::semaphore::limit;
/// assert_eq!(limit(b"3"), Ok(3));
/// assert_eq!(limit(b"0").unwrap_err().to_string(), "ERR limit: must be positive");
/// ```
pub fn limit(raw: &[u8]) -> Result<i64, CommandError> {
    match parse_i64(raw) {
        None => Err(CommandError::NotAnInteger),
        Some(limit) if limit >= 1 => Ok(limit),
        Some(_) => Err(CommandError::Argument {
            argument: "limit",
            problem: "must be positive",
        }),
    }
}

/// Parses `permits`: an integer in 1..=`limit`.
///
/// ```
/// use pottery_core::semaphore::permits;
/// assert_eq!(permits(b"2", 3), Ok(2));
/// assert_eq!(permits(b"4", 3).unwrap_err().to_string(), "ERR permits: must not exceed limit");
/// ```
pub fn permits(raw: &[u8], limit: i64) -> Result<i64, CommandError> {
    match parse_i64(raw) {
        None => Err(CommandError::NotAnInteger),
        Some(permits) if permits < 1 => Err(CommandError::Argument {
            argument: "permits",
            problem: "must be positive",
        }),
        Some(permits) if permits > limit => Err(CommandError::Argument {
            argument: "permits",
            problem: "must not exceed limit",
        }),
        Some(permits) => Ok(permits),
    }
}

fn permit_tag(tag: &[u8]) -> Option<i64> {
    parse_i64(tag).filter(|&permits| permits >= 1)
}

/// One semaphore as a command sees it at one instant.
#[derive(Debug, Clone)]
pub struct Semaphore {
    table: Table,
    /// The stored limit while the semaphore has live holders.
    limit: Option<i64>,
    /// Permits the live holders hold; wide, so a hash edited by hand cannot overflow it.
    used: i128,
}

/// What `POTTERY.SEM.INFO` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// The semaphore's limit.
    pub limit: i64,
    /// Permits held.
    pub used: i64,
    /// Each live holder with its permits and milliseconds left, sorted by holder.
    pub holders: Vec<(Vec<u8>, i64, i64)>,
}

impl Semaphore {
    fn check_limit(&self, limit: i64) -> Result<(), CommandError> {
        match self.limit {
            Some(stored) if stored != limit => Err(LIMIT_MISMATCH),
            _ => Ok(()),
        }
    }

    /// `POTTERY.SEM.ACQUIRE`: gives `holder` `permits` until `expires_at` if that many are
    /// free and nobody waits ahead ([`Queue::Clear`]), or refreshes its hold if it holds
    /// exactly that many already (an idempotent retry, waiters or not). `Ok(true)` held,
    /// `Ok(false)` not enough free permits or others wait first.
    pub fn acquire(
        &mut self,
        holder: &[u8],
        permits: i64,
        limit: i64,
        expires_at: i64,
        queue: Queue,
    ) -> Result<bool, CommandError> {
        self.check_limit(limit)?;
        if let Some(entry) = self.table.get(holder) {
            if permit_tag(&entry.tag) != Some(permits) {
                return Err(CommandError::Argument {
                    argument: "permits",
                    problem: "differs from the permits the holder holds",
                });
            }
            self.table.put(holder, &entry.tag.clone(), expires_at);
            return Ok(true);
        }
        if queue == Queue::Waited {
            return Ok(false);
        }
        if self.used + i128::from(permits) > i128::from(limit) {
            return Ok(false);
        }
        let mut digits = [0u8; MAX_I64_DIGITS];
        // Before the holder is added: with no live holder, a stored limit is stale and replaced.
        self.table
            .set_meta_if_absent(format_i64(limit, &mut digits));
        self.table
            .put(holder, format_i64(permits, &mut digits), expires_at);
        self.limit = Some(limit);
        self.used += i128::from(permits);
        Ok(true)
    }

    /// `POTTERY.SEM.AVAILABLE`: free permits of a semaphore of `limit`.
    pub fn available(&self, limit: i64) -> Result<i64, CommandError> {
        self.check_limit(limit)?;
        let free = (i128::from(limit) - self.used).max(0);
        Ok(i64::try_from(free).unwrap_or(i64::MAX))
    }

    /// `POTTERY.SEM.INFO` at `now`: `None` when nobody holds a permit.
    pub fn info(&self, now: i64) -> Option<Info> {
        let limit = self.limit?;
        let holders = self
            .table
            .live()
            .iter()
            .map(|entry| {
                let permits = permit_tag(&entry.tag).unwrap_or(0);
                (entry.holder.clone(), permits, ms_left(entry, now))
            })
            .collect();
        Some(Info {
            limit,
            used: i64::try_from(self.used).unwrap_or(i64::MAX),
            holders,
        })
    }
}

impl Holders for Semaphore {
    /// Reads the hash fields at time `now` (Unix ms); [`NOT_A_SEMAPHORE`] for any other hash.
    fn load<'f>(
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        now: i64,
    ) -> Result<Semaphore, CommandError> {
        let table = Table::load(
            fields,
            now,
            |tag| permit_tag(tag).is_some(),
            NOT_A_SEMAPHORE,
        )?;
        let limit = match table.meta() {
            None if table.live().is_empty() => None,
            None => return Err(NOT_A_SEMAPHORE),
            Some(raw) => Some(parse_i64(raw).filter(|&l| l >= 1).ok_or(NOT_A_SEMAPHORE)?),
        };
        let used = table
            .live()
            .iter()
            .filter_map(|entry| permit_tag(&entry.tag))
            .map(i128::from)
            .sum();
        Ok(Semaphore { table, limit, used })
    }

    /// `POTTERY.SEM.RELEASE`: whether `holder` held permits (now freed).
    fn release(&mut self, holder: &[u8]) -> bool {
        let permits = self.table.get(holder).and_then(|e| permit_tag(&e.tag));
        let released = self.table.remove(holder);
        self.used -= i128::from(permits.unwrap_or(0));
        released
    }

    /// `POTTERY.SEM.EXTEND`: moves the expiry of `holder`'s live hold; never re-creates one.
    fn extend(&mut self, holder: &[u8], expires_at: i64) -> bool {
        let Some(tag) = self.table.get(holder).map(|entry| entry.tag.clone()) else {
            return false;
        };
        self.table.put(holder, &tag, expires_at);
        true
    }

    fn frees_at(&self, waiter: &[u8]) -> Option<i64> {
        self.table.next_expiry_except(waiter)
    }

    fn changes(self) -> Option<Changes> {
        self.table.changes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn empty() -> Semaphore {
        Semaphore::load([], 0).unwrap()
    }

    #[test]
    fn permits_add_up_to_the_limit() {
        let mut sem = empty();
        assert_eq!(sem.acquire(b"a", 2, 3, 100, Queue::Clear), Ok(true));
        assert_eq!(sem.acquire(b"b", 2, 3, 100, Queue::Clear), Ok(false));
        assert_eq!(sem.acquire(b"c", 1, 3, 100, Queue::Clear), Ok(true));
        assert_eq!(sem.available(3), Ok(0));
        assert!(sem.release(b"a"));
        assert!(!sem.release(b"a"));
        assert_eq!(sem.available(3), Ok(2));
        assert_eq!(sem.acquire(b"b", 2, 3, 100, Queue::Clear), Ok(true));
    }

    #[test]
    fn retry_refreshes_and_other_counts_are_refused() {
        let mut sem = empty();
        assert_eq!(sem.acquire(b"a", 2, 2, 100, Queue::Clear), Ok(true));
        assert_eq!(sem.acquire(b"a", 2, 2, 900, Queue::Clear), Ok(true));
        assert_eq!(sem.info(0).unwrap().holders, vec![(b"a".to_vec(), 2, 900)]);
        assert!(sem.acquire(b"a", 1, 2, 900, Queue::Clear).is_err());
        assert_eq!(
            sem.acquire(b"a", 2, 3, 900, Queue::Clear),
            Err(LIMIT_MISMATCH)
        );
        assert_eq!(sem.available(3), Err(LIMIT_MISMATCH));
    }

    #[test]
    fn stored_state_round_trips_and_expires() {
        let mut sem = empty();
        sem.acquire(b"a", 1, 2, 100, Queue::Clear).unwrap();
        sem.acquire(b"b", 1, 2, 200, Queue::Clear).unwrap();
        let changes = sem.changes().unwrap();
        assert_eq!(changes.expire_at, Some(200));
        let fields: Vec<(&[u8], &[u8])> = changes
            .written
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
            .collect();
        let mut later = Semaphore::load(fields.iter().copied(), 150).unwrap();
        assert_eq!(later.available(2), Ok(1));
        assert!(
            !later.extend(b"a", 999),
            "an expired hold is not re-created"
        );
        assert!(later.extend(b"b", 999));
        let changes = later.changes().unwrap();
        assert_eq!(changes.removed, vec![b"a".to_vec()]);
        assert_eq!(changes.expire_at, Some(999));
        let gone = Semaphore::load(fields.iter().copied(), 200).unwrap();
        assert_eq!(gone.available(7), Ok(7), "no live holder: any limit goes");
        assert_eq!(gone.info(200), None);
    }

    #[test]
    fn a_stale_limit_of_expired_holders_is_replaced() {
        let fields: [(&[u8], &[u8]); 2] = [(b"a", b"1:100"), (b"", b"5")];
        let mut sem = Semaphore::load(fields.iter().copied(), 200).unwrap();
        assert_eq!(sem.acquire(b"b", 1, 3, 900, Queue::Clear), Ok(true));
        assert_eq!(sem.available(3), Ok(2));
        let changes = sem.changes().unwrap();
        assert!(changes.written.contains(&(b"".to_vec(), b"3".to_vec())));
        assert_eq!(changes.removed, vec![b"a".to_vec()]);
    }

    #[test]
    fn a_new_holder_does_not_overtake_waiters() {
        let mut sem = empty();
        assert_eq!(sem.acquire(b"a", 1, 3, 100, Queue::Clear), Ok(true));
        // One permit would fit, but someone waits first.
        assert_eq!(sem.acquire(b"b", 1, 3, 100, Queue::Waited), Ok(false));
        // The holder's own retry refreshes all the same; its errors stay errors.
        assert_eq!(sem.acquire(b"a", 1, 3, 500, Queue::Waited), Ok(true));
        assert_eq!(sem.info(0).unwrap().holders, vec![(b"a".to_vec(), 1, 500)]);
        assert!(sem.acquire(b"a", 2, 3, 500, Queue::Waited).is_err());
        assert_eq!(
            sem.acquire(b"b", 1, 4, 100, Queue::Waited),
            Err(LIMIT_MISMATCH)
        );
        assert_eq!(sem.acquire(b"b", 2, 3, 100, Queue::Clear), Ok(true));
    }

    #[test]
    fn a_refused_waiter_looks_again_at_the_first_expiry() {
        let mut sem = empty();
        assert_eq!(sem.frees_at(b"w"), None);
        sem.acquire(b"a", 1, 2, 700, Queue::Clear).unwrap();
        sem.acquire(b"b", 1, 2, 300, Queue::Clear).unwrap();
        assert_eq!(sem.acquire(b"w", 1, 2, 900, Queue::Clear), Ok(false));
        assert_eq!(sem.frees_at(b"w"), Some(300));
        assert!(sem.release(b"b"));
        assert_eq!(sem.frees_at(b"w"), Some(700));
    }

    #[test]
    fn arguments_and_corruption() {
        assert_eq!(
            limit(b"-1").unwrap_err().to_string(),
            "ERR limit: must be positive"
        );
        assert_eq!(limit(b"x"), Err(CommandError::NotAnInteger));
        assert_eq!(
            permits(b"0", 5).unwrap_err().to_string(),
            "ERR permits: must be positive"
        );
        assert_eq!(permits(b"9223372036854775807", i64::MAX), Ok(i64::MAX));
        for fields in [
            vec![(&b"a"[..], &b"0:100"[..]), (b"", b"1")],
            vec![(b"a", b"read:100"), (b"", b"1")],
            vec![(b"a", b"1:100")],
            vec![(b"a", b"1:100"), (b"", b"zero")],
        ] {
            assert_eq!(
                Semaphore::load(fields.iter().copied(), 0).unwrap_err(),
                NOT_A_SEMAPHORE
            );
        }
        let mut huge = empty();
        assert_eq!(
            huge.acquire(b"a", i64::MAX, i64::MAX, 1, Queue::Clear),
            Ok(true)
        );
        assert_eq!(
            huge.acquire(b"b", i64::MAX, i64::MAX, 1, Queue::Clear),
            Ok(false)
        );
        assert_eq!(huge.available(i64::MAX), Ok(0));
    }

    proptest! {
        // Whatever holders ask for, in whatever order, the held permits never exceed the limit.
        #[test]
        fn never_more_than_the_limit(
            limit in 1i64..10,
            asks in prop::collection::vec((0u8..6, 1i64..10, any::<bool>()), 0..60),
        ) {
            let mut sem = empty();
            for (who, permits, release) in asks {
                let holder = [who];
                if release {
                    sem.release(&holder);
                } else if permits <= limit {
                    let _ = sem.acquire(&holder, permits, limit, 1000, Queue::Clear);
                }
                let held: i64 = sem
                    .info(0)
                    .map_or(0, |info| info.holders.iter().map(|h| h.1).sum());
                prop_assert!(held <= limit);
                prop_assert_eq!(sem.available(limit).unwrap(), limit - held);
            }
        }
    }
}
