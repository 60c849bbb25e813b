//! The wire frame decoder, as the network thread runs it on a peer's bytes: any bytes,
//! delivered in any pieces, decode to the same frames and end the same way as the same
//! bytes delivered at once, without a panic and within the limits.
//!
//! The first byte says how many piece sizes follow (up to 8); the rest is the stream.

#![no_main]

use eau2_comm::net::fuzzing::{read_frames, InFrame, Limits, Pieces};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_header: 1 << 16,
    max_body: 1 << 20,
};

fn outcome(frames: &[InFrame], end: &Option<String>) -> (Vec<(String, Vec<u8>)>, Option<String>) {
    let frames = frames
        .iter()
        .map(|f| (format!("{:?}", f.control), f.body.to_vec()))
        .collect();
    // The kind of ending, not its wording.
    let end = end
        .as_ref()
        .map(|e| e.split(':').next().unwrap_or("").to_string());
    (frames, end)
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = (n as usize % 9).min(rest.len());
    let (sizes, stream) = rest.split_at(n);
    let (whole, whole_end) = read_frames(&mut Pieces::new(stream, &[]), LIMITS);
    let (pieces, pieces_end) = read_frames(&mut Pieces::new(stream, sizes), LIMITS);
    for f in &whole {
        assert!(f.body.len() as u64 <= LIMITS.max_body);
    }
    assert_eq!(
        outcome(&whole, &whole_end),
        outcome(&pieces, &pieces_end),
        "the same bytes in pieces {sizes:?} decoded differently"
    );
});
