//! Secret tokens handed to clients (session ids, one-time links): 256 random bits, base64url.
//! Only their HMAC digest is stored (`Keyring::token_digest`).

use base64::Engine as _;
use rand::RngCore as _;

/// A fresh 256-bit token as 43 base64url characters.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// True if `text` has the shape of a token (so garbage never reaches the database).
pub fn looks_like_token(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_well_formed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(looks_like_token(&a) && looks_like_token(&b));
        assert!(!looks_like_token("short") && !looks_like_token(&format!("{}!", &a[..42])));
    }
}
