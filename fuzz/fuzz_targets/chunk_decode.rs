//! Column chunk decoding, as a rank decodes a value fetched from the store: arbitrary
//! bytes either fail to decode or give a chunk whose every value can be read and that
//! encodes back to bytes decoding to the same chunk.

#![no_main]

use eau2::frame::Chunk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(chunk) = Chunk::from_bytes(data) else {
        return;
    };
    for row in 0..chunk.len() {
        let _ = chunk.value(row);
        let _ = chunk.is_missing(row);
    }
    let again = Chunk::from_bytes(&chunk.to_bytes()).expect("a decoded chunk re-encodes");
    assert_eq!(again, chunk);
});
