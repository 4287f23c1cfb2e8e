//! Claim bundle: what the server hands a factory-fresh lock when its owner claims it.
//!
//! COSE_Sign1 (by the site's first issuer key, `external_aad = "lk/claim/v1"`) over
//! `{1 lock_id bstr16, 2 site bstr16, 3 issuers [+ bstr33] (≤ 4), 4 time/command key bstr33,
//! 5 cloud log key bstr33, 6 cloud ack key bstr33, 7 cfg_ver u16, 8 utc_ms u64}`.
//!
//! A fresh lock trusts no key yet, so the signature alone proves nothing to it. Trust comes from
//! the setup secret printed on the lock's label (research §6.7, ≥ 128 bits): the app proves it
//! knows the secret by a MAC over the bundle and the lock's pairing nonce ([`claim_proof`]). The
//! button press and pairing window are enforced by the lock core.

use crate::bounded::Bounded;
use crate::cbor::{Reader, Writer};
use crate::cose::{self, Sign1};
use crate::crypto::{Crypto, PublicKey, Signer, ct_eq};
use crate::error::Error;
use crate::ids::Id16;

/// Most issuer keys a site may hand a lock (rotation overlap).
pub const MAX_ISSUERS: usize = 4;
/// Largest encoded claim bundle.
pub const MAX_CLAIM_BUNDLE_LEN: usize = 400;
/// Length of the setup secret on the label (128 bits).
pub const SETUP_SECRET_LEN: usize = 16;

/// Decoded claim bundle payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimBundle {
    /// The lock being claimed.
    pub lock_id: Id16,
    /// The site it is bound to.
    pub site: Id16,
    /// Trusted credential/revocation issuer keys.
    pub issuers: Bounded<PublicKey, MAX_ISSUERS>,
    /// Key that signs time tokens and remote commands.
    pub time_command_key: PublicKey,
    /// Cloud log key (ECDH peer for the lock↔cloud log key).
    pub cloud_log_key: PublicKey,
    /// Key that signs log acks.
    pub ack_key: PublicKey,
    /// Configuration version.
    pub cfg_ver: u16,
    /// Server time at issuance (UTC ms).
    pub utc_ms: u64,
}

impl ClaimBundle {
    /// Encode the payload map.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        if self.issuers.is_empty() {
            return Err(Error::InvalidValue);
        }
        w.map(8)?;
        w.uint(1)?;
        w.bytes(&self.lock_id)?;
        w.uint(2)?;
        w.bytes(&self.site)?;
        w.uint(3)?;
        w.array(self.issuers.len())?;
        for k in self.issuers.as_slice() {
            w.bytes(k)?;
        }
        w.uint(4)?;
        w.bytes(&self.time_command_key)?;
        w.uint(5)?;
        w.bytes(&self.cloud_log_key)?;
        w.uint(6)?;
        w.bytes(&self.ack_key)?;
        w.uint(7)?;
        w.uint(u64::from(self.cfg_ver))?;
        w.uint(8)?;
        w.uint(self.utc_ms)
    }

    /// Strictly decode the payload map.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let mut keys = r.map(16)?;
        let (mut lock_id, mut site, mut tck, mut clk, mut ack, mut cfg_ver, mut utc_ms) =
            (None, None, None, None, None, None, None);
        let mut issuers = Bounded::new();
        while let Some(k) = keys.next(&mut r)? {
            match k {
                1 => lock_id = Some(r.bytes_exact::<16>()?),
                2 => site = Some(r.bytes_exact::<16>()?),
                3 => {
                    let n = r.array(MAX_ISSUERS)?;
                    if n == 0 {
                        return Err(Error::InvalidValue);
                    }
                    for _ in 0..n {
                        issuers.push(r.bytes_exact::<33>()?)?;
                    }
                }
                4 => tck = Some(r.bytes_exact::<33>()?),
                5 => clk = Some(r.bytes_exact::<33>()?),
                6 => ack = Some(r.bytes_exact::<33>()?),
                7 => cfg_ver = Some(r.u16()?),
                8 => utc_ms = Some(r.uint()?),
                other => r.skip_unknown(other)?,
            }
        }
        r.finish()?;
        if issuers.is_empty() {
            return Err(Error::MissingKey);
        }
        Ok(ClaimBundle {
            lock_id: lock_id.ok_or(Error::MissingKey)?,
            site: site.ok_or(Error::MissingKey)?,
            issuers,
            time_command_key: tck.ok_or(Error::MissingKey)?,
            cloud_log_key: clk.ok_or(Error::MissingKey)?,
            ack_key: ack.ok_or(Error::MissingKey)?,
            cfg_ver: cfg_ver.ok_or(Error::MissingKey)?,
            utc_ms: utc_ms.ok_or(Error::MissingKey)?,
        })
    }

    /// Sign with the site's first issuer key and write as COSE_Sign1.
    pub fn sign<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        issuer: &dyn Signer,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let mut buf = [0u8; MAX_CLAIM_BUNDLE_LEN];
        let mut w = Writer::new(&mut buf);
        self.encode(&mut w)?;
        cose::sign(crypto, issuer, cose::AAD_CLAIM, w.written(), out)
    }

    /// Decode a bundle and check it is self-consistent: signed by its own first issuer key.
    /// Whether to trust it at all is decided by [`verify_claim_proof`].
    pub fn open<C: Crypto + ?Sized>(crypto: &C, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_CLAIM_BUNDLE_LEN {
            return Err(Error::Oversize);
        }
        let env = Sign1::decode(bytes)?;
        let bundle = ClaimBundle::decode(env.payload)?;
        let first = bundle.issuers.as_slice().first().ok_or(Error::MissingKey)?;
        crate::revocation::open_signed(crypto, &env, cose::AAD_CLAIM, first)?;
        Ok(bundle)
    }
}

/// Proof that the claimant read the label: `HKDF(salt = pairing_nonce, IKM = setup_secret,
/// info = "lk/claim/v1" ‖ H(bundle))`, 32 bytes. HKDF-Expand is HMAC-SHA-256 underneath, so
/// this is a MAC keyed by the setup secret and bound to this pairing window's fresh nonce.
pub fn claim_proof<C: Crypto + ?Sized>(
    crypto: &C,
    setup_secret: &[u8; SETUP_SECRET_LEN],
    pairing_nonce: &[u8; 16],
    bundle: &[u8],
) -> Result<[u8; 32], Error> {
    let prk = crypto.hkdf_extract(pairing_nonce, setup_secret);
    let h = crypto.sha256(&[bundle]);
    let mut out = [0u8; 32];
    crypto.hkdf_expand(&prk, &[b"lk/claim/v1", &h], &mut out)?;
    Ok(out)
}

/// Check a claim proof in constant time.
pub fn verify_claim_proof<C: Crypto + ?Sized>(
    crypto: &C,
    setup_secret: &[u8; SETUP_SECRET_LEN],
    pairing_nonce: &[u8; 16],
    bundle: &[u8],
    proof: &[u8],
) -> Result<(), Error> {
    let want = claim_proof(crypto, setup_secret, pairing_nonce, bundle)?;
    if ct_eq(&want, proof) {
        Ok(())
    } else {
        Err(Error::Crypto)
    }
}

/// BLE message type: phone asks an unbound lock in its pairing window for a pairing offer.
pub const MSG_PAIR_REQUEST: u8 = 0x10;
/// BLE message type: the lock's pairing offer.
pub const MSG_PAIR_OFFER: u8 = 0x11;
/// BLE message type: the claim (proof and bundle).
pub const MSG_CLAIM: u8 = 0x12;
/// BLE message type: the lock's claim result.
pub const MSG_CLAIM_RESULT: u8 = 0x13;
/// Length of a pairing offer.
pub const PAIR_OFFER_LEN: usize = 1 + 16 + 16 + 33 + 32;

/// The lock's pairing offer: `11 | lock_id(16) | pairing_nonce(16) | identity key(33) | tag(32)`.
///
/// `tag` = HKDF(salt = nonce, IKM = setup secret, info = "lk/pair/v1" ‖ lock_id ‖ identity),
/// so the app, which read the secret from the label, knows the identity key is the real lock's
/// and not a key substituted by someone in radio range during pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairingOffer {
    /// The lock.
    pub lock_id: Id16,
    /// Fresh nonce of this pairing window; the claim proof binds to it.
    pub nonce: [u8; 16],
    /// The lock identity public key the server will register.
    pub identity: PublicKey,
    /// Setup-secret MAC over the above.
    pub tag: [u8; 32],
}

/// The tag of a pairing offer (see [`PairingOffer`]).
pub fn pairing_tag<C: Crypto + ?Sized>(
    crypto: &C,
    setup_secret: &[u8; SETUP_SECRET_LEN],
    lock_id: &Id16,
    nonce: &[u8; 16],
    identity: &PublicKey,
) -> Result<[u8; 32], Error> {
    let prk = crypto.hkdf_extract(nonce, setup_secret);
    let mut out = [0u8; 32];
    crypto.hkdf_expand(&prk, &[b"lk/pair/v1", lock_id, identity], &mut out)?;
    Ok(out)
}

impl PairingOffer {
    /// Encode to the fixed 98-byte form.
    pub fn encode(&self) -> Result<[u8; PAIR_OFFER_LEN], Error> {
        let mut out = [0u8; PAIR_OFFER_LEN];
        let mut w = Writer::new(&mut out);
        w.byte(MSG_PAIR_OFFER)?;
        w.raw(&self.lock_id)?;
        w.raw(&self.nonce)?;
        w.raw(&self.identity)?;
        w.raw(&self.tag)?;
        Ok(out)
    }

    /// Strictly decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != PAIR_OFFER_LEN {
            return Err(Error::InvalidValue);
        }
        let mut r = Reader::new(bytes);
        if r.u8_raw()? != MSG_PAIR_OFFER {
            return Err(Error::UnexpectedType);
        }
        Ok(PairingOffer {
            lock_id: r.take_array()?,
            nonce: r.take_array()?,
            identity: r.take_array()?,
            tag: r.take_array()?,
        })
    }

    /// App side: check the tag with the secret from the label (constant time).
    pub fn verify<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        setup_secret: &[u8; SETUP_SECRET_LEN],
    ) -> Result<(), Error> {
        let want = pairing_tag(
            crypto,
            setup_secret,
            &self.lock_id,
            &self.nonce,
            &self.identity,
        )?;
        if ct_eq(&want, &self.tag) {
            Ok(())
        } else {
            Err(Error::Crypto)
        }
    }
}

/// The claim message: `12 | proof(32) | bundle (COSE_Sign1, ≤ 400)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRequest<'a> {
    /// [`claim_proof`] over the bundle and the offer's nonce.
    pub proof: [u8; 32],
    /// The signed claim bundle.
    pub bundle: &'a [u8],
}

impl<'a> ClaimRequest<'a> {
    /// Encode into `out`; returns the length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        if self.bundle.is_empty() || self.bundle.len() > MAX_CLAIM_BUNDLE_LEN {
            return Err(Error::Oversize);
        }
        let mut w = Writer::new(out);
        w.byte(MSG_CLAIM)?;
        w.raw(&self.proof)?;
        w.raw(self.bundle)?;
        Ok(w.len())
    }

    /// Strictly decode (the bundle itself is decoded by [`ClaimBundle::open`]).
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        if r.u8_raw()? != MSG_CLAIM {
            return Err(Error::UnexpectedType);
        }
        let proof = r.take_array()?;
        let bundle = r.rest();
        if bundle.is_empty() || bundle.len() > MAX_CLAIM_BUNDLE_LEN {
            return Err(Error::Oversize);
        }
        Ok(ClaimRequest { proof, bundle })
    }
}
