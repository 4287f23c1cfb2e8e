//! What a grant lets its subject do on its target.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of rights, stored as a bitset. Serialized as a list of names, e.g. `["unlock", "share"]`,
/// so the API and stored rows stay readable and a new right never renumbers an old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rights(u8);

impl Rights {
    /// No right at all.
    pub const NONE: Rights = Rights(0);
    /// Open the lock.
    pub const UNLOCK: Rights = Rights(1);
    /// Derive grants for others, never wider than one's own (delegation).
    pub const SHARE: Rights = Rights(2);
    /// Manage the target (devices, grants, people's access within it).
    pub const MANAGE: Rights = Rights(4);
    const ALL_BITS: u8 = 7;
    const NAMES: [(Rights, &'static str); 3] = [
        (Rights::UNLOCK, "unlock"),
        (Rights::SHARE, "share"),
        (Rights::MANAGE, "manage"),
    ];

    /// Every right in `other` is also in `self`.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    /// Every right in `self` is also in `other`.
    pub const fn is_subset_of(self, other: Rights) -> bool {
        other.contains(self)
    }

    /// The rights in either set.
    #[must_use]
    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    /// The rights in both sets.
    #[must_use]
    pub const fn intersection(self, other: Rights) -> Rights {
        Rights(self.0 & other.0 & Self::ALL_BITS)
    }

    /// The set holds no right.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the rights in the set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(right, _)| self.contains(*right))
            .map(|(_, name)| *name)
            .collect()
    }

    /// Parses one right's name (`unlock`, `share`, `manage`).
    pub fn parse_one(name: &str) -> Option<Rights> {
        Self::NAMES
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(right, _)| *right)
    }
}

impl std::ops::BitOr for Rights {
    type Output = Rights;
    fn bitor(self, other: Rights) -> Rights {
        self.union(other)
    }
}

impl Serialize for Rights {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Rights {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names.iter().try_fold(Rights::NONE, |acc, name| {
            Rights::parse_one(name)
                .map(|right| acc | right)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown right {name:?}: use unlock, share or manage"
                    ))
                })
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rights_round_trip_as_names_and_compare_as_sets() {
        let rights = Rights::UNLOCK | Rights::SHARE;
        let json = serde_json::to_string(&rights).unwrap();
        assert_eq!(json, r#"["unlock","share"]"#);
        assert_eq!(serde_json::from_str::<Rights>(&json).unwrap(), rights);
        assert!(serde_json::from_str::<Rights>(r#"["fly"]"#).is_err());
        assert!(Rights::UNLOCK.is_subset_of(rights));
        assert!(!Rights::MANAGE.is_subset_of(rights));
        assert_eq!(
            rights.intersection(Rights::SHARE | Rights::MANAGE),
            Rights::SHARE
        );
    }
}
