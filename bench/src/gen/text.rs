//! Word-like text for word-count benchmarks.
//!
//! A vocabulary of made-up, pronounceable words ([`Vocabulary`]) is sampled with a
//! [`PowerLaw`], so a few words are very common and most are rare, as in natural text. Word
//! rank `r` is spelled from `r` in a bijective base of consonant-vowel syllables, so
//! frequent words are short (as they are in real languages) and no two ranks share a
//! spelling. The file is cut into blocks of [`BYTES_PER_BLOCK`] bytes, each ending in a
//! newline and each drawn from its own generator, so the output depends only on
//! [`TextConfig`].

use std::path::Path;

use eau2::{Error, Result};

use super::blocks::{write_blocks, Block, Progress};
use super::dist::PowerLaw;
use super::rng::Xoshiro256;

/// Bytes per generated block (the last block may be shorter). Part of the output's
/// definition.
pub const BYTES_PER_BLOCK: u64 = 1 << 20;

const TEXT_STREAM: u64 = 3;
const CONSONANTS: &[u8] = b"bcdfghjklmnprstvwz";
const VOWELS: &[u8] = b"aeiou";

/// What to generate.
#[derive(Clone, Debug)]
pub struct TextConfig {
    /// The exact size of the file.
    pub bytes: u64,
    /// Distinct words in the vocabulary.
    pub vocabulary: u64,
    /// The power-law exponent of word frequencies (1 is Zipf's law).
    pub skew: f64,
    /// The seed; the same configuration always gives the same bytes.
    pub seed: u64,
}

impl TextConfig {
    /// Checks that the configuration describes a valid file.
    pub fn validate(&self) -> Result<()> {
        if self.vocabulary == 0 || self.vocabulary > 1 << 26 {
            return Err(Error::Config(format!(
                "--vocabulary must be between 1 and {}, not {}",
                1u64 << 26,
                self.vocabulary
            )));
        }
        if !(self.skew >= 0.0 && self.skew.is_finite()) {
            return Err(Error::Config(format!(
                "--skew must be a finite number >= 0, not {}",
                self.skew
            )));
        }
        Ok(())
    }
}

/// The longest spelling: 5 syllables cover every rank below 90^5, far more than the
/// largest vocabulary allowed (2^26).
const MAX_WORD: usize = 10;

/// A word in a fixed-size slot, so that copying it out is one constant-size copy rather
/// than a variable-length `memcpy` call (which dominated the text generator's time).
const SLOT: usize = 16;

/// The words of the vocabulary, in rank order, each in a zero-padded slot.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    slots: Vec<[u8; SLOT]>,
    lens: Vec<u8>,
}

impl Vocabulary {
    /// The first `n` words.
    pub fn new(n: u64) -> Vocabulary {
        let mut slots = Vec::with_capacity(n as usize);
        let mut lens = Vec::with_capacity(n as usize);
        let mut word = Vec::with_capacity(SLOT);
        for rank in 0..n {
            word.clear();
            spell(rank, &mut word);
            assert!(
                word.len() <= MAX_WORD,
                "rank {rank} is past the largest vocabulary"
            );
            let mut slot = [0u8; SLOT];
            slot[..word.len()].copy_from_slice(&word);
            slots.push(slot);
            lens.push(word.len() as u8);
        }
        Vocabulary { slots, lens }
    }

    /// The word of rank `rank`.
    pub fn word(&self, rank: u64) -> &[u8] {
        let r = rank as usize;
        &self.slots[r][..self.lens[r] as usize]
    }

    /// The word of rank `rank` in its padded slot, and its length.
    #[inline]
    fn slot(&self, rank: u64) -> (&[u8; SLOT], usize) {
        let r = rank as usize;
        (&self.slots[r], self.lens[r] as usize)
    }
}

/// Appends the spelling of `rank`: `rank + 1` written in bijective base 90, one
/// consonant-vowel syllable per digit. Bijective numeration has no zero digit, so every
/// positive number has exactly one spelling and every spelling is some number.
fn spell(rank: u64, out: &mut Vec<u8>) {
    let base = (CONSONANTS.len() * VOWELS.len()) as u64;
    let mut n = rank + 1;
    let start = out.len();
    while n > 0 {
        let digit = (n - 1) % base;
        n = (n - 1) / base;
        // Pushed vowel first because the whole word is reversed below.
        out.push(VOWELS[(digit % VOWELS.len() as u64) as usize]);
        out.push(CONSONANTS[(digit / VOWELS.len() as u64) as usize]);
    }
    out[start..].reverse();
}

/// Writes the text file to `path`; returns its size in bytes (always `cfg.bytes`).
pub fn generate(cfg: &TextConfig, path: &Path, progress: &mut Progress) -> Result<u64> {
    cfg.validate()?;
    let vocabulary = Vocabulary::new(cfg.vocabulary);
    let law = PowerLaw::new(cfg.vocabulary, cfg.skew);
    let blocks = cfg.bytes.div_ceil(BYTES_PER_BLOCK);
    let make = |block: u64| {
        let mut rng = Xoshiro256::for_block(cfg.seed, TEXT_STREAM, block);
        let size = BYTES_PER_BLOCK.min(cfg.bytes - block * BYTES_PER_BLOCK) as usize;
        let bytes = text_block(&mut rng, &vocabulary, &law, size);
        Block {
            units: bytes.len() as u64,
            bytes,
        }
    };
    write_blocks(path, blocks, make, progress)
}

/// Exactly `size` bytes of lines of 4 to 15 words, ending in a newline (`size > 0`).
fn text_block(
    rng: &mut Xoshiro256,
    vocabulary: &Vocabulary,
    law: &PowerLaw,
    size: usize,
) -> Vec<u8> {
    // `SLOT` bytes of slack past the end so every word can be copied as a whole slot;
    // the slack (and any padding copied with a word) is overwritten or cut off below.
    let mut out = vec![0u8; size + SLOT];
    let mut len = 0usize;
    let mut words_left = 0u64;
    let mut line_empty = true;
    loop {
        let (slot, word_len) = vocabulary.slot(law.sample(rng));
        let sep = usize::from(!line_empty);
        // Keep one byte for the block's final newline.
        if len + sep + word_len + 1 > size {
            break;
        }
        if words_left == 0 {
            words_left = 4 + rng.below(12);
        }
        out[len] = b' ';
        len += sep;
        out[len..len + SLOT].copy_from_slice(slot);
        len += word_len;
        line_empty = false;
        words_left -= 1;
        if words_left == 0 && len + 1 < size {
            out[len] = b'\n';
            len += 1;
            line_empty = true;
        }
    }
    // Pad the last line with spaces so every block has its exact size: blocks must not
    // depend on one another, so none can borrow bytes from the next.
    out[len..size - 1].fill(b' ');
    out[size - 1] = b'\n';
    out.truncate(size);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_unique_and_short_for_frequent_words() {
        let v = Vocabulary::new(20_000);
        let mut seen = std::collections::HashSet::new();
        for r in 0..20_000 {
            assert!(
                seen.insert(v.word(r).to_vec()),
                "rank {r} repeats a spelling"
            );
        }
        assert_eq!(v.word(0).len(), 2);
        assert_eq!(v.word(89).len(), 2);
        assert_eq!(v.word(90).len(), 4);
    }

    #[test]
    fn blocks_have_exact_sizes() {
        let v = Vocabulary::new(1000);
        let law = PowerLaw::new(1000, 1.0);
        for size in [1usize, 2, 3, 10, 1000, 4096] {
            let mut rng = Xoshiro256::from_seed(size as u64);
            let b = text_block(&mut rng, &v, &law, size);
            assert_eq!(b.len(), size);
            assert_eq!(b.last(), Some(&b'\n'));
        }
    }
}
