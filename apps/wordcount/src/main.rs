//! `wordcount FILE`: counts the words of a text file on an eau2 cluster.
//!
//! A word is a maximal run of bytes that are not ASCII white space, compared byte for
//! byte. Each rank reads the words that start in its byte range of the file into its
//! part of a one-column frame; a group-by counts them (each rank counts its own words,
//! then the partial counts meet at the ranks that own the words), and a top-k picks the
//! most frequent, which rank 0 prints.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use eau2::frame::DataFrame;
use eau2::table::{Agg, DistFrame, Format, ReadOptions};
use eau2::{Error, Node, Result};

/// Counts the words of a text file.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The text file.
    file: PathBuf,
    /// How many of the most frequent words to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Rows (words) per chunk of the frame.
    #[arg(long, default_value_t = eau2::frame::DEFAULT_CHUNK_LEN)]
    chunk_rows: usize,
    #[command(flatten)]
    console: eau2_console::ConsoleArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    eau2::run(|node| {
        let words = load_words(node, &args)?;
        let counts = words.group_by(&["word"])?.agg(&[Agg::count()])?;
        // By count, highest first; ties by the words' bytes, lowest first.
        let top = counts
            .top_k(args.top, &["count", "word"], &[true, false])?
            .to_local()?;
        if node.rank() == 0 {
            print_report(words.nrows(), counts.nrows(), &top)?;
        }
        Ok(())
    })
}

/// Collective: the words starting in this rank's byte range of the file (the library's
/// `Format::Words` reader), as this rank's part of a one-column frame named `word`.
fn load_words<'n>(node: &'n Node, args: &Args) -> Result<DistFrame<'n>> {
    let options = ReadOptions::new()
        .format(Format::Words)
        .chunk_len(args.chunk_rows);
    DistFrame::read_with(node, &args.file, &options)
}

/// Prints the totals, then the top words as `COUNT WORD` (the word's raw bytes).
fn print_report(words: u64, distinct: u64, top: &DataFrame) -> Result<()> {
    let mut text = format!("words: {words}\ndistinct words: {distinct}\n").into_bytes();
    for row in 0..top.nrows() {
        let (word, n) = (
            top.get_as::<&[u8]>("word", row)?,
            top.get_as::<i64>("count", row)?,
        );
        text.extend_from_slice(format!("{} ", n.unwrap_or(0)).as_bytes());
        text.extend_from_slice(word.unwrap_or_default());
        text.push(b'\n');
    }
    let mut out = std::io::stdout().lock();
    (out.write_all(&text).and_then(|()| out.flush()))
        .map_err(|e| Error::io("writing the report", e))
}
