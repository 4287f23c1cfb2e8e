//! Remote command via a hub: COSE_Sign1 (time/command key, `external_aad = "lk/cmd/v1"`) over
//! `{1 lock_id bstr16, 2 counter u32, 3 op u8, 4 not_after u32, 5 requester uid u32}`.
//!
//! The hub is an untrusted relay (research §6.8): the server signs, the lock enforces a strictly
//! increasing counter and `not_after ≤ now + 30 s`.

use crate::cbor::{Reader, Writer};
use crate::cose::{self, Sign1};
use crate::crypto::{Crypto, PublicKey, Signer};
use crate::error::Error;
use crate::ids::{Id16, Operation};
use crate::revocation::open_signed;

/// Largest encoded remote command (also the MQTT payload cap for `.../cmd`).
pub const MAX_REMOTE_COMMAND_LEN: usize = 160;

/// Decoded remote command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteCommand {
    /// Target lock.
    pub lock_id: Id16,
    /// Strictly increasing per lock.
    pub counter: u32,
    /// Operation.
    pub op: Operation,
    /// Last second (UTC) the command may run.
    pub not_after: u32,
    /// The user on whose behalf the server issued it.
    pub requester: u32,
}

impl RemoteCommand {
    /// Encode the payload map.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.map(5)?;
        w.uint(1)?;
        w.bytes(&self.lock_id)?;
        for (k, v) in [
            (2u64, self.counter),
            (3, u32::from(self.op as u8)),
            (4, self.not_after),
            (5, self.requester),
        ] {
            w.uint(k)?;
            w.uint(u64::from(v))?;
        }
        Ok(())
    }

    /// Strictly decode the payload map.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let mut keys = r.map(8)?;
        let (mut lock_id, mut counter, mut op, mut not_after, mut requester) =
            (None, None, None, None, None);
        while let Some(k) = keys.next(&mut r)? {
            match k {
                1 => lock_id = Some(r.bytes_exact::<16>()?),
                2 => counter = Some(r.u32()?),
                3 => op = Some(Operation::from_u8(r.u8()?).ok_or(Error::InvalidValue)?),
                4 => not_after = Some(r.u32()?),
                5 => requester = Some(r.u32()?),
                other => r.skip_unknown(other)?,
            }
        }
        r.finish()?;
        Ok(RemoteCommand {
            lock_id: lock_id.ok_or(Error::MissingKey)?,
            counter: counter.ok_or(Error::MissingKey)?,
            op: op.ok_or(Error::MissingKey)?,
            not_after: not_after.ok_or(Error::MissingKey)?,
            requester: requester.ok_or(Error::MissingKey)?,
        })
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
        cose::sign(crypto, key, cose::AAD_COMMAND, w.written(), out)
    }

    /// Decode and verify against the command key; counter and expiry are checked by
    /// [`crate::checks::check_remote_command`].
    pub fn open<C: Crypto + ?Sized>(
        crypto: &C,
        bytes: &[u8],
        key: &PublicKey,
    ) -> Result<Self, Error> {
        if bytes.len() > MAX_REMOTE_COMMAND_LEN {
            return Err(Error::Oversize);
        }
        let env = Sign1::decode(bytes)?;
        let cmd = RemoteCommand::decode(env.payload)?;
        open_signed(crypto, &env, cose::AAD_COMMAND, key)?;
        Ok(cmd)
    }
}
