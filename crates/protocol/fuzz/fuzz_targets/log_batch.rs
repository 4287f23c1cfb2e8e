//! Sealed log batch (server side) and log ack decoding: no panic on hostile couriers' bytes.
#![no_main]

use latchkey_protocol::crypto::SoftwareCrypto;
use latchkey_protocol::log::{self, LogAck, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = log::batch_header(data);
    let mut scratch = [0u8; log::MAX_BATCH_LEN];
    let _ = log::open_batch(&SoftwareCrypto, &[2u8; 33], &[7u8; 16], data, &mut scratch);
    let _ = LogAck::decode(data);
    if let Ok(r) = Record::from_bytes(data) {
        assert_eq!(&r.to_bytes()[..], data);
    }
});
