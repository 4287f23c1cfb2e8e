//! Credential: COSE_Sign1 (ES256, `external_aad = "lk/cred/v1"`) over fixed-profile CBOR claims.
//!
//! Claims map (integer keys, ascending; research §6.2 with the design brief's UTC windows):
//! `1 ver=1, 2 cid bstr16, 3 site bstr16, ?4 locks [+ bstr16] (absent = whole site), 5 uid u32,
//! 6 holder key bstr33, 7 iat, 8 nbf, 9 exp (u32 Unix s UTC), 10 epoch u32, 11 rights u16,
//! 12 user type u8, ?13 windows [+ [start u32, end u32]], ?14 max uses u16, ?15 flags u8`.

use crate::bounded::{Bounded, Zeroed};
use crate::cbor::{Reader, Writer};
use crate::cose::{self, Sign1};
use crate::crypto::{Crypto, Digest, PublicKey, Signer};
use crate::error::Error;
use crate::ids::Id16;

/// Claims format version carried in key 1.
pub const CLAIMS_VERSION: u32 = 1;
/// Most lock ids one credential may name (more → issue a whole-site credential or several).
pub const MAX_LOCKS: usize = 8;
/// Most access windows in one credential (its 7-day life compiled to UTC intervals).
pub const MAX_WINDOWS: usize = 16;
/// Largest encoded credential (COSE_Sign1) accepted on the air.
pub const MAX_CREDENTIAL_LEN: usize = 512;
/// Largest encoded claims map.
const MAX_CLAIMS_LEN: usize = MAX_CREDENTIAL_LEN - 96;

/// Rights bits (research §6.2 key 11); bit `n` permits [`crate::ids::Operation`] `n`.
pub type Rights = u16;

/// Credential flag: refuse while the lock's clock is untrusted (research §6.5).
pub const FLAG_NEEDS_TRUSTED_TIME: u8 = 0b001;
/// Credential flag: refuse unless the lock's revocation data is fresh (research §6.4 staleness).
pub const FLAG_ONLINE_ONLY: u8 = 0b010;
/// Credential flag: require a PIN step-up on the phone.
pub const FLAG_PIN_STEP_UP: u8 = 0b100;
/// All flags v1 understands; any other bit is refused because a flag may restrict.
pub const KNOWN_FLAGS: u8 = FLAG_NEEDS_TRUSTED_TIME | FLAG_ONLINE_ONLY | FLAG_PIN_STEP_UP;

/// An access window `[start, end)` in UTC seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// First second inside the window.
    pub start: u32,
    /// First second after the window.
    pub end: u32,
}

impl Zeroed for Window {
    const ZERO: Self = Window { start: 0, end: 0 };
}

/// The signed claims of a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Random credential id.
    pub cid: Id16,
    /// Site the credential belongs to.
    pub site: Id16,
    /// Locks in scope, strictly ascending; empty means every lock of the site.
    pub locks: Bounded<Id16, MAX_LOCKS>,
    /// User id (Matter userUniqueID).
    pub uid: u32,
    /// Holder's compressed P-256 public key.
    pub holder: PublicKey,
    /// Issued at (UTC s).
    pub iat: u32,
    /// Not before (UTC s).
    pub nbf: u32,
    /// Expires at (UTC s).
    pub exp: u32,
    /// Site revocation epoch at issuance.
    pub epoch: u32,
    /// Rights bits.
    pub rights: Rights,
    /// Matter UserTypeEnum.
    pub user_type: u8,
    /// Access windows, ascending and disjoint; empty means no schedule restriction.
    pub windows: Bounded<Window, MAX_WINDOWS>,
    /// Maximum number of uses (counted by the lock).
    pub max_uses: Option<u16>,
    /// Flag bits (`FLAG_*`).
    pub flags: u8,
}

impl Claims {
    /// Encode as deterministic CBOR into `w`.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.validate()?;
        let entries = 11
            + usize::from(!self.locks.is_empty())
            + usize::from(!self.windows.is_empty())
            + usize::from(self.max_uses.is_some())
            + usize::from(self.flags != 0);
        w.map(entries)?;
        w.uint(1)?;
        w.uint(u64::from(CLAIMS_VERSION))?;
        w.uint(2)?;
        w.bytes(&self.cid)?;
        w.uint(3)?;
        w.bytes(&self.site)?;
        if !self.locks.is_empty() {
            w.uint(4)?;
            w.array(self.locks.len())?;
            for l in self.locks.as_slice() {
                w.bytes(l)?;
            }
        }
        w.uint(5)?;
        w.uint(u64::from(self.uid))?;
        w.uint(6)?;
        w.bytes(&self.holder)?;
        for (k, v) in [
            (7u64, self.iat),
            (8, self.nbf),
            (9, self.exp),
            (10, self.epoch),
        ] {
            w.uint(k)?;
            w.uint(u64::from(v))?;
        }
        w.uint(11)?;
        w.uint(u64::from(self.rights))?;
        w.uint(12)?;
        w.uint(u64::from(self.user_type))?;
        if !self.windows.is_empty() {
            w.uint(13)?;
            w.array(self.windows.len())?;
            for win in self.windows.as_slice() {
                w.array(2)?;
                w.uint(u64::from(win.start))?;
                w.uint(u64::from(win.end))?;
            }
        }
        if let Some(m) = self.max_uses {
            w.uint(14)?;
            w.uint(u64::from(m))?;
        }
        if self.flags != 0 {
            w.uint(15)?;
            w.uint(u64::from(self.flags))?;
        }
        Ok(())
    }

    /// Strictly decode a claims map (the whole input).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_CLAIMS_LEN {
            return Err(Error::Oversize);
        }
        let mut r = Reader::new(bytes);
        let mut keys = r.map(32)?;
        let mut ver = None;
        let mut cid = None;
        let mut site = None;
        let mut locks = Bounded::new();
        let mut uid = None;
        let mut holder = None;
        let (mut iat, mut nbf, mut exp, mut epoch) = (None, None, None, None);
        let mut rights = None;
        let mut user_type = None;
        let mut windows = Bounded::new();
        let mut max_uses = None;
        let mut flags = 0u8;
        while let Some(k) = keys.next(&mut r)? {
            match k {
                1 => ver = Some(r.u32()?),
                2 => cid = Some(r.bytes_exact::<16>()?),
                3 => site = Some(r.bytes_exact::<16>()?),
                4 => {
                    let n = r.array(MAX_LOCKS)?;
                    if n == 0 {
                        // Canonical form of "whole site" is an absent key, not an empty list.
                        return Err(Error::InvalidValue);
                    }
                    for _ in 0..n {
                        locks.push(r.bytes_exact::<16>()?)?;
                    }
                }
                5 => uid = Some(r.u32()?),
                6 => holder = Some(r.bytes_exact::<33>()?),
                7 => iat = Some(r.u32()?),
                8 => nbf = Some(r.u32()?),
                9 => exp = Some(r.u32()?),
                10 => epoch = Some(r.u32()?),
                11 => rights = Some(r.u16()?),
                12 => user_type = Some(r.u8()?),
                13 => {
                    let n = r.array(MAX_WINDOWS)?;
                    if n == 0 {
                        return Err(Error::InvalidValue);
                    }
                    for _ in 0..n {
                        r.array_exact(2)?;
                        let start = r.u32()?;
                        let end = r.u32()?;
                        windows.push(Window { start, end })?;
                    }
                }
                14 => max_uses = Some(r.u16()?),
                15 => {
                    flags = r.u8()?;
                    if flags == 0 {
                        // Zero flags are encoded by omission; two encodings would break determinism.
                        return Err(Error::InvalidValue);
                    }
                }
                other => r.skip_unknown(other)?,
            }
        }
        r.finish()?;
        if ver.ok_or(Error::MissingKey)? != CLAIMS_VERSION {
            return Err(Error::InvalidValue);
        }
        let claims = Claims {
            cid: cid.ok_or(Error::MissingKey)?,
            site: site.ok_or(Error::MissingKey)?,
            locks,
            uid: uid.ok_or(Error::MissingKey)?,
            holder: holder.ok_or(Error::MissingKey)?,
            iat: iat.ok_or(Error::MissingKey)?,
            nbf: nbf.ok_or(Error::MissingKey)?,
            exp: exp.ok_or(Error::MissingKey)?,
            epoch: epoch.ok_or(Error::MissingKey)?,
            rights: rights.ok_or(Error::MissingKey)?,
            user_type: user_type.ok_or(Error::MissingKey)?,
            windows,
            max_uses,
            flags,
        };
        claims.validate()?;
        Ok(claims)
    }

    /// Profile rules beyond syntax: ordered sets, sane intervals, known flags, compressed key.
    fn validate(&self) -> Result<(), Error> {
        if !strictly_ascending(self.locks.as_slice().iter()) {
            return Err(Error::InvalidValue);
        }
        let mut prev_end = 0u32;
        for (i, w) in self.windows.as_slice().iter().enumerate() {
            if w.start >= w.end || (i > 0 && w.start < prev_end) {
                return Err(Error::InvalidValue);
            }
            prev_end = w.end;
        }
        if self.nbf > self.exp || self.iat > self.exp {
            return Err(Error::InvalidValue);
        }
        if self.flags & !KNOWN_FLAGS != 0 {
            return Err(Error::InvalidValue);
        }
        // SEC1 compressed prefix; full on-curve validation happens when the key verifies.
        if !matches!(self.holder.first(), Some(0x02 | 0x03)) {
            return Err(Error::InvalidValue);
        }
        Ok(())
    }

    /// True if this credential covers `lock` (listed, or no list = whole site).
    pub fn covers_lock(&self, lock: &Id16) -> bool {
        self.locks.is_empty() || self.locks.as_slice().binary_search(lock).is_ok()
    }
}

fn strictly_ascending<'a, T: Ord + 'a>(mut it: impl Iterator<Item = &'a T>) -> bool {
    let Some(mut prev) = it.next() else {
        return true;
    };
    for x in it {
        if x <= prev {
            return false;
        }
        prev = x;
    }
    true
}

/// A decoded credential: envelope plus claims, issuer signature not yet checked.
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    /// The COSE envelope (kid, signed bytes, signature).
    pub envelope: Sign1<'a>,
    /// The exact encoded credential, for hashing into the verified-credential cache.
    pub bytes: &'a [u8],
}

impl<'a> Credential<'a> {
    /// Strictly decode the COSE envelope and claims; returns the claims for the cheap checks.
    pub fn decode(bytes: &'a [u8]) -> Result<(Self, Claims), Error> {
        if bytes.len() > MAX_CREDENTIAL_LEN {
            return Err(Error::Oversize);
        }
        let envelope = Sign1::decode(bytes)?;
        let claims = Claims::decode(envelope.payload)?;
        Ok((Credential { envelope, bytes }, claims))
    }

    /// Check the issuer's signature (check 6 in the lock's order).
    pub fn verify_issuer<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        issuer: &PublicKey,
    ) -> Result<(), Error> {
        self.envelope.verify(crypto, cose::AAD_CREDENTIAL, issuer)
    }

    /// SHA-256 of the whole credential: the verified-credential cache key.
    pub fn hash<C: Crypto + ?Sized>(&self, crypto: &C) -> Digest {
        crypto.sha256(&[self.bytes])
    }
}

/// Issue a credential: encode `claims`, sign with the issuer key, write into `out`.
pub fn issue<C: Crypto + ?Sized>(
    crypto: &C,
    issuer: &dyn Signer,
    claims: &Claims,
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut buf = [0u8; MAX_CLAIMS_LEN];
    let mut w = Writer::new(&mut buf);
    claims.encode(&mut w)?;
    let n = cose::sign(crypto, issuer, cose::AAD_CREDENTIAL, w.written(), out)?;
    if n > MAX_CREDENTIAL_LEN {
        return Err(Error::Oversize);
    }
    Ok(n)
}
