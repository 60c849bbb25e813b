//! docs/troubleshooting.md: provokes the errors the guide explains, one per argument.
//! Run from the repository's root, e.g.
//! `target/debug/eau2-launch -n 3 target/debug/examples/guide_errors lost`
//!
//! - `lost`: the last rank fails at once; the others, waiting for it, fail naming it.
//! - `strict`: a strict read of a SoR file with a bad row.
//! - `type`: a typed getter on a column of another type.

use std::path::Path;
use std::process::ExitCode;

use eau2::kv::Key;
use eau2::sor::SorReader;
use eau2::table::DistFrame;
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
                node.recv(last, 1)?;
            }
            "strict" => {
                // Line 15 holds a string in a FLOAT column; inferring the schema from
                // the first 10 rows only makes it deviate.
                let path = Path::new("tests/sor-suite/sor_terator.sor");
                let reader = SorReader::new().infer_rows(10).strict(true);
                DistFrame::load_sor(node, &Key::new("strict", 0), path, &reader)?;
            }
            "type" => {
                let path = Path::new("datasets/git-small/projects.ltgt");
                let (projects, _) =
                    DistFrame::load_sor(node, &Key::new("projects", 0), path, &SorReader::new())?;
                // Column 1 holds the names: a STRING column.
                projects.get_int(1, 0)?;
            }
            _ => return Err(Error::Config("usage: guide_errors lost|strict|type".into())),
        }
        Ok(())
    })
}
