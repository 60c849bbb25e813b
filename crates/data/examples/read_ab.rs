//! Compares reading a SoR file with `pread` (the default) and with a memory map
//! (`SorReader::memory_map(true)`), alternating the two so that both see the same load on
//! a shared machine. Prints the median throughput of each and their ratio.
//!
//! `cargo run --release -p eau2-data --example read_ab -- FILE [ROUNDS] [CODES]`
//! (CODES: the schema, e.g. III; inferred when left out). The files of
//! `cargo bench -p eau2-bench --bench sor` are in target/tmp/sor-bench/.

use std::path::PathBuf;
use std::time::Instant;

use eau2_data::frame::Schema;
use eau2_data::sor::SorReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: read_ab FILE [ROUNDS] [CODES]")?);
    let rounds: usize = args.next().map_or(Ok(7), |r| r.parse())?;
    let mut reader = SorReader::new();
    if let Some(codes) = args.next() {
        reader = reader.schema(Schema::from_codes(&codes)?);
    }
    let mb = std::fs::metadata(&path)?.len() as f64 / 1e6;
    let mut speeds = [Vec::new(), Vec::new()];
    // One warm-up each, then alternate.
    for round in 0..=rounds {
        for (i, map) in [false, true].into_iter().enumerate() {
            let started = Instant::now();
            let file = reader.clone().memory_map(map).read_path(&path)?;
            let secs = started.elapsed().as_secs_f64();
            std::hint::black_box(file.frame.nrows());
            if round > 0 {
                speeds[i].push(mb / secs);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (pread, map) = (median(&mut speeds[0]), median(&mut speeds[1]));
    println!(
        "{}: {mb:.1} MB, {rounds} rounds: pread {pread:.0} MB/s, memory map {map:.0} MB/s, \
         pread/map {:.3}",
        path.display(),
        pread / map
    );
    Ok(())
}
