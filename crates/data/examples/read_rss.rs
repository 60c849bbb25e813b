//! Reads a SoR or CSV file (optionally one column), for measuring time and peak memory
//! (run it under `/usr/bin/time -v`): `read_rss FILE CODES [COLUMN]`, CSV when FILE ends
//! in `.csv` (CODES is then ignored: its schema is inferred).
use std::path::Path;
use std::time::Instant;

use eau2_data::csv::CsvReader;
use eau2_data::frame::Schema;
use eau2_data::sor::SorReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let column: Option<usize> = args.get(2).map(|c| c.parse()).transpose()?;
    let start = Instant::now();
    let (rows, cols, deviating) = if args[0].ends_with(".csv") {
        let mut reader = CsvReader::new();
        if let Some(c) = column {
            reader = reader.columns(&[c]);
        }
        let file = reader.read_path(Path::new(&args[0]))?;
        (file.frame.nrows(), file.frame.ncols(), file.deviations.rows)
    } else {
        let mut reader = SorReader::new().schema(Schema::from_codes(&args[1])?);
        if let Some(c) = column {
            reader = reader.columns(&[c]);
        }
        let file = reader.read_path(Path::new(&args[0]))?;
        (file.frame.nrows(), file.frame.ncols(), file.deviations.rows)
    };
    println!(
        "rows {rows} cols {cols} deviating {deviating} secs {:.3}",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
