//! The SoR reader on arbitrary bytes, checked against its own invariants:
//! - a parallel read equals the sequential one (schema, values, deviation report);
//! - strict mode fails exactly when the plain read reports deviating rows, and its error
//!   names the first deviating line;
//! - the parts of a file, read one by one, concatenate to the whole;
//! - printing a frame and reading the text back gives the same frame, and printing that
//!   gives the same text.
//!
//! The first five bytes choose the options; the rest is the file.
//!
//! The checks live in `eau2_testkit::fuzz_checks`, shared with the regression tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| eau2_testkit::fuzz_checks::sor_reader(data));
