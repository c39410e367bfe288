//! Holders with expiring holds, kept in a Redis hash: what semaphores and read-write locks share.
//!
//! Layout (a plain hash, so a Lua script could implement the same commands without the module):
//! each holder is a field whose value is `<tag>:<expires_at_ms>`, the tag saying what it holds
//! (a semaphore's permit count, a read-write lock's `read`, `write` or `wait`) and the time an
//! absolute Unix time in milliseconds on the master's clock. The field named by the empty string
//! (no holder can be named so: holders must not be empty) holds the object's metadata, such as
//! a semaphore's limit.
//!
//! Expired holders are pruned lazily by every write command; read-only commands skip them. The
//! key's own TTL is kept at the latest holder expiry, so Redis drops an abandoned object by
//! itself and a replica or an AOF reload, given that absolute time, drops it at the same moment.

use crate::error::CommandError;
use crate::integer::{format_i64, parse_i64, MAX_I64_DIGITS};

/// The hash field that holds the metadata: the one name no holder can have.
pub const META_FIELD: &[u8] = b"";

/// Checks a holder argument: not empty (the empty field is the metadata).
///
/// ```
/// use pottery_core::holders::holder;
/// assert_eq!(holder(b"worker-1"), Ok(&b"worker-1"[..]));
/// assert_eq!(holder(b"").unwrap_err().to_string(), "ERR holder: must not be empty");
/// ```
pub fn holder(raw: &[u8]) -> Result<&[u8], CommandError> {
    if raw.is_empty() {
        Err(CommandError::Argument {
            argument: "holder",
            problem: "must not be empty",
        })
    } else {
        Ok(raw)
    }
}

/// One holder's hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The holder's name (the hash field).
    pub holder: Vec<u8>,
    /// What it holds (before the `:` of the value).
    pub tag: Vec<u8>,
    /// When the hold ends, Unix milliseconds.
    pub expires_at: i64,
}

impl Entry {
    /// The hash value: `<tag>:<expires_at>`.
    pub fn value(&self) -> Vec<u8> {
        let mut digits = [0u8; MAX_I64_DIGITS];
        let time = format_i64(self.expires_at, &mut digits);
        let mut value = Vec::with_capacity(self.tag.len() + 1 + time.len());
        value.extend_from_slice(&self.tag);
        value.push(b':');
        value.extend_from_slice(time);
        value
    }
}

/// Splits a hash value `<tag>:<expires_at>` (the last `:` separates them); `None` if malformed.
///
/// ```
/// use pottery_core::holders::parse_value;
/// assert_eq!(parse_value(b"3:1700000000000"), Some((&b"3"[..], 1_700_000_000_000)));
/// assert_eq!(parse_value(b"read"), None);
/// ```
pub fn parse_value(value: &[u8]) -> Option<(&[u8], i64)> {
    let colon = value.iter().rposition(|&byte| byte == b':')?;
    let (tag, time) = (value.get(..colon)?, value.get(colon + 1..)?);
    if tag.is_empty() {
        return None;
    }
    Some((tag, parse_i64(time)?))
}

/// Whether clients already wait in the key's queue (blocking requests are served first come
/// first served): a *new* holder must not overtake them, even when what it asks for is free
/// (a request for one permit must not pass a waiter for three). A holder that holds already
/// may still refresh its hold (an idempotent retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Nobody waits ahead of the caller (or the caller is the waiter being served).
    Clear,
    /// Others wait ahead of the caller: a new holder is refused.
    Waited,
}

/// What a write command changes in the hash, for the module to apply, replicate and announce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// Fields to delete (expired or released holders), replicated as `HDEL`.
    pub removed: Vec<Vec<u8>>,
    /// Fields to write, replicated as `HSET`.
    pub written: Vec<(Vec<u8>, Vec<u8>)>,
    /// The key's new absolute expiry (replicated as `PEXPIREAT`); `None` when no live holder
    /// is left and the whole key goes (replicated as `DEL`).
    pub expire_at: Option<i64>,
}

/// The holders of one key as a command sees them: the live ones, those it found expired, and
/// what it changed.
#[derive(Debug, Clone, Default)]
pub struct Table {
    live: Vec<Entry>,
    /// The metadata field's value, if the hash has one.
    meta: Option<Vec<u8>>,
    removed: Vec<Vec<u8>>,
    written: Vec<Vec<u8>>,
    meta_written: bool,
}

impl Table {
    /// Reads a hash's fields at time `now`: holders whose expiry is not after `now` are
    /// expired (pruned by the next write). `corrupt` is the reply for a hash that is not in
    /// this layout (a value that does not parse, or a tag `valid_tag` rejects).
    pub fn load<'f>(
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        now: i64,
        valid_tag: impl Fn(&[u8]) -> bool,
        corrupt: CommandError,
    ) -> Result<Table, CommandError> {
        let mut table = Table::default();
        for (field, value) in fields {
            if field == META_FIELD {
                table.meta = Some(value.to_vec());
                continue;
            }
            let (tag, expires_at) = parse_value(value).ok_or_else(|| corrupt.clone())?;
            if !valid_tag(tag) {
                return Err(corrupt);
            }
            if expires_at <= now {
                table.removed.push(field.to_vec());
            } else {
                table.live.push(Entry {
                    holder: field.to_vec(),
                    tag: tag.to_vec(),
                    expires_at,
                });
            }
        }
        // Sorted, so replies list holders in one order on every server.
        table.live.sort_by(|a, b| a.holder.cmp(&b.holder));
        Ok(table)
    }

    /// The live holders, sorted by name.
    pub fn live(&self) -> &[Entry] {
        &self.live
    }

    /// The metadata, when the hash has live holders (metadata outlives nobody: with every
    /// holder expired, the object is as good as absent).
    pub fn meta(&self) -> Option<&[u8]> {
        if self.live.is_empty() {
            None
        } else {
            self.meta.as_deref()
        }
    }

    /// Whether the hash has the metadata field at all, live holders or not.
    pub fn has_meta_field(&self) -> bool {
        self.meta.is_some()
    }

    /// Stores `meta` if the object has none yet (or only an expired one).
    pub fn set_meta_if_absent(&mut self, meta: &[u8]) {
        if self.meta().is_none() {
            self.meta = Some(meta.to_vec());
            self.meta_written = true;
        }
    }

    /// The live hold of `holder`.
    pub fn get(&self, holder: &[u8]) -> Option<&Entry> {
        self.live.iter().find(|entry| entry.holder == holder)
    }

    /// Gives `holder` the hold `tag` until `expires_at`, replacing any hold it has.
    pub fn put(&mut self, holder: &[u8], tag: &[u8], expires_at: i64) {
        let entry = Entry {
            holder: holder.to_vec(),
            tag: tag.to_vec(),
            expires_at,
        };
        match self.live.iter_mut().find(|live| live.holder == holder) {
            Some(live) => *live = entry,
            None => {
                let at = self
                    .live
                    .partition_point(|live| live.holder.as_slice() < holder);
                self.live.insert(at, entry);
            }
        }
        self.removed.retain(|field| field != holder);
        if !self.written.iter().any(|field| field == holder) {
            self.written.push(holder.to_vec());
        }
    }

    /// When the first live hold other than `holder`'s ends by itself (Unix ms), if any: when
    /// a request of `holder` refused now may be worth trying again without any command.
    pub fn next_expiry_except(&self, holder: &[u8]) -> Option<i64> {
        self.live
            .iter()
            .filter(|entry| entry.holder != holder)
            .map(|entry| entry.expires_at)
            .min()
    }

    /// Ends the live hold of `holder`; whether it had one.
    pub fn remove(&mut self, holder: &[u8]) -> bool {
        let Some(at) = self.live.iter().position(|live| live.holder == holder) else {
            return false;
        };
        self.live.remove(at);
        self.written.retain(|field| field != holder);
        self.removed.push(holder.to_vec());
        true
    }

    /// What changed, `None` when nothing did (a command that changed nothing replicates,
    /// signals and notifies nothing). Once no live holder is left the whole key goes.
    pub fn changes(self) -> Option<Changes> {
        if self.removed.is_empty() && self.written.is_empty() && !self.meta_written {
            return None;
        }
        let Some(expire_at) = self.live.iter().map(|entry| entry.expires_at).max() else {
            return Some(Changes {
                removed: Vec::new(),
                written: Vec::new(),
                expire_at: None,
            });
        };
        let mut written: Vec<(Vec<u8>, Vec<u8>)> = self
            .written
            .iter()
            .filter_map(|holder| self.live.iter().find(|entry| &entry.holder == holder))
            .map(|entry| (entry.holder.clone(), entry.value()))
            .collect();
        if self.meta_written {
            if let Some(meta) = self.meta {
                written.push((META_FIELD.to_vec(), meta));
            }
        }
        Some(Changes {
            removed: self.removed,
            written,
            expire_at: Some(expire_at),
        })
    }
}

/// An object kept in the holders layout (a semaphore, a read-write lock), as the module loads
/// it for one command and writes back what the command changed.
pub trait Holders: Sized {
    /// Reads the hash fields at time `now` (Unix ms); the object's `WRONGTYPE` reply for any
    /// other hash.
    fn load<'f>(
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        now: i64,
    ) -> Result<Self, CommandError>;

    /// `RELEASE`: ends `holder`'s hold (or withdraws whatever it registered); whether it held.
    fn release(&mut self, holder: &[u8]) -> bool;

    /// `EXTEND`: moves the expiry of `holder`'s live hold; never re-creates one.
    fn extend(&mut self, holder: &[u8], expires_at: i64) -> bool;

    /// When the first live hold other than `waiter`'s ends by itself (Unix ms): when a
    /// refused request of `waiter` should look again (an expiry inside the hash fires no key
    /// event).
    fn frees_at(&self, waiter: &[u8]) -> Option<i64>;

    /// What the command changed (pruning included), `None` if nothing.
    fn changes(self) -> Option<Changes>;
}

/// Milliseconds left of a live hold (at least 1: a live hold expires after `now`).
pub fn ms_left(entry: &Entry, now: i64) -> i64 {
    entry.expires_at.saturating_sub(now).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORRUPT: CommandError = CommandError::Reply("WRONGTYPE corrupt");

    fn load(fields: &[(&[u8], &[u8])], now: i64) -> Result<Table, CommandError> {
        Table::load(fields.iter().copied(), now, |_| true, CORRUPT)
    }

    #[test]
    fn values_round_trip_and_reject_garbage() {
        let entry = Entry {
            holder: b"h".to_vec(),
            tag: b"read".to_vec(),
            expires_at: -5,
        };
        assert_eq!(entry.value(), b"read:-5");
        assert_eq!(parse_value(&entry.value()), Some((&b"read"[..], -5)));
        assert_eq!(parse_value(b"a:b:7"), Some((&b"a:b"[..], 7)));
        for bad in [
            &b""[..],
            b":",
            b":5",
            b"x:",
            b"x:1.5",
            b"x:99999999999999999999",
        ] {
            assert_eq!(parse_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn expired_holders_are_pruned_and_the_key_follows_the_latest() {
        let fields: [(&[u8], &[u8]); 4] = [
            (b"old", b"1:100"),
            (b"edge", b"1:200"),
            (b"new", b"1:300"),
            (b"", b"5"),
        ];
        let table = load(&fields, 200).unwrap();
        assert_eq!(table.live().len(), 1);
        assert_eq!(table.meta(), Some(&b"5"[..]));
        let changes = table.changes().unwrap();
        assert_eq!(changes.removed, vec![b"old".to_vec(), b"edge".to_vec()]);
        assert!(changes.written.is_empty());
        assert_eq!(changes.expire_at, Some(300));
    }

    #[test]
    fn last_holder_gone_deletes_the_key() {
        let fields: [(&[u8], &[u8]); 2] = [(b"a", b"1:500"), (b"", b"5")];
        let mut table = load(&fields, 100).unwrap();
        assert!(table.remove(b"a"));
        assert!(!table.remove(b"a"));
        assert_eq!(table.changes().unwrap().expire_at, None);
        let table = load(&fields, 600).unwrap();
        assert_eq!(
            table.meta(),
            None,
            "metadata of expired holders does not count"
        );
        assert_eq!(table.changes().unwrap().expire_at, None);
    }

    #[test]
    fn nothing_changed_means_no_changes() {
        let fields: [(&[u8], &[u8]); 1] = [(b"a", b"1:500")];
        assert_eq!(load(&fields, 100).unwrap().changes(), None);
        assert_eq!(load(&[], 100).unwrap().changes(), None);
    }

    #[test]
    fn put_then_remove_and_meta() {
        let mut table = load(&[], 0).unwrap();
        table.put(b"b", b"2", 50);
        table.put(b"a", b"1", 70);
        table.put(b"b", b"2", 60);
        table.set_meta_if_absent(b"9");
        table.set_meta_if_absent(b"8");
        assert_eq!(table.live()[0].holder, b"a");
        let changes = table.changes().unwrap();
        assert_eq!(
            changes.written,
            vec![
                (b"b".to_vec(), b"2:60".to_vec()),
                (b"a".to_vec(), b"1:70".to_vec()),
                (b"".to_vec(), b"9".to_vec())
            ]
        );
        assert_eq!(changes.expire_at, Some(70));
    }

    #[test]
    fn next_expiry_skips_the_asker_and_the_expired() {
        let fields: [(&[u8], &[u8]); 4] = [
            (b"gone", b"1:50"),
            (b"me", b"1:150"),
            (b"late", b"1:900"),
            (b"soon", b"1:400"),
        ];
        let table = load(&fields, 100).unwrap();
        assert_eq!(table.next_expiry_except(b"me"), Some(400));
        assert_eq!(table.next_expiry_except(b"other"), Some(150));
        let alone: [(&[u8], &[u8]); 1] = [(b"me", b"1:150")];
        assert_eq!(load(&alone, 100).unwrap().next_expiry_except(b"me"), None);
        assert_eq!(load(&[], 100).unwrap().next_expiry_except(b"me"), None);
    }

    #[test]
    fn corrupt_values_are_refused() {
        let fields: [(&[u8], &[u8]); 1] = [(b"a", b"nonsense")];
        assert_eq!(load(&fields, 0).unwrap_err(), CORRUPT);
        let fields: [(&[u8], &[u8]); 1] = [(b"a", b"x:5")];
        let refused = Table::load(fields.iter().copied(), 0, |tag| tag == b"y", CORRUPT);
        assert_eq!(refused.unwrap_err(), CORRUPT);
    }
}
