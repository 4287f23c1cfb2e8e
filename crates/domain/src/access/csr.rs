//! Compressed sparse rows: many small lists packed into two vectors (offsets + items). The model's
//! indexes (grants by subject, members by group, …) use it to stay compact and cache-friendly at a
//! million grants.

/// Row `i` holds `items[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, Default)]
pub struct Csr<T> {
    offsets: Vec<u32>,
    items: Vec<T>,
}

impl<T> Csr<T> {
    /// Packs `(row, item)` pairs into `rows` rows. Items keep the order they have after a stable
    /// sort by row, so callers sort pairs by (row, item) first when order matters. Rows out of
    /// range are dropped (callers only pass indexes they created).
    pub fn build(rows: usize, mut pairs: Vec<(u32, T)>) -> Self {
        pairs.sort_by_key(|(row, _)| *row);
        let mut offsets = vec![0u32; rows + 1];
        let mut items = Vec::with_capacity(pairs.len());
        for (row, item) in pairs {
            let row = row as usize;
            if row >= rows {
                continue;
            }
            if let Some(next) = offsets.get_mut(row + 1) {
                *next += 1;
            }
            items.push(item);
        }
        let mut running = 0u32;
        for offset in &mut offsets {
            running += *offset;
            *offset = running;
        }
        Self { offsets, items }
    }

    /// Row `row` (empty if out of range).
    pub fn row(&self, row: u32) -> &[T] {
        let row = row as usize;
        match (self.offsets.get(row), self.offsets.get(row + 1)) {
            (Some(start), Some(end)) => self
                .items
                .get(*start as usize..*end as usize)
                .unwrap_or(&[]),
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hold_their_items_in_order() {
        let csr = Csr::build(4, vec![(2, 'c'), (0, 'a'), (2, 'd'), (0, 'b'), (9, 'x')]);
        assert_eq!(csr.row(0), &['a', 'b']);
        assert_eq!(csr.row(1), &[] as &[char]);
        assert_eq!(csr.row(2), &['c', 'd']);
        assert_eq!(csr.row(3), &[] as &[char]);
        assert_eq!(csr.row(99), &[] as &[char]);
    }
}
