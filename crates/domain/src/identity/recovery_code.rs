//! MFA recovery codes (security.md "MFA"; ASVS 5.0 6.5.2): ten single-use codes shown once at
//! enrolment and stored hashed. The caller supplies the randomness (a CSPRNG in the server); these
//! functions only shape it: each code is 10 base32 characters (50 bits), written `xxxxx-xxxxx` in
//! lower case, and typed input is normalised so case, spaces and dashes do not matter.

use crate::identity::base32;

/// Codes issued per enrolment.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Base32 characters per code (50 bits of the caller's randomness).
pub const RECOVERY_CODE_CHARS: usize = 10;
/// Random bytes consumed per code (56 bits; the first 50 are used).
pub const RECOVERY_CODE_RANDOM_BYTES: usize = 7;
/// Random bytes consumed by [`format_recovery_codes`].
pub const RECOVERY_CODES_RANDOM_BYTES: usize = RECOVERY_CODE_COUNT * RECOVERY_CODE_RANDOM_BYTES;
/// Longest input [`normalise_recovery_code`] looks at.
pub const MAX_RECOVERY_CODE_INPUT_BYTES: usize = 64;

/// Groups 10 base32 characters as `xxxxx-xxxxx`, the canonical (stored and displayed) form.
fn grouped(chars: &str) -> Option<String> {
    let (first, second) = (chars.get(..5)?, chars.get(5..RECOVERY_CODE_CHARS)?);
    Some(format!("{first}-{second}"))
}

/// One code in canonical form from 7 random bytes.
pub fn format_recovery_code(random: &[u8; RECOVERY_CODE_RANDOM_BYTES]) -> String {
    let encoded = base32::encode(random).to_ascii_lowercase();
    // 7 bytes encode to 12 characters, so the first 10 always exist.
    grouped(&encoded).unwrap_or(encoded)
}

/// The ten codes of one enrolment, in canonical form, from 70 random bytes.
pub fn format_recovery_codes(random: &[u8; RECOVERY_CODES_RANDOM_BYTES]) -> Vec<String> {
    random
        .chunks_exact(RECOVERY_CODE_RANDOM_BYTES)
        .filter_map(|chunk| <&[u8; RECOVERY_CODE_RANDOM_BYTES]>::try_from(chunk).ok())
        .map(format_recovery_code)
        .collect()
}

/// The canonical form of a typed code (any case, spaces and dashes anywhere), or `None` if it is
/// not 10 base32 characters; hash and compare this form.
pub fn normalise_recovery_code(input: &str) -> Option<String> {
    if input.len() > MAX_RECOVERY_CODE_INPUT_BYTES {
        return None;
    }
    let chars: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '–' | '—'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = chars.len() == RECOVERY_CODE_CHARS
        && chars
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
    if valid { grouped(&chars) } else { None }
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

    #[test]
    fn ten_codes_of_ten_base32_characters_grouped_in_fives() {
        let random: [u8; RECOVERY_CODES_RANDOM_BYTES] = std::array::from_fn(|i| i as u8);
        let codes = format_recovery_codes(&random);
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            assert_eq!(
                normalise_recovery_code(code).as_deref(),
                Some(code.as_str())
            );
        }
        // Different random bytes give different codes.
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODE_COUNT);
        assert_eq!(format_recovery_code(&[0; 7]), "aaaaa-aaaaa");
        assert_eq!(format_recovery_code(&[0xff; 7]), "77777-77777");
    }

    #[test]
    fn typed_codes_are_normalised_whatever_the_case_spaces_or_dashes() {
        for typed in [
            "abcde-fgh23",
            "ABCDE-FGH23",
            "abcdefgh23",
            " abcde fgh23 ",
            "ab-cde–fgh-23",
        ] {
            assert_eq!(
                normalise_recovery_code(typed).as_deref(),
                Some("abcde-fgh23"),
                "{typed}"
            );
        }
    }

    #[test]
    fn malformed_codes_normalise_to_nothing() {
        for bad in [
            "",
            "abcde-fgh2",
            "abcde-fgh234",
            "abcde-fgh21",
            "abcde-fgh2ä",
            &"a".repeat(100),
        ] {
            assert_eq!(normalise_recovery_code(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_formatted_code_normalises_to_itself(random in any::<[u8; 7]>()) {
            let code = format_recovery_code(&random);
            prop_assert_eq!(normalise_recovery_code(&code.to_uppercase()), Some(code));
        }

        #[test]
        fn normalising_never_panics(input in ".{0,80}") {
            let _ = normalise_recovery_code(&input);
        }
    }
}
