//! Pure lock-side decisions, in the design brief's order (cheap first). The lock core calls
//! these; signatures are checked separately because they are the expensive part (P3).

use crate::credential::{Claims, FLAG_NEEDS_TRUSTED_TIME, FLAG_ONLINE_ONLY};
use crate::crypto::Digest;
use crate::ids::{Id16, Kid8, Operation, cid8};
use crate::log::LogAck;
use crate::remote_command::RemoteCommand;
use crate::revocation::RevocationList;
use crate::time_token::TimeToken;

/// Allowed clock skew around `nbf`/`exp` (design brief: skew ≤ 5 min).
pub const MAX_SKEW_SECS: u32 = 300;
/// A remote command may not be valid further ahead than this (design brief: `not_after ≤ now + 30 s`).
pub const MAX_COMMAND_AHEAD_SECS: u32 = 30;

/// Why the lock said no. Codes are stable: they travel in M4 and land in the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum Refusal {
    /// Credential is for another site.
    WrongSite = 1,
    /// Credential (or command, or token) is for another lock.
    WrongLock = 2,
    /// Issuer key id not trusted by this lock.
    UntrustedIssuer = 3,
    /// `now + skew < nbf`.
    NotYetValid = 4,
    /// `now > exp + skew`.
    Expired = 5,
    /// Credential demands trusted time and the lock's clock is untrusted.
    NeedsTrustedTime = 6,
    /// `epoch < min_epoch`.
    EpochRevoked = 7,
    /// `iat` below the user's floor.
    UserFloor = 8,
    /// Credential id on the deny-list.
    Denied = 9,
    /// Outside every access window (or windows cannot be judged without trusted time).
    OutsideWindow = 10,
    /// Rights do not include the operation.
    RightMissing = 11,
    /// Issuer signature invalid.
    IssuerSignature = 12,
    /// Holder signature invalid (wrong transcript or command).
    HolderSignature = 13,
    /// Message could not be decoded.
    Malformed = 14,
    /// Offered revocation list is not newer than the lock's.
    StaleRevocationList = 15,
    /// Time token bound to another session's nonce.
    TimeTokenForOtherSession = 16,
    /// Remote command counter not above the last one seen.
    CommandReplayed = 17,
    /// Remote command past `not_after`.
    CommandExpired = 18,
    /// Remote command valid too far in the future.
    CommandTooFarAhead = 19,
    /// Credential is online-only and the lock's revocation data is stale.
    RevocationStale = 20,
    /// Log ack does not match the lock's own chain.
    AckMismatch = 21,
    /// Too many wrong attempts: temporarily refusing.
    LockedOut = 22,
    /// Cached-credential id not in the cache (phone must send the full credential).
    NotCached = 23,
    /// The credential's `max_uses` is used up (or the lock cannot track another limited credential).
    UsesExhausted = 24,
}

impl Refusal {
    /// Stable code.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

/// What the lock knows when judging a credential.
#[derive(Debug, Clone, Copy)]
pub struct LockView<'a> {
    /// Site the lock is bound to.
    pub site: Id16,
    /// This lock.
    pub lock_id: Id16,
    /// Trusted issuer key ids.
    pub trusted_issuers: &'a [Kid8],
    /// Lock time (UTC s), never below last-known-good.
    pub now: u32,
    /// Whether `now` comes from a trusted source since the last power loss.
    pub time_trusted: bool,
    /// Current revocation list, if any.
    pub revocation: Option<&'a RevocationList>,
    /// Whether the revocation list is within the staleness bound.
    pub revocation_fresh: bool,
}

/// Checks 1–5 of the design brief for `op`: scope, issuer, validity time, revocation, window
/// and rights. Signatures (checks 6–7) are the caller's, after these pass.
pub fn check_claims(
    claims: &Claims,
    kid: &Kid8,
    op: Operation,
    view: &LockView<'_>,
) -> Result<(), Refusal> {
    // 1. Scope.
    if claims.site != view.site {
        return Err(Refusal::WrongSite);
    }
    if !claims.covers_lock(&view.lock_id) {
        return Err(Refusal::WrongLock);
    }
    // 2. Trusted issuer.
    if !view.trusted_issuers.contains(kid) {
        return Err(Refusal::UntrustedIssuer);
    }
    // 3. Validity time with skew; untrusted clock fails closed for credentials that ask (research §6.5).
    if claims.flags & FLAG_NEEDS_TRUSTED_TIME != 0 && !view.time_trusted {
        return Err(Refusal::NeedsTrustedTime);
    }
    if view.now.saturating_add(MAX_SKEW_SECS) < claims.nbf {
        return Err(Refusal::NotYetValid);
    }
    if view.now > claims.exp.saturating_add(MAX_SKEW_SECS) {
        return Err(Refusal::Expired);
    }
    // 4. Revocation: epoch watermark, per-user floor, explicit deny-list.
    if let Some(list) = view.revocation {
        if claims.epoch < list.min_epoch {
            return Err(Refusal::EpochRevoked);
        }
        if list
            .user_floor(claims.uid)
            .is_some_and(|floor| claims.iat < floor)
        {
            return Err(Refusal::UserFloor);
        }
        if list.is_denied(&cid8(&claims.cid)) {
            return Err(Refusal::Denied);
        }
    }
    if claims.flags & FLAG_ONLINE_ONLY != 0 && !view.revocation_fresh {
        return Err(Refusal::RevocationStale);
    }
    // 5. Access windows (UTC, half-open) — without trusted time a schedule cannot be judged.
    if !claims.windows.is_empty() {
        let inside = claims
            .windows
            .as_slice()
            .iter()
            .any(|w| w.start <= view.now && view.now < w.end);
        if !view.time_trusted || !inside {
            return Err(Refusal::OutsideWindow);
        }
    }
    if claims.rights & op.right_bit() == 0 {
        return Err(Refusal::RightMissing);
    }
    Ok(())
}

/// Accept a verified revocation list only if it is for this site and strictly newer (research §6.4).
pub fn check_revocation_update(
    site: &Id16,
    current_version: u32,
    offered: &RevocationList,
) -> Result<(), Refusal> {
    if offered.site != *site {
        return Err(Refusal::WrongSite);
    }
    if offered.version <= current_version {
        return Err(Refusal::StaleRevocationList);
    }
    Ok(())
}

/// Accept a verified time token only for this lock and this session's M2 nonce.
pub fn check_time_token(
    token: &TimeToken,
    lock_id: &Id16,
    session_nonce: &[u8; 16],
) -> Result<(), Refusal> {
    if token.lock_id != *lock_id {
        return Err(Refusal::WrongLock);
    }
    if token.nonce != *session_nonce {
        return Err(Refusal::TimeTokenForOtherSession);
    }
    Ok(())
}

/// Last-known-good time never goes backwards (Matter LastKnownGoodTime): `max(lkgt, candidate)`.
pub fn next_last_known_good(lkgt: u32, candidate: u32) -> u32 {
    lkgt.max(candidate)
}

/// Accept a verified remote command: right lock, fresh counter, `now ≤ not_after ≤ now + 30 s`.
/// Without trusted time `now` may lag real time, so remote commands fail closed.
pub fn check_remote_command(
    cmd: &RemoteCommand,
    lock_id: &Id16,
    last_counter: u32,
    now: u32,
    time_trusted: bool,
) -> Result<(), Refusal> {
    if cmd.lock_id != *lock_id {
        return Err(Refusal::WrongLock);
    }
    if cmd.counter <= last_counter {
        return Err(Refusal::CommandReplayed);
    }
    if !time_trusted {
        return Err(Refusal::NeedsTrustedTime);
    }
    if now > cmd.not_after {
        return Err(Refusal::CommandExpired);
    }
    if cmd.not_after > now.saturating_add(MAX_COMMAND_AHEAD_SECS) {
        return Err(Refusal::CommandTooFarAhead);
    }
    Ok(())
}

/// Accept a verified log ack: it must name this lock and match the lock's own chain head at
/// `acked_seq` (`head_at` looks it up); returns the seq up to which records may be freed.
pub fn check_log_ack(
    ack: &LogAck,
    lock_id: &Id16,
    head_at: impl FnOnce(u32) -> Option<Digest>,
) -> Result<u32, Refusal> {
    if ack.lock_id != *lock_id {
        return Err(Refusal::WrongLock);
    }
    match head_at(ack.acked_seq) {
        Some(h) if crate::crypto::ct_eq(&h, &ack.head) => Ok(ack.acked_seq),
        _ => Err(Refusal::AckMismatch),
    }
}
