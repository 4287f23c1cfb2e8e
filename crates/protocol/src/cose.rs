//! COSE_Sign1 (RFC 9052 §4.2) in one fixed profile: ES256, `kid` of 8 bytes, nothing else.
//!
//! `COSE_Sign1 = [ protected: bstr .cbor {1: -7, 4: h'kid8'}, unprotected: {}, payload: bstr,
//! signature: bstr(64) ]`, untagged. Each message kind signs with its own `external_aad`
//! (domain separation: a credential signature can never pass as a revocation list).

use crate::cbor::{Reader, Writer};
use crate::crypto::{Crypto, PublicKey, Signature, Signer};
use crate::error::Error;
use crate::ids::Kid8;

/// COSE algorithm identifier for ES256 (RFC 9053 §2.1): -7, encoded as CBOR nint 6.
const ALG_ES256_NINT: u64 = 6;
/// Encoded protected header: `{1: -7, 4: bstr(8)}` = 5 header bytes + kid.
const PROTECTED_LEN: usize = 13;
/// Bytes of Sig_structure besides protected and payload: array, "Signature1", aad and payload heads.
const SIG_STRUCTURE_OVERHEAD: usize = 1 + 11 + 3 + 3 + 3;
/// Largest payload any signed v1 message carries (the revocation list is the largest).
pub const MAX_PAYLOAD_LEN: usize = 640;
/// Largest COSE_Sign1 envelope we ever decode.
pub const MAX_SIGN1_LEN: usize = 1 + (1 + PROTECTED_LEN) + 1 + (3 + MAX_PAYLOAD_LEN) + (2 + 64);

/// `external_aad` of a credential signature.
pub const AAD_CREDENTIAL: &[u8] = b"lk/cred/v1";
/// `external_aad` of a revocation list signature.
pub const AAD_REVOCATION: &[u8] = b"lk/rev/v1";
/// `external_aad` of a signed time token.
pub const AAD_TIME: &[u8] = b"lk/time/v1";
/// `external_aad` of a remote command.
pub const AAD_COMMAND: &[u8] = b"lk/cmd/v1";
/// `external_aad` of a log acknowledgement.
pub const AAD_LOG_ACK: &[u8] = b"lk/ack/v1";
/// `external_aad` of a claim bundle.
pub const AAD_CLAIM: &[u8] = b"lk/claim/v1";

/// A decoded COSE_Sign1 borrowing from its input; the signature is not yet checked.
#[derive(Debug, Clone, Copy)]
pub struct Sign1<'a> {
    /// Signer's key id from the protected header.
    pub kid: Kid8,
    /// The protected header bytes exactly as received (they are signed).
    pub protected: &'a [u8],
    /// The payload bytes (a CBOR map for every v1 message).
    pub payload: &'a [u8],
    /// Raw `r‖s` signature.
    pub signature: Signature,
}

fn encode_protected(kid: &Kid8) -> Result<[u8; PROTECTED_LEN], Error> {
    let mut buf = [0u8; PROTECTED_LEN];
    let mut w = Writer::new(&mut buf);
    w.map(2)?;
    w.uint(1)?;
    w.nint(ALG_ES256_NINT)?;
    w.uint(4)?;
    w.bytes(kid)?;
    Ok(buf)
}

impl<'a> Sign1<'a> {
    /// Strictly decode one COSE_Sign1; the whole input must be the envelope.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_SIGN1_LEN {
            return Err(Error::Oversize);
        }
        let mut r = Reader::new(bytes);
        r.array_exact(4)?;
        let protected = r.bytes(PROTECTED_LEN)?;
        let kid = decode_protected(protected)?;
        // The unprotected bucket must be empty: anything there would be unauthenticated.
        if r.map(0)?.next(&mut r)?.is_some() {
            return Err(Error::InvalidValue);
        }
        let payload = r.bytes(MAX_PAYLOAD_LEN)?;
        let signature = r.bytes_exact::<64>()?;
        r.finish()?;
        Ok(Sign1 {
            kid,
            protected,
            payload,
            signature,
        })
    }

    /// Verify the signature with `public` under `external_aad`.
    pub fn verify<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        external_aad: &[u8],
        public: &PublicKey,
    ) -> Result<(), Error> {
        let mut buf = [0u8; MAX_PAYLOAD_LEN + PROTECTED_LEN + 16 + SIG_STRUCTURE_OVERHEAD];
        let tbs = sig_structure(&mut buf, self.protected, external_aad, self.payload)?;
        crypto.ecdsa_verify(public, tbs, &self.signature)
    }
}

fn decode_protected(protected: &[u8]) -> Result<Kid8, Error> {
    let mut r = Reader::new(protected);
    let mut keys = r.map(2)?;
    let mut alg = None;
    let mut kid = None;
    while let Some(k) = keys.next(&mut r)? {
        match k {
            1 => alg = Some(r.nint()?),
            4 => kid = Some(r.bytes_exact::<8>()?),
            // Every header parameter is critical here: the profile has exactly two.
            _ => return Err(Error::UnknownCriticalKey),
        }
    }
    r.finish()?;
    // No algorithm agility inside a version (design brief: one suite per version).
    if alg.ok_or(Error::MissingKey)? != ALG_ES256_NINT {
        return Err(Error::InvalidValue);
    }
    kid.ok_or(Error::MissingKey)
}

/// RFC 9052 §4.4 `Sig_structure = ["Signature1", protected, external_aad, payload]`.
fn sig_structure<'b>(
    buf: &'b mut [u8],
    protected: &[u8],
    aad: &[u8],
    payload: &[u8],
) -> Result<&'b [u8], Error> {
    let mut w = Writer::new(buf);
    w.array(4)?;
    w.text("Signature1")?;
    w.bytes(protected)?;
    w.bytes(aad)?;
    w.bytes(payload)?;
    Ok(w.into_written())
}

/// Sign `payload` under `external_aad` and write the COSE_Sign1 into `out`; returns its length.
pub fn sign<C: Crypto + ?Sized>(
    crypto: &C,
    signer: &dyn Signer,
    external_aad: &[u8],
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, Error> {
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(Error::Oversize);
    }
    let kid = crate::crypto::kid8(crypto, signer.public_key());
    let protected = encode_protected(&kid)?;
    let mut tbs_buf = [0u8; MAX_PAYLOAD_LEN + PROTECTED_LEN + 16 + SIG_STRUCTURE_OVERHEAD];
    let tbs = sig_structure(&mut tbs_buf, &protected, external_aad, payload)?;
    let signature = signer.sign(tbs)?;
    let mut w = Writer::new(out);
    w.array(4)?;
    w.bytes(&protected)?;
    w.map(0)?;
    w.bytes(payload)?;
    w.bytes(&signature)?;
    Ok(w.len())
}
