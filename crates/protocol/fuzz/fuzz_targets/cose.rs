//! COSE_Sign1 envelope and full credential decoding, plus issuer verification on any envelope
//! that parses (exercises the Sig_structure builder with hostile lengths).
#![no_main]

use latchkey_protocol::cose::{AAD_CREDENTIAL, Sign1};
use latchkey_protocol::credential::Credential;
use latchkey_protocol::crypto::SoftwareCrypto;
use libfuzzer_sys::fuzz_target;

const ISSUER: [u8; 33] = [
    0x02, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d,
    0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
];

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Sign1::decode(data) {
        assert!(env.payload.len() <= latchkey_protocol::cose::MAX_PAYLOAD_LEN);
        let _ = env.verify(&SoftwareCrypto, AAD_CREDENTIAL, &ISSUER);
    }
    let _ = Credential::decode(data);
});
