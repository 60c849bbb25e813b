//! Edge cases of the CSV reader; properties over random frames are in
//! `tests/csv_props.rs`.

use super::*;
use crate::frame::{DataType, Value};

/// Every value of a frame, row by row, as text (`-` for missing).
fn rows(frame: &DataFrame) -> Vec<Vec<String>> {
    (0..frame.nrows())
        .map(|r| {
            (0..frame.ncols())
                .map(|c| match frame.get(c, r).unwrap() {
                    None => "-".to_string(),
                    Some(Value::Bool(b)) => format!("{}", b as u8),
                    Some(Value::Int(i)) => format!("{i}"),
                    Some(Value::Float(f)) => format!("{f:?}"),
                    Some(Value::I64(i)) => format!("{i}"),
                    Some(Value::F64(f)) => format!("{f:?}"),
                    Some(Value::Str(s)) => format!("{:?}", String::from_utf8_lossy(s)),
                })
                .collect()
        })
        .collect()
}

fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn read(text: &[u8]) -> CsvFile {
    CsvReader::new().read_bytes(text).unwrap()
}

fn names(schema: &Schema) -> Vec<&str> {
    (0..schema.width())
        .map(|c| schema.name(c).unwrap())
        .collect()
}

#[test]
fn quotes_embedded_delimiters_and_line_breaks() {
    let file = read(b"a,b\n\"x,y\",\"1\"\"2\"\n\"line\r\nbreak\",\"\"\n");
    assert_eq!(file.schema.codes(), "SS");
    assert_eq!(
        rows(&file.frame),
        table(&[&["\"x,y\"", "\"1\\\"2\""], &["\"line\\r\\nbreak\"", "\"\""]])
    );
}

#[test]
fn crlf_lf_and_no_final_newline() {
    for text in [
        &b"n,s\r\n1,a\r\n2,b\r\n"[..],
        b"n,s\n1,a\n2,b\n",
        b"n,s\n1,a\r\n2,b",
        b"n,s\r\n1,a\n2,b\r\n",
    ] {
        let file = read(text);
        assert_eq!(file.schema.codes(), "LS", "{text:?}");
        assert_eq!(names(&file.schema), ["n", "s"]);
        assert_eq!(
            rows(&file.frame),
            table(&[&["1", "\"a\""], &["2", "\"b\""]])
        );
    }
}

#[test]
fn empty_fields_are_missing_and_quoted_empty_is_a_string() {
    let file = read(b"i,f,s\n,1.5,\"\"\n3,,x\n,,\n");
    assert_eq!(file.schema.codes(), "LDS");
    assert_eq!(
        rows(&file.frame),
        table(&[
            &["-", "1.5", "\"\""],
            &["3", "-", "\"x\""],
            &["-", "-", "-"]
        ])
    );
}

#[test]
fn header_only_and_empty_inputs() {
    for text in [&b"a,b\n"[..], b"a,b", b"a,b\r\n"] {
        let file = read(text);
        assert_eq!(file.frame.nrows(), 0);
        assert_eq!(file.schema.codes(), "SS");
        assert_eq!(names(&file.schema), ["a", "b"]);
    }
    // An empty input has no header: an error, unless a schema says what it holds.
    for text in [&b""[..], b"\xEF\xBB\xBF"] {
        let err = CsvReader::new().read_bytes(text).unwrap_err().to_string();
        assert!(err.contains("no header"), "{err}");
    }
    let given = Schema::named([("a", DataType::I64)]).unwrap();
    let file = CsvReader::new().schema(given).read_bytes(b"").unwrap();
    assert_eq!((file.schema.codes().as_str(), file.frame.nrows()), ("L", 0));
    let file = CsvReader::new().header(false).read_bytes(b"").unwrap();
    assert_eq!((file.schema.width(), file.frame.nrows()), (0, 0));
}

#[test]
fn without_header_names_are_c0_c1() {
    let file = CsvReader::new()
        .header(false)
        .read_bytes(b"1,x\n0,y\n")
        .unwrap();
    assert_eq!(names(&file.schema), ["c0", "c1"]);
    assert_eq!(file.schema.codes(), "BS");
    assert_eq!(file.frame.nrows(), 2);
}

#[test]
fn byte_order_mark_is_skipped() {
    let file = read(b"\xEF\xBB\xBFid,v\n7,1\n");
    assert_eq!(names(&file.schema), ["id", "v"]);
    assert_eq!(rows(&file.frame), table(&[&["7", "1"]]));
}

#[test]
fn blank_lines_are_rows_of_missing_values() {
    let file = read(b"a,b\n1,2\n\n3,4\n");
    assert_eq!(
        rows(&file.frame),
        table(&[&["1", "2"], &["-", "-"], &["3", "4"]])
    );
}

#[test]
fn other_delimiters() {
    let file = CsvReader::new()
        .delimiter(b'\t')
        .read_bytes(b"a\tb\n1,5\t\"x\ty\"\n")
        .unwrap();
    assert_eq!(rows(&file.frame), table(&[&["\"1,5\"", "\"x\\ty\""]]));
    let err = CsvReader::new()
        .delimiter(b'"')
        .read_bytes(b"a")
        .unwrap_err();
    assert!(err.to_string().contains("delimiter"), "{err}");
}

#[test]
fn ragged_rows_fail_strict_and_count_lenient() {
    // Line 4 is ragged; line 2's quoted break makes the record after it line 4.
    let text = b"a,b\n\"x\ny\",1\n3\n4,5,6\n";
    let err = CsvReader::new().read_bytes(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "<bytes>:4: column 1: the record has 1 fields, not 2: \"3\""
    );
    let file = CsvReader::new().strict(false).read_bytes(text).unwrap();
    assert_eq!(file.deviations.rows, 2);
    assert_eq!(file.deviations.first_line, Some(4));
    assert_eq!(
        rows(&file.frame),
        table(&[&["\"x\\ny\"", "1"], &["\"3\"", "-"], &["\"4\"", "5"]])
    );
    let err = CsvReader::new().read_bytes(b"a\n1\n1,2\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "<bytes>:3: column 1: the record has 2 fields, not 1: \"1,2\""
    );
}

#[test]
fn malformed_quotes_and_type_mismatches() {
    let text = b"a,b\n1,x\n2,a\"b\n1.5,\"c\"d\n";
    let reader = CsvReader::new().infer_rows(1);
    assert_eq!(reader.infer_bytes(text).unwrap().codes(), "BS");
    let err = reader.read_bytes(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "<bytes>:3: column 0: a I64 value does not fit a BOOL column: \"2\""
    );
    // The stray quote on line 3 opens a quoted stretch that the first quote on line 4
    // closes: by quote parity, lines 3 and 4 are one record.
    let file = reader.strict(false).read_bytes(text).unwrap();
    assert_eq!(rows(&file.frame), table(&[&["1", "\"x\""], &["-", "-"]]));
    assert_eq!(file.deviations.rows, 1);
    let err = CsvReader::new().read_bytes(b"a,b\n1,\"c\"d\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "<bytes>:2: column 1: malformed field (text after a closing quote): \"\\\"c\\\"d\""
    );
    // An unclosed quote runs to the end of the input.
    let err = CsvReader::new().read_bytes(b"a\n\"x\ny\n").unwrap_err();
    assert!(err.to_string().contains("no closing quote"), "{err}");
}

#[test]
fn given_schema_names_and_width() {
    let mut schema = Schema::from_codes("FS").unwrap();
    schema.set_name(1, "label").unwrap();
    let reader = CsvReader::new().schema(schema);
    let file = reader.read_bytes(b"x,y\n1,2\n").unwrap();
    assert_eq!(names(&file.schema), ["x", "label"]);
    assert_eq!(file.schema.types(), &[DataType::Float, DataType::String]);
    assert_eq!(rows(&file.frame), table(&[&["1.0", "\"2\""]]));
    let err = reader.read_bytes(b"x,y,z\n").unwrap_err();
    assert!(
        err.to_string().contains("the header has 3 columns"),
        "{err}"
    );
}

/// Issue 20: a given schema that names every column is used as it is, its names shared
/// rather than copied per read (the header is then only counted, never decoded); only a
/// column left with its exact default name `c<k>` takes the header's name.
#[test]
fn given_names_are_shared_and_only_exact_defaults_take_the_header() {
    let schema = Schema::named([("p", DataType::Int), ("q", DataType::String)]).unwrap();
    let reader = CsvReader::new().schema(schema.clone());
    let file = reader
        .read_bytes(
            b"x,y
1,2
",
        )
        .unwrap();
    assert_eq!(file.schema, schema);
    assert!(std::ptr::eq(file.schema.names(), schema.names()));
    assert!(std::ptr::eq(file.frame.schema().names(), schema.names()));
    assert!(reader
        .read_bytes(
            b"x
1
"
        )
        .is_err());
    // "c01" and "c+1" are names of their own, not column 1's default.
    for (given, want) in [("c1", "y"), ("c01", "c01"), ("c+1", "c+1"), ("c10", "c10")] {
        let schema = Schema::named([("a", DataType::Int), (given, DataType::Int)]).unwrap();
        let file = CsvReader::new()
            .schema(schema)
            .read_bytes(
                b"x,y
1,2
",
            )
            .unwrap();
        assert_eq!(names(&file.schema), ["a", want], "{given}");
    }
}

/// A text with quoted line breaks, doubled quotes, CRLF, blank lines and ragged rows.
fn generated(rows: usize) -> Vec<u8> {
    let mut text = b"flag,n,x,s\n".to_vec();
    for i in 0..rows {
        let line = match i % 6 {
            0 => format!("{},{i},{i}.5,\"s {i}\"\n", i % 2),
            1 => format!("1,-{i},{i}e-3,\"multi\nline \"\"{i}\"\"\"\r\n"),
            2 => "\n".to_string(),
            3 => format!("0,{i},,\n"),
            4 if i % 5 == 0 => "0,bad,1,x,extra\n".to_string(),
            _ => format!("1,{i},.{i},\"a,b\r\nc\"\n"),
        };
        text.extend_from_slice(line.as_bytes());
    }
    text
}

#[test]
fn parallel_and_parts_equal_sequential() {
    let text = generated(3000);
    let base = CsvReader::new().strict(false);
    let seq = base.clone().parallel(false).read_bytes(&text).unwrap();
    assert!(seq.deviations.rows > 0);
    assert_eq!(seq.frame.nrows(), 3000);
    for min_part_len in [1, 7, 100, 5000] {
        for chunk_len in [1, 7, 1000] {
            let par = base
                .clone()
                .min_part_len(min_part_len)
                .chunk_len(chunk_len)
                .read_bytes(&text)
                .unwrap();
            assert_eq!(par.schema, seq.schema);
            assert_eq!(rows(&par.frame), rows(&seq.frame));
            assert_eq!(par.deviations, seq.deviations);
        }
    }
    for count in [1, 2, 3, 7, 64, 1000] {
        let mut all = Vec::new();
        let mut deviated = 0;
        let mut odd = false;
        for index in 0..count {
            let part = base.clone().part(index, count).min_part_len(16);
            // Counted by the part itself, and given as a scan would give it.
            let counted = part.read_bytes(&text).unwrap();
            let given = part
                .clone()
                .quotes_before_part(odd)
                .read_bytes(&text)
                .unwrap();
            odd ^= part.part_quotes_bytes(&text).unwrap() % 2 == 1;
            assert_eq!(rows(&counted.frame), rows(&given.frame));
            assert_eq!(counted.schema, seq.schema);
            all.extend(rows(&counted.frame));
            deviated += counted.deviations.rows;
        }
        assert_eq!(all, rows(&seq.frame), "{count} parts");
        assert_eq!(deviated, seq.deviations.rows);
    }
}

#[test]
fn strict_parallel_reports_the_first_deviation() {
    let text = generated(3000);
    let seq = CsvReader::new()
        .parallel(false)
        .read_bytes(&text)
        .unwrap_err();
    let par = CsvReader::new()
        .min_part_len(64)
        .read_bytes(&text)
        .unwrap_err();
    assert_eq!(seq.to_string(), par.to_string());
    assert!(seq.to_string().starts_with("<bytes>:"), "{seq}");
}

#[test]
fn files_read_mapped_or_with_pread_like_memory() {
    let text = generated(500);
    let path = std::env::temp_dir().join(format!("eau2-csv-{}.csv", std::process::id()));
    std::fs::write(&path, &text).unwrap();
    let base = CsvReader::new().strict(false).min_part_len(32);
    for map in [true, false] {
        for count in [1, 2, 5, 40] {
            for index in 0..count {
                let reader = base.clone().memory_map(map).part(index, count);
                let a = reader.read_path(&path).unwrap();
                let b = reader.read_bytes(&text).unwrap();
                assert_eq!(a.schema, b.schema);
                assert_eq!(
                    rows(&a.frame),
                    rows(&b.frame),
                    "map {map} part {index}/{count}"
                );
                assert_eq!(a.deviations, b.deviations);
                assert_eq!(
                    reader.part_quotes_path(&path).unwrap(),
                    reader.part_quotes_bytes(&text).unwrap()
                );
            }
        }
        let err = CsvReader::new()
            .memory_map(map)
            .read_path(&path)
            .unwrap_err();
        assert!(
            err.to_string().starts_with(&path.display().to_string()),
            "{err}"
        );
    }
    std::fs::remove_file(&path).unwrap();
    let err = CsvReader::new()
        .read_path(Path::new("/no/such.csv"))
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
}

#[test]
fn parts_that_do_not_exist_are_errors() {
    let err = CsvReader::new().part(2, 2).read_bytes(b"a\n").unwrap_err();
    assert_eq!(err.to_string(), "part 2 is out of range (there are 2)");
}

#[test]
fn chunks_are_cut_at_chunk_len() {
    let text = generated(100);
    let file = CsvReader::new()
        .strict(false)
        .chunk_len(16)
        .read_bytes(&text)
        .unwrap();
    assert!(file
        .frame
        .column(0)
        .unwrap()
        .chunks()
        .iter()
        .all(|c| c.len() <= 16));
}

#[test]
fn what_write_csv_prints_reads_back() {
    use crate::frame::{ColumnBuilder, CsvWriteOptions};
    let mut b = ColumnBuilder::new(DataType::Bool, 4);
    let mut f = ColumnBuilder::new(DataType::F64, 4);
    let mut i = ColumnBuilder::new(DataType::I64, 4);
    for (v, x, n) in [
        (Some(true), Some(f64::NAN), Some(i64::MIN)),
        (Some(false), Some(f64::INFINITY), None),
        (None, Some(f64::NEG_INFINITY), Some(1 << 40)),
        (Some(true), Some(0.1), Some(7)),
    ] {
        b.push(v.map(Value::Bool)).unwrap();
        f.push(x.map(Value::F64)).unwrap();
        i.push(n.map(Value::I64)).unwrap();
    }
    let schema = Schema::named([
        ("b", DataType::Bool),
        ("f", DataType::F64),
        ("i", DataType::I64),
    ])
    .unwrap();
    let frame = DataFrame::new(schema.clone(), vec![b.finish(), f.finish(), i.finish()]).unwrap();
    let text = frame.to_csv_bytes(&CsvWriteOptions::default()).unwrap();
    let back = CsvReader::new().read_bytes(&text).unwrap();
    assert_eq!(back.schema, schema, "{}", String::from_utf8_lossy(&text));
    assert_eq!(rows(&back.frame), rows(&frame));
}

/// A column sorted so that its first records are 0/1 shows its later values in the
/// sample of every part, and a strict read reports what the first misfit would need.
#[test]
fn samples_cover_the_whole_part_and_misfits_say_what_they_need() {
    let mut text = String::from("pid,name\n");
    for i in 0..5000 {
        let pid = if i < 3000 { i % 2 } else { i };
        text.push_str(&format!("{pid},\"n, {i}\"\n"));
    }
    text.push_str("x,last\n");
    let bytes = text.as_bytes();
    let head = CsvReader::new().infer_bytes(bytes).unwrap();
    assert_eq!(head.codes(), "BS");
    let mut seen = Vec::new();
    for rank in 0..3 {
        let part = CsvReader::new().part(rank, 3);
        let types = part.sample_bytes(bytes).unwrap();
        assert_eq!(types.len(), 2, "{types:?}");
        seen.push(types[0]);
    }
    // Part 0 holds only 0/1; the others see larger values, and the last part's last
    // records the text at the very end: a load takes the widest.
    assert_eq!(
        seen,
        [
            Some(DataType::Bool),
            Some(DataType::I64),
            Some(DataType::String)
        ]
    );
    let misfit = CsvReader::new()
        .schema(Schema::from_codes("LS").unwrap())
        .read_bytes_or_misfit(bytes)
        .unwrap()
        .unwrap_err();
    assert_eq!((misfit.line, misfit.column), (5002, 0));
    assert_eq!(misfit.found, Some(DataType::String));
    let ragged = CsvReader::new()
        .read_bytes_or_misfit(b"a,b\n1,2\n3\n")
        .unwrap()
        .unwrap_err();
    assert_eq!((ragged.line, ragged.found), (3, None));
}

/// A header that is one huge line costs each part a scan of it, not one per piece.
#[test]
fn a_huge_header_is_read_in_linear_time() {
    let mut text = b"a,".to_vec();
    text.extend(std::iter::repeat_n(b'x', 20 << 20));
    text.extend_from_slice(b",c\n1,2,3\n");
    let started = std::time::Instant::now();
    let mut rows = 0;
    for rank in 0..4 {
        let file = CsvReader::new()
            .part(rank, 4)
            .min_part_len(4096)
            .read_bytes(&text)
            .unwrap();
        rows += file.frame.nrows();
        assert_eq!(file.schema.width(), 3);
    }
    assert_eq!(rows, 1);
    // Not a measure of the machine's speed: a generous bound that the quadratic scan
    // (the header scanned again for each of ~5,000 pieces) exceeded by far.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// A projection builds only the asked columns, in the asked order (one may repeat),
/// across parallel pieces, and checks only those: a misfit in a column left out fails
/// nothing.
#[test]
fn projection_builds_only_the_asked_columns_and_checks_only_those() {
    let mut text = String::from("a,b,c\n");
    for i in 0..300 {
        text.push_str(&format!("{i},\"x{i}\",{}\n", i * 2));
    }
    let schema = Schema::from_codes("ISI").unwrap();
    let reader = CsvReader::new().schema(schema).min_part_len(64);
    let file = reader
        .clone()
        .columns(&[2, 0, 2])
        .read_bytes(text.as_bytes())
        .unwrap();
    assert_eq!(names(file.frame.schema()), ["c", "a", "c"]);
    assert_eq!(file.frame.nrows(), 300);
    assert_eq!(rows(&file.frame)[299], ["598", "299", "598"]);
    assert!(file.frame.chunk_count() > 1, "the read was cut into pieces");
    // The whole file's schema is still the file's.
    assert_eq!(names(&file.schema), ["a", "b", "c"]);

    // A misfit in a column left out is not read, so it fails nothing (only the columns
    // read are checked); read, it fails a strict read naming its line and column.
    let bad = format!("{text}7,y,oops\n");
    let some = reader
        .clone()
        .columns(&[1])
        .read_bytes(bad.as_bytes())
        .unwrap();
    assert_eq!(some.frame.nrows(), 301);
    assert_eq!(some.deviations.rows, 0);
    let err = reader
        .clone()
        .columns(&[2])
        .read_bytes(bad.as_bytes())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(":302") && err.contains("column 2"), "{err}");
    // A ragged record is the record's shape, not a column's: it deviates either way.
    let lenient = reader.clone().strict(false);
    let ragged = format!("{text}7\n");
    let some = lenient.columns(&[0]).read_bytes(ragged.as_bytes()).unwrap();
    assert_eq!(some.deviations.rows, 1);

    // No column at all is a frame of no columns (as SoR's); past the last, an error.
    let none = reader
        .clone()
        .columns(&[])
        .read_bytes(text.as_bytes())
        .unwrap();
    assert_eq!(none.frame.ncols(), 0);
    assert!(matches!(
        reader.columns(&[3]).read_bytes(text.as_bytes()),
        Err(Error::OutOfRange {
            what: "column",
            index: 3,
            len: 3
        })
    ));
}
