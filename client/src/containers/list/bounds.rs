//! Python's `l[start:stop]` as an `LRANGE`, without knowing the length.

/// The `LRANGE start end` (end inclusive) that returns Python's `l[start:stop]` without knowing
/// the length, or `None` when the slice is empty whatever the length.
///
/// Both rules clamp negative bounds the same way once `stop` is made inclusive (`stop − 1`),
/// except `stop` = 0 (Python: nothing; `LRANGE … -1`: up to the end), so that case, and a stop
/// not after a start of the same sign, are answered without a round trip.
pub(crate) fn lrange_bounds(start: i64, stop: i64) -> Option<(i64, i64)> {
    if stop == 0 || stop == i64::MIN || ((start < 0) == (stop < 0) && stop <= start) {
        return None;
    }
    Some((start, stop - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python's `l[start:stop]` on `0..len`.
    fn python_slice(len: usize, start: i64, stop: i64) -> Vec<i64> {
        let adjust = |bound: i64| {
            let bound = i128::from(bound);
            let len = len as i128;
            (if bound < 0 { bound + len } else { bound }).clamp(0, len) as i64
        };
        (adjust(start)..adjust(stop)).collect()
    }

    /// Redis's `LRANGE start end` on `0..len` (t_list.c `addListRangeReply`).
    fn redis_lrange(len: usize, start: i64, end: i64) -> Vec<i64> {
        let len = len as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let end = if end < 0 { len + end } else { end };
        if start > end || start >= len {
            return Vec::new();
        }
        (start..=end.min(len - 1)).collect()
    }

    #[test]
    fn zero_and_minimum_stops_are_empty() {
        assert_eq!(lrange_bounds(-3, 0), None);
        assert_eq!(lrange_bounds(0, 0), None);
        assert_eq!(lrange_bounds(i64::MIN, i64::MIN), None);
        assert_eq!(lrange_bounds(0, i64::MAX), Some((0, i64::MAX - 1)));
        assert_eq!(lrange_bounds(-3, -1), Some((-3, -2)));
    }

    #[test]
    fn lrange_bounds_give_python_slices_for_every_small_case() {
        let bounds: Vec<i64> = (-15..15)
            .chain([i64::MIN, i64::MIN + 1, i64::MAX])
            .collect();
        for len in 0..12 {
            for &start in &bounds {
                for &stop in &bounds {
                    let ours = match lrange_bounds(start, stop) {
                        Some((first, last)) => redis_lrange(len, first, last),
                        None => Vec::new(),
                    };
                    assert_eq!(
                        ours,
                        python_slice(len, start, stop),
                        "{len} [{start}:{stop}]"
                    );
                }
            }
        }
    }
}
