//! Handshake and provisioning inputs a lock parses from strangers: M1, M2's clear part, and
//! the claim bundle.
#![no_main]

use latchkey_protocol::claim::ClaimBundle;
use latchkey_protocol::handshake::{M1, M2Clear};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m1) = M1::decode(data) {
        assert_eq!(&m1.encode().expect("re-encodes")[..], data);
    }
    if let Ok(m2) = M2Clear::decode(data) {
        assert_eq!(&m2.encode().expect("re-encodes")[..], data);
    }
    let _ = ClaimBundle::decode(data);
});
