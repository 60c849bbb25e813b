//! The eau2 side of bench/parquet.sh's read benchmark: reads a table (Parquet by
//! extension, or a folder dataset) on every rank and prints `ROWS` and then, for each
//! integer column, `NAME SUM` (missing values skipped), rank 0 only.
//! Polars twin: `bench/polars/parquet.py sums FILE`.
//!
//! `eau2-launch -n 2 target/release/examples/parquet_sums FILE`

use eau2::frame::DataType;
use eau2::table::{Agg, DistFrame};

fn main() -> std::process::ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| "data.parquet".into());
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
        let aggs: Vec<Agg> = ints.iter().map(|c| Agg::sum(c.as_str())).collect();
        let sums = frame.agg(&aggs)?.row_text(0)?;
        if node.rank() == 0 {
            println!("{}", frame.nrows());
            for (c, s) in ints.iter().zip(sums) {
                println!("{c} {s}");
            }
        }
        Ok(())
    })
}
