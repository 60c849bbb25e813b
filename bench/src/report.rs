//! Results as Markdown, ready to paste into `bench/RESULTS.md`.
//!
//! A [`Report`] collects rows (benchmark, metric, median/min/max, and optionally the ratio
//! to a *baseline* row measured in the same run) and named ratios between rows, then
//! prints them as Markdown tables under the exact command that produced them. Ratios are
//! always taken within one run because numbers from different runs on a shared machine are
//! not comparable.
//!
//! ```
//! use eau2_bench::measure::Stat;
//! use eau2_bench::report::Report;
//!
//! let mut r = Report::new("parse commits.ltgt");
//! r.add("memchr", "MB/s", Stat::single(4000.0));
//! r.add_vs("eau2", "MB/s", Stat::single(1000.0), "memchr");
//! r.ratio("eau2 / memchr", "eau2", "memchr", "MB/s");
//! let md = r.to_markdown();
//! assert!(md.contains("| eau2 | MB/s | 1000 |"));
//! assert!(md.contains("0.250x memchr"));
//! ```

use std::fmt::Write as _;

use crate::measure::Stat;

/// One line of a report's main table.
#[derive(Clone, Debug)]
struct Row {
    name: String,
    metric: String,
    stat: Stat,
    baseline: Option<String>,
}

/// A row of a report, as [`Report::rows`] shows it.
#[derive(Clone, Copy, Debug)]
pub struct RowView<'a> {
    /// The benchmark's name.
    pub name: &'a str,
    /// What was measured, with its unit.
    pub metric: &'a str,
    /// The number reported (a median).
    pub value: f64,
    /// The row it is measured against, if any.
    pub baseline: Option<&'a str>,
}

/// A named ratio `numerator / denominator` between two rows of the same metric.
#[derive(Clone, Debug)]
struct Ratio {
    label: String,
    numerator: String,
    denominator: String,
    metric: String,
}

/// A titled set of results printed as Markdown tables.
#[derive(Clone, Debug)]
pub struct Report {
    title: String,
    command: Option<String>,
    rows: Vec<Row>,
    ratios: Vec<Ratio>,
    notes: Vec<String>,
}

impl Report {
    /// An empty report.
    pub fn new(title: impl Into<String>) -> Report {
        Report {
            title: title.into(),
            command: None,
            rows: Vec::new(),
            ratios: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets the command line that reproduces the report (printed under the title).
    pub fn command(&mut self, command: impl Into<String>) -> &mut Report {
        self.command = Some(command.into());
        self
    }

    /// Adds a row without a baseline.
    pub fn add(&mut self, name: &str, metric: &str, stat: Stat) -> &mut Report {
        self.push(name, metric, stat, None)
    }

    /// Adds a row whose last column shows its ratio to the row called `baseline` with the
    /// same metric.
    pub fn add_vs(&mut self, name: &str, metric: &str, stat: Stat, baseline: &str) -> &mut Report {
        self.push(name, metric, stat, Some(baseline.to_string()))
    }

    fn push(
        &mut self,
        name: &str,
        metric: &str,
        stat: Stat,
        baseline: Option<String>,
    ) -> &mut Report {
        self.rows.push(Row {
            name: name.to_string(),
            metric: metric.to_string(),
            stat,
            baseline,
        });
        self
    }

    /// Adds a line to the ratios table: the value of row `numerator` over that of row
    /// `denominator`, both of metric `metric`.
    pub fn ratio(
        &mut self,
        label: &str,
        numerator: &str,
        denominator: &str,
        metric: &str,
    ) -> &mut Report {
        self.ratios.push(Ratio {
            label: label.to_string(),
            numerator: numerator.to_string(),
            denominator: denominator.to_string(),
            metric: metric.to_string(),
        });
        self
    }

    /// Adds a free-form line printed under the tables (sanity checks, caveats).
    pub fn note(&mut self, note: impl Into<String>) -> &mut Report {
        self.notes.push(note.into());
        self
    }

    /// The report's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Every row, in the order added.
    pub fn rows(&self) -> impl Iterator<Item = RowView<'_>> {
        self.rows.iter().map(|r| RowView {
            name: &r.name,
            metric: &r.metric,
            value: r.stat.value,
            baseline: r.baseline.as_deref(),
        })
    }

    /// Every ratio the report prints, labelled: each row measured against a baseline
    /// (`NAME / BASELINE (METRIC)`) unless a named ratio says the same, then the named
    /// ratios. Ratios whose rows are missing are left out.
    pub fn ratio_values(&self) -> Vec<(String, f64)> {
        let named_too = |r: &Row| {
            self.ratios.iter().any(|q| {
                q.numerator == r.name
                    && Some(&q.denominator) == r.baseline.as_ref()
                    && q.metric == r.metric
            })
        };
        let vs = self.rows.iter().filter(|r| !named_too(r)).filter_map(|r| {
            let base = self.value(r.baseline.as_deref()?, &r.metric)?;
            Some((
                format!("{} / {} ({})", r.name, r.baseline.as_deref()?, r.metric),
                r.stat.value / base,
            ))
        });
        let named = self.ratios.iter().filter_map(|r| {
            let n = self.value(&r.numerator, &r.metric)?;
            let d = self.value(&r.denominator, &r.metric)?;
            Some((r.label.clone(), n / d))
        });
        vs.chain(named).collect()
    }

    /// The value of row `name` with metric `metric`, if there is one.
    pub fn value(&self, name: &str, metric: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.name == name && r.metric == metric)
            .map(|r| r.stat.value)
    }

    /// The report as Markdown: a heading, the command, the main table, the ratios, notes.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(s, "### {}\n", self.title);
        if let Some(cmd) = &self.command {
            let _ = writeln!(s, "`{cmd}`\n");
        }
        let _ = writeln!(
            s,
            "| benchmark | metric | median | min | max | vs baseline |"
        );
        let _ = writeln!(s, "|---|---|---:|---:|---:|---|");
        for row in &self.rows {
            let vs = match &row.baseline {
                Some(b) => match self.value(b, &row.metric) {
                    Some(base) => format!("{}x {b}", fmt_num(row.stat.value / base)),
                    None => format!("(no row {b:?})"),
                },
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                row.name,
                row.metric,
                fmt_num(row.stat.value),
                fmt_num(row.stat.min),
                fmt_num(row.stat.max),
                vs
            );
        }
        if !self.ratios.is_empty() {
            let _ = writeln!(s, "\n| ratio | value |");
            let _ = writeln!(s, "|---|---:|");
            for r in &self.ratios {
                let value = match (
                    self.value(&r.numerator, &r.metric),
                    self.value(&r.denominator, &r.metric),
                ) {
                    (Some(n), Some(d)) => format!("{}x", fmt_num(n / d)),
                    _ => "n/a".to_string(),
                };
                let _ = writeln!(s, "| {} | {} |", r.label, value);
            }
        }
        if !self.notes.is_empty() {
            s.push('\n');
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }

    /// Prints [`Report::to_markdown`] to standard output.
    pub fn print(&self) {
        println!("{}", self.to_markdown());
    }
}

/// Three significant digits, without an exponent for everyday magnitudes: `1234`, `12.3`,
/// `0.123`.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 || a == 0.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// A description of this machine for a report's notes: core count, OS and architecture.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "{cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The 1, 5 and 15 minute load averages (from `/proc/loadavg`), for a report's notes: on
/// a shared machine they say how much of it a benchmark really had. `None` where the
/// system does not publish them.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

/// One collective's median time from a results file: what `eau2-bench-cluster
/// collectives` and `bench/mpi/collectives.c` both print, a line `op bytes ranks ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectiveTime {
    /// The operation: `all_reduce`, `broadcast` or `all_to_all`.
    pub op: String,
    /// Each rank's vector (the total each rank sends in all-to-all).
    pub bytes: usize,
    /// The job size.
    pub ranks: usize,
    /// The median call, in milliseconds.
    pub ms: f64,
}

/// Reads the `op bytes ranks ms` lines of `text`; other lines (a report's Markdown) are
/// skipped.
pub fn parse_timings(text: &str) -> Vec<CollectiveTime> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f[..] {
                [op, bytes, ranks, ms] => Some(CollectiveTime {
                    op: op.to_string(),
                    bytes: bytes.parse().ok()?,
                    ranks: ranks.parse().ok()?,
                    ms: ms.parse().ok()?,
                }),
                _ => None,
            }
        })
        .collect()
}

/// [`parse_timings`] of the file at `path`.
pub fn read_timings(path: &std::path::Path) -> std::io::Result<Vec<CollectiveTime>> {
    Ok(parse_timings(&std::fs::read_to_string(path)?))
}

/// A byte count as people write it: `64 KiB`, `16 MiB`, or `100 B`.
pub fn human_bytes(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(fmt_num(1234.4), "1234");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(1.234), "1.23");
        assert_eq!(fmt_num(0.1234), "0.123");
        assert_eq!(fmt_num(0.0), "0.000");
    }

    #[test]
    fn timings_lines_are_found_among_others() {
        let text =
            "### Collectives\n| a | b | c | d |\nall_reduce 65536 4 0.342000\n- wrote x.svg\n";
        let t = parse_timings(text);
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].op.as_str(), t[0].bytes, t[0].ranks, t[0].ms),
            ("all_reduce", 65536, 4, 0.342)
        );
        assert_eq!(human_bytes(65536), "64 KiB");
    }

    #[test]
    fn missing_baseline_is_shown_not_hidden() {
        let mut r = Report::new("t");
        r.add_vs("a", "MB/s", Stat::single(1.0), "nope");
        r.ratio("a / b", "a", "b", "MB/s");
        let md = r.to_markdown();
        assert!(md.contains("(no row \"nope\")"));
        assert!(md.contains("| a / b | n/a |"));
    }
}
