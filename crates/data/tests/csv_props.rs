//! Properties of the CSV reader on random input: random frames printed as CSV read back
//! equal, and any split of any text into byte parts (or parallel pieces) reads the same
//! rows as the whole, whatever quoted line breaks the cuts fall into.

use eau2_data::csv::{CsvFile, CsvReader};
use eau2_data::frame::{DataFrame, DataType, FrameBuilder, Schema, Value};
use eau2_testkit::cells::{table_of, Table};
use eau2_testkit::csv_text::to_csv;
use proptest::prelude::*;

/// One value of a column of `dtype`, or missing.
#[derive(Clone, Debug)]
enum Val {
    Missing,
    Bool(bool),
    Int(i32),
    Float(f32),
    Str(String),
}

fn value(dtype: DataType) -> BoxedStrategy<Val> {
    let present = match dtype {
        DataType::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        DataType::Int => any::<i32>().prop_map(Val::Int).boxed(),
        DataType::Float => any::<f32>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(Val::Float)
            .boxed(),
        _ => "[a-z,;\" \r\n0-9é.-]{0,8}".prop_map(Val::Str).boxed(),
    };
    prop_oneof![1 => Just(Val::Missing), 4 => present].boxed()
}

/// A random frame: 1 to 5 named columns of any type, 0 to 40 rows with missing values.
fn frame() -> impl Strategy<Value = DataFrame> {
    let dtype = prop::sample::select(vec![
        DataType::Bool,
        DataType::Int,
        DataType::Float,
        DataType::String,
    ]);
    (prop::collection::vec(dtype, 1..6), 0usize..40, 1usize..9)
        .prop_flat_map(|(types, rows, chunk)| {
            let row = types.iter().map(|&t| value(t)).collect::<Vec<_>>();
            (Just(types), prop::collection::vec(row, rows), Just(chunk))
        })
        .prop_map(|(types, rows, chunk)| {
            let mut schema = Schema::default();
            for (i, &t) in types.iter().enumerate() {
                schema.push(t, Some(format!("col {i},\"x\"")));
            }
            let mut b = FrameBuilder::new(schema, chunk);
            for row in rows {
                let values: Vec<Option<Value<'_>>> = row
                    .iter()
                    .map(|v| match v {
                        Val::Missing => None,
                        Val::Bool(x) => Some(Value::Bool(*x)),
                        Val::Int(x) => Some(Value::Int(*x)),
                        Val::Float(x) => Some(Value::Float(*x)),
                        Val::Str(s) => Some(Value::Str(s.as_bytes())),
                    })
                    .collect();
                b.push_row(&values).expect("values fit their columns");
            }
            b.finish()
        })
}

/// CSV-ish text: fields of digits, words, quotes and line breaks, some rows ragged.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => prop::sample::select(b"\",\n\r01a. -9e".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..400)
}

fn summary(file: &CsvFile) -> (Schema, Table, u64, Option<u64>) {
    (
        file.schema.clone(),
        table_of(&file.frame),
        file.deviations.rows,
        file.deviations.first_line,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn printed_frames_read_back_equal(
        df in frame(),
        header in any::<bool>(),
        delimiter in prop::sample::select(vec![b',', b';', b'\t']),
        min_part in 1usize..64,
    ) {
        let text = to_csv(&df, header, delimiter);
        let reader = CsvReader::new()
            .header(header)
            .delimiter(delimiter)
            .schema(df.schema().clone())
            .min_part_len(min_part);
        let back = reader.read_bytes(&text).expect("printed CSV reads back");
        prop_assert_eq!(table_of(&back.frame), table_of(&df));
        prop_assert_eq!(&back.schema, df.schema());
        // Inference reads it too, and types each column no more generally than written.
        let inferred = CsvReader::new().header(header).delimiter(delimiter).strict(false)
            .read_bytes(&text).expect("a lenient read never fails");
        // (Without a header, a text of blank lines has no columns, so no rows.)
        if inferred.schema.width() > 0 {
            prop_assert_eq!(inferred.frame.nrows(), df.nrows());
        }
        // (Inference gives integers and floats 64 bits, as polars does.)
        let wide = |t: DataType| match t {
            DataType::Int => DataType::I64,
            DataType::Float => DataType::F64,
            t => t,
        };
        for (&got, &want) in inferred.schema.types().iter().zip(df.schema().types()) {
            let want = wide(want);
            prop_assert!(got.widen(want) == want || want != DataType::String && got == DataType::String,
                "{:?} inferred for a {:?} column", got, want);
        }
    }

    #[test]
    fn any_split_reads_the_whole(
        text in csv_text(),
        header in any::<bool>(),
        count in 1usize..12,
        min_part in 1usize..32,
    ) {
        let reader = CsvReader::new().header(header).strict(false);
        // An empty text has no header: an error, unless a schema is given. (A blank
        // first line is a header of no columns.)
        if header && text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text).is_empty() {
            let err = reader.read_bytes(&text).unwrap_err().to_string();
            prop_assert!(err.contains("no header"), "{}", err);
            return Ok(());
        }
        let whole = reader.clone().parallel(false).read_bytes(&text).unwrap();
        let par = reader.clone().min_part_len(min_part).read_bytes(&text).unwrap();
        prop_assert_eq!(summary(&par), summary(&whole));
        let fixed = reader.schema(whole.schema.clone()).min_part_len(min_part);
        let mut rows = Vec::new();
        let mut deviated = 0;
        for index in 0..count {
            let part = fixed.clone().part(index, count).read_bytes(&text).unwrap();
            prop_assert_eq!(&part.schema, &whole.schema);
            rows.extend(table_of(&part.frame));
            deviated += part.deviations.rows;
        }
        prop_assert_eq!(rows, table_of(&whole.frame));
        prop_assert_eq!(deviated, whole.deviations.rows);
        // Strict fails exactly when something deviates.
        let strict = CsvReader::new().header(header).read_bytes(&text);
        prop_assert_eq!(strict.is_err(), whole.deviations.rows > 0);
    }
}
