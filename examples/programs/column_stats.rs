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
                let mut aggs = vec![Agg::count_of(c), Agg::min(c), Agg::max(c)];
                aggs.extend((*ty != DataType::String).then_some(Agg::mean(c))); // no mean of strings
                let s = frame.group_by(&[])?.agg(&aggs)?;
                let (count, v) = (s.get_i64(0, 0)?.unwrap_or(0), s.row_text(0)?);
                let mean = v.get(3).map_or("null", |m| m.as_str());
                if node.rank() == 0 {
                    let missing = frame.nrows() as i64 - count;
                    println!("{file} {c} {count} {mean} {} {} {missing}", v[1], v[2]);
                }
            }
        }
        Ok(())
    })
}
