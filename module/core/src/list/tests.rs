use super::*;
use proptest::prelude::*;

/// CPython's `list.insert`, written from `ins1` in listobject.c.
fn python_insert(list: &mut Vec<u32>, index: i64, item: u32) {
    let len = list.len() as i64;
    let mut at = index;
    if at < 0 {
        at += len;
        if at < 0 {
            at = 0;
        }
    }
    if at > len {
        at = len;
    }
    list.insert(at as usize, item);
}

/// CPython's `list.pop`: `None` where it raises `IndexError`.
fn python_pop(list: &mut Vec<u32>, index: i64) -> Option<u32> {
    let len = list.len() as i64;
    let at = if index < 0 {
        index.checked_add(len)?
    } else {
        index
    };
    (0..len).contains(&at).then(|| list.remove(at as usize))
}

/// CPython's `PySlice_AdjustIndices` (step 1) then `list_ass_slice`.
fn python_set_slice(list: &mut Vec<u32>, start: i64, stop: i64, values: &[u32]) {
    let len = list.len() as i64;
    let adjust = |bound: i64| {
        if bound < 0 {
            (bound + len).max(0)
        } else {
            bound.min(len)
        }
    };
    let low = adjust(start);
    let high = adjust(stop).max(low);
    list.splice(low as usize..high as usize, values.iter().copied());
}

/// `collections.deque.rotate`, through std's rotation.
fn python_rotate(deque: &mut VecDeque<u32>, n: i64) {
    if !deque.is_empty() {
        let k = (i128::from(n).rem_euclid(deque.len() as i128)) as usize;
        deque.rotate_right(k);
    }
}

/// `deque(maxlen=m).extend(values)` / `extendleft`: one element at a time, dropping from the
/// other end whenever the bound is exceeded (also before the first value, for a list that
/// another writer made longer than the bound).
fn python_extend(deque: &mut VecDeque<u32>, end: End, maxlen: MaxLen, values: &[u32]) {
    let trim = |deque: &mut VecDeque<u32>| {
        if let MaxLen::Bounded(bound) = maxlen {
            while deque.len() > bound {
                match end {
                    End::Head => deque.pop_back(),
                    End::Tail => deque.pop_front(),
                };
            }
        }
    };
    trim(deque);
    for &value in values {
        match end {
            End::Head => deque.push_front(value),
            End::Tail => deque.push_back(value),
        }
        trim(deque);
    }
}

/// A store that counts the elements it moves, to check rotation costs.
#[derive(Default)]
struct Counting {
    items: VecDeque<u32>,
    moves: usize,
}

impl ListStore for Counting {
    type Item = u32;
    fn len(&self) -> usize {
        self.items.len()
    }
    fn push(&mut self, end: End, item: u32) -> Result<(), CommandError> {
        self.moves += 1;
        self.items.push(end, item)
    }
    fn pop(&mut self, end: End) -> Result<u32, CommandError> {
        ListStore::pop(&mut self.items, end)
    }
    fn take(&mut self, index: usize) -> Result<u32, CommandError> {
        self.items.take(index)
    }
    fn set(&mut self, index: usize, item: u32) -> Result<(), CommandError> {
        ListStore::set(&mut self.items, index, item)
    }
    fn insert_before(&mut self, index: usize, item: u32) -> Result<(), CommandError> {
        self.items.insert_before(index, item)
    }
    fn remove(&mut self, index: usize) -> Result<(), CommandError> {
        ListStore::remove(&mut self.items, index)
    }
    fn clear(&mut self) -> Result<(), CommandError> {
        ListStore::clear(&mut self.items)
    }
}

/// Indexes that matter: around the length, and the extremes of i64.
fn index() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -12i64..12,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just(i64::MIN + 1),
        1 => any::<i64>(),
    ]
}

#[derive(Debug, Clone)]
enum Operation {
    Insert(i64, u32),
    Pop(i64),
    SetSlice(i64, i64, Vec<u32>),
    Rotate(i64),
    Push(End, i64, Vec<u32>),
}

fn operation() -> impl Strategy<Value = Operation> {
    let values = || proptest::collection::vec(any::<u32>(), 0..6);
    let end = prop_oneof![Just(End::Head), Just(End::Tail)];
    prop_oneof![
        (index(), any::<u32>()).prop_map(|(i, v)| Operation::Insert(i, v)),
        index().prop_map(Operation::Pop),
        (index(), index(), values()).prop_map(|(a, b, v)| Operation::SetSlice(a, b, v)),
        index().prop_map(Operation::Rotate),
        (end, prop_oneof![Just(-1i64), 0i64..8], values())
            .prop_map(|(e, m, v)| Operation::Push(e, m, v)),
    ]
}

#[test]
fn index_rules_at_the_extremes() {
    assert_eq!(insertion_point(i64::MIN, 0), 0);
    assert_eq!(insertion_point(i64::MAX, 0), 0);
    assert_eq!(insertion_point(-3, 3), 0);
    assert_eq!(insertion_point(-4, 3), 0);
    assert_eq!(element_index(-3, 3), Some(0));
    assert_eq!(element_index(-4, 3), None);
    assert_eq!(element_index(i64::MAX, usize::MAX), Some(i64::MAX as usize));
    assert_eq!(element_index(-1, usize::MAX), Some(usize::MAX - 1));
    assert_eq!(slice_bounds(i64::MIN, i64::MAX, 4), (0, 4));
    assert_eq!(slice_bounds(i64::MAX, i64::MIN, 4), (4, 4));
    assert_eq!(slice_bounds(0, 0, 0), (0, 0));
}

#[test]
fn rotation_moves_at_most_half() {
    assert_eq!(rotation(0, 1), None);
    assert_eq!(rotation(i64::MAX, 1), None);
    assert_eq!(rotation(i64::MIN, 2), None);
    assert_eq!(
        rotation(i64::MIN + 1, 2),
        Some(Rotation {
            from: End::Tail,
            count: 1
        })
    );
    // i64::MIN mod 3 is 1 with floor modulo (−2^63 = −3·3074457345618258603 + 1).
    assert_eq!(
        rotation(i64::MIN, 3),
        Some(Rotation {
            from: End::Tail,
            count: 1
        })
    );
    assert_eq!(
        rotation(500_000, 1_000_000),
        Some(Rotation {
            from: End::Tail,
            count: 500_000
        })
    );
    assert_eq!(
        rotation(500_001, 1_000_000),
        Some(Rotation {
            from: End::Head,
            count: 499_999
        })
    );
}

#[test]
fn maxlen_wire_form() {
    assert_eq!(MaxLen::from_wire(0), Ok(MaxLen::Bounded(0)));
    assert_eq!(
        MaxLen::from_wire(i64::MAX),
        Ok(MaxLen::Bounded(i64::MAX as usize))
    );
    assert_eq!(
        MaxLen::from_wire(i64::MIN).unwrap_err().to_string(),
        "ERR maxlen: must be -1 or >= 0"
    );
}

#[test]
fn push_with_maxlen_zero_clears_and_reports_change_only_when_there_was_something() {
    let mut deque: VecDeque<u32> = VecDeque::new();
    let written = push(&mut deque, End::Tail, MaxLen::Bounded(0), [1, 2]).unwrap();
    assert_eq!(
        written,
        Written {
            len: 0,
            changed: false
        }
    );
    let mut deque = VecDeque::from([7]);
    let written = push(&mut deque, End::Head, MaxLen::Bounded(0), [1]).unwrap();
    assert_eq!(
        written,
        Written {
            len: 0,
            changed: true
        }
    );
    assert!(deque.is_empty());
}

#[test]
fn pop_and_set_slice_on_an_empty_list_change_nothing() {
    let mut list: VecDeque<u32> = VecDeque::new();
    assert_eq!(pop(&mut list, -1), Ok(None));
    assert_eq!(pop(&mut list, 0), Ok(None));
    assert_eq!(
        set_slice(&mut list, 0, i64::MAX, []),
        Ok(Written {
            len: 0,
            changed: false
        })
    );
    assert_eq!(
        rotate(&mut list, i64::MIN),
        Ok(Written {
            len: 0,
            changed: false
        })
    );
}

proptest! {
    #[test]
    fn every_operation_matches_python(
        start in proptest::collection::vec(any::<u32>(), 0..10),
        operations in proptest::collection::vec(operation(), 1..30),
    ) {
        let mut ours: VecDeque<u32> = start.iter().copied().collect();
        let mut python: Vec<u32> = start;
        for operation in operations {
            let before: Vec<u32> = python.clone();
            match operation.clone() {
                Operation::Insert(index, item) => {
                    let len = insert(&mut ours, index, item).unwrap();
                    python_insert(&mut python, index, item);
                    prop_assert_eq!(len, python.len());
                }
                Operation::Pop(index) => {
                    let popped = pop(&mut ours, index).unwrap();
                    prop_assert_eq!(popped, python_pop(&mut python, index));
                }
                Operation::SetSlice(start, stop, values) => {
                    let written = set_slice(&mut ours, start, stop, values.clone()).unwrap();
                    python_set_slice(&mut python, start, stop, &values);
                    prop_assert_eq!(written.len, python.len());
                    prop_assert_eq!(written.changed, python != before || !values.is_empty());
                }
                Operation::Rotate(n) => {
                    let written = rotate(&mut ours, n).unwrap();
                    let mut deque: VecDeque<u32> = python.iter().copied().collect();
                    python_rotate(&mut deque, n);
                    python = deque.into();
                    prop_assert_eq!(written.len, python.len());
                    if written.changed {
                        prop_assert!(python.len() > 1);
                    } else {
                        prop_assert_eq!(&python, &before);
                    }
                }
                Operation::Push(end, maxlen, values) => {
                    let maxlen = MaxLen::from_wire(maxlen).unwrap();
                    let written = push(&mut ours, end, maxlen, values.clone()).unwrap();
                    let mut deque: VecDeque<u32> = python.iter().copied().collect();
                    python_extend(&mut deque, end, maxlen, &values);
                    python = deque.into();
                    prop_assert_eq!(written.len, python.len());
                    if !written.changed {
                        prop_assert_eq!(&python, &before);
                    }
                }
            }
            prop_assert_eq!(ours.iter().copied().collect::<Vec<_>>(), python.clone(), "after {:?}", operation);
        }
    }

    #[test]
    fn rotation_never_moves_more_than_half(len in 0usize..200, n in index()) {
        let mut store = Counting { items: (0..len as u32).collect(), moves: 0 };
        rotate(&mut store, n).unwrap();
        prop_assert!(store.moves <= len / 2);
        let mut expected: VecDeque<u32> = (0..len as u32).collect();
        python_rotate(&mut expected, n);
        prop_assert_eq!(store.items, expected);
    }

    #[test]
    fn index_math_never_overflows(index: i64, len in prop_oneof![0usize..10, Just(usize::MAX), any::<usize>()]) {
        prop_assert!(insertion_point(index, len) <= len);
        if let Some(at) = element_index(index, len) {
            prop_assert!(at < len);
        }
        let (low, high) = slice_bounds(index, index.wrapping_mul(3), len);
        prop_assert!(low <= high && high <= len);
        if let Some(plan) = rotation(index, len) {
            prop_assert!(plan.count > 0 && plan.count <= len / 2);
        }
    }
}
