//! Properties of the SoR reader on random input: parallel and range-split reads equal
//! the sequential read, and no input makes it panic.

use eau2::frame::{DataFrame, Schema, Value};
use eau2::sor::{SorFile, SorReader};
use proptest::prelude::*;

/// A value in a form that compares across chunk layouts (floats by bits, so that -0.0
/// and NaN compare exactly).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Cell {
    Bool(bool),
    Int(i32),
    Float(u32),
    Str(Vec<u8>),
}

fn cells(frame: &DataFrame) -> Vec<Vec<Option<Cell>>> {
    (0..frame.nrows())
        .map(|r| {
            (0..frame.ncols())
                .map(|c| {
                    frame.get(c, r).expect("in range").map(|v| match v {
                        Value::Bool(b) => Cell::Bool(b),
                        Value::Int(i) => Cell::Int(i),
                        Value::Float(f) => Cell::Float(f.to_bits()),
                        Value::Str(s) => Cell::Str(s.to_vec()),
                    })
                })
                .collect()
        })
        .collect()
}

/// One field as written, covering every kind of literal and some malformed ones.
fn field() -> impl Strategy<Value = String> {
    let word = "[a-zA-Z_é€][a-zA-Z0-9_é.+-]{0,6}";
    let quoted = "[a-z <>é+0-9.-]{0,8}";
    let pad = || prop::sample::select(vec!["", "", " ", "  ", "\t"]);
    let literal = prop_oneof![
        3 => Just(String::new()),
        3 => prop::sample::select(vec!["0", "1"]).prop_map(str::to_string),
        3 => any::<i32>().prop_map(|i| i.to_string()),
        1 => (1u32..1000).prop_map(|i| format!("+{i}")),
        2 => any::<f32>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        1 => prop::sample::select(vec![".5", "-.25", "1e5", "2E-3", "10000000000", "-0"])
            .prop_map(str::to_string),
        2 => word.prop_map(|w| w.to_string()),
        2 => quoted.prop_map(|q| format!("\"{q}\"")),
        1 => prop::sample::select(vec!["1. 2", "+ 1", "\"open", "\"a\" b"])
            .prop_map(str::to_string),
    ];
    (pad(), pad(), literal, pad(), pad()).prop_map(|(a, b, lit, c, d)| {
        if lit.starts_with('"') && lit[1..].contains('"') || !lit.contains('"') {
            format!("{a}<{b}{lit}{c}>{d}")
        } else {
            // An unterminated quote swallows the rest of its line; keep it last-ish.
            format!("{a}<{b}{lit}")
        }
    })
}

/// Random SoR text: rows of 0 to 6 fields, LF or CRLF endings, maybe no final newline.
fn sor_text() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::collection::vec(field(), 0..7).prop_map(|f| f.concat());
    (
        prop::collection::vec((row, any::<bool>()), 0..40),
        any::<bool>(),
    )
        .prop_map(|(rows, final_newline)| {
            let mut text = String::new();
            let n = rows.len();
            for (i, (row, crlf)) in rows.into_iter().enumerate() {
                text.push_str(&row);
                if i + 1 < n || final_newline {
                    text.push_str(if crlf { "\r\n" } else { "\n" });
                }
            }
            text.into_bytes()
        })
}

/// Bytes that are mostly SoR punctuation, so that they hit the lexer's corners.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b"<>\" \t\r\n01+-.e9aZ".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..400)
}

fn summary(file: &SorFile) -> (Schema, Vec<Vec<Option<Cell>>>, u64, Option<u64>) {
    (
        file.schema.clone(),
        cells(&file.frame),
        file.deviations.rows,
        file.deviations.first_line,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn parallel_equals_sequential(
        text in sor_text(),
        min_part_len in 1usize..64,
        chunk_len in 1usize..20,
        infer_rows in prop::sample::select(vec![1usize, 3, 500]),
    ) {
        let base = SorReader::new().infer_rows(infer_rows).chunk_len(chunk_len);
        let seq = base.clone().parallel(false).read_bytes(&text).unwrap();
        let par = base.clone().min_part_len(min_part_len).read_bytes(&text).unwrap();
        prop_assert_eq!(summary(&par), summary(&seq));
        // Without deviations a read has one row per line.
        let strict_seq = base.clone().strict(true).parallel(false).read_bytes(&text);
        let strict_par = base.strict(true).min_part_len(min_part_len).read_bytes(&text);
        match (strict_seq, strict_par) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(seq.deviations.rows, 0);
                prop_assert_eq!(summary(&a), summary(&b));
            }
            (Err(a), Err(b)) => {
                prop_assert!(seq.deviations.rows > 0);
                prop_assert_eq!(a.to_string(), b.to_string());
                let line = seq.deviations.first_line.unwrap();
                let needle = format!("<bytes>:{line}: ");
                prop_assert!(a.to_string().starts_with(&needle), "{a} vs line {line}");
            }
            (a, b) => prop_assert!(false, "strict results differ: {a:?} / {b:?}"),
        }
    }

    #[test]
    fn ranges_concatenate_to_the_whole(
        text in sor_text(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
        parallel in any::<bool>(),
    ) {
        let schema = SorReader::new().infer_bytes(&text).unwrap();
        let reader = SorReader::new().schema(schema).parallel(parallel).min_part_len(8);
        let whole = reader.read_bytes(&text).unwrap();
        let mut cuts: Vec<u64> = cuts.iter().map(|i| i.index(text.len() + 1) as u64).collect();
        cuts.sort_unstable();
        cuts.insert(0, 0);
        let mut rows = Vec::new();
        let mut deviated = 0;
        let mut first_line = None;
        for (i, &from) in cuts.iter().enumerate() {
            let len = cuts.get(i + 1).map(|&to| to - from);
            let part = reader.clone().range(from, len).read_bytes(&text).unwrap();
            rows.extend(cells(&part.frame));
            deviated += part.deviations.rows;
            first_line = first_line.or(part.deviations.first_line);
        }
        prop_assert_eq!(rows, cells(&whole.frame));
        prop_assert_eq!(deviated, whole.deviations.rows);
        prop_assert_eq!(first_line, whole.deviations.first_line);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop_oneof![noise(), sor_text()],
        strict in any::<bool>(),
        from in 0u64..500,
        len in prop::option::of(0u64..500),
        min_part_len in 1usize..50,
        columns in prop::option::of(prop::collection::vec(0usize..4, 0..3)),
    ) {
        let mut reader = SorReader::new()
            .strict(strict)
            .range(from, len)
            .min_part_len(min_part_len)
            .chunk_len(7);
        if let Some(cols) = &columns {
            reader = reader.columns(cols);
        }
        let _ = reader.infer_bytes(&bytes).unwrap();
        if let Ok(file) = reader.read_bytes(&bytes) {
            let seq = reader.clone().parallel(false).read_bytes(&bytes).unwrap();
            prop_assert_eq!(summary(&file), summary(&seq));
            prop_assert_eq!(file.frame.ncols(), columns.map_or(file.schema.width(), |c| c.len()));
        }
    }
}

#[test]
fn huge_lines_and_unbalanced_brackets() {
    let mut text = b"<1><\"".to_vec();
    text.extend(vec![b'x'; 1 << 20]);
    text.extend_from_slice(b"\n<<<>>>\n>>>\n<\n\"\n\0\xff\xfe<\xff>\n");
    for strict in [false, true] {
        let result = SorReader::new().strict(strict).read_bytes(&text);
        if strict {
            assert!(result.is_err());
        } else {
            let file = result.unwrap();
            assert_eq!(file.frame.nrows(), 6);
            assert!(file.deviations.rows >= 4);
        }
    }
}
