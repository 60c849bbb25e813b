//! Program 3: describe every numeric column of the commits, projects and users files, as
//! `FILE COLUMN ROWS COUNT MEAN MIN MAX` lines (COUNT: the present values; ROWS - COUNT
//! are missing). Polars twin: bench/polars/programs/column_stats.py.
//! Run: `eau2-launch -n 4 target/debug/examples/column_stats [DATA_DIR]`

use std::env::args;

use eau2::frame::DataType;
use eau2::table::{Agg, DistFrame, ReadOptions};

fn main() -> std::process::ExitCode {
    let dir = args().nth(1).unwrap_or("datasets/git-small".into());
    eau2::run(|node| {
        let com = ReadOptions::new().names(&["pid", "author", "committer"]);
        let pro = ReadOptions::new().names(&["pid", "name"]);
        let usr = ReadOptions::new().names(&["uid", "name"]);
        for (file, names) in [("commits", &com), ("projects", &pro), ("users", &usr)] {
            let frame = DistFrame::read_with(node, format!("{dir}/{file}.ltgt"), names)?;
            let columns = frame.schema().names().iter().zip(frame.schema().types());
            for (c, _) in columns.filter(|(_, t)| **t != DataType::String) {
                let aggs = [Agg::count_of(c), Agg::mean(c), Agg::min(c), Agg::max(c)];
                let s = frame.agg(&aggs)?.row_text(0)?;
                if node.rank() == 0 {
                    println!("{file} {c} {} {}", frame.nrows(), s.join(" "));
                }
            }
        }
        Ok(())
    })
}
