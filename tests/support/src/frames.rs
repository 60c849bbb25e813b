//! Deterministic sample frames whose rows are a function of their global row number, so
//! that any slice of rows can be built on its own (each rank builds its share) and the
//! whole frame built in one piece is the reference to compare against.

use std::ops::Range;

use eau2::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};

/// A well-mixed 64-bit hash of `i` and `salt` (splitmix64's finalizer).
fn mix(i: u64, salt: u64) -> u64 {
    let mut z = i.wrapping_add(salt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The schema of [`all_types`]: one column of each type, named.
pub fn all_types_schema() -> Schema {
    Schema::named([
        ("flag", DataType::Bool),
        ("n", DataType::Int),
        ("x", DataType::Float),
        ("label", DataType::String),
        ("big", DataType::I64),
        ("mean", DataType::F64),
    ])
    .expect("distinct names")
}

/// Rows `rows` of a frame with a column of every type and missing values in each, in
/// chunks of `chunk_len`. Strings hold spaces, commas, `<>` and non-ASCII letters but
/// nothing SoR cannot print; floats are finite and spread over all exponents.
pub fn all_types(rows: Range<u64>, chunk_len: usize) -> DataFrame {
    let mut b = FrameBuilder::new(all_types_schema(), chunk_len);
    for i in rows {
        let h = mix(i, 1);
        let missing = |col: u64| (h >> (col * 4)) & 15 == 0;
        let x = f32::from_bits(mix(i, 2) as u32);
        let mean = f64::from_bits(mix(i, 3));
        let label = match h % 5 {
            0 => String::new(),
            1 => format!("row {i}, the <{}>", h % 97),
            2 => format!("é{}ü", h % 1000),
            _ => format!("r{i}"),
        };
        let values = [
            (!missing(0)).then_some(Value::Bool(h & 1 == 1)),
            (!missing(1)).then_some(Value::Int((h >> 8) as i32)),
            (!missing(2) && x.is_finite()).then_some(Value::Float(x)),
            (!missing(3)).then_some(Value::Str(label.as_bytes())),
            (!missing(4)).then_some(Value::I64(mix(i, 4) as i64)),
            (!missing(5) && mean.is_finite()).then_some(Value::F64(mean)),
        ];
        b.push_row(&values).expect("the row fits the schema");
    }
    b.finish()
}

/// Rows `rows` of a frame whose strings need CSV quoting (the delimiter, quotes, CR, LF,
/// empty strings) and which SoR cannot print, in chunks of `chunk_len`.
pub fn needs_quoting(rows: Range<u64>, chunk_len: usize) -> DataFrame {
    let schema = Schema::named([("id", DataType::Int), ("text, quoted", DataType::String)])
        .expect("distinct names");
    let mut b = FrameBuilder::new(schema, chunk_len);
    for i in rows {
        let text = match i % 6 {
            0 => format!("say \"{i}\""),
            1 => format!("a,b,{i}"),
            2 => format!("line\nbreak {i}"),
            3 => format!("cr\r{i}"),
            4 => String::new(),
            _ => format!("plain {i}"),
        };
        let text = (i % 7 != 3).then_some(Value::Str(text.as_bytes()));
        b.push_row(&[Some(Value::Int(i as i32)), text])
            .expect("the row fits the schema");
    }
    b.finish()
}

/// The first row of rank `rank`'s share of `rows` rows split evenly over `size` ranks.
pub fn share_start(rows: u64, rank: usize, size: usize) -> u64 {
    rows * rank as u64 / size as u64
}
