//! A packed bit vector, used for validity (present / missing) and for BOOL values.

use speedy::{Readable, Writable};

/// A growable, packed vector of bits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Readable, Writable)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

impl Bitmap {
    /// An empty bitmap with room for `bits` bits.
    pub fn with_capacity(bits: usize) -> Bitmap {
        Bitmap {
            words: Vec::with_capacity(bits.div_ceil(64)),
            len: 0,
        }
    }

    /// `len` bits, all set to `value`.
    pub fn filled(len: usize, value: bool) -> Bitmap {
        let fill = if value { u64::MAX } else { 0 };
        let mut words = vec![fill; len.div_ceil(64)];
        if value && len % 64 != 0 {
            // Keep the unused tail bits clear so that equality and counts stay exact.
            if let Some(last) = words.last_mut() {
                *last = (1u64 << (len % 64)) - 1;
            }
        }
        Bitmap { words, len }
    }

    /// A bitmap of `len` bits held in `words`, bit `i` at bit `i % 64` of word `i / 64`
    /// (least significant first: Arrow's validity layout on little-endian machines, so
    /// buffers move between the two without copies). Bits past `len` are cleared; an
    /// error when `words` has not exactly `len.div_ceil(64)` words.
    pub fn from_words(mut words: Vec<u64>, len: usize) -> Result<Bitmap, String> {
        if words.len() != len.div_ceil(64) {
            return Err(format!(
                "{} words cannot hold exactly {len} bits",
                words.len()
            ));
        }
        if len % 64 != 0 {
            if let Some(last) = words.last_mut() {
                *last &= (1u64 << (len % 64)) - 1;
            }
        }
        Ok(Bitmap { words, len })
    }

    /// The words holding the bits, least significant bit first (see
    /// [`Bitmap::from_words`]); the bits past `len()` in the last word are clear.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one bit.
    #[inline]
    pub fn push(&mut self, bit: bool) {
        let offset = self.len % 64;
        if offset == 0 {
            self.words.push(0);
        }
        if bit {
            let last = self.words.len() - 1;
            self.words[last] |= 1u64 << offset;
        }
        self.len += 1;
    }

    /// Appends the `n` low bits of `word` (bit 0 first), `n <= 64`; the higher bits of
    /// `word` are ignored. Bulk appends cost a word operation or two instead of `n`
    /// pushes.
    #[inline]
    pub fn extend_from_word(&mut self, word: u64, n: usize) {
        assert!(n <= 64, "{n} bits do not fit a word");
        if n == 0 {
            return;
        }
        // Clear the unused bits, so that the tail of the last word stays clear.
        let word = if n == 64 { word } else { word & ((1 << n) - 1) };
        let offset = self.len % 64;
        if offset == 0 {
            self.words.push(word);
        } else {
            let last = self.words.len() - 1;
            self.words[last] |= word << offset;
            if offset + n > 64 {
                self.words.push(word >> (64 - offset));
            }
        }
        self.len += n;
    }

    /// Appends every bit of `other`, a word at a time.
    pub fn extend_from_bitmap(&mut self, other: &Bitmap) {
        let full = other.len / 64;
        if self.len % 64 == 0 {
            // Aligned: whole words copy as they are (their unused tail bits are clear).
            self.words
                .extend_from_slice(&other.words[..other.len.div_ceil(64)]);
            self.len += other.len;
            return;
        }
        for &word in &other.words[..full] {
            self.extend_from_word(word, 64);
        }
        if other.len % 64 != 0 {
            self.extend_from_word(other.words[full], other.len % 64);
        }
    }

    /// The bit at `index`. Panics when `index >= len()`, like slice indexing.
    #[inline]
    pub fn get(&self, index: usize) -> bool {
        assert!(
            index < self.len,
            "bit {index} out of range ({} bits)",
            self.len
        );
        self.words[index / 64] >> (index % 64) & 1 == 1
    }

    /// Sets the bit at `index`. Panics when `index >= len()`.
    #[inline]
    pub fn set(&mut self, index: usize, bit: bool) {
        assert!(
            index < self.len,
            "bit {index} out of range ({} bits)",
            self.len
        );
        let mask = 1u64 << (index % 64);
        if bit {
            self.words[index / 64] |= mask;
        } else {
            self.words[index / 64] &= !mask;
        }
    }

    /// How many bits are set.
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// True when every bit is set (vacuously true when empty).
    pub fn all_set(&self) -> bool {
        self.count_ones() == self.len
    }

    /// Sets every bit that is set in `other` (which must have the same length).
    pub fn union_with(&mut self, other: &Bitmap) {
        assert_eq!(self.len, other.len, "bitmaps of different lengths");
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    /// The indices of the set bits, in increasing order.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(w * 64 + bit)
            })
        })
    }

    /// Checks the invariants of a decoded bitmap: enough words, and clear tail bits.
    pub(crate) fn validate(&self) -> bool {
        if self.words.len() != self.len.div_ceil(64) {
            return false;
        }
        match (self.words.last(), self.len % 64) {
            (Some(&last), tail) if tail != 0 => last >> tail == 0,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_set_count() {
        let mut b = Bitmap::default();
        for i in 0..130 {
            b.push(i % 3 == 0);
        }
        assert_eq!(b.len(), 130);
        assert_eq!(b.count_ones(), 44);
        assert!(b.get(129));
        b.set(129, false);
        assert!(!b.get(129));
        assert_eq!(b.ones().take(3).collect::<Vec<_>>(), vec![0, 3, 6]);
        assert!(b.validate());
    }

    #[test]
    fn filled_keeps_tail_clear() {
        let b = Bitmap::filled(70, true);
        assert_eq!(b.count_ones(), 70);
        assert!(b.all_set());
        assert!(b.validate());
        let mut pushed = Bitmap::default();
        (0..70).for_each(|_| pushed.push(true));
        assert_eq!(b, pushed);
    }

    #[test]
    fn extend_from_word_equals_pushes() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut words = Bitmap::default();
        let mut pushed = Bitmap::default();
        for round in 0..400 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Every length, at every offset within a word, with junk above bit n.
            let n = round % 65;
            words.extend_from_word(seed, n);
            for i in 0..n {
                pushed.push(seed >> i & 1 == 1);
            }
            assert_eq!(words, pushed, "round {round}");
            assert!(words.validate());
        }
    }

    #[test]
    fn extend_from_bitmap_equals_pushes() {
        // Every pair of lengths around word boundaries, so both the aligned copy and the
        // shifted path run.
        for first in [0, 1, 63, 64, 65, 130] {
            for second in [0, 1, 63, 64, 65, 130] {
                let bits = |n: usize, k: usize| (0..n).map(move |i| (i * 7 + k) % 3 == 0);
                let mut a = Bitmap::default();
                let mut b = Bitmap::default();
                let mut pushed = Bitmap::default();
                bits(first, 0).for_each(|x| {
                    a.push(x);
                    pushed.push(x);
                });
                bits(second, 1).for_each(|x| {
                    b.push(x);
                    pushed.push(x);
                });
                a.extend_from_bitmap(&b);
                assert_eq!(a, pushed, "{first} + {second}");
                assert!(a.validate());
            }
        }
    }

    #[test]
    fn union() {
        let mut a = Bitmap::filled(10, false);
        let mut b = Bitmap::filled(10, false);
        a.set(1, true);
        b.set(9, true);
        a.union_with(&b);
        assert_eq!(a.ones().collect::<Vec<_>>(), vec![1, 9]);
    }
}
