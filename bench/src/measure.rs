//! Measuring: wall time over repeated runs, throughput, and latency distributions.
//!
//! [`time_runs`] runs a closure k times and keeps every wall time in a [`Timing`], whose
//! median is the number to report (it shrugs off the odd run disturbed by another process
//! on a shared machine) and whose min and max show the spread. [`Latencies`] records many
//! short operations into an HDR histogram and summarizes them as a [`LatencySummary`].
//!
//! ```
//! use eau2_bench::measure::{time_runs, Latencies};
//! use std::time::Duration;
//!
//! let t = time_runs(3, || (0..1000u64).sum::<u64>());
//! assert_eq!(t.samples().len(), 3);
//! assert!(t.min() <= t.median() && t.median() <= t.max());
//!
//! let mut lat = Latencies::new();
//! lat.record(Duration::from_micros(10));
//! lat.record(Duration::from_micros(1000));
//! assert_eq!(lat.summary().count, 2);
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// The wall times of repeated runs of one piece of work, sorted ascending.
#[derive(Clone, Debug)]
pub struct Timing {
    samples: Vec<Duration>,
}

impl Timing {
    /// A timing from samples in any order; there must be at least one.
    pub fn new(mut samples: Vec<Duration>) -> Timing {
        assert!(!samples.is_empty(), "a timing needs at least one run");
        samples.sort();
        Timing { samples }
    }

    /// Every run's time, fastest first.
    pub fn samples(&self) -> &[Duration] {
        &self.samples
    }

    /// The median run (the mean of the two middle runs when there is an even number).
    pub fn median(&self) -> Duration {
        let n = self.samples.len();
        if n % 2 == 1 {
            self.samples[n / 2]
        } else {
            (self.samples[n / 2 - 1] + self.samples[n / 2]) / 2
        }
    }

    /// The fastest run.
    pub fn min(&self) -> Duration {
        self.samples[0]
    }

    /// The slowest run.
    pub fn max(&self) -> Duration {
        self.samples[self.samples.len() - 1]
    }

    /// Seconds as a [`Stat`]: median, min, max.
    pub fn seconds(&self) -> Stat {
        Stat {
            value: self.median().as_secs_f64(),
            min: self.min().as_secs_f64(),
            max: self.max().as_secs_f64(),
        }
    }

    /// Throughput in MB/s (10^6 bytes per second) for `bytes` of work per run, as a
    /// [`Stat`]: the median time gives the value, the slowest run the min and the fastest
    /// the max.
    pub fn throughput(&self, bytes: u64) -> Stat {
        Stat {
            value: mb_per_s(bytes, self.median()),
            min: mb_per_s(bytes, self.max()),
            max: mb_per_s(bytes, self.min()),
        }
    }
}

/// A reported number with its spread over runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// The number to report (a median).
    pub value: f64,
    /// The lowest value seen.
    pub min: f64,
    /// The highest value seen.
    pub max: f64,
}

impl Stat {
    /// A single measurement: value, min and max are all `v`.
    pub fn single(v: f64) -> Stat {
        Stat {
            value: v,
            min: v,
            max: v,
        }
    }
}

/// Runs `work` `runs` times (at least once) and times each run.
///
/// The result of each run passes through [`black_box`] and is then dropped inside the
/// timed region, so the compiler cannot skip the work and freeing what it built counts as
/// part of it (a parser's caller pays for that too).
pub fn time_runs<T>(runs: usize, mut work: impl FnMut() -> T) -> Timing {
    let samples = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            drop(black_box(work()));
            start.elapsed()
        })
        .collect();
    Timing::new(samples)
}

/// Runs `work` once; returns its result and how long it took.
pub fn time_once<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = work();
    (out, start.elapsed())
}

/// `bytes` over `time` in MB/s, where a MB is 10^6 bytes (the unit disks and networks are
/// quoted in).
pub fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64().max(1e-12)
}

/// A latency distribution in microseconds, kept in an HDR histogram (3 significant
/// digits, so recording is constant-time and the memory is fixed whatever the count).
#[derive(Clone, Debug)]
pub struct Latencies {
    hist: Histogram<u64>,
}

/// Percentiles of a [`Latencies`], in microseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencySummary {
    /// How many operations were recorded.
    pub count: u64,
    /// The median.
    pub p50: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The 99.9th percentile.
    pub p999: u64,
    /// The largest value recorded.
    pub max: u64,
}

impl Latencies {
    /// An empty distribution.
    pub fn new() -> Latencies {
        Latencies {
            // 3 significant figures over an auto-resizing range: no value is ever refused.
            hist: Histogram::new(3).expect("3 significant figures is a valid precision"),
        }
    }

    /// Records one operation's latency (rounded down to whole microseconds).
    pub fn record(&mut self, latency: Duration) {
        self.record_micros(latency.as_micros().min(u64::MAX as u128) as u64);
    }

    /// Records one latency given in microseconds.
    pub fn record_micros(&mut self, micros: u64) {
        // `record` grows the histogram to fit. (`saturating_record` never grows it: every
        // value of 2048 us or more, past the first bucket, was recorded as the histogram's
        // initial highest trackable value, 2 us, so slow operations vanished from the
        // tail.) Only a value beyond any range fails, and is then clamped.
        if self.hist.record(micros).is_err() {
            self.hist.saturating_record(micros);
        }
    }

    /// Times `op` and records its latency; returns its result.
    pub fn time<T>(&mut self, op: impl FnOnce() -> T) -> T {
        let (out, took) = time_once(op);
        self.record(took);
        out
    }

    /// Adds every value recorded in `other` (e.g. from another thread).
    pub fn merge(&mut self, other: &Latencies) {
        // Both histograms auto-resize, so adding cannot run out of range.
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms accept any values");
    }

    /// p50, p99, p99.9 and max in microseconds (all 0 when nothing was recorded).
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.hist.len(),
            p50: self.hist.value_at_quantile(0.5),
            p99: self.hist.value_at_quantile(0.99),
            p999: self.hist.value_at_quantile(0.999),
            max: self.hist.max(),
        }
    }
}

/// One step of a latency distribution by percentile (see [`Latencies::percentiles`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentile {
    /// The fraction of operations, 0 to 1, this step reaches.
    pub quantile: f64,
    /// The latency at it, in microseconds.
    pub value: u64,
    /// Operations recorded since the previous step.
    pub count_since_last: u64,
}

/// What a latency histogram holds overall, in microseconds, and how it is laid out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// Operations recorded.
    pub count: u64,
    /// Their mean.
    pub mean: f64,
    /// Their standard deviation.
    pub stdev: f64,
    /// The largest.
    pub max: u64,
    /// The histogram's buckets (each a power of two of range).
    pub buckets: u8,
    /// Sub-buckets per bucket, from the precision kept.
    pub sub_buckets: u64,
}

impl Latencies {
    /// The distribution by percentile, in steps that halve the distance to 100%
    /// `ticks_per_half` times each (HdrHistogram's percentile iteration), ending at 100%.
    pub fn percentiles(&self, ticks_per_half: u32) -> Vec<Percentile> {
        self.hist
            .iter_quantiles(ticks_per_half)
            .map(|v| Percentile {
                quantile: v.quantile_iterated_to(),
                value: self.hist.highest_equivalent(v.value_iterated_to()),
                count_since_last: v.count_since_last_iteration(),
            })
            .collect()
    }

    /// The count, mean, deviation and maximum, and the histogram's layout.
    pub fn shape(&self) -> Shape {
        Shape {
            count: self.hist.len(),
            mean: self.hist.mean(),
            stdev: self.hist.stdev(),
            max: self.hist.max(),
            buckets: self.hist.buckets(),
            sub_buckets: (2 * 10u64.pow(u32::from(self.hist.sigfig()))).next_power_of_two(),
        }
    }
}

impl Default for Latencies {
    fn default() -> Latencies {
        Latencies::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        let t = Timing::new(vec![ms(3), ms(1), ms(2)]);
        assert_eq!((t.median(), t.min(), t.max()), (ms(2), ms(1), ms(3)));
        let t = Timing::new(vec![ms(4), ms(1), ms(2), ms(3)]);
        assert_eq!(t.median(), Duration::from_micros(2500));
    }

    #[test]
    fn throughput_in_decimal_megabytes() {
        assert_eq!(mb_per_s(2_000_000, Duration::from_secs(1)), 2.0);
        let t = Timing::new(vec![Duration::from_secs(1), Duration::from_secs(2)]);
        let s = t.throughput(6_000_000);
        assert_eq!((s.value, s.min, s.max), (4.0, 3.0, 6.0));
    }

    #[test]
    fn latency_percentiles() {
        let mut l = Latencies::new();
        for us in 1..=1000 {
            l.record_micros(us);
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        assert!((499..=501).contains(&s.p50), "{s:?}");
        assert!((989..=991).contains(&s.p99), "{s:?}");
        assert_eq!(s.max, 1000);
    }

    #[test]
    fn slow_operations_are_kept() {
        let mut l = Latencies::new();
        l.record_micros(30);
        l.record(Duration::from_secs(2));
        let s = l.summary();
        assert_eq!(s.count, 2);
        assert!((1_999_000..=2_001_000).contains(&s.max), "{s:?}");
    }
}
