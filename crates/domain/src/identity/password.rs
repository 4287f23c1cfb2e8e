//! The password policy (research §1 rows 2–3, security.md "Password policy"). Length is the only
//! strength rule: 8–128 Unicode code points after NFKC (NIST SP 800-63B §5.1.1.2; ASVS 5.0 6.2.1,
//! 6.2.9), a tenant may raise the minimum and org admins default to 12 (ASVS 4.0.3 2.1.1). There are
//! no composition rules (NIST "SHALL NOT"; ASVS 5.0 6.2.5) and no truncation (ASVS 5.0 6.2.8). A
//! password is refused when it is a common or breached one (ASVS 5.0 6.2.4, 6.2.12) or contains a
//! context word — e-mail local part, name, organisation, product (ASVS 5.0 6.2.11, 6.1.2) — and every
//! refusal says why and what to do instead (NIST: "SHALL … advise the subscriber").

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::error::{DomainError, ErrorCode};
use crate::identity::blocklist;

/// The floor every policy keeps: the whitepaper's 8 characters (ASVS 5.0 6.2.1 L1).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The default minimum for org admins and platform operators (ASVS 4.0.3 2.1.1).
pub const ORG_ADMIN_MIN_PASSWORD_CHARS: usize = 12;
/// The highest minimum a tenant may configure; above it users could not pick a passphrase they can type.
pub const MAX_CONFIGURABLE_MIN_PASSWORD_CHARS: usize = 64;
/// The longest password accepted (NIST: at least 64); longer ones are refused before hashing to bound
/// the Argon2 cost (research REQ-2.2).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Raw input longer than this is refused before normalising, to bound the work on hostile input:
/// NFKC composes at most a few code points into one, so such input can never fit in 128.
pub const MAX_PASSWORD_INPUT_BYTES: usize = 4096;
/// Context words shorter than this are ignored (too many false refusals: "Li", "Bo", "HQ").
pub const MIN_CONTEXT_WORD_CHARS: usize = 4;
/// The product's own name, always a context word (ASVS 5.0 6.1.2).
pub const PRODUCT_NAME: &str = "latchkey";

/// The minimum length in force for one person: validated, so a policy value is always within bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordPolicy {
    min_chars: usize,
}

/// Where a refused context word came from, so the message can say which one to avoid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextWordKind {
    /// A word of the part of the e-mail address before the `@`.
    Email,
    /// A part of the person's name.
    Name,
    /// A word of the organisation's name.
    Organisation,
    /// The product's name.
    Product,
}

/// Facts about the person that a password must not contain (ASVS 5.0 6.2.11); all optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PasswordContext<'a> {
    /// The person's e-mail address; only its local part is used.
    pub email: Option<&'a str>,
    /// The person's display name; each part counts.
    pub person_name: Option<&'a str>,
    /// The organisation's (tenant's) name; each word counts.
    pub organisation_name: Option<&'a str>,
}

/// Why a password was refused; the `Display` text tells the person what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PasswordRefusal {
    /// Fewer code points than the policy's minimum.
    #[error(
        "Use at least {min_chars} characters. Length is what makes a password strong: a few unrelated words work well."
    )]
    TooShort {
        /// The minimum in force.
        min_chars: usize,
    },
    /// More than 128 code points.
    #[error("Use at most {max_chars} characters.")]
    TooLong {
        /// The maximum in force.
        max_chars: usize,
    },
    /// On the list of common or breached passwords, or a simple variation of one.
    #[error(
        "This password is too common: it or a simple variation of it appears in lists of breached passwords. Choose one that is not, for example a few unrelated words."
    )]
    Common,
    /// Contains a word of the person's e-mail, name, organisation or the product.
    #[error("{}", context_message(*kind))]
    ContainsContextWord {
        /// Which kind of word was found.
        kind: ContextWordKind,
    },
    /// The built-in blocklist could not be loaded, so the password was not accepted unchecked.
    #[error(
        "The password could not be checked right now. Try again later; if this persists, tell your administrator."
    )]
    BlocklistUnavailable,
}

const fn context_message(kind: ContextWordKind) -> &'static str {
    match kind {
        ContextWordKind::Email => {
            "Don't use your e-mail address or part of it in the password; choose something unrelated to you."
        }
        ContextWordKind::Name => {
            "Don't use your name in the password; choose something unrelated to you."
        }
        ContextWordKind::Organisation => {
            "Don't use the organisation's name in the password; choose something unrelated to it."
        }
        ContextWordKind::Product => {
            "Don't use the name of this service in the password; choose something unrelated to it."
        }
    }
}

impl PasswordRefusal {
    /// A stable snake_case name for the reason (API field `reason`, audit, metrics).
    pub const fn reason(&self) -> &'static str {
        match self {
            PasswordRefusal::TooShort { .. } => "too_short",
            PasswordRefusal::TooLong { .. } => "too_long",
            PasswordRefusal::Common => "common",
            PasswordRefusal::ContainsContextWord { .. } => "contains_context_word",
            PasswordRefusal::BlocklistUnavailable => "blocklist_unavailable",
        }
    }
}

impl From<PasswordRefusal> for DomainError {
    fn from(refusal: PasswordRefusal) -> Self {
        match refusal {
            PasswordRefusal::BlocklistUnavailable => {
                DomainError::new(ErrorCode::Internal, refusal.to_string())
            }
            _ => DomainError::invalid("password", refusal.to_string()),
        }
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::STANDARD
    }
}

impl PasswordPolicy {
    /// The default policy for everyone but admins: at least 8 code points.
    pub const STANDARD: Self = Self {
        min_chars: MIN_PASSWORD_CHARS,
    };
    /// The default policy for org admins and platform operators: at least 12 code points.
    pub const ORG_ADMIN: Self = Self {
        min_chars: ORG_ADMIN_MIN_PASSWORD_CHARS,
    };

    /// A tenant's policy with a raised minimum; refused outside 8–64.
    pub fn with_min_chars(min_chars: usize) -> Result<Self, DomainError> {
        if (MIN_PASSWORD_CHARS..=MAX_CONFIGURABLE_MIN_PASSWORD_CHARS).contains(&min_chars) {
            Ok(Self { min_chars })
        } else {
            Err(DomainError::invalid(
                "password_min_chars",
                format!(
                    "the minimum password length must be between {MIN_PASSWORD_CHARS} and {MAX_CONFIGURABLE_MIN_PASSWORD_CHARS} characters"
                ),
            ))
        }
    }

    /// The minimum length in Unicode code points after NFKC.
    pub const fn min_chars(self) -> usize {
        self.min_chars
    }

    /// This policy as it applies to an org admin: the tenant's minimum, but never below 12.
    pub const fn for_org_admin(self) -> Self {
        if self.min_chars < ORG_ADMIN_MIN_PASSWORD_CHARS {
            Self::ORG_ADMIN
        } else {
            self
        }
    }

    /// Checks a new password; on success returns the NFKC form, which is what the caller must hash.
    pub fn check(
        self,
        password: &str,
        context: &PasswordContext<'_>,
    ) -> Result<String, PasswordRefusal> {
        let normalised = normalise_password(password)?;
        if normalised.chars().count() < self.min_chars {
            return Err(PasswordRefusal::TooShort {
                min_chars: self.min_chars,
            });
        }
        let lower = normalised.to_lowercase();
        let folded = unleet(&lower);
        if is_common(&lower, &folded)? {
            return Err(PasswordRefusal::Common);
        }
        if let Some(kind) = context_word_in(&lower, &folded, context) {
            return Err(PasswordRefusal::ContainsContextWord { kind });
        }
        Ok(normalised)
    }
}

/// NFKC-normalises a password (NIST SP 800-63B §5.1.1.2) and refuses one longer than 128 code points;
/// used both when a password is set and at sign-in, so both hash the same string. Case and spaces
/// are kept: the secret itself is never case-folded or trimmed (research REQ-2.4).
pub fn normalise_password(password: &str) -> Result<String, PasswordRefusal> {
    let too_long = PasswordRefusal::TooLong {
        max_chars: MAX_PASSWORD_CHARS,
    };
    if password.len() > MAX_PASSWORD_INPUT_BYTES {
        return Err(too_long);
    }
    let normalised: String = password.nfkc().collect();
    if normalised.chars().count() > MAX_PASSWORD_CHARS {
        return Err(too_long);
    }
    Ok(normalised)
}

/// Undoes the usual character substitutions (`P@ssw0rd` → `password`), so a blocklisted password
/// in disguise is still found (NIST: "commonly-used, expected" values).
fn unleet(lower: &str) -> String {
    lower
        .chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '3' => 'e',
            '1' | '!' => 'i',
            '0' => 'o',
            '$' | '5' => 's',
            '7' | '+' => 't',
            other => other,
        })
        .collect()
}

/// The text without its trailing run of non-letters (`password2024!` → `password`).
fn without_trailing_non_letters(text: &str) -> &str {
    text.trim_end_matches(|c: char| !c.is_alphabetic())
}

/// Whether the password, its de-substituted form, or either without trailing digits and symbols is
/// on the blocklist. `None` from the list (not loaded) refuses: fail closed.
fn is_common(lower: &str, folded: &str) -> Result<bool, PasswordRefusal> {
    let stripped = without_trailing_non_letters(lower);
    let folded_stripped = unleet(stripped);
    for candidate in [lower, folded, stripped, folded_stripped.as_str()] {
        if candidate.is_empty() {
            continue;
        }
        match blocklist::contains(candidate) {
            Some(true) => return Ok(true),
            Some(false) => {}
            None => return Err(PasswordRefusal::BlocklistUnavailable),
        }
    }
    Ok(false)
}

/// The context words of one piece of text: NFKC, lower case, split at anything not a letter or
/// digit, words shorter than 4 code points dropped.
fn context_words(text: &str) -> Vec<String> {
    let lower = text.nfkc().collect::<String>().to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() >= MIN_CONTEXT_WORD_CHARS)
        .map(str::to_owned)
        .collect()
}

/// The first kind of context word the password contains, checked on the plain and the
/// de-substituted form.
fn context_word_in(
    lower: &str,
    folded: &str,
    context: &PasswordContext<'_>,
) -> Option<ContextWordKind> {
    let email_local = context
        .email
        .map(|email| email.rsplit_once('@').map_or(email, |(local, _)| local));
    let sources = [
        (email_local, ContextWordKind::Email),
        (context.person_name, ContextWordKind::Name),
        (context.organisation_name, ContextWordKind::Organisation),
        (Some(PRODUCT_NAME), ContextWordKind::Product),
    ];
    sources.into_iter().find_map(|(text, kind)| {
        let words = context_words(text?);
        words
            .iter()
            .any(|word| lower.contains(word.as_str()) || folded.contains(word.as_str()))
            .then_some(kind)
    })
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

    const NO_CONTEXT: PasswordContext<'static> = PasswordContext {
        email: None,
        person_name: None,
        organisation_name: None,
    };

    fn check(password: &str) -> Result<String, PasswordRefusal> {
        PasswordPolicy::STANDARD.check(password, &NO_CONTEXT)
    }

    #[test]
    fn length_is_counted_in_code_points_between_eight_and_one_hundred_twenty_eight() {
        let cases: [(usize, bool); 6] = [
            (7, false),
            (8, true),
            (12, true),
            (64, true),
            (128, true),
            (129, false),
        ];
        for (len, accepted) in cases {
            let password: String = "vqzkxjwfmh".chars().cycle().take(len).collect();
            assert_eq!(check(&password).is_ok(), accepted, "length {len}");
        }
        assert_eq!(
            check("vqzkxjw"),
            Err(PasswordRefusal::TooShort { min_chars: 8 })
        );
        let long: String = "vqzkxjwfmh".chars().cycle().take(129).collect();
        assert_eq!(
            check(&long),
            Err(PasswordRefusal::TooLong { max_chars: 128 })
        );
    }

    #[test]
    fn eight_umlauts_are_eight_code_points_though_sixteen_bytes() {
        let password = "ääääääää";
        assert_eq!(password.len(), 16);
        assert_eq!(check(password).unwrap(), password);
    }

    #[test]
    fn combining_characters_are_counted_after_nfkc_composition() {
        let decomposed = "a\u{0308}".repeat(8);
        assert_eq!(decomposed.chars().count(), 16);
        assert_eq!(check(&decomposed).unwrap(), "ä".repeat(8));
        let seven = "a\u{0308}".repeat(7);
        assert_eq!(
            check(&seven),
            Err(PasswordRefusal::TooShort { min_chars: 8 })
        );
    }

    #[test]
    fn compatibility_forms_normalise_so_sign_in_matches_enrolment() {
        // Fullwidth letters (an IME's output) and the ligature "ﬁ" normalise to plain text.
        assert_eq!(normalise_password("ｆｉｇｓ ﬁne").unwrap(), "figs fine");
    }

    #[test]
    fn only_lower_case_letters_are_accepted_because_there_are_no_composition_rules() {
        assert!(check("plumvelvetorbitquay").is_ok());
    }

    #[test]
    fn spaces_and_case_are_kept_and_nothing_is_truncated() {
        let password = "  Plum Velvet Orbit Quay  ";
        assert_eq!(check(password).unwrap(), password);
        let max: String = "QvzkXjwfmh".chars().cycle().take(128).collect();
        assert_eq!(check(&max).unwrap(), max);
    }

    #[test]
    fn oversized_input_is_refused_before_normalising() {
        let huge = "x".repeat(1_000_000);
        assert_eq!(
            check(&huge),
            Err(PasswordRefusal::TooLong { max_chars: 128 })
        );
        assert_eq!(
            normalise_password(&huge),
            Err(PasswordRefusal::TooLong { max_chars: 128 })
        );
    }

    #[test]
    fn common_passwords_and_their_simple_variations_are_refused() {
        for common in [
            "password",
            "PASSWORD",
            "Password1!",
            "P@ssw0rd",
            "p4ssw0rd2024!",
            "12345678",
            "iloveyou",
            "Sunshine2024",
            "qwertyuiop",
        ] {
            assert_eq!(check(common), Err(PasswordRefusal::Common), "{common}");
        }
    }

    #[test]
    fn context_words_from_email_name_organisation_and_product_are_refused() {
        let context = PasswordContext {
            email: Some("alice.wonder@example.com"),
            person_name: Some("Alice Marchetti"),
            organisation_name: Some("Acme Door Systems"),
        };
        let policy = PasswordPolicy::STANDARD;
        let refused = |password: &str| policy.check(password, &context);
        let kind = |kind| Err(PasswordRefusal::ContainsContextWord { kind });
        assert_eq!(refused("Wonderful-tides-9"), kind(ContextWordKind::Email));
        assert_eq!(refused("x-alice-plum-quay"), kind(ContextWordKind::Email));
        assert_eq!(refused("orbit MARCHETTI quay"), kind(ContextWordKind::Name));
        assert_eq!(refused("acme2024!x"), kind(ContextWordKind::Organisation));
        assert_eq!(
            refused("syst3ms-plum-quay"),
            kind(ContextWordKind::Organisation)
        );
        assert_eq!(refused("my-latchkey-vault"), kind(ContextWordKind::Product));
        // "Door" has four letters and counts; "example.com" is not the local part.
        assert_eq!(
            refused("open the door quietly"),
            kind(ContextWordKind::Organisation)
        );
        assert!(refused("example-plum-orbit-quay").is_ok());
    }

    #[test]
    fn context_words_shorter_than_four_characters_are_ignored() {
        let context = PasswordContext {
            email: Some("bo@example.com"),
            person_name: Some("Bo Ek"),
            organisation_name: Some("HQ"),
        };
        assert!(
            PasswordPolicy::STANDARD
                .check("bookkeeper elbow hq", &context)
                .is_ok()
        );
    }

    #[test]
    fn tenant_may_raise_the_minimum_within_bounds() {
        assert!(PasswordPolicy::with_min_chars(7).is_err());
        assert!(PasswordPolicy::with_min_chars(65).is_err());
        let policy = PasswordPolicy::with_min_chars(16).unwrap();
        assert_eq!(
            policy.check("plumvelvetorbit", &NO_CONTEXT),
            Err(PasswordRefusal::TooShort { min_chars: 16 })
        );
        assert!(policy.check("plumvelvetorbitq", &NO_CONTEXT).is_ok());
    }

    #[test]
    fn org_admins_need_twelve_characters_unless_the_tenant_asks_for_more() {
        assert_eq!(PasswordPolicy::STANDARD.for_org_admin().min_chars(), 12);
        assert_eq!(
            PasswordPolicy::with_min_chars(20)
                .unwrap()
                .for_org_admin()
                .min_chars(),
            20
        );
        assert_eq!(
            PasswordPolicy::ORG_ADMIN.check("plumvelvet", &NO_CONTEXT),
            Err(PasswordRefusal::TooShort { min_chars: 12 })
        );
    }

    #[test]
    fn every_refusal_says_what_to_do_and_maps_to_an_invalid_password_field() {
        let refusals = [
            PasswordRefusal::TooShort { min_chars: 8 },
            PasswordRefusal::TooLong { max_chars: 128 },
            PasswordRefusal::Common,
            PasswordRefusal::ContainsContextWord {
                kind: ContextWordKind::Email,
            },
            PasswordRefusal::ContainsContextWord {
                kind: ContextWordKind::Name,
            },
            PasswordRefusal::ContainsContextWord {
                kind: ContextWordKind::Organisation,
            },
            PasswordRefusal::ContainsContextWord {
                kind: ContextWordKind::Product,
            },
        ];
        for refusal in refusals {
            let message = refusal.to_string();
            assert!(
                message.starts_with("Use")
                    || message.starts_with("Don't")
                    || message.contains("Choose"),
                "{message}"
            );
            let error = DomainError::from(refusal);
            assert_eq!(error.code, ErrorCode::InvalidField);
            assert_eq!(error.field, Some("password"));
        }
        let json = serde_json::to_value(PasswordRefusal::TooShort { min_chars: 8 }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"reason": "too_short", "min_chars": 8})
        );
        assert_eq!(PasswordRefusal::Common.reason(), "common");
    }

    proptest! {
        #[test]
        fn random_twenty_character_passwords_are_accepted(password in "[a-zA-Z0-9]{20}") {
            prop_assert_eq!(check(&password), Ok(password.clone()));
        }

        #[test]
        fn any_input_gets_an_answer_and_accepted_ones_fit_the_bounds(password in any::<String>()) {
            if let Ok(normalised) = check(&password) {
                let chars = normalised.chars().count();
                prop_assert!((MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars));
            }
        }
    }
}
