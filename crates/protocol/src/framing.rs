//! BLE GATT framing: 1-byte header `b7 first | b6 last | b5..0 seq` (research §6.3), bounded
//! reassembly (≤ 1 KiB) and a 10 s budget per message.
//!
//! Works at the BLE 4.x default MTU of 23 (20-byte ATT payload → 19 data bytes per frame).

use crate::error::Error;

/// Largest reassembled message (design brief: reassembly ≤ 1 KiB).
pub const MAX_MESSAGE_LEN: usize = 1024;
/// Time budget from the first frame to the last (design brief: 10 s timeout).
pub const REASSEMBLY_TIMEOUT_MS: u64 = 10_000;
/// ATT header bytes the MTU includes (opcode + handle).
const ATT_OVERHEAD: usize = 3;
const FIRST: u8 = 0x80;
const LAST: u8 = 0x40;
const SEQ_MASK: u8 = 0x3f;

/// Splits one message into frames for a given ATT MTU.
#[derive(Debug)]
pub struct Fragments<'a> {
    rest: &'a [u8],
    chunk: usize,
    seq: u8,
    first: bool,
}

/// Split `message` into frames for `mtu`; fails if the MTU leaves no room for data or the
/// message exceeds [`MAX_MESSAGE_LEN`].
pub fn fragment(message: &[u8], mtu: usize) -> Result<Fragments<'_>, Error> {
    let chunk = mtu
        .checked_sub(ATT_OVERHEAD + 1)
        .filter(|c| *c > 0)
        .ok_or(Error::InvalidValue)?;
    if message.is_empty() || message.len() > MAX_MESSAGE_LEN {
        return Err(Error::Oversize);
    }
    Ok(Fragments {
        rest: message,
        chunk,
        seq: 0,
        first: true,
    })
}

impl Fragments<'_> {
    /// Write the next frame into `out` (≥ MTU − 3 bytes); returns its length, or `None` when done.
    pub fn next_into(&mut self, out: &mut [u8]) -> Option<Result<usize, Error>> {
        if self.rest.is_empty() && !self.first {
            return None;
        }
        let n = self.rest.len().min(self.chunk);
        let (data, rest) = self.rest.split_at(n);
        let mut header = self.seq & SEQ_MASK;
        if self.first {
            header |= FIRST;
        }
        if rest.is_empty() {
            header |= LAST;
        }
        let Some(dst) = out.get_mut(..n + 1) else {
            return Some(Err(Error::BufferTooSmall));
        };
        let (h, d) = dst.split_at_mut(1);
        h.fill(header);
        d.copy_from_slice(data);
        self.rest = rest;
        self.first = false;
        self.seq = self.seq.wrapping_add(1) & SEQ_MASK;
        Some(Ok(n + 1))
    }
}

/// Reassembles frames into one message of at most `N` bytes.
#[derive(Debug)]
pub struct Reassembler<const N: usize = MAX_MESSAGE_LEN> {
    buf: [u8; N],
    len: usize,
    next_seq: u8,
    started_at_ms: Option<u64>,
}

impl<const N: usize> Default for Reassembler<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Reassembler<N> {
    /// Idle reassembler.
    pub fn new() -> Self {
        Reassembler {
            buf: [0u8; N],
            len: 0,
            next_seq: 0,
            started_at_ms: None,
        }
    }

    /// Drop any partial message.
    pub fn reset(&mut self) {
        self.len = 0;
        self.next_seq = 0;
        self.started_at_ms = None;
    }

    /// Feed one frame received at `now_ms`. Returns the complete message on its last frame.
    /// Any error resets the reassembler: a broken message is never partially used.
    pub fn push(&mut self, frame: &[u8], now_ms: u64) -> Result<Option<&[u8]>, Error> {
        match self.push_inner(frame, now_ms) {
            Ok(true) => {
                let len = self.len;
                self.started_at_ms = None;
                self.len = 0;
                self.next_seq = 0;
                Ok(Some(self.buf.get(..len).unwrap_or(&[])))
            }
            Ok(false) => Ok(None),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    fn push_inner(&mut self, frame: &[u8], now_ms: u64) -> Result<bool, Error> {
        let (&header, data) = frame.split_first().ok_or(Error::Truncated)?;
        let seq = header & SEQ_MASK;
        if header & FIRST != 0 {
            // A new first frame abandons any partial message (phone restarted the write).
            self.reset();
            if seq != 0 {
                return Err(Error::FrameSequence);
            }
            self.started_at_ms = Some(now_ms);
        } else {
            let started = self.started_at_ms.ok_or(Error::FrameSequence)?;
            if now_ms.saturating_sub(started) > REASSEMBLY_TIMEOUT_MS {
                return Err(Error::Timeout);
            }
            if seq != self.next_seq {
                return Err(Error::FrameSequence);
            }
        }
        if data.is_empty() {
            return Err(Error::Truncated);
        }
        let end = self.len.checked_add(data.len()).ok_or(Error::Oversize)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::Oversize)?;
        dst.copy_from_slice(data);
        self.len = end;
        self.next_seq = (seq + 1) & SEQ_MASK;
        Ok(header & LAST != 0)
    }
}
