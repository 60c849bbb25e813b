//! Reading a text file's words into a one-column STRING frame: the word-count format
//! (`Format::Words` of `eau2::table::ReadOptions`).
//!
//! A word is a maximal run of bytes that are not ASCII white space (space, `\t`, `\n`,
//! `\v`, `\f`, `\r`), kept byte for byte (no UTF-8 check, no case folding). A part of the
//! file holds the words that *begin* in its byte range, read in blocks by the
//! [`BlockReader`], so the parts of a file hold each of its words exactly once.

use crate::blocks::{is_word_space, BlockReader};
use crate::error::Result;
use crate::frame::{ColumnBuilder, DataFrame, DataType, Schema};

/// The words of `bytes`, in order.
pub fn words(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|&b| is_word_space(b))
        .filter(|word| !word.is_empty())
}

/// The words of `reader`'s part (opened with
/// [`Records::Words`](crate::blocks::Records::Words)) as a frame of one STRING column
/// named `name`, cut into chunks of at most `chunk_len` rows (each block ends a chunk).
///
/// ```
/// use eau2_data::blocks::{BlockReader, Records};
/// # let path = std::env::temp_dir().join(format!("eau2-words-doc-{}", std::process::id()));
/// std::fs::write(&path, "to be\tor not\nto be")?;
/// let reader = BlockReader::open(&path, Records::Words)?;
/// let frame = eau2_data::words::read_words(&reader, "word", 1024)?;
/// assert_eq!(frame.nrows(), 6);
/// assert_eq!(frame.get_as::<&[u8]>(0, 3)?, Some(&b"not"[..]));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_words(reader: &BlockReader, name: &str, chunk_len: usize) -> Result<DataFrame> {
    let schema = Schema::new(vec![DataType::String]).with_names(&[name])?;
    let parts = reader.map_blocks(|block| {
        let mut column = ColumnBuilder::new(DataType::String, chunk_len.max(1));
        for word in words(block) {
            column.current().push_str(word);
            column.row_done();
        }
        Ok(column.finish())
    })?;
    let frames = parts
        .into_iter()
        .map(|column| DataFrame::new(schema.clone(), vec![column]))
        .collect::<Result<Vec<_>>>()?;
    if frames.is_empty() {
        let empty = ColumnBuilder::new(DataType::String, chunk_len.max(1)).finish();
        return DataFrame::new(schema, vec![empty]);
    }
    DataFrame::concat(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::Records;

    #[test]
    fn words_split_at_ascii_white_space_only() {
        let got: Vec<&[u8]> = words("  a\tb\r\nc\x0bd\x0ce f\u{a0}g  ".as_bytes()).collect();
        let want: Vec<&[u8]> = vec![b"a", b"b", b"c", b"d", b"e", "f\u{a0}g".as_bytes()];
        assert_eq!(got, want);
        assert_eq!(words(b" \n\t ").count(), 0);
    }

    #[test]
    fn parts_of_a_file_hold_every_word_once() {
        let text = b"the quick  brown fox\njumps over\tthe lazy dog ".repeat(300);
        let path = std::env::temp_dir().join(format!("eau2-words-parts-{}", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        let expected: Vec<Vec<u8>> = words(&text).map(<[u8]>::to_vec).collect();
        for parts in [1, 2, 3, 7, 64] {
            let mut got = Vec::new();
            for p in 0..parts {
                let reader = BlockReader::open(&path, Records::Words)
                    .unwrap()
                    .part(p, parts)
                    .unwrap()
                    .block_bytes(100);
                let frame = read_words(&reader, "word", 16).unwrap();
                assert_eq!(frame.schema().names(), ["word"]);
                for row in 0..frame.nrows() {
                    got.push(frame.get_as::<&[u8]>(0, row).unwrap().unwrap().to_vec());
                }
            }
            assert_eq!(got, expected, "{parts} parts");
        }
        std::fs::remove_file(&path).unwrap();
    }
}
