//! Python `Counter`'s summaries (`most_common`, `elements`, `total`) and operators (`+`, `-`,
//! `|`, `&`) for [`RedisCounter`]: each reads the counter once and computes in the client.

use std::collections::HashMap;
use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::containers::counter::{parse_count, RedisCounter};
use crate::error::Error;
use crate::face::operation::Operation;
use crate::face::Face;

impl<T, F: Face> RedisCounter<T, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// The `n` most common elements and their counts, most common first (all of them when
    /// `n` is `None`): Python's `c.most_common(n)`. Equal counts come in no particular order.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "abracadabra".chars())?;
    /// assert_eq!(counter.most_common(Some(1))?, [('a', 5)]);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn most_common(&self, n: Option<usize>) -> F::Output<Vec<(T, i64)>>
    where
        T: Eq + Hash,
    {
        F::run(self.snapshot().map(move |counts| {
            let mut counts: Vec<(T, i64)> = counts.into_iter().collect();
            counts.sort_by_key(|entry| std::cmp::Reverse(entry.1));
            if let Some(n) = n {
                counts.truncate(n);
            }
            counts
        }))
    }

    /// Every element repeated as many times as its count (elements with a count below 1 are
    /// skipped): Python's `c.elements()`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter: pottery::RedisCounter<char> = pottery::RedisCounter::new("redis://127.0.0.1:6379/")?;
    /// counter.update_counts([('x', 2), ('y', 0)])?;
    /// assert_eq!(counter.elements()?, ['x', 'x']);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn elements(&self) -> F::Output<Vec<T>>
    where
        T: Eq + Hash + Clone,
    {
        F::run(self.snapshot().map(|counts| {
            let mut elements = Vec::new();
            for (element, count) in counts {
                let repeat = usize::try_from(count).unwrap_or(0);
                elements.extend(std::iter::repeat_n(element, repeat));
            }
            elements
        }))
    }

    /// The sum of all counts: Python's `c.total()`.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] if the sum leaves `i64`.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "hello".chars())?;
    /// assert_eq!(counter.total()?, 5);
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn total(&self) -> F::Output<i64> {
        F::run(self.stored_counts().and_then(|stored| {
            stored.iter().try_fold(0i64, |sum, value| {
                sum.checked_add(parse_count(value)?).ok_or(Error::Overflow)
            })
        }))
    }

    /// Python's `c + other`: counts added, only positive results kept.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::collections::HashMap;
    ///
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aab".chars())?;
    /// let sum = counter.plus(&HashMap::from([('a', 1), ('b', -1)]))?;
    /// assert_eq!(sum, HashMap::from([('a', 3)]));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn plus(&self, other: &HashMap<T, i64>) -> F::Output<HashMap<T, i64>>
    where
        T: Eq + Hash + Clone,
    {
        F::run(self.combine(other, |mine, theirs| mine.checked_add(theirs)))
    }

    /// Python's `c - other`: counts subtracted, only positive results kept.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::collections::HashMap;
    ///
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aab".chars())?;
    /// assert_eq!(counter.minus(&HashMap::from([('a', 1), ('b', 1)]))?, HashMap::from([('a', 1)]));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn minus(&self, other: &HashMap<T, i64>) -> F::Output<HashMap<T, i64>>
    where
        T: Eq + Hash + Clone,
    {
        F::run(self.combine(other, |mine, theirs| mine.checked_sub(theirs)))
    }

    /// Python's `c | other`: the larger of each pair of counts, only positive results kept.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::collections::HashMap;
    ///
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aab".chars())?;
    /// assert_eq!(counter.union(&HashMap::from([('b', 3)]))?, HashMap::from([('a', 2), ('b', 3)]));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn union(&self, other: &HashMap<T, i64>) -> F::Output<HashMap<T, i64>>
    where
        T: Eq + Hash + Clone,
    {
        F::run(self.combine(other, |mine, theirs| Some(mine.max(theirs))))
    }

    /// Python's `c & other`: the smaller of each pair of counts, only positive results kept.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::collections::HashMap;
    ///
    /// let counter = pottery::RedisCounter::from_iter_in("redis://127.0.0.1:6379/", "aab".chars())?;
    /// assert_eq!(counter.intersection(&HashMap::from([('a', 1)]))?, HashMap::from([('a', 1)]));
    /// # Ok::<(), pottery::Error>(())
    /// ```
    pub fn intersection(&self, other: &HashMap<T, i64>) -> F::Output<HashMap<T, i64>>
    where
        T: Eq + Hash + Clone,
    {
        F::run(self.combine(other, |mine, theirs| Some(mine.min(theirs))))
    }

    /// Combines every element's count here and in `other` (0 where absent) and keeps the
    /// positive results, as Python's `Counter` operators do.
    fn combine(
        &self,
        other: &HashMap<T, i64>,
        operation: fn(i64, i64) -> Option<i64>,
    ) -> Operation<HashMap<T, i64>>
    where
        T: Eq + Hash + Clone,
    {
        let other = other.clone();
        self.snapshot().and_then(move |mine| {
            let mut result = HashMap::new();
            for element in mine.keys().chain(other.keys()) {
                if result.contains_key(element) {
                    continue;
                }
                let count = operation(
                    mine.get(element).copied().unwrap_or(0),
                    other.get(element).copied().unwrap_or(0),
                )
                .ok_or(Error::Overflow)?;
                if count > 0 {
                    result.insert(element.clone(), count);
                }
            }
            Ok(result)
        })
    }
}
