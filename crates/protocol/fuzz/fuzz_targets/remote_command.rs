//! Remote command (the MQTT `.../cmd` payload): no panic; decode∘encode is a fixed point.
#![no_main]

use latchkey_protocol::cbor::Writer;
use latchkey_protocol::crypto::SoftwareCrypto;
use latchkey_protocol::remote_command::RemoteCommand;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = RemoteCommand::decode(data) {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        c.encode(&mut w).expect("re-encodes");
        assert_eq!(RemoteCommand::decode(w.written()).expect("decodes"), c);
    }
    let _ = RemoteCommand::open(&SoftwareCrypto, data, &[2u8; 33]);
});
