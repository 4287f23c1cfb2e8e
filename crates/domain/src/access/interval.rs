//! Half-open UTC intervals `[start_ms, end_ms)` and the set operations the decision core needs.

use serde::{Deserialize, Serialize};

/// A half-open interval of UTC epoch milliseconds: `start_ms` inclusive, `end_ms` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    /// First instant inside (inclusive).
    pub start_ms: i64,
    /// First instant after (exclusive).
    pub end_ms: i64,
}

impl Interval {
    /// `[start_ms, end_ms)`.
    pub const fn new(start_ms: i64, end_ms: i64) -> Self {
        Self { start_ms, end_ms }
    }

    /// Holds no instant.
    pub const fn is_empty(&self) -> bool {
        self.end_ms <= self.start_ms
    }

    /// `at_ms` lies inside.
    pub const fn contains(&self, at_ms: i64) -> bool {
        self.start_ms <= at_ms && at_ms < self.end_ms
    }

    /// The common part (possibly empty).
    #[must_use]
    pub fn intersect(&self, other: &Interval) -> Interval {
        Interval::new(
            self.start_ms.max(other.start_ms),
            self.end_ms.min(other.end_ms),
        )
    }
}

/// Sorts, drops empty intervals and merges overlapping or touching ones: the result is sorted and
/// disjoint, the canonical form every function here returns.
pub fn normalize(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.retain(|interval| !interval.is_empty());
    intervals.sort_unstable();
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match merged.last_mut() {
            Some(last) if interval.start_ms <= last.end_ms => {
                last.end_ms = last.end_ms.max(interval.end_ms);
            }
            _ => merged.push(interval),
        }
    }
    merged
}

/// The intersection of two normalized sets (result normalized).
pub fn intersect_sets(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        let common = x.intersect(y);
        if !common.is_empty() {
            out.push(common);
        }
        if x.end_ms < y.end_ms {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Whether a normalized set contains `at_ms` (binary search).
pub fn set_contains(set: &[Interval], at_ms: i64) -> bool {
    let idx = set.partition_point(|interval| interval.end_ms <= at_ms);
    set.get(idx)
        .is_some_and(|interval| interval.contains(at_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_merges_overlapping_and_touching_and_drops_empty() {
        let got = normalize(vec![
            Interval::new(10, 20),
            Interval::new(5, 5),
            Interval::new(15, 30),
            Interval::new(30, 40),
            Interval::new(50, 60),
        ]);
        assert_eq!(got, vec![Interval::new(10, 40), Interval::new(50, 60)]);
    }

    #[test]
    fn intersect_sets_keeps_only_common_parts() {
        let a = [Interval::new(0, 10), Interval::new(20, 30)];
        let b = [Interval::new(5, 25)];
        assert_eq!(
            intersect_sets(&a, &b),
            vec![Interval::new(5, 10), Interval::new(20, 25)]
        );
        assert!(set_contains(&a, 0));
        assert!(!set_contains(&a, 10));
        assert!(set_contains(&a, 29));
        assert!(!set_contains(&a, 15));
    }
}
