//! The CSV reader on arbitrary bytes, checked against its own invariants:
//! - a parallel read equals the sequential one (schema and names, values, deviations);
//! - strict mode fails exactly when the lenient read reports deviating rows (ragged
//!   records, malformed quotes, values that do not fit), naming the first deviating line;
//! - the byte parts of a file, read one by one (counting the quotes before them, or told
//!   their parity as a distributed load is), concatenate to the whole;
//! - printing the frame as CSV and reading it back with its schema gives the same frame.
//!
//! The first five bytes choose the options (piece size, chunk length, inference rows,
//! part count, header, delimiter); the rest is the file, read from memory.
//!
//! The checks live in `eau2_testkit::fuzz_checks`, shared with the regression tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| eau2_testkit::fuzz_checks::csv_reader(data));
