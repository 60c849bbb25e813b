//! Charts across runs: results that separate processes printed, drawn together.
//!
//! `eau2-bench-charts collectives --out bench/charts FILES...` reads the `op bytes ranks
//! ms` lines of eau2's runs (`eau2-bench-cluster collectives`, one per job size) and of
//! Open MPI's (`bench/mpi/collectives.c`) and draws, for each operation, the time
//! against the data size (one line per contender and job size) and against the number
//! of ranks (one line per contender and data size). `bench/collectives.sh` calls it.
//! A file's contender is named by its file name: `mpi-*` is Open MPI, the rest eau2.

use std::collections::BTreeSet;
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
}

fn main() -> ExitCode {
    let Chart::Collectives { out, files } = Args::parse().chart;
    match collectives(&out, &files) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("eau2-bench-charts: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every timing of `files`, each with its contender's name.
fn load(files: &[PathBuf]) -> Result<Vec<(&'static str, CollectiveTime)>, String> {
    let mut all = Vec::new();
    for path in files {
        let who = contender(path);
        let timings = read_timings(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        if timings.is_empty() {
            return Err(format!(
                "{} has no `op bytes ranks ms` lines",
                path.display()
            ));
        }
        all.extend(timings.into_iter().map(|t| (who, t)));
    }
    Ok(all)
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
    let all = load(files)?;
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
