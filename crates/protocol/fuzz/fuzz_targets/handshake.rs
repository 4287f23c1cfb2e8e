//! Handshake and provisioning inputs parsed from strangers: M1, M2's clear part, the pairing
//! offer, the claim message and the claim bundle.
#![no_main]

use latchkey_protocol::claim::{ClaimBundle, ClaimRequest, PairingOffer};
use latchkey_protocol::handshake::{M1, M2Clear};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m1) = M1::decode(data) {
        assert_eq!(&m1.encode().expect("re-encodes")[..], data);
    }
    if let Ok(m2) = M2Clear::decode(data) {
        assert_eq!(&m2.encode().expect("re-encodes")[..], data);
    }
    if let Ok(offer) = PairingOffer::decode(data) {
        assert_eq!(&offer.encode().expect("re-encodes")[..], data);
    }
    if let Ok(req) = ClaimRequest::decode(data) {
        let _ = ClaimBundle::decode(req.bundle);
    }
    let _ = ClaimBundle::decode(data);
});
