//! Set algebra between [`RedisSet`]s: one server-side command when every key can be reached by
//! one command, otherwise the members of each set read through its own container and combined
//! in the client. Each method is one [`Operation`], the same on both faces.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::containers::set::{add_members, decode_members, members, RedisSet};
use crate::face::operation::{self, Operation};
use crate::face::Face;
use crate::transport::key::{colocation, Colocation, KeyHandle};
use crate::transport::script::Script;

/// `KEYS[1] = KEYS[1] ^ KEYS[2]` in one atomic step, in batches that stay below Lua's
/// `unpack` limit.
static SYMMETRIC_DIFFERENCE_UPDATE: Script = Script::new(
    r"
local add = redis.call('SDIFF', KEYS[2], KEYS[1])
local remove = redis.call('SINTER', KEYS[1], KEYS[2])
for i = 1, #remove, 1000 do
    redis.call('SREM', KEYS[1], unpack(remove, i, math.min(i + 999, #remove)))
end
for i = 1, #add, 1000 do
    redis.call('SADD', KEYS[1], unpack(add, i, math.min(i + 999, #add)))
end
return redis.call('SCARD', KEYS[1])
",
);

impl<T, F: Face> RedisSet<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// The elements in this set or any of `others` (`SUNION` when they share the server).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.union(&[&b])?, [1, 2, 3].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn union(&self, others: &[&Self]) -> F::Output<HashSet<T>>
    where
        T: Eq + Hash,
    {
        F::run(self.read(Algebra::Union, others))
    }

    /// The elements in this set and in every one of `others` (`SINTER`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.intersection(&[&b])?, [2].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn intersection(&self, others: &[&Self]) -> F::Output<HashSet<T>>
    where
        T: Eq + Hash,
    {
        F::run(self.read(Algebra::Intersection, others))
    }

    /// The elements in this set and in none of `others` (`SDIFF`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.difference(&[&b])?, [1].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn difference(&self, others: &[&Self]) -> F::Output<HashSet<T>>
    where
        T: Eq + Hash,
    {
        F::run(self.read(Algebra::Difference, others))
    }

    /// The elements in exactly one of this set and `other` (two `SDIFF`s in one
    /// `MULTI`/`EXEC` when they share the server).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.symmetric_difference(&b)?, [1, 3].into());
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn symmetric_difference(&self, other: &Self) -> F::Output<HashSet<T>>
    where
        T: Eq + Hash,
    {
        F::run(self.read(Algebra::SymmetricDifference, &[other]))
    }

    /// Adds the elements of `others` to this set (`SUNIONSTORE`); returns the new length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2])?;
    /// assert_eq!(a.union_update(&[&b])?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn union_update(&self, others: &[&Self]) -> F::Output<usize> {
        F::run(self.store(Algebra::Union, others))
    }

    /// Keeps only the elements also in every one of `others` (`SINTERSTORE`); returns the new
    /// length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2])?;
    /// assert_eq!(a.intersection_update(&[&b])?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn intersection_update(&self, others: &[&Self]) -> F::Output<usize> {
        F::run(self.store(Algebra::Intersection, others))
    }

    /// Removes the elements found in any of `others` (`SDIFFSTORE`); returns the new length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2])?;
    /// assert_eq!(a.difference_update(&[&b])?, 1);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn difference_update(&self, others: &[&Self]) -> F::Output<usize> {
        F::run(self.store(Algebra::Difference, others))
    }

    /// Keeps the elements in exactly one of this set and `other`, atomically on the server (a
    /// script) when they share it; returns the new length.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let url = "redis://127.0.0.1:6379/";
    /// let a = pottery::RedisSet::from_iter_in(url, [1, 2])?;
    /// let b = pottery::RedisSet::from_iter_in(url, [2, 3])?;
    /// assert_eq!(a.symmetric_difference_update(&b)?, 2);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn symmetric_difference_update(&self, other: &Self) -> F::Output<usize> {
        F::run(self.store(Algebra::SymmetricDifference, &[other]))
    }

    fn read(&self, algebra: Algebra, others: &[&Self]) -> Operation<HashSet<T>>
    where
        T: Eq + Hash,
    {
        algebra
            .read(Arc::clone(&self.handle), handles(others))
            .and_then(decode_members)
    }

    fn store(&self, algebra: Algebra, others: &[&Self]) -> Operation<usize> {
        algebra.store(Arc::clone(&self.handle), handles(others))
    }
}

fn handles<T, F: Face>(sets: &[&RedisSet<T, F>]) -> Vec<Arc<KeyHandle>> {
    sets.iter().map(|set| Arc::clone(&set.handle)).collect()
}

/// One set operation over a first set and others.
#[derive(Debug, Clone, Copy)]
enum Algebra {
    Union,
    Intersection,
    Difference,
    /// With one other set (the public methods take one); in the client, more would give the
    /// elements found in an odd number of sets.
    SymmetricDifference,
}

impl Algebra {
    /// The members of the result, read without writing: on the server when one command sees
    /// every key; in the client otherwise; [`Error::CrossSlot`](crate::Error::CrossSlot), with
    /// nothing sent, for keys in several slots of one cluster.
    fn read(self, first: Arc<KeyHandle>, others: Vec<Arc<KeyHandle>>) -> Operation<Vec<Vec<u8>>> {
        colocation(&first, &others).and_then_send(move |placement| {
            if placement == Colocation::Together {
                return self.read_on_server(&first, &others);
            }
            self.combine_in_client(&first, &others)
                .map(|result| result.into_iter().collect())
        })
    }

    /// Replaces the first set with the result and returns its length: on the server when one
    /// command sees every key; otherwise combined in the client and written back in one
    /// `MULTI`/`EXEC`.
    fn store(self, first: Arc<KeyHandle>, others: Vec<Arc<KeyHandle>>) -> Operation<usize> {
        colocation(&first, &others).and_then_send(move |placement| {
            if placement == Colocation::Together {
                return self.store_on_server(&first, &others);
            }
            self.combine_in_client(&first, &others)
                .and_then_send(move |result| replace_members(&first, result))
        })
    }

    fn read_on_server(
        self,
        first: &KeyHandle,
        others: &[Arc<KeyHandle>],
    ) -> Operation<Vec<Vec<u8>>> {
        let command = match (self, others) {
            (Self::Union, _) => "SUNION",
            (Self::Intersection, _) => "SINTER",
            (Self::Difference, _) => "SDIFF",
            (Self::SymmetricDifference, [other]) => {
                let mut pipeline = redis::pipe();
                pipeline
                    .atomic()
                    .cmd("SDIFF")
                    .arg(first.name())
                    .arg(other.name())
                    .cmd("SDIFF")
                    .arg(other.name())
                    .arg(first.name());
                return first
                    .request_pipeline::<(Vec<Vec<u8>>, Vec<Vec<u8>>)>(pipeline)
                    .map(|(mine, theirs)| mine.into_iter().chain(theirs).collect());
            }
            (Self::SymmetricDifference, _) => {
                return self
                    .combine_in_client(first, others)
                    .map(|result| result.into_iter().collect())
            }
        };
        let mut command = redis::cmd(command);
        command.arg(first.name());
        for other in others {
            command.arg(other.name());
        }
        first.request(command)
    }

    fn store_on_server(
        self,
        first: &Arc<KeyHandle>,
        others: &[Arc<KeyHandle>],
    ) -> Operation<usize> {
        let command = match (self, others) {
            (Self::Union, _) => "SUNIONSTORE",
            (Self::Intersection, _) => "SINTERSTORE",
            (Self::Difference, _) => "SDIFFSTORE",
            (Self::SymmetricDifference, [other]) => {
                return SYMMETRIC_DIFFERENCE_UPDATE.call(first, &[other.name()]);
            }
            (Self::SymmetricDifference, _) => {
                let first = Arc::clone(first);
                return self
                    .combine_in_client(&first, others)
                    .and_then_send(move |result| replace_members(&first, result));
            }
        };
        let mut command = redis::cmd(command);
        command.arg(first.name()).arg(first.name());
        for other in others {
            command.arg(other.name());
        }
        first.request(command)
    }

    /// The result over the members read from every set, each through its own container.
    fn combine_in_client(
        self,
        first: &KeyHandle,
        others: &[Arc<KeyHandle>],
    ) -> Operation<HashSet<Vec<u8>>> {
        let reads = std::iter::once(first)
            .chain(others.iter().map(|other| &**other))
            .map(members)
            .collect();
        operation::all(reads).map(move |sets| {
            let mut sets = sets.into_iter();
            let mut result: HashSet<Vec<u8>> =
                sets.next().unwrap_or_default().into_iter().collect();
            for theirs in sets {
                let theirs: HashSet<Vec<u8>> = theirs.into_iter().collect();
                match self {
                    Self::Union => result.extend(theirs),
                    Self::Intersection => result.retain(|member| theirs.contains(member)),
                    Self::Difference => result.retain(|member| !theirs.contains(member)),
                    Self::SymmetricDifference => {
                        result = result.symmetric_difference(&theirs).cloned().collect();
                    }
                }
            }
            result
        })
    }
}

/// Replaces the whole set with `members` in one `MULTI`/`EXEC`; the new length.
fn replace_members(handle: &KeyHandle, members: HashSet<Vec<u8>>) -> Operation<usize> {
    let members: Vec<Vec<u8>> = members.into_iter().collect();
    let mut pipeline = redis::pipe();
    pipeline.atomic().cmd("UNLINK").arg(handle.name()).ignore();
    for command in add_members(handle.name(), &members).cmd_iter() {
        pipeline.add_command(command.clone()).ignore();
    }
    pipeline.cmd("SCARD").arg(handle.name());
    handle
        .request_pipeline::<(usize,)>(pipeline)
        .map(|(length,)| length)
}
