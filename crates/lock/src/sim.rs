//! In-memory board for host tests: flash with power-loss injection and a write journal, a
//! settable clock, a recording actuator and deterministic entropy.

use crate::platform::{Actuator, Bolt, Clock, Entropy, Flash, FlashError, Slot};
use std::collections::HashMap;
use std::vec::Vec;

/// One successful flash write, for invariant checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Slot written.
    pub slot: Slot,
    /// New content.
    pub data: Vec<u8>,
    /// Content it replaced.
    pub old: Vec<u8>,
}

/// Flash that survives "reboots" (clone it into the next board) and can fail the n-th write.
#[derive(Debug, Clone, Default)]
pub struct SimFlash {
    slots: HashMap<Slot, Vec<u8>>,
    /// Every successful write in order.
    pub journal: Vec<Write>,
    /// Writes attempted so far.
    pub writes: usize,
    /// Fail (as a power loss) the write with this index, and every later one until cleared.
    pub fail_at: Option<usize>,
}

impl Flash for SimFlash {
    fn read(&mut self, slot: Slot, buf: &mut [u8]) -> Result<usize, FlashError> {
        let Some(data) = self.slots.get(&slot) else {
            return Ok(0);
        };
        let dst = buf.get_mut(..data.len()).ok_or(FlashError::TooLarge)?;
        dst.copy_from_slice(data);
        Ok(data.len())
    }

    fn write(&mut self, slot: Slot, data: &[u8]) -> Result<(), FlashError> {
        let index = self.writes;
        self.writes += 1;
        if self.fail_at.is_some_and(|n| index >= n) {
            return Err(FlashError::PowerLoss);
        }
        let old = self.slots.insert(slot, data.to_vec()).unwrap_or_default();
        self.journal.push(Write {
            slot,
            data: data.to_vec(),
            old,
        });
        Ok(())
    }
}

/// Clock with a settable RTC (lost on power loss unless `rtc_battery`) and manual uptime.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    /// RTC value at uptime `rtc_set_at_ms`, if valid.
    pub rtc: Option<u32>,
    /// Uptime when the RTC was set.
    pub rtc_set_at_ms: u64,
    /// Milliseconds since boot.
    pub uptime_ms: u64,
}

impl SimClock {
    /// Let `ms` pass.
    pub fn advance(&mut self, ms: u64) {
        self.uptime_ms += ms;
    }
}

impl Clock for SimClock {
    fn rtc_secs(&mut self) -> Option<u32> {
        let elapsed = u32::try_from(self.uptime_ms.saturating_sub(self.rtc_set_at_ms) / 1000)
            .unwrap_or(u32::MAX);
        self.rtc.map(|r| r.saturating_add(elapsed))
    }
    fn set_rtc(&mut self, utc_secs: u32) {
        self.rtc = Some(utc_secs);
        self.rtc_set_at_ms = self.uptime_ms;
    }
    fn uptime_ms(&mut self) -> u64 {
        self.uptime_ms
    }
}

/// Actuator that records every movement.
#[derive(Debug, Clone, Default)]
pub struct SimActuator {
    /// Movements in order.
    pub moves: Vec<Bolt>,
}

impl Actuator for SimActuator {
    fn drive(&mut self, to: Bolt) {
        self.moves.push(to);
    }
}

/// Deterministic entropy (a counter through a simple mixer); tests only.
#[derive(Debug, Clone, Default)]
pub struct SimEntropy {
    /// Stream position.
    pub counter: u64,
}

impl Entropy for SimEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf.iter_mut() {
            self.counter = self.counter.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.counter;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *b = (z ^ (z >> 31)) as u8;
        }
    }
}
