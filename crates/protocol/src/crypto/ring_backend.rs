//! `ring` backend (std only): the fast path for phones, hubs and the server (research §8.1:
//! ring P-256 verify ≈ 5× RustCrypto on x86-64).
//!
//! ring has no SEC1 compressed-point input and no way to import an ECDH scalar, so:
//! compressed points are expanded with `p256` (public data only), and the ECDH scalar is fed to
//! ring's key generation through its fixed-random test source — the only public route.

use super::{
    AeadKey, AeadNonce, AeadTag, Crypto, Digest, PublicKey, SecretScalar, SharedSecret, Signature,
};
use crate::error::Error;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use ring::{aead, agreement, digest, hkdf, hmac, rand, signature};

/// `ring` implementation of suite v1; ECDSA signatures are randomized (they verify, but are not
/// byte-equal to the software backend's RFC 6979 signatures).
#[derive(Debug, Default, Clone, Copy)]
pub struct RingCrypto;

struct OutLen(usize);

impl hkdf::KeyType for OutLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// SEC1 input (either form) as the uncompressed 65-byte encoding ring accepts.
fn uncompressed(public_sec1: &[u8]) -> Result<[u8; 65], Error> {
    let pk = p256::PublicKey::from_sec1_bytes(public_sec1).map_err(|_| Error::Crypto)?;
    pk.to_encoded_point(false)
        .as_bytes()
        .try_into()
        .map_err(|_| Error::Crypto)
}

fn compress(uncompressed: &[u8]) -> Result<PublicKey, Error> {
    let (prefix, xy) = uncompressed.split_first().ok_or(Error::Crypto)?;
    if *prefix != 0x04 || xy.len() != 64 {
        return Err(Error::Crypto);
    }
    let (x, y) = xy.split_at(32);
    let mut out = [0u8; 33];
    let (tag, rest) = out.split_at_mut(1);
    // SEC1 §2.3.3: 0x02 for even y, 0x03 for odd y.
    let odd = y.last().map(|b| b & 1).unwrap_or(0);
    tag.fill(0x02 | odd);
    rest.copy_from_slice(x);
    Ok(out)
}

#[allow(deprecated)]
fn ephemeral_from_scalar(secret: &SecretScalar) -> Result<agreement::EphemeralPrivateKey, Error> {
    let fixed = ring::test::rand::FixedSliceRandom {
        bytes: secret.as_bytes(),
    };
    agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &fixed)
        .map_err(|_| Error::Crypto)
}

impl Crypto for RingCrypto {
    fn sha256(&self, parts: &[&[u8]]) -> Digest {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for p in parts {
            ctx.update(p);
        }
        let d = ctx.finish();
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }

    fn hkdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Digest {
        // RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); ring's Prk is opaque, so compute it directly.
        let key = hmac::Key::new(hmac::HMAC_SHA256, salt);
        let tag = hmac::sign(&key, ikm);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn hkdf_expand(&self, prk: &Digest, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk);
        let okm = prk
            .expand(info, OutLen(out.len()))
            .map_err(|_| Error::Crypto)?;
        okm.fill(out).map_err(|_| Error::Crypto)
    }

    fn aead_seal(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<AeadTag, Error> {
        let key = aead::UnboundKey::new(&aead::AES_128_GCM, key).map_err(|_| Error::Crypto)?;
        let key = aead::LessSafeKey::new(key);
        let tag = key
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(aad),
                buf,
            )
            .map_err(|_| Error::Crypto)?;
        tag.as_ref().try_into().map_err(|_| Error::Crypto)
    }

    fn aead_open(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        buf: &mut [u8],
        tag: &AeadTag,
    ) -> Result<(), Error> {
        let key = aead::UnboundKey::new(&aead::AES_128_GCM, key).map_err(|_| Error::Crypto)?;
        let key = aead::LessSafeKey::new(key);
        key.open_in_place_separate_tag(
            aead::Nonce::assume_unique_for_key(*nonce),
            aead::Aad::from(aad),
            aead::Tag::from(*tag),
            buf,
            0..,
        )
        .map(|_| ())
        .map_err(|_| Error::Crypto)
    }

    fn ecdsa_verify(&self, public_sec1: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let pk = uncompressed(public_sec1)?;
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &pk)
            .verify(msg, sig)
            .map_err(|_| Error::Crypto)
    }

    fn ecdsa_sign(&self, secret: &SecretScalar, msg: &[u8]) -> Result<Signature, Error> {
        let rng = rand::SystemRandom::new();
        let public = uncompressed(&self.public_key(secret)?)?;
        let kp = signature::EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            secret.as_bytes(),
            &public,
            &rng,
        )
        .map_err(|_| Error::Crypto)?;
        let sig = kp.sign(&rng, msg).map_err(|_| Error::Crypto)?;
        sig.as_ref().try_into().map_err(|_| Error::Crypto)
    }

    fn public_key(&self, secret: &SecretScalar) -> Result<PublicKey, Error> {
        let eph = ephemeral_from_scalar(secret)?;
        let public = eph.compute_public_key().map_err(|_| Error::Crypto)?;
        compress(public.as_ref())
    }

    fn ecdh(&self, secret: &SecretScalar, peer_sec1: &[u8]) -> Result<SharedSecret, Error> {
        let peer = uncompressed(peer_sec1)?;
        let eph = ephemeral_from_scalar(secret)?;
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &peer);
        agreement::agree_ephemeral(eph, &peer, |k| {
            let mut out = [0u8; 32];
            if k.len() == 32 {
                out.copy_from_slice(k);
                Ok(SharedSecret(out))
            } else {
                Err(Error::Crypto)
            }
        })
        .map_err(|_| Error::Crypto)?
    }
}
