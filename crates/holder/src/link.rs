//! Simulated BLE link: frames between phone and lock with configurable MTU, loss, duplication,
//! reordering and delay, driven by a seeded generator so every run is reproducible.

use latchkey_protocol::error::Error;
use latchkey_protocol::framing::{self, MAX_MESSAGE_LEN, Reassembler};
use std::vec::Vec;

/// Link behaviour. Probabilities are per frame, in 1/1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// ATT MTU (23 = BLE 4.x default, 247 with Data Length Extension).
    pub mtu: usize,
    /// Chance a frame is lost.
    pub loss_permille: u16,
    /// Chance a frame is delivered twice.
    pub duplicate_permille: u16,
    /// Chance a frame swaps places with the next.
    pub reorder_permille: u16,
    /// Delay added per frame (ms), advancing the receiver's clock.
    pub delay_ms: u64,
}

impl LinkConfig {
    /// A perfect link at `mtu`.
    pub fn clean(mtu: usize) -> Self {
        LinkConfig {
            mtu,
            loss_permille: 0,
            duplicate_permille: 0,
            reorder_permille: 0,
            delay_ms: 5,
        }
    }
}

/// The link plus its random state.
#[derive(Debug, Clone)]
pub struct SimLink {
    /// Behaviour.
    pub config: LinkConfig,
    state: u64,
}

impl SimLink {
    /// A link with a seed.
    pub fn new(config: LinkConfig, seed: u64) -> Self {
        SimLink {
            config,
            state: seed ^ 0x5151_5151_5151_5151,
        }
    }

    fn roll(&mut self, permille: u16) -> bool {
        // splitmix64: a fixed, dependency-free generator is enough for a simulator.
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % 1000) < u64::from(permille)
    }

    /// Fragment `message` for this MTU and pass the frames through the link's faults.
    pub fn send(&mut self, message: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let mut frames = Vec::new();
        let mut frag = framing::fragment(message, self.config.mtu)?;
        let mut buf = [0u8; 512];
        while let Some(n) = frag.next_into(&mut buf) {
            let n = n?;
            frames.push(buf.get(..n).ok_or(Error::BufferTooSmall)?.to_vec());
        }
        let mut out: Vec<Vec<u8>> = Vec::new();
        for f in frames {
            if self.roll(self.config.loss_permille) {
                continue;
            }
            if self.roll(self.config.duplicate_permille) {
                out.push(f.clone());
            }
            out.push(f);
        }
        let mut i = 0;
        while i + 1 < out.len() {
            if self.roll(self.config.reorder_permille) {
                out.swap(i, i + 1);
                i += 1;
            }
            i += 1;
        }
        Ok(out)
    }

    /// Deliver frames to a phone-side reassembler; returns the first complete message.
    pub fn receive(frames: &[Vec<u8>], now_ms: u64) -> Option<Vec<u8>> {
        let mut r = Reassembler::<MAX_MESSAGE_LEN>::new();
        for f in frames {
            if let Ok(Some(m)) = r.push(f, now_ms) {
                return Some(m.to_vec());
            }
        }
        None
    }
}
