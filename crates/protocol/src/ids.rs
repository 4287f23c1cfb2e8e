//! Identifiers and small shared value types.

/// 16-byte identifier (site, lock, credential); random, opaque (research §6.2).
pub type Id16 = [u8; 16];
/// First 8 bytes of a credential id, as stored in the deny-list (research §6.4 `cid8`).
pub type Cid8 = [u8; 8];
/// Key id: first 8 bytes of SHA-256 over the compressed public key (research §6.1).
pub type Kid8 = [u8; 8];

/// The `cid8` of a credential id.
pub fn cid8(cid: &Id16) -> Cid8 {
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(cid.iter()) {
        *o = *b;
    }
    out
}

/// Operations a holder or remote command may request; each maps to one rights bit (research §6.2 key 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Operation {
    /// Retract the bolt.
    Unlock = 0,
    /// Throw the bolt.
    Lock = 1,
    /// Pull the latch only.
    Unlatch = 2,
    /// Read the event log.
    ReadLog = 3,
    /// Set the lock's clock.
    SetTime = 4,
    /// Override privacy mode.
    OverridePrivacy = 5,
    /// Toggle passage mode.
    PassageMode = 6,
    /// Administer configuration.
    Admin = 7,
}

impl Operation {
    /// Decode a wire op code; unknown codes are refused.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Operation::Unlock,
            1 => Operation::Lock,
            2 => Operation::Unlatch,
            3 => Operation::ReadLog,
            4 => Operation::SetTime,
            5 => Operation::OverridePrivacy,
            6 => Operation::PassageMode,
            7 => Operation::Admin,
            _ => return None,
        })
    }

    /// The rights bit that permits this operation.
    pub const fn right_bit(self) -> u16 {
        1u16 << (self as u8)
    }
}
