//! Deterministic CBOR (RFC 8949 §4.2.1) writer and a strict fixed-profile reader.
//!
//! Why hand-written: the profile needs every rejection rule the research lists (§6.2: unknown
//! critical keys, indefinite lengths, non-canonical integers, duplicate keys, oversize fields) and
//! nothing else — no tags, no floats, no allocation — so a 200-line reader is easier to audit and
//! fuzz than a general library configured to be strict.

use crate::error::Error;

/// Map keys below this are "critical": a decoder that does not know one must refuse the item.
/// Keys at or above it are extensions a v1 decoder may skip (they stay covered by signatures).
pub const FIRST_NONCRITICAL_KEY: u64 = 64;

/// Nesting bound for skipping unknown extension values.
const MAX_SKIP_DEPTH: u8 = 4;

const MAJOR_UINT: u8 = 0;
const MAJOR_NINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;

/// Bounded writer into a caller buffer; never allocates.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Start writing at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True when nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The written prefix of the buffer.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or(&[])
    }

    /// Finish and return the written prefix with the buffer's lifetime.
    pub fn into_written(self) -> &'a [u8] {
        let pos = self.pos;
        let buf: &'a [u8] = self.buf;
        buf.get(..pos).unwrap_or(&[])
    }

    /// Append raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(Error::BufferTooSmall)?;
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Append one byte.
    pub fn byte(&mut self, b: u8) -> Result<(), Error> {
        self.raw(&[b])
    }

    /// Append a big-endian u16.
    pub fn be16(&mut self, v: u16) -> Result<(), Error> {
        self.raw(&v.to_be_bytes())
    }

    /// Append a big-endian u32.
    pub fn be32(&mut self, v: u32) -> Result<(), Error> {
        self.raw(&v.to_be_bytes())
    }

    /// Reserve `n` bytes to fill later (e.g. a length prefix); returns their offset.
    pub fn reserve(&mut self, n: usize) -> Result<usize, Error> {
        let at = self.pos;
        let end = at.checked_add(n).ok_or(Error::BufferTooSmall)?;
        let dst = self.buf.get_mut(at..end).ok_or(Error::BufferTooSmall)?;
        dst.fill(0);
        self.pos = end;
        Ok(at)
    }

    /// Overwrite previously written bytes at `at`.
    pub fn patch(&mut self, at: usize, bytes: &[u8]) -> Result<(), Error> {
        let end = at.checked_add(bytes.len()).ok_or(Error::BufferTooSmall)?;
        if end > self.pos {
            return Err(Error::BufferTooSmall);
        }
        let dst = self.buf.get_mut(at..end).ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(bytes);
        Ok(())
    }

    /// Mutable view of bytes written from `at` to the current end (for in-place AEAD).
    pub fn tail_mut(&mut self, at: usize) -> Result<&mut [u8], Error> {
        self.buf.get_mut(at..self.pos).ok_or(Error::BufferTooSmall)
    }

    fn head(&mut self, major: u8, value: u64) -> Result<(), Error> {
        let m = major << 5;
        // Shortest form, RFC 8949 §4.2.1 "preferred serialization" for integers and lengths.
        if value < 24 {
            self.byte(m | value as u8)
        } else if let Ok(v) = u8::try_from(value) {
            self.raw(&[m | 24, v])
        } else if let Ok(v) = u16::try_from(value) {
            self.byte(m | 25)?;
            self.raw(&v.to_be_bytes())
        } else if let Ok(v) = u32::try_from(value) {
            self.byte(m | 26)?;
            self.raw(&v.to_be_bytes())
        } else {
            self.byte(m | 27)?;
            self.raw(&value.to_be_bytes())
        }
    }

    /// Unsigned integer.
    pub fn uint(&mut self, v: u64) -> Result<(), Error> {
        self.head(MAJOR_UINT, v)
    }

    /// Negative integer `-1 - n`.
    pub fn nint(&mut self, n: u64) -> Result<(), Error> {
        self.head(MAJOR_NINT, n)
    }

    /// Byte string.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), Error> {
        self.head(MAJOR_BYTES, b.len() as u64)?;
        self.raw(b)
    }

    /// Text string.
    pub fn text(&mut self, s: &str) -> Result<(), Error> {
        self.head(MAJOR_TEXT, s.len() as u64)?;
        self.raw(s.as_bytes())
    }

    /// Definite-length array header.
    pub fn array(&mut self, len: usize) -> Result<(), Error> {
        self.head(MAJOR_ARRAY, len as u64)
    }

    /// Definite-length map header.
    pub fn map(&mut self, len: usize) -> Result<(), Error> {
        self.head(MAJOR_MAP, len as u64)
    }
}

/// Strict reader over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Read from the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Refuse trailing bytes: every message is exactly one item.
    pub fn finish(&self) -> Result<(), Error> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Error::TrailingBytes)
        }
    }

    /// Take `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or(Error::Truncated)?;
        let out = self.data.get(self.pos..end).ok_or(Error::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    /// Take exactly `N` raw bytes.
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Take all remaining raw bytes.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.data.get(self.pos..).unwrap_or(&[]);
        self.pos = self.data.len();
        out
    }

    /// One raw byte.
    pub fn u8_raw(&mut self) -> Result<u8, Error> {
        let [b] = self.take_array::<1>()?;
        Ok(b)
    }

    /// Big-endian u16.
    pub fn be16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }

    /// Big-endian u32.
    pub fn be32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }

    fn head(&mut self) -> Result<(u8, u64), Error> {
        let ib = self.u8_raw()?;
        let major = ib >> 5;
        let ai = ib & 0x1f;
        let value = match ai {
            0..=23 => u64::from(ai),
            24 => {
                let v = u64::from(self.u8_raw()?);
                if v < 24 {
                    return Err(Error::NonCanonicalInteger);
                }
                v
            }
            25 => {
                let v = u64::from(self.be16()?);
                if v <= 0xff {
                    return Err(Error::NonCanonicalInteger);
                }
                v
            }
            26 => {
                let v = u64::from(self.be32()?);
                if v <= 0xffff {
                    return Err(Error::NonCanonicalInteger);
                }
                v
            }
            27 => {
                let v = u64::from_be_bytes(self.take_array()?);
                if v <= 0xffff_ffff {
                    return Err(Error::NonCanonicalInteger);
                }
                v
            }
            31 => return Err(Error::IndefiniteLength),
            _ => return Err(Error::InvalidValue),
        };
        Ok((major, value))
    }

    fn expect(&mut self, major: u8) -> Result<u64, Error> {
        let (m, v) = self.head()?;
        if m != major {
            return Err(Error::UnexpectedType);
        }
        Ok(v)
    }

    /// Unsigned integer.
    pub fn uint(&mut self) -> Result<u64, Error> {
        self.expect(MAJOR_UINT)
    }

    /// Unsigned integer that must fit in 32 bits.
    pub fn u32(&mut self) -> Result<u32, Error> {
        u32::try_from(self.uint()?).map_err(|_| Error::InvalidValue)
    }

    /// Unsigned integer that must fit in 16 bits.
    pub fn u16(&mut self) -> Result<u16, Error> {
        u16::try_from(self.uint()?).map_err(|_| Error::InvalidValue)
    }

    /// Unsigned integer that must fit in 8 bits.
    pub fn u8(&mut self) -> Result<u8, Error> {
        u8::try_from(self.uint()?).map_err(|_| Error::InvalidValue)
    }

    /// Negative integer, returned as `n` where the value is `-1 - n`.
    pub fn nint(&mut self) -> Result<u64, Error> {
        self.expect(MAJOR_NINT)
    }

    /// Byte string of at most `max` bytes.
    pub fn bytes(&mut self, max: usize) -> Result<&'a [u8], Error> {
        let len = self.expect(MAJOR_BYTES)?;
        let len = usize::try_from(len).map_err(|_| Error::Oversize)?;
        if len > max {
            return Err(Error::Oversize);
        }
        self.take(len)
    }

    /// Byte string of exactly `N` bytes (a longer one is oversize, a shorter one invalid).
    pub fn bytes_exact<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let b = self.bytes(N)?;
        let mut out = [0u8; N];
        if b.len() != N {
            return Err(Error::InvalidValue);
        }
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Array header with at most `max` elements.
    pub fn array(&mut self, max: usize) -> Result<usize, Error> {
        let n = self.expect(MAJOR_ARRAY)?;
        let n = usize::try_from(n).map_err(|_| Error::Oversize)?;
        if n > max {
            return Err(Error::Oversize);
        }
        Ok(n)
    }

    /// Array header with exactly `n` elements.
    pub fn array_exact(&mut self, n: usize) -> Result<(), Error> {
        if self.array(n)? != n {
            return Err(Error::InvalidValue);
        }
        Ok(())
    }

    /// Map header with at most `max` entries; iterate keys with [`MapKeys`].
    pub fn map(&mut self, max: usize) -> Result<MapKeys, Error> {
        let n = self.expect(MAJOR_MAP)?;
        let n = usize::try_from(n).map_err(|_| Error::Oversize)?;
        if n > max {
            return Err(Error::Oversize);
        }
        Ok(MapKeys {
            remaining: n,
            last: None,
        })
    }

    /// Skip the value of a non-critical extension key; a critical unknown key is refused.
    pub fn skip_unknown(&mut self, key: u64) -> Result<(), Error> {
        if key < FIRST_NONCRITICAL_KEY {
            return Err(Error::UnknownCriticalKey);
        }
        self.skip(MAX_SKIP_DEPTH)
    }

    fn skip(&mut self, depth: u8) -> Result<(), Error> {
        let depth = depth.checked_sub(1).ok_or(Error::TooDeep)?;
        let (major, v) = self.head()?;
        match major {
            MAJOR_UINT | MAJOR_NINT => Ok(()),
            MAJOR_BYTES => {
                self.take(usize::try_from(v).map_err(|_| Error::Oversize)?)?;
                Ok(())
            }
            MAJOR_TEXT => {
                let s = self.take(usize::try_from(v).map_err(|_| Error::Oversize)?)?;
                core::str::from_utf8(s).map_err(|_| Error::InvalidValue)?;
                Ok(())
            }
            MAJOR_ARRAY => {
                for _ in 0..v {
                    self.skip(depth)?;
                }
                Ok(())
            }
            MAJOR_MAP => {
                let mut keys = MapKeys {
                    remaining: usize::try_from(v).map_err(|_| Error::Oversize)?,
                    last: None,
                };
                while keys.next(self)?.is_some() {
                    self.skip(depth)?;
                }
                Ok(())
            }
            // Tags, floats and simple values are outside the profile.
            _ => Err(Error::UnexpectedType),
        }
    }
}

/// Iterator state over a map's keys enforcing unsigned keys in strictly ascending order.
///
/// Strict ascent is the RFC 8949 §4.2.1 canonical order for small unsigned keys and, as a
/// consequence, rejects duplicate keys without any lookup table.
#[derive(Debug)]
pub struct MapKeys {
    remaining: usize,
    last: Option<u64>,
}

impl MapKeys {
    /// Next key, or `None` after the last entry.
    pub fn next(&mut self, r: &mut Reader<'_>) -> Result<Option<u64>, Error> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let key = r.uint()?;
        if self.last.is_some_and(|last| key <= last) {
            return Err(Error::KeyOrder);
        }
        self.last = Some(key);
        Ok(Some(key))
    }
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
    fn writer_uses_shortest_integer_form() {
        for (v, want) in [
            (0u64, &[0x00][..]),
            (23, &[0x17]),
            (24, &[0x18, 24]),
            (255, &[0x18, 0xff]),
            (256, &[0x19, 1, 0]),
            (65536, &[0x1a, 0, 1, 0, 0]),
            (1 << 32, &[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut buf = [0u8; 9];
            let mut w = Writer::new(&mut buf);
            w.uint(v).unwrap();
            assert_eq!(w.written(), want);
            assert_eq!(Reader::new(want).uint().unwrap(), v);
        }
    }

    #[test]
    fn non_canonical_integers_are_refused() {
        for bad in [
            &[0x18, 23][..],
            &[0x19, 0, 0xff],
            &[0x1a, 0, 0, 0xff, 0xff],
            &[0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert_eq!(Reader::new(bad).uint(), Err(Error::NonCanonicalInteger));
        }
    }

    #[test]
    fn indefinite_lengths_are_refused() {
        assert_eq!(
            Reader::new(&[0x5f, 0x41, 0, 0xff]).bytes(8),
            Err(Error::IndefiniteLength)
        );
        assert_eq!(
            Reader::new(&[0x9f, 0xff]).array(8),
            Err(Error::IndefiniteLength)
        );
        assert_eq!(
            Reader::new(&[0xbf, 0xff]).map(8).map(|_| ()),
            Err(Error::IndefiniteLength)
        );
    }

    #[test]
    fn duplicate_and_unordered_keys_are_refused() {
        let dup = [0xa2, 0x01, 0x00, 0x01, 0x00];
        let mut r = Reader::new(&dup);
        let mut m = r.map(4).unwrap();
        assert_eq!(m.next(&mut r), Ok(Some(1)));
        r.uint().unwrap();
        assert_eq!(m.next(&mut r), Err(Error::KeyOrder));
    }

    #[test]
    fn oversize_byte_string_is_refused() {
        assert_eq!(Reader::new(&[0x43, 1, 2, 3]).bytes(2), Err(Error::Oversize));
    }

    #[test]
    fn critical_unknown_key_refused_extension_key_skipped() {
        let mut r = Reader::new(&[0x00]);
        assert_eq!(r.skip_unknown(63), Err(Error::UnknownCriticalKey));
        let mut r = Reader::new(&[0x82, 0x01, 0x41, 0x00]);
        r.skip_unknown(64).unwrap();
        r.finish().unwrap();
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut r = Reader::new(&[0x81, 0x81, 0x81, 0x81, 0x81, 0x00]);
        assert_eq!(r.skip_unknown(64), Err(Error::TooDeep));
    }
}
