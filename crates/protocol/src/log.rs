//! Event log: fixed 32-byte records in a hash chain, sealed batches with a lock-signed
//! checkpoint, and the server-signed acknowledgement (research §6.6).
//!
//! Couriers (phones, hubs) carry batches blind: the batch is AES-128-GCM sealed under the
//! lock↔cloud key (LCK), so they cannot read it; the chain and the checkpoint signature mean they
//! cannot forge, alter or reorder it; a dropped batch shows as a chain break at the verifier.

use crate::bounded::{Bounded, Zeroed};
use crate::cbor::{Reader, Writer};
use crate::cose::{self, Sign1};
use crate::crypto::{AeadKey, Crypto, Digest, PublicKey, SecretScalar, Signature, Signer, TAG_LEN};
use crate::error::Error;
use crate::ids::{Cid8, Id16};
use crate::revocation::open_signed;

/// Size of one log record.
pub const RECORD_LEN: usize = 32;
/// Most records in one sealed batch (a batch must fit M4 inside the 1 KiB reassembly cap).
pub const MAX_BATCH_RECORDS: usize = 16;
/// Sealed batch header: version, lock id, batch counter, first seq, count.
pub const BATCH_HEADER_LEN: usize = 1 + 16 + 4 + 4 + 1;
/// Encrypted part besides records: previous chain hash, checkpoint time, checkpoint signature.
const BATCH_TRAILER_LEN: usize = 32 + 4 + 64;
/// Largest sealed batch.
pub const MAX_BATCH_LEN: usize =
    BATCH_HEADER_LEN + MAX_BATCH_RECORDS * RECORD_LEN + BATCH_TRAILER_LEN + TAG_LEN;
/// Largest encoded log ack.
pub const MAX_ACK_LEN: usize = 160;
/// Sealed batch format version.
pub const BATCH_VERSION: u8 = 1;
/// Record flag: the time field came from a trusted clock.
pub const RECORD_TIME_TRUSTED: u8 = 0b1;

/// One fixed-size log record (research §6.6 layout, big-endian).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Record {
    /// Sequence number, unique per lock for its life.
    pub seq: u32,
    /// UTC seconds (lock clock).
    pub time: u32,
    /// `RECORD_*` flags.
    pub flags: u8,
    /// Event kind (Matter event id 0..4; ≥ 0x80 custom).
    pub event: u8,
    /// Operation type.
    pub op: u8,
    /// Operation source (BLE, remote, button…).
    pub source: u8,
    /// Error or alarm code (0 = none).
    pub error: u8,
    /// Credential type.
    pub cred_type: u8,
    /// User index on the lock.
    pub user_index: u16,
    /// Credential id prefix.
    pub cid8: Cid8,
    /// User id.
    pub uid: u32,
    /// Event-specific extra value.
    pub aux: u32,
}

impl Zeroed for Record {
    const ZERO: Self = Record {
        seq: 0,
        time: 0,
        flags: 0,
        event: 0,
        op: 0,
        source: 0,
        error: 0,
        cred_type: 0,
        user_index: 0,
        cid8: [0; 8],
        uid: 0,
        aux: 0,
    };
}

impl Record {
    /// Encode to the fixed 32-byte form.
    pub fn to_bytes(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        let parts: [&[u8]; 12] = [
            &self.seq.to_be_bytes(),
            &self.time.to_be_bytes(),
            &[self.flags],
            &[self.event],
            &[self.op],
            &[self.source],
            &[self.error],
            &[self.cred_type],
            &self.user_index.to_be_bytes(),
            &self.cid8,
            &self.uid.to_be_bytes(),
            &self.aux.to_be_bytes(),
        ];
        let mut it = out.iter_mut();
        for b in parts.iter().flat_map(|p| p.iter()) {
            if let Some(slot) = it.next() {
                *slot = *b;
            }
        }
        out
    }

    /// Decode the fixed 32-byte form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != RECORD_LEN {
            return Err(Error::InvalidValue);
        }
        let mut r = Reader::new(bytes);
        Ok(Record {
            seq: r.be32()?,
            time: r.be32()?,
            flags: r.u8_raw()?,
            event: r.u8_raw()?,
            op: r.u8_raw()?,
            source: r.u8_raw()?,
            error: r.u8_raw()?,
            cred_type: r.u8_raw()?,
            user_index: r.be16()?,
            cid8: r.take_array()?,
            uid: r.be32()?,
            aux: r.be32()?,
        })
    }
}

/// `H_0 = H("lk/log/v1" ‖ lock_id)`: the chain head before the first record.
pub fn chain_genesis<C: Crypto + ?Sized>(crypto: &C, lock_id: &Id16) -> Digest {
    crypto.sha256(&[b"lk/log/v1", lock_id])
}

/// `H_i = H(H_{i-1} ‖ rec_i)`.
pub fn chain_next<C: Crypto + ?Sized>(crypto: &C, prev: &Digest, record: &Record) -> Digest {
    crypto.sha256(&[prev, &record.to_bytes()])
}

/// LCK: `HKDF(salt = lock_id, IKM = ECDH(LIK, cloud log key), info = "lk lck v1")`, 16 bytes.
/// Computed by the lock with its identity scalar and by the server with the log key's scalar.
pub fn derive_log_key<C: Crypto + ?Sized>(
    crypto: &C,
    own: &SecretScalar,
    peer: &PublicKey,
    lock_id: &Id16,
) -> Result<AeadKey, Error> {
    let shared = crypto.ecdh(own, peer)?;
    let prk = crypto.hkdf_extract(lock_id, &shared.0);
    let mut key = [0u8; 16];
    crypto.hkdf_expand(&prk, &[b"lk lck v1"], &mut key)?;
    Ok(key)
}

/// What the checkpoint signature covers: `"lk/ckpt/v1" ‖ lock_id ‖ to_seq ‖ H_to ‖ time`.
fn checkpoint_message(
    lock_id: &Id16,
    to_seq: u32,
    head: &Digest,
    time: u32,
) -> [u8; 10 + 16 + 4 + 32 + 4] {
    let mut m = [0u8; 66];
    let mut w = Writer::new(&mut m);
    // Writes into an exactly sized buffer cannot fail; ignore the Ok.
    let _ = w
        .raw(b"lk/ckpt/v1")
        .and_then(|_| w.raw(lock_id))
        .and_then(|_| w.be32(to_seq));
    let _ = w.raw(head).and_then(|_| w.be32(time));
    m
}

/// AEAD nonce of a batch: `batch_ctr ‖ from_seq ‖ count` (all be32). The lock must never reuse
/// a batch counter (it persists it like the sequence ceiling), so nonces never repeat under LCK.
fn batch_nonce(batch_ctr: u32, from_seq: u32, count: u8) -> [u8; 12] {
    let mut n = [0u8; 12];
    let mut w = Writer::new(&mut n);
    let _ = w
        .be32(batch_ctr)
        .and_then(|_| w.be32(from_seq))
        .and_then(|_| w.be32(u32::from(count)));
    n
}

/// Inputs for sealing one batch on the lock.
pub struct BatchInput<'a> {
    /// The lock.
    pub lock_id: Id16,
    /// Never-repeating batch counter.
    pub batch_ctr: u32,
    /// Chain head before the first record of this batch.
    pub prev_head: Digest,
    /// Records, consecutive in the chain, ascending `seq`.
    pub records: &'a [Record],
    /// Checkpoint time (lock clock, UTC s).
    pub time: u32,
}

/// Seal a batch: `header ‖ AEAD_LCK(prev_head ‖ records ‖ time ‖ Sig_LIK(checkpoint)) ‖ tag`.
pub fn seal_batch<C: Crypto + ?Sized>(
    crypto: &C,
    lock_key: &dyn Signer,
    log_key: &AeadKey,
    input: &BatchInput<'_>,
    out: &mut [u8],
) -> Result<usize, Error> {
    let count = u8::try_from(input.records.len()).map_err(|_| Error::Oversize)?;
    if count == 0 || usize::from(count) > MAX_BATCH_RECORDS {
        return Err(Error::Oversize);
    }
    let mut head = input.prev_head;
    let mut prev_seq = None;
    for rec in input.records {
        if prev_seq.is_some_and(|p| rec.seq <= p) {
            return Err(Error::InvalidValue);
        }
        prev_seq = Some(rec.seq);
        head = chain_next(crypto, &head, rec);
    }
    let from_seq = input
        .records
        .first()
        .map(|r| r.seq)
        .ok_or(Error::InvalidValue)?;
    let to_seq = prev_seq.ok_or(Error::InvalidValue)?;
    let sig = lock_key.sign(&checkpoint_message(
        &input.lock_id,
        to_seq,
        &head,
        input.time,
    ))?;
    let mut w = Writer::new(out);
    w.byte(BATCH_VERSION)?;
    w.raw(&input.lock_id)?;
    w.be32(input.batch_ctr)?;
    w.be32(from_seq)?;
    w.byte(count)?;
    let body_at = w.len();
    w.raw(&input.prev_head)?;
    for rec in input.records {
        w.raw(&rec.to_bytes())?;
    }
    w.be32(input.time)?;
    w.raw(&sig)?;
    let body_end = w.len();
    w.reserve(TAG_LEN)?;
    let total = w.len();
    let (header, rest) = out.split_at_mut(body_at);
    let (body, tag_slot) = rest.split_at_mut(body_end - body_at);
    let tag = crypto.aead_seal(
        log_key,
        &batch_nonce(input.batch_ctr, from_seq, count),
        header,
        body,
    )?;
    tag_slot
        .get_mut(..TAG_LEN)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(&tag);
    Ok(total)
}

/// A batch opened and verified by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedBatch {
    /// The lock.
    pub lock_id: Id16,
    /// Batch counter.
    pub batch_ctr: u32,
    /// Chain head before the first record.
    pub prev_head: Digest,
    /// The records.
    pub records: Bounded<Record, MAX_BATCH_RECORDS>,
    /// Chain head after the last record (signed in the checkpoint).
    pub head: Digest,
    /// Checkpoint time.
    pub time: u32,
}

impl OpenedBatch {
    /// `seq` of the last record.
    pub fn to_seq(&self) -> u32 {
        self.records.as_slice().last().map(|r| r.seq).unwrap_or(0)
    }
}

/// Read only the clear header of a sealed batch: `(lock_id, batch_ctr, from_seq, count)`.
/// Couriers and the server use it to route before decrypting.
pub fn batch_header(bytes: &[u8]) -> Result<(Id16, u32, u32, u8), Error> {
    let mut r = Reader::new(bytes);
    if r.u8_raw()? != BATCH_VERSION {
        return Err(Error::InvalidValue);
    }
    Ok((r.take_array()?, r.be32()?, r.be32()?, r.u8_raw()?))
}

/// Open a sealed batch on the server: decrypt with LCK, recompute the chain, check the
/// checkpoint signature with the lock's identity key. `scratch` must hold the batch.
pub fn open_batch<C: Crypto + ?Sized>(
    crypto: &C,
    lock_public: &PublicKey,
    log_key: &AeadKey,
    bytes: &[u8],
    scratch: &mut [u8],
) -> Result<OpenedBatch, Error> {
    if bytes.len() > MAX_BATCH_LEN {
        return Err(Error::Oversize);
    }
    let (lock_id, batch_ctr, from_seq, count) = batch_header(bytes)?;
    if count == 0 || usize::from(count) > MAX_BATCH_RECORDS {
        return Err(Error::InvalidValue);
    }
    let body_len = usize::from(count) * RECORD_LEN + BATCH_TRAILER_LEN;
    if bytes.len() != BATCH_HEADER_LEN + body_len + TAG_LEN {
        return Err(Error::InvalidValue);
    }
    let (header, rest) = bytes.split_at(BATCH_HEADER_LEN);
    let (body_ct, tag) = rest.split_at(body_len);
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::InvalidValue)?;
    let body = scratch.get_mut(..body_len).ok_or(Error::BufferTooSmall)?;
    body.copy_from_slice(body_ct);
    crypto.aead_open(
        log_key,
        &batch_nonce(batch_ctr, from_seq, count),
        header,
        body,
        &tag,
    )?;
    let mut r = Reader::new(body);
    let prev_head: Digest = r.take_array()?;
    let mut records = Bounded::new();
    let mut head = prev_head;
    let mut expect_min = from_seq;
    for i in 0..count {
        let rec = Record::from_bytes(r.take(RECORD_LEN)?)?;
        // First record carries from_seq; sequence numbers strictly ascend (gaps allowed only
        // where the lock skipped past a persisted ceiling after power loss).
        if (i == 0 && rec.seq != from_seq) || rec.seq < expect_min {
            return Err(Error::InvalidValue);
        }
        expect_min = rec.seq.checked_add(1).ok_or(Error::InvalidValue)?;
        head = chain_next(crypto, &head, &rec);
        records.push(rec)?;
    }
    let time = r.be32()?;
    let sig: Signature = r.take_array()?;
    r.finish()?;
    let to_seq = records
        .as_slice()
        .last()
        .map(|x| x.seq)
        .ok_or(Error::InvalidValue)?;
    crypto.ecdsa_verify(
        lock_public,
        &checkpoint_message(&lock_id, to_seq, &head, time),
        &sig,
    )?;
    Ok(OpenedBatch {
        lock_id,
        batch_ctr,
        prev_head,
        records,
        head,
        time,
    })
}

/// Outcome of appending a verified batch to the server's view of one lock's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainStep {
    /// The batch continues the chain exactly.
    Continues,
    /// Already seen (a courier duplicate): nothing new.
    Duplicate,
    /// The batch does not link to the known head: records were dropped (or reordered) in between.
    Gap {
        /// Last sequence number the verifier had.
        after_seq: u32,
        /// First sequence number of this batch.
        from_seq: u32,
    },
}

/// The server's per-lock chain position: last verified seq and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainCursor {
    /// Last sequence number verified (0 before any).
    pub seq: u32,
    /// Chain head after it.
    pub head: Digest,
}

impl ChainCursor {
    /// A cursor at the genesis of `lock_id`'s chain.
    pub fn genesis<C: Crypto + ?Sized>(crypto: &C, lock_id: &Id16) -> Self {
        ChainCursor {
            seq: 0,
            head: chain_genesis(crypto, lock_id),
        }
    }

    /// Classify a verified batch against this cursor and advance on `Continues` or `Gap`.
    pub fn advance(&mut self, batch: &OpenedBatch) -> ChainStep {
        let from_seq = batch.records.as_slice().first().map(|r| r.seq).unwrap_or(0);
        if batch.to_seq() <= self.seq {
            return ChainStep::Duplicate;
        }
        let step = if batch.prev_head == self.head {
            ChainStep::Continues
        } else {
            ChainStep::Gap {
                after_seq: self.seq,
                from_seq,
            }
        };
        self.seq = batch.to_seq();
        self.head = batch.head;
        step
    }
}

/// Server acknowledgement: COSE_Sign1 (cloud key, `external_aad = "lk/ack/v1"`) over
/// `{1 lock_id bstr16, 2 acked_seq u32, 3 head bstr32}`; the lock frees records ≤ `acked_seq`
/// only if `head` equals its own chain head at that seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogAck {
    /// The lock.
    pub lock_id: Id16,
    /// Highest sequence number stored durably by the server.
    pub acked_seq: u32,
    /// Chain head at `acked_seq`.
    pub head: Digest,
}

impl LogAck {
    /// Encode the payload map.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.map(3)?;
        w.uint(1)?;
        w.bytes(&self.lock_id)?;
        w.uint(2)?;
        w.uint(u64::from(self.acked_seq))?;
        w.uint(3)?;
        w.bytes(&self.head)
    }

    /// Strictly decode the payload map.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let mut keys = r.map(8)?;
        let (mut lock_id, mut acked_seq, mut head) = (None, None, None);
        while let Some(k) = keys.next(&mut r)? {
            match k {
                1 => lock_id = Some(r.bytes_exact::<16>()?),
                2 => acked_seq = Some(r.u32()?),
                3 => head = Some(r.bytes_exact::<32>()?),
                other => r.skip_unknown(other)?,
            }
        }
        r.finish()?;
        Ok(LogAck {
            lock_id: lock_id.ok_or(Error::MissingKey)?,
            acked_seq: acked_seq.ok_or(Error::MissingKey)?,
            head: head.ok_or(Error::MissingKey)?,
        })
    }

    /// Sign and write as COSE_Sign1.
    pub fn sign<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        cloud: &dyn Signer,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let mut buf = [0u8; 96];
        let mut w = Writer::new(&mut buf);
        self.encode(&mut w)?;
        cose::sign(crypto, cloud, cose::AAD_LOG_ACK, w.written(), out)
    }

    /// Decode and verify against the cloud key.
    pub fn open<C: Crypto + ?Sized>(
        crypto: &C,
        bytes: &[u8],
        cloud: &PublicKey,
    ) -> Result<Self, Error> {
        if bytes.len() > MAX_ACK_LEN {
            return Err(Error::Oversize);
        }
        let env = Sign1::decode(bytes)?;
        let ack = LogAck::decode(env.payload)?;
        open_signed(crypto, &env, cose::AAD_LOG_ACK, cloud)?;
        Ok(ack)
    }
}
