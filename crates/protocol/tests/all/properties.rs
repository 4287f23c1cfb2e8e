//! Property tests: decoders never panic on any input, and encodings round-trip.

use super::support::*;
use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::cbor::Writer;
use latchkey_protocol::claim::ClaimBundle;
use latchkey_protocol::cose::Sign1;
use latchkey_protocol::credential::{Claims, Credential, Window};
use latchkey_protocol::crypto::SoftwareCrypto;
use latchkey_protocol::framing::{self, MAX_MESSAGE_LEN, Reassembler};
use latchkey_protocol::handshake::{M1, M2Clear};
use latchkey_protocol::log::{self, LogAck, Record};
use latchkey_protocol::remote_command::RemoteCommand;
use latchkey_protocol::revocation::RevocationList;
use latchkey_protocol::time_token::TimeToken;
use proptest::prelude::*;

const C: SoftwareCrypto = SoftwareCrypto;

fn decode_everything(bytes: &[u8]) {
    let _ = Claims::decode(bytes);
    let _ = Credential::decode(bytes);
    let _ = Sign1::decode(bytes);
    let _ = RevocationList::decode(bytes);
    let _ = TimeToken::decode(bytes);
    let _ = RemoteCommand::decode(bytes);
    let _ = LogAck::decode(bytes);
    let _ = ClaimBundle::decode(bytes);
    let _ = M1::decode(bytes);
    let _ = M2Clear::decode(bytes);
    let _ = Record::from_bytes(bytes);
    let _ = log::batch_header(bytes);
    let mut scratch = [0u8; log::MAX_BATCH_LEN];
    let _ = log::open_batch(&C, &public(&C, LOCK), &[0; 16], bytes, &mut scratch);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        decode_everything(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_credentials(flips in proptest::collection::vec((0usize..219, any::<u8>()), 1..6)) {
        let mut cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
        for (at, x) in flips {
            let n = cred.len();
            cred[at % n] ^= x;
        }
        decode_everything(&cred);
        if let Ok(env) = Sign1::decode(&cred) {
            decode_everything(env.payload);
        }
    }

    #[test]
    fn claims_round_trip(
        uid in any::<u32>(), iat in 0u32..1_000_000, span in 1u32..1_000_000, epoch in any::<u32>(),
        rights in any::<u16>(), user_type in any::<u8>(), max_uses in proptest::option::of(any::<u16>()),
        flags in 0u8..8, nlocks in 0usize..8, nwin in 0usize..16,
    ) {
        let mut c = claims(&C);
        c.uid = uid; c.iat = iat; c.nbf = iat; c.exp = iat + span; c.epoch = epoch; c.rights = rights;
        c.user_type = user_type; c.max_uses = max_uses; c.flags = flags;
        let locks: Vec<[u8; 16]> = (0..nlocks).map(|i| [i as u8; 16]).collect();
        c.locks = Bounded::from_slice(&locks).unwrap();
        let wins: Vec<Window> = (0..nwin as u32).map(|i| Window { start: i * 100, end: i * 100 + 50 }).collect();
        c.windows = Bounded::from_slice(&wins).unwrap();
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        c.encode(&mut w).unwrap();
        prop_assert_eq!(Claims::decode(w.written()).unwrap(), c);
    }

    #[test]
    fn framing_round_trips_for_any_message_and_mtu(len in 1usize..=MAX_MESSAGE_LEN, mtu in 23usize..=247, seed in any::<u8>()) {
        let msg: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
        let mut f = framing::fragment(&msg, mtu).unwrap();
        let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
        let mut buf = [0u8; 256];
        let mut got = None;
        while let Some(n) = f.next_into(&mut buf) {
            if let Some(m) = r.push(&buf[..n.unwrap()], 0).unwrap() {
                got = Some(m.to_vec());
            }
        }
        prop_assert_eq!(got.unwrap(), msg);
    }

    #[test]
    fn reassembler_never_panics_on_arbitrary_frames(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..250), 0..40)) {
        let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
        for (i, f) in frames.iter().enumerate() {
            let _ = r.push(f, i as u64 * 500);
        }
    }
}
