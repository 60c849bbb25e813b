//! Cutting text into words, and byte ranges of a text into the words that start in them.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// The bytes that separate words: ASCII space, `\t`, `\n`, `\v`, `\f`, `\r`.
#[inline]
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The words of `text[from..to]` in order, where a word belongs to the range in which it
/// starts: a word running into the range from before `from` is left out, and a word
/// starting before `to` is taken whole, even past `to`. So adjacent ranges yield every
/// word of the text exactly once.
pub fn words_starting_in(text: &[u8], from: usize, to: usize) -> impl Iterator<Item = &[u8]> {
    let to = to.min(text.len());
    let mut at = from.min(to);
    if at > 0 && !is_space(text[at - 1]) {
        // Skip the tail of a word that began in the previous range.
        while at < to && !is_space(text[at]) {
            at += 1;
        }
    }
    std::iter::from_fn(move || {
        while at < to && is_space(text[at]) {
            at += 1;
        }
        if at >= to {
            return None;
        }
        let start = at;
        while at < text.len() && !is_space(text[at]) {
            at += 1;
        }
        Some(&text[start..at])
    })
}

/// Reads the part of the file at `path` needed for the words starting in `from..to`:
/// one byte before `from` (to see whether a word runs into the range) and past `to`
/// until the last word ends. Returns the bytes and where `from` and `to` fall in them.
///
/// `len` is the file's length when the job looked at it. A file that is not that long
/// when opened, ends early, or changes while it is read is an error: counting what was
/// there would give a partial, timing-dependent answer.
pub fn read_part(path: &Path, from: u64, to: u64, len: u64) -> io::Result<(Vec<u8>, usize, usize)> {
    let mut file = File::open(path)?;
    let before = Snapshot::of(&file)?;
    if before.len != len {
        return Err(changed(&format!(
            "it had {len} bytes when the job began and {} when this rank opened it",
            before.len
        )));
    }
    let start = from.saturating_sub(1);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((to - start) as usize + 4096);
    (&mut file).take(to - start).read_to_end(&mut buf)?;
    if (buf.len() as u64) < to - start {
        return Err(changed(&format!(
            "it ended at byte {} although it had {len} bytes",
            start + buf.len() as u64
        )));
    }
    // Finish the word that straddles `to`, a block at a time.
    if buf.last().is_some_and(|&b| !is_space(b)) && to > from {
        let mut block = [0u8; 4096];
        loop {
            let n = file.read(&mut block)?;
            let end = block[..n].iter().position(|&b| is_space(b)).unwrap_or(n);
            buf.extend_from_slice(&block[..end]);
            if n == 0 || end < n {
                break;
            }
        }
    }
    if Snapshot::of(&file)? != before {
        return Err(changed("it was modified while this rank read it"));
    }
    Ok((buf, (from - start) as usize, (to - start) as usize))
}

/// What a file looked like: a change of either means someone wrote it.
#[derive(PartialEq)]
struct Snapshot {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Snapshot {
    fn of(file: &File) -> io::Result<Snapshot> {
        let meta = file.metadata()?;
        Ok(Snapshot {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

fn changed(how: &str) -> io::Error {
    io::Error::other(format!(
        "the file changed while it was being read ({how}); the counts would be partial, \
         so none are given: count it again once nothing writes to it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> Vec<&[u8]> {
        text.split(|&b| is_space(b))
            .filter(|w| !w.is_empty())
            .collect()
    }

    #[test]
    fn whole_text() {
        let text = b"  one\ttwo\r\nthree\x0bfour\x0cfive  ";
        let words: Vec<_> = words_starting_in(text, 0, text.len()).collect();
        assert_eq!(words, all(text));
        assert_eq!(words.len(), 5);
    }

    #[test]
    fn every_split_point_yields_each_word_once() {
        let text = "alpha beta  gamma\n\ndelta épsilon z".as_bytes();
        for cut in 0..=text.len() {
            let mut words: Vec<_> = words_starting_in(text, 0, cut).collect();
            words.extend(words_starting_in(text, cut, text.len()));
            assert_eq!(words, all(text), "cut at {cut}");
        }
    }

    #[test]
    fn many_ranges() {
        let text = b"a bb ccc dddd eeeee ffffff g";
        for parts in 1..=text.len() {
            let mut words = Vec::new();
            for p in 0..parts {
                let (from, to) = (text.len() * p / parts, text.len() * (p + 1) / parts);
                words.extend(words_starting_in(text, from, to));
            }
            assert_eq!(words, all(text), "{parts} parts");
        }
    }

    /// Files under /sys say 4096 bytes and hold fewer, as a file truncated after the job
    /// looked at it does.
    #[test]
    fn a_file_shorter_than_it_said_is_an_error() {
        let path = Path::new("/sys/devices/system/cpu/online");
        if std::fs::metadata(path).map(|m| m.len()).ok() != Some(4096) {
            eprintln!(
                "SKIPPED: {} is not a 4096-byte sysfs file here",
                path.display()
            );
            return;
        }
        let err = read_part(path, 0, 4096, 4096).unwrap_err().to_string();
        assert!(
            err.contains("the file changed while it was being read"),
            "{err}"
        );
        let err = read_part(path, 0, 10, 9999).unwrap_err().to_string();
        assert!(err.contains("when this rank opened it"), "{err}");
    }

    #[test]
    fn file_parts_join_up() {
        let text = b"the quick  brown fox\njumps over\tthe lazy dog ".repeat(300);
        let path = std::env::temp_dir().join(format!("wordcount-split-{}", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        for parts in [1u64, 2, 3, 7, 64] {
            let len = text.len() as u64;
            let mut words: Vec<Vec<u8>> = Vec::new();
            for p in 0..parts {
                let (from, to) = (len * p / parts, len * (p + 1) / parts);
                let (buf, a, b) = read_part(&path, from, to, len).unwrap();
                words.extend(words_starting_in(&buf, a, b).map(<[u8]>::to_vec));
            }
            let expected: Vec<Vec<u8>> = all(&text).into_iter().map(<[u8]>::to_vec).collect();
            assert_eq!(words, expected, "{parts} parts");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn empty_and_blank() {
        assert_eq!(words_starting_in(b"", 0, 0).count(), 0);
        assert_eq!(words_starting_in(b" \n\t ", 0, 4).count(), 0);
        assert_eq!(words_starting_in(b"abc", 1, 3).count(), 0);
    }
}
