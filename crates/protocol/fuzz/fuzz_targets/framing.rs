//! BLE reassembly: arbitrary frame sequences (first byte of each chunk = its length, then a
//! time step) must never panic, and anything reassembled stays within the 1 KiB cap.
#![no_main]

use latchkey_protocol::framing::{MAX_MESSAGE_LEN, Reassembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
    let mut rest = data;
    let mut now_ms = 0u64;
    while let [len, step, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (frame, after) = tail.split_at(n);
        now_ms += u64::from(*step) * 100;
        if let Ok(Some(msg)) = r.push(frame, now_ms) {
            assert!(!msg.is_empty() && msg.len() <= MAX_MESSAGE_LEN);
        }
        rest = after;
    }
});
