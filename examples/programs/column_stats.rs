//! Issue 9, program 3: count (present values), mean, min, max and missing per column of
//! the commits and projects files, as `FILE COLUMN COUNT MEAN MIN MAX MISSING` lines
//! (`null` for the mean of a string column). Polars version:
//! bench/polars/programs/column_stats.py.
//! Run: `eau2-launch -n 4 target/debug/examples/column_stats [DATA_DIR]`

use std::path::PathBuf;

use eau2::frame::DataType;
use eau2::table::{Agg, DistFrame};

fn main() -> std::process::ExitCode {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/git-small");
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or(default.into()));
    eau2::run(|node| {
        for file in ["commits", "projects"] {
            let frame = DistFrame::read_sor(node, &dir.join(format!("{file}.ltgt")), &[])?;
            for (c, ty) in frame.schema().names().iter().zip(frame.schema().types()) {
                let numeric = *ty != DataType::String; // strings have no mean
                let mut aggs = vec![Agg::count(), Agg::count_of(c), Agg::min(c), Agg::max(c)];
                aggs.extend(numeric.then(|| Agg::mean(c)));
                let s = frame.group_by(&[])?.agg(&aggs)?;
                let (all, count) = (s.get_i64(0, 0)?.unwrap_or(0), s.get_i64(1, 0)?.unwrap_or(0));
                let v = s.row_text(0)?;
                let mean = v.get(4).map_or("null", |m| m.as_str());
                if node.rank() == 0 {
                    println!(
                        "{file} {c} {count} {mean} {} {} {}",
                        v[2],
                        v[3],
                        all - count
                    );
                }
            }
        }
        Ok(())
    })
}
