//! A SoR file with every column type, for parser benchmarks.
//!
//! Rows follow [`MIXED_SCHEMA`]: BOOL, INT, FLOAT, a quoted STRING with spaces, INT, a bare
//! one-word STRING, FLOAT, BOOL. Some fields are missing (`<>` or `< >`), some rows stop
//! early (their trailing fields are missing), and some fields have white space inside their
//! brackets: the cases a parser must handle without slowing down much. Every row is valid
//! under the schema, so a correct reader reports no deviations. Blocks of
//! [`ROWS_PER_BLOCK`] rows each have their own generator, so the output depends only on
//! [`MixedConfig`].

use std::path::Path;

use eau2::Result;

use super::blocks::{write_blocks, Block, Progress};
use super::fmt::{push_i64, push_u64};
use super::rng::Xoshiro256;
use super::words::{push_person_name, ADJECTIVES, NOUNS};

/// The column types, as one-letter codes (`eau2::frame::Schema::from_codes` reads them).
pub const MIXED_SCHEMA: &str = "BIFSISFB";

/// Rows per generated block. Part of the output's definition.
pub const ROWS_PER_BLOCK: u64 = 1 << 15;

const MIXED_STREAM: u64 = 4;
/// The chance that a field is missing.
const MISSING: f64 = 0.04;
/// The chance that a row ends before its last column.
const SHORT_ROW: f64 = 0.02;
/// The chance that a present field is padded with spaces inside its brackets.
const PADDED: f64 = 0.05;

/// What to generate.
#[derive(Clone, Debug)]
pub struct MixedConfig {
    /// Rows of the file.
    pub rows: u64,
    /// The seed; the same configuration always gives the same bytes.
    pub seed: u64,
}

/// Writes the file to `path`; returns its size in bytes.
pub fn generate(cfg: &MixedConfig, path: &Path, progress: &mut Progress) -> Result<u64> {
    write_blocks(
        path,
        cfg.rows.div_ceil(ROWS_PER_BLOCK),
        |b| block(cfg, b),
        progress,
    )
}

/// Block `block` of the file.
pub fn block(cfg: &MixedConfig, block: u64) -> Block {
    let mut rng = Xoshiro256::for_block(cfg.seed, MIXED_STREAM, block);
    let first = block * ROWS_PER_BLOCK;
    let end = (first + ROWS_PER_BLOCK).min(cfg.rows);
    let mut out = Vec::with_capacity((end - first) as usize * 80);
    let width = MIXED_SCHEMA.len();
    for _ in first..end {
        let fields = if rng.chance(SHORT_ROW) {
            1 + rng.below(width as u64 - 1) as usize
        } else {
            width
        };
        for (col, code) in MIXED_SCHEMA.bytes().take(fields).enumerate() {
            if col > 0 {
                out.push(b' ');
            }
            if rng.chance(MISSING) {
                out.extend_from_slice(if rng.chance(0.5) { b"<>" } else { b"< >" });
                continue;
            }
            let pad = rng.chance(PADDED);
            out.extend_from_slice(if pad { b"<  " } else { b"<" });
            push_value(&mut out, &mut rng, code, col);
            out.extend_from_slice(if pad { b" >" } else { b">" });
        }
        out.push(b'\n');
    }
    Block {
        bytes: out,
        units: end - first,
    }
}

fn push_value(out: &mut Vec<u8>, rng: &mut Xoshiro256, code: u8, col: usize) {
    match code {
        b'B' => out.push(if rng.chance(0.5) { b'1' } else { b'0' }),
        b'I' => {
            // Half small counts, half anywhere in the 32-bit range, some with a `+`.
            let v = if rng.chance(0.5) {
                rng.below(1000) as i64
            } else {
                rng.next_u64() as u32 as i32 as i64
            };
            if v >= 0 && rng.chance(0.1) {
                out.push(b'+');
            }
            push_i64(out, v);
        }
        b'F' => {
            // Decimals with three places, sometimes in exponent form.
            let whole = rng.below(1_000_000) as i64 - 500_000;
            let frac = rng.below(1000);
            push_i64(out, whole);
            out.push(b'.');
            let digits = [frac / 100, frac / 10 % 10, frac % 10];
            out.extend(digits.iter().map(|d| b'0' + *d as u8));
            if rng.chance(0.1) {
                out.extend_from_slice(b"e-");
                push_u64(out, rng.below(10));
            }
        }
        b'S' if col == 3 => {
            out.push(b'"');
            push_person_name(rng, out);
            out.extend_from_slice(b" likes ");
            out.extend_from_slice(rng.pick(NOUNS).as_bytes());
            out.push(b'"');
        }
        b'S' => {
            out.extend_from_slice(rng.pick(ADJECTIVES).as_bytes());
            out.push(b'_');
            out.extend_from_slice(rng.pick(NOUNS).as_bytes());
        }
        _ => unreachable!("MIXED_SCHEMA holds only B, I, F and S"),
    }
}
