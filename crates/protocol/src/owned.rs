//! `Vec` conveniences for hosts (server, phone, tests); the lock never needs them.

use crate::error::Error;
use alloc::vec::Vec;

/// Run an encoder that writes into a `cap`-byte buffer and return exactly the bytes it wrote.
///
/// Every encoder in this crate has the shape `fn(.., out: &mut [u8]) -> Result<usize, Error>`,
/// so e.g. `encode_to_vec(MAX_CREDENTIAL_LEN, |out| credential::issue(&c, &key, &claims, out))`.
pub fn encode_to_vec(
    cap: usize,
    encode: impl FnOnce(&mut [u8]) -> Result<usize, Error>,
) -> Result<Vec<u8>, Error> {
    let mut buf = alloc::vec![0u8; cap];
    let n = encode(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
