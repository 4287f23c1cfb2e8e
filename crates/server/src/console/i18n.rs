//! The console's message catalog: every user-facing string, in English and Japanese
//! (console.md: two languages from the start). Files are `key = text` lines compiled into the
//! binary; a test keeps their keys in step.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::HeaderValue;

/// A console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (default).
    En,
    /// Japanese.
    Ja,
}

impl Lang {
    /// BCP 47 code.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// Parses a language tag (`ja`, `ja-JP`, `en-GB`).
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the highest-weighted supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: Option<&HeaderValue>) -> Self {
        let Some(text) = header.and_then(|h| h.to_str().ok()) else {
            return Lang::En;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in text.split(',') {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::from_tag) else {
                continue;
            };
            let weight = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }
}

/// One language's messages.
#[derive(Debug)]
pub struct Messages {
    entries: HashMap<&'static str, &'static str>,
}

/// The catalog files of one language: the shell, then one per console area (so areas can grow
/// without editing one shared file).
const ENGLISH: &[&str] = &[
    include_str!("../../messages/en.txt"),
    include_str!("../../messages/orgs.en.txt"),
    include_str!("../../messages/account.en.txt"),
    include_str!("../../messages/directory.en.txt"),
    include_str!("../../messages/access.en.txt"),
];
const JAPANESE: &[&str] = &[
    include_str!("../../messages/ja.txt"),
    include_str!("../../messages/orgs.ja.txt"),
    include_str!("../../messages/account.ja.txt"),
    include_str!("../../messages/directory.ja.txt"),
    include_str!("../../messages/access.ja.txt"),
];

fn parse(files: &[&'static str]) -> Messages {
    let entries = files
        .iter()
        .flat_map(|text| text.lines())
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    Messages { entries }
}

impl Messages {
    /// The catalog for `lang`.
    pub fn get(lang: Lang) -> &'static Messages {
        static EN: OnceLock<Messages> = OnceLock::new();
        static JA: OnceLock<Messages> = OnceLock::new();
        match lang {
            Lang::En => EN.get_or_init(|| parse(ENGLISH)),
            Lang::Ja => JA.get_or_init(|| parse(JAPANESE)),
        }
    }

    /// The text for `key`; a missing key shows itself, so it is visible in review, not blank.
    pub fn text<'a>(&'a self, key: &'a str) -> &'a str {
        self.entries.get(key).copied().unwrap_or(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_japanese_have_the_same_keys() {
        let mut en: Vec<_> = Messages::get(Lang::En).entries.keys().collect();
        let mut ja: Vec<_> = Messages::get(Lang::Ja).entries.keys().collect();
        en.sort();
        ja.sort();
        assert_eq!(en, ja);
        assert!(en.len() > 10);
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(
            Lang::from_accept_language(Some(&h("ja-JP,ja;q=0.9,en;q=0.8"))),
            Lang::Ja
        );
        assert_eq!(
            Lang::from_accept_language(Some(&h("fr-FR, en;q=0.5, ja;q=0.7"))),
            Lang::Ja
        );
        assert_eq!(Lang::from_accept_language(Some(&h("de"))), Lang::En);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
    }
}
