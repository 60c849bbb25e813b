//! Charts across runs: results that separate processes printed, drawn together.
//!
//! `eau2-bench-charts collectives --out bench/charts FILES...` reads the `op bytes ranks
//! ms` lines of eau2's runs (`eau2-bench-cluster collectives`, one per job size) and of
//! Open MPI's (`bench/mpi/collectives.c`) and draws, for each operation, the time
//! against the data size (one line per contender and job size) and against the number
//! of ranks (one line per contender and data size). `bench/collectives.sh` calls it.
//! A file's contender is named by its file name: `mpi-*` is Open MPI, the rest eau2.
//!
//! `eau2-bench-charts table FILES...` prints, for each operation, size and job size, the
//! median over rounds of each side's time and of the same-round ratio eau2 / Open MPI,
//! each round's ratio, and issue 8's target for it. A round is a folder: the files of
//! one folder were measured back to back (`bench/collectives.sh` makes one per round).
//! Both commands take the median over rounds where a cell was measured more than once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eau2_bench::chart::{save_svg, LineChart};
use eau2_bench::report::{human_bytes, read_timings, CollectiveTime};

/// Draws charts from results files of several runs.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    chart: Chart,
}

#[derive(Subcommand, Debug)]
enum Chart {
    /// Collectives: time vs data size and vs ranks, eau2 against Open MPI.
    Collectives {
        /// The folder to write the SVG files to.
        #[arg(long)]
        out: PathBuf,
        /// Results files (`mpi-*` for Open MPI's).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Collectives: a Markdown table of same-round ratios eau2 / Open MPI over rounds.
    Table {
        /// Results files (`mpi-*` for Open MPI's), one folder per round.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let done = match Args::parse().chart {
        Chart::Collectives { out, files } => collectives(&out, &files).map(|written| {
            for path in written {
                println!("wrote {}", path.display());
            }
        }),
        Chart::Table { files } => load(&files).map(|all| print!("{}", table(&all))),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eau2-bench-charts: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One measured cell: who, in which round (the file's folder), and the timing.
struct Measured {
    who: &'static str,
    round: PathBuf,
    time: CollectiveTime,
}

/// Every timing of `files`, each with its contender's name and round.
fn load(files: &[PathBuf]) -> Result<Vec<Measured>, String> {
    let mut all = Vec::new();
    for path in files {
        let who = contender(path);
        let round = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let timings = read_timings(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        if timings.is_empty() {
            return Err(format!(
                "{} has no `op bytes ranks ms` lines",
                path.display()
            ));
        }
        all.extend(timings.into_iter().map(|time| Measured {
            who,
            round: round.clone(),
            time,
        }));
    }
    Ok(all)
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// A cell of the benchmark: operation, bytes, ranks.
type Cell = (String, usize, usize);

/// Each contender's time per cell: the median over the rounds that measured it.
fn medians_over_rounds(all: &[Measured]) -> Vec<(&'static str, CollectiveTime)> {
    let mut grouped: BTreeMap<(&str, Cell), Vec<f64>> = BTreeMap::new();
    for m in all {
        let t = &m.time;
        let cell = (t.op.clone(), t.bytes, t.ranks);
        grouped.entry((m.who, cell)).or_default().push(t.ms);
    }
    grouped
        .into_iter()
        .map(|((who, (op, bytes, ranks)), times)| {
            let ms = median(times);
            (
                who,
                CollectiveTime {
                    op,
                    bytes,
                    ranks,
                    ms,
                },
            )
        })
        .collect()
}

/// Issue 8's target for eau2 / Open MPI: 2x at 64 KiB, 1.25x from 1 MiB.
fn target(bytes: usize) -> f64 {
    if bytes >= 1 << 20 {
        1.25
    } else {
        2.0
    }
}

/// One round's times of a cell: eau2's and Open MPI's, when measured.
type RoundTimes = (Option<f64>, Option<f64>);

/// The Markdown table of same-round ratios (see the module's documentation).
fn table(all: &[Measured]) -> String {
    let mut by_cell: BTreeMap<Cell, BTreeMap<&Path, RoundTimes>> = BTreeMap::new();
    for m in all {
        let t = &m.time;
        let rounds = by_cell.entry((t.op.clone(), t.bytes, t.ranks)).or_default();
        let (ours, theirs) = rounds.entry(m.round.as_path()).or_default();
        match m.who {
            "Open MPI" => *theirs = Some(t.ms),
            _ => *ours = Some(t.ms),
        }
    }
    let mut out = String::from(
        "| operation | size | n | eau2 ms | Open MPI ms | eau2 / MPI, median of rounds \
         (each round) | target |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    let (mut met, mut cells) = (0, 0);
    for ((op, bytes, ranks), rounds) in by_cell {
        let pairs: Vec<(f64, f64)> = rounds
            .values()
            .filter_map(|&(ours, theirs)| Some((ours?, theirs?)))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let ratios: Vec<f64> = pairs.iter().map(|(ours, theirs)| ours / theirs).collect();
        let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        let ratio = median(ratios);
        let limit = target(bytes);
        cells += 1;
        let verdict = if ratio <= limit {
            met += 1;
            "met"
        } else {
            "NOT met"
        };
        out += &format!(
            "| {op} | {} | {ranks} | {:.3} | {:.3} | {ratio:.2}x ({}) | {verdict} (<= {limit}x) |\n",
            human_bytes(bytes),
            median(pairs.iter().map(|p| p.0).collect()),
            median(pairs.iter().map(|p| p.1).collect()),
            each.join(", "),
        );
    }
    out += &format!("\n{met} of {cells} cells meet their target.\n");
    out
}

fn contender(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.starts_with("mpi") {
        "Open MPI"
    } else {
        "eau2"
    }
}

fn collectives(out: &Path, files: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let all = medians_over_rounds(&load(files)?);
    let ops: BTreeSet<&str> = all.iter().map(|(_, t)| t.op.as_str()).collect();
    let mut written = Vec::new();
    for op in ops {
        let of_op: Vec<&(&str, CollectiveTime)> = all.iter().filter(|(_, t)| t.op == op).collect();
        let ranks: BTreeSet<usize> = of_op.iter().map(|(_, t)| t.ranks).collect();
        let sizes: BTreeSet<usize> = of_op.iter().map(|(_, t)| t.bytes).collect();
        // One line per contender and fixed parameter, through the points that share it.
        let line =
            |who: &str, keep: &dyn Fn(&CollectiveTime) -> bool, x: fn(&CollectiveTime) -> f64| {
                let mut points: Vec<(f64, f64)> = of_op
                    .iter()
                    .filter(|(w, t)| *w == who && keep(t))
                    .map(|(_, t)| (x(t), t.ms))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                points
            };
        let mut by_size = LineChart::new(
            &format!("{op}: time vs data size"),
            "bytes per rank",
            "ms (median call)",
        );
        for &n in &ranks {
            for who in ["eau2", "Open MPI"] {
                let points = line(who, &|t| t.ranks == n, |t| t.bytes as f64);
                if !points.is_empty() {
                    by_size = by_size.series(&format!("{who}, {n} ranks"), points);
                }
            }
        }
        let mut by_ranks =
            LineChart::new(&format!("{op}: time vs ranks"), "ranks", "ms (median call)");
        for &bytes in &sizes {
            for who in ["eau2", "Open MPI"] {
                let points = line(who, &|t| t.bytes == bytes, |t| t.ranks as f64);
                if !points.is_empty() {
                    by_ranks = by_ranks.series(&format!("{who}, {}", human_bytes(bytes)), points);
                }
            }
        }
        for (chart, what) in [(by_size, "vs-size"), (by_ranks, "vs-ranks")] {
            let path = out.join(format!("collectives-{op}-{what}.svg"));
            let svg = chart.render().map_err(|e| e.to_string())?;
            save_svg(&path, &svg).map_err(|e| e.to_string())?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(who: &'static str, round: &str, op: &str, bytes: usize, ms: f64) -> Measured {
        Measured {
            who,
            round: PathBuf::from(round),
            time: CollectiveTime {
                op: op.to_string(),
                bytes,
                ranks: 2,
                ms,
            },
        }
    }

    #[test]
    fn the_table_takes_the_median_of_same_round_ratios() {
        let mib = 1 << 20;
        let all = vec![
            // Round ratios 1.0, 3.0, 1.2: the median is 1.2, met; the times' medians are
            // taken on each side separately.
            measured("eau2", "r1", "all_reduce", mib, 1.0),
            measured("Open MPI", "r1", "all_reduce", mib, 1.0),
            measured("eau2", "r2", "all_reduce", mib, 3.0),
            measured("Open MPI", "r2", "all_reduce", mib, 1.0),
            measured("eau2", "r3", "all_reduce", mib, 2.4),
            measured("Open MPI", "r3", "all_reduce", mib, 2.0),
            // Only one side measured: no row.
            measured("eau2", "r1", "broadcast", mib, 1.0),
            // 64 KiB has the looser target: 1.9x is met.
            measured("eau2", "r1", "all_to_all", 64 << 10, 1.9),
            measured("Open MPI", "r1", "all_to_all", 64 << 10, 1.0),
        ];
        let text = table(&all);
        assert!(
            text.contains("| all_reduce | 1 MiB | 2 | 2.400 | 1.000 | 1.20x (1.00, 3.00, 1.20) | met (<= 1.25x) |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| all_to_all | 64 KiB | 2 | 1.900 | 1.000 | 1.90x (1.90) | met (<= 2x) |"
            ),
            "{text}"
        );
        assert!(!text.contains("broadcast"), "{text}");
        assert!(text.contains("2 of 2 cells meet their target"), "{text}");
    }

    #[test]
    fn charts_use_each_sides_median_over_rounds() {
        let all = vec![
            measured("eau2", "r1", "broadcast", 1024, 1.0),
            measured("eau2", "r2", "broadcast", 1024, 5.0),
            measured("eau2", "r3", "broadcast", 1024, 2.0),
        ];
        let medians = medians_over_rounds(&all);
        assert_eq!(medians.len(), 1);
        assert_eq!(medians[0].1.ms, 2.0);
    }
}
