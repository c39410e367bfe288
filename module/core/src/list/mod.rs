//! Python `list` and `collections.deque` semantics over any list store.
//!
//! The module's `POTTERY.LIST.*` and `POTTERY.DEQUE.*` commands run these functions over a Redis
//! list; the unit and property tests run the very same functions over a `VecDeque` and compare
//! them with a direct model of Python's behaviour. Index rules follow CPython exactly (clamping
//! for `insert` and slices, `IndexError` for `pop`), computed in `i128` so that no `i64` index,
//! `i64::MIN` included, can overflow; no modulo is ever taken by a length that can be 0.

use crate::error::CommandError;
use std::collections::VecDeque;

/// One end of a list: the head is index 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Index 0 (`LPUSH`/`LPOP`, Python's `appendleft`/`popleft`).
    Head,
    /// The last index (`RPUSH`/`RPOP`, Python's `append`/`pop`).
    Tail,
}

impl End {
    /// The other end.
    pub fn opposite(self) -> End {
        match self {
            End::Head => End::Tail,
            End::Tail => End::Head,
        }
    }
}

/// The primitive operations a list offers. Indexes given to a store are always in range (the
/// functions of this module check them first); a store reports anything else as an error.
pub trait ListStore {
    /// An element, owned.
    type Item;

    /// The number of elements (0 for a missing key).
    fn len(&self) -> usize;

    /// Whether the list has no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `item` at `end` (creating the list if needed).
    fn push(&mut self, end: End, item: Self::Item) -> Result<(), CommandError>;

    /// Removes and returns the element at `end`; the list is not empty.
    fn pop(&mut self, end: End) -> Result<Self::Item, CommandError>;

    /// Removes and returns the element at `index`, 0 < `index` < len − 1 (the ends use `pop`).
    fn take(&mut self, index: usize) -> Result<Self::Item, CommandError>;

    /// Replaces the element at `index` < len.
    fn set(&mut self, index: usize, item: Self::Item) -> Result<(), CommandError>;

    /// Inserts `item` before the element at `index`, 0 < `index` < len (the ends use `push`).
    fn insert_before(&mut self, index: usize, item: Self::Item) -> Result<(), CommandError>;

    /// Removes the element at `index`, 0 < `index` < len − 1 (the ends use `pop`).
    fn remove(&mut self, index: usize) -> Result<(), CommandError>;

    /// Removes every element (the key is deleted).
    fn clear(&mut self) -> Result<(), CommandError>;
}

/// `collections.deque`'s `maxlen`: unbounded (`-1` on the wire) or a bound ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxLen {
    /// No bound.
    Unbounded,
    /// At most this many elements; 0 keeps nothing.
    Bounded(usize),
}

impl MaxLen {
    /// Reads the wire form: `-1` or any value ≥ 0, else `ERR maxlen: must be -1 or >= 0`.
    ///
    /// ```
    /// use pottery_core::list::MaxLen;
    /// assert_eq!(MaxLen::from_wire(-1), Ok(MaxLen::Unbounded));
    /// assert_eq!(MaxLen::from_wire(3), Ok(MaxLen::Bounded(3)));
    /// assert!(MaxLen::from_wire(-2).is_err());
    /// ```
    pub fn from_wire(value: i64) -> Result<MaxLen, CommandError> {
        match value {
            -1 => Ok(MaxLen::Unbounded),
            // On 32-bit targets a bound beyond usize::MAX is as good as unbounded.
            0.. => Ok(MaxLen::Bounded(
                usize::try_from(value).unwrap_or(usize::MAX),
            )),
            _ => Err(CommandError::Argument {
                argument: "maxlen",
                problem: "must be -1 or >= 0",
            }),
        }
    }
}

/// Where Python's `list.insert(index, x)` puts `x` in a list of `len` elements: a negative index
/// counts from the end, then the position is clamped to `0..=len`.
///
/// ```
/// use pottery_core::list::insertion_point;
/// assert_eq!(insertion_point(-1, 3), 2);
/// assert_eq!(insertion_point(i64::MIN, 3), 0);
/// assert_eq!(insertion_point(i64::MAX, 3), 3);
/// ```
pub fn insertion_point(index: i64, len: usize) -> usize {
    clamp_index(index, len)
}

/// Which element Python's `list[index]` (and `list.pop(index)`) means in a list of `len`
/// elements; `None` where Python raises `IndexError`.
///
/// ```
/// use pottery_core::list::element_index;
/// assert_eq!(element_index(-1, 3), Some(2));
/// assert_eq!(element_index(3, 3), None);
/// assert_eq!(element_index(i64::MIN, 3), None);
/// assert_eq!(element_index(0, 0), None);
/// ```
pub fn element_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i128;
    let index = i128::from(index);
    let absolute = if index < 0 { index + len } else { index };
    if (0..len).contains(&absolute) {
        usize::try_from(absolute).ok()
    } else {
        None
    }
}

/// The half-open range `[start, stop)` that Python's `list[start:stop]` (step 1) covers in a list
/// of `len` elements: each bound counts from the end when negative and is clamped to `0..=len`,
/// and a stop before the start gives an empty range at the start.
///
/// ```
/// use pottery_core::list::slice_bounds;
/// assert_eq!(slice_bounds(1, -1, 5), (1, 4));
/// assert_eq!(slice_bounds(-100, 100, 5), (0, 5));
/// assert_eq!(slice_bounds(4, 2, 5), (4, 4));
/// ```
pub fn slice_bounds(start: i64, stop: i64, len: usize) -> (usize, usize) {
    let start = clamp_index(start, len);
    let stop = clamp_index(stop, len).max(start);
    (start, stop)
}

/// Python's slice-bound rule: negative counts from the end, then clamp to `0..=len`.
fn clamp_index(index: i64, len: usize) -> usize {
    let wide_len = len as i128;
    let index = i128::from(index);
    let absolute = if index < 0 { index + wide_len } else { index };
    // The clamped value lies in 0..=len, so it fits in usize.
    usize::try_from(absolute.clamp(0, wide_len)).unwrap_or(len)
}

/// The cheapest way to rotate: move `count` elements, one at a time, from `from` to the other
/// end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// The end elements are popped from.
    pub from: End,
    /// How many elements move; 0 < count ≤ len / 2.
    pub count: usize,
}

/// How to perform Python's `deque.rotate(n)` on `len` elements, or `None` when it changes
/// nothing (empty list, or `n` a multiple of `len`).
///
/// Rotating right by k = n mod len (floor modulo, so −1 moves the head to the tail) moves k
/// elements from the tail to the head, or equivalently len − k from the head to the tail; the
/// smaller of the two is chosen, so a rotation never moves more than half the list.
///
/// ```
/// use pottery_core::list::{rotation, End, Rotation};
/// assert_eq!(rotation(1, 5), Some(Rotation { from: End::Tail, count: 1 }));
/// assert_eq!(rotation(-1, 5), Some(Rotation { from: End::Head, count: 1 }));
/// assert_eq!(rotation(4, 5), Some(Rotation { from: End::Head, count: 1 }));
/// assert_eq!(rotation(10, 5), None);
/// assert_eq!(rotation(i64::MIN, 0), None);
/// ```
pub fn rotation(n: i64, len: usize) -> Option<Rotation> {
    if len == 0 {
        return None;
    }
    // len > 0 here, so the modulo is defined; i128 holds every i64 and usize.
    let right = usize::try_from(i128::from(n).rem_euclid(len as i128)).ok()?;
    let left = len - right;
    match right {
        0 => None,
        _ if right <= left => Some(Rotation {
            from: End::Tail,
            count: right,
        }),
        _ => Some(Rotation {
            from: End::Head,
            count: left,
        }),
    }
}

/// What a write did: the length to reply, and whether anything changed (only then does the
/// command replicate, signal the key and fire its event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// The list's length afterwards.
    pub len: usize,
    /// Whether the list changed.
    pub changed: bool,
}

/// `POTTERY.DEQUE.ROTATE`: Python's `deque.rotate(n)`.
///
/// ```
/// use pottery_core::list::rotate;
/// use std::collections::VecDeque;
/// let mut deque: VecDeque<char> = "abcde".chars().collect();
/// rotate(&mut deque, 2).unwrap();
/// assert_eq!(deque.iter().collect::<String>(), "deabc");
/// ```
pub fn rotate<S: ListStore>(store: &mut S, n: i64) -> Result<Written, CommandError> {
    let len = store.len();
    let Some(Rotation { from, count }) = rotation(n, len) else {
        return Ok(Written {
            len,
            changed: false,
        });
    };
    for _ in 0..count {
        let item = store.pop(from)?;
        store.push(from.opposite(), item)?;
    }
    Ok(Written { len, changed: true })
}

/// `POTTERY.DEQUE.PUSH`: `append` (`end` = tail) or `appendleft` (head) of each value in order,
/// as `extend`/`extendleft` do, then trim from the opposite end down to `maxlen`.
///
/// Values that the trim would drop again are never pushed, and a push keeps the key (and its
/// TTL) whenever the result is not empty. `maxlen` 0 leaves nothing: the key is deleted.
///
/// ```
/// use pottery_core::list::{push, End, MaxLen};
/// use std::collections::VecDeque;
/// let mut deque: VecDeque<u8> = VecDeque::from([1, 2]);
/// let written = push(&mut deque, End::Head, MaxLen::Bounded(3), [3, 4]).unwrap();
/// assert_eq!(written.len, 3);
/// assert_eq!(deque, [4, 3, 1]);
/// ```
pub fn push<S, I>(
    store: &mut S,
    end: End,
    maxlen: MaxLen,
    values: I,
) -> Result<Written, CommandError>
where
    S: ListStore,
    I: IntoIterator<Item = S::Item>,
    I::IntoIter: ExactSizeIterator,
{
    let values = values.into_iter();
    let (bound, skip) = match maxlen {
        MaxLen::Unbounded => (usize::MAX, 0),
        MaxLen::Bounded(0) => {
            let changed = !store.is_empty();
            if changed {
                store.clear()?;
            }
            return Ok(Written { len: 0, changed });
        }
        // Of more values than fit, only the last `bound` survive the trim.
        MaxLen::Bounded(bound) => (bound, values.len().saturating_sub(bound)),
    };
    let mut changed = false;
    for item in values.skip(skip) {
        store.push(end, item)?;
        changed = true;
    }
    while store.len() > bound {
        store.pop(end.opposite())?;
        changed = true;
    }
    Ok(Written {
        len: store.len(),
        changed,
    })
}

/// `POTTERY.LIST.INSERT`: Python's `list.insert(index, item)`; replies the new length.
///
/// ```
/// use pottery_core::list::insert;
/// use std::collections::VecDeque;
/// let mut list: VecDeque<char> = "ac".chars().collect();
/// insert(&mut list, -1, 'b').unwrap();
/// insert(&mut list, 99, 'd').unwrap();
/// assert_eq!(list.iter().collect::<String>(), "abcd");
/// ```
pub fn insert<S: ListStore>(
    store: &mut S,
    index: i64,
    item: S::Item,
) -> Result<usize, CommandError> {
    let at = insertion_point(index, store.len());
    insert_at(store, at, item)?;
    Ok(store.len())
}

/// Inserts before position `at` ≤ len, pushing at the ends.
fn insert_at<S: ListStore>(store: &mut S, at: usize, item: S::Item) -> Result<(), CommandError> {
    if at == 0 {
        store.push(End::Head, item)
    } else if at >= store.len() {
        store.push(End::Tail, item)
    } else {
        store.insert_before(at, item)
    }
}

/// Removes the element at position `at` < len, popping at the ends.
fn remove_at<S: ListStore>(store: &mut S, at: usize) -> Result<(), CommandError> {
    let last = store.len().saturating_sub(1);
    if at == 0 {
        store.pop(End::Head).map(drop)
    } else if at == last {
        store.pop(End::Tail).map(drop)
    } else {
        store.remove(at)
    }
}

/// `POTTERY.LIST.POP`: Python's `list.pop(index)`; `None` where Python raises `IndexError`
/// (including an empty list), and then nothing changes.
///
/// ```
/// use pottery_core::list::pop;
/// use std::collections::VecDeque;
/// let mut list: VecDeque<char> = "abc".chars().collect();
/// assert_eq!(pop(&mut list, 1).unwrap(), Some('b'));
/// assert_eq!(pop(&mut list, -1).unwrap(), Some('c'));
/// assert_eq!(pop(&mut list, 5).unwrap(), None);
/// ```
pub fn pop<S: ListStore>(store: &mut S, index: i64) -> Result<Option<S::Item>, CommandError> {
    let len = store.len();
    let Some(at) = element_index(index, len) else {
        return Ok(None);
    };
    let item = if at == 0 {
        store.pop(End::Head)?
    } else if at + 1 == len {
        store.pop(End::Tail)?
    } else {
        store.take(at)?
    };
    Ok(Some(item))
}

/// `POTTERY.LIST.SETSLICE`: Python's `list[start:stop] = values` (step 1, stop exclusive; no
/// values deletes the slice). Elements of the slice are overwritten in place as far as values
/// go, then the rest of the slice is removed or the rest of the values inserted.
///
/// ```
/// use pottery_core::list::set_slice;
/// use std::collections::VecDeque;
/// let mut list: VecDeque<char> = "abcde".chars().collect();
/// set_slice(&mut list, 1, -1, ['X']).unwrap();
/// assert_eq!(list.iter().collect::<String>(), "aXe");
/// set_slice(&mut list, 1, 1, ['b', 'c']).unwrap();
/// assert_eq!(list.iter().collect::<String>(), "abcXe");
/// ```
pub fn set_slice<S, I>(
    store: &mut S,
    start: i64,
    stop: i64,
    values: I,
) -> Result<Written, CommandError>
where
    S: ListStore,
    I: IntoIterator<Item = S::Item>,
{
    let (start, stop) = slice_bounds(start, stop, store.len());
    let replaced = stop - start;
    let mut changed = false;
    let mut position = start;
    for item in values {
        if position < start + replaced {
            store.set(position, item)?;
        } else {
            insert_at(store, position, item)?;
        }
        position += 1;
        changed = true;
    }
    // Whatever of the slice the values did not overwrite goes; the elements after the slice
    // now start at `position`.
    let leftover = (start + replaced).saturating_sub(position);
    for _ in 0..leftover {
        remove_at(store, position)?;
        changed = true;
    }
    Ok(Written {
        len: store.len(),
        changed,
    })
}

/// An in-memory store, used by the tests and the examples.
impl<T> ListStore for VecDeque<T> {
    type Item = T;

    fn len(&self) -> usize {
        VecDeque::len(self)
    }

    fn push(&mut self, end: End, item: T) -> Result<(), CommandError> {
        match end {
            End::Head => self.push_front(item),
            End::Tail => self.push_back(item),
        }
        Ok(())
    }

    fn pop(&mut self, end: End) -> Result<T, CommandError> {
        match end {
            End::Head => self.pop_front(),
            End::Tail => self.pop_back(),
        }
        .ok_or(OUT_OF_RANGE)
    }

    fn take(&mut self, index: usize) -> Result<T, CommandError> {
        VecDeque::remove(self, index).ok_or(OUT_OF_RANGE)
    }

    fn set(&mut self, index: usize, item: T) -> Result<(), CommandError> {
        let slot = self.get_mut(index).ok_or(OUT_OF_RANGE)?;
        *slot = item;
        Ok(())
    }

    fn insert_before(&mut self, index: usize, item: T) -> Result<(), CommandError> {
        if index > VecDeque::len(self) {
            return Err(OUT_OF_RANGE);
        }
        self.insert(index, item);
        Ok(())
    }

    fn remove(&mut self, index: usize) -> Result<(), CommandError> {
        VecDeque::remove(self, index).map(drop).ok_or(OUT_OF_RANGE)
    }

    fn clear(&mut self) -> Result<(), CommandError> {
        VecDeque::clear(self);
        Ok(())
    }
}

const OUT_OF_RANGE: CommandError = CommandError::Internal("ERR index out of range");

#[cfg(test)]
mod tests;
