//! A stranger's first frame, as rendezvous reads and judges it: any bytes in any pieces
//! either are dropped or decode to a hello; a hello is accepted only with exactly this
//! job's token and id and a rank in range; the reader never reads past the frame; and the
//! constant-time comparison agrees with `==`.
//!
//! The first byte says how many piece sizes follow (up to 8); the rest is the stream.

#![no_main]

use eau2_comm::net::fuzzing::{
    judge_hello, judge_peer_hello, read_hello, secrets_match, Control, Expect, Pieces,
    MAX_HELLO_HEADER,
};
use libfuzzer_sys::fuzz_target;

const EXPECT: Expect<'static> = Expect {
    size: 4,
    token: "0123456789abcdef",
    job_id: "job-7",
};

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = (n as usize % 9).min(rest.len());
    let (sizes, stream) = rest.split_at(n);
    let mut pieces = Pieces::new(stream, sizes);
    let Ok(control) = read_hello(&mut pieces) else {
        return;
    };
    let consumed = stream.len() - pieces.rest().len();
    assert!(
        consumed <= 12 + MAX_HELLO_HEADER as usize + 64,
        "read past a hello"
    );
    assert_eq!(
        consumed % 64,
        0,
        "a hello frame ends at a multiple of 64 bytes"
    );
    let (token, job_id) = match &control {
        Control::Hello { token, job_id, .. } | Control::PeerHello { token, job_id, .. } => {
            (token.clone(), job_id.clone())
        }
        _ => (String::new(), String::new()),
    };
    assert_eq!(secrets_match(&token, EXPECT.token), token == EXPECT.token);
    assert_eq!(secrets_match(&job_id, &token), job_id == token);
    if let Ok((rank, _)) = judge_hello(control.clone(), EXPECT) {
        assert!(matches!(control, Control::Hello { .. }));
        assert!((1..EXPECT.size).contains(&rank));
        assert_eq!(
            (token.as_str(), job_id.as_str()),
            (EXPECT.token, EXPECT.job_id)
        );
    }
    if judge_peer_hello(control.clone(), EXPECT).is_ok() {
        assert!(matches!(control, Control::PeerHello { .. }));
        assert_eq!(
            (token.as_str(), job_id.as_str()),
            (EXPECT.token, EXPECT.job_id)
        );
    }
});
