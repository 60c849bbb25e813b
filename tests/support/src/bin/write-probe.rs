//! A probe program for the distributed writers' multi-process tests. Run on N ranks
//! through eau2-launch as `write-probe write OUT_DIR ROWS [KEPT BATCH]` (KEPT and BATCH
//! shrink the writers' buffers, see `eau2::table::set_write_buffers`): it builds the sample frames
//! of `eau2_testkit::frames` (each rank its share of the rows, and once more published by
//! rank 0, whose chunks are then dealt round-robin) and writes them into `OUT_DIR`:
//!
//! - `ordered.csv`, `ordered.sor`: the frame built collectively (ranks in row order);
//! - `dealt.csv`, `dealt.sor`: the published frame (each rank's chunks interleaved);
//! - `ordered-csv/part-*.csv`, `ordered-sor/part-*.sor`: one part per rank;
//! - `quoted.csv`: strings that need CSV quoting; writing it as SoR must fail on every
//!   rank without creating `quoted.sor`, and so must a write into a missing folder.
//!
//! The test compares the files with what a sequential write of the same rows gives.
//! Rank 0 prints `write ok` when every rank succeeded.
//!
//! `write-probe big DEST ROWS file|parts [report]` writes rows `0..ROWS` of
//! `all_types` (each rank its share, built collectively) as CSV into the file `DEST` or as
//! part files into the folder `DEST`, for the tests that kill, fill or race a write
//! (tests/write_safety.rs); with `report`, a rank whose write fails prints `write failed:
//! ERROR` and exits with success. Rank 0 prints `writing` when its frame is built and `big ok`
//! when every rank succeeded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use eau2::frame::CsvWriteOptions;
use eau2::kv::Key;
use eau2::table::DistFrame;
use eau2::{Error, Node, Result};
use eau2_testkit::check;
use eau2_testkit::frames::{all_types, needs_quoting, share_start};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "big") {
        return big(&args);
    }
    let (Some("write"), Some(dir), Some(rows)) = (
        args.first().map(String::as_str),
        args.get(1),
        args.get(2).and_then(|r| r.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: write-probe write OUT_DIR ROWS [KEPT BATCH]");
        return ExitCode::from(2);
    };
    if let (Some(kept), Some(batch)) = (
        args.get(3).and_then(|a| a.parse().ok()),
        args.get(4).and_then(|a| a.parse().ok()),
    ) {
        eau2::table::set_write_buffers(kept, batch);
    }
    let dir = PathBuf::from(dir);
    eau2::run(|node| {
        write(node, &dir, rows)?;
        if node.rank() == 0 {
            println!("write ok");
        }
        Ok(())
    })
}

/// `big DEST ROWS file|parts [KEPT BATCH]`: one large CSV write.
fn big(args: &[String]) -> ExitCode {
    let (Some(dest), Some(rows), Some(parts)) = (
        args.get(1),
        args.get(2).and_then(|r| r.parse::<u64>().ok()),
        args.get(3).and_then(|m| match m.as_str() {
            "file" => Some(false),
            "parts" => Some(true),
            _ => None,
        }),
    ) else {
        eprintln!("usage: write-probe big DEST ROWS file|parts [report]");
        return ExitCode::from(2);
    };
    let report = args.get(4).is_some_and(|a| a == "report");
    let dest = PathBuf::from(dest);
    eau2::run(|node| {
        let (rank, size) = (node.rank(), node.size());
        let mine = share_start(rows, rank, size)..share_start(rows, rank + 1, size);
        let frame = DistFrame::from_local_parts(node, &Key::new("big", 0), &all_types(mine, 4096))?;
        let csv = CsvWriteOptions::new();
        if rank == 0 {
            // Tells the tests when to start aiming their kills.
            println!("writing");
        }
        let written = if parts {
            frame.write_csv_parts(&dest, &csv).map(drop)
        } else {
            frame.write_csv(&dest, &csv)
        };
        match written {
            // Every rank says so and ends well, so that the launcher stops no rank
            // before it has printed (it stops the others at the first failure).
            Err(e) if report => {
                println!("write failed: {e}");
                return Ok(());
            }
            other => other?,
        }
        if rank == 0 {
            let phases = DistFrame::last_write_phases();
            let phases: Vec<String> = phases
                .iter()
                .map(|(name, took)| format!("{name} {:.3}", took.as_secs_f64()))
                .collect();
            println!("phases: {}", phases.join(", "));
            println!("big ok");
        }
        Ok(())
    })
}

fn write(node: &Node, dir: &Path, rows: u64) -> Result<()> {
    let (rank, size) = (node.rank(), node.size());
    let mine = share_start(rows, rank, size)..share_start(rows, rank + 1, size);
    let csv = CsvWriteOptions::new();

    // Chunks of 300 rows (more than the writer formats at a time) and a short one at
    // each rank's end.
    let ordered =
        DistFrame::from_local_parts(node, &Key::new("ordered", 0), &all_types(mine.clone(), 300))?;
    ordered.write_csv(&dir.join("ordered.csv"), &csv)?;
    ordered.write_sor(&dir.join("ordered.sor"))?;
    let part = ordered.write_csv_parts(&dir.join("ordered-csv"), &csv)?;
    check(part.ends_with(format!("part-{rank:05}.csv")), || {
        format!("part path {part:?}")
    })?;
    ordered.write_sor_parts(&dir.join("ordered-sor"))?;

    let key = Key::new("dealt", 0);
    let dealt = if rank == 0 {
        DistFrame::publish(node, &key, &all_types(0..rows, 37))?
    } else {
        DistFrame::get(node, &key)?
    };
    dealt.write_csv(&dir.join("dealt.csv"), &csv)?;
    dealt.write_sor(&dir.join("dealt.sor"))?;

    let quoted =
        DistFrame::from_local_parts(node, &Key::new("quoted", 0), &needs_quoting(mine, 16))?;
    quoted.write_csv(&dir.join("quoted.csv"), &csv)?;
    // SoR cannot print these strings: every rank must fail, none may hang.
    match quoted.write_sor(&dir.join("quoted.sor")) {
        Ok(()) => return Err(Error::App("quoted strings were written as SoR".into())),
        Err(e) => eprintln!("quoted.sor: {e}"),
    }
    // A file rank 0 cannot create fails the write on every rank, too.
    let nowhere = dir.join("no-such-folder/x.csv");
    match ordered.write_csv(&nowhere, &csv) {
        Ok(()) => return Err(Error::App("a write into a missing folder succeeded".into())),
        Err(e) => eprintln!("nowhere: {e}"),
    }
    // Every rank has seen the failures, so the ranks are still in step.
    node.comm().barrier()?;
    check(!dir.join("quoted.sor").exists(), || {
        "quoted.sor was created".into()
    })
}
