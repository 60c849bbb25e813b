//! A probe program for the collective CSV load. Run on N ranks through eau2-launch as
//! `csv-check csv FILE STRICT CHUNK_LEN`: every rank loads FILE with
//! `DistFrame::read_with` (lenient when STRICT is 0), reads it alone and sequentially with the same options, and
//! checks that the distributed frame equals that read row by row (schema and names,
//! values, deviation report) and that it holds its own chunks. The job fails (non-zero
//! exit) on any mismatch; rank 0 prints `csv ok` on success.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use eau2::csv::CsvReader;
use eau2::kv::Key;
use eau2::table::{DistFrame, Format, ReadOptions};
use eau2::{Node, Result};
use eau2_testkit::cells::{table_of, Cell};
use eau2_testkit::check;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 4 || args[0] != "csv" {
        eprintln!("usage: csv-check csv FILE STRICT(0|1) CHUNK_LEN");
        return ExitCode::from(2);
    }
    let path = PathBuf::from(&args[1]);
    let strict = args[2] == "1";
    let chunk_len: usize = args[3].parse().unwrap_or(1000);
    eau2::run(|node| {
        load_and_compare(node, &path, strict, chunk_len)?;
        if node.rank() == 0 {
            println!("csv ok");
        }
        Ok(())
    })
}

fn load_and_compare(node: &Node, path: &Path, strict: bool, chunk_len: usize) -> Result<()> {
    let reader = CsvReader::new().strict(strict).chunk_len(chunk_len);
    let mut options = ReadOptions::new()
        .format(Format::Csv)
        .chunk_len(chunk_len)
        .key(Key::new("csv", 0));
    if !strict {
        options = options.lenient();
    }
    let frame = DistFrame::read_with(node, path, &options)?;
    let deviations = frame.deviations();
    let alone = reader.parallel(false).read_path(path)?;
    let rank = node.rank();
    check(frame.schema() == &alone.schema, || {
        format!(
            "rank {rank}: schema {:?} vs {:?}",
            frame.schema(),
            alone.schema
        )
    })?;
    check(deviations == alone.deviations, || {
        format!(
            "rank {rank}: deviations {deviations:?} vs {:?}",
            alone.deviations
        )
    })?;
    let want = table_of(&alone.frame);
    check(frame.nrows() == want.len() as u64, || {
        format!(
            "rank {rank}: {} rows, expected {}",
            frame.nrows(),
            want.len()
        )
    })?;
    for (r, row) in want.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let got = frame.with_value(c, r as u64, |v| v.map(Cell::of))?;
            check(&got == cell, || {
                format!("rank {rank}: row {r} column {c}: {got:?}, expected {cell:?}")
            })?;
        }
    }
    let homes = frame.local_chunks();
    check(
        homes
            .iter()
            .all(|&c| frame.descriptor().chunks[c].home as usize == rank),
        || format!("rank {rank}: a local chunk is homed elsewhere"),
    )?;
    Ok(())
}
