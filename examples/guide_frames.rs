//! docs/frames.md: the ways to build a distributed frame, and its getters.
//! Run: `target/debug/eau2-launch -n 3 target/debug/examples/guide_frames`

use std::process::ExitCode;

use eau2::frame::{DataFrame, DataType, Fielder, Row, RowWriter, Rower, Schema, Value, Writer};
use eau2::kv::Key;
use eau2::table::DistFrame;

/// Writes rows `(i, i * i, "row i")` for i in 0..rows.
struct Squares {
    next: i32,
    rows: i32,
}

impl Writer for Squares {
    fn visit(&mut self, row: &mut RowWriter<'_>) {
        let i = self.next;
        // A value of the wrong type, or a column past the end, fails the whole build.
        row.set_int(0, i).unwrap();
        row.set_int(1, i * i).unwrap();
        row.set_str(2, format!("row {i}")).unwrap();
        self.next += 1;
    }

    fn done(&self) -> bool {
        self.next == self.rows
    }
}

/// Formats one row's fields as SoR text.
#[derive(Default)]
struct SorLine(String);

impl Fielder for SorLine {
    fn start(&mut self, _row: u64) {
        self.0.clear();
    }

    fn accept(&mut self, value: Option<Value<'_>>) {
        let field = match value {
            None => String::new(),
            Some(Value::Bool(b)) => u8::from(b).to_string(),
            Some(Value::Int(i)) => i.to_string(),
            Some(Value::Float(f)) => f.to_string(),
            Some(Value::Str(s)) => format!("\"{}\"", String::from_utf8_lossy(s)),
            Some(Value::I64(i)) => i.to_string(),
            Some(Value::F64(f)) => f.to_string(),
        };
        self.0.push_str(&format!("<{field}>"));
    }
}

/// A rower that prints every row it visits, through the fielder.
#[derive(Clone, Default)]
struct Print;

impl Rower for Print {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        let mut line = SorLine::default();
        row.visit(&mut line);
        println!("  row {}: {}", row.index(), line.0);
        true
    }

    fn join(&mut self, _other: Self) {}
}

fn main() -> ExitCode {
    eau2::run(|node| {
        let rank = node.rank();

        // 1. Published by one rank: 200,000 floats in chunks of 65,536 rows, spread over
        //    the ranks round-robin. The other ranks wait for the frame's key.
        let floats = Key::new("floats", 0);
        let frame = if rank == 0 {
            let values: Vec<f32> = (0..200_000).map(|i| i as f32 / 2.0).collect();
            DistFrame::from_array(node, &floats, &values)?
        } else {
            DistFrame::get(node, &floats)?
        };
        let held: Vec<Vec<usize>> = node.comm().all_gather(frame.local_chunks())?;
        if rank == 0 {
            println!(
                "floats: {} rows in {} chunks; chunks per rank: {held:?}",
                frame.nrows(),
                frame.chunk_count()
            );
            // Getters work on any rank for any row: a chunk held elsewhere is fetched.
            println!("floats row 199999: {:?}", frame.get_as::<f32>(0, 199_999)?);
        }

        // 2. Filled by a Writer on one rank, then published.
        let squares = Key::new("squares", 0);
        let schema = Schema::new(vec![DataType::Int, DataType::Int, DataType::String]);
        let frame = if rank == 0 {
            DistFrame::from_writer(node, &squares, schema, &mut Squares { next: 0, rows: 4 })?
        } else {
            DistFrame::get(node, &squares)?
        };
        if rank == node.size() - 1 {
            println!("squares, seen from rank {rank} with map:");
            frame.map(&mut Print)?;
        }
        node.comm().barrier()?;

        // 3. Collective: every rank contributes its own rows, which stay where they are.
        //    Rows are ordered by rank.
        let mine: Vec<i32> = (0..3).map(|i| 10 * rank as i32 + i).collect();
        let parts = Key::new("parts", 0);
        let frame = DistFrame::from_local_parts(node, &parts, &DataFrame::from_array(&mine))?;
        if rank == 0 {
            let all = frame.to_local()?; // the whole frame, fetched here
            println!(
                "parts: {} rows: {}",
                frame.nrows(),
                all.to_sor_string()?.replace('\n', " ").trim_end()
            );
        }
        Ok(())
    })
}
