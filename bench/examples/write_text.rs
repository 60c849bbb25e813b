//! Times the distributed writers on a synthetic frame: every rank builds its share of
//! ROWS rows (INT, FLOAT, STRING, I64, F64 columns, some values missing), then the job
//! writes it as one CSV file, one SoR file and CSV parts under OUT_DIR; rank 0 prints
//! each write's time and MB/s. With `--sequential` (run alone) it also times
//! `DataFrame::write_csv` of the same rows into one file from one process.
//!
//! ```text
//! cargo build --release -p eau2-launch -p eau2-bench --example write_text
//! target/release/eau2-launch -n 2 target/release/examples/write_text OUT_DIR ROWS
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use eau2::frame::{CsvWriteOptions, DataFrame, DataType, FrameBuilder, Schema, Value};
use eau2::kv::Key;
use eau2::table::DistFrame;
use eau2::{Error, Node, Result};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sequential = args.iter().any(|a| a == "--sequential");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let (Some(dir), Some(Ok(rows))) = (pos.first(), pos.get(1).map(|r| r.parse::<u64>())) else {
        eprintln!("usage: write_text OUT_DIR ROWS [--sequential]");
        return std::process::ExitCode::from(2);
    };
    let dir = PathBuf::from(dir.as_str());
    eau2::run(|node| run(node, &dir, rows, sequential))
}

/// Rows `from..to` of the synthetic frame.
fn rows_of(from: u64, to: u64) -> DataFrame {
    let schema = Schema::named([
        ("id", DataType::Int),
        ("score", DataType::Float),
        ("user", DataType::String),
        ("count", DataType::I64),
        ("mean", DataType::F64),
    ])
    .expect("distinct names");
    let mut b = FrameBuilder::new(schema, 1 << 16);
    for i in from..to {
        let user = format!("user{}", i % 10_007);
        b.push_row(&[
            Some(Value::Int(i as i32)),
            (i % 11 != 0).then_some(Value::Float(i as f32 / 7.0)),
            Some(Value::Str(user.as_bytes())),
            Some(Value::I64((i as i64) << 20)),
            (i % 13 != 0).then_some(Value::F64(i as f64 / 3.0)),
        ])
        .expect("the row fits");
    }
    b.finish()
}

fn timed(node: &Node, what: &str, path: &Path, f: impl FnOnce() -> Result<()>) -> Result<()> {
    node.comm().barrier()?;
    let start = Instant::now();
    f()?;
    node.comm().barrier()?;
    let secs = start.elapsed().as_secs_f64();
    if node.rank() == 0 {
        let bytes = dir_or_file_size(path);
        println!(
            "{what}: {:.3} s, {:.1} MB, {:.0} MB/s",
            secs,
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs
        );
    }
    Ok(())
}

fn dir_or_file_size(path: &Path) -> u64 {
    match std::fs::read_dir(path) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum(),
        Err(_) => std::fs::metadata(path).map_or(0, |m| m.len()),
    }
}

fn run(node: &Node, dir: &Path, rows: u64, sequential: bool) -> Result<()> {
    let (rank, size) = (node.rank() as u64, node.size() as u64);
    std::fs::create_dir_all(dir).map_err(|e| Error::io_path("creating", dir, e))?;
    let local = rows_of(rows * rank / size, rows * (rank + 1) / size);
    let frame = DistFrame::from_local_parts(node, &Key::new("synthetic", 0), &local)?;
    let csv = CsvWriteOptions::new();
    let path = dir.join("one.csv");
    timed(node, &format!("write_csv, {size} ranks"), &path, || {
        frame.write_csv(&path, &csv)
    })?;
    let path = dir.join("one.sor");
    timed(node, &format!("write_sor, {size} ranks"), &path, || {
        frame.write_sor(&path)
    })?;
    let parts = dir.join("parts");
    timed(
        node,
        &format!("write_csv_parts, {size} ranks"),
        &parts,
        || frame.write_csv_parts(&parts, &csv).map(drop),
    )?;
    if sequential && size == 1 {
        let path = dir.join("sequential.csv");
        timed(node, "DataFrame::write_csv, 1 process", &path, || {
            let file = File::create(&path).map_err(|e| Error::io_path("creating", &path, e))?;
            Ok(local.write_csv(BufWriter::new(file), &csv)?)
        })?;
    }
    Ok(())
}
