//! Data frames printed as SoR text (`DataFrame::to_sor_bytes`) read back to the same
//! values through the SoR reader, both with the frame's schema given and with the
//! schema inferred. Values are compared one by one through `get`, because the reader
//! chooses its own chunk layout.

use eau2_data::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};
use eau2_data::sor::{Deviations, SorReader};
use eau2_testkit::cells::{table_of, Cell, Table};
use proptest::prelude::*;

fn frame_of(types: &[DataType], rows: &Table, chunk_len: usize) -> DataFrame {
    let mut builder = FrameBuilder::new(Schema::new(types.to_vec()), chunk_len);
    for row in rows {
        let values: Vec<Option<Value<'_>>> =
            row.iter().map(|c| c.as_ref().map(Cell::value)).collect();
        builder.push_row(&values).expect("the row fits the schema");
    }
    builder.finish()
}

/// Prints `frame`, reads the text back with its schema and with inference (over the
/// default 500 rows and over `infer_rows`), and checks every value.
fn check_round_trip(frame: &DataFrame, infer_rows: usize) {
    let text = frame.to_sor_bytes().expect("the frame is printable");
    let want = table_of(frame);
    let types = frame.schema().types();

    // With the schema given, everything comes back exactly, whatever the chunking.
    for reader in [
        SorReader::new(),
        SorReader::new().chunk_len(5).min_part_len(64),
        SorReader::new().parallel(false),
    ] {
        let read = reader
            .schema(frame.schema().clone())
            .read_bytes(&text)
            .expect("printed text reads");
        assert_eq!(read.frame.schema().types(), types);
        assert_eq!(read.deviations, Deviations::default());
        assert_eq!(table_of(&read.frame), want);
    }

    for rows in [eau2_data::sor::DEFAULT_INFER_ROWS, infer_rows] {
        let read = SorReader::new()
            .infer_rows(rows)
            .min_part_len(256)
            .read_bytes(&text)
            .expect("printed text reads");
        let (types, table, deviations) = inferred(frame, &want, rows);
        assert_eq!(read.schema.types(), types, "inferring from {rows} rows");
        assert_eq!(read.deviations, deviations, "inferring from {rows} rows");
        assert_eq!(table_of(&read.frame), table, "inferring from {rows} rows");
    }
}

/// What inference over the first `rows` rows gives for the printed `frame`, whose
/// values are `table`: each column's own type if one of those rows has a value in it,
/// else BOOL (the printer marks every INT, FLOAT and STRING so that inference sees its
/// type). A column inferred as BOOL but holding another type has every later value
/// deviate, so stored as missing. A frame without rows prints nothing: no columns.
fn inferred(frame: &DataFrame, table: &Table, rows: usize) -> (Vec<DataType>, Table, Deviations) {
    if table.is_empty() {
        return (Vec::new(), Vec::new(), Deviations::default());
    }
    let types: Vec<DataType> = frame
        .schema()
        .types()
        .iter()
        .enumerate()
        .map(|(c, &t)| {
            let seen = table.iter().take(rows).any(|row| row[c].is_some());
            if seen {
                t
            } else {
                DataType::Bool
            }
        })
        .collect();
    let lost: Vec<bool> = types
        .iter()
        .zip(frame.schema().types())
        .map(|(got, had)| got != had)
        .collect();
    let mut deviations = Deviations::default();
    let mut out = Vec::with_capacity(table.len());
    for (r, row) in table.iter().enumerate() {
        let deviates = row.iter().zip(&lost).any(|(v, &lost)| lost && v.is_some());
        if deviates {
            deviations.rows += 1;
            deviations.first_line.get_or_insert(r as u64 + 1);
        }
        out.push(
            row.iter()
                .zip(&lost)
                .map(|(v, &lost)| if lost { None } else { v.clone() })
                .collect(),
        );
    }
    (types, out, deviations)
}

fn b(v: bool) -> Option<Cell> {
    Some(Cell::Bool(v))
}
fn i(v: i32) -> Option<Cell> {
    Some(Cell::Int(v))
}
fn f(v: f32) -> Option<Cell> {
    Some(Cell::Float(v.to_bits()))
}
fn s(v: &str) -> Option<Cell> {
    Some(Cell::Str(v.as_bytes().to_vec()))
}

#[test]
fn every_type_with_missing_values() {
    use DataType::*;
    let rows: Table = vec![
        vec![b(true), i(0), f(0.5), s("a")],
        vec![None, i(1), None, s("")],
        vec![b(false), None, f(-0.0), None],
        vec![None, None, None, None],
        vec![b(true), i(-1), f(3.0), s("last")],
    ];
    for chunk_len in [1, 2, 3, 100] {
        check_round_trip(&frame_of(&[Bool, Int, Float, String], &rows, chunk_len), 2);
    }
}

#[test]
fn one_column_frames_from_arrays() {
    check_round_trip(&DataFrame::from_array(&[Some(true), None, Some(false)]), 1);
    check_round_trip(&DataFrame::from_array(&[Some(7), None, Some(-7)]), 1);
    check_round_trip(&DataFrame::from_array(&[None, Some(1.25f32)]), 1);
    check_round_trip(&DataFrame::from_array(&[Some("x y"), None]), 1);
    check_round_trip(&DataFrame::from_array(&[true]), 1);
    check_round_trip(&DataFrame::from_array::<i32>(&[]), 1);
    check_round_trip(&DataFrame::from_scalar(None::<&str>), 1);
}

#[test]
fn strings_with_spaces_brackets_and_utf8() {
    let strings = [
        "hello",
        "ho ho ho",
        " leading and trailing ",
        "",
        " ",
        "<>",
        "< >",
        "<",
        ">",
        "bye bye <> ",
        "a>b<c",
        "tab\there",
        "é€😀 ünïcödé",
        "日本語 テキスト",
        "1",
        "+1",
        "-0",
        "2.5",
        "1e5",
        "<1>",
        "'single'",
        "back\\slash",
    ];
    let values: Vec<Option<&str>> = strings.iter().map(|&s| Some(s)).chain([None]).collect();
    for chunk_len in [1, 4, 1000] {
        check_round_trip(&DataFrame::from_array_chunked(&values, chunk_len), 3);
    }
    // Strings are bytes: invalid UTF-8 round-trips too.
    check_round_trip(&DataFrame::from_array(&[&b"\xff\xfe x"[..], b"ok"]), 1);
}

#[test]
fn extreme_ints() {
    let ints = [i32::MIN, i32::MAX, 0, 1, -1, 2, 10, -2147483647, 1_000_000];
    let values: Vec<Option<i32>> = ints.iter().map(|&v| Some(v)).chain([None]).collect();
    check_round_trip(&DataFrame::from_array_chunked(&values, 3), 1);
    // A column of only 0 and 1 is still an INT column (printed `+0`, `+1`).
    check_round_trip(&DataFrame::from_array(&[0, 1, 1, 0]), 1);
    check_round_trip(&DataFrame::from_array(&[Some(1), None]), 1);
}

#[test]
fn floats_at_full_precision() {
    let floats = [
        0.1f32,
        1.0 / 3.0,
        -2.0 / 3.0,
        0.0,
        -0.0,
        1.0,
        3.0,
        16_777_216.0,
        16_777_214.0,
        123_456.79,
        1e10,
        -2e-9,
        1e20,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        f32::EPSILON,
        1e-45,
        -1.4e-45,
        std::f32::consts::PI,
        2147483648.0,
        // The neighbours of 0.3, which need all nine significant digits.
        f32::from_bits(0.3f32.to_bits() + 1),
        f32::from_bits(0.3f32.to_bits() - 1),
    ];
    let values: Vec<Option<f32>> = floats.iter().map(|&v| Some(v)).chain([None]).collect();
    check_round_trip(&DataFrame::from_array_chunked(&values, 4), 1);
    // Every bit pattern of a spread of exponents and mantissas.
    let mut bits = 0x2545_f491u32;
    let spread: Vec<f32> = (0..5000)
        .map(|_| {
            bits ^= bits << 13;
            bits ^= bits >> 17;
            bits ^= bits << 5;
            f32::from_bits(bits)
        })
        .filter(|v| v.is_finite())
        .collect();
    check_round_trip(&DataFrame::from_array_chunked(&spread, 97), 1);
}

#[test]
fn many_chunks_and_a_parallel_read() {
    use DataType::*;
    // 20 000 rows in chunks of 64 rows; the reader splits the text for parallel parsing.
    let rows: Table = (0..20_000i32)
        .map(|r| {
            let skip = (r % 7) as usize;
            let row = [
                b(r % 3 == 0),
                i(r.wrapping_mul(-7919)),
                f(r as f32 / 7.0),
                Some(Cell::Str(format!("row {r} <{}>", r % 11).into_bytes())),
            ];
            row.into_iter()
                .enumerate()
                .map(|(c, v)| if c == skip { None } else { v })
                .collect()
        })
        .collect();
    let frame = frame_of(&[Bool, Int, Float, String], &rows, 64);
    assert!(frame.chunk_count() > 300);
    check_round_trip(&frame, 10);
}

#[test]
fn columns_missing_in_the_inference_window() {
    use DataType::*;
    // Column 1 is missing in the first 600 rows: with inference from 500 rows it is
    // BOOL, and its later values deviate; with the schema given it reads exactly.
    let rows: Table = (0..700)
        .map(|r| {
            vec![
                i(r),
                (r >= 600).then(|| Cell::Float((r as f32 + 0.5).to_bits())),
                None,
            ]
        })
        .collect();
    let frame = frame_of(&[Int, Float, String], &rows, 128);
    check_round_trip(&frame, 500);
    let text = frame.to_sor_bytes().unwrap();
    let read = SorReader::new().read_bytes(&text).unwrap();
    assert_eq!(read.schema.codes(), "IBB");
    assert_eq!(read.deviations.rows, 100);
    assert_eq!(read.deviations.first_line, Some(601));
}

/// A value of type `t`, or missing; ints and floats lean towards their extremes.
fn cell(t: DataType) -> BoxedStrategy<Option<Cell>> {
    let present = match t {
        DataType::Bool => any::<bool>().prop_map(Cell::Bool).boxed(),
        DataType::Int => prop_oneof![
            3 => any::<i32>(),
            1 => prop::sample::select(vec![i32::MIN, i32::MAX, 0, 1, -1]),
        ]
        .prop_map(Cell::Int)
        .boxed(),
        DataType::Float => prop_oneof![
            3 => any::<f32>().prop_filter("printable", |v| v.is_finite()),
            1 => prop::sample::select(vec![0.0f32, -0.0, 1.0, 0.1, f32::MAX, f32::MIN_POSITIVE, 1e-45]),
        ]
        .prop_map(|v| Cell::Float(v.to_bits()))
        .boxed(),
        DataType::String => "[a-zA-Z0-9 <>\t+.é€😀-]{0,10}"
            .prop_map(|s| Cell::Str(s.into_bytes()))
            .boxed(),
        // SoR has no 64-bit types, so these frames never hold them.
        DataType::I64 | DataType::F64 => unreachable!("SoR round trips use SoR's types"),
    };
    prop::option::weighted(0.8, present).boxed()
}

/// A random frame: 1 to 5 columns of random types, 0 to 60 rows, chunks of 1 to 8 rows.
fn frame() -> impl Strategy<Value = DataFrame> {
    let dtype = prop::sample::select(vec![
        DataType::Bool,
        DataType::Int,
        DataType::Float,
        DataType::String,
    ]);
    (prop::collection::vec(dtype, 1..=5), 0usize..60, 1usize..=8).prop_flat_map(
        |(types, nrows, chunk_len)| {
            let row: Vec<_> = types.iter().map(|&t| cell(t)).collect();
            prop::collection::vec(row, nrows)
                .prop_map(move |rows| frame_of(&types, &rows, chunk_len))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_frames_round_trip(frame in frame(), infer_rows in 1usize..10) {
        check_round_trip(&frame, infer_rows);
    }
}
