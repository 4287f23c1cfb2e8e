//! P1/P2 (design/performance.md) through the whole lock core on the simulated board: the
//! lock's work from the first M1 frame to M4 (reassembly, handshake, checks, signatures,
//! simulated flash writes, event log, sealed log batch in M4), against the primitives it must
//! perform, measured interleaved in one run (10th percentile per workload; see the protocol
//! crate's bench for why).
//!
//! Every M4 hands the phone a sealed log batch. The lock seals it while idle (`tick`, untimed
//! here, like the ephemeral key), so its checkpoint signature is off the unlock path.
//!
//! Run: `CARGO_TARGET_DIR=target-protocol cargo bench -p latchkey-lock --bench lock_unlock`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod fixture;

use fixture::{C, Fixture, public, scalar};
use latchkey_lock::sim::{SimActuator, SimFlash};
use latchkey_protocol::credential::Credential;
use latchkey_protocol::crypto::Crypto;
use std::hint::black_box;
use std::time::Instant;

type Lock = fixture::Lock<SimFlash, SimActuator>;

fn time<T>(f: impl FnOnce() -> T) -> f64 {
    let t = Instant::now();
    black_box(f());
    t.elapsed().as_nanos() as f64
}

fn p10(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 10]
}

fn main() {
    let mut f = Fixture::new(SimFlash::default(), SimActuator::default());
    let credential = f.credential.clone();
    let (cred, _) = Credential::decode(&credential).unwrap();
    let sig_msg = f.holder_sig_msg;
    let issuer = public(0x11);
    let holder = public(0x33);
    let holder_sig = C.ecdsa_sign(&scalar(0x33), &sig_msg).unwrap();
    let eph = scalar(0x88);
    let peer = public(0x77);
    let mut s: Vec<Vec<f64>> = vec![Vec::new(); 8];
    for _ in 0..60 {
        f.prime();
        s[0].push(time(|| f.unlock(false)));
        f.prime();
        s[1].push(time(|| f.unlock(true)));
        s[2].push(time(|| C.ecdh(&eph, &peer).unwrap()));
        s[3].push(time(|| C.ecdsa_sign(&scalar(0x22), &[7u8; 45]).unwrap()));
        s[4].push(time(|| cred.verify_issuer(&C, &issuer).unwrap()));
        s[5].push(time(|| {
            C.ecdsa_verify(&holder, &sig_msg, &holder_sig).unwrap()
        }));
        s[6].push(
            time(|| {
                for _ in 0..100 {
                    let mut buf = [0u8; 600];
                    black_box(C.aead_seal(&[1; 16], &[2; 12], &[3], &mut buf).unwrap());
                }
            }) / 100.0,
        );
        s[7].push(
            time(|| {
                for _ in 0..100 {
                    let prk = C.hkdf_extract(&[9; 32], &[8; 32]);
                    let mut okm = [0u8; 28];
                    C.hkdf_expand(&prk, &[b"lk p2l"], &mut okm).unwrap();
                    C.hkdf_expand(&prk, &[b"lk l2p"], &mut okm).unwrap();
                }
            }) / 100.0,
        );
    }
    let m: Vec<f64> = s.iter_mut().map(|v| p10(v)).collect();
    let (first, cached, ecdh, sign, v_iss, v_hold, aead600, hkdf) =
        (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
    // Three AEAD operations per handshake, bounded above by three 600-byte seals.
    let aead = 3.0 * aead600;
    let p1 = ecdh + sign + v_iss + v_hold + aead + hkdf;
    let p2 = ecdh + sign + v_hold + aead + hkdf;
    let us = |x: f64| x / 1000.0;
    println!(
        "software: ecdh {:.1} µs, sign {:.1} µs, verify {:.1}/{:.1} µs, 3 AEAD {:.2} µs, hkdf {:.2} µs",
        us(ecdh),
        us(sign),
        us(v_iss),
        us(v_hold),
        us(aead),
        us(hkdf)
    );
    // RAM: the core is no_std without an allocator, so its whole state is this one value (plus
    // stack buffers of at most a few KiB per call: message, reassembly and batch buffers).
    println!(
        "lock core state: {} bytes (static; no heap)",
        std::mem::size_of::<Lock>()
    );
    println!(
        "P1 lock core: first unlock {:.1} µs / primitives {:.1} µs = {:.3}x (bar <= 1.10x)",
        us(first),
        us(p1),
        first / p1
    );
    println!(
        "P2 lock core: cached unlock {:.1} µs / primitives {:.1} µs = {:.3}x (bar <= 1.10x)",
        us(cached),
        us(p2),
        cached / p2
    );
}
