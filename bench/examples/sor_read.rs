//! Reads one SoR file with a given schema, for profiling the reader under `perf` or
//! `valgrind --tool=callgrind` (whose instruction counts do not depend on the load of a
//! shared machine):
//!
//! ```text
//! cargo run --release -p eau2-bench --example sor_read -- FILE CODES [ROUNDS] [--parallel]
//! ```
//!
//! Prints rows, deviating rows and the median time and MB/s of the rounds.

use std::path::Path;
use std::time::Instant;

use eau2::frame::Schema;
use eau2::sor::SorReader;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parallel = args.iter().any(|a| a == "--parallel");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [path, codes, rest @ ..] = pos.as_slice() else {
        return Err("usage: sor_read FILE CODES [ROUNDS] [--parallel]".into());
    };
    let rounds: usize = rest
        .first()
        .map_or(Ok(1), |r| r.parse())
        .map_err(|e| format!("{e}"))?;
    let schema = Schema::from_codes(codes).map_err(|e| e.to_string())?;
    let bytes = std::fs::metadata(path.as_str())
        .map_err(|e| e.to_string())?
        .len();
    let mut times = Vec::new();
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let file = SorReader::new()
            .schema(schema.clone())
            .parallel(parallel)
            .read_path(Path::new(path.as_str()))
            .map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64());
        if times.len() == 1 {
            println!(
                "rows {} deviating {}",
                file.frame.nrows(),
                file.deviations.rows
            );
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "median {:.3} s, {:.0} MB/s",
        median,
        bytes as f64 / 1e6 / median
    );
    Ok(())
}
