//! Base32 of RFC 4648 §6 (alphabet `A–Z2–7`), the encoding of TOTP secrets in `otpauth://` URIs and
//! authenticator apps. Encoding never pads (the Key URI format omits `=`); decoding accepts either
//! case, spaces (as apps display secrets in groups) and trailing padding, and refuses anything else.

/// The RFC 4648 base32 alphabet.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Input longer than this is refused by [`decode`]; TOTP secrets are 32 characters.
pub const MAX_DECODE_CHARS: usize = 1024;

/// Base32 text that could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Base32Error {
    /// A character outside `A–Z`, `2–7` (any case), space or trailing `=`.
    #[error("the text may contain only the letters A–Z and the digits 2–7")]
    InvalidCharacter,
    /// A length no byte string encodes to, or unused trailing bits that are not zero.
    #[error("the text is not a whole base32 value; check that it was copied completely")]
    InvalidLength,
    /// Longer than [`MAX_DECODE_CHARS`].
    #[error("the text is too long")]
    TooLong,
}

/// Encodes bytes as upper-case base32 without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

/// The alphabet character for the low five bits of `value`.
fn symbol(value: u32) -> char {
    let index = usize::try_from(value & 0x1f).unwrap_or(0);
    ALPHABET.get(index).map_or('A', |&b| char::from(b))
}

/// The five-bit value of one character, either case.
fn value_of(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a')),
        b'2'..=b'7' => Some(u32::from(c - b'2') + 26),
        _ => None,
    }
}

/// Decodes base32 text (either case, spaces ignored, optional trailing `=` padding).
pub fn decode(text: &str) -> Result<Vec<u8>, Base32Error> {
    if text.len() > MAX_DECODE_CHARS {
        return Err(Base32Error::TooLong);
    }
    let unpadded = text.trim_end_matches(['=', ' ']);
    let mut out = Vec::with_capacity(unpadded.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    let mut symbols = 0_usize;
    for c in unpadded.bytes().filter(|&c| c != b' ') {
        let value = value_of(c).ok_or(Base32Error::InvalidCharacter)?;
        symbols += 1;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).unwrap_or(0));
            buffer &= (1 << bits) - 1;
        }
    }
    // RFC 4648 §6: a final quantum has 2, 4, 5 or 7 symbols; the unused low bits must be zero.
    if matches!(symbols % 8, 1 | 3 | 6) || buffer != 0 {
        return Err(Base32Error::InvalidLength);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_4648_test_vectors_encode_without_padding_and_decode_with_or_without() {
        let vectors = [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ];
        for (plain, padded) in vectors {
            let unpadded = padded.trim_end_matches('=');
            assert_eq!(encode(plain.as_bytes()), unpadded);
            assert_eq!(decode(padded).unwrap(), plain.as_bytes());
            assert_eq!(decode(unpadded).unwrap(), plain.as_bytes());
            assert_eq!(decode(&unpadded.to_lowercase()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn spaces_from_grouped_display_are_ignored() {
        assert_eq!(decode("MZXW 6YTB OI").unwrap(), b"foobar");
    }

    #[test]
    fn malformed_text_is_refused() {
        assert_eq!(decode("MZXW1"), Err(Base32Error::InvalidCharacter));
        assert_eq!(decode("MZ=XW"), Err(Base32Error::InvalidCharacter));
        assert_eq!(decode("M"), Err(Base32Error::InvalidLength));
        assert_eq!(decode("MZX"), Err(Base32Error::InvalidLength));
        // "MZ" is "f"; "M7" leaves non-zero unused bits.
        assert_eq!(decode("M7"), Err(Base32Error::InvalidLength));
        assert_eq!(
            decode(&"A".repeat(MAX_DECODE_CHARS + 8)),
            Err(Base32Error::TooLong)
        );
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics(text in ".{0,80}") {
            let _ = decode(&text);
        }
    }
}
