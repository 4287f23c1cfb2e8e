//! Fixed-capacity list, so decoded messages need no allocator on the lock.

use crate::error::Error;

/// A `Copy` type with an all-zero value, used to fill unused slots.
pub trait Zeroed: Copy {
    /// The filler value.
    const ZERO: Self;
}

impl<const M: usize> Zeroed for [u8; M] {
    const ZERO: Self = [0u8; M];
}

/// Up to `N` `Copy` items stored inline; pushing past `N` is an [`Error::Oversize`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bounded<T: Zeroed, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Zeroed, const N: usize> Bounded<T, N> {
    /// Empty list.
    pub fn new() -> Self {
        Bounded {
            items: [T::ZERO; N],
            len: 0,
        }
    }

    /// Copy from a slice; fails if it holds more than `N` items.
    pub fn from_slice(items: &[T]) -> Result<Self, Error> {
        let mut out = Self::new();
        for it in items {
            out.push(*it)?;
        }
        Ok(out)
    }

    /// Append one item.
    pub fn push(&mut self, item: T) -> Result<(), Error> {
        let slot = self.items.get_mut(self.len).ok_or(Error::Oversize)?;
        *slot = item;
        self.len += 1;
        Ok(())
    }

    /// The items as a slice.
    pub fn as_slice(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Capacity `N`.
    pub const fn capacity() -> usize {
        N
    }
}

impl<T: Zeroed, const N: usize> Default for Bounded<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Zeroed + core::fmt::Debug, const N: usize> core::fmt::Debug for Bounded<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}
