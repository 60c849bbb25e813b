//! The invariants the cargo-fuzz targets in `fuzz/` check, as plain functions: the
//! targets call them on generated inputs, and `tests/fuzz_regressions.rs` on the seeds
//! and on every input a fuzzer ever failed on, so a crash found once stays fixed.
//!
//! Each function panics when an invariant fails.

use std::sync::OnceLock;

use eau2::csv::{CsvFile, CsvReader};
use eau2::frame::{Chunk, Schema};
use eau2::kv::Key;
use eau2::sor::{SorFile, SorReader};
use eau2::table::Descriptor;

use crate::cells::{table_of, Table};
use crate::csv_text::to_csv;

fn summary(file: &SorFile) -> (String, Table, u64, Option<u64>) {
    (
        file.schema.codes(),
        table_of(&file.frame),
        file.deviations.rows,
        file.deviations.first_line,
    )
}

/// The SoR reader on arbitrary bytes, checked against its own invariants:
/// - a parallel read equals the sequential one (schema, values, deviation report);
/// - strict mode fails exactly when the plain read reports deviating rows, and its error
///   names the first deviating line;
/// - the parts of a file, read one by one, concatenate to the whole;
/// - printing a frame and reading the text back gives the same frame, and printing that
///   gives the same text.
///
/// The first five bytes choose the options; the rest is the file. Runs in the one-thread
/// pool of [`in_one_thread_pool`].
pub fn sor_reader(data: &[u8]) {
    in_one_thread_pool(|| check_sor_reader(data));
}

/// Runs `check` inside a one-thread rayon pool made once. Run from a thread outside a
/// pool, each of a fuzz check's many parallel reads would hand its pieces to the pool's
/// thread and wait (a lock and two context switches per read, measured at a fifth of the
/// CSV target's time); inside it, they run inline.
fn in_one_thread_pool(check: impl FnOnce() + Send) {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a one-thread pool")
    })
    .install(check);
}

fn check_sor_reader(data: &[u8]) {
    let Some((opts, text)) = data.split_first_chunk::<5>() else {
        return;
    };
    let min_part_len = 1 + opts[0] as usize % 64;
    let chunk_len = 1 + opts[1] as usize % 20;
    let infer_rows = [1usize, 2, 3, 500][opts[2] as usize % 4];
    let count = 1 + opts[3] as usize % 8;
    let parallel_parts = opts[4] & 1 == 1;

    let base = SorReader::new().infer_rows(infer_rows).chunk_len(chunk_len);
    let seq = base
        .clone()
        .parallel(false)
        .read_bytes(text)
        .expect("a lenient read never fails");
    let par = base
        .clone()
        .min_part_len(min_part_len)
        .read_bytes(text)
        .expect("a lenient parallel read never fails");
    assert_eq!(summary(&par), summary(&seq), "parallel != sequential");

    let strict_seq = base.clone().strict(true).parallel(false).read_bytes(text);
    let strict_par = base
        .strict(true)
        .min_part_len(min_part_len)
        .read_bytes(text);
    match (strict_seq, strict_par) {
        (Ok(a), Ok(b)) => {
            assert_eq!(seq.deviations.rows, 0, "strict passed a deviating file");
            assert_eq!(summary(&a), summary(&b));
            assert_eq!(summary(&a), summary(&seq));
        }
        (Err(a), Err(b)) => {
            assert!(seq.deviations.rows > 0, "strict failed a clean file: {a}");
            assert_eq!(a.to_string(), b.to_string());
            let line = seq
                .deviations
                .first_line
                .expect("deviations have a first line");
            let prefix = format!("<bytes>:{line}: ");
            assert!(a.to_string().starts_with(&prefix), "{a} vs line {line}");
        }
        (a, b) => panic!("strict results differ: {a:?} / {b:?}"),
    }

    // Parts against the whole, with the schema fixed as a distributed read fixes it.
    let schema = SorReader::new()
        .infer_bytes(text)
        .expect("inference never fails");
    let reader = SorReader::new()
        .schema(schema)
        .parallel(parallel_parts)
        .min_part_len(min_part_len);
    let whole = reader
        .read_bytes(text)
        .expect("a read with a schema never fails");
    let mut rows = Vec::new();
    let mut deviated = 0;
    let mut first = None::<u64>;
    for index in 0..count {
        let part = reader
            .clone()
            .part(index, count)
            .read_bytes(text)
            .expect("a part read never fails");
        rows.extend(table_of(&part.frame));
        deviated += part.deviations.rows;
        if let Some(line) = part.deviations.first_line {
            first = Some(first.map_or(line, |f| f.min(line)));
        }
    }
    assert_eq!(rows, table_of(&whole.frame), "parts do not make the whole");
    assert_eq!(deviated, whole.deviations.rows);
    assert_eq!(first, whole.deviations.first_line);

    // Print, read back, print again.
    if let Ok(printed) = seq.frame.to_sor_bytes() {
        let again = SorReader::new()
            .schema(seq.schema.clone())
            .strict(true)
            .read_bytes(&printed)
            .expect("printed SoR reads back without deviations");
        assert_eq!(
            table_of(&again.frame),
            table_of(&seq.frame),
            "print-then-read changed values"
        );
        let reprinted = again.frame.to_sor_bytes().expect("a read frame prints");
        assert_eq!(reprinted, printed, "printing is not stable");
    }
}

/// Column chunk decoding, as a rank decodes a value fetched from the store: arbitrary
/// bytes either fail to decode or give a chunk whose every value can be read and that
/// encodes back to bytes that decode to the same chunk.
pub fn chunk_decode(data: &[u8]) {
    let Ok(chunk) = Chunk::from_bytes(data) else {
        return;
    };
    for row in 0..chunk.len() {
        let _ = chunk.value(row);
        let _ = chunk.is_missing(row);
    }
    let bytes = chunk.to_bytes();
    let again = Chunk::from_bytes(&bytes).expect("a decoded chunk re-encodes");
    // Compared as bytes: a FLOAT chunk may hold NaNs, which are unequal to themselves.
    assert_eq!(again.to_bytes(), bytes);
}

/// Distributed frame descriptors, as a rank decodes one from the store: arbitrary bytes
/// either fail to decode or give a descriptor whose rows can all be located.
pub fn descriptor_decode(data: &[u8]) {
    let key = Key::new("fuzz", 0);
    let Ok(d) = Descriptor::decode(data, &key) else {
        return;
    };
    let n = d.nrows();
    // The first, last and a middle row, and one past the end (which must be an error).
    for row in [0, n / 2, n.saturating_sub(1)] {
        if row < n {
            let (chunk, offset) = d.locate(row).expect("a row inside the frame is found");
            assert!(chunk < d.chunks.len());
            assert!((offset as u64) < d.chunks[chunk].rows);
        }
    }
    assert!(d.locate(n).is_err());
}

fn csv_summary(file: &CsvFile) -> (Schema, Table, u64, Option<u64>) {
    (
        file.schema.clone(),
        table_of(&file.frame),
        file.deviations.rows,
        file.deviations.first_line,
    )
}

/// The CSV reader on arbitrary bytes, checked against its own invariants:
/// - a parallel read equals the sequential one (schema with names, values, deviations);
/// - strict mode fails exactly when the lenient read reports deviating rows, with the
///   same error sequentially and in parallel, naming the first deviating line;
/// - the parts of a file, read one by one (each counting the quotes before it, or told
///   their parity as a distributed load's exclusive scan tells it), concatenate to the
///   whole;
/// - printing the frame as CSV ([`to_csv`]) and reading it back with its schema gives
///   the same frame and names.
///
/// The first five bytes choose the options; the rest is the file. Everything is read
/// from memory, in the one-thread pool of [`in_one_thread_pool`].
pub fn csv_reader(data: &[u8]) {
    in_one_thread_pool(|| check_csv_reader(data));
}

fn check_csv_reader(data: &[u8]) {
    let Some((opts, text)) = data.split_first_chunk::<5>() else {
        return;
    };
    let min_part_len = 1 + opts[0] as usize % 64;
    let chunk_len = 1 + opts[1] as usize % 20;
    let infer_rows = [1usize, 2, 3, 500][opts[2] as usize % 4];
    let count = 1 + opts[3] as usize % 8;
    let parallel_parts = opts[4] & 1 == 1;
    let header = opts[4] & 2 == 0;
    let delimiter = [b',', b';', b'\t', b' '][(opts[4] >> 2) as usize % 4];

    let base = CsvReader::new()
        .header(header)
        .delimiter(delimiter)
        .infer_rows(infer_rows)
        .chunk_len(chunk_len);
    let lenient = base.clone().strict(false);
    // Issue 20: an empty input (a byte-order mark at most) has no header, and without a
    // schema that is an error in every mode, lenient included.
    if header
        && text
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(text)
            .is_empty()
    {
        for reader in [&lenient, &base] {
            let err = reader
                .read_bytes(text)
                .expect_err("an empty CSV without a schema has no header");
            assert!(err.to_string().contains("no header"), "{err}");
        }
        return;
    }
    let seq = lenient
        .clone()
        .parallel(false)
        .read_bytes(text)
        .expect("a lenient read never fails");
    let par = lenient
        .clone()
        .min_part_len(min_part_len)
        .read_bytes(text)
        .expect("a lenient parallel read never fails");
    assert_eq!(
        csv_summary(&par),
        csv_summary(&seq),
        "parallel != sequential"
    );

    let strict_seq = base.clone().parallel(false).read_bytes(text);
    let strict_par = base.clone().min_part_len(min_part_len).read_bytes(text);
    match (strict_seq, strict_par) {
        (Ok(a), Ok(b)) => {
            assert_eq!(seq.deviations.rows, 0, "strict passed a deviating file");
            assert_eq!(csv_summary(&a), csv_summary(&b));
            assert_eq!(csv_summary(&a), csv_summary(&seq));
        }
        (Err(a), Err(b)) => {
            assert!(seq.deviations.rows > 0, "strict failed a clean file: {a}");
            assert_eq!(a.to_string(), b.to_string());
            let line = seq.deviations.first_line.expect("deviations have a line");
            let prefix = format!("<bytes>:{line}: ");
            assert!(a.to_string().starts_with(&prefix), "{a} vs line {line}");
        }
        (a, b) => panic!("strict results differ: {a:?} / {b:?}"),
    }

    // Parts against the whole, with the schema fixed as a distributed load fixes it.
    let schema = lenient.infer_bytes(text).expect("inference never fails");
    let reader = lenient
        .schema(schema)
        .parallel(parallel_parts)
        .min_part_len(min_part_len);
    let whole = reader.read_bytes(text).expect("a lenient read never fails");
    let mut rows = Vec::new();
    let mut deviated = 0;
    let mut first = None::<u64>;
    let mut odd = false;
    for index in 0..count {
        let part = reader.clone().part(index, count);
        let counted = part.read_bytes(text).expect("a part read never fails");
        let told = part
            .clone()
            .quotes_before_part(odd)
            .read_bytes(text)
            .expect("a part read never fails");
        odd ^= part.part_quotes_bytes(text).expect("a part exists") % 2 == 1;
        let counted_rows = table_of(&counted.frame);
        assert_eq!(counted_rows, table_of(&told.frame), "told parity differs");
        assert_eq!(counted.deviations, told.deviations);
        rows.extend(counted_rows);
        deviated += counted.deviations.rows;
        if let Some(line) = counted.deviations.first_line {
            first = Some(first.map_or(line, |f| f.min(line)));
        }
    }
    assert_eq!(rows, table_of(&whole.frame), "parts do not make the whole");
    assert_eq!(deviated, whole.deviations.rows);
    assert_eq!(first, whole.deviations.first_line);

    // Print, read back with the schema.
    let printed = to_csv(&seq.frame, header, delimiter);
    let again = CsvReader::new()
        .header(header)
        .delimiter(delimiter)
        .schema(seq.schema.clone())
        .read_bytes(&printed)
        .unwrap_or_else(|e| {
            panic!(
                "printed CSV reads back: {e}\n{:?}",
                String::from_utf8_lossy(&printed)
            )
        });
    assert_eq!(
        table_of(&again.frame),
        table_of(&seq.frame),
        "print-then-read changed values"
    );
    if header {
        assert_eq!(again.schema, seq.schema, "print-then-read changed names");
    }
}
