//! Code-size probe: links every entry point of the lock core (factory provisioning, power-on,
//! tick, button, claim, BLE frame, remote command) over a board whose every input is opaque to
//! the optimiser (`black_box`), with the software crypto backend, so no path of the core can
//! be folded away. It is never meant to run an unlock; `crates/lock/size-report.sh` builds it
//! twice — as is, and with `LATCHKEY_SIZE_BASELINE` set, which returns before touching the
//! core — and reports the difference and a per-crate breakdown of the symbols.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use latchkey_lock::LockCore;
use latchkey_lock::machine::{Board, factory_provision};
use latchkey_lock::platform::{Actuator, Bolt, Clock, Entropy, Flash, FlashError, Slot};
use latchkey_protocol::crypto::SoftwareCrypto;
use std::hint::black_box;

/// Flash whose content and results the optimiser cannot predict.
struct OpaqueFlash;

impl Flash for OpaqueFlash {
    fn read(&mut self, slot: Slot, buf: &mut [u8]) -> Result<usize, FlashError> {
        black_box(slot);
        for b in buf.iter_mut() {
            *b = black_box(0);
        }
        black_box(Ok(black_box(buf.len())))
    }
    fn write(&mut self, slot: Slot, data: &[u8]) -> Result<(), FlashError> {
        black_box((slot, data));
        black_box(Ok(()))
    }
}

struct OpaqueClock;

impl Clock for OpaqueClock {
    fn rtc_secs(&mut self) -> Option<u32> {
        black_box(Some(0))
    }
    fn set_rtc(&mut self, utc_secs: u32) {
        black_box(utc_secs);
    }
    fn uptime_ms(&mut self) -> u64 {
        black_box(0)
    }
}

struct OpaqueActuator;

impl Actuator for OpaqueActuator {
    fn drive(&mut self, to: Bolt) {
        black_box(to);
    }
}

struct OpaqueEntropy;

impl Entropy for OpaqueEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf.iter_mut() {
            *b = black_box(0);
        }
    }
}

fn main() {
    if option_env!("LATCHKEY_SIZE_BASELINE").is_some() {
        return;
    }
    let input = [0u8; 1024];
    let input: &[u8] = black_box(&input);
    let mut flash = OpaqueFlash;
    let secret = factory_provision(&mut flash, &mut OpaqueEntropy, &SoftwareCrypto);
    black_box(&secret);
    let board = Board {
        flash,
        clock: OpaqueClock,
        actuator: OpaqueActuator,
        entropy: OpaqueEntropy,
    };
    let Ok(mut lock) = LockCore::power_on(board, SoftwareCrypto, black_box(0)) else {
        return;
    };
    black_box(lock.button_pressed());
    black_box(lock.claim(input, input).is_ok());
    black_box(lock.tick().is_ok());
    black_box(lock.on_frame(input).ok().flatten().map(<[u8]>::len));
    black_box(lock.remote_command(input).is_ok());
    black_box((lock.bolt(), lock.is_bound(), lock.last_known_good()));
    black_box((lock.revocation_version(), lock.unacked_records().len()));
}
