//! First come, first served: per-key queues of waiters, the pure part of the module's blocking
//! commands (`... BLOCK ms` of `POTTERY.LOCK`, `POTTERY.SEM.ACQUIRE`, `POTTERY.RWLOCK.READ`
//! and `POTTERY.RWLOCK.WRITE`).
//!
//! A [`WaitQueues`] maps a key to the waiters parked on it, oldest first, and finds any waiter
//! again by its id (the module uses the blocked client's handle), so that a waiter that times
//! out or disconnects leaves its queue wherever it stands. It knows nothing of Redis: the
//! module decides what a waiter waits for and when to look at the head again (see
//! `module/src/host/waiters.rs`).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Per-key FIFO queues of waiters `W`, each known by a unique id `I`.
#[derive(Debug)]
pub struct WaitQueues<K, I, W> {
    queues: HashMap<K, VecDeque<(I, W)>>,
    /// Which key each waiter waits on, to remove it by id alone.
    keys: HashMap<I, K>,
}

impl<K: Hash + Eq + Clone, I: Hash + Eq + Copy, W> Default for WaitQueues<K, I, W> {
    fn default() -> Self {
        Self {
            queues: HashMap::new(),
            keys: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone, I: Hash + Eq + Copy, W> WaitQueues<K, I, W> {
    /// No queues.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `waiter` to the queue of `key`. `false` (and nothing queued) when `id` waits
    /// already: an id stands for one waiter.
    ///
    /// ```
    /// use pottery_core::waiters::WaitQueues;
    /// let mut queues = WaitQueues::new();
    /// assert!(queues.push("lock", 1, "first"));
    /// assert!(queues.push("lock", 2, "second"));
    /// assert_eq!(queues.pop_front(&"lock"), Some((1, "first")));
    /// ```
    pub fn push(&mut self, key: K, id: I, waiter: W) -> bool {
        if self.keys.contains_key(&id) {
            return false;
        }
        self.keys.insert(id, key.clone());
        self.queues.entry(key).or_default().push_back((id, waiter));
        true
    }

    /// Takes the oldest waiter of `key` out of its queue.
    pub fn pop_front(&mut self, key: &K) -> Option<(I, W)> {
        let queue = self.queues.get_mut(key)?;
        let head = queue.pop_front();
        if queue.is_empty() {
            self.queues.remove(key);
        }
        if let Some((id, _)) = &head {
            self.keys.remove(id);
        }
        head
    }

    /// Puts a waiter taken with [`pop_front`](Self::pop_front) back at the head of `key`'s
    /// queue, where it stood (its turn had not come after all). `false` when `id` waits
    /// already.
    pub fn push_front(&mut self, key: K, id: I, waiter: W) -> bool {
        if self.keys.contains_key(&id) {
            return false;
        }
        self.keys.insert(id, key.clone());
        self.queues.entry(key).or_default().push_front((id, waiter));
        true
    }

    /// Removes the waiter `id` wherever it stands, with the key it waited on.
    pub fn remove(&mut self, id: I) -> Option<(K, W)> {
        let key = self.keys.remove(&id)?;
        let queue = self.queues.get_mut(&key)?;
        let position = queue.iter().position(|(queued, _)| *queued == id)?;
        let (_, waiter) = queue.remove(position)?;
        if queue.is_empty() {
            self.queues.remove(&key);
        }
        Some((key, waiter))
    }

    /// Takes out every waiter of `key` that `matches`, oldest first; the others keep their
    /// order.
    pub fn remove_where(&mut self, key: &K, mut matches: impl FnMut(&W) -> bool) -> Vec<(I, W)> {
        let Some(queue) = self.queues.get_mut(key) else {
            return Vec::new();
        };
        let mut removed = Vec::new();
        let mut kept = VecDeque::with_capacity(queue.len());
        for (id, waiter) in queue.drain(..) {
            if matches(&waiter) {
                removed.push((id, waiter));
            } else {
                kept.push_back((id, waiter));
            }
        }
        if kept.is_empty() {
            self.queues.remove(key);
        } else {
            *queue = kept;
        }
        for (id, _) in &removed {
            self.keys.remove(id);
        }
        removed
    }

    /// Whether anyone waits on `key`.
    pub fn is_waited_on(&self, key: &K) -> bool {
        self.queues.contains_key(key)
    }

    /// How many wait on `key`.
    pub fn waiting_on(&self, key: &K) -> usize {
        self.queues.get(key).map_or(0, VecDeque::len)
    }

    /// How many wait, on all keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Nobody waits.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys someone waits on.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.queues.keys()
    }
}

/// How long a released owner is remembered: far longer than a request can linger unread in a
/// server, far shorter than a client keeps a token.
pub const RELEASED_FOR_MS: i64 = 30_000;
/// Owners remembered per key, and keys remembered at most (the oldest key is forgotten first).
pub const RELEASED_PER_KEY: usize = 8;
pub const RELEASED_KEYS: usize = 65_536;

/// Owners (lock tokens) that released a key recently, so that a waiting request of theirs that
/// the server reads only after the release (it came on a fresh connection, which the server
/// reads one event-loop turn later) is refused instead of taking a lock nobody will release.
#[derive(Debug)]
pub struct Released<K> {
    keys: HashMap<K, VecDeque<(Vec<u8>, i64)>>,
    /// Keys in the order they were first remembered, to forget the oldest when full.
    order: VecDeque<K>,
}

impl<K: Hash + Eq + Clone> Default for Released<K> {
    fn default() -> Self {
        Self {
            keys: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Released<K> {
    /// Remembers that `owner` released `key` at `now_ms`.
    ///
    /// ```
    /// use pottery_core::waiters::{Released, RELEASED_FOR_MS};
    /// let mut released = Released::default();
    /// released.remember("lock", b"t1", 1_000);
    /// assert!(released.contains(&"lock", b"t1", 1_500));
    /// assert!(!released.contains(&"lock", b"t2", 1_500));
    /// assert!(!released.contains(&"lock", b"t1", 1_000 + RELEASED_FOR_MS + 1));
    /// ```
    pub fn remember(&mut self, key: K, owner: &[u8], now_ms: i64) {
        if !self.keys.contains_key(&key) {
            if self.order.len() >= RELEASED_KEYS {
                if let Some(oldest) = self.order.pop_front() {
                    self.keys.remove(&oldest);
                }
            }
            self.order.push_back(key.clone());
        }
        let owners = self.keys.entry(key).or_default();
        owners.retain(|(_, at)| now_ms.saturating_sub(*at) <= RELEASED_FOR_MS);
        if owners.len() >= RELEASED_PER_KEY {
            owners.pop_front();
        }
        owners.push_back((owner.to_vec(), now_ms));
    }

    /// Whether `owner` released `key` within [`RELEASED_FOR_MS`] before `now_ms`.
    pub fn contains(&self, key: &K, owner: &[u8], now_ms: i64) -> bool {
        self.keys.get(key).is_some_and(|owners| {
            owners.iter().any(|(released, at)| {
                released == owner && now_ms.saturating_sub(*at) <= RELEASED_FOR_MS
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn waiters_leave_in_arrival_order_per_key() {
        let mut queues = WaitQueues::new();
        for (id, key) in [(1, "a"), (2, "b"), (3, "a"), (4, "a")] {
            assert!(queues.push(key, id, id * 10));
        }
        assert_eq!(queues.waiting_on(&"a"), 3);
        assert_eq!(queues.pop_front(&"a"), Some((1, 10)));
        assert_eq!(queues.pop_front(&"a"), Some((3, 30)));
        assert_eq!(queues.pop_front(&"b"), Some((2, 20)));
        assert!(!queues.is_waited_on(&"b"));
        assert_eq!(queues.len(), 1);
    }

    #[test]
    fn a_waiter_put_back_keeps_its_turn() {
        let mut queues = WaitQueues::new();
        queues.push("a", 1, ());
        queues.push("a", 2, ());
        let Some((id, waiter)) = queues.pop_front(&"a") else {
            panic!("a head");
        };
        assert!(queues.push_front("a", id, waiter));
        assert_eq!(queues.pop_front(&"a"), Some((1, ())));
    }

    #[test]
    fn a_waiter_leaves_from_anywhere_and_ids_are_unique() {
        let mut queues = WaitQueues::new();
        queues.push("a", 1, 'x');
        queues.push("a", 2, 'y');
        queues.push("a", 3, 'z');
        assert!(!queues.push("b", 2, 'w'));
        assert_eq!(queues.remove(2), Some(("a", 'y')));
        assert_eq!(queues.remove(2), None);
        assert_eq!(queues.pop_front(&"a"), Some((1, 'x')));
        assert_eq!(queues.pop_front(&"a"), Some((3, 'z')));
        assert_eq!(queues.pop_front(&"a"), None);
        assert!(queues.is_empty());
        assert_eq!(queues.keys().count(), 0);
    }

    #[test]
    fn matching_waiters_leave_and_the_others_keep_their_order() {
        let mut queues = WaitQueues::new();
        for (id, token) in [(1, "a"), (2, "b"), (3, "a"), (4, "c")] {
            queues.push("k", id, token);
        }
        let removed = queues.remove_where(&"k", |token| *token == "a");
        assert_eq!(removed, vec![(1, "a"), (3, "a")]);
        assert_eq!(queues.remove(1), None);
        assert_eq!(queues.pop_front(&"k"), Some((2, "b")));
        assert_eq!(queues.remove_where(&"k", |_| true), vec![(4, "c")]);
        assert!(queues.is_empty());
    }

    #[test]
    fn released_owners_are_bounded_per_key_and_in_keys() {
        let mut released = Released::default();
        for index in 0..RELEASED_PER_KEY + 2 {
            released.remember("k", format!("t{index}").as_bytes(), 0);
        }
        assert!(
            !released.contains(&"k", b"t0", 0),
            "the oldest owner was forgotten"
        );
        assert!(released.contains(&"k", b"t9", 0));
        for key in 0..RELEASED_KEYS + 1 {
            released.remember(key.to_string().leak() as &str, b"t", 0);
        }
        assert!(
            !released.contains(&"k", b"t9", 0),
            "the oldest key was forgotten"
        );
        assert_eq!(released.keys.len(), RELEASED_KEYS);
    }

    proptest! {
        // Against a model (one Vec per key): any pushes, pops and removals keep FIFO order,
        // and the totals and the id index always agree with the queues.
        #[test]
        fn queues_match_a_model(operations in prop::collection::vec((0u8..3, 0u8..3, 0u16..40), 0..200)) {
            let mut queues = WaitQueues::new();
            let mut model: HashMap<u8, Vec<u16>> = HashMap::new();
            for (operation, key, id) in operations {
                match operation {
                    0 => {
                        let known = model.values().any(|ids| ids.contains(&id));
                        prop_assert_eq!(queues.push(key, id, ()), !known);
                        if !known {
                            model.entry(key).or_default().push(id);
                        }
                    }
                    1 => {
                        let expected = model.get_mut(&key).and_then(|ids| (!ids.is_empty()).then(|| ids.remove(0)));
                        prop_assert_eq!(queues.pop_front(&key).map(|(id, ())| id), expected);
                    }
                    _ => {
                        let holder = model.iter_mut().find(|(_, ids)| ids.contains(&id));
                        let expected = holder.map(|(key, ids)| {
                            ids.retain(|queued| *queued != id);
                            *key
                        });
                        prop_assert_eq!(queues.remove(id).map(|(key, ())| key), expected);
                    }
                }
                model.retain(|_, ids| !ids.is_empty());
                prop_assert_eq!(queues.len(), model.values().map(Vec::len).sum::<usize>());
                for (key, ids) in &model {
                    prop_assert_eq!(queues.waiting_on(key), ids.len());
                }
                prop_assert_eq!(queues.keys().count(), model.len());
            }
        }
    }
}
