//! Reads a SoR file (optionally one column), for measuring time and peak memory:
//! `read_rss FILE CODES [COLUMN]`.
use std::path::Path;
use std::time::Instant;

use eau2_data::frame::Schema;
use eau2_data::sor::SorReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let schema = Schema::from_codes(&args[1])?;
    let mut reader = SorReader::new().schema(schema);
    if let Some(col) = args.get(2) {
        reader = reader.columns(&[col.parse()?]);
    }
    let start = Instant::now();
    let file = reader.read_path(Path::new(&args[0]))?;
    println!(
        "rows {} cols {} deviating {} secs {:.3}",
        file.frame.nrows(),
        file.frame.ncols(),
        file.deviations.rows,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
