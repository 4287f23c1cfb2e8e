//! Time-based one-time passwords, RFC 6238 over HOTP (RFC 4226): HMAC-SHA1, 6 digits, 30-second
//! steps from the Unix epoch, one step of clock skew either way (research REQ-9.3; NIST SP 800-63B
//! §5.1.4). Each code is accepted once (ASVS 5.0 6.5.1): verification returns the time step it
//! matched, the caller stores it, and a code whose step is not after the stored one is refused.
//! Wrong codes feed the MFA lane of [`crate::identity::lockout`] (5 tries, research §2.2 L5).

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::identity::base32;

/// Length of a time step in milliseconds (RFC 6238 default X = 30 s).
pub const TOTP_STEP_MS: i64 = 30_000;
/// Digits in a code; what every authenticator app shows by default.
pub const TOTP_DIGITS: u32 = 6;
/// Steps of clock skew accepted on either side of the current one (RFC 6238 §5.2).
pub const TOTP_ALLOWED_SKEW_STEPS: i64 = 1;
/// Length of a new secret: 160 bits, the RFC 4226 §4 recommendation and the SHA-1 output size.
pub const TOTP_SECRET_BYTES: usize = 20;
/// Longest code input looked at; anything longer is malformed without further work.
pub const MAX_CODE_INPUT_BYTES: usize = 32;

/// Why a TOTP code was not accepted; the text tells the person what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum TotpRefusal {
    /// Not six digits (spaces allowed); not a guess, so the caller need not count it.
    #[error("Enter the 6-digit code shown in your authenticator app.")]
    Malformed,
    /// Six digits that match no step in the window; counts as an MFA failure.
    #[error(
        "That code is not correct. Enter the code your authenticator app shows now, and check that your device's clock is right."
    )]
    Wrong,
    /// Correct for a step already used (a replay); counts as an MFA failure.
    #[error("That code was already used. Wait for the next code to appear and enter it.")]
    Reused,
}

/// The RFC 6238 time step (`T`) that contains `now_ms`, counted from the Unix epoch (`T0` = 0).
pub const fn totp_step(now_ms: i64) -> i64 {
    now_ms.div_euclid(TOTP_STEP_MS)
}

/// The HOTP value (RFC 4226 §5.3, dynamic truncation) for `counter`, reduced to `digits` digits.
fn hotp_value(secret: &[u8], counter: u64, digits: u32) -> Option<u32> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).ok()?;
    mac.update(&counter.to_be_bytes());
    let hash: [u8; 20] = mac.finalize().into_bytes().into();
    let offset = usize::from(hash.last()? & 0x0f);
    let window: [u8; 4] = hash.get(offset..offset + 4)?.try_into().ok()?;
    let binary = u32::from_be_bytes(window) & 0x7fff_ffff;
    Some(binary % 10_u32.checked_pow(digits)?)
}

/// The code for time step `step` with `digits` digits (6–8), zero-padded; `None` for a step before
/// the epoch or an unsupported digit count. For tests and test harnesses that act as the app.
pub fn totp_code(secret: &[u8], step: i64, digits: u32) -> Option<String> {
    if !(6..=8).contains(&digits) {
        return None;
    }
    let counter = u64::try_from(step).ok()?;
    let value = hotp_value(secret, counter, digits)?;
    let width = usize::try_from(digits).ok()?;
    Some(format!("{value:0width$}"))
}

/// The six digits of a code as typed, with spaces removed (apps show `123 456`).
fn code_digits(code: &str) -> Option<String> {
    if code.len() > MAX_CODE_INPUT_BYTES {
        return None;
    }
    let digits: String = code.chars().filter(|c| *c != ' ').collect();
    let six = usize::try_from(TOTP_DIGITS).ok()?;
    (digits.len() == six && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Verifies a 6-digit code at `now_ms` within ±1 step; returns the matched step, which the caller
/// must store as the new `last_used_step`. A code for a step at or before `last_used_step` is
/// refused as [`TotpRefusal::Reused`] (ASVS 5.0 6.5.1). Every step in the window is compared in
/// constant time, so the timing does not tell which step (if any) matched.
pub fn verify_totp(
    secret: &[u8],
    code: &str,
    now_ms: i64,
    last_used_step: Option<i64>,
) -> Result<i64, TotpRefusal> {
    let digits = code_digits(code).ok_or(TotpRefusal::Malformed)?;
    let current = totp_step(now_ms);
    let mut fresh_match: Option<i64> = None;
    let mut used_match = false;
    for skew in -TOTP_ALLOWED_SKEW_STEPS..=TOTP_ALLOWED_SKEW_STEPS {
        let step = current.saturating_add(skew);
        let Some(expected) = totp_code(secret, step, TOTP_DIGITS) else {
            continue;
        };
        if bool::from(expected.as_bytes().ct_eq(digits.as_bytes())) {
            if last_used_step.is_some_and(|used| step <= used) {
                used_match = true;
            } else {
                // Steps ascend, so the last fresh match is the latest: it closes the most codes.
                fresh_match = Some(step);
            }
        }
    }
    match (fresh_match, used_match) {
        (Some(step), _) => Ok(step),
        (None, true) => Err(TotpRefusal::Reused),
        (None, false) => Err(TotpRefusal::Wrong),
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, for URI labels and values.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `otpauth://totp/` provisioning URI (Key URI format) that the enrolment QR code carries:
/// issuer and account percent-encoded, secret in unpadded base32, parameters spelled out so apps
/// do not guess.
pub fn provisioning_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={TOTP_DIGITS}&period={period}",
        account = percent_encode(account),
        secret = base32::encode(secret),
        period = TOTP_STEP_MS / 1000,
    )
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The RFC 6238 Appendix B / RFC 4226 Appendix D SHA-1 seed.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn code_at(now_ms: i64) -> String {
        totp_code(RFC_SECRET, totp_step(now_ms), TOTP_DIGITS).unwrap()
    }

    #[test]
    fn rfc_6238_sha1_test_vectors_with_eight_digits() {
        let vectors: [(i64, &str); 6] = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (unix_secs, expected) in vectors {
            let step = totp_step(unix_secs * 1000);
            assert_eq!(
                totp_code(RFC_SECRET, step, 8).unwrap(),
                expected,
                "T = {unix_secs}"
            );
        }
    }

    #[test]
    fn rfc_4226_hotp_test_vectors_with_six_digits() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            let step = i64::try_from(counter).unwrap();
            assert_eq!(
                totp_code(RFC_SECRET, step, 6).unwrap(),
                *code,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn unsupported_digits_and_steps_before_the_epoch_have_no_code() {
        assert_eq!(totp_code(RFC_SECRET, 1, 5), None);
        assert_eq!(totp_code(RFC_SECRET, 1, 9), None);
        assert_eq!(totp_code(RFC_SECRET, -1, 6), None);
        assert_eq!(totp_step(-1), -1);
    }

    #[test]
    fn current_code_is_accepted_and_its_step_returned() {
        let now = 1_234_567_890_000;
        assert_eq!(
            verify_totp(RFC_SECRET, &code_at(now), now, None),
            Ok(totp_step(now))
        );
    }

    #[test]
    fn codes_one_step_either_side_are_accepted_two_steps_are_not() {
        let now = 1_234_567_890_000;
        for (offset_ms, accepted) in [
            (-2 * TOTP_STEP_MS, false),
            (-TOTP_STEP_MS, true),
            (TOTP_STEP_MS, true),
            (2 * TOTP_STEP_MS, false),
        ] {
            let result = verify_totp(RFC_SECRET, &code_at(now + offset_ms), now, None);
            assert_eq!(result.is_ok(), accepted, "offset {offset_ms} ms");
            if !accepted {
                assert_eq!(result, Err(TotpRefusal::Wrong));
            }
        }
    }

    #[test]
    fn a_code_is_accepted_only_once() {
        let now = 1_234_567_890_000;
        let code = code_at(now);
        let step = verify_totp(RFC_SECRET, &code, now, None).unwrap();
        assert_eq!(
            verify_totp(RFC_SECRET, &code, now, Some(step)),
            Err(TotpRefusal::Reused)
        );
        // Still refused a step later, while it is inside the skew window.
        assert_eq!(
            verify_totp(RFC_SECRET, &code, now + TOTP_STEP_MS, Some(step)),
            Err(TotpRefusal::Reused)
        );
        // The next code is fresh.
        let next = code_at(now + TOTP_STEP_MS);
        assert_eq!(
            verify_totp(RFC_SECRET, &next, now + TOTP_STEP_MS, Some(step)),
            Ok(step + 1)
        );
    }

    #[test]
    fn an_older_code_is_refused_once_a_newer_one_was_used() {
        let now = 1_234_567_890_000;
        let previous = code_at(now - TOTP_STEP_MS);
        let step = verify_totp(RFC_SECRET, &code_at(now), now, None).unwrap();
        assert_eq!(
            verify_totp(RFC_SECRET, &previous, now, Some(step)),
            Err(TotpRefusal::Reused)
        );
    }

    #[test]
    fn grouped_codes_are_accepted_and_malformed_ones_refused() {
        let now = 1_234_567_890_000;
        let code = code_at(now);
        let grouped = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify_totp(RFC_SECRET, &grouped, now, None).is_ok());
        for bad in [
            "",
            "12345",
            "1234567",
            "12a456",
            "１２３４５６",
            "123-456",
            &"1".repeat(1000),
        ] {
            assert_eq!(
                verify_totp(RFC_SECRET, bad, now, None),
                Err(TotpRefusal::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn provisioning_uri_percent_encodes_issuer_and_account_and_omits_padding() {
        let uri = provisioning_uri("Acme Doors & Co", "alice@example.com", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Doors%20%26%20Co:alice%40example.com?secret=MZXW6YTBOI&issuer=Acme%20Doors%20%26%20Co&algorithm=SHA1&digits=6&period=30"
        );
        let unicode = provisioning_uri("Zürich:HQ", "bob", RFC_SECRET);
        assert!(unicode.starts_with("otpauth://totp/Z%C3%BCrich%3AHQ:bob?secret="));
    }

    #[test]
    fn refusals_tell_the_person_what_to_do() {
        for refusal in [
            TotpRefusal::Malformed,
            TotpRefusal::Wrong,
            TotpRefusal::Reused,
        ] {
            assert!(refusal.to_string().contains("code"));
        }
    }

    proptest! {
        #[test]
        fn the_code_of_any_moment_verifies_at_that_moment(
            secret in proptest::collection::vec(any::<u8>(), 16..64),
            now in 0_i64..4_000_000_000_000,
        ) {
            let code = totp_code(&secret, totp_step(now), TOTP_DIGITS).unwrap();
            prop_assert_eq!(verify_totp(&secret, &code, now, None), Ok(totp_step(now)));
            prop_assert!(verify_totp(&secret, &code, now, Some(totp_step(now) + 1)).is_err());
        }

        #[test]
        fn verify_never_panics(code in ".{0,40}", now in any::<i64>(), last in any::<Option<i64>>()) {
            let _ = verify_totp(RFC_SECRET, &code, now, last);
        }
    }
}
