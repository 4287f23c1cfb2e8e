//! The `Crypto` trait: every primitive suite v1 needs, with a software and a `ring` backend.
//!
//! Suite v1 is fixed (design `protocol.md`: no negotiation inside a version): ECDSA P-256 with
//! SHA-256 and raw `r‖s` signatures, ECDH P-256, SHA-256, HKDF-SHA-256, AES-128-GCM with 16-byte
//! tags. Keys and points cross this boundary as plain bytes so both backends can be checked
//! byte-for-byte against the same vectors.

#[cfg(feature = "std")]
mod ring_backend;
mod software;

#[cfg(feature = "std")]
pub use ring_backend::RingCrypto;
pub use software::SoftwareCrypto;

use crate::error::Error;
use zeroize::Zeroize;

/// SEC1 compressed P-256 point, as carried on the air (research §6: 33 B).
pub type PublicKey = [u8; 33];
/// Raw `r‖s` ECDSA P-256 signature.
pub type Signature = [u8; 64];
/// SHA-256 output.
pub type Digest = [u8; 32];
/// AES-128-GCM key.
pub type AeadKey = [u8; 16];
/// AES-128-GCM nonce.
pub type AeadNonce = [u8; 12];
/// AES-128-GCM tag.
pub type AeadTag = [u8; 16];
/// Length of an AES-128-GCM tag.
pub const TAG_LEN: usize = 16;

/// A P-256 private scalar (big-endian), wiped on drop.
#[derive(Clone)]
pub struct SecretScalar([u8; 32]);

impl SecretScalar {
    /// Wrap 32 big-endian bytes; validity (0 < d < n) is checked when used.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SecretScalar(bytes)
    }

    /// The scalar's bytes (for backends and key storage).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for SecretScalar {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretScalar(..)")
    }
}

/// An ECDH shared secret (x-coordinate), wiped on drop.
pub struct SharedSecret(pub [u8; 32]);

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Suite v1 primitives. Implementations must be deterministic given their inputs, except
/// `ecdsa_sign`, whose signatures only need to verify (the software backend uses RFC 6979).
pub trait Crypto {
    /// SHA-256 over the concatenation of `parts`.
    fn sha256(&self, parts: &[&[u8]]) -> Digest;

    /// HKDF-Extract (RFC 5869 §2.2) with SHA-256.
    fn hkdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Digest;

    /// HKDF-Expand (RFC 5869 §2.3) with SHA-256; `info` is the concatenation of the parts.
    fn hkdf_expand(&self, prk: &Digest, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error>;

    /// AES-128-GCM encrypt `buf` in place; returns the detached tag.
    fn aead_seal(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<AeadTag, Error>;

    /// AES-128-GCM decrypt `buf` in place after checking `tag`; on error `buf` is unspecified.
    fn aead_open(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        buf: &mut [u8],
        tag: &AeadTag,
    ) -> Result<(), Error>;

    /// Verify an ES256 signature (`r‖s`, 64 B) over `msg` with a SEC1 public key (either form).
    fn ecdsa_verify(&self, public_sec1: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error>;

    /// Sign `msg` with ES256, returning raw `r‖s`.
    fn ecdsa_sign(&self, secret: &SecretScalar, msg: &[u8]) -> Result<Signature, Error>;

    /// Compressed public key of `secret`.
    fn public_key(&self, secret: &SecretScalar) -> Result<PublicKey, Error>;

    /// ECDH P-256: x-coordinate of `secret · peer` (SEC1 peer point, either form, validated).
    fn ecdh(&self, secret: &SecretScalar, peer_sec1: &[u8]) -> Result<SharedSecret, Error>;
}

/// Anything that can produce ES256 signatures with a fixed identity (lock key, holder key, cloud key).
///
/// Phones and locks back this with secure hardware; [`LocalSigner`] holds the scalar in memory.
pub trait Signer {
    /// The signer's compressed public key.
    fn public_key(&self) -> &PublicKey;
    /// Sign `msg` (ES256, raw `r‖s`).
    fn sign(&self, msg: &[u8]) -> Result<Signature, Error>;
}

/// A software signer: a scalar plus the crypto backend that uses it.
pub struct LocalSigner<'c, C: Crypto> {
    crypto: &'c C,
    secret: SecretScalar,
    public: PublicKey,
}

impl<'c, C: Crypto> LocalSigner<'c, C> {
    /// Build from a scalar; fails if the scalar is not a valid P-256 private key.
    pub fn new(crypto: &'c C, secret: SecretScalar) -> Result<Self, Error> {
        let public = crypto.public_key(&secret)?;
        Ok(LocalSigner {
            crypto,
            secret,
            public,
        })
    }
}

impl<C: Crypto> Signer for LocalSigner<'_, C> {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
    fn sign(&self, msg: &[u8]) -> Result<Signature, Error> {
        self.crypto.ecdsa_sign(&self.secret, msg)
    }
}

/// Key id: the first 8 bytes of SHA-256 over the compressed public key (research §6.1 `kid8`).
pub fn kid8<C: Crypto + ?Sized>(crypto: &C, public: &PublicKey) -> [u8; 8] {
    let h = crypto.sha256(&[public]);
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(h.iter()) {
        *o = *b;
    }
    out
}

/// Constant-time equality for MACs and secrets (no early exit on the first difference).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    // black_box keeps the optimiser from turning the fold into an early-exit compare.
    core::hint::black_box(diff) == 0
}
