//! Summary statistics of a set of timed samples.

use std::time::Duration;

/// Mean, spread and percentiles of a non-empty set of samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub mean: Duration,
    pub min: Duration,
    pub max: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
}

impl Summary {
    /// Summarises the samples; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let total: Duration = sorted.iter().sum();
        Some(Summary {
            count: sorted.len(),
            mean: total / sorted.len() as u32,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            p50: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
        })
    }
}

/// The q-th percentile (0..=100) of sorted samples, interpolating linearly between the two
/// nearest ranks (so the 50th percentile of an even count is the mean of the middle pair).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    assert!(!sorted.is_empty(), "percentile of no samples");
    let pos = (q.clamp(0.0, 100.0) / 100.0) * (sorted.len() - 1) as f64;
    let lower = pos.floor() as usize;
    let upper = pos.ceil() as usize;
    let frac = pos - lower as f64;
    let low = sorted[lower];
    let gap = sorted[upper] - low;
    // Whole nanoseconds, so exact inputs give exact percentiles.
    low + Duration::from_nanos((gap.as_nanos() as f64 * frac).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn median_of_even_count_is_mean_of_middle_pair() {
        let s = Summary::of(&ms(&[4, 1, 3, 2])).unwrap();
        assert_eq!(s.p50, Duration::from_micros(2500));
        assert_eq!(s.mean, Duration::from_micros(2500));
    }

    #[test]
    fn median_of_odd_count_is_middle_sample_regardless_of_order() {
        let s = Summary::of(&ms(&[9, 1, 5])).unwrap();
        assert_eq!(s.p50, Duration::from_millis(5));
        assert_eq!(
            (s.min, s.max),
            (Duration::from_millis(1), Duration::from_millis(9))
        );
    }

    #[test]
    fn p99_of_hundred_and_one_samples_is_the_second_largest() {
        let samples: Vec<u64> = (0..=100).rev().collect();
        let s = Summary::of(&ms(&samples)).unwrap();
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.p90, Duration::from_millis(90));
        assert_eq!(s.count, 101);
    }

    #[test]
    fn outlier_moves_mean_but_not_median() {
        let s = Summary::of(&ms(&[1, 1, 1, 1, 96])).unwrap();
        assert_eq!(s.p50, Duration::from_millis(1));
        assert_eq!(s.mean, Duration::from_millis(20));
    }

    #[test]
    fn no_samples_has_no_summary() {
        assert_eq!(Summary::of(&[]), None);
    }
}
