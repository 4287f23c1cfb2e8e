//! What a caller's role reaches in the directory. One place answers "does this caller cover this
//! space / this device", so the directory services now and grants later ask the same question.
//!
//! - org admin: everything;
//! - space manager: the subtrees under their scope roots, and the devices placed in them;
//! - device owner: the devices they own;
//! - member, guest: nothing administrative.

use std::collections::BTreeSet;

use crate::ids::{DeviceId, SiteId, SpaceId};

use super::space::SpaceTree;

/// The reach of one caller in one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryScope {
    /// Org admin.
    Everything,
    /// Space manager: the roots of the subtrees they manage.
    Spaces(BTreeSet<SpaceId>),
    /// Device owner: the devices they own.
    Devices(BTreeSet<DeviceId>),
    /// Member or guest.
    Nothing,
}

impl DirectoryScope {
    /// True for org admins.
    pub fn is_everything(&self) -> bool {
        matches!(self, DirectoryScope::Everything)
    }

    /// True if the caller reaches `space` (a space manager: it lies in one of their subtrees).
    pub fn covers_space(&self, tree: &SpaceTree, space: SpaceId) -> bool {
        match self {
            DirectoryScope::Everything => true,
            DirectoryScope::Spaces(roots) => tree
                .self_and_ancestors(space)
                .iter()
                .any(|s| roots.contains(s)),
            DirectoryScope::Devices(_) | DirectoryScope::Nothing => false,
        }
    }

    /// True if the caller may see the site: org admins all, a space manager the sites their
    /// subtrees lie in (to read its time zone and holidays), a device owner none.
    pub fn covers_site(&self, tree: &SpaceTree, site: SiteId) -> bool {
        match self {
            DirectoryScope::Everything => true,
            DirectoryScope::Spaces(roots) => roots.iter().any(|r| tree.site_of(*r) == Some(site)),
            DirectoryScope::Devices(_) | DirectoryScope::Nothing => false,
        }
    }

    /// True if the caller reaches the device `device` placed in `placed_in`: a space manager
    /// when it sits in one of their subtrees, a device owner when they own it.
    pub fn covers_device(
        &self,
        tree: &SpaceTree,
        device: DeviceId,
        placed_in: Option<SpaceId>,
    ) -> bool {
        match self {
            DirectoryScope::Everything => true,
            DirectoryScope::Spaces(_) => placed_in.is_some_and(|s| self.covers_space(tree, s)),
            DirectoryScope::Devices(owned) => owned.contains(&device),
            DirectoryScope::Nothing => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ids::SiteId;

    proptest! {
        /// Over random forests and random scope roots, a space manager covers a space exactly
        /// when it lies in the subtree of one of their roots, and a device exactly when it is
        /// placed in such a space.
        #[test]
        fn manager_coverage_is_exactly_the_union_of_subtrees(
            parents in proptest::collection::vec(proptest::option::of(0usize..30), 1..30),
            roots in proptest::collection::btree_set(0usize..30, 0..4),
        ) {
            let site = SiteId::generate();
            let s: Vec<SpaceId> = parents.iter().map(|_| SpaceId::generate()).collect();
            let tree = SpaceTree::new(parents.iter().enumerate().map(|(i, p)| {
                (s[i], site, p.filter(|&p| p < i).map(|p| s[p]))
            }));
            let roots: BTreeSet<SpaceId> = roots.iter().map(|r| s[r % s.len()]).collect();
            let manager = DirectoryScope::Spaces(roots.clone());
            for space in &s {
                let expected = roots.iter().any(|r| tree.subtree(*r).contains(space));
                prop_assert_eq!(manager.covers_space(&tree, *space), expected);
                prop_assert_eq!(
                    manager.covers_device(&tree, DeviceId::generate(), Some(*space)),
                    expected
                );
            }
        }
    }

    #[test]
    fn each_scope_covers_exactly_its_reach() {
        let site = SiteId::generate();
        let (top, managed, inner, beside) = (
            SpaceId::generate(),
            SpaceId::generate(),
            SpaceId::generate(),
            SpaceId::generate(),
        );
        let tree = SpaceTree::new([
            (top, site, None),
            (managed, site, Some(top)),
            (inner, site, Some(managed)),
            (beside, site, Some(top)),
        ]);
        let (mine, other) = (DeviceId::generate(), DeviceId::generate());
        let manager = DirectoryScope::Spaces(BTreeSet::from([managed]));
        assert!(manager.covers_space(&tree, inner) && manager.covers_space(&tree, managed));
        assert!(!manager.covers_space(&tree, top) && !manager.covers_space(&tree, beside));
        assert!(manager.covers_device(&tree, other, Some(inner)));
        assert!(!manager.covers_device(&tree, other, Some(beside)));
        assert!(!manager.covers_device(&tree, other, None));
        let owner = DirectoryScope::Devices(BTreeSet::from([mine]));
        assert!(owner.covers_device(&tree, mine, Some(beside)));
        assert!(!owner.covers_device(&tree, other, Some(beside)));
        assert!(!owner.covers_space(&tree, beside));
        assert!(!DirectoryScope::Nothing.covers_device(&tree, mine, Some(inner)));
        assert!(DirectoryScope::Everything.covers_space(&tree, beside));
        assert!(
            manager.covers_site(&tree, site) && !manager.covers_site(&tree, SiteId::generate())
        );
        assert!(!owner.covers_site(&tree, site));
    }
}
