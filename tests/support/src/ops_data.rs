//! Seeded random frames with missing values for the relational operators' tests, shared
//! by the `ops-check` probe (which runs an operator on N ranks) and the test (which
//! computes the same operator sequentially), and the canonical text of a result.

use std::ops::Range;

use eau2::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};

use crate::cells::{Cell, Table};

/// SplitMix64: every process draws the same values from a seed.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd1b5_4a32_d192_ed03)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The strings the random frames draw from: empty, with a NUL, multi-byte.
const WORDS: [&str; 6] = ["a", "b", "", "x\0y", "été", "ab"];

/// The facts frame: `k` INT (0..8), `s` STRING, `v` INT (-50..50), `f` FLOAT (quarters,
/// so sums are exact), `b` BOOL; each column with missing values.
pub fn facts(seed: u64, rows: usize) -> (Schema, Table) {
    let mut schema = Schema::default();
    for (t, n) in [
        (DataType::Int, "k"),
        (DataType::String, "s"),
        (DataType::Int, "v"),
        (DataType::Float, "f"),
        (DataType::Bool, "b"),
    ] {
        schema.push(t, Some(n.to_string()));
    }
    let mut rng = Rng::new(seed);
    let table = (0..rows)
        .map(|_| {
            vec![
                (!rng.chance(10)).then(|| Cell::Int(rng.below(8) as i32)),
                (!rng.chance(10)).then(|| Cell::Str(WORDS[rng.below(6) as usize].into())),
                (!rng.chance(15)).then(|| Cell::Int(rng.below(100) as i32 - 50)),
                (!rng.chance(15))
                    .then(|| Cell::Float((((rng.below(400) as f32) - 200.0) / 4.0).to_bits())),
                (!rng.chance(10)).then(|| Cell::Bool(rng.chance(50))),
            ]
        })
        .collect();
    (schema, table)
}

/// The dimension frame to join with: `k` INT (0..10, repeated, some missing) and `name`
/// STRING.
pub fn dims(seed: u64, rows: usize) -> (Schema, Table) {
    let mut schema = Schema::default();
    schema.push(DataType::Int, Some("k".into()));
    schema.push(DataType::String, Some("name".into()));
    let mut rng = Rng::new(seed ^ 0xd1);
    let table = (0..rows)
        .map(|i| {
            vec![
                (!rng.chance(10)).then(|| Cell::Int(rng.below(10) as i32)),
                Some(Cell::Str(format!("n{i}").into_bytes())),
            ]
        })
        .collect();
    (schema, table)
}

/// The rows of `table` as a frame of `schema` in chunks of `chunk_len` rows.
pub fn frame_of(schema: &Schema, table: &[Vec<Option<Cell>>], chunk_len: usize) -> DataFrame {
    let mut builder = FrameBuilder::new(schema.clone(), chunk_len);
    for row in table {
        let values: Vec<Option<Value<'_>>> =
            row.iter().map(|c| c.as_ref().map(Cell::value)).collect();
        builder.push_row(&values).expect("the row fits the schema");
    }
    builder.finish()
}

/// Rank `rank`'s rows of `rows` split over `n` ranks unevenly: rank r's share is
/// proportional to (r + 1)^2, so the last rank holds the most and rank 0 may hold none.
pub fn part(rank: usize, n: usize, rows: usize) -> Range<usize> {
    let weight = |r: usize| (r + 1) * (r + 1);
    let total: usize = (0..n).map(weight).sum();
    let before: usize = (0..rank).map(weight).sum();
    rows * before / total..rows * (before + weight(rank)) / total
}

/// Collective: this rank's uneven share ([`part`]) of `table`, in chunks of `chunk`
/// rows, stored as the frame `name` (rank 0 may hold nothing).
pub fn load_share<'n>(
    node: &'n eau2::Node,
    name: &str,
    (schema, table): &(Schema, Table),
    chunk: usize,
) -> eau2::Result<eau2::table::DistFrame<'n>> {
    let mine = part(node.rank(), node.size(), table.len());
    let local = frame_of(schema, &table[mine], chunk);
    eau2::table::DistFrame::from_local_parts(node, &eau2::kv::Key::new(name, 0), &local)
}

/// A join done the plain way, as the reference the operator is checked against: each
/// `left` row in order with every `right` row (in order) whose columns `right_on` equal
/// its columns `left_on` (a key with a missing value matches nothing), extended with
/// that right row's columns `kept`. With `keep_unmatched` (a left join), a left row
/// without a match is kept with missing values for them. Each row as [`row_text`].
pub fn nested_loop_join(
    left: &Table,
    right: &Table,
    (left_on, right_on): (&[usize], &[usize]),
    kept: &[usize],
    keep_unmatched: bool,
) -> Vec<String> {
    let key = |r: &[Option<Cell>], on: &[usize]| -> Option<Vec<Cell>> {
        on.iter().map(|&c| r[c].clone()).collect()
    };
    let mut out = Vec::new();
    for l in left {
        let mut matched = false;
        if let Some(k) = key(l, left_on) {
            for r in right
                .iter()
                .filter(|r| key(r, right_on).as_ref() == Some(&k))
            {
                let mut row = l.clone();
                row.extend(kept.iter().map(|&c| r[c].clone()));
                out.push(row_text(&row));
                matched = true;
            }
        }
        if !matched && keep_unmatched {
            let mut row = l.clone();
            row.extend(kept.iter().map(|_| None));
            out.push(row_text(&row));
        }
    }
    out
}

/// One cell as text: `NA` when missing, floats through their value.
pub fn cell_text(cell: &Option<Cell>) -> String {
    match cell {
        None => "NA".into(),
        Some(Cell::Bool(b)) => b.to_string(),
        Some(Cell::Int(i)) => i.to_string(),
        Some(Cell::Float(bits)) => format!("{:?}", f32::from_bits(*bits)),
        Some(Cell::I64(i)) => i.to_string(),
        Some(Cell::F64(bits)) => format!("{:?}", f64::from_bits(*bits)),
        Some(Cell::Str(s)) => format!("{:?}", String::from_utf8_lossy(s)),
    }
}

/// A row as one line of text.
pub fn row_text(row: &[Option<Cell>]) -> String {
    row.iter().map(cell_text).collect::<Vec<_>>().join("|")
}
