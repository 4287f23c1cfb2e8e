//! The lock's view of its hardware: four narrow traits, so the core is pure logic and the
//! simulator (feature `sim`) can inject faults.

/// Named persistent slots. Each slot is replaced atomically: after a power loss it holds
/// either the old or the new content, never a mix (a real driver uses two pages with a
/// sequence number and CRC per slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Factory identity: lock id, identity scalar, setup secret.
    Identity,
    /// The signed claim bundle of the site this lock is bound to.
    Binding,
    /// The newest verified revocation list, as signed bytes.
    Revocation,
    /// Monotonic counters: last-known-good time, sequence and batch ceilings, command counter,
    /// acknowledged log position.
    Counters,
    /// One event-log record; index = `seq % LOG_CAPACITY`.
    Log(u16),
    /// Use counts of limited-use credentials.
    Uses,
}

/// Flash failure. After any error the core stops acting on the current event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashError {
    /// Power failed during the write (simulator) — the device will reboot.
    PowerLoss,
    /// Slot content larger than the slot.
    TooLarge,
    /// Hardware error.
    Io,
}

/// Persistent storage.
pub trait Flash {
    /// Copy slot content into `buf`; returns its length (0 = empty slot).
    fn read(&mut self, slot: Slot, buf: &mut [u8]) -> Result<usize, FlashError>;
    /// Atomically replace the slot's content.
    fn write(&mut self, slot: Slot, data: &[u8]) -> Result<(), FlashError>;
}

/// Real-time clock and uptime.
pub trait Clock {
    /// RTC in UTC seconds, or `None` if it lost power since it was last set.
    fn rtc_secs(&mut self) -> Option<u32>;
    /// Set the RTC (from a verified signed time token).
    fn set_rtc(&mut self, utc_secs: u32);
    /// Milliseconds since boot (monotonic; restarts at 0 on power-on).
    fn uptime_ms(&mut self) -> u64;
}

/// Bolt positions the actuator can be driven to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bolt {
    /// Bolt thrown.
    Locked,
    /// Bolt retracted.
    Unlocked,
    /// Latch pulled.
    Unlatched,
}

/// The motor.
pub trait Actuator {
    /// Drive the bolt to `to`.
    fn drive(&mut self, to: Bolt);
}

/// Hardware random numbers (ephemeral keys, nonces).
pub trait Entropy {
    /// Fill `buf` with uniformly random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}
