//! Error values with stable codes: decode/encode failures and crypto failures.

use core::fmt;

/// Why bytes were refused by a strict decoder or could not be encoded.
///
/// Codes are stable (`code()`): they appear in lock logs and test vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Input ended before the structure was complete.
    Truncated,
    /// Bytes left over after a complete structure.
    TrailingBytes,
    /// CBOR major type or fixed byte differs from the profile.
    UnexpectedType,
    /// Indefinite-length CBOR item (RFC 8949 §3.2.1): never canonical.
    IndefiniteLength,
    /// Integer or length not in its shortest form (RFC 8949 §4.2.1).
    NonCanonicalInteger,
    /// Map keys not strictly ascending, which includes duplicates (RFC 8949 §4.2.1).
    KeyOrder,
    /// A key the profile does not know in the critical range.
    UnknownCriticalKey,
    /// A required key is absent.
    MissingKey,
    /// A byte string, array or message larger than the profile allows.
    Oversize,
    /// A value outside the profile's range (wrong version, bad length, zero where not allowed).
    InvalidValue,
    /// Nesting deeper than the profile allows.
    TooDeep,
    /// Output buffer too small.
    BufferTooSmall,
    /// A signature, AEAD tag or key failed cryptographic verification.
    Crypto,
    /// BLE frame out of sequence or without a start.
    FrameSequence,
    /// Reassembly exceeded its time budget.
    Timeout,
    /// A handshake message arrived twice or out of order within a session.
    Replay,
}

impl Error {
    /// Stable numeric code for logs and vectors.
    pub const fn code(self) -> u8 {
        match self {
            Error::Truncated => 1,
            Error::TrailingBytes => 2,
            Error::UnexpectedType => 3,
            Error::IndefiniteLength => 4,
            Error::NonCanonicalInteger => 5,
            Error::KeyOrder => 6,
            Error::UnknownCriticalKey => 7,
            Error::MissingKey => 8,
            Error::Oversize => 9,
            Error::InvalidValue => 10,
            Error::TooDeep => 11,
            Error::BufferTooSmall => 12,
            Error::Crypto => 13,
            Error::FrameSequence => 14,
            Error::Timeout => 15,
            Error::Replay => 16,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Error::Truncated => "message truncated",
            Error::TrailingBytes => "trailing bytes after message",
            Error::UnexpectedType => "unexpected type for this profile",
            Error::IndefiniteLength => "indefinite length not allowed",
            Error::NonCanonicalInteger => "integer not in shortest form",
            Error::KeyOrder => "map keys not strictly ascending (or duplicated)",
            Error::UnknownCriticalKey => "unknown critical key",
            Error::MissingKey => "required key missing",
            Error::Oversize => "field larger than allowed",
            Error::InvalidValue => "value out of range",
            Error::TooDeep => "nesting too deep",
            Error::BufferTooSmall => "output buffer too small",
            Error::Crypto => "cryptographic check failed",
            Error::FrameSequence => "frame out of sequence",
            Error::Timeout => "reassembly timed out",
            Error::Replay => "message replayed or out of order",
        };
        write!(f, "E{:02}: {what}", self.code())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
