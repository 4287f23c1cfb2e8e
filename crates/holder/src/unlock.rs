//! The initiator side of one unlock: M1 out, M2 in → M3 out, M4 in. Transport-agnostic.

use crate::wallet::{CarriedBatch, Wallet};
use latchkey_protocol::checks::Refusal;
use latchkey_protocol::crypto::{Crypto, Signer};
use latchkey_protocol::error::Error;
use latchkey_protocol::framing::MAX_MESSAGE_LEN;
use latchkey_protocol::handshake::{
    self, Command, CredentialRef, EphemeralKeyPair, M3Request, PhoneHello, PhoneSession,
};
use latchkey_protocol::ids::{Id16, Operation};
use std::vec::Vec;

/// Where nonce-bound time tokens come from when a lock reports untrusted time (the server,
/// online). Offline phones return `None`.
pub trait TimeSource {
    /// A token for `lock_id` bound to the lock's M2 nonce.
    fn time_token(&mut self, lock_id: &Id16, nonce: &[u8; 16]) -> Option<Vec<u8>>;
}

/// No network: no time tokens.
#[derive(Debug, Default, Clone, Copy)]
pub struct Offline;

impl TimeSource for Offline {
    fn time_token(&mut self, _: &Id16, _: &[u8; 16]) -> Option<Vec<u8>> {
        None
    }
}

/// Why an attempt stopped on the phone side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockError {
    /// Message invalid, lock not authenticated, or out of order.
    Protocol(Error),
    /// The lock is not in this phone's lock directory (a fake lock, or another site's).
    UnknownLock,
    /// No credential in the wallet covers this lock and operation now.
    NoCredential,
}

impl From<Error> for UnlockError {
    fn from(e: Error) -> Self {
        UnlockError::Protocol(e)
    }
}

/// The lock's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// 0 = done, else a refusal code.
    pub result: u8,
    /// Log sequence number of the attempt.
    pub event_seq: u32,
    /// Bolt state reported by the lock.
    pub lock_state: u8,
}

impl Outcome {
    /// True if the command ran.
    pub fn granted(&self) -> bool {
        self.result == 0
    }
}

enum Stage {
    Hello(PhoneHello),
    Sent {
        session: PhoneSession,
        lock_id: Id16,
        credential: usize,
        cached: bool,
        ack: bool,
    },
    Done,
}

/// One unlock attempt.
pub struct Attempt {
    stage: Stage,
    command: Command,
    now: u32,
}

impl Attempt {
    /// Begin: returns the attempt and M1. `now` is the phone's clock (UTC s), used only to pick
    /// a credential that is currently valid.
    pub fn start(
        ephemeral: EphemeralKeyPair,
        nonce: [u8; 16],
        op: Operation,
        cmd_id: u32,
        now: u32,
    ) -> Result<(Self, Vec<u8>), UnlockError> {
        let hello = handshake::initiate(ephemeral, nonce, 0)?;
        let m1 = hello.m1().to_vec();
        Ok((
            Attempt {
                stage: Stage::Hello(hello),
                command: Command {
                    op,
                    param: 0,
                    cmd_id,
                },
                now,
            },
            m1,
        ))
    }

    /// Authenticate the lock from M2 and build M3: the credential (or its id when the lock has
    /// it cached), plus — courier duty — a newer revocation list, a time token if the lock's time
    /// is untrusted, and a pending server ack for this lock.
    pub fn on_m2<C: Crypto + ?Sized>(
        &mut self,
        crypto: &C,
        wallet: &Wallet,
        holder: &dyn Signer,
        time: &mut dyn TimeSource,
        m2: &[u8],
    ) -> Result<Vec<u8>, UnlockError> {
        let Stage::Hello(hello) = std::mem::replace(&mut self.stage, Stage::Done) else {
            return Err(UnlockError::Protocol(Error::Replay));
        };
        let mut known = true;
        let result = hello.on_m2(crypto, m2, |id| {
            let k = wallet.lock_key(id);
            known = k.is_some();
            k
        });
        let mut session = match result {
            Ok(s) => s,
            Err(_) if !known => return Err(UnlockError::UnknownLock),
            Err(e) => return Err(UnlockError::Protocol(e)),
        };
        let lock = *session.lock();
        let index = wallet
            .credential_for(&lock.lock_id, self.now, self.command.op.right_bit())
            .ok_or(UnlockError::NoCredential)?;
        let stored = wallet.credential(index).ok_or(UnlockError::NoCredential)?;
        let cached = stored.cached_at.contains(&lock.lock_id);
        let token = if lock.status & handshake::STATUS_TIME_TRUSTED == 0 {
            time.time_token(&lock.lock_id, &lock.nonce)
        } else {
            None
        };
        let ack = wallet.ack_for(&lock.lock_id);
        let req = M3Request {
            credential: if cached {
                CredentialRef::Cached(stored.claims.cid)
            } else {
                CredentialRef::Full(&stored.bytes)
            },
            cid: stored.claims.cid,
            command: self.command,
            revocation: wallet.revocation_newer_than(lock.rev_ver),
            time_token: token.as_deref(),
            log_ack: ack,
        };
        let mut out = [0u8; MAX_MESSAGE_LEN];
        let n = session.seal_m3(crypto, holder, &req, &mut out)?;
        let m3 = out.get(..n).ok_or(Error::BufferTooSmall)?.to_vec();
        let ack = ack.is_some();
        self.stage = Stage::Sent {
            session,
            lock_id: lock.lock_id,
            credential: index,
            cached,
            ack,
        };
        Ok(m3)
    }

    /// Read M4: record the result, keep any sealed batch for upload, and update what the phone
    /// believes about the lock's cache and the ack it carried.
    pub fn on_m4<C: Crypto + ?Sized>(
        &mut self,
        crypto: &C,
        wallet: &mut Wallet,
        m4: &[u8],
    ) -> Result<Outcome, UnlockError> {
        let Stage::Sent {
            mut session,
            lock_id,
            credential,
            cached,
            ack,
        } = std::mem::replace(&mut self.stage, Stage::Done)
        else {
            return Err(UnlockError::Protocol(Error::Replay));
        };
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let m4 = session.open_m4(crypto, m4, &mut buf)?;
        if let Some(batch) = m4.batch {
            wallet.carry(CarriedBatch {
                lock_id,
                bytes: batch.to_vec(),
            });
        }
        if m4.result == 0 {
            wallet.set_cached(credential, lock_id, true);
        } else if m4.result == Refusal::NotCached.code() && cached {
            wallet.set_cached(credential, lock_id, false);
        }
        // Delivered (or refused as not matching this lock's chain): either way, drop it.
        if ack && (m4.result == 0 || m4.result == Refusal::AckMismatch.code()) {
            wallet.ack_delivered(&lock_id);
        }
        Ok(Outcome {
            result: m4.result,
            event_seq: m4.event_seq,
            lock_state: m4.lock_state,
        })
    }
}
