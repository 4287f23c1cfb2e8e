//! Spaces: a tree per site of any depth. The tree rules (a space moves only within its site and
//! never under itself or its descendants) are decided here over the whole tree, so the service
//! checks a move against the tree as stored in the same transaction.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};
use crate::ids::{SiteId, SpaceId};

/// A named place inside a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Space {
    /// Id.
    pub id: SpaceId,
    /// The site whose tree it belongs to.
    pub site_id: SiteId,
    /// The space it is in; `None` at the top of the site's tree.
    pub parent_id: Option<SpaceId>,
    /// Display name.
    pub name: String,
    /// Free kind label: building, floor, office, room, unit…
    pub kind: String,
    /// Labels, normalised and sorted.
    pub labels: Vec<String>,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Where each space hangs: enough of the tree to answer ancestry questions.
#[derive(Debug, Clone, Default)]
pub struct SpaceTree {
    nodes: HashMap<SpaceId, (SiteId, Option<SpaceId>)>,
    children: HashMap<SpaceId, Vec<SpaceId>>,
}

impl SpaceTree {
    /// Builds the tree from (space, site, parent) triples.
    pub fn new(spaces: impl IntoIterator<Item = (SpaceId, SiteId, Option<SpaceId>)>) -> Self {
        let mut tree = Self::default();
        for (id, site, parent) in spaces {
            tree.nodes.insert(id, (site, parent));
            if let Some(p) = parent {
                tree.children.entry(p).or_default().push(id);
            }
        }
        tree
    }

    /// Builds the tree from spaces.
    pub fn of(spaces: &[Space]) -> Self {
        Self::new(spaces.iter().map(|s| (s.id, s.site_id, s.parent_id)))
    }

    /// True if the space is known.
    pub fn contains(&self, id: SpaceId) -> bool {
        self.nodes.contains_key(&id)
    }

    /// The site of a known space.
    pub fn site_of(&self, id: SpaceId) -> Option<SiteId> {
        self.nodes.get(&id).map(|(site, _)| *site)
    }

    /// The space itself, then its parent, up to the top. Bounded by the number of spaces, so a
    /// corrupt (cyclic) store cannot loop forever.
    pub fn self_and_ancestors(&self, id: SpaceId) -> Vec<SpaceId> {
        let mut out = Vec::new();
        let mut at = Some(id);
        while let Some(current) = at {
            if out.len() > self.nodes.len() || out.contains(&current) {
                break;
            }
            out.push(current);
            at = self.nodes.get(&current).and_then(|(_, parent)| *parent);
        }
        out
    }

    /// True if `id` is `root` or lies below it.
    pub fn is_within(&self, id: SpaceId, root: SpaceId) -> bool {
        self.self_and_ancestors(id).contains(&root)
    }

    /// `root` and everything below it.
    pub fn subtree(&self, root: SpaceId) -> BTreeSet<SpaceId> {
        let mut out = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if out.insert(id)
                && let Some(kids) = self.children.get(&id)
            {
                stack.extend(kids.iter().copied());
            }
        }
        out
    }

    /// The spaces directly below `id`.
    pub fn children_of(&self, id: SpaceId) -> &[SpaceId] {
        self.children.get(&id).map_or(&[], Vec::as_slice)
    }

    /// Checks that `space` may hang under `new_parent` (`None`: the top of its site): the parent
    /// must be in the same site and must not be the space itself or one of its descendants
    /// (that would make a cycle, cutting the subtree off its site).
    pub fn check_parent(
        &self,
        space: SpaceId,
        site: SiteId,
        new_parent: Option<SpaceId>,
    ) -> Result<(), DomainError> {
        let Some(parent) = new_parent else {
            return Ok(());
        };
        match self.site_of(parent) {
            None => Err(DomainError::invalid(
                "parent_id",
                "parent_id names no space of this organisation",
            )),
            Some(parent_site) if parent_site != site => Err(DomainError::new(
                ErrorCode::RuleViolation,
                "a space moves only within its own site; the new parent is in another site",
            )
            .with_field("parent_id")),
            Some(_) if self.is_within(parent, space) => Err(DomainError::new(
                ErrorCode::RuleViolation,
                "a space cannot move under itself or one of its own descendants (that would make a cycle)",
            )
            .with_field("parent_id")),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ids(n: usize) -> Vec<SpaceId> {
        (0..n).map(|_| SpaceId::generate()).collect()
    }

    #[test]
    fn moves_under_self_descendants_or_another_site_are_refused() {
        let site = SiteId::generate();
        let other = SiteId::generate();
        let s = ids(4);
        // s0 ─ s1 ─ s2 ; s3 in another site
        let tree = SpaceTree::new([
            (s[0], site, None),
            (s[1], site, Some(s[0])),
            (s[2], site, Some(s[1])),
            (s[3], other, None),
        ]);
        assert!(tree.check_parent(s[0], site, Some(s[0])).is_err());
        assert!(tree.check_parent(s[0], site, Some(s[2])).is_err());
        let err = tree.check_parent(s[1], site, Some(s[3])).unwrap_err();
        assert_eq!(err.code, ErrorCode::RuleViolation);
        assert!(tree.check_parent(s[2], site, Some(s[0])).is_ok());
        assert!(tree.check_parent(s[2], site, None).is_ok());
        assert_eq!(tree.subtree(s[1]), BTreeSet::from([s[1], s[2]]));
        assert!(tree.is_within(s[2], s[0]) && !tree.is_within(s[0], s[2]));
    }

    proptest! {
        /// Over random forests: a move is refused exactly when the new parent lies in the
        /// space's own subtree (same site), and an accepted move keeps the forest acyclic.
        #[test]
        fn check_parent_refuses_exactly_the_cycles(
            parents in proptest::collection::vec(proptest::option::of(0usize..40), 1..40),
            pick in 0usize..40, target in 0usize..40,
        ) {
            let site = SiteId::generate();
            let s = ids(parents.len());
            // Parent index must be smaller than the child's, so the input is a forest.
            let triples: Vec<_> = parents.iter().enumerate().map(|(i, p)| {
                (s[i], site, p.filter(|&p| p < i).map(|p| s[p]))
            }).collect();
            let tree = SpaceTree::new(triples.clone());
            let (space, parent) = (s[pick % s.len()], s[target % s.len()]);
            let refused = tree.check_parent(space, site, Some(parent)).is_err();
            prop_assert_eq!(refused, tree.subtree(space).contains(&parent));
            if !refused {
                let moved = SpaceTree::new(triples.into_iter().map(|(id, site, p)| {
                    (id, site, if id == space { Some(parent) } else { p })
                }));
                for id in &s {
                    let chain = moved.self_and_ancestors(*id);
                    let top = *chain.last().unwrap();
                    prop_assert!(moved.nodes[&top].1.is_none(), "a cycle after an accepted move");
                }
            }
        }
    }
}
