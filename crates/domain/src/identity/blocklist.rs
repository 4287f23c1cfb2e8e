//! The shipped blocklist of common passwords (NIST SP 800-63B §5.1.1.2 "SHALL compare … against a
//! blocklist"; ASVS 5.0 6.2.4 asks for at least the top 3 000). It is compiled into the binary so it
//! works on air-gapped deployments (research §1 REQ-3.1). Source, version and licence of the list:
//! `crates/domain/data/README.md`; regenerate the blob with `crates/domain/data/build-blocklist.py`.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The zlib-compressed list: one entry per line, NFKC-normalised and lower-cased, in frequency order.
static COMPRESSED: &[u8] = include_bytes!("../../data/password-blocklist.zlib");

/// Upper bound on the decompressed size; a guard, the real list is about 240 KB.
const MAX_DECOMPRESSED_BYTES: usize = 4 * 1024 * 1024;

/// Decompressed once on first use; `None` only if the committed blob were corrupt (a test guards it).
static ENTRIES: LazyLock<Option<HashSet<Box<str>>>> = LazyLock::new(|| {
    let bytes =
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(COMPRESSED, MAX_DECOMPRESSED_BYTES)
            .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Some(
        text.lines()
            .filter(|line| !line.is_empty())
            .map(Box::from)
            .collect(),
    )
});

/// Whether `candidate` (already NFKC-normalised and lower-cased) is on the list; `None` if the list
/// could not be loaded, so callers fail closed rather than accept an unchecked password.
pub fn contains(candidate: &str) -> Option<bool> {
    ENTRIES.as_ref().map(|set| set.contains(candidate))
}

/// How many entries the list holds, or `None` if it could not be loaded (a start-up self-check).
pub fn entry_count() -> Option<usize> {
    ENTRIES.as_ref().map(HashSet::len)
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

    #[test]
    fn blocklist_has_at_least_ten_thousand_entries() {
        let count = entry_count().expect("the committed blob decompresses");
        assert!(count >= 10_000, "only {count} entries");
    }

    #[test]
    fn blocklist_holds_the_most_common_passwords() {
        for common in [
            "123456", "password", "12345678", "qwerty", "iloveyou", "trustno1",
        ] {
            assert_eq!(contains(common), Some(true), "{common}");
        }
    }

    #[test]
    fn blocklist_entries_are_stored_normalised_and_lower_case() {
        assert_eq!(contains("Password"), Some(false));
        assert_eq!(contains("correct horse battery staple xq"), Some(false));
    }
}
