//! Fixtures: fixed keys, ids and times shared by every test module.

use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::credential::{self, Claims, Window};
use latchkey_protocol::crypto::{Crypto, LocalSigner, PublicKey, SecretScalar, Signer, kid8};
use latchkey_protocol::ids::{Id16, Kid8};
use latchkey_protocol::revocation::RevocationList;

/// A scalar `0x..KK` repeated: valid P-256 private keys for small `k`.
pub fn scalar(k: u8) -> SecretScalar {
    let mut b = [k; 32];
    b[0] = 0x01;
    SecretScalar::from_bytes(b)
}

pub const ISSUER: u8 = 0x11;
pub const LOCK: u8 = 0x22;
pub const HOLDER: u8 = 0x33;
pub const TIME_CMD: u8 = 0x44;
pub const CLOUD_LOG: u8 = 0x55;
pub const ACK: u8 = 0x66;
pub const PHONE_EPH: u8 = 0x77;
pub const LOCK_EPH: u8 = 0x88;
pub const OTHER: u8 = 0x99;

pub const SITE: Id16 = [0x5a; 16];
pub const LOCK_ID: Id16 = [0x1c; 16];
pub const OTHER_LOCK_ID: Id16 = [0x2c; 16];
pub const CID: Id16 = [0xc1; 16];
/// 2026-11-29T00:00:00Z.
pub const NOW: u32 = 1_795_910_400;
pub const DAY: u32 = 86_400;

pub fn signer<C: Crypto>(c: &C, k: u8) -> LocalSigner<'_, C> {
    LocalSigner::new(c, scalar(k)).unwrap()
}

pub fn public<C: Crypto>(c: &C, k: u8) -> PublicKey {
    c.public_key(&scalar(k)).unwrap()
}

pub fn kid<C: Crypto>(c: &C, k: u8) -> Kid8 {
    kid8(c, &public(c, k))
}

/// The credential every test starts from: unlock+lock rights at LOCK_ID, valid NOW-1d..NOW+6d.
pub fn claims<C: Crypto>(c: &C) -> Claims {
    Claims {
        cid: CID,
        site: SITE,
        locks: Bounded::from_slice(&[LOCK_ID]).unwrap(),
        uid: 4242,
        holder: public(c, HOLDER),
        iat: NOW - DAY,
        nbf: NOW - DAY,
        exp: NOW + 6 * DAY,
        epoch: 7,
        rights: 0b11,
        user_type: 0,
        windows: Bounded::from_slice(&[Window {
            start: NOW - DAY,
            end: NOW + DAY,
        }])
        .unwrap(),
        max_uses: None,
        flags: 0,
    }
}

pub fn issue<C: Crypto>(c: &C, claims: &Claims, issuer: &dyn Signer) -> Vec<u8> {
    let mut buf = [0u8; credential::MAX_CREDENTIAL_LEN];
    let n = credential::issue(c, issuer, claims, &mut buf).unwrap();
    buf[..n].to_vec()
}

pub fn revocation_list(version: u32) -> RevocationList {
    use latchkey_protocol::revocation::{DenyEntry, UserFloor};
    RevocationList {
        site: SITE,
        version,
        iat: NOW - 3600,
        min_epoch: 5,
        deny: Bounded::from_slice(&[
            DenyEntry {
                cid8: [0x0d; 8],
                exp: NOW + DAY,
            },
            DenyEntry {
                cid8: [0xd0; 8],
                exp: NOW + 2 * DAY,
            },
        ])
        .unwrap(),
        floors: Bounded::from_slice(&[UserFloor {
            uid: 77,
            min_iat: NOW - 10,
        }])
        .unwrap(),
        next_update: Some(NOW + DAY),
    }
}

pub fn sign_list<C: Crypto>(c: &C, list: &RevocationList, issuer: &dyn Signer) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let n = list.sign(c, issuer, &mut buf).unwrap();
    buf[..n].to_vec()
}

pub fn hex(b: &[u8]) -> String {
    ::hex::encode(b)
}

pub fn unhex(s: &str) -> Vec<u8> {
    ::hex::decode(s).unwrap()
}
