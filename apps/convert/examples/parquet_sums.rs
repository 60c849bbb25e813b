//! The eau2 side of bench/parquet.sh's read benchmark: reads a table (Parquet by
//! extension, or a folder dataset) on every rank and prints `ROWS` and then, for each
//! integer column, `NAME SUM` (missing values skipped), rank 0 only.
//! Polars twin: `bench/polars/parquet.py sums FILE`.
//!
//! `eau2-launch -n 2 target/release/examples/parquet_sums FILE`

use eau2::frame::{ChunkData, DataType};
use eau2::table::DistFrame;
use rayon::prelude::*;

fn main() -> std::process::ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data.parquet".into());
    eau2::run(|node| {
        let frame = DistFrame::read(node, &path)?;
        let schema = frame.schema().clone();
        let ints: Vec<&String> = schema
            .names()
            .iter()
            .zip(schema.types())
            .filter(|(_, t)| matches!(t, DataType::Int | DataType::I64))
            .map(|(n, _)| n)
            .collect();
        // Each rank sums the chunks it holds, on all cores, straight from the typed
        // vectors (missing slots hold 0); one all-reduce adds the ranks' sums.
        let mine = frame.local_chunks();
        let local: Vec<i64> = ints
            .iter()
            .map(|c| -> eau2::Result<i64> {
                let col = schema.index(c)?;
                let chunks = mine
                    .iter()
                    .map(|&i| frame.chunk(col, i))
                    .collect::<eau2::Result<Vec<_>>>()?;
                Ok(chunks
                    .par_iter()
                    .map(|ch| match ch.data() {
                        ChunkData::Int(v) => v.iter().map(|&x| i64::from(x)).sum::<i64>(),
                        ChunkData::I64(v) => v.iter().sum(),
                        _ => 0,
                    })
                    .sum())
            })
            .collect::<eau2::Result<_>>()?;
        let sums = node
            .comm()
            .all_reduce(local, |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect())?;
        if node.rank() == 0 {
            println!("{}", frame.nrows());
            for (c, s) in ints.iter().zip(sums) {
                println!("{c} {s}");
            }
        }
        Ok(())
    })
}
