//! A small, fast, non-cryptographic hasher for the model's id → index maps.
//!
//! The keys are UUIDs chosen by the server, not by an attacker who could force collisions, and the
//! benchmark bar (≥ 10× Cedar) leaves no room for SipHash on every lookup. This is the FxHash
//! mixing step (as used by rustc), written out to avoid a new dependency.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// FxHash state.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            for (slot, byte) in word.iter_mut().zip(rest) {
                *slot = *byte;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // FxHash's multiply only carries bits upwards, so keys that differ only in their high
        // bytes (UUIDs read little-endian: the varying tail lands in the top bits) would share the
        // low bits hashbrown indexes with, and collide. A final avalanche (murmur3's fmix64) mixes
        // every input bit into every output bit.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A `HashMap` using [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn sequential_uuids_spread_over_low_bits() {
        // Ids that differ only in their last bytes must still differ in the low bits hashbrown
        // uses for the bucket index (a million of them took ten minutes to insert without this).
        let build = BuildHasherDefault::<FastHasher>::default();
        let mut low_bits = std::collections::HashSet::new();
        for n in 0..4096u128 {
            let uuid = uuid::Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0000 + n);
            low_bits.insert(build.hash_one(uuid) & 0xfff);
        }
        assert!(
            low_bits.len() > 2000,
            "only {} distinct low-bit patterns",
            low_bits.len()
        );
    }
}
