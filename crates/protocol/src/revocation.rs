//! Revocation list: COSE_Sign1 (issuer key, `external_aad = "lk/rev/v1"`).
//!
//! Payload map: `1 site bstr16, 2 version u32 (≥ 1, strictly increasing), 3 iat u32,
//! 4 min_epoch u32, 5 deny bstr(12·n): n × (cid8 ‖ exp be32) ascending by cid8,
//! ?6 floors bstr(8·n): n × (uid be32 ‖ min_iat be32) ascending by uid, ?7 next_update u32`.
//!
//! Deny entries and floors are packed byte strings rather than the research's nested arrays:
//! 12 B per entry instead of 15 (the list must fit M3 inside the 1 KiB reassembly cap next to a
//! credential and a time token), one canonical order, and binary search on the lock.

use crate::bounded::{Bounded, Zeroed};
use crate::cbor::{Reader, Writer};
use crate::cose::{self, Sign1};
use crate::crypto::{Crypto, PublicKey, Signer};
use crate::error::Error;
use crate::ids::{Cid8, Id16};

/// Deny entries one list may carry. Overflow is answered by raising `min_epoch` and re-issuing
/// the still-valid credentials (research §6.4), so the cap is about air size, not safety.
pub const MAX_DENY: usize = 32;
/// Per-user floors one list may carry.
pub const MAX_FLOORS: usize = 8;
/// Largest encoded revocation list (COSE_Sign1).
pub const MAX_REVOCATION_LEN: usize = 600;
const DENY_ENTRY_LEN: usize = 12;
const FLOOR_ENTRY_LEN: usize = 8;

/// One explicit denial: a credential id prefix and when the denial can be pruned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DenyEntry {
    /// First 8 bytes of the revoked credential id.
    pub cid8: Cid8,
    /// The revoked credential's expiry; after `exp + skew` the entry is moot.
    pub exp: u32,
}

impl Zeroed for DenyEntry {
    const ZERO: Self = DenyEntry {
        cid8: [0; 8],
        exp: 0,
    };
}

/// "All credentials of `uid` issued before `min_iat` are dead."
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserFloor {
    /// User id.
    pub uid: u32,
    /// Credentials with `iat < min_iat` are refused.
    pub min_iat: u32,
}

impl Zeroed for UserFloor {
    const ZERO: Self = UserFloor { uid: 0, min_iat: 0 };
}

/// Decoded revocation list payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    /// Site.
    pub site: Id16,
    /// List version; a lock accepts only a higher one.
    pub version: u32,
    /// Issued at (UTC s); advances the lock's last-known-good time once verified.
    pub iat: u32,
    /// Credentials with `epoch < min_epoch` are dead.
    pub min_epoch: u32,
    /// Explicit denials, ascending by `cid8`.
    pub deny: Bounded<DenyEntry, MAX_DENY>,
    /// Per-user floors, ascending by `uid`.
    pub floors: Bounded<UserFloor, MAX_FLOORS>,
    /// When the issuer promises the next list (UTC s), if stated.
    pub next_update: Option<u32>,
}

impl RevocationList {
    /// Encode the payload map.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.validate()?;
        let entries =
            5 + usize::from(!self.floors.is_empty()) + usize::from(self.next_update.is_some());
        w.map(entries)?;
        w.uint(1)?;
        w.bytes(&self.site)?;
        for (k, v) in [(2u64, self.version), (3, self.iat), (4, self.min_epoch)] {
            w.uint(k)?;
            w.uint(u64::from(v))?;
        }
        let mut deny = [0u8; MAX_DENY * DENY_ENTRY_LEN];
        let mut dw = Writer::new(&mut deny);
        for e in self.deny.as_slice() {
            dw.raw(&e.cid8)?;
            dw.be32(e.exp)?;
        }
        w.uint(5)?;
        w.bytes(dw.written())?;
        if !self.floors.is_empty() {
            let mut fl = [0u8; MAX_FLOORS * FLOOR_ENTRY_LEN];
            let mut fw = Writer::new(&mut fl);
            for f in self.floors.as_slice() {
                fw.be32(f.uid)?;
                fw.be32(f.min_iat)?;
            }
            w.uint(6)?;
            w.bytes(fw.written())?;
        }
        if let Some(n) = self.next_update {
            w.uint(7)?;
            w.uint(u64::from(n))?;
        }
        Ok(())
    }

    /// Strictly decode a payload map.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let mut keys = r.map(16)?;
        let (mut site, mut version, mut iat, mut min_epoch, mut deny_raw) =
            (None, None, None, None, None);
        let mut floors_raw: Option<&[u8]> = None;
        let mut next_update = None;
        while let Some(k) = keys.next(&mut r)? {
            match k {
                1 => site = Some(r.bytes_exact::<16>()?),
                2 => version = Some(r.u32()?),
                3 => iat = Some(r.u32()?),
                4 => min_epoch = Some(r.u32()?),
                5 => deny_raw = Some(r.bytes(MAX_DENY * DENY_ENTRY_LEN)?),
                6 => {
                    let f = r.bytes(MAX_FLOORS * FLOOR_ENTRY_LEN)?;
                    if f.is_empty() {
                        return Err(Error::InvalidValue);
                    }
                    floors_raw = Some(f);
                }
                7 => next_update = Some(r.u32()?),
                other => r.skip_unknown(other)?,
            }
        }
        r.finish()?;
        let deny_raw = deny_raw.ok_or(Error::MissingKey)?;
        let mut deny = Bounded::new();
        if deny_raw.len() % DENY_ENTRY_LEN != 0 {
            return Err(Error::InvalidValue);
        }
        for chunk in deny_raw.chunks_exact(DENY_ENTRY_LEN) {
            let mut cr = Reader::new(chunk);
            deny.push(DenyEntry {
                cid8: cr.take_array()?,
                exp: cr.be32()?,
            })?;
        }
        let mut floors = Bounded::new();
        if let Some(f) = floors_raw {
            if f.len() % FLOOR_ENTRY_LEN != 0 {
                return Err(Error::InvalidValue);
            }
            for chunk in f.chunks_exact(FLOOR_ENTRY_LEN) {
                let mut cr = Reader::new(chunk);
                floors.push(UserFloor {
                    uid: cr.be32()?,
                    min_iat: cr.be32()?,
                })?;
            }
        }
        let list = RevocationList {
            site: site.ok_or(Error::MissingKey)?,
            version: version.ok_or(Error::MissingKey)?,
            iat: iat.ok_or(Error::MissingKey)?,
            min_epoch: min_epoch.ok_or(Error::MissingKey)?,
            deny,
            floors,
            next_update,
        };
        list.validate()?;
        Ok(list)
    }

    fn validate(&self) -> Result<(), Error> {
        if self.version == 0 {
            // Version 0 is "no list yet" on a fresh lock; a real list starts at 1.
            return Err(Error::InvalidValue);
        }
        let deny_sorted = self
            .deny
            .as_slice()
            .windows(2)
            .all(|p| matches!(p, [a, b] if a.cid8 < b.cid8));
        let floors_sorted = self
            .floors
            .as_slice()
            .windows(2)
            .all(|p| matches!(p, [a, b] if a.uid < b.uid));
        if !deny_sorted || !floors_sorted {
            return Err(Error::InvalidValue);
        }
        Ok(())
    }

    /// True if the credential id prefix is explicitly denied.
    pub fn is_denied(&self, cid8: &Cid8) -> bool {
        self.deny
            .as_slice()
            .binary_search_by(|e| e.cid8.cmp(cid8))
            .is_ok()
    }

    /// The `min_iat` floor for `uid`, if any.
    pub fn user_floor(&self, uid: u32) -> Option<u32> {
        let floors = self.floors.as_slice();
        floors
            .binary_search_by(|f| f.uid.cmp(&uid))
            .ok()
            .and_then(|i| floors.get(i))
            .map(|f| f.min_iat)
    }

    /// Sign and write the list as COSE_Sign1; returns the length.
    pub fn sign<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        issuer: &dyn Signer,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let mut buf = [0u8; cose::MAX_PAYLOAD_LEN];
        let mut w = Writer::new(&mut buf);
        self.encode(&mut w)?;
        let n = cose::sign(crypto, issuer, cose::AAD_REVOCATION, w.written(), out)?;
        if n > MAX_REVOCATION_LEN {
            return Err(Error::Oversize);
        }
        Ok(n)
    }

    /// Decode a signed list and verify it against `issuer` (kid must match too).
    pub fn open<C: Crypto + ?Sized>(
        crypto: &C,
        bytes: &[u8],
        issuer: &PublicKey,
    ) -> Result<Self, Error> {
        if bytes.len() > MAX_REVOCATION_LEN {
            return Err(Error::Oversize);
        }
        let env = Sign1::decode(bytes)?;
        let list = RevocationList::decode(env.payload)?;
        open_signed(crypto, &env, cose::AAD_REVOCATION, issuer)?;
        Ok(list)
    }
}

/// Check the envelope's kid names `key` and its signature verifies under `aad`.
pub(crate) fn open_signed<C: Crypto + ?Sized>(
    crypto: &C,
    env: &Sign1<'_>,
    aad: &[u8],
    key: &PublicKey,
) -> Result<(), Error> {
    if env.kid != crate::crypto::kid8(crypto, key) {
        return Err(Error::Crypto);
    }
    env.verify(crypto, aad, key)
}
