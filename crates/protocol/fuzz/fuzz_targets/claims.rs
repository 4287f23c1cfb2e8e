//! Credential claims decoder: no panic; whatever decodes re-encodes to something that decodes
//! to the same claims (deterministic encoding is a fixed point).
#![no_main]

use latchkey_protocol::cbor::Writer;
use latchkey_protocol::credential::Claims;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = Claims::decode(data) {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        claims.encode(&mut w).expect("decoded claims re-encode");
        assert_eq!(Claims::decode(w.written()).expect("re-encoded claims decode"), claims);
    }
});
