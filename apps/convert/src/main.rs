//! `eau2-convert IN OUT`: converts a table between SoR, CSV, Parquet and Arrow IPC, on
//! every rank of an eau2 job (`eau2-launch -n 4 eau2-convert commits.sor commits.parquet`).
//!
//! The formats come from the extensions (`.sor`/`.ltgt`, `.csv`/`.tsv`, `.parquet`,
//! `.arrow`/`.ipc`/`.feather`; a folder input is a Parquet dataset) or `--from`/`--to`.
//! SoR, CSV and Parquet are read and written in parallel: each rank reads its own byte
//! part or row groups and writes its own rows at their place in the output, which
//! appears whole or not at all. Each rank reads its own run of an Arrow IPC file's
//! record batches, and writes its own batches of an IPC output
//! (`DistFrame::write_ipc`).
//!
//! Exit status: 0 success, 1 a failed read or write (the message names the file), 2 bad
//! arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use eau2::arrow::{Codec, IpcFile, ParquetWriteOptions};
use eau2::frame::{CsvWriteOptions, DataFrame};
use eau2::kv::Key;
use eau2::sor::FileIdentity;
use eau2::table::{DistFrame, Format, ReadOptions};
use eau2::{Error, Node, Result};

/// A table file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// Schema-on-read text (no header; columns c0, c1, ...).
    Sor,
    /// RFC 4180 CSV with a header line.
    Csv,
    /// Apache Parquet (a folder input is a dataset of .parquet files).
    Parquet,
    /// Arrow IPC file (Feather v2).
    Arrow,
}

impl Kind {
    /// The format a path's extension (or a folder) says.
    fn of(path: &Path) -> Option<Kind> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("arrow" | "ipc" | "feather") => Some(Kind::Arrow),
            // Words is never taken from an extension, and is not a table to convert.
            _ => Format::of_path(path).and_then(|f| match f {
                Format::Sor => Some(Kind::Sor),
                Format::Csv => Some(Kind::Csv),
                Format::Parquet => Some(Kind::Parquet),
                Format::Words => None,
            }),
        }
    }
}

/// Parquet compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Compression {
    /// Snappy (the default of most tools).
    Snappy,
    /// Zstandard, level 3.
    Zstd,
    /// None.
    None,
}

/// Converts a table between SoR, CSV, Parquet and Arrow IPC, in parallel.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// The input file (or a folder of .parquet files).
    input: PathBuf,
    /// The output file (or, with --parts, folder).
    output: PathBuf,
    /// The input format, when the extension does not say it.
    #[arg(long, value_enum)]
    from: Option<Kind>,
    /// The output format, when the extension does not say it.
    #[arg(long, value_enum)]
    to: Option<Kind>,
    /// Keep only these columns, in this order (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// Names for the input's columns (comma-separated; SoR has none of its own, so
    /// they are c0, c1, ... without this).
    #[arg(long, value_delimiter = ',')]
    names: Option<Vec<String>>,
    /// Parquet output compression.
    #[arg(long, value_enum, default_value = "snappy")]
    compression: Compression,
    /// Rows per Parquet row group (about; whole chunks).
    #[arg(long, default_value_t = 1 << 20)]
    row_group_rows: usize,
    /// Write one file per rank into the OUTPUT folder (part-00000.EXT, ...) instead of
    /// one file (SoR, CSV and Parquet).
    #[arg(long)]
    parts: bool,
    /// Lenient input: values that do not fit their column become missing (counted on
    /// standard error) instead of failing the conversion.
    #[arg(long)]
    lenient: bool,
    /// `--quiet` and `--stats`.
    #[command(flatten)]
    console: eau2_console::ConsoleArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let from = match args.from.or_else(|| Kind::of(&args.input)) {
        Some(k) => k,
        None => {
            return usage(&format!(
                "cannot tell the format of {}: say it with --from",
                args.input.display()
            ))
        }
    };
    let to = match args.to.or_else(|| Kind::of(&args.output)) {
        Some(k) => k,
        None if args.parts => match from {
            Kind::Arrow => Kind::Parquet,
            k => k,
        },
        None => {
            return usage(&format!(
                "cannot tell the format of {}: say it with --to",
                args.output.display()
            ))
        }
    };
    if args.parts && to == Kind::Arrow {
        return usage("--parts writes SoR, CSV or Parquet, not Arrow IPC");
    }
    args.console.install();
    eau2::run(|node| convert(node, &args, from, to))
}

/// Prints a usage error; exit status 2.
fn usage(message: &str) -> ExitCode {
    eprintln!("eau2-convert: {message}\nTry 'eau2-convert --help' for the flags.");
    ExitCode::from(2)
}

/// Collective: reads the input and writes the output.
fn convert(node: &Node, args: &Args, from: Kind, to: Kind) -> Result<()> {
    let started = Instant::now();
    let frame = read(node, args, from)?;
    let deviations = frame.deviations();
    if deviations.rows > 0 && node.rank() == 0 {
        eprintln!(
            "eau2-convert: {} row(s) of {} had values that did not fit their column; they are missing in the output",
            deviations.rows,
            args.input.display()
        );
    }
    write(&frame, args, to)?;
    if node.rank() == 0 && !args.console.quiet {
        eprintln!(
            "eau2-convert: {} rows, {} columns, {} -> {}, {} ranks, {:.3} s",
            frame.nrows(),
            frame.ncols(),
            args.input.display(),
            args.output.display(),
            node.size(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Collective: the input as a frame.
fn read<'n>(node: &'n Node, args: &Args, from: Kind) -> Result<DistFrame<'n>> {
    if from == Kind::Arrow {
        return read_arrow(node, args);
    }
    let mut options = ReadOptions::new().format(match from {
        Kind::Sor => Format::Sor,
        Kind::Csv => Format::Csv,
        _ => Format::Parquet,
    });
    if let Some(names) = &args.names {
        options = options.names(names);
    }
    if let Some(columns) = &args.columns {
        options = options.columns(columns);
    }
    if args.lenient {
        options = options.lenient();
    }
    DistFrame::read_with(node, &args.input, &options)
}

/// Collective: an Arrow IPC file, each rank reading only its own run of record batches
/// (about as many as every other rank's, in file order), so the rows stay in order,
/// rank after rank. The ranks first check they opened one version of the file.
fn read_arrow<'n>(node: &'n Node, args: &Args) -> Result<DistFrame<'n>> {
    let path = &args.input;
    let opened = IpcFile::open(path).and_then(|f| Ok((f.identity()?, f)));
    let mine = match &opened {
        Ok((id, _)) => (Some(*id), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let all: Vec<(Option<FileIdentity>, Option<String>)> = node.comm().all_gather(mine)?;
    let (_, mut file) = opened?;
    if let Some((rank, why)) = all
        .iter()
        .enumerate()
        .find_map(|(r, (_, e))| e.as_ref().map(|e| (r, e)))
    {
        return Err(Error::App(format!(
            "rank {rank} could not open {}: {why}",
            path.display()
        )));
    }
    if all.iter().any(|(id, _)| *id != all[0].0) {
        return Err(Error::App(format!(
            "{}: the ranks opened different versions of the file (it was replaced while \
             they opened it); nothing was converted: run again once it no longer changes",
            path.display()
        )));
    }
    let (n, r, batches) = (node.size(), node.rank(), file.batches());
    let local = file
        .read((batches * r / n)..(batches * (r + 1) / n))
        .and_then(|local| {
            let local = match &args.names {
                Some(names) => {
                    let schema = local.schema().clone().with_names(names)?;
                    DataFrame::new(schema, local.columns().to_vec())?
                }
                None => local,
            };
            match &args.columns {
                Some(columns) => {
                    let at = columns
                        .iter()
                        .map(|c| local.schema().index(c))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    local.project(&at)
                }
                None => Ok(local),
            }
        });
    // Every rank learns whether every rank read its run, so none waits for another.
    let failed: Vec<Option<String>> = node
        .comm()
        .all_gather(local.as_ref().err().map(|e| e.to_string()))?;
    let local = local?;
    if let Some((rank, why)) = failed
        .iter()
        .enumerate()
        .find_map(|(r, e)| e.as_ref().map(|e| (r, e)))
    {
        return Err(Error::App(format!(
            "rank {rank} could not read {}: {why}",
            path.display()
        )));
    }
    DistFrame::from_local_parts(node, &Key::new("eau2-convert/input", 0), &local)
}

/// Collective: writes `frame` as `to`.
fn write(frame: &DistFrame<'_>, args: &Args, to: Kind) -> Result<()> {
    let out = args.output.as_path();
    let parquet = ParquetWriteOptions::new()
        .codec(match args.compression {
            Compression::Snappy => Codec::Snappy,
            Compression::Zstd => Codec::Zstd(3),
            Compression::None => Codec::Uncompressed,
        })
        .row_group_rows(args.row_group_rows);
    let csv = CsvWriteOptions::new();
    match (to, args.parts) {
        (Kind::Sor, false) => frame.write_sor(out),
        (Kind::Csv, false) => frame.write_csv(out, &csv),
        (Kind::Parquet, false) => frame.write_parquet(out, &parquet),
        (Kind::Sor, true) => frame.write_sor_parts(out).map(drop),
        (Kind::Csv, true) => frame.write_csv_parts(out, &csv).map(drop),
        (Kind::Parquet, true) => frame.write_parquet_parts(out, &parquet).map(drop),
        (Kind::Arrow, _) => frame.write_ipc(out),
    }
}
