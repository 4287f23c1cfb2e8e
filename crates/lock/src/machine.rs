//! The lock state machine.

use crate::counters::{COUNTERS_LEN, Counters};
use crate::platform::{Actuator, Bolt, Clock, Entropy, Flash, FlashError, Slot};
use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::checks::{self, LockView, Refusal};
use latchkey_protocol::claim::{self, ClaimBundle, MAX_CLAIM_BUNDLE_LEN, SETUP_SECRET_LEN};
use latchkey_protocol::credential::{Claims, Credential};
use latchkey_protocol::crypto::{AeadKey, Crypto, Digest, PublicKey, SecretScalar, Signer, kid8};
use latchkey_protocol::error::Error;
use latchkey_protocol::framing::{MAX_MESSAGE_LEN, Reassembler};
use latchkey_protocol::handshake::{
    self, CredentialRef, EphemeralKeyPair, LockHello, LockSession, M3, M4, NEED_TIME,
};
use latchkey_protocol::ids::{Id16, Kid8, Operation};
use latchkey_protocol::log::{self, BatchInput, LogAck, Record};
use latchkey_protocol::remote_command::RemoteCommand;
use latchkey_protocol::revocation::{MAX_REVOCATION_LEN, RevocationList};
use latchkey_protocol::time_token::TimeToken;

/// Records the log holds (flash slots `Log(0..LOG_CAPACITY)`).
pub const LOG_CAPACITY: usize = 128;
/// Sequence numbers reserved per persisted ceiling (flash wear vs. gap after a crash, R§6.6).
pub const SEQ_STRIDE: u32 = 256;
/// Batch counters reserved per persisted ceiling.
pub const BATCH_STRIDE: u32 = 64;
/// Limited-use credentials whose counts the lock tracks at once.
pub const USES_CAPACITY: usize = 16;
const USE_ENTRY_LEN: usize = 8 + 4 + 2;

/// Verified credentials kept for the fast path.
pub const CACHE_SIZE: usize = 8;
/// Consecutive refused attempts before a lockout (Matter `WrongCodeEntryLimit`).
pub const WRONG_ATTEMPT_LIMIT: u8 = 5;
/// Lockout length (Matter `UserCodeTemporaryDisableTime`).
pub const LOCKOUT_MS: u64 = 60_000;
/// Pairing window after a button press (design brief: ≤ 3 min).
pub const PAIRING_WINDOW_MS: u64 = 180_000;
/// A handshake session is dropped after this long (design brief: 10 s).
pub const SESSION_TIMEOUT_MS: u64 = 10_000;

/// Event codes in log records (Matter event ids 2–3, custom ≥ 0x80).
pub mod event {
    /// Matter LockOperation: a command ran.
    pub const LOCK_OPERATION: u8 = 2;
    /// Matter LockOperationError: a command was refused.
    pub const LOCK_OPERATION_ERROR: u8 = 3;
    /// Power-on.
    pub const BOOT: u8 = 0x80;
    /// Clock set from a signed time token.
    pub const TIME_SET: u8 = 0x81;
    /// Newer revocation list installed.
    pub const REVOCATION_UPDATED: u8 = 0x82;
    /// Claimed by a site.
    pub const CLAIMED: u8 = 0x83;
    /// Events were lost because the log was full of unacknowledged records (aux = count).
    pub const LOG_OVERFLOW: u8 = 0x84;
}

/// Operation sources in log records (Matter OperationSourceEnum).
pub mod source {
    /// Button on the lock.
    pub const BUTTON: u8 = 5;
    /// Remote command via a hub.
    pub const REMOTE: u8 = 7;
    /// Phone over BLE.
    pub const PHONE: u8 = 10;
}

/// Why the lock core could not process an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockError {
    /// Flash failed; after `PowerLoss` the device reboots.
    Flash(FlashError),
    /// Persisted state is unreadable; the lock fails closed.
    Corrupt,
    /// Protocol-level failure (bad frame, bad message, crypto).
    Protocol(Error),
    /// The lock has no factory identity.
    NoIdentity,
}

impl From<FlashError> for LockError {
    fn from(e: FlashError) -> Self {
        LockError::Flash(e)
    }
}

impl From<Error> for LockError {
    fn from(e: Error) -> Self {
        LockError::Protocol(e)
    }
}

/// Why a claim was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// Already bound to a site: release needs the owner or a factory reset (R§6.7).
    AlreadyBound,
    /// No pairing window open: the button was not pressed in the last 3 minutes.
    NoButtonPress,
    /// The proof does not show knowledge of the label's setup secret.
    BadProof,
    /// The bundle is malformed, not self-signed, or for another lock.
    BadBundle,
    /// Persisting the binding failed.
    Flash(FlashError),
}

impl ClaimRefusal {
    /// Stable code carried in the claim-result message (0 = claimed).
    pub const fn code(self) -> u8 {
        match self {
            ClaimRefusal::AlreadyBound => 1,
            ClaimRefusal::NoButtonPress => 2,
            ClaimRefusal::BadProof => 3,
            ClaimRefusal::BadBundle => 4,
            ClaimRefusal::Flash(_) => 5,
        }
    }
}

struct Identity {
    lock_id: Id16,
    lik: SecretScalar,
    /// Derived once at power-on: deriving it per signature would add a scalar multiplication
    /// to every unlock (P1).
    lik_public: PublicKey,
    setup_secret: [u8; SETUP_SECRET_LEN],
}

struct Binding {
    site: Id16,
    issuers: Bounded<PublicKey, 4>,
    issuer_kids: Bounded<Kid8, 4>,
    time_key: PublicKey,
    ack_key: PublicKey,
    log_key: AeadKey,
    cfg_ver: u16,
}

/// Use count of one limited-use credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UseEntry {
    cid8: latchkey_protocol::ids::Cid8,
    exp: u32,
    count: u16,
}

impl latchkey_protocol::bounded::Zeroed for UseEntry {
    const ZERO: Self = UseEntry {
        cid8: [0; 8],
        exp: 0,
        count: 0,
    };
}

/// Who an attempt was for, as recorded in the log.
#[derive(Debug, Clone, Copy)]
struct Who {
    cid8: latchkey_protocol::ids::Cid8,
    uid: u32,
    cred_type: u8,
}

impl Who {
    fn of(c: &Claims) -> Self {
        Who {
            cid8: latchkey_protocol::ids::cid8(&c.cid),
            uid: c.uid,
            cred_type: c.user_type,
        }
    }
}

#[derive(Clone)]
struct CachedCredential {
    claims: Claims,
    kid: Kid8,
}

/// The hardware the core drives.
pub struct Board<F: Flash, K: Clock, A: Actuator, R: Entropy> {
    /// Persistent storage.
    pub flash: F,
    /// RTC and uptime.
    pub clock: K,
    /// Motor.
    pub actuator: A,
    /// Randomness.
    pub entropy: R,
}

/// The lock core. Build with [`LockCore::power_on`] after every reset.
pub struct LockCore<F: Flash, K: Clock, A: Actuator, R: Entropy, C: Crypto> {
    /// The hardware (public so simulators can inspect it).
    pub board: Board<F, K, A, R>,
    crypto: C,
    identity: Identity,
    binding: Option<Binding>,
    revocation: Option<RevocationList>,
    counters: Counters,
    next_seq: u32,
    next_batch: u32,
    unacked: Bounded<Record, LOG_CAPACITY>,
    uses: Bounded<UseEntry, USES_CAPACITY>,
    head: Digest,
    cache: [Option<CachedCredential>; CACHE_SIZE],
    cache_next: usize,
    failures: u8,
    lockout_until_ms: u64,
    pairing: Option<(u64, [u8; 16])>,
    session: Option<(LockSession, u64)>,
    ephemeral: Option<EphemeralKeyPair>,
    /// A log batch sealed while idle, handed out in the next M4: its checkpoint signature
    /// stays off the unlock's critical path, like the ephemeral key (P1/P2).
    prepared_batch: Option<([u8; log::MAX_BATCH_LEN], usize, u32)>,
    reassembler: Reassembler<MAX_MESSAGE_LEN>,
    bolt: Bolt,
    reply: [u8; MAX_MESSAGE_LEN],
}

fn read_slot<F: Flash>(flash: &mut F, slot: Slot, buf: &mut [u8]) -> Result<usize, LockError> {
    Ok(flash.read(slot, buf)?)
}

/// Write a factory identity (lock id, identity scalar, 128-bit setup secret) if none exists.
/// Returns the setup secret, which the factory prints on the label. No default key: all three
/// come from the hardware entropy source.
pub fn factory_provision<F: Flash, R: Entropy, C: Crypto>(
    flash: &mut F,
    entropy: &mut R,
    crypto: &C,
) -> Result<[u8; SETUP_SECRET_LEN], LockError> {
    let mut buf = [0u8; 64];
    if read_slot(flash, Slot::Identity, &mut buf)? == 64 {
        let mut secret = [0u8; SETUP_SECRET_LEN];
        secret.copy_from_slice(buf.get(48..64).ok_or(LockError::Corrupt)?);
        return Ok(secret);
    }
    // Rejection sampling: a random 32-byte string is a valid scalar with overwhelming probability.
    for _ in 0..8 {
        entropy.fill(&mut buf);
        let mut scalar = [0u8; 32];
        scalar.copy_from_slice(buf.get(16..48).ok_or(LockError::Corrupt)?);
        if crypto.public_key(&SecretScalar::from_bytes(scalar)).is_ok() {
            flash.write(Slot::Identity, &buf)?;
            let mut secret = [0u8; SETUP_SECRET_LEN];
            secret.copy_from_slice(buf.get(48..64).ok_or(LockError::Corrupt)?);
            return Ok(secret);
        }
    }
    Err(LockError::NoIdentity)
}

/// What an event produced: a message for the phone, if any.
pub type Reply<'a> = Option<&'a [u8]>;

impl<F: Flash, K: Clock, A: Actuator, R: Entropy, C: Crypto> LockCore<F, K, A, R, C> {
    /// Boot: load identity, binding, revocation list, counters and the log from flash.
    /// `build_time` is the firmware build time, the floor of last-known-good time.
    pub fn power_on(
        mut board: Board<F, K, A, R>,
        crypto: C,
        build_time: u32,
    ) -> Result<Self, LockError> {
        let mut buf = [0u8; 64];
        if read_slot(&mut board.flash, Slot::Identity, &mut buf)? != 64 {
            return Err(LockError::NoIdentity);
        }
        let mut r = latchkey_protocol::cbor::Reader::new(&buf);
        let lock_id: Id16 = r.take_array()?;
        let lik = SecretScalar::from_bytes(r.take_array()?);
        let setup_secret = r.take_array()?;
        let lik_public = crypto.public_key(&lik)?;
        let identity = Identity {
            lock_id,
            lik,
            lik_public,
            setup_secret,
        };

        let mut cbuf = [0u8; COUNTERS_LEN];
        let counters = match read_slot(&mut board.flash, Slot::Counters, &mut cbuf)? {
            0 => Counters {
                lkgt: build_time,
                seq_ceiling: 1,
                batch_ceiling: 1,
                cmd_counter: 0,
                acked_seq: 0,
                acked_head: log::chain_genesis(&crypto, &identity.lock_id),
                lost_events: 0,
            },
            n => Counters::decode(cbuf.get(..n).ok_or(LockError::Corrupt)?)
                .map_err(|_| LockError::Corrupt)?,
        };
        let mut core = LockCore {
            board,
            crypto,
            identity,
            binding: None,
            revocation: None,
            next_seq: counters.seq_ceiling.max(1),
            next_batch: counters.batch_ceiling.max(1),
            counters,
            unacked: Bounded::new(),
            uses: Bounded::new(),
            head: counters.acked_head,
            cache: [const { None }; CACHE_SIZE],
            cache_next: 0,
            failures: 0,
            lockout_until_ms: 0,
            pairing: None,
            session: None,
            ephemeral: None,
            prepared_batch: None,
            reassembler: Reassembler::new(),
            bolt: Bolt::Locked,
            reply: [0u8; MAX_MESSAGE_LEN],
        };
        core.counters.lkgt = core.counters.lkgt.max(build_time);
        core.load_binding()?;
        core.load_revocation()?;
        core.load_log()?;
        core.load_uses()?;
        core.log_event(event::BOOT, 0, 0, 0, None, 0)?;
        Ok(core)
    }

    fn load_binding(&mut self) -> Result<(), LockError> {
        let mut buf = [0u8; MAX_CLAIM_BUNDLE_LEN];
        let n = read_slot(&mut self.board.flash, Slot::Binding, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let bundle = ClaimBundle::open(&self.crypto, buf.get(..n).ok_or(LockError::Corrupt)?)
            .map_err(|_| LockError::Corrupt)?;
        self.binding = Some(self.binding_from(&bundle)?);
        Ok(())
    }

    fn binding_from(&self, bundle: &ClaimBundle) -> Result<Binding, LockError> {
        let mut issuer_kids = Bounded::new();
        for k in bundle.issuers.as_slice() {
            issuer_kids.push(kid8(&self.crypto, k))?;
        }
        let log_key = log::derive_log_key(
            &self.crypto,
            &self.identity.lik,
            &bundle.cloud_log_key,
            &self.identity.lock_id,
        )?;
        Ok(Binding {
            site: bundle.site,
            issuers: bundle.issuers,
            issuer_kids,
            time_key: bundle.time_command_key,
            ack_key: bundle.ack_key,
            log_key,
            cfg_ver: bundle.cfg_ver,
        })
    }

    fn load_revocation(&mut self) -> Result<(), LockError> {
        let mut buf = [0u8; MAX_REVOCATION_LEN];
        let n = read_slot(&mut self.board.flash, Slot::Revocation, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let bytes = buf.get(..n).ok_or(LockError::Corrupt)?;
        self.revocation = Some(
            self.open_revocation(bytes)
                .map_err(|_| LockError::Corrupt)?,
        );
        Ok(())
    }

    fn open_revocation(&self, bytes: &[u8]) -> Result<RevocationList, Refusal> {
        let binding = self.binding.as_ref().ok_or(Refusal::UntrustedIssuer)?;
        let env = latchkey_protocol::cose::Sign1::decode(bytes).map_err(|_| Refusal::Malformed)?;
        let key = issuer_key(binding, &env.kid).ok_or(Refusal::UntrustedIssuer)?;
        RevocationList::open(&self.crypto, bytes, key).map_err(|_| Refusal::IssuerSignature)
    }

    fn load_uses(&mut self) -> Result<(), LockError> {
        let mut buf = [0u8; USES_CAPACITY * USE_ENTRY_LEN];
        let n = read_slot(&mut self.board.flash, Slot::Uses, &mut buf)?;
        let bytes = buf.get(..n).ok_or(LockError::Corrupt)?;
        if n % USE_ENTRY_LEN != 0 {
            return Err(LockError::Corrupt);
        }
        for chunk in bytes.chunks_exact(USE_ENTRY_LEN) {
            let mut r = latchkey_protocol::cbor::Reader::new(chunk);
            self.uses.push(UseEntry {
                cid8: r.take_array()?,
                exp: r.be32()?,
                count: r.be16()?,
            })?;
        }
        Ok(())
    }

    fn persist_uses(&mut self, next: Bounded<UseEntry, USES_CAPACITY>) -> Result<(), LockError> {
        let mut buf = [0u8; USES_CAPACITY * USE_ENTRY_LEN];
        let mut w = latchkey_protocol::cbor::Writer::new(&mut buf);
        for e in next.as_slice() {
            w.raw(&e.cid8)?;
            w.be32(e.exp)?;
            w.be16(e.count)?;
        }
        self.board.flash.write(Slot::Uses, w.written())?;
        self.uses = next;
        Ok(())
    }

    /// Count one use of a limited-use credential, persisted before the operation runs.
    fn count_use(&mut self, claims: &Claims) -> Result<(), Refusal> {
        let Some(max) = claims.max_uses else {
            return Ok(());
        };
        let (now, _) = self.now();
        let id = latchkey_protocol::ids::cid8(&claims.cid);
        let mut next: Bounded<UseEntry, USES_CAPACITY> = Bounded::new();
        let mut found = None;
        for e in self.uses.as_slice() {
            if e.cid8 == id {
                found = Some(*e);
            } else if now <= e.exp.saturating_add(checks::MAX_SKEW_SECS) {
                // Entries of expired credentials are pruned: those cannot be used anyway.
                next.push(*e).map_err(|_| Refusal::UsesExhausted)?;
            }
        }
        let count = found.map(|e| e.count).unwrap_or(0);
        if count >= max {
            return Err(Refusal::UsesExhausted);
        }
        next.push(UseEntry {
            cid8: id,
            exp: claims.exp,
            count: count.saturating_add(1),
        })
        .map_err(|_| Refusal::UsesExhausted)?;
        self.persist_uses(next).map_err(|_| Refusal::Malformed)
    }

    fn load_log(&mut self) -> Result<(), LockError> {
        let mut recs: Bounded<Record, LOG_CAPACITY> = Bounded::new();
        let mut buf = [0u8; log::RECORD_LEN];
        for i in 0..LOG_CAPACITY as u16 {
            if read_slot(&mut self.board.flash, Slot::Log(i), &mut buf)? == log::RECORD_LEN {
                let rec = Record::from_bytes(&buf)?;
                if rec.seq > self.counters.acked_seq {
                    recs.push(rec)?;
                }
            }
        }
        // Insertion sort by seq: at most LOG_CAPACITY records, once per boot.
        let mut sorted: Bounded<Record, LOG_CAPACITY> = Bounded::new();
        while sorted.len() < recs.len() {
            let last = sorted.as_slice().last().map(|r| r.seq);
            let next = recs
                .as_slice()
                .iter()
                .filter(|r| last.is_none_or(|l| r.seq > l))
                .min_by_key(|r| r.seq)
                .copied()
                .ok_or(LockError::Corrupt)?;
            sorted.push(next)?;
        }
        let mut head = self.counters.acked_head;
        for rec in sorted.as_slice() {
            head = log::chain_next(&self.crypto, &head, rec);
        }
        self.unacked = sorted;
        self.head = head;
        Ok(())
    }

    fn persist_counters(&mut self, next: Counters) -> Result<(), LockError> {
        let bytes = next.encode()?;
        self.board.flash.write(Slot::Counters, &bytes)?;
        self.counters = next;
        Ok(())
    }

    /// Current time and whether it is trusted. Untrusted: last-known-good plus uptime.
    fn now(&mut self) -> (u32, bool) {
        match self.board.clock.rtc_secs() {
            Some(rtc) => (rtc.max(self.counters.lkgt), true),
            None => {
                let up = u32::try_from(self.board.clock.uptime_ms() / 1000).unwrap_or(u32::MAX);
                (self.counters.lkgt.saturating_add(up), false)
            }
        }
    }

    fn advance_lkgt(&mut self, candidate: u32) -> Result<(), LockError> {
        let next = checks::next_last_known_good(self.counters.lkgt, candidate);
        if next != self.counters.lkgt {
            self.persist_counters(Counters {
                lkgt: next,
                ..self.counters
            })?;
        }
        Ok(())
    }

    fn alloc_seq(&mut self) -> Result<u32, LockError> {
        let seq = self.next_seq;
        if seq >= self.counters.seq_ceiling {
            // Persist the new ceiling before handing the number out: after a power loss the
            // lock resumes at the ceiling, so no number is ever used twice.
            let ceiling = seq.checked_add(SEQ_STRIDE).ok_or(LockError::Corrupt)?;
            self.persist_counters(Counters {
                seq_ceiling: ceiling,
                ..self.counters
            })?;
        }
        self.next_seq = seq.checked_add(1).ok_or(LockError::Corrupt)?;
        Ok(seq)
    }

    fn alloc_batch(&mut self) -> Result<u32, LockError> {
        let ctr = self.next_batch;
        if ctr >= self.counters.batch_ceiling {
            let ceiling = ctr.checked_add(BATCH_STRIDE).ok_or(LockError::Corrupt)?;
            self.persist_counters(Counters {
                batch_ceiling: ceiling,
                ..self.counters
            })?;
        }
        self.next_batch = ctr.checked_add(1).ok_or(LockError::Corrupt)?;
        Ok(ctr)
    }

    /// Append a record. Never overwrites an unacknowledged record: when the log is full the
    /// event is counted as lost and reported by a LogOverflow record once space is freed.
    fn log_event(
        &mut self,
        event: u8,
        op: u8,
        source: u8,
        error: u8,
        who: Option<Who>,
        aux: u32,
    ) -> Result<u32, LockError> {
        if self.counters.lost_events > 0 && self.unacked.len() + 1 < LOG_CAPACITY {
            let lost = self.counters.lost_events;
            self.persist_counters(Counters {
                lost_events: 0,
                ..self.counters
            })?;
            self.append(Record {
                event: event::LOG_OVERFLOW,
                aux: lost,
                ..Record::default()
            })?;
        }
        let (time, trusted) = self.now();
        let mut rec = Record {
            time,
            flags: if trusted { log::RECORD_TIME_TRUSTED } else { 0 },
            event,
            op,
            source,
            error,
            aux,
            ..Record::default()
        };
        if let Some(w) = who {
            rec.cid8 = w.cid8;
            rec.uid = w.uid;
            rec.cred_type = w.cred_type;
        }
        self.append(rec)
    }

    fn append(&mut self, mut rec: Record) -> Result<u32, LockError> {
        if self.unacked.len() >= LOG_CAPACITY {
            let lost = self.counters.lost_events.saturating_add(1);
            self.persist_counters(Counters {
                lost_events: lost,
                ..self.counters
            })?;
            return Ok(0);
        }
        let seq = self.alloc_seq()?;
        let slot = (seq % LOG_CAPACITY as u32) as u16;
        if self
            .unacked
            .as_slice()
            .iter()
            .any(|r| r.seq % LOG_CAPACITY as u32 == u32::from(slot))
        {
            // The slot still holds an unacknowledged record (sequence gap after a reboot).
            let lost = self.counters.lost_events.saturating_add(1);
            self.persist_counters(Counters {
                lost_events: lost,
                ..self.counters
            })?;
            return Ok(0);
        }
        rec.seq = seq;
        self.board.flash.write(Slot::Log(slot), &rec.to_bytes())?;
        self.unacked.push(rec)?;
        self.head = log::chain_next(&self.crypto, &self.head, &rec);
        Ok(seq)
    }

    fn head_at(&self, seq: u32) -> Option<Digest> {
        if seq == self.counters.acked_seq {
            return Some(self.counters.acked_head);
        }
        let mut head = self.counters.acked_head;
        for rec in self.unacked.as_slice() {
            head = log::chain_next(&self.crypto, &head, rec);
            if rec.seq == seq {
                return Some(head);
            }
        }
        None
    }

    /// True once a site has claimed the lock.
    pub fn is_bound(&self) -> bool {
        self.binding.is_some()
    }

    /// The lock id.
    pub fn lock_id(&self) -> &Id16 {
        &self.identity.lock_id
    }

    /// Last-known-good time.
    pub fn last_known_good(&self) -> u32 {
        self.counters.lkgt
    }

    /// Version of the installed revocation list (0 = none).
    pub fn revocation_version(&self) -> u32 {
        self.revocation.as_ref().map(|l| l.version).unwrap_or(0)
    }

    /// Records not yet acknowledged by the server, oldest first.
    pub fn unacked_records(&self) -> &[Record] {
        self.unacked.as_slice()
    }

    /// Where the bolt is.
    pub fn bolt(&self) -> Bolt {
        self.bolt
    }

    /// The lock identity public key (for the site's lock directory).
    pub fn identity_public(&self) -> Result<PublicKey, LockError> {
        Ok(self.identity.lik_public)
    }

    /// Timer tick: expire the session and the pairing window, precompute the next ephemeral
    /// key while idle (R§6.3 CPU budget), and let the RTC advance last-known-good time.
    pub fn tick(&mut self) -> Result<(), LockError> {
        let up = self.board.clock.uptime_ms();
        if self
            .session
            .as_ref()
            .is_some_and(|(_, at)| up.saturating_sub(*at) > SESSION_TIMEOUT_MS)
        {
            self.session = None;
        }
        if self.pairing.is_some_and(|(until, _)| up > until) {
            self.pairing = None;
        }
        if self.ephemeral.is_none() {
            self.ephemeral = Some(self.fresh_ephemeral()?);
        }
        self.prepare_batch()?;
        if let Some(rtc) = self.board.clock.rtc_secs() {
            // Persist at most hourly: flash wear against how far time can fall back on reset.
            if rtc > self.counters.lkgt.saturating_add(3600) {
                self.advance_lkgt(rtc)?;
            }
        }
        Ok(())
    }

    fn fresh_ephemeral(&mut self) -> Result<EphemeralKeyPair, LockError> {
        for _ in 0..8 {
            let mut s = [0u8; 32];
            self.board.entropy.fill(&mut s);
            if let Ok(pair) = EphemeralKeyPair::new(&self.crypto, SecretScalar::from_bytes(s)) {
                return Ok(pair);
            }
        }
        Err(LockError::Protocol(Error::Crypto))
    }

    /// Button press: on an unbound lock, opens the pairing window and returns its nonce.
    pub fn button_pressed(&mut self) -> Option<[u8; 16]> {
        if self.binding.is_some() {
            return None;
        }
        let mut nonce = [0u8; 16];
        self.board.entropy.fill(&mut nonce);
        let until = self
            .board
            .clock
            .uptime_ms()
            .saturating_add(PAIRING_WINDOW_MS);
        self.pairing = Some((until, nonce));
        Some(nonce)
    }

    /// Claim: bind to the site in `bundle` if a pairing window is open, `proof` shows the
    /// label's setup secret over this window's nonce, and the lock is not bound yet.
    pub fn claim(&mut self, bundle: &[u8], proof: &[u8]) -> Result<(), ClaimRefusal> {
        if self.binding.is_some() {
            return Err(ClaimRefusal::AlreadyBound);
        }
        let up = self.board.clock.uptime_ms();
        let Some((_, nonce)) = self.pairing.filter(|(until, _)| up <= *until) else {
            return Err(ClaimRefusal::NoButtonPress);
        };
        claim::verify_claim_proof(
            &self.crypto,
            &self.identity.setup_secret,
            &nonce,
            bundle,
            proof,
        )
        .map_err(|_| ClaimRefusal::BadProof)?;
        let parsed =
            ClaimBundle::open(&self.crypto, bundle).map_err(|_| ClaimRefusal::BadBundle)?;
        if parsed.lock_id != self.identity.lock_id {
            return Err(ClaimRefusal::BadBundle);
        }
        let binding = self
            .binding_from(&parsed)
            .map_err(|_| ClaimRefusal::BadBundle)?;
        self.board
            .flash
            .write(Slot::Binding, bundle)
            .map_err(ClaimRefusal::Flash)?;
        self.binding = Some(binding);
        self.pairing = None;
        // The bundle is fresh (bound to this window's nonce by the proof): trusted time.
        let secs = u32::try_from(parsed.utc_ms / 1000).unwrap_or(u32::MAX);
        self.board.clock.set_rtc(secs);
        let flash_err = |e: LockError| match e {
            LockError::Flash(f) => ClaimRefusal::Flash(f),
            _ => ClaimRefusal::BadBundle,
        };
        self.advance_lkgt(secs).map_err(flash_err)?;
        self.log_event(event::CLAIMED, 0, source::BUTTON, 0, None, 0)
            .map_err(flash_err)?;
        Ok(())
    }

    /// A BLE frame arrived on RX. Returns a complete message to send on TX (the caller
    /// fragments it for the link's MTU).
    pub fn on_frame(&mut self, frame: &[u8]) -> Result<Reply<'_>, LockError> {
        let up = self.board.clock.uptime_ms();
        let mut msg = [0u8; MAX_MESSAGE_LEN];
        let len = match self.reassembler.push(frame, up) {
            Ok(Some(m)) => {
                let dst = msg.get_mut(..m.len()).ok_or(LockError::Corrupt)?;
                dst.copy_from_slice(m);
                m.len()
            }
            Ok(None) => return Ok(None),
            Err(e) => return Err(LockError::Protocol(e)),
        };
        let msg = msg.get(..len).ok_or(LockError::Corrupt)?;
        match msg.first() {
            Some(&handshake::MSG_M1) => self.on_m1(msg),
            Some(&handshake::MSG_M3) => self.on_m3(msg),
            Some(&claim::MSG_PAIR_REQUEST) => self.on_pair_request(msg),
            Some(&claim::MSG_CLAIM) => self.on_claim(msg),
            _ => Err(LockError::Protocol(Error::UnexpectedType)),
        }
    }

    fn reply_with(&mut self, bytes: &[u8]) -> Result<Reply<'_>, LockError> {
        let dst = self
            .reply
            .get_mut(..bytes.len())
            .ok_or(LockError::Corrupt)?;
        dst.copy_from_slice(bytes);
        Ok(Some(self.reply.get(..bytes.len()).unwrap_or(&[])))
    }

    fn on_pair_request(&mut self, msg: &[u8]) -> Result<Reply<'_>, LockError> {
        if msg.len() != 1 {
            return Err(LockError::Protocol(Error::TrailingBytes));
        }
        if self.binding.is_some() {
            return self.reply_with(&[claim::MSG_CLAIM_RESULT, ClaimRefusal::AlreadyBound.code()]);
        }
        let up = self.board.clock.uptime_ms();
        let Some((_, nonce)) = self.pairing.filter(|(until, _)| up <= *until) else {
            return self.reply_with(&[claim::MSG_CLAIM_RESULT, ClaimRefusal::NoButtonPress.code()]);
        };
        let id = &self.identity;
        let tag = claim::pairing_tag(
            &self.crypto,
            &id.setup_secret,
            &id.lock_id,
            &nonce,
            &id.lik_public,
        )?;
        let offer = claim::PairingOffer {
            lock_id: id.lock_id,
            nonce,
            identity: id.lik_public,
            tag,
        }
        .encode()?;
        self.reply_with(&offer)
    }

    fn on_claim(&mut self, msg: &[u8]) -> Result<Reply<'_>, LockError> {
        let req = claim::ClaimRequest::decode(msg)?;
        let code = match self.claim(req.bundle, &req.proof) {
            Ok(()) => 0,
            Err(e) => e.code(),
        };
        self.reply_with(&[claim::MSG_CLAIM_RESULT, code])
    }

    fn on_m1(&mut self, m1: &[u8]) -> Result<Reply<'_>, LockError> {
        let Some(binding) = self.binding.as_ref() else {
            // No default key at any stage: an unclaimed lock runs no handshake.
            return Err(LockError::Protocol(Error::InvalidValue));
        };
        let cfg_ver = binding.cfg_ver;
        let ephemeral = match self.ephemeral.take() {
            Some(e) => e,
            None => self.fresh_ephemeral()?,
        };
        let mut nonce = [0u8; 16];
        self.board.entropy.fill(&mut nonce);
        let (now, trusted) = self.now();
        let mut status = 0;
        if trusted {
            status |= handshake::STATUS_TIME_TRUSTED;
        }
        if !self.unacked.is_empty() {
            status |= handshake::STATUS_LOG_PENDING;
        }
        if self
            .revocation
            .as_ref()
            .and_then(|l| l.next_update)
            .is_none_or(|n| now > n)
        {
            status |= handshake::STATUS_WANT_REVOCATION;
        }
        let hello = LockHello {
            lock_id: self.identity.lock_id,
            rev_ver: self.revocation_version(),
            lock_time: now,
            status,
            cfg_ver,
        };
        let signer = IdentitySigner {
            crypto: &self.crypto,
            identity: &self.identity,
        };
        let mut out = [0u8; handshake::M2_LEN];
        let session = handshake::respond(
            &self.crypto,
            m1,
            ephemeral,
            nonce,
            &hello,
            &signer,
            &mut out,
        )?;
        self.session = Some((session, self.board.clock.uptime_ms()));
        let dst = self
            .reply
            .get_mut(..handshake::M2_LEN)
            .ok_or(LockError::Corrupt)?;
        dst.copy_from_slice(&out);
        Ok(Some(self.reply.get(..handshake::M2_LEN).unwrap_or(&[])))
    }

    fn on_m3(&mut self, wire: &[u8]) -> Result<Reply<'_>, LockError> {
        let Some((mut session, started_ms)) = self.session.take() else {
            return Err(LockError::Protocol(Error::Replay));
        };
        if self.board.clock.uptime_ms().saturating_sub(started_ms) > SESSION_TIMEOUT_MS {
            return Err(LockError::Protocol(Error::Timeout));
        }
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let m3 = match session.open_m3(&self.crypto, wire, &mut buf) {
            Ok(m3) => m3,
            Err(e) => {
                // Noise or an M3 from another session does not end the phone's session: keep it
                // for the genuine M3 (its own AEAD counter was not consumed).
                if e != Error::Replay {
                    self.session = Some((session, started_ms));
                }
                return Err(LockError::Protocol(e));
            }
        };
        let outcome = self.decide(&session, &m3);
        let (result, event_seq) = match outcome {
            Ok((claims, op)) => {
                self.failures = 0;
                // Log before moving the bolt: an unlock is never unrecorded.
                let seq = self.log_event(
                    event::LOCK_OPERATION,
                    op as u8,
                    source::PHONE,
                    0,
                    Some(Who::of(&claims)),
                    m3.command.cmd_id,
                )?;
                self.actuate(op);
                (0u8, seq)
            }
            Err((refusal, who)) => {
                if refusal != Refusal::LockedOut {
                    self.failures = self.failures.saturating_add(1);
                    if self.failures >= WRONG_ATTEMPT_LIMIT {
                        self.lockout_until_ms =
                            self.board.clock.uptime_ms().saturating_add(LOCKOUT_MS);
                        self.failures = 0;
                    }
                }
                let seq = self.log_event(
                    event::LOCK_OPERATION_ERROR,
                    m3.command.op as u8,
                    source::PHONE,
                    refusal.code(),
                    who,
                    m3.command.cmd_id,
                )?;
                (refusal.code(), seq)
            }
        };
        let (_, trusted) = self.now();
        let needs = if trusted { 0 } else { NEED_TIME };
        let prepared = self.prepared_batch.take();
        let batch: &[u8] = match &prepared {
            Some((bytes, len, _)) => bytes.get(..*len).unwrap_or(&[]),
            None => &[],
        };
        let m4 = M4 {
            result,
            event_seq,
            lock_state: match self.bolt {
                Bolt::Locked => 1,
                Bolt::Unlocked => 2,
                Bolt::Unlatched => 3,
            },
            needs,
            batch: Some(batch).filter(|b| !b.is_empty()),
        };
        let mut out = [0u8; MAX_MESSAGE_LEN];
        let n = session.seal_m4(&self.crypto, &m4, &mut out)?;
        let dst = self.reply.get_mut(..n).ok_or(LockError::Corrupt)?;
        dst.copy_from_slice(out.get(..n).ok_or(LockError::Corrupt)?);
        Ok(Some(self.reply.get(..n).unwrap_or(&[])))
    }

    fn actuate(&mut self, op: Operation) {
        let to = match op {
            Operation::Unlock => Bolt::Unlocked,
            Operation::Lock => Bolt::Locked,
            Operation::Unlatch => Bolt::Unlatched,
            _ => return,
        };
        self.board.actuator.drive(to);
        self.bolt = to;
    }

    /// Seal the oldest pending records unless an up-to-date batch is already prepared.
    fn prepare_batch(&mut self) -> Result<(), LockError> {
        let covers = self.unacked.len().min(log::MAX_BATCH_RECORDS);
        let last = self
            .unacked
            .as_slice()
            .get(covers.wrapping_sub(1))
            .map(|r| r.seq);
        let Some(last) = last else {
            self.prepared_batch = None;
            return Ok(());
        };
        if self
            .prepared_batch
            .as_ref()
            .is_some_and(|(_, _, to)| *to == last)
        {
            return Ok(());
        }
        let mut out = [0u8; log::MAX_BATCH_LEN];
        let n = self.seal_pending(&mut out)?;
        self.prepared_batch = (n > 0).then_some((out, n, last));
        Ok(())
    }

    fn seal_pending(&mut self, out: &mut [u8]) -> Result<usize, LockError> {
        if self.unacked.is_empty() {
            return Ok(0);
        }
        let Some(log_key) = self.binding.as_ref().map(|b| b.log_key) else {
            return Ok(0);
        };
        let n = self.unacked.len().min(log::MAX_BATCH_RECORDS);
        let mut records: Bounded<Record, { log::MAX_BATCH_RECORDS }> = Bounded::new();
        for r in self.unacked.as_slice().iter().take(n) {
            records.push(*r)?;
        }
        let batch_ctr = self.alloc_batch()?;
        let (time, _) = self.now();
        let signer = IdentitySigner {
            crypto: &self.crypto,
            identity: &self.identity,
        };
        let input = BatchInput {
            lock_id: self.identity.lock_id,
            batch_ctr,
            prev_head: self.counters.acked_head,
            records: records.as_slice(),
            time,
        };
        Ok(log::seal_batch(
            &self.crypto,
            &signer,
            &log_key,
            &input,
            out,
        )?)
    }

    /// Apply deliveries (revocation list, time token, log ack), then decide on the command.
    fn decide(
        &mut self,
        session: &LockSession,
        m3: &M3<'_>,
    ) -> Result<(Claims, Operation), (Refusal, Option<Who>)> {
        if self.board.clock.uptime_ms() < self.lockout_until_ms {
            return Err((Refusal::LockedOut, None));
        }
        if let Some(list) = m3.revocation {
            self.apply_revocation(list).map_err(|r| (r, None))?;
        }
        if let Some(token) = m3.time_token {
            self.apply_time_token(session, token)
                .map_err(|r| (r, None))?;
        }
        if let Some(ack) = m3.log_ack {
            self.apply_log_ack(ack).map_err(|r| (r, None))?;
        }
        if self.binding.is_none() {
            return Err((Refusal::UntrustedIssuer, None));
        }
        let (claims, kid) = match m3.credential {
            CredentialRef::Full(bytes) => {
                let (cred, claims) =
                    Credential::decode(bytes).map_err(|_| (Refusal::Malformed, None))?;
                self.check(&claims, &cred.envelope.kid, m3.command.op)
                    .map_err(|r| (r, Some(Who::of(&claims))))?;
                let key = self
                    .binding
                    .as_ref()
                    .and_then(|b| issuer_key(b, &cred.envelope.kid))
                    .copied()
                    .ok_or((Refusal::UntrustedIssuer, None))?;
                cred.verify_issuer(&self.crypto, &key)
                    .map_err(|_| (Refusal::IssuerSignature, Some(Who::of(&claims))))?;
                (claims, cred.envelope.kid)
            }
            CredentialRef::Cached(cid) => {
                let cached = self
                    .cache
                    .iter()
                    .flatten()
                    .find(|c| c.claims.cid == cid)
                    .cloned()
                    .ok_or((Refusal::NotCached, None))?;
                // Every check but the issuer signature runs again (R§6.3 fast path).
                self.check(&cached.claims, &cached.kid, m3.command.op)
                    .map_err(|r| (r, Some(Who::of(&cached.claims))))?;
                (cached.claims, cached.kid)
            }
        };
        session
            .verify_holder(
                &self.crypto,
                &claims.holder,
                &claims.cid,
                &m3.command,
                &m3.holder_sig,
            )
            .map_err(|_| (Refusal::HolderSignature, Some(Who::of(&claims))))?;
        self.count_use(&claims)
            .map_err(|r| (r, Some(Who::of(&claims))))?;
        if matches!(m3.credential, CredentialRef::Full(_)) {
            self.remember(&claims, kid);
            // A verified credential's iat is signed time (R§6.5).
            self.advance_lkgt(claims.iat)
                .map_err(|_| (Refusal::Malformed, None))?;
        }
        Ok((claims, m3.command.op))
    }

    fn check(&mut self, claims: &Claims, kid: &Kid8, op: Operation) -> Result<(), Refusal> {
        let (now, time_trusted) = self.now();
        let binding = self.binding.as_ref().ok_or(Refusal::UntrustedIssuer)?;
        let site = binding.site;
        let kids = binding.issuer_kids;
        let view = LockView {
            site,
            lock_id: self.identity.lock_id,
            trusted_issuers: kids.as_slice(),
            now,
            time_trusted,
            revocation: self.revocation.as_ref(),
            revocation_fresh: self
                .revocation
                .as_ref()
                .and_then(|l| l.next_update)
                .is_some_and(|n| now <= n),
        };
        checks::check_claims(claims, kid, op, &view)
    }

    fn remember(&mut self, claims: &Claims, kid: Kid8) {
        let entry = CachedCredential {
            claims: claims.clone(),
            kid,
        };
        if let Some(slot) = self
            .cache
            .iter_mut()
            .find(|c| c.as_ref().is_some_and(|c| c.claims.cid == claims.cid))
        {
            *slot = Some(entry);
            return;
        }
        if let Some(slot) = self.cache.get_mut(self.cache_next % CACHE_SIZE) {
            *slot = Some(entry);
        }
        self.cache_next = self.cache_next.wrapping_add(1);
    }

    fn apply_revocation(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        let list = self.open_revocation(bytes)?;
        let site = self
            .binding
            .as_ref()
            .map(|b| b.site)
            .ok_or(Refusal::UntrustedIssuer)?;
        checks::check_revocation_update(&site, self.revocation_version(), &list)?;
        // Persist before use: after a power loss the lock must not fall back to an older list.
        self.board
            .flash
            .write(Slot::Revocation, bytes)
            .map_err(|_| Refusal::Malformed)?;
        let iat = list.iat;
        let version = list.version;
        self.revocation = Some(list);
        self.advance_lkgt(iat).map_err(|_| Refusal::Malformed)?;
        self.log_event(
            event::REVOCATION_UPDATED,
            0,
            source::PHONE,
            0,
            None,
            version,
        )
        .map_err(|_| Refusal::Malformed)?;
        Ok(())
    }

    fn apply_time_token(&mut self, session: &LockSession, bytes: &[u8]) -> Result<(), Refusal> {
        let key = self
            .binding
            .as_ref()
            .map(|b| b.time_key)
            .ok_or(Refusal::UntrustedIssuer)?;
        let token =
            TimeToken::open(&self.crypto, bytes, &key).map_err(|_| Refusal::IssuerSignature)?;
        checks::check_time_token(&token, &self.identity.lock_id, &session.m2().nonce)?;
        let secs = token.utc_secs();
        // The RTC follows signed time; last-known-good only ever moves forward.
        self.board.clock.set_rtc(secs.max(self.counters.lkgt));
        self.advance_lkgt(secs).map_err(|_| Refusal::Malformed)?;
        self.log_event(event::TIME_SET, 0, source::PHONE, 0, None, secs)
            .map_err(|_| Refusal::Malformed)?;
        Ok(())
    }

    fn apply_log_ack(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        let key = self
            .binding
            .as_ref()
            .map(|b| b.ack_key)
            .ok_or(Refusal::UntrustedIssuer)?;
        let ack = LogAck::open(&self.crypto, bytes, &key).map_err(|_| Refusal::AckMismatch)?;
        if ack.acked_seq <= self.counters.acked_seq {
            return Ok(()); // Already applied (a courier repeating an old ack).
        }
        let seq = checks::check_log_ack(&ack, &self.identity.lock_id, |s| self.head_at(s))?;
        self.persist_counters(Counters {
            acked_seq: seq,
            acked_head: ack.head,
            ..self.counters
        })
        .map_err(|_| Refusal::Malformed)?;
        let mut keep: Bounded<Record, LOG_CAPACITY> = Bounded::new();
        for r in self.unacked.as_slice().iter().filter(|r| r.seq > seq) {
            keep.push(*r).map_err(|_| Refusal::Malformed)?;
        }
        self.unacked = keep;
        // The prepared batch may hold records the server now has; reseal at the next idle tick.
        self.prepared_batch = None;
        Ok(())
    }

    /// A remote command relayed by a hub: verify, enforce counter and expiry, persist the
    /// counter before acting (a replay after power loss finds it), log, actuate.
    pub fn remote_command(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        let key = self
            .binding
            .as_ref()
            .map(|b| b.time_key)
            .ok_or(Refusal::UntrustedIssuer)?;
        let cmd =
            RemoteCommand::open(&self.crypto, bytes, &key).map_err(|_| Refusal::IssuerSignature)?;
        let (now, trusted) = self.now();
        checks::check_remote_command(
            &cmd,
            &self.identity.lock_id,
            self.counters.cmd_counter,
            now,
            trusted,
        )?;
        self.persist_counters(Counters {
            cmd_counter: cmd.counter,
            ..self.counters
        })
        .map_err(|_| Refusal::Malformed)?;
        self.log_event(
            event::LOCK_OPERATION,
            cmd.op as u8,
            source::REMOTE,
            0,
            None,
            cmd.requester,
        )
        .map_err(|_| Refusal::Malformed)?;
        self.actuate(cmd.op);
        Ok(())
    }
}

/// Signs with the lock identity key without re-deriving its public key.
struct IdentitySigner<'a, C: Crypto> {
    crypto: &'a C,
    identity: &'a Identity,
}

impl<C: Crypto> Signer for IdentitySigner<'_, C> {
    fn public_key(&self) -> &PublicKey {
        &self.identity.lik_public
    }
    fn sign(&self, msg: &[u8]) -> Result<latchkey_protocol::crypto::Signature, Error> {
        self.crypto.ecdsa_sign(&self.identity.lik, msg)
    }
}

fn issuer_key<'b>(binding: &'b Binding, kid: &Kid8) -> Option<&'b PublicKey> {
    binding
        .issuer_kids
        .as_slice()
        .iter()
        .position(|k| k == kid)
        .and_then(|i| binding.issuers.as_slice().get(i))
}
