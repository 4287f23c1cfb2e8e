//! Software backend: RustCrypto crates, `no_std`, no allocation. This is the lock's default.

use super::{
    AeadKey, AeadNonce, AeadTag, Crypto, Digest, PublicKey, SecretScalar, SharedSecret, Signature,
};
use crate::error::Error;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use ecdsa::hazmat::SignPrimitive as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature as EcdsaSignature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::{Digest as _, Sha256};

/// RustCrypto implementation of suite v1; ECDSA signing is deterministic (RFC 6979).
#[derive(Debug, Default, Clone, Copy)]
pub struct SoftwareCrypto;

impl Crypto for SoftwareCrypto {
    fn sha256(&self, parts: &[&[u8]]) -> Digest {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    fn hkdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Digest {
        let (prk, _) = hkdf::Hkdf::<Sha256>::extract(Some(salt), ikm);
        prk.into()
    }

    fn hkdf_expand(&self, prk: &Digest, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        let hk = hkdf::Hkdf::<Sha256>::from_prk(prk).map_err(|_| Error::Crypto)?;
        hk.expand_multi_info(info, out).map_err(|_| Error::Crypto)
    }

    fn aead_seal(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<AeadTag, Error> {
        let cipher = Aes128Gcm::new(key.into());
        let tag = cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), aad, buf)
            .map_err(|_| Error::Crypto)?;
        Ok(tag.into())
    }

    fn aead_open(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        buf: &mut [u8],
        tag: &AeadTag,
    ) -> Result<(), Error> {
        let cipher = Aes128Gcm::new(key.into());
        cipher
            .decrypt_in_place_detached(Nonce::from_slice(nonce), aad, buf, Tag::from_slice(tag))
            .map_err(|_| Error::Crypto)
    }

    fn ecdsa_verify(&self, public_sec1: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let vk = VerifyingKey::from_sec1_bytes(public_sec1).map_err(|_| Error::Crypto)?;
        // from_slice refuses wrong lengths and r or s outside [1, n-1] (Wycheproof range checks).
        let sig = EcdsaSignature::from_slice(sig).map_err(|_| Error::Crypto)?;
        vk.verify(msg, &sig).map_err(|_| Error::Crypto)
    }

    fn ecdsa_sign(&self, secret: &SecretScalar, msg: &[u8]) -> Result<Signature, Error> {
        // Same output as `SigningKey::sign` (RFC 6979, SHA-256, no extra data), without the
        // fixed-base multiplication `SigningKey` spends deriving the public key on every call.
        let sk =
            p256::SecretKey::from_bytes(secret.as_bytes().into()).map_err(|_| Error::Crypto)?;
        let digest = Sha256::digest(msg);
        let scalar = sk.to_nonzero_scalar();
        let (sig, _) = scalar
            .as_ref()
            .try_sign_prehashed_rfc6979::<Sha256>(&digest, &[])
            .map_err(|_| Error::Crypto)?;
        Ok(sig.to_bytes().into())
    }

    fn public_key(&self, secret: &SecretScalar) -> Result<PublicKey, Error> {
        let sk =
            p256::SecretKey::from_bytes(secret.as_bytes().into()).map_err(|_| Error::Crypto)?;
        let point = sk.public_key().to_encoded_point(true);
        point.as_bytes().try_into().map_err(|_| Error::Crypto)
    }

    fn ecdh(&self, secret: &SecretScalar, peer_sec1: &[u8]) -> Result<SharedSecret, Error> {
        let sk =
            p256::SecretKey::from_bytes(secret.as_bytes().into()).map_err(|_| Error::Crypto)?;
        // from_sec1_bytes checks the point is on the curve and not the identity (invalid-curve attacks).
        let peer = p256::PublicKey::from_sec1_bytes(peer_sec1).map_err(|_| Error::Crypto)?;
        let shared = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), peer.as_affine());
        Ok(SharedSecret((*shared.raw_secret_bytes()).into()))
    }
}
