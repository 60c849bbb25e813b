//! Distributed frame descriptors, as a rank decodes one from the store: arbitrary bytes
//! either fail to decode or give a descriptor whose rows can all be located.

#![no_main]

use eau2::kv::Key;
use eau2::table::Descriptor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
