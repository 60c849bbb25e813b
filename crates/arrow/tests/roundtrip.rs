//! Frames through Arrow, Parquet and Arrow IPC and back: every type, nulls, empty frames,
//! projection, row-group choice, damaged files.

use std::path::PathBuf;
use std::sync::Arc;

use eau2_arrow::arrow::array::{Array, Int32Array, Int8Array, RecordBatch, UInt64Array};
use eau2_arrow::arrow::schema::{DataType as ArrowType, Field, Schema as ArrowSchema};
use eau2_arrow::{
    from_arrow, read_ipc_file, read_parquet, stitch_footer, to_arrow, write_ipc_file,
    write_parquet_file, Bounds, Codec, ParquetFile, ParquetWriteOptions, MAGIC,
};
use eau2_data::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};

/// A fresh folder for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("eau2-arrow-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `rows` rows of every type, with a missing value in every column at different rows,
/// in chunks of `chunk` rows.
fn every_type(rows: usize, chunk: usize) -> DataFrame {
    let schema = Schema::named([
        ("b", DataType::Bool),
        ("i", DataType::Int),
        ("f", DataType::Float),
        ("s", DataType::String),
        ("l", DataType::I64),
        ("d", DataType::F64),
    ])
    .unwrap();
    let mut b = FrameBuilder::new(schema, chunk);
    for r in 0..rows {
        let text = format!("v{r}é");
        let row = [
            (r % 7 != 1).then_some(Value::Bool(r % 2 == 0)),
            (r % 7 != 2).then_some(Value::Int(r as i32 * 3 - 50)),
            (r % 7 != 3).then_some(Value::Float(r as f32 / 4.0)),
            (r % 7 != 4).then_some(Value::Str(text.as_bytes())),
            (r % 7 != 5).then_some(Value::I64(r as i64 * 1_000_000_007)),
            (r % 7 != 6).then_some(Value::F64(r as f64 * -0.5)),
        ];
        b.push_row(&row).unwrap();
    }
    b.finish()
}

/// The frame's rows as text, for comparing frames cut into different chunks.
fn rows(df: &DataFrame) -> String {
    df.to_sor_string().unwrap()
}

#[test]
fn arrow_round_trip_keeps_every_type_and_null() {
    let df = every_type(300, 64);
    let batches = to_arrow(&df).unwrap();
    assert_eq!(batches.len(), df.chunk_count());
    // Rows 2, 9, ..., 58 of the first chunk miss their INT.
    assert_eq!(batches[0].column(1).null_count(), 9);
    let back = from_arrow(batches[0].schema(), batches).unwrap();
    assert_eq!(back, df);
}

#[test]
fn to_arrow_shares_the_chunks_memory() {
    let df = every_type(10, 10);
    let batches = to_arrow(&df).unwrap();
    let ints = batches[0]
        .column(1)
        .as_any()
        .downcast_ref::<Int32Array>()
        .unwrap();
    let chunk_values = df.chunk(1, 0).ints().unwrap();
    assert_eq!(ints.values().as_ptr(), chunk_values.as_ptr());
}

#[test]
fn from_arrow_moves_vectors_it_owns_alone() {
    let values: Vec<i32> = (0..1000).collect();
    let at = values.as_ptr();
    let array = Int32Array::from(values);
    let schema = Arc::new(ArrowSchema::new(vec![Field::new(
        "n",
        ArrowType::Int32,
        false,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(array)]).unwrap();
    let df = from_arrow(schema, [batch]).unwrap();
    assert_eq!(df.chunk(0, 0).ints().unwrap().as_ptr(), at);
}

#[test]
fn from_arrow_widens_small_ints_and_names_unsupported_types() {
    let schema = Arc::new(ArrowSchema::new(vec![Field::new(
        "n",
        ArrowType::Int8,
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int8Array::from(vec![Some(-3), None, Some(100)]))],
    )
    .unwrap();
    let df = from_arrow(schema, [batch]).unwrap();
    assert_eq!(df.schema().codes(), "I");
    assert_eq!(df.get_as::<i32>(0, 0).unwrap(), Some(-3));
    assert_eq!(df.get_as::<i32>(0, 1).unwrap(), None);

    let schema = Arc::new(ArrowSchema::new(vec![Field::new(
        "big",
        ArrowType::UInt64,
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(UInt64Array::from(vec![1u64]))],
    )
    .unwrap();
    let err = from_arrow(schema, [batch]).unwrap_err().to_string();
    assert!(err.contains("\"big\"") && err.contains("UInt64"), "{err}");
}

#[test]
fn parquet_round_trip_snappy_and_zstd() {
    let d = dir("codecs");
    let df = every_type(5000, 1000);
    for (name, codec) in [
        ("s", Codec::Snappy),
        ("z", Codec::Zstd(3)),
        ("u", Codec::Uncompressed),
    ] {
        let path = d.join(format!("{name}.parquet"));
        let options = ParquetWriteOptions::new().codec(codec).row_group_rows(2000);
        write_parquet_file(&df, &path, &options).unwrap();
        let file = ParquetFile::open(&path).unwrap();
        // Groups of whole chunks, at least 2000 rows: 2000, 2000, 1000.
        let sizes: Vec<u64> = file.row_groups().iter().map(|g| g.rows).collect();
        assert_eq!(sizes, vec![2000, 2000, 1000], "{name}");
        let back = read_parquet::<&str>(&path, None).unwrap();
        assert_eq!(back.schema(), df.schema());
        assert_eq!(rows(&back), rows(&df), "{name}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn parquet_statistics_bound_each_row_group() {
    let d = dir("stats");
    let df = every_type(3000, 1000);
    let path = d.join("t.parquet");
    write_parquet_file(&df, &path, &ParquetWriteOptions::new().row_group_rows(1000)).unwrap();
    let file = ParquetFile::open(&path).unwrap();
    // Column "l" (I64) is r * 1_000_000_007, missing where r % 7 == 5.
    assert_eq!(
        file.bounds(1, 4),
        Some(Bounds::Int(1000 * 1_000_000_007, 1999 * 1_000_000_007))
    );
    let d0 = file.bounds(0, 1).unwrap();
    assert_eq!(d0, Bounds::Int(-50, 999 * 3 - 50));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn parquet_projection_and_row_groups() {
    let d = dir("proj");
    let df = every_type(3000, 500);
    let path = d.join("t.parquet");
    write_parquet_file(&df, &path, &ParquetWriteOptions::new().row_group_rows(1000)).unwrap();
    let file = ParquetFile::open(&path).unwrap();
    let cols = file.column_indexes(Some(&["d", "s"])).unwrap();
    assert_eq!(cols, vec![5, 3]);
    let part = file.read(&[2, 0], &cols, 300).unwrap();
    assert_eq!(part.schema().codes(), "DS");
    assert_eq!(part.nrows(), 2000);
    assert!(part.chunk_len() <= 300);
    // Row group 2 first: rows 2000..3000, then 0..1000.
    assert_eq!(part.get_as::<f64>("d", 0).unwrap(), Some(-1000.0));
    assert_eq!(
        part.get_as::<&[u8]>(1, 1000).unwrap(),
        Some("v0é".as_bytes())
    );
    let missing = file
        .column_indexes(Some(&["nope"]))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("nope") && missing.contains("t.parquet"),
        "{missing}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn empty_frames_round_trip() {
    let d = dir("empty");
    let df = every_type(0, 10);
    let path = d.join("e.parquet");
    write_parquet_file(&df, &path, &ParquetWriteOptions::new()).unwrap();
    let back = read_parquet::<&str>(&path, None).unwrap();
    assert_eq!(back.nrows(), 0);
    assert_eq!(back.schema(), df.schema());
    let ipc = d.join("e.arrow");
    write_ipc_file(&df, &ipc).unwrap();
    let back = read_ipc_file(&ipc).unwrap();
    assert_eq!((back.nrows(), back.schema()), (0, df.schema()));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn ipc_round_trip() {
    let d = dir("ipc");
    let df = every_type(777, 100);
    let path = d.join("t.arrow");
    write_ipc_file(&df, &path).unwrap();
    assert_eq!(read_ipc_file(&path).unwrap(), df);
    std::fs::remove_dir_all(&d).unwrap();
}

/// An IPC file put together from parts encoded apart (as ranks do): a header, the parts'
/// messages (an empty part among them) and a footer with every block at its offset in
/// the file; arrow-rs reads it as the frame, and so does `read_ipc_file`.
#[test]
fn ipc_parts_read_as_one_file() {
    let d = dir("ipc-parts");
    let whole = every_type(1000, 128);
    // Three parts: rows 0..384 (chunks 0-2), nothing, rows 384..1000 (chunks 3-7).
    let batches = to_arrow(&whole).unwrap();
    let head = from_arrow(batches[0].schema(), batches[..3].to_vec()).unwrap();
    let tail = from_arrow(batches[0].schema(), batches[3..].to_vec()).unwrap();
    let parts = [
        eau2_arrow::encode_ipc_batches(&head).unwrap(),
        eau2_arrow::encode_ipc_batches(&every_type(0, 5)).unwrap(),
        eau2_arrow::encode_ipc_batches(&tail).unwrap(),
    ];
    let mut bytes = eau2_arrow::ipc_header(whole.schema()).unwrap();
    let mut blocks = Vec::new();
    for part in &parts {
        let base = bytes.len() as u64;
        blocks.extend(part.blocks.iter().map(|b| eau2_arrow::IpcBlock {
            offset: base + b.offset,
            ..*b
        }));
        bytes.extend_from_slice(&part.bytes);
    }
    bytes.extend(eau2_arrow::ipc_footer(whole.schema(), &blocks).unwrap());
    let path = d.join("p.arrow");
    std::fs::write(&path, &bytes).unwrap();
    let back = read_ipc_file(&path).unwrap();
    assert_eq!(rows(&back), rows(&whole));
    assert_eq!(back.schema(), whole.schema());
    assert_eq!(back.chunk_count(), 8);
    // No batches at all: a header and a footer.
    let mut bytes = eau2_arrow::ipc_header(whole.schema()).unwrap();
    bytes.extend(eau2_arrow::ipc_footer(whole.schema(), &[]).unwrap());
    std::fs::write(&path, &bytes).unwrap();
    let back = read_ipc_file(&path).unwrap();
    assert_eq!((back.nrows(), back.schema()), (0, whole.schema()));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn stitched_parts_read_as_one_file() {
    let d = dir("stitch");
    let a = every_type(1500, 500);
    let parts_a =
        eau2_arrow::encode_parts(&a, &ParquetWriteOptions::new().row_group_rows(700)).unwrap();
    let empty = eau2_arrow::encode_part(&every_type(0, 5), &ParquetWriteOptions::new()).unwrap();
    let mut all = parts_a.clone();
    all.insert(1, empty);
    let footers: Vec<&[u8]> = all.iter().map(|p| p.footer.as_slice()).collect();
    let lens: Vec<u64> = all.iter().map(|p| p.body.len() as u64).collect();
    let mut bytes = MAGIC.to_vec();
    for p in &all {
        bytes.extend_from_slice(&p.body);
    }
    bytes.extend(stitch_footer(&footers, &lens).unwrap());
    let path = d.join("s.parquet");
    std::fs::write(&path, bytes).unwrap();
    let file = ParquetFile::open(&path).unwrap();
    // Chunks 0-1 gathered (1000 rows) cut at 700, then chunk 2: 700, 300, 500.
    let sizes: Vec<u64> = file.row_groups().iter().map(|g| g.rows).collect();
    assert_eq!(sizes, vec![700, 300, 500]);
    assert_eq!(rows(&file.read_all::<&str>(None).unwrap()), rows(&a));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn damaged_parquet_is_an_error_naming_the_file() {
    let d = dir("damaged");
    let df = every_type(20000, 5000);
    let good = d.join("good.parquet");
    write_parquet_file(
        &df,
        &good,
        &ParquetWriteOptions::new().codec(Codec::Uncompressed),
    )
    .unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let truncated = d.join("truncated.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let magic = d.join("magic.parquet");
    let mut m = bytes.clone();
    let n = m.len();
    m[n - 4..].copy_from_slice(b"NOPE");
    std::fs::write(&magic, &m).unwrap();
    for path in [&truncated, &magic] {
        let err = read_parquet::<&str>(path, None).unwrap_err().to_string();
        assert!(err.contains(path.to_str().unwrap()), "{err}");
    }

    // A corrupt page: overwrite the middle of the data with garbage. The footer still
    // reads; decoding must fail naming the file (or, if the garbage happens to decode,
    // never panic).
    let page = d.join("page.parquet");
    let mut p = bytes.clone();
    for b in &mut p[8..n / 2] {
        *b = 0xA5;
    }
    std::fs::write(&page, &p).unwrap();
    match read_parquet::<&str>(&page, None) {
        Err(e) => assert!(e.to_string().contains("page.parquet"), "{e}"),
        Ok(df) => assert_ne!(rows(&df), rows(&every_type(20000, 5000))),
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// The rows of a frame's column `col` as text, `-` for missing.
fn column_text(df: &DataFrame, col: usize) -> Vec<String> {
    (0..df.nrows())
        .map(|r| match df.get_as::<&[u8]>(col, r).unwrap() {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => "-".into(),
        })
        .collect()
}

/// Strings of every Arrow layout other tools write (32-bit offsets, views, binary),
/// with nulls, through Parquet written by arrow-rs itself, and straight from Arrow:
/// sliced arrays (offsets not from 0) and nulls that keep bytes read right.
#[test]
fn strings_of_other_layouts_read_right() {
    use eau2_arrow::arrow::array::{BinaryArray, StringArray, StringViewArray};
    use eau2_arrow::arrow::parquet::arrow::ArrowWriter;
    let d = dir("strings");
    let words: Vec<Option<&str>> = (0..3000)
        .map(|i| (i % 7 != 3).then_some(["ann", "", "bé", "long text"][i % 4]))
        .collect();
    let want: Vec<String> = words
        .iter()
        .map(|w| w.map_or("-".into(), str::to_string))
        .collect();
    let schema = Arc::new(ArrowSchema::new(vec![
        Field::new("s", ArrowType::Utf8, true),
        Field::new("v", ArrowType::Utf8View, true),
        Field::new("b", ArrowType::Binary, true),
    ]));
    let bytes: Vec<Option<&[u8]>> = words.iter().map(|w| w.map(str::as_bytes)).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(words.clone())),
            Arc::new(StringViewArray::from(words.clone())),
            Arc::new(BinaryArray::from(bytes)),
        ],
    )
    .unwrap();
    let path = d.join("strings.parquet");
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let df = read_parquet::<&str>(&path, None).unwrap();
    assert_eq!(df.schema().codes(), "SSS");
    for col in 0..3 {
        assert_eq!(column_text(&df, col), want, "column {col}");
    }
    // Sliced: offsets start past 0.
    let sliced = batch.slice(5, 100);
    let df = from_arrow(sliced.schema(), [sliced]).unwrap();
    for col in 0..3 {
        assert_eq!(column_text(&df, col), want[5..105], "sliced column {col}");
    }
    // A null whose slot still holds bytes reads as missing, its bytes dropped.
    let (offsets, values, _) = StringArray::from(vec!["ab", "cd", "ef"]).into_parts();
    let array = StringArray::new(offsets, values, Some(vec![true, false, true].into()));
    let schema = Arc::new(ArrowSchema::new(vec![Field::new(
        "s",
        ArrowType::Utf8,
        true,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(array)]).unwrap();
    let df = from_arrow(schema, [batch]).unwrap();
    assert_eq!(column_text(&df, 0), ["ab", "-", "ef"]);
    assert_eq!(
        df.chunk(0, 0).data().clone(),
        eau2_data::frame::ChunkData::String {
            offsets: vec![0, 2, 2, 4],
            bytes: b"abef".to_vec(),
        }
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Nulls in integer, float and boolean columns of many words: missing slots hold the
/// type's default after conversion, present ones their value.
#[test]
fn nulls_zero_their_slots_across_words() {
    use eau2_arrow::arrow::array::{BooleanArray, Float64Array};
    let n = 1000;
    let ints: Vec<Option<i32>> = (0..n)
        .map(|i| (i % 3 != 0).then_some(i as i32 + 1))
        .collect();
    let floats: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 64 != 63).then_some(i as f64 + 0.5))
        .collect();
    let bools: Vec<Option<bool>> = (0..n).map(|i| (i % 5 != 0).then_some(true)).collect();
    let schema = Arc::new(ArrowSchema::new(vec![
        Field::new("i", ArrowType::Int32, true),
        Field::new("f", ArrowType::Float64, true),
        Field::new("b", ArrowType::Boolean, true),
    ]));
    // Built from full arrays so that the null slots hold values first.
    let full_i = Int32Array::from((0..n).map(|i| i as i32 + 1).collect::<Vec<_>>());
    let nulls_i = Int32Array::from(ints.clone()).nulls().cloned();
    let i = Int32Array::new(full_i.values().clone(), nulls_i);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(i),
            Arc::new(Float64Array::from(floats.clone())),
            Arc::new(BooleanArray::new(
                vec![true; n].into(),
                BooleanArray::from(bools.clone()).nulls().cloned(),
            )),
        ],
    )
    .unwrap();
    let df = from_arrow(schema, [batch]).unwrap();
    let chunk = df.chunk(0, 0);
    let got_i = chunk.ints().unwrap();
    for (r, v) in ints.iter().enumerate() {
        assert_eq!(got_i[r], v.unwrap_or(0), "int row {r}");
        assert_eq!(df.get_as::<i32>(0, r as u64).unwrap(), *v);
        assert_eq!(df.get_as::<f64>(1, r as u64).unwrap(), floats[r]);
        assert_eq!(df.get_as::<bool>(2, r as u64).unwrap(), bools[r]);
    }
    assert_eq!(df.chunk(1, 0).f64s().unwrap()[63], 0.0);
    match df.chunk(2, 0).data() {
        eau2_data::frame::ChunkData::Bool(bits) => {
            assert!((0..n).all(|r| bits.get(r) == (r % 5 != 0)))
        }
        other => panic!("{other:?}"),
    }
}

/// Columns of mostly distinct values are written plain, columns that repeat with a
/// dictionary; both read back the same.
#[test]
fn only_repeating_columns_get_a_dictionary() {
    let d = dir("dictionary");
    let schema = Schema::named([
        ("seq", DataType::I64),
        ("few", DataType::Int),
        ("names", DataType::String),
    ])
    .unwrap();
    let mut b = FrameBuilder::new(schema, 10_000);
    for r in 0..30_000i64 {
        let name = format!("user{}", r % 17);
        b.push_row(&[
            Some(Value::I64(r * 7)),
            Some(Value::Int((r % 40) as i32)),
            Some(Value::Str(name.as_bytes())),
        ])
        .unwrap();
    }
    let df = b.finish();
    let path = d.join("dict.parquet");
    write_parquet_file(&df, &path, &ParquetWriteOptions::default()).unwrap();
    let file = ParquetFile::open(&path).unwrap();
    for rg in file.metadata().row_groups() {
        let dict: Vec<bool> = rg
            .columns()
            .iter()
            .map(|c| c.dictionary_page_offset().is_some())
            .collect();
        assert_eq!(dict, [false, true, true]);
    }
    assert_eq!(rows(&file.read_all::<&str>(None).unwrap()), rows(&df));
    std::fs::remove_dir_all(&d).unwrap();
}

/// Columns without a missing value are declared required (no definition levels);
/// declaring a column with one required fails the write naming the reason.
#[test]
fn columns_without_missing_values_are_required() {
    let d = dir("required");
    let df = every_type(500, 100);
    let mut b = FrameBuilder::new(
        Schema::named([("full", DataType::Int), ("holes", DataType::Int)]).unwrap(),
        100,
    );
    for r in 0..300 {
        b.push_row(&[Some(Value::Int(r)), (r % 3 == 0).then_some(Value::Int(r))])
            .unwrap();
    }
    let mixed = b.finish();
    let path = d.join("mixed.parquet");
    write_parquet_file(&mixed, &path, &ParquetWriteOptions::default()).unwrap();
    let file = ParquetFile::open(&path).unwrap();
    let nullable: Vec<bool> = file
        .arrow_schema()
        .fields()
        .iter()
        .map(|f| f.is_nullable())
        .collect();
    assert_eq!(nullable, [false, true]);
    assert_eq!(rows(&file.read_all::<&str>(None).unwrap()), rows(&mixed));
    let all = d.join("all.parquet");
    write_parquet_file(&df, &all, &ParquetWriteOptions::default()).unwrap();
    assert_eq!(rows(&read_parquet::<&str>(&all, None).unwrap()), rows(&df));
    let err = write_parquet_file(
        &mixed,
        d.join("bad.parquet"),
        &ParquetWriteOptions::default().required(vec![true, true]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("declared required"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}
