//! `wordcount FILE`: counts the words of a text file on an eau2 cluster.
//!
//! A word is a maximal run of bytes that are not ASCII white space, compared byte for
//! byte. Each rank reads its own byte range of the file into a one-column STRING frame
//! (the words that start in its range, kept at home), counts its chunks on all cores,
//! and the counts meet at rank 0, which prints the totals and the most frequent words.

mod split;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use eau2::frame::{ColumnBuilder, DataFrame, DataType, Row, Rower, Schema};
use eau2::kv::Key;
use eau2::table::DistFrame;
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
        let _span = tracing::debug_span!(target: "eau2::wordcount", "wordcount_count").entered();
        let mut counter = Counter::default();
        words.local_map(&mut counter)?;
        let mut local: Vec<(Vec<u8>, u64)> = counter.0.into_iter().collect();
        local.sort_unstable();
        if let Some(parts) = node.gather(0, &local)? {
            print_report(&merge(parts), words.nrows(), args.top)?;
        }
        Ok(())
    })
}

/// Collective: the words starting in this rank's byte range, as this rank's part of a
/// one-column STRING frame.
fn load_words<'n>(node: &'n Node, args: &Args) -> Result<DistFrame<'n>> {
    let len = std::fs::metadata(&args.file)
        .map_err(|e| Error::io_path("reading", &args.file, e))?
        .len();
    let _span = tracing::debug_span!(target: "eau2::wordcount", "wordcount_load", file = %args.file.display()).entered();
    let progress = eau2::progress::Progress::bytes(node, "load", len);
    let (rank, size) = (node.rank() as u64, node.size() as u64);
    let (from, to) = (len * rank / size, len * (rank + 1) / size);
    let (text, from, to) = split::read_part(&args.file, from, to, len)
        .map_err(|e| Error::io_path("reading", &args.file, e))?;
    progress.add((to - from) as u64);
    let mut column = ColumnBuilder::new(DataType::String, args.chunk_rows);
    for word in split::words_starting_in(&text, from, to) {
        column.current().push_str(word);
        column.row_done();
    }
    let schema = Schema::new(vec![DataType::String]);
    let local = DataFrame::new(schema, vec![column.finish()])?;
    DistFrame::from_local_parts(node, &Key::new("wordcount/words", 0), &local)
}

/// Word -> occurrences.
#[derive(Clone, Default)]
struct Counter(HashMap<Vec<u8>, u64>);

impl Rower for Counter {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        // The frame is one STRING column: anything else is a bug, stopped here.
        if let Some(word) = row.get_str(0).expect("column 0 is a STRING") {
            match self.0.get_mut(word) {
                Some(n) => *n += 1,
                None => {
                    self.0.insert(word.to_vec(), 1);
                }
            }
        }
        true
    }

    fn join(&mut self, other: Self) {
        for (word, n) in other.0 {
            *self.0.entry(word).or_insert(0) += n;
        }
    }
}

fn merge(parts: Vec<Vec<(Vec<u8>, u64)>>) -> HashMap<Vec<u8>, u64> {
    let mut all = HashMap::new();
    for (word, n) in parts.into_iter().flatten() {
        *all.entry(word).or_insert(0) += n;
    }
    all
}

/// Prints the totals, then the `top` most frequent words as `COUNT WORD`, by count
/// (highest first), ties by the words' bytes (lowest first).
fn print_report(counts: &HashMap<Vec<u8>, u64>, words: u64, top: usize) -> Result<()> {
    let mut ranked: Vec<(&Vec<u8>, u64)> = counts.iter().map(|(w, &n)| (w, n)).collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let total: u64 = counts.values().sum();
    if total != words {
        return Err(Error::App(format!(
            "counted {total} words but the frame holds {words}"
        )));
    }
    let mut out = std::io::stdout().lock();
    let mut write = || -> std::io::Result<()> {
        writeln!(out, "words: {total}")?;
        writeln!(out, "distinct words: {}", counts.len())?;
        for (word, n) in ranked.iter().take(top) {
            write!(out, "{n} ")?;
            out.write_all(word)?;
            writeln!(out)?;
        }
        out.flush()
    };
    write().map_err(|e| Error::io("writing the report", e))
}
