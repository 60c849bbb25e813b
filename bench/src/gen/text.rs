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

/// The words of the vocabulary, in rank order, stored back to back.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    text: Vec<u8>,
    ends: Vec<u32>,
}

impl Vocabulary {
    /// The first `n` words.
    pub fn new(n: u64) -> Vocabulary {
        let mut text = Vec::new();
        let mut ends = Vec::with_capacity(n as usize);
        for rank in 0..n {
            spell(rank, &mut text);
            ends.push(text.len() as u32);
        }
        Vocabulary { text, ends }
    }

    /// The word of rank `rank`.
    pub fn word(&self, rank: u64) -> &[u8] {
        let r = rank as usize;
        let start = if r == 0 { 0 } else { self.ends[r - 1] as usize };
        &self.text[start..self.ends[r] as usize]
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
    let mut out = Vec::with_capacity(size);
    let mut words_left = 0u64;
    let mut line_empty = true;
    loop {
        let word = vocabulary.word(law.sample(rng));
        let sep = usize::from(!line_empty);
        // Keep one byte for the block's final newline.
        if out.len() + sep + word.len() + 1 > size {
            break;
        }
        if words_left == 0 {
            words_left = 4 + rng.below(12);
        }
        if sep == 1 {
            out.push(b' ');
        }
        out.extend_from_slice(word);
        line_empty = false;
        words_left -= 1;
        if words_left == 0 && out.len() + 1 < size {
            out.push(b'\n');
            line_empty = true;
        }
    }
    // Pad the last line with spaces so every block has its exact size: blocks must not
    // depend on one another, so none can borrow bytes from the next.
    out.resize(size - 1, b' ');
    out.push(b'\n');
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
