//! Program 3: describe every numeric column of the commits, projects and users files, as
//! `FILE COLUMN COUNT MEAN MIN MAX MISSING` lines. Polars twin:
//! bench/polars/programs/column_stats.py.
//! Run: `eau2-launch -n 4 target/debug/examples/column_stats [DATA_DIR]`

use std::path::PathBuf;

use eau2::frame::{DataType, Schema};
use eau2::kv::Key;
use eau2::sor::SorReader;
use eau2::table::{Agg, DistFrame};

fn main() -> std::process::ExitCode {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("datasets/git-small".into()),
    );
    eau2::run(|node| {
        let files = [
            ("commits", "III", vec!["pid", "author", "committer"]),
            ("projects", "IS", vec!["pid", "name"]),
            ("users", "IS", vec!["uid", "name"]),
        ];
        for (file, codes, names) in files {
            let reader = SorReader::new()
                .schema(Schema::from_codes(codes)?.with_names(&names)?)
                .strict(true);
            let (frame, _) = DistFrame::load_sor(
                node,
                &Key::new(file, 0),
                &dir.join(format!("{file}.ltgt")),
                &reader,
            )?;
            for (c, ty) in frame.schema().names().iter().zip(frame.schema().types()) {
                if *ty == DataType::String {
                    continue;
                }
                let aggs = [Agg::count_of(c), Agg::mean(c), Agg::min(c), Agg::max(c)];
                let s = frame.group_by(&[])?.agg(&aggs)?.row_text(0)?;
                let missing = frame.nrows() - s[0].parse::<u64>().unwrap_or(0);
                if node.rank() == 0 {
                    println!("{file} {c} {} {} {} {} {missing}", s[0], s[1], s[2], s[3]);
                }
            }
        }
        Ok(())
    })
}
