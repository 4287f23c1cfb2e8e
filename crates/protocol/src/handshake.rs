//! Phone↔lock handshake M1–M4 (research §6.3), transcript hashing and the key schedule.
//!
//! ```text
//! M1 P→L  01 | versions(1) | flags(1) | ePK_P(33) | nonce_P(16)                       = 52 B
//! M2 L→P  02 | ver(1) | ePK_L(33) | nonce_L(16) | lock_id(16) | rev_ver(4) | lock_time(4)
//!            | status(1) | cfg_ver(2)                                                 = 78 B clear
//!            ‖ AEAD_{k_L2P, ctr 0}(aad = M2 clear; Sig_LIK("lk/hs/v1/lock" ‖ TH2)) = +80 B
//! M3 P→L  03 ‖ AEAD_{k_P2L, ctr 0}(aad = 03; M3 body: credential, holder sig, command,
//!            optional revocation list, time token and log ack)
//! M4 L→P  04 ‖ AEAD_{k_L2P, ctr 1}(aad = 04; M4 body)
//! TH2 = H("lk/hs/v1" ‖ M1 ‖ M2 clear);  PRK = HKDF-Extract(TH2, ECDH(e_L, e_P))
//! k‖iv (28 B) = HKDF-Expand(PRK, "lk p2l" | "lk l2p");  nonce_n = iv XOR (0⁸ ‖ be32 n)
//! TH3 = H("lk/hs/v1/holder" ‖ TH2 ‖ M2 encrypted part ‖ cid ‖ command)
//! ```
//! The lock signs first, so a fake lock learns nothing and the credential is never in clear.
//! The version bitmap and choice are inside TH2 and the lock's signature (downgrade binding).
//! Deviation from the research sketch: M1 carries no `cidHash8` — a static per-credential tag in
//! clear would let a passive listener track a holder; the fast path is chosen inside M3.

use crate::cbor::{Reader, Writer};
use crate::credential::MAX_CREDENTIAL_LEN;
use crate::crypto::{
    AeadKey, AeadNonce, Crypto, Digest, PublicKey, SecretScalar, Signature, Signer, TAG_LEN,
};
use crate::error::Error;
use crate::framing::MAX_MESSAGE_LEN;
use crate::ids::{Id16, Operation};
use crate::log::{MAX_ACK_LEN, MAX_BATCH_LEN};
use crate::revocation::MAX_REVOCATION_LEN;
use crate::time_token::MAX_TIME_TOKEN_LEN;
use zeroize::Zeroize;

/// Protocol version 1.
pub const VERSION_V1: u8 = 1;
/// Versions this build speaks, as the M1 bitmap (bit `v-1` for version `v`).
pub const SUPPORTED_VERSIONS: u8 = 1 << (VERSION_V1 - 1);
/// M1 message type.
pub const MSG_M1: u8 = 1;
/// M2 message type.
pub const MSG_M2: u8 = 2;
/// M3 message type.
pub const MSG_M3: u8 = 3;
/// M4 message type.
pub const MSG_M4: u8 = 4;
/// M1 length.
pub const M1_LEN: usize = 52;
/// Clear part of M2.
pub const M2_CLEAR_LEN: usize = 78;
/// Encrypted part of M2 (signature + tag).
pub const M2_SEALED_LEN: usize = 64 + TAG_LEN;
/// M2 length.
pub const M2_LEN: usize = M2_CLEAR_LEN + M2_SEALED_LEN;
/// M1 flag: the phone intends the fast path (it holds a cached credential). A hint only.
pub const M1_FLAG_FAST: u8 = 0b1;
/// M2 status: the lock's clock is trusted.
pub const STATUS_TIME_TRUSTED: u8 = 0b0001;
/// M2 status: sealed log batches are waiting for a courier.
pub const STATUS_LOG_PENDING: u8 = 0b0010;
/// M2 status: the lock wants a newer revocation list (staleness bound reached).
pub const STATUS_WANT_REVOCATION: u8 = 0b0100;
/// M2 status: battery low.
pub const STATUS_LOW_BATTERY: u8 = 0b1000;
const KNOWN_STATUS: u8 = 0b1111;
/// M3 kind: full credential.
const M3_FULL: u8 = 0;
/// M3 kind: cached credential, id only.
const M3_CACHED: u8 = 1;

const LABEL_TH2: &[u8] = b"lk/hs/v1";
const LABEL_LOCK_SIG: &[u8] = b"lk/hs/v1/lock";
const LABEL_TH3: &[u8] = b"lk/hs/v1/holder";

fn is_compressed_point(p: &PublicKey) -> bool {
    matches!(p.first(), Some(0x02 | 0x03))
}

/// M1: the phone's hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct M1 {
    /// Versions the phone speaks (bitmap).
    pub versions: u8,
    /// `M1_FLAG_*`.
    pub flags: u8,
    /// Phone ephemeral public key.
    pub ephemeral: PublicKey,
    /// Phone nonce.
    pub nonce: [u8; 16],
}

impl M1 {
    /// Encode to the fixed 52-byte form.
    pub fn encode(&self) -> Result<[u8; M1_LEN], Error> {
        let mut out = [0u8; M1_LEN];
        let mut w = Writer::new(&mut out);
        w.byte(MSG_M1)?;
        w.byte(self.versions)?;
        w.byte(self.flags)?;
        w.raw(&self.ephemeral)?;
        w.raw(&self.nonce)?;
        Ok(out)
    }

    /// Strictly decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != M1_LEN {
            return Err(if bytes.len() > M1_LEN {
                Error::TrailingBytes
            } else {
                Error::Truncated
            });
        }
        let mut r = Reader::new(bytes);
        if r.u8_raw()? != MSG_M1 {
            return Err(Error::UnexpectedType);
        }
        let m = M1 {
            versions: r.u8_raw()?,
            flags: r.u8_raw()?,
            ephemeral: r.take_array()?,
            nonce: r.take_array()?,
        };
        if m.versions == 0 || m.flags & !M1_FLAG_FAST != 0 || !is_compressed_point(&m.ephemeral) {
            return Err(Error::InvalidValue);
        }
        Ok(m)
    }
}

/// Clear part of M2: the lock's hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct M2Clear {
    /// Chosen version.
    pub version: u8,
    /// Lock ephemeral public key.
    pub ephemeral: PublicKey,
    /// Lock nonce (time tokens bind to it).
    pub nonce: [u8; 16],
    /// Lock id.
    pub lock_id: Id16,
    /// Version of the revocation list the lock holds (0 = none).
    pub rev_ver: u32,
    /// Lock's current time (UTC s).
    pub lock_time: u32,
    /// `STATUS_*` bits.
    pub status: u8,
    /// Configuration version.
    pub cfg_ver: u16,
}

impl M2Clear {
    /// Encode to the fixed 78-byte form.
    pub fn encode(&self) -> Result<[u8; M2_CLEAR_LEN], Error> {
        let mut out = [0u8; M2_CLEAR_LEN];
        let mut w = Writer::new(&mut out);
        w.byte(MSG_M2)?;
        w.byte(self.version)?;
        w.raw(&self.ephemeral)?;
        w.raw(&self.nonce)?;
        w.raw(&self.lock_id)?;
        w.be32(self.rev_ver)?;
        w.be32(self.lock_time)?;
        w.byte(self.status)?;
        w.be16(self.cfg_ver)?;
        Ok(out)
    }

    /// Strictly decode the clear part (exactly 78 bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != M2_CLEAR_LEN {
            return Err(Error::InvalidValue);
        }
        let mut r = Reader::new(bytes);
        if r.u8_raw()? != MSG_M2 {
            return Err(Error::UnexpectedType);
        }
        let m = M2Clear {
            version: r.u8_raw()?,
            ephemeral: r.take_array()?,
            nonce: r.take_array()?,
            lock_id: r.take_array()?,
            rev_ver: r.be32()?,
            lock_time: r.be32()?,
            status: r.u8_raw()?,
            cfg_ver: r.be16()?,
        };
        if m.status & !KNOWN_STATUS != 0 || !is_compressed_point(&m.ephemeral) {
            return Err(Error::InvalidValue);
        }
        Ok(m)
    }
}

/// The command the holder asks for; covered by the holder signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    /// Operation.
    pub op: Operation,
    /// Operation parameter (0 if none).
    pub param: u8,
    /// Phone-chosen id echoed in the log.
    pub cmd_id: u32,
}

impl Command {
    /// Six-byte wire form `op | param | cmd_id(be32)`.
    pub fn to_bytes(&self) -> [u8; 6] {
        let id = self.cmd_id.to_be_bytes();
        let [a, b, c, d] = id;
        [self.op as u8, self.param, a, b, c, d]
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        let op = Operation::from_u8(r.u8_raw()?).ok_or(Error::InvalidValue)?;
        Ok(Command {
            op,
            param: r.u8_raw()?,
            cmd_id: r.be32()?,
        })
    }
}

/// Keys of one session direction.
#[derive(Clone)]
struct DirectionKey {
    key: AeadKey,
    iv: AeadNonce,
}

impl Drop for DirectionKey {
    fn drop(&mut self) {
        self.key.zeroize();
        self.iv.zeroize();
    }
}

impl DirectionKey {
    fn nonce(&self, ctr: u32) -> AeadNonce {
        let mut n = self.iv;
        for (b, c) in n.iter_mut().skip(8).zip(ctr.to_be_bytes()) {
            *b ^= c;
        }
        n
    }
}

/// Session secrets derived from the ephemeral ECDH and TH2.
#[derive(Clone)]
pub struct SessionKeys {
    th2: Digest,
    p2l: DirectionKey,
    l2p: DirectionKey,
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("th2", &self.th2)
            .finish_non_exhaustive()
    }
}

impl SessionKeys {
    /// TH2.
    pub fn th2(&self) -> &Digest {
        &self.th2
    }

    /// Phone→lock key and IV (exposed for known-answer vectors).
    pub fn p2l(&self) -> (&AeadKey, &AeadNonce) {
        (&self.p2l.key, &self.p2l.iv)
    }

    /// Lock→phone key and IV (exposed for known-answer vectors).
    pub fn l2p(&self) -> (&AeadKey, &AeadNonce) {
        (&self.l2p.key, &self.l2p.iv)
    }
}

/// `TH2 = H("lk/hs/v1" ‖ M1 ‖ M2 clear)`.
pub fn transcript_th2<C: Crypto + ?Sized>(crypto: &C, m1: &[u8], m2_clear: &[u8]) -> Digest {
    crypto.sha256(&[LABEL_TH2, m1, m2_clear])
}

/// `TH3 = H("lk/hs/v1/holder" ‖ TH2 ‖ M2 sealed part ‖ cid ‖ command)`.
pub fn transcript_th3<C: Crypto + ?Sized>(
    crypto: &C,
    th2: &Digest,
    m2_sealed: &[u8],
    cid: &Id16,
    command: &Command,
) -> Digest {
    crypto.sha256(&[LABEL_TH3, th2, m2_sealed, cid, &command.to_bytes()])
}

/// Key schedule: ECDH → HKDF-Extract(salt = TH2) → per-direction key‖IV.
pub fn derive_session<C: Crypto + ?Sized>(
    crypto: &C,
    own_ephemeral: &SecretScalar,
    peer_ephemeral: &PublicKey,
    m1: &[u8],
    m2_clear: &[u8],
) -> Result<SessionKeys, Error> {
    let shared = crypto.ecdh(own_ephemeral, peer_ephemeral)?;
    let th2 = transcript_th2(crypto, m1, m2_clear);
    let mut prk = crypto.hkdf_extract(&th2, &shared.0);
    let mut okm = [0u8; 28];
    let mut dir = |label: &[u8]| -> Result<DirectionKey, Error> {
        crypto.hkdf_expand(&prk, &[label], &mut okm)?;
        let (k, iv) = okm.split_at(16);
        let d = DirectionKey {
            key: k.try_into().map_err(|_| Error::Crypto)?,
            iv: iv.try_into().map_err(|_| Error::Crypto)?,
        };
        okm.zeroize();
        Ok(d)
    };
    let p2l = dir(b"lk p2l")?;
    let l2p = dir(b"lk l2p")?;
    prk.zeroize();
    Ok(SessionKeys { th2, p2l, l2p })
}

fn lock_signature_message(th2: &Digest) -> [u8; 13 + 32] {
    let mut m = [0u8; 45];
    let (a, b) = m.split_at_mut(LABEL_LOCK_SIG.len());
    a.copy_from_slice(LABEL_LOCK_SIG);
    b.copy_from_slice(th2);
    m
}

/// A one-session ephemeral key pair. The lock precomputes it while idle (research §6.3 CPU
/// budget: keygen is ≈ 10 % of a first unlock) so it is off the unlock's critical path.
pub struct EphemeralKeyPair {
    secret: SecretScalar,
    public: PublicKey,
}

impl EphemeralKeyPair {
    /// Derive the public half of a fresh random scalar.
    pub fn new<C: Crypto + ?Sized>(crypto: &C, secret: SecretScalar) -> Result<Self, Error> {
        let public = crypto.public_key(&secret)?;
        Ok(EphemeralKeyPair { secret, public })
    }

    /// The public key sent in M1 or M2.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

impl core::fmt::Debug for EphemeralKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EphemeralKeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// What the lock publishes about itself in M2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockHello {
    /// Lock id.
    pub lock_id: Id16,
    /// Revocation list version held.
    pub rev_ver: u32,
    /// Current lock time (UTC s).
    pub lock_time: u32,
    /// `STATUS_*` bits.
    pub status: u8,
    /// Configuration version.
    pub cfg_ver: u16,
}

/// Lock side of one session, after sending M2.
#[derive(Debug)]
pub struct LockSession {
    keys: SessionKeys,
    m2: M2Clear,
    m2_sealed: [u8; M2_SEALED_LEN],
    m3_opened: bool,
    m4_sealed: bool,
}

/// Lock: answer M1 with M2 written to `out` (exactly [`M2_LEN`] bytes).
///
/// `ephemeral` and `nonce` must be fresh for every session; a key pair is consumed by the session.
pub fn respond<C: Crypto + ?Sized>(
    crypto: &C,
    m1_bytes: &[u8],
    ephemeral: EphemeralKeyPair,
    nonce: [u8; 16],
    hello: &LockHello,
    lock_key: &dyn Signer,
    out: &mut [u8],
) -> Result<LockSession, Error> {
    let m1 = M1::decode(m1_bytes)?;
    // One suite per version, no negotiation inside it: the only choice is the version itself.
    if m1.versions & SUPPORTED_VERSIONS == 0 {
        return Err(Error::InvalidValue);
    }
    let m2 = M2Clear {
        version: VERSION_V1,
        ephemeral: ephemeral.public,
        nonce,
        lock_id: hello.lock_id,
        rev_ver: hello.rev_ver,
        lock_time: hello.lock_time,
        status: hello.status & KNOWN_STATUS,
        cfg_ver: hello.cfg_ver,
    };
    let clear = m2.encode()?;
    let keys = derive_session(crypto, &ephemeral.secret, &m1.ephemeral, m1_bytes, &clear)?;
    let sig = lock_key.sign(&lock_signature_message(&keys.th2))?;
    let mut sealed = [0u8; M2_SEALED_LEN];
    let (body, tag_slot) = sealed.split_at_mut(64);
    body.copy_from_slice(&sig);
    let tag = crypto.aead_seal(&keys.l2p.key, &keys.l2p.nonce(0), &clear, body)?;
    tag_slot.copy_from_slice(&tag);
    let mut w = Writer::new(out);
    w.raw(&clear)?;
    w.raw(&sealed)?;
    Ok(LockSession {
        keys,
        m2,
        m2_sealed: sealed,
        m3_opened: false,
        m4_sealed: false,
    })
}

/// How M3 names the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialRef<'a> {
    /// The full COSE credential (first use at this lock).
    Full(&'a [u8]),
    /// Only the credential id: the lock has it in its verified cache (fast path).
    Cached(Id16),
}

/// Decrypted M3 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct M3<'a> {
    /// Credential or its id.
    pub credential: CredentialRef<'a>,
    /// Requested command.
    pub command: Command,
    /// Holder signature over TH3.
    pub holder_sig: Signature,
    /// Newer revocation list, if the phone has one.
    pub revocation: Option<&'a [u8]>,
    /// Signed time token, if the lock's time was untrusted.
    pub time_token: Option<&'a [u8]>,
    /// Server-signed log ack the phone carries back (M2 status said logs are pending).
    pub log_ack: Option<&'a [u8]>,
}

fn optional_field<'a>(r: &mut Reader<'a>, max: usize) -> Result<Option<&'a [u8]>, Error> {
    let n = usize::from(r.be16()?);
    if n > max {
        return Err(Error::Oversize);
    }
    let b = r.take(n)?;
    Ok(if b.is_empty() { None } else { Some(b) })
}

impl<'a> M3<'a> {
    fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let kind = r.u8_raw()?;
        let command = Command::decode(&mut r)?;
        let holder_sig = r.take_array()?;
        let credential = match kind {
            M3_FULL => {
                let n = usize::from(r.be16()?);
                if n == 0 || n > MAX_CREDENTIAL_LEN {
                    return Err(Error::Oversize);
                }
                CredentialRef::Full(r.take(n)?)
            }
            M3_CACHED => CredentialRef::Cached(r.take_array()?),
            _ => return Err(Error::InvalidValue),
        };
        let revocation = optional_field(&mut r, MAX_REVOCATION_LEN)?;
        let time_token = optional_field(&mut r, MAX_TIME_TOKEN_LEN)?;
        let log_ack = optional_field(&mut r, MAX_ACK_LEN)?;
        r.finish()?;
        Ok(M3 {
            credential,
            command,
            holder_sig,
            revocation,
            time_token,
            log_ack,
        })
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        match self.credential {
            CredentialRef::Full(c) => {
                if c.is_empty() || c.len() > MAX_CREDENTIAL_LEN {
                    return Err(Error::Oversize);
                }
                w.byte(M3_FULL)?;
                w.raw(&self.command.to_bytes())?;
                w.raw(&self.holder_sig)?;
                w.be16(c.len() as u16)?;
                w.raw(c)?;
            }
            CredentialRef::Cached(cid) => {
                w.byte(M3_CACHED)?;
                w.raw(&self.command.to_bytes())?;
                w.raw(&self.holder_sig)?;
                w.raw(&cid)?;
            }
        }
        for (field, max) in [
            (self.revocation, MAX_REVOCATION_LEN),
            (self.time_token, MAX_TIME_TOKEN_LEN),
            (self.log_ack, MAX_ACK_LEN),
        ] {
            let f = field.unwrap_or(&[]);
            if f.len() > max {
                return Err(Error::Oversize);
            }
            w.be16(f.len() as u16)?;
            w.raw(f)?;
        }
        Ok(())
    }
}

/// Body of M4: the lock's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct M4<'a> {
    /// 0 = done; otherwise a [`crate::checks::Refusal`] code.
    pub result: u8,
    /// Sequence number of the log record for this attempt.
    pub event_seq: u32,
    /// Lock state after the command (0 unknown, 1 locked, 2 unlocked, 3 unlatched).
    pub lock_state: u8,
    /// What the lock still needs: `STATUS_WANT_REVOCATION`, or `NEED_TIME` (0x10).
    pub needs: u8,
    /// A sealed log batch for the phone to carry, if any.
    pub batch: Option<&'a [u8]>,
}

/// M4 `needs` bit: a signed time token (the clock is untrusted).
pub const NEED_TIME: u8 = 0x10;

impl<'a> M4<'a> {
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.byte(self.result)?;
        w.be32(self.event_seq)?;
        w.byte(self.lock_state)?;
        w.byte(self.needs)?;
        let b = self.batch.unwrap_or(&[]);
        if b.len() > MAX_BATCH_LEN {
            return Err(Error::Oversize);
        }
        w.be16(b.len() as u16)?;
        w.raw(b)
    }

    fn decode(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let m = M4 {
            result: r.u8_raw()?,
            event_seq: r.be32()?,
            lock_state: r.u8_raw()?,
            needs: r.u8_raw()?,
            batch: optional_field(&mut r, MAX_BATCH_LEN)?,
        };
        r.finish()?;
        Ok(m)
    }
}

/// Seal `type ‖ AEAD(body)` into `out`; the body is encoded by `encode`.
fn seal_message<C: Crypto + ?Sized>(
    crypto: &C,
    dir: &DirectionKey,
    ctr: u32,
    msg_type: u8,
    out: &mut [u8],
    encode: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut w = Writer::new(out);
    w.byte(msg_type)?;
    encode(&mut w)?;
    let tag_at = w.reserve(TAG_LEN)?;
    let total = w.len();
    if total > MAX_MESSAGE_LEN {
        return Err(Error::Oversize);
    }
    let region = out.get_mut(1..total).ok_or(Error::BufferTooSmall)?;
    let (body, tag_slot) = region.split_at_mut(tag_at - 1);
    let tag = crypto.aead_seal(&dir.key, &dir.nonce(ctr), &[msg_type], body)?;
    tag_slot.copy_from_slice(&tag);
    Ok(total)
}

/// Check type, copy the ciphertext into `buf`, open it; returns the plaintext slice of `buf`.
fn open_message<'b, C: Crypto + ?Sized>(
    crypto: &C,
    dir: &DirectionKey,
    ctr: u32,
    msg_type: u8,
    wire: &[u8],
    buf: &'b mut [u8],
) -> Result<&'b [u8], Error> {
    if wire.len() > MAX_MESSAGE_LEN {
        return Err(Error::Oversize);
    }
    let (&t, rest) = wire.split_first().ok_or(Error::Truncated)?;
    if t != msg_type {
        return Err(Error::UnexpectedType);
    }
    let body_len = rest.len().checked_sub(TAG_LEN).ok_or(Error::Truncated)?;
    let (ct, tag) = rest.split_at(body_len);
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::Truncated)?;
    let body = buf.get_mut(..body_len).ok_or(Error::BufferTooSmall)?;
    body.copy_from_slice(ct);
    crypto.aead_open(&dir.key, &dir.nonce(ctr), &[msg_type], body, &tag)?;
    Ok(body)
}

impl LockSession {
    /// Session keys (for vectors and diagnostics).
    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// The M2 this lock sent (its nonce binds time tokens).
    pub fn m2(&self) -> &M2Clear {
        &self.m2
    }

    /// Decrypt and strictly decode M3 into `buf`. Only one M3 per session is accepted.
    pub fn open_m3<'b, C: Crypto + ?Sized>(
        &mut self,
        crypto: &C,
        wire: &[u8],
        buf: &'b mut [u8],
    ) -> Result<M3<'b>, Error> {
        if self.m3_opened {
            return Err(Error::Replay);
        }
        let body = open_message(crypto, &self.keys.p2l, 0, MSG_M3, wire, buf)?;
        // Burn the counter only once the message authenticated: noise cannot end a session.
        self.m3_opened = true;
        M3::decode(body)
    }

    /// TH3 for a credential id and command (what the holder must have signed).
    pub fn th3<C: Crypto + ?Sized>(&self, crypto: &C, cid: &Id16, command: &Command) -> Digest {
        transcript_th3(crypto, &self.keys.th2, &self.m2_sealed, cid, command)
    }

    /// Check 7: the holder's signature over TH3, which binds this session and the command.
    pub fn verify_holder<C: Crypto + ?Sized>(
        &self,
        crypto: &C,
        holder: &PublicKey,
        cid: &Id16,
        command: &Command,
        sig: &Signature,
    ) -> Result<(), Error> {
        crypto.ecdsa_verify(holder, &self.th3(crypto, cid, command), sig)
    }

    /// Seal M4 into `out`. Only one M4 per session.
    pub fn seal_m4<C: Crypto + ?Sized>(
        &mut self,
        crypto: &C,
        m4: &M4<'_>,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        if !self.m3_opened || self.m4_sealed {
            return Err(Error::Replay);
        }
        let n = seal_message(crypto, &self.keys.l2p, 1, MSG_M4, out, |w| m4.encode(w))?;
        self.m4_sealed = true;
        Ok(n)
    }
}

/// Phone side before M2.
#[derive(Debug)]
pub struct PhoneHello {
    ephemeral: EphemeralKeyPair,
    m1: [u8; M1_LEN],
}

/// Phone: build M1 with a fresh ephemeral key and nonce.
pub fn initiate(
    ephemeral: EphemeralKeyPair,
    nonce: [u8; 16],
    flags: u8,
) -> Result<PhoneHello, Error> {
    let m1 = M1 {
        versions: SUPPORTED_VERSIONS,
        flags,
        ephemeral: ephemeral.public,
        nonce,
    }
    .encode()?;
    Ok(PhoneHello { ephemeral, m1 })
}

impl PhoneHello {
    /// The M1 bytes to send.
    pub fn m1(&self) -> &[u8; M1_LEN] {
        &self.m1
    }

    /// Process M2: check the version choice, derive keys, and authenticate the lock with
    /// `lock_key(lock_id)` (the site's directory of lock identity keys).
    pub fn on_m2<C: Crypto + ?Sized>(
        self,
        crypto: &C,
        wire: &[u8],
        lock_key: impl FnOnce(&Id16) -> Option<PublicKey>,
    ) -> Result<PhoneSession, Error> {
        if wire.len() != M2_LEN {
            return Err(Error::InvalidValue);
        }
        let (clear, sealed) = wire.split_at(M2_CLEAR_LEN);
        let m2 = M2Clear::decode(clear)?;
        // Abort unless the lock chose the highest version we offered; with v1 alone, exactly v1.
        if m2.version != VERSION_V1 {
            return Err(Error::InvalidValue);
        }
        let keys = derive_session(
            crypto,
            &self.ephemeral.secret,
            &m2.ephemeral,
            &self.m1,
            clear,
        )?;
        let mut body = [0u8; 64];
        let (ct, tag) = sealed.split_at(64);
        body.copy_from_slice(ct);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::Truncated)?;
        crypto.aead_open(&keys.l2p.key, &keys.l2p.nonce(0), clear, &mut body, &tag)?;
        let public = lock_key(&m2.lock_id).ok_or(Error::Crypto)?;
        crypto.ecdsa_verify(&public, &lock_signature_message(&keys.th2), &body)?;
        let mut m2_sealed = [0u8; M2_SEALED_LEN];
        m2_sealed.copy_from_slice(sealed);
        Ok(PhoneSession {
            keys,
            m2,
            m2_sealed,
            m3_sealed: false,
            m4_opened: false,
        })
    }
}

/// Phone side after authenticating the lock.
#[derive(Debug)]
pub struct PhoneSession {
    keys: SessionKeys,
    m2: M2Clear,
    m2_sealed: [u8; M2_SEALED_LEN],
    m3_sealed: bool,
    m4_opened: bool,
}

/// What the phone puts in M3 besides its signature.
#[derive(Debug, Clone, Copy)]
pub struct M3Request<'a> {
    /// Credential or cached id.
    pub credential: CredentialRef<'a>,
    /// The credential's id (also for `Full`, where the lock reads it from the claims).
    pub cid: Id16,
    /// Requested command.
    pub command: Command,
    /// Newer revocation list to deliver (when ours is newer than M2's `rev_ver`).
    pub revocation: Option<&'a [u8]>,
    /// Time token bound to M2's nonce (when M2 says time is untrusted).
    pub time_token: Option<&'a [u8]>,
    /// Log ack from the server for this lock, if the phone carries one.
    pub log_ack: Option<&'a [u8]>,
}

impl PhoneSession {
    /// What the lock said about itself.
    pub fn lock(&self) -> &M2Clear {
        &self.m2
    }

    /// Session keys (for vectors and diagnostics).
    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// TH3 for this session, credential and command.
    pub fn th3<C: Crypto + ?Sized>(&self, crypto: &C, cid: &Id16, command: &Command) -> Digest {
        transcript_th3(crypto, &self.keys.th2, &self.m2_sealed, cid, command)
    }

    /// Sign TH3 with the holder key and seal M3 into `out`.
    pub fn seal_m3<C: Crypto + ?Sized>(
        &mut self,
        crypto: &C,
        holder: &dyn Signer,
        req: &M3Request<'_>,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        if self.m3_sealed {
            return Err(Error::Replay);
        }
        let holder_sig = holder.sign(&self.th3(crypto, &req.cid, &req.command))?;
        let m3 = M3 {
            credential: req.credential,
            command: req.command,
            holder_sig,
            revocation: req.revocation,
            time_token: req.time_token,
            log_ack: req.log_ack,
        };
        let n = seal_message(crypto, &self.keys.p2l, 0, MSG_M3, out, |w| m3.encode(w))?;
        self.m3_sealed = true;
        Ok(n)
    }

    /// Decrypt and decode M4 into `buf`.
    pub fn open_m4<'b, C: Crypto + ?Sized>(
        &mut self,
        crypto: &C,
        wire: &[u8],
        buf: &'b mut [u8],
    ) -> Result<M4<'b>, Error> {
        if !self.m3_sealed || self.m4_opened {
            return Err(Error::Replay);
        }
        let body = open_message(crypto, &self.keys.l2p, 1, MSG_M4, wire, buf)?;
        self.m4_opened = true;
        M4::decode(body)
    }
}
