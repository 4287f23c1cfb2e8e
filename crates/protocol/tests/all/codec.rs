//! Codec-level attacks: every strict-decoder rule, tested on real messages.

use super::support::*;
use latchkey_protocol::cbor::Writer;
use latchkey_protocol::cose::Sign1;
use latchkey_protocol::credential::{Claims, Credential};
use latchkey_protocol::crypto::SoftwareCrypto;
use latchkey_protocol::error::Error;
use latchkey_protocol::framing::{self, MAX_MESSAGE_LEN, REASSEMBLY_TIMEOUT_MS, Reassembler};
use latchkey_protocol::handshake::{M1, M2Clear};
use latchkey_protocol::log::Record;
use latchkey_protocol::revocation::RevocationList;

const C: SoftwareCrypto = SoftwareCrypto;

fn claims_cbor() -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    claims(&C).encode(&mut w).unwrap();
    w.written().to_vec()
}

/// Splice: replace the first occurrence of `from` with `to`.
fn splice(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// Bump the map header's entry count and append `extra` entries' bytes.
fn with_extra_entry(bytes: &[u8], extra: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    assert!(out[0] >= 0xa0 && out[0] < 0xb7);
    out[0] += 1;
    out.extend_from_slice(extra);
    out
}

#[test]
fn claims_round_trip_exactly() {
    let bytes = claims_cbor();
    assert_eq!(Claims::decode(&bytes).unwrap(), claims(&C));
}

#[test]
fn claims_with_non_canonical_integer_are_refused() {
    // Key 1 (ver) = 1 written as 0x18 0x01 instead of 0x01.
    let bad = splice(&claims_cbor(), &[0x01, 0x01], &[0x01, 0x18, 0x01]);
    assert_eq!(Claims::decode(&bad), Err(Error::NonCanonicalInteger));
    // Key 5 (uid) = 4242 written in 4 bytes instead of 2.
    let bad = splice(
        &claims_cbor(),
        &[0x05, 0x19, 0x10, 0x92],
        &[0x05, 0x1a, 0, 0, 0x10, 0x92],
    );
    assert_eq!(Claims::decode(&bad), Err(Error::NonCanonicalInteger));
}

#[test]
fn claims_with_indefinite_length_are_refused() {
    let mut bad = claims_cbor();
    bad[0] = 0xbf;
    bad.push(0xff);
    assert_eq!(Claims::decode(&bad), Err(Error::IndefiniteLength));
    let bad = splice(&claims_cbor(), &[0x02, 0x50], &[0x02, 0x5f, 0x50]);
    assert_eq!(Claims::decode(&bad), Err(Error::IndefiniteLength));
}

#[test]
fn claims_with_duplicate_key_are_refused() {
    let bad = with_extra_entry(&claims_cbor(), &[0x01, 0x01]);
    assert_eq!(Claims::decode(&bad), Err(Error::KeyOrder));
}

#[test]
fn claims_with_unknown_critical_key_are_refused_and_extension_keys_skipped() {
    let bad = with_extra_entry(&claims_cbor(), &[0x18, 0x3f, 0x00]);
    assert_eq!(Claims::decode(&bad), Err(Error::UnknownCriticalKey));
    let ok = with_extra_entry(&claims_cbor(), &[0x18, 0x40, 0x63, b'a', b'b', b'c']);
    assert_eq!(Claims::decode(&ok).unwrap(), claims(&C));
}

#[test]
fn claims_with_oversize_fields_are_refused() {
    let cid17 = [[0x51].as_slice(), &[0xc1; 17]].concat();
    let bad = splice(
        &claims_cbor(),
        &[[0x50].as_slice(), &[0xc1; 16]].concat(),
        &cid17,
    );
    assert_eq!(Claims::decode(&bad), Err(Error::Oversize));
    let mut huge = claims_cbor();
    huge.resize(600, 0);
    assert_eq!(Claims::decode(&huge), Err(Error::Oversize));
}

#[test]
fn claims_with_short_field_or_wrong_version_are_refused() {
    let cid15 = [[0x4f].as_slice(), &[0xc1; 15]].concat();
    let bad = splice(
        &claims_cbor(),
        &[[0x50].as_slice(), &[0xc1; 16]].concat(),
        &cid15,
    );
    assert_eq!(Claims::decode(&bad), Err(Error::InvalidValue));
    let bad = splice(&claims_cbor(), &[0x01, 0x01], &[0x01, 0x02]);
    assert_eq!(Claims::decode(&bad), Err(Error::InvalidValue));
}

#[test]
fn claims_with_trailing_bytes_or_truncation_are_refused() {
    let mut bad = claims_cbor();
    bad.push(0x00);
    assert_eq!(Claims::decode(&bad), Err(Error::TrailingBytes));
    let good = claims_cbor();
    for n in 0..good.len() {
        assert!(
            Claims::decode(&good[..n]).is_err(),
            "prefix of {n} bytes accepted"
        );
    }
}

#[test]
fn claims_with_missing_required_key_are_refused() {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    w.map(1).unwrap();
    w.uint(1).unwrap();
    w.uint(1).unwrap();
    assert_eq!(Claims::decode(w.written()), Err(Error::MissingKey));
}

#[test]
fn claims_with_unsorted_locks_or_overlapping_windows_are_refused() {
    let mut c = claims(&C);
    c.locks = latchkey_protocol::bounded::Bounded::from_slice(&[OTHER_LOCK_ID, LOCK_ID]).unwrap();
    let mut buf = [0u8; 512];
    assert_eq!(
        c.encode(&mut Writer::new(&mut buf)),
        Err(Error::InvalidValue)
    );
    // The decoder side: a list naming the same lock twice is not strictly ascending.
    let dup = splice(
        &claims_cbor(),
        &[[0x04, 0x81, 0x50].as_slice(), &LOCK_ID].concat(),
        &[[0x04, 0x82, 0x50].as_slice(), &LOCK_ID, &[0x50], &LOCK_ID].concat(),
    );
    assert_eq!(Claims::decode(&dup), Err(Error::InvalidValue));
}

#[test]
fn cose_with_another_algorithm_is_refused() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    // Protected header {1: -7 (0x26), 4: kid}; -35 (ES384) is 0x38 0x22 — changes the length, so
    // use -8 (EdDSA, 0x27) which keeps it.
    let bad = splice(&cred, &[0xa2, 0x01, 0x26], &[0xa2, 0x01, 0x27]);
    assert_eq!(Sign1::decode(&bad).unwrap_err(), Error::InvalidValue);
}

#[test]
fn cose_with_unprotected_header_or_tag_is_refused() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    // Unprotected bucket follows the 14-byte protected bstr: 0x84, 0x4d, 13 bytes, 0xa0.
    assert_eq!(cred[15], 0xa0);
    let bad = [&cred[..15], &[0xa1, 0x04, 0x41, 0x00], &cred[16..]].concat();
    assert!(Sign1::decode(&bad).is_err());
    let tagged = [&[0xd2][..], &cred].concat();
    assert_eq!(Sign1::decode(&tagged).unwrap_err(), Error::UnexpectedType);
}

#[test]
fn cose_with_extra_protected_parameter_is_refused() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    // Grow the protected map to 3 entries with a "crit" (2) parameter: bstr length 13 → 15.
    let bad = splice(&cred, &[0x4d, 0xa2, 0x01, 0x26], &[0x4f, 0xa3, 0x01, 0x26]);
    let at = bad.windows(1).position(|w| w == [0x04]).unwrap();
    let bad = [&bad[..at], &[0x02, 0x80], &bad[at..]].concat();
    assert!(Sign1::decode(&bad).is_err());
}

#[test]
fn cose_with_short_signature_is_refused() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    let n = cred.len();
    let bad = [&cred[..n - 66], &[0x58, 63], &cred[n - 63..]].concat();
    assert_eq!(Sign1::decode(&bad).unwrap_err(), Error::InvalidValue);
}

#[test]
fn every_truncation_of_a_credential_is_refused() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    for n in 0..cred.len() {
        assert!(Credential::decode(&cred[..n]).is_err());
    }
}

fn list_payload(list: &RevocationList) -> Vec<u8> {
    let mut buf = [0u8; 640];
    let mut w = Writer::new(&mut buf);
    list.encode(&mut w).unwrap();
    w.written().to_vec()
}

#[test]
fn revocation_list_round_trips_and_refuses_unsorted_or_ragged_entries() {
    let list = revocation_list(3);
    let bytes = list_payload(&list);
    assert_eq!(RevocationList::decode(&bytes).unwrap(), list);
    // Swap the two deny entries (0x0d… then 0xd0…): ascending order broken.
    let e1 = [[0x0d; 8].as_slice(), &(NOW + DAY).to_be_bytes()].concat();
    let e2 = [[0xd0; 8].as_slice(), &(NOW + 2 * DAY).to_be_bytes()].concat();
    let swapped = splice(
        &bytes,
        &[e1.clone(), e2.clone()].concat(),
        &[e2, e1].concat(),
    );
    assert_eq!(RevocationList::decode(&swapped), Err(Error::InvalidValue));
    // Deny bstr of 24 bytes shortened to 23: not a whole number of entries.
    let ragged = splice(&bytes, &[0x05, 0x58, 24], &[0x05, 0x57]);
    assert!(RevocationList::decode(&ragged).is_err());
}

#[test]
fn revocation_list_version_zero_is_refused() {
    let mut list = revocation_list(1);
    list.version = 0;
    let mut buf = [0u8; 640];
    assert_eq!(
        list.encode(&mut Writer::new(&mut buf)),
        Err(Error::InvalidValue)
    );
}

#[test]
fn handshake_headers_refuse_wrong_length_type_and_reserved_bits() {
    let m1 = M1 {
        versions: 1,
        flags: 0,
        ephemeral: public(&C, 0x71),
        nonce: [1; 16],
    }
    .encode()
    .unwrap();
    assert_eq!(M1::decode(&m1[..51]), Err(Error::Truncated));
    assert_eq!(
        M1::decode(&[&m1[..], &[0]].concat()),
        Err(Error::TrailingBytes)
    );
    let mut bad = m1;
    bad[2] = 0x80;
    assert_eq!(
        M1::decode(&bad),
        Err(Error::InvalidValue),
        "reserved flag bits"
    );
    let mut bad = m1;
    bad[0] = 2;
    assert_eq!(M1::decode(&bad), Err(Error::UnexpectedType));
    let mut bad = m1;
    bad[3] = 0x04;
    assert_eq!(
        M1::decode(&bad),
        Err(Error::InvalidValue),
        "uncompressed point prefix"
    );
    let m2 = M2Clear {
        version: 1,
        ephemeral: public(&C, 0x81),
        nonce: [2; 16],
        lock_id: LOCK_ID,
        rev_ver: 1,
        lock_time: NOW,
        status: 0x80,
        cfg_ver: 1,
    };
    assert_eq!(
        M2Clear::decode(&m2.encode().unwrap()),
        Err(Error::InvalidValue),
        "reserved status bits"
    );
}

#[test]
fn log_record_is_exactly_32_bytes() {
    let r = Record {
        seq: 9,
        time: NOW,
        flags: 1,
        event: 2,
        op: 3,
        source: 4,
        error: 5,
        cred_type: 6,
        user_index: 7,
        cid8: [8; 8],
        uid: 10,
        aux: 11,
    };
    assert_eq!(Record::from_bytes(&r.to_bytes()).unwrap(), r);
    assert_eq!(
        Record::from_bytes(&r.to_bytes()[..31]),
        Err(Error::InvalidValue)
    );
}

fn frames(msg: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut f = framing::fragment(msg, mtu).unwrap();
    let mut buf = [0u8; 512];
    while let Some(n) = f.next_into(&mut buf) {
        out.push(buf[..n.unwrap()].to_vec());
    }
    out
}

#[test]
fn framing_round_trips_at_mtu_23_and_247() {
    let msg: Vec<u8> = (0..=255u8).cycle().take(MAX_MESSAGE_LEN).collect();
    for mtu in [23, 247] {
        let fs = frames(&msg, mtu);
        assert!(fs.iter().all(|f| f.len() <= mtu - 3));
        let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
        let mut got = None;
        for f in &fs {
            if let Some(m) = r.push(f, 1).unwrap() {
                got = Some(m.to_vec());
            }
        }
        assert_eq!(got.unwrap(), msg, "mtu {mtu}");
    }
}

#[test]
fn reassembly_beyond_one_kib_is_refused() {
    let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
    let chunk = [0u8; 19];
    r.push(&[[0x80].as_slice(), &chunk].concat(), 0).unwrap();
    let mut last = Ok(None);
    for seq in 1..=60u8 {
        last = r
            .push(&[[seq & 0x3f].as_slice(), &chunk].concat(), 0)
            .map(|m| m.map(<[u8]>::to_vec));
        if last.is_err() {
            break;
        }
    }
    assert_eq!(last, Err(Error::Oversize));
    assert!(framing::fragment(&[0u8; MAX_MESSAGE_LEN + 1], 247).is_err());
}

#[test]
fn frames_out_of_sequence_or_without_start_are_refused() {
    let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
    assert_eq!(
        r.push(&[0x01, 0xaa], 0).unwrap_err(),
        Error::FrameSequence,
        "no first frame"
    );
    r.push(&[0x80, 0xaa], 0).unwrap();
    assert_eq!(
        r.push(&[0x02, 0xaa], 0).unwrap_err(),
        Error::FrameSequence,
        "skipped seq 1"
    );
    r.push(&[0x80, 0xaa], 0).unwrap();
    assert_eq!(
        r.push(&[0x00, 0xaa], 0).unwrap_err(),
        Error::FrameSequence,
        "duplicated seq 0"
    );
    assert_eq!(r.push(&[], 0).unwrap_err(), Error::Truncated);
    assert_eq!(
        r.push(&[0x81, 0xaa], 0).unwrap_err(),
        Error::FrameSequence,
        "first frame must be seq 0"
    );
}

#[test]
fn reassembly_times_out_after_ten_seconds() {
    let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
    r.push(&[0x80, 1], 1_000).unwrap();
    assert_eq!(
        r.push(&[0x41, 2], 1_000 + REASSEMBLY_TIMEOUT_MS + 1)
            .unwrap_err(),
        Error::Timeout
    );
    r.push(&[0x80, 1], 50_000).unwrap();
    assert_eq!(
        r.push(&[0x41, 2], 50_000 + REASSEMBLY_TIMEOUT_MS)
            .unwrap()
            .unwrap(),
        &[1, 2]
    );
}

#[test]
fn a_new_first_frame_restarts_reassembly() {
    let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
    r.push(&[0x80, 1], 0).unwrap();
    assert_eq!(r.push(&[0xc0, 9], 0).unwrap().unwrap(), &[9]);
}
