//! The phone's wallet: credentials, lock directory, and courier cargo.

use latchkey_protocol::credential::{Claims, Credential};
use latchkey_protocol::crypto::PublicKey;
use latchkey_protocol::error::Error;
use latchkey_protocol::ids::Id16;
use std::collections::{BTreeMap, BTreeSet};
use std::vec::Vec;

/// One credential as issued, with its decoded claims.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    /// The COSE bytes, sent in M3 on first use at a lock.
    pub bytes: Vec<u8>,
    /// Decoded claims (the phone trusts its own server; the lock verifies).
    pub claims: Claims,
    /// Locks believed to hold this credential in their verified cache (fast path).
    pub cached_at: BTreeSet<Id16>,
}

/// A sealed log batch picked up from a lock, waiting for upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedBatch {
    /// The lock it came from.
    pub lock_id: Id16,
    /// The sealed bytes (opaque to the phone).
    pub bytes: Vec<u8>,
}

/// Everything the phone holds for offline unlocks and courier duty.
#[derive(Debug, Default, Clone)]
pub struct Wallet {
    credentials: Vec<StoredCredential>,
    locks: BTreeMap<Id16, PublicKey>,
    revocation: Option<(u32, Vec<u8>)>,
    acks: BTreeMap<Id16, Vec<u8>>,
    outbox: Vec<CarriedBatch>,
}

impl Wallet {
    /// Empty wallet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Store a credential received from the server (replaces one with the same id).
    pub fn add_credential(&mut self, bytes: Vec<u8>) -> Result<(), Error> {
        let (_, claims) = Credential::decode(&bytes)?;
        self.credentials.retain(|c| c.claims.cid != claims.cid);
        self.credentials.push(StoredCredential {
            bytes,
            claims,
            cached_at: BTreeSet::new(),
        });
        Ok(())
    }

    /// Register a lock's identity key from the site's lock directory.
    pub fn add_lock(&mut self, lock_id: Id16, identity: PublicKey) {
        self.locks.insert(lock_id, identity);
    }

    /// The identity key of `lock_id`, if the site listed it.
    pub fn lock_key(&self, lock_id: &Id16) -> Option<PublicKey> {
        self.locks.get(lock_id).copied()
    }

    /// Keep the newest revocation list seen (from the server or another courier).
    pub fn offer_revocation(&mut self, version: u32, bytes: Vec<u8>) {
        if self.revocation.as_ref().is_none_or(|(v, _)| version > *v) {
            self.revocation = Some((version, bytes));
        }
    }

    /// The newest list, if it is newer than `lock_version`.
    pub fn revocation_newer_than(&self, lock_version: u32) -> Option<&[u8]> {
        self.revocation
            .as_ref()
            .filter(|(v, _)| *v > lock_version)
            .map(|(_, b)| b.as_slice())
    }

    /// Carry a server ack to `lock_id` at the next visit.
    pub fn offer_ack(&mut self, lock_id: Id16, bytes: Vec<u8>) {
        self.acks.insert(lock_id, bytes);
    }

    pub(crate) fn ack_for(&self, lock_id: &Id16) -> Option<&[u8]> {
        self.acks.get(lock_id).map(Vec::as_slice)
    }

    pub(crate) fn ack_delivered(&mut self, lock_id: &Id16) {
        self.acks.remove(lock_id);
    }

    /// A valid credential for `lock_id` at `now` with the right for `right_bit`.
    pub(crate) fn credential_for(
        &self,
        site_lock: &Id16,
        now: u32,
        right_bit: u16,
    ) -> Option<usize> {
        self.credentials.iter().position(|c| {
            c.claims.covers_lock(site_lock)
                && c.claims.rights & right_bit != 0
                && c.claims.nbf <= now.saturating_add(300)
                && now <= c.claims.exp.saturating_add(300)
        })
    }

    pub(crate) fn credential(&self, index: usize) -> Option<&StoredCredential> {
        self.credentials.get(index)
    }

    pub(crate) fn set_cached(&mut self, index: usize, lock_id: Id16, cached: bool) {
        if let Some(c) = self.credentials.get_mut(index) {
            if cached {
                c.cached_at.insert(lock_id);
            } else {
                c.cached_at.remove(&lock_id);
            }
        }
    }

    pub(crate) fn carry(&mut self, batch: CarriedBatch) {
        if !self.outbox.contains(&batch) {
            self.outbox.push(batch);
        }
    }

    /// Hand collected batches to the server (on the next connection).
    pub fn take_batches(&mut self) -> Vec<CarriedBatch> {
        std::mem::take(&mut self.outbox)
    }
}
