//! Column chunk decoding, as a rank decodes a value fetched from the store: arbitrary
//! bytes either fail to decode or give a chunk whose every value can be read and that
//! encodes back to bytes that decode to the same chunk.
//!
//! The checks live in `eau2_testkit::fuzz_checks`, shared with the regression tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| eau2_testkit::fuzz_checks::chunk_decode(data));
