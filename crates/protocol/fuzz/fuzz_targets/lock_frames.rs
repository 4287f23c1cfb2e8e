//! The whole lock core fed hostile BLE frames (claimed and unclaimed): no panic, and the bolt
//! never moves (no input here carries a valid credential).
#![no_main]

use latchkey_lock::LockCore;
use latchkey_lock::machine::{Board, factory_provision};
use latchkey_lock::sim::{SimActuator, SimClock, SimEntropy, SimFlash};
use latchkey_protocol::crypto::SoftwareCrypto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut flash = SimFlash::default();
    let mut entropy = SimEntropy::default();
    if factory_provision(&mut flash, &mut entropy, &SoftwareCrypto).is_err() {
        return;
    }
    let clock = SimClock { rtc: Some(1_795_910_400), ..SimClock::default() };
    let board = Board { flash, clock, actuator: SimActuator::default(), entropy };
    let Ok(mut lock) = LockCore::power_on(board, SoftwareCrypto, 1_795_000_000) else { return };
    // First byte: press the button (opens the pairing window) or not.
    let Some((&mode, mut rest)) = data.split_first() else { return };
    if mode & 1 == 1 {
        let _ = lock.button_pressed();
    }
    // Then frames, each prefixed by its length.
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let (frame, after) = tail.split_at(n);
        let _ = lock.on_frame(frame);
        lock.board.clock.advance(50);
        rest = after;
    }
    assert!(lock.board.actuator.moves.is_empty(), "bolt moved on fuzz input");
});
