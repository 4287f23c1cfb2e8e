//! Signed time token payload and envelope: no panic; decode∘encode is a fixed point.
#![no_main]

use latchkey_protocol::cbor::Writer;
use latchkey_protocol::crypto::SoftwareCrypto;
use latchkey_protocol::time_token::TimeToken;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = TimeToken::decode(data) {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        t.encode(&mut w).expect("re-encodes");
        assert_eq!(TimeToken::decode(w.written()).expect("decodes"), t);
    }
    let _ = TimeToken::open(&SoftwareCrypto, data, &[2u8; 33]);
});
