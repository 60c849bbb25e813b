//! The job's shared secret.
//!
//! Every rank presents the token when it greets rank 0 and its peers, so a stray process
//! (or a rank of another job that happened to get the same port) is turned away. It only
//! has to be unguessable and fresh per job, which 128 bits from the kernel's CSPRNG are.
//! eau2-launch draws one per job here, and so does a rank whose launcher's wire-up
//! service hands it out; the key file behind plain srun's tokens is drawn here too.

use std::fs::File;
use std::io::{self, Read};

/// Bytes of randomness in a token; printed as twice as many hex digits.
const TOKEN_BYTES: usize = 16;

/// Returns a fresh token: 32 lowercase hex digits read from `/dev/urandom`.
pub fn fresh() -> io::Result<String> {
    Ok(to_hex(&random_bytes::<TOKEN_BYTES>()?))
}

/// `N` bytes from the kernel's CSPRNG (`/dev/urandom`).
pub fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Lowercase hex, two digits per byte.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encodes_every_nibble() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn tokens_are_32_hex_digits_and_differ() {
        let a = fresh().unwrap();
        let b = fresh().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b, "two fresh tokens collided");
    }
}
