//! Distributed frame descriptors, as a rank decodes one from the store: arbitrary bytes
//! either fail to decode or give a descriptor whose rows can all be located.
//!
//! The checks live in `eau2_testkit::fuzz_checks`, shared with the regression tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| eau2_testkit::fuzz_checks::descriptor_decode(data));
