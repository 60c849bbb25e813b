//! docs/troubleshooting.md: provokes the errors the guide explains, one per argument.
//! Run from the repository's root, e.g.
//! `target/debug/eau2-launch -n 3 target/debug/examples/guide_errors lost`
//!
//! - `lost`: the last rank fails at once; the others, waiting for it, fail naming it.
//! - `strict`: a read of a SoR file with a row that does not fit a fixed type.
//! - `type`: a typed getter on a column of another type.

use std::path::Path;
use std::process::ExitCode;

use eau2::frame::DataType;
use eau2::table::{DistFrame, ReadOptions};
use eau2::Error;

fn main() -> ExitCode {
    let what = std::env::args().nth(1).unwrap_or_default();
    eau2::run(|node| {
        let last = node.size() - 1;
        match what.as_str() {
            "lost" => {
                if node.rank() == last {
                    return Err(Error::App(format!("rank {last} gives up")));
                }
                // Waits for a message the last rank will never send.
                node.comm().recv(last, 1)?;
            }
            "strict" => {
                // Line 15 holds a string in column 2, whose type the options fix to
                // FLOAT: the load fails naming file, line and column.
                let path = Path::new("tests/sor-suite/sor_terator.sor");
                let options = ReadOptions::new().types(&[("c2", DataType::Float)]);
                DistFrame::read_with(node, path, &options)?;
            }
            "type" => {
                let projects = DistFrame::read(node, "datasets/git-small/projects.ltgt")?;
                // Column 1 holds the names: a STRING column.
                projects.get_as::<i32>(1, 0)?;
            }
            _ => return Err(Error::Config("usage: guide_errors lost|strict|type".into())),
        }
        Ok(())
    })
}
