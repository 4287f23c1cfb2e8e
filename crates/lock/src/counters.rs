//! The persisted counters record: everything that must never go backwards.

use latchkey_protocol::cbor::{Reader, Writer};
use latchkey_protocol::crypto::Digest;
use latchkey_protocol::error::Error;

/// Encoded length of [`Counters`].
pub const COUNTERS_LEN: usize = 1 + 6 * 4 + 32;
const COUNTERS_VERSION: u8 = 1;

/// Monotonic state persisted in [`crate::platform::Slot::Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// Last-known-good time (UTC s); never decreases (Matter LastKnownGoodTime).
    pub lkgt: u32,
    /// No sequence number at or above this has been handed out (counter-epoch pattern).
    pub seq_ceiling: u32,
    /// No batch counter at or above this has been used.
    pub batch_ceiling: u32,
    /// Highest remote-command counter executed.
    pub cmd_counter: u32,
    /// Highest log sequence number acknowledged by the server.
    pub acked_seq: u32,
    /// Chain head at `acked_seq`.
    pub acked_head: Digest,
    /// Events that could not be logged because the log was full of unacknowledged records.
    pub lost_events: u32,
}

impl Counters {
    /// Fixed big-endian encoding.
    pub fn encode(&self) -> Result<[u8; COUNTERS_LEN], Error> {
        let mut out = [0u8; COUNTERS_LEN];
        let mut w = Writer::new(&mut out);
        w.byte(COUNTERS_VERSION)?;
        for v in [
            self.lkgt,
            self.seq_ceiling,
            self.batch_ceiling,
            self.cmd_counter,
            self.acked_seq,
        ] {
            w.be32(v)?;
        }
        w.raw(&self.acked_head)?;
        w.be32(self.lost_events)?;
        Ok(out)
    }

    /// Decode; a wrong length or version is refused (the core then fails closed).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != COUNTERS_LEN {
            return Err(Error::InvalidValue);
        }
        let mut r = Reader::new(bytes);
        if r.u8_raw()? != COUNTERS_VERSION {
            return Err(Error::InvalidValue);
        }
        Ok(Counters {
            lkgt: r.be32()?,
            seq_ceiling: r.be32()?,
            batch_ceiling: r.be32()?,
            cmd_counter: r.be32()?,
            acked_seq: r.be32()?,
            acked_head: r.take_array()?,
            lost_events: r.be32()?,
        })
    }
}
