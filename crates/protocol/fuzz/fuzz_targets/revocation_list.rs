//! Revocation list payload and signed envelope: no panic; decode∘encode is a fixed point.
#![no_main]

use latchkey_protocol::cbor::Writer;
use latchkey_protocol::crypto::SoftwareCrypto;
use latchkey_protocol::revocation::RevocationList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = RevocationList::decode(data) {
        let mut buf = [0u8; 640];
        let mut w = Writer::new(&mut buf);
        list.encode(&mut w).expect("decoded list re-encodes");
        assert_eq!(RevocationList::decode(w.written()).expect("re-encoded list decodes"), list);
    }
    let _ = RevocationList::open(&SoftwareCrypto, data, &[2u8; 33]);
});
