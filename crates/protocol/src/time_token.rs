//! Signed time token: COSE_Sign1 (time/command key, `external_aad = "lk/time/v1"`) over
//! `{1 lock_id bstr16, 2 nonce_L bstr16, 3 utc_ms u64}`.
//!
//! Bound to the lock's M2 nonce so it is good for one session only (research §6.5: Tedee's
//! nonce-less signed time can be replayed to roll a clock back).

use crate::cbor::{Reader, Writer};
use crate::cose::{self, Sign1};
use crate::crypto::{Crypto, PublicKey, Signer};
use crate::error::Error;
use crate::ids::Id16;
use crate::revocation::open_signed;

/// Largest encoded time token.
pub const MAX_TIME_TOKEN_LEN: usize = 160;

/// Decoded time token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeToken {
    /// The lock this time is for.
    pub lock_id: Id16,
    /// The lock's nonce from M2 of the session that asked.
    pub nonce: [u8; 16],
    /// UTC milliseconds.
    pub utc_ms: u64,
}

impl TimeToken {
    /// Encode the payload map.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.map(3)?;
        w.uint(1)?;
        w.bytes(&self.lock_id)?;
        w.uint(2)?;
        w.bytes(&self.nonce)?;
        w.uint(3)?;
        w.uint(self.utc_ms)
    }

    /// Strictly decode the payload map.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let mut keys = r.map(8)?;
        let (mut lock_id, mut nonce, mut utc_ms) = (None, None, None);
        while let Some(k) = keys.next(&mut r)? {
            match k {
                1 => lock_id = Some(r.bytes_exact::<16>()?),
                2 => nonce = Some(r.bytes_exact::<16>()?),
                3 => utc_ms = Some(r.uint()?),
                other => r.skip_unknown(other)?,
            }
        }
        r.finish()?;
        Ok(TimeToken {
            lock_id: lock_id.ok_or(Error::MissingKey)?,
            nonce: nonce.ok_or(Error::MissingKey)?,
            utc_ms: utc_ms.ok_or(Error::MissingKey)?,
        })
    }

    /// UTC seconds (the lock's clock resolution).
    pub fn utc_secs(&self) -> u32 {
        u32::try_from(self.utc_ms / 1000).unwrap_or(u32::MAX)
    }

    /// Sign and write as COSE_Sign1.
    pub fn sign<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        key: &dyn Signer,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        self.encode(&mut w)?;
        cose::sign(crypto, key, cose::AAD_TIME, w.written(), out)
    }

    /// Decode and verify against the time key; binding to lock and nonce is checked by
    /// [`crate::checks::check_time_token`].
    pub fn open<C: Crypto + ?Sized>(
        crypto: &C,
        bytes: &[u8],
        key: &PublicKey,
    ) -> Result<Self, Error> {
        if bytes.len() > MAX_TIME_TOKEN_LEN {
            return Err(Error::Oversize);
        }
        let env = Sign1::decode(bytes)?;
        let token = TimeToken::decode(env.payload)?;
        open_signed(crypto, &env, cose::AAD_TIME, key)?;
        Ok(token)
    }
}
