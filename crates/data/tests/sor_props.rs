//! Properties of the SoR reader on random input: parallel reads equal the sequential read,
//! parts concatenate to the whole, ranges follow the range rule of `docs/sor-format.md` as
//! an independent oracle reads it, and no input makes it panic.

use eau2_data::frame::Schema;
use eau2_data::sor::{SorFile, SorReader};
use eau2_testkit::cells::{table_of, Table};
use proptest::prelude::*;

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

fn summary(file: &SorFile) -> (Schema, Table, u64, Option<u64>) {
    (
        file.schema.clone(),
        table_of(&file.frame),
        file.deviations.rows,
        file.deviations.first_line,
    )
}

/// the range rule of docs/sor-format.md ("Byte ranges and parts"), applied line by line:
/// the lines of `text` that `range(from, len)` reads, as text (with their line ends), and
/// their 1-based line numbers in `text`.
fn oracle(text: &[u8], from: u64, len: Option<u64>) -> (Vec<u8>, Vec<u64>) {
    // Each line: where it starts, where its `\n` is (if it has one), and its bytes.
    let mut lines: Vec<(usize, Option<usize>, &[u8])> = Vec::new();
    let mut start = 0;
    while start < text.len() {
        match text[start..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                lines.push((start, Some(start + i), &text[start..=start + i]));
                start += i + 1;
            }
            None => {
                lines.push((start, None, &text[start..]));
                start = text.len();
            }
        }
    }
    let reaches_end = match len {
        None => true,
        Some(len) => u128::from(from) + u128::from(len) >= text.len() as u128,
    };
    let mut kept = Vec::new();
    let mut numbers = Vec::new();
    for (number, &(start, newline, bytes)) in lines.iter().enumerate() {
        // Reading starts after the first `\n` at or after `from`: a line is read when a
        // `\n` at or after `from` comes before it.
        let after_from =
            from == 0 || (from as usize) < start && text[from as usize..start].contains(&b'\n');
        // The last line is kept when its `\n` is inside the range, or the range reaches
        // the end of the file.
        let before_end = reaches_end
            || newline.is_some_and(|nl| (nl as u128) < u128::from(from) + u128::from(len.unwrap()));
        if after_from && before_end {
            kept.extend_from_slice(bytes);
            numbers.push(number as u64 + 1);
        }
    }
    (kept, numbers)
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
    fn parts_concatenate_to_the_whole(
        text in sor_text(),
        count in 1usize..=8,
        parallel in any::<bool>(),
    ) {
        let schema = SorReader::new().infer_bytes(&text).unwrap();
        let reader = SorReader::new().schema(schema).parallel(parallel).min_part_len(8);
        let whole = reader.read_bytes(&text).unwrap();
        let mut rows = Vec::new();
        let mut deviated = 0;
        let mut first_lines = Vec::new();
        for index in 0..count {
            let part = reader.clone().part(index, count).read_bytes(&text).unwrap();
            rows.extend(table_of(&part.frame));
            deviated += part.deviations.rows;
            first_lines.extend(part.deviations.first_line);
        }
        prop_assert_eq!(rows, table_of(&whole.frame));
        prop_assert_eq!(deviated, whole.deviations.rows);
        prop_assert_eq!(first_lines.into_iter().min(), whole.deviations.first_line);
    }

    #[test]
    fn range_follows_the_sor_md_rules(
        text in sor_text(),
        from in any::<prop::sample::Index>(),
        len in prop::option::of(any::<prop::sample::Index>()),
        huge_len in any::<bool>(),
        infer_rows in prop::sample::select(vec![1usize, 2, 500]),
        parallel in any::<bool>(),
    ) {
        // Offsets up to a little past the end; sometimes a length that overflows.
        let from = from.index(text.len() + 3) as u64;
        let len = len.map(|l| if huge_len { u64::MAX } else { l.index(text.len() + 3) as u64 });
        let (kept, line_numbers) = oracle(&text, from, len);
        let reader = SorReader::new()
            .infer_rows(infer_rows)
            .parallel(parallel)
            .min_part_len(8);
        let got = reader.clone().range(from, len).read_bytes(&text).unwrap();
        let want = reader.read_bytes(&kept).unwrap();
        prop_assert_eq!(&got.schema, &want.schema);
        prop_assert_eq!(table_of(&got.frame), table_of(&want.frame));
        prop_assert_eq!(got.deviations.rows, want.deviations.rows);
        // The oracle's text numbers its lines from 1; the range reports whole-file lines.
        let want_first = want.deviations.first_line.map(|l| line_numbers[l as usize - 1]);
        prop_assert_eq!(got.deviations.first_line, want_first);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop_oneof![noise(), sor_text()],
        strict in any::<bool>(),
        from in 0u64..500,
        len in prop::option::of(0u64..500),
        part in prop::option::of((1usize..=8, any::<prop::sample::Index>())),
        min_part_len in 1usize..50,
        columns in prop::option::of(prop::collection::vec(0usize..4, 0..3)),
    ) {
        let mut reader = SorReader::new()
            .strict(strict)
            .range(from, len)
            .min_part_len(min_part_len)
            .chunk_len(7);
        if let Some((count, index)) = part {
            reader = reader.part(index.index(count), count);
        }
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
