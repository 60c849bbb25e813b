//! CSV data sets for the relational-operator benchmark (`benches/ops.rs`), the same files
//! for eau2 and for polars:
//!
//! - `mixed.csv`: every column type, with a header; names are quoted and hold a comma,
//!   some hold doubled quotes, some fields are empty (missing): the CSV read case;
//! - `facts.csv`: `k1,k2,v`, with `k1` uniform over the group keys, `k2` uniform over the
//!   join keys and `v` a small value: the group-by, join (left side) and sort cases;
//! - `dim.csv`: `k2,w`, every join key once in scrambled order: the join's right side.
//!
//! As the other generators, each file is numbered blocks made from their number alone,
//! so the bytes depend only on [`OpsConfig`].

use std::path::Path;

use eau2::Result;

use super::blocks::{write_blocks, Block, Progress};
use super::dist::AffinePerm;
use super::fmt::{push_i64, push_u64};
use super::rng::Xoshiro256;
use super::words::{push_person_name, ADJECTIVES, NOUNS};

/// Rows per generated block. Part of the output's definition.
pub const ROWS_PER_BLOCK: u64 = 1 << 15;

const MIXED_STREAM: u64 = 11;
const FACTS_STREAM: u64 = 12;
const DIM_STREAM: u64 = 13;
/// The chance that a field of `mixed.csv` is empty.
const MISSING: f64 = 0.03;

/// The header of `mixed.csv`.
pub const MIXED_HEADER: &str = "id,flag,score,name,city,amount,ratio";

/// The sizes of the data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpsConfig {
    /// Rows of `mixed.csv` (12M rows is about 1 GB).
    pub mixed_rows: u64,
    /// Rows of `facts.csv`.
    pub fact_rows: u64,
    /// Distinct values of `k1` (the group keys).
    pub group_keys: u64,
    /// Distinct values of `k2` (the join keys), which is also the rows of `dim.csv`.
    pub join_keys: u64,
    /// The seed.
    pub seed: u64,
}

impl OpsConfig {
    /// The benchmark's sizes: a CSV of about 1 GB; 50M facts over 1M group keys and 5M
    /// join keys.
    pub fn full() -> OpsConfig {
        OpsConfig {
            mixed_rows: 12_000_000,
            fact_rows: 50_000_000,
            group_keys: 1_000_000,
            join_keys: 5_000_000,
            seed: 1,
        }
    }

    /// Every size divided by `by` (at least one row and key each).
    pub fn scaled_down(self, by: u64) -> OpsConfig {
        let d = |v: u64| (v / by.max(1)).max(1);
        OpsConfig {
            mixed_rows: d(self.mixed_rows),
            fact_rows: d(self.fact_rows),
            group_keys: d(self.group_keys),
            join_keys: d(self.join_keys),
            seed: self.seed,
        }
    }

    /// A folder name that identifies the configuration.
    pub fn dir_name(&self) -> String {
        format!(
            "ops-{}-{}-{}-{}-seed{}",
            self.mixed_rows, self.fact_rows, self.group_keys, self.join_keys, self.seed
        )
    }
}

/// Makes one numbered block of a file.
type MakeBlock<'a> = dyn Fn(u64) -> Block + Sync + 'a;

/// The files a case reads: `csv` reads `mixed.csv`, `groupby` and `sort` `facts.csv`,
/// `join` `facts.csv` and `dim.csv`.
pub fn files_of(case: &str) -> &'static [&'static str] {
    match case {
        "csv" => &["mixed.csv"],
        "join" => &["facts.csv", "dim.csv"],
        _ => &["facts.csv"],
    }
}

/// Writes those of `mixed.csv`, `facts.csv` and `dim.csv` that `names` lists into `dir`
/// (each only when missing); returns the bytes written.
pub fn generate(
    cfg: &OpsConfig,
    dir: &Path,
    names: &[&str],
    progress: &mut Progress,
) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(|e| eau2::Error::io_path("creating", dir, e))?;
    let mut bytes = 0;
    let files: [(&str, u64, &MakeBlock); 3] = [
        ("mixed.csv", cfg.mixed_rows, &|b| mixed_block(cfg, b)),
        ("facts.csv", cfg.fact_rows, &|b| facts_block(cfg, b)),
        ("dim.csv", cfg.join_keys, &|b| dim_block(cfg, b)),
    ];
    for (name, rows, make) in files {
        let path = dir.join(name);
        if names.contains(&name) && !path.is_file() {
            bytes += write_blocks(&path, rows.div_ceil(ROWS_PER_BLOCK), make, progress)?;
        }
    }
    Ok(bytes)
}

/// The rows of block `block` of a file of `rows` rows, with the header before block 0.
fn rows_of(
    block: u64,
    rows: u64,
    header: &str,
    bytes_per_row: usize,
) -> (std::ops::Range<u64>, Vec<u8>) {
    let first = block * ROWS_PER_BLOCK;
    let end = (first + ROWS_PER_BLOCK).min(rows);
    let mut out = Vec::with_capacity((end - first) as usize * bytes_per_row + 64);
    if block == 0 {
        out.extend_from_slice(header.as_bytes());
        out.push(b'\n');
    }
    (first..end, out)
}

/// Block `block` of `mixed.csv`.
pub fn mixed_block(cfg: &OpsConfig, block: u64) -> Block {
    let mut rng = Xoshiro256::for_block(cfg.seed, MIXED_STREAM, block);
    let (range, mut out) = rows_of(block, cfg.mixed_rows, MIXED_HEADER, 90);
    let units = range.end - range.start;
    for id in range {
        push_u64(&mut out, id);
        for col in 1..7 {
            out.push(b',');
            if rng.chance(MISSING) {
                continue;
            }
            match col {
                1 => out.push(if rng.chance(0.5) { b'1' } else { b'0' }),
                2 | 6 => {
                    push_i64(&mut out, rng.below(200_000) as i64 - 100_000);
                    out.push(b'.');
                    push_u64(&mut out, 100 + rng.below(900));
                }
                3 => {
                    out.push(b'"');
                    push_person_name(&mut rng, &mut out);
                    out.extend_from_slice(b", likes ");
                    if rng.chance(0.05) {
                        out.extend_from_slice(b"\"\"");
                        out.extend_from_slice(rng.pick(NOUNS).as_bytes());
                        out.extend_from_slice(b"\"\"");
                    } else {
                        out.extend_from_slice(rng.pick(NOUNS).as_bytes());
                    }
                    out.push(b'"');
                }
                4 => {
                    out.extend_from_slice(rng.pick(ADJECTIVES).as_bytes());
                    out.push(b'_');
                    out.extend_from_slice(rng.pick(NOUNS).as_bytes());
                }
                _ => push_i64(&mut out, rng.next_u64() as u32 as i32 as i64),
            }
        }
        out.push(b'\n');
    }
    Block { bytes: out, units }
}

/// Block `block` of `facts.csv`.
pub fn facts_block(cfg: &OpsConfig, block: u64) -> Block {
    let mut rng = Xoshiro256::for_block(cfg.seed, FACTS_STREAM, block);
    let (range, mut out) = rows_of(block, cfg.fact_rows, "k1,k2,v", 20);
    let units = range.end - range.start;
    for _ in range {
        push_u64(&mut out, rng.below(cfg.group_keys));
        out.push(b',');
        push_u64(&mut out, rng.below(cfg.join_keys));
        out.push(b',');
        push_u64(&mut out, rng.below(1000));
        out.push(b'\n');
    }
    Block { bytes: out, units }
}

/// Block `block` of `dim.csv`: join key `perm(i)` for row `i`, so every key once.
pub fn dim_block(cfg: &OpsConfig, block: u64) -> Block {
    let mut rng = Xoshiro256::for_block(cfg.seed, DIM_STREAM, block);
    let perm = AffinePerm::new(cfg.join_keys, cfg.seed);
    let (range, mut out) = rows_of(block, cfg.join_keys, "k2,w", 16);
    let units = range.end - range.start;
    for i in range {
        push_u64(&mut out, perm.apply(i));
        out.push(b',');
        push_u64(&mut out, rng.below(1_000_000));
        out.push(b'\n');
    }
    Block { bytes: out, units }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_have_their_rows_and_keys() {
        let cfg = OpsConfig::full().scaled_down(200_000);
        let dir = std::env::temp_dir().join(format!("eau2-gen-ops-{}", std::process::id()));
        let names = ["mixed.csv", "facts.csv", "dim.csv"];
        generate(&cfg, &dir, &names, &mut Progress::hidden()).unwrap();
        let mixed = std::fs::read(dir.join("mixed.csv")).unwrap();
        let file = eau2::csv::CsvReader::new().read_bytes(&mixed).unwrap();
        assert_eq!(file.frame.nrows(), cfg.mixed_rows);
        assert_eq!(file.schema.codes(), "LBDSSLD");
        let dim = std::fs::read_to_string(dir.join("dim.csv")).unwrap();
        let mut keys: Vec<u64> = dim
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..cfg.join_keys).collect::<Vec<_>>());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
