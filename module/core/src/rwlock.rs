//! Read-write locks with expiring holds: the decisions of the `POTTERY.RWLOCK.*` commands.
//!
//! A read-write lock is a hash in the [`holders`](crate::holders) layout: field = holder, value
//! = `read:<expires_at_ms>`, `write:<expires_at_ms>` or `wait:<expires_at_ms>`. Any number of
//! readers share it, or one writer holds it alone.
//!
//! **Writers are not starved.** A writer refused because others hold the lock leaves an intent
//! (`wait`) that lasts `intent_ms`; while any intent is live, new readers are refused (readers
//! already holding keep their hold and may refresh it). The writer repeats its attempt more
//! often than `intent_ms`, which refreshes the intent, so the readers drain and it gets in
//! within the longest reader TTL. An intent that is not refreshed (its writer gave up or died)
//! expires after `intent_ms` and lets readers in again; a writer that gives up withdraws it with
//! `POTTERY.RWLOCK.RELEASE`. Among several waiting writers, whichever tries first once the lock
//! is free wins. The price of this preference: a steady stream of writers can keep readers out.
//!
//! **Waiting in line.** With `BLOCK ms` readers and writers queue in the module's per-key
//! first-come-first-served queue instead of polling ([`Queue`]): while anyone queues, a new
//! reader or writer is refused (or queues behind), so a queued writer keeps later readers out
//! without an intent, and its release lets the readers behind it in together.

use crate::error::CommandError;
use crate::holders::{ms_left, Changes, Holders, Queue, Table};
use crate::integer::parse_i64;
use crate::lock::MAX_TTL_MS;

/// The reply for a hash that is not a read-write lock in this layout.
pub const NOT_AN_RWLOCK: CommandError =
    CommandError::Reply("WRONGTYPE Key is not a valid pottery read-write lock");

/// What one holder has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A shared hold.
    Read,
    /// The exclusive hold.
    Write,
    /// A writer's intent: no hold, but new readers wait.
    Wait,
}

impl Kind {
    /// The tag in the hash value, and the word `POTTERY.RWLOCK.INFO` replies.
    pub fn tag(self) -> &'static [u8] {
        match self {
            Kind::Read => b"read",
            Kind::Write => b"write",
            Kind::Wait => b"wait",
        }
    }

    fn from_tag(tag: &[u8]) -> Option<Kind> {
        [Kind::Read, Kind::Write, Kind::Wait]
            .into_iter()
            .find(|kind| kind.tag() == tag)
    }
}

/// Parses `intent_ms`: 0 (register no intent) to 2^40.
///
/// ```
/// use pottery_core::rwlock::intent_ms;
/// assert_eq!(intent_ms(b"0"), Ok(0));
/// let error = intent_ms(b"-1").unwrap_err();
/// assert_eq!(error.to_string(), "ERR intent_ms: must be between 0 and 2^40");
/// ```
pub fn intent_ms(raw: &[u8]) -> Result<i64, CommandError> {
    match parse_i64(raw) {
        None => Err(CommandError::NotAnInteger),
        Some(ms) if (0..=MAX_TTL_MS).contains(&ms) => Ok(ms),
        Some(_) => Err(CommandError::Argument {
            argument: "intent_ms",
            problem: "must be between 0 and 2^40",
        }),
    }
}

/// One read-write lock as a command sees it at one instant.
#[derive(Debug, Clone)]
pub struct RwLock {
    table: Table,
}

impl RwLock {
    fn kind_of(&self, holder: &[u8]) -> Option<Kind> {
        self.table
            .get(holder)
            .and_then(|entry| Kind::from_tag(&entry.tag))
    }

    fn others(&self, holder: &[u8]) -> impl Iterator<Item = Kind> + '_ {
        let holder = holder.to_vec();
        self.table
            .live()
            .iter()
            .filter(move |entry| entry.holder != holder)
            .filter_map(|entry| Kind::from_tag(&entry.tag))
    }

    /// `POTTERY.RWLOCK.READ`: a shared hold for `holder` until `expires_at`, unless a writer
    /// holds the lock or waits for it, or others queue ahead ([`Queue::Waited`]). A reader's
    /// retry refreshes its hold even then.
    pub fn read(
        &mut self,
        holder: &[u8],
        expires_at: i64,
        queue: Queue,
    ) -> Result<bool, CommandError> {
        match self.kind_of(holder) {
            Some(Kind::Write) => return Err(holds("holds the write lock")),
            Some(Kind::Wait) => return Err(holds("waits for the write lock")),
            Some(Kind::Read) => {}
            None => {
                if queue == Queue::Waited || self.others(holder).any(|kind| kind != Kind::Read) {
                    return Ok(false);
                }
            }
        }
        self.table.put(holder, Kind::Read.tag(), expires_at);
        Ok(true)
    }

    /// `POTTERY.RWLOCK.WRITE`: the exclusive hold for `holder` until `expires_at` if nobody
    /// else reads or writes and nobody queues ahead ([`Queue::Waited`]; the writer's own
    /// retry refreshes its hold even then); otherwise, with `intent_until` set, the writer's
    /// intent until then. A writer refused only for the queue ahead leaves no intent: it would
    /// keep out the readers queued before it, who must go first.
    pub fn write(
        &mut self,
        holder: &[u8],
        expires_at: i64,
        intent_until: Option<i64>,
        queue: Queue,
    ) -> Result<bool, CommandError> {
        let kind = self.kind_of(holder);
        if kind == Some(Kind::Read) {
            return Err(holds("holds the read lock"));
        }
        if queue == Queue::Waited && kind != Some(Kind::Write) {
            return Ok(false);
        }
        if self.others(holder).any(|kind| kind != Kind::Wait) {
            if let Some(until) = intent_until {
                self.table.put(holder, Kind::Wait.tag(), until);
            }
            return Ok(false);
        }
        self.table.put(holder, Kind::Write.tag(), expires_at);
        Ok(true)
    }

    /// `POTTERY.RWLOCK.INFO` at `now`: each live holder with its kind and milliseconds left.
    pub fn info(&self, now: i64) -> Vec<(Vec<u8>, Kind, i64)> {
        self.table
            .live()
            .iter()
            .filter_map(|entry| {
                let kind = Kind::from_tag(&entry.tag)?;
                Some((entry.holder.clone(), kind, ms_left(entry, now)))
            })
            .collect()
    }
}

fn holds(problem: &'static str) -> CommandError {
    CommandError::Argument {
        argument: "holder",
        problem,
    }
}

impl Holders for RwLock {
    /// Reads the hash fields at `now` (Unix ms); [`NOT_AN_RWLOCK`] for any other hash.
    fn load<'f>(
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        now: i64,
    ) -> Result<RwLock, CommandError> {
        let table = Table::load(
            fields,
            now,
            |tag| Kind::from_tag(tag).is_some(),
            NOT_AN_RWLOCK,
        )?;
        // A semaphore's limit field, even beside expired holders only: not a lock.
        if table.has_meta_field() {
            return Err(NOT_AN_RWLOCK);
        }
        Ok(RwLock { table })
    }

    /// `POTTERY.RWLOCK.RELEASE`: ends `holder`'s hold or withdraws its intent; whether it
    /// held the lock (an intent is no hold).
    fn release(&mut self, holder: &[u8]) -> bool {
        let held = matches!(self.kind_of(holder), Some(Kind::Read | Kind::Write));
        self.table.remove(holder);
        held
    }

    /// `POTTERY.RWLOCK.EXTEND`: moves the expiry of `holder`'s live hold (never re-creates
    /// one, never extends an intent).
    fn extend(&mut self, holder: &[u8], expires_at: i64) -> bool {
        match self.kind_of(holder) {
            Some(kind @ (Kind::Read | Kind::Write)) => {
                self.table.put(holder, kind.tag(), expires_at);
                true
            }
            _ => false,
        }
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

    fn empty() -> RwLock {
        RwLock::load([], 0).unwrap()
    }

    #[test]
    fn readers_share_and_writers_exclude() {
        let mut lock = empty();
        assert_eq!(lock.read(b"r1", 100, Queue::Clear), Ok(true));
        assert_eq!(lock.read(b"r2", 100, Queue::Clear), Ok(true));
        assert_eq!(lock.write(b"w", 100, None, Queue::Clear), Ok(false));
        assert!(lock.release(b"r1") && lock.release(b"r2"));
        assert_eq!(lock.write(b"w", 100, None, Queue::Clear), Ok(true));
        assert_eq!(
            lock.write(b"w", 200, None, Queue::Clear),
            Ok(true),
            "a retry refreshes"
        );
        assert_eq!(lock.read(b"r1", 100, Queue::Clear), Ok(false));
        assert_eq!(lock.write(b"w2", 100, Some(50), Queue::Clear), Ok(false));
        assert_eq!(lock.info(0)[0], (b"w".to_vec(), Kind::Write, 200));
    }

    #[test]
    fn a_waiting_writer_blocks_new_readers_only() {
        let mut lock = empty();
        assert_eq!(lock.read(b"r1", 100, Queue::Clear), Ok(true));
        assert_eq!(lock.write(b"w", 100, Some(50), Queue::Clear), Ok(false));
        assert_eq!(
            lock.read(b"r2", 100, Queue::Clear),
            Ok(false),
            "new readers wait"
        );
        assert_eq!(
            lock.read(b"r1", 300, Queue::Clear),
            Ok(true),
            "a holding reader may refresh"
        );
        assert!(lock.extend(b"r1", 300));
        assert!(!lock.extend(b"w", 300), "an intent is not a hold");
        assert!(lock.release(b"r1"));
        assert_eq!(lock.write(b"w", 100, Some(50), Queue::Clear), Ok(true));
        assert_eq!(lock.info(0), vec![(b"w".to_vec(), Kind::Write, 100)]);
    }

    #[test]
    fn intents_expire_and_can_be_withdrawn() {
        let mut lock = empty();
        lock.read(b"r1", 1000, Queue::Clear).unwrap();
        lock.write(b"w", 1000, Some(50), Queue::Clear).unwrap();
        let changes = lock.changes().unwrap();
        let fields: Vec<(&[u8], &[u8])> = changes
            .written
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
            .collect();
        let mut early = RwLock::load(fields.iter().copied(), 49).unwrap();
        assert_eq!(early.read(b"r2", 1000, Queue::Clear), Ok(false));
        assert!(!early.release(b"w"), "withdrawing an intent is no release");
        assert_eq!(early.read(b"r2", 1000, Queue::Clear), Ok(true));
        let mut late = RwLock::load(fields.iter().copied(), 50).unwrap();
        assert_eq!(
            late.read(b"r2", 1000, Queue::Clear),
            Ok(true),
            "the intent expired"
        );
    }

    #[test]
    fn new_holders_do_not_overtake_waiters() {
        let mut lock = empty();
        assert_eq!(lock.read(b"r1", 100, Queue::Clear), Ok(true));
        assert_eq!(lock.read(b"r2", 100, Queue::Waited), Ok(false));
        assert_eq!(
            lock.read(b"r1", 300, Queue::Waited),
            Ok(true),
            "a reader refreshes"
        );
        assert!(lock.release(b"r1"));
        assert_eq!(lock.write(b"w", 100, Some(50), Queue::Waited), Ok(false));
        assert_eq!(
            lock.info(0),
            vec![],
            "refused behind waiters, it leaves no intent to keep them out"
        );
        assert_eq!(lock.write(b"w", 100, None, Queue::Clear), Ok(true));
        assert_eq!(
            lock.write(b"w", 400, None, Queue::Waited),
            Ok(true),
            "a writer refreshes"
        );
        assert_eq!(lock.frees_at(b"r"), Some(400));
        assert_eq!(lock.frees_at(b"w"), None);
    }

    #[test]
    fn mixing_kinds_for_one_holder_is_an_error() {
        let mut lock = empty();
        lock.read(b"h", 100, Queue::Clear).unwrap();
        assert_eq!(
            lock.write(b"h", 100, None, Queue::Clear)
                .unwrap_err()
                .to_string(),
            "ERR holder: holds the read lock"
        );
        let mut lock = empty();
        lock.write(b"h", 100, None, Queue::Clear).unwrap();
        assert!(lock.read(b"h", 100, Queue::Clear).is_err());
        for fields in [
            vec![(&b"a"[..], &b"2:100"[..])],
            vec![(b"a", b"read:100"), (b"", b"1")],
            vec![(b"", b"1")],
        ] {
            assert_eq!(
                RwLock::load(fields.iter().copied(), 0).unwrap_err(),
                NOT_AN_RWLOCK
            );
        }
        assert!(intent_ms(b"1099511627777").is_err());
    }

    proptest! {
        // Whatever the order of calls, a writer never shares the lock with anyone holding it.
        #[test]
        fn writers_are_exclusive(calls in prop::collection::vec((0u8..5, 0u8..4), 0..80)) {
            let mut lock = empty();
            for (who, what) in calls {
                let holder = [who];
                let _ = match what {
                    0 => lock.read(&holder, 100, Queue::Clear),
                    1 => lock.write(&holder, 100, Some(10), Queue::Clear),
                    2 => Ok(lock.release(&holder)),
                    _ => Ok(lock.extend(&holder, 100)),
                };
                let info = lock.info(0);
                let writers = info.iter().filter(|h| h.1 == Kind::Write).count();
                let readers = info.iter().filter(|h| h.1 == Kind::Read).count();
                prop_assert!(writers <= 1);
                prop_assert!(writers == 0 || readers == 0);
            }
        }
    }
}
