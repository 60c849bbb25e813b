//! Writing a distributed frame as Parquet, through the same whole-or-nothing protocol
//! as text (temporary beside the destination, every rank writes and flushes, all agree,
//! rank 0 renames).
//!
//! One file: each rank encodes the row chunks it stores as Parquet row groups on all
//! its cores ([`eau2_arrow::encode_parts`]), the ranks exchange each part's position in
//! the frame, body length and footer (a few KiB), every rank computes where each part's
//! bytes go, rank 0 stitches the footers into the file's one footer
//! ([`eau2_arrow::stitch_footer`]) and sizes the temporary, and each rank writes its
//! bodies at their offsets with positional writes. Row order is the frame's, whatever
//! the chunks' homes. One file per rank: each rank writes its own rows as a whole
//! Parquet file into the temporary folder swapped in for the destination.

use std::fs::File;
use std::path::{Path, PathBuf};

use eau2_arrow::{
    encode_part, encode_parts, stitch_footer, without_missing, write_parquet, ParquetPart,
    ParquetWriteOptions, MAGIC,
};

use super::replace::Temp;
use super::{is_part, DistFrame};
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// A part's place in the frame: (the first row chunk of its run, its index in the run).
type Place = (u64, u64);

/// What a rank tells the others about each of its parts: its place, body length and
/// footer.
type Summary = Vec<(Place, u64, Vec<u8>)>;

impl<'n> DistFrame<'n> {
    /// Collective: writes the frame as one Parquet file at `path` (row groups from every
    /// rank, in row order; statistics on; snappy unless `options` say otherwise). The
    /// file appears whole or not at all: as [`DistFrame::write_csv`], a temporary
    /// beside `path` is renamed over it only once every rank wrote and flushed its row
    /// groups; on any failure every rank returns an error naming `path` and the failing
    /// rank, and `path` is unchanged.
    pub fn write_parquet(&self, path: &Path, options: &ParquetWriteOptions) -> Result<()> {
        let me = self.node.rank();
        let (encoded, all): (_, Vec<Summary>) = self.gather_encoded(
            self.encode_local_parquet(options),
            |parts| {
                let parts = parts.iter();
                parts
                    .map(|(place, p)| (*place, p.body.len() as u64, p.footer.clone()))
                    .collect()
            },
            |r| {
                format!(
                    "rank {r} could not encode its rows as Parquet for {}",
                    path.display()
                )
            },
        )?;

        // Every part of every rank in row order, and where its body goes.
        let mut order: Vec<(Place, usize, u64)> = Vec::new(); // (place, rank, body length)
        for (rank, parts) in all.iter().enumerate() {
            for (place, len, _) in parts {
                order.push((*place, rank, *len));
            }
        }
        order.sort();
        let mut at = MAGIC.len() as u64;
        let mut offsets = std::collections::HashMap::new();
        for (place, rank, len) in &order {
            if *rank == me {
                offsets.insert(*place, at);
            }
            at += len;
        }
        let bodies_end = at;

        // Rank 0 stitches the footers into the file's one footer.
        let footer = || {
            let footers: Vec<&[u8]> = order
                .iter()
                .map(|(place, rank, _)| {
                    let (_, _, footer) = all[*rank]
                        .iter()
                        .find(|(p, _, _)| p == place)
                        .expect("every ordered part is in its rank's list");
                    footer.as_slice()
                })
                .collect();
            let lens: Vec<u64> = order.iter().map(|o| o.2).collect();
            Ok(stitch_footer(&footers, &lens)?)
        };
        let pieces = encoded
            .iter()
            .map(|(place, part)| (&part.body[..], offsets[place]));
        self.write_placed(path, (MAGIC, bodies_end), footer, pieces)
    }

    /// Collective: writes the frame as Parquet into one file per rank,
    /// `dir/part-00000.parquet`, ...: each rank's rows (in row order) as a whole Parquet
    /// file, all swapped in for `dir` in one step as [`DistFrame::write_csv_parts`]
    /// does; other files in `dir` are kept, older `.parquet` parts are gone. The folder
    /// reads back as a dataset with [`DistFrame::read`]. Returns this rank's part.
    pub fn write_parquet_parts(
        &self,
        dir: &Path,
        options: &ParquetWriteOptions,
    ) -> Result<PathBuf> {
        let node = self.node;
        let me = node.rank();
        let name = format!("part-{me:05}.parquet");
        let carry = |name: &str| !is_part(name, "parquet");
        let made = (me == 0).then(|| Temp::create_dir(dir, &carry));
        let temp = self.share_temp(made, dir, true)?;
        let written = temp.and_then(|temp| {
            let part = temp.path().join(&name);
            let local = self.local_frame(&self.local_chunks())?;
            let file = File::create(&part).map_err(|e| Error::io_path("creating", &part, e))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            write_parquet(&local, &mut out, options)?;
            let file = out
                .into_inner()
                .map_err(|e| Error::io_path("writing", &part, e.into_error()))?;
            file.sync_data()
                .map_err(|e| Error::io_path("flushing", &part, e))?;
            Ok(temp)
        });
        self.swap_in_parts(written, dir, &carry)?;
        Ok(dir.join(name))
    }

    /// This rank's row chunks as Parquet parts, each with its place in the frame: runs
    /// of consecutive chunks are encoded together (on all cores). Rank 0 adds an empty
    /// part, placed last, so that even a frame without rows has a footer with its
    /// schema.
    fn encode_local_parquet(
        &self,
        options: &ParquetWriteOptions,
    ) -> Result<Vec<(Place, ParquetPart)>> {
        let mine = self.local_chunks();
        // A column is required in the file when no rank holds a missing value of it (a
        // rank that cannot tell says "not required"; its encoding fails below anyway).
        let local = self
            .local_frame(&mine)
            .map(|f| without_missing(&f))
            .unwrap_or_else(|_| vec![false; self.ncols()]);
        let required = self.node.comm().all_reduce(local, |a, b| {
            a.iter().zip(&b).map(|(x, y)| *x && *y).collect()
        })?;
        let options = &options.clone().required(required);
        let mut out = Vec::new();
        let mut start = 0;
        while start < mine.len() {
            let mut end = start + 1;
            while end < mine.len() && mine[end] == mine[end - 1] + 1 {
                end += 1;
            }
            let run = self.local_frame(&mine[start..end])?;
            if run.nrows() > 0 {
                for (k, part) in encode_parts(&run, options)?.into_iter().enumerate() {
                    out.push(((mine[start] as u64, k as u64), part));
                }
            }
            start = end;
        }
        if self.node.rank() == 0 {
            let empty = DataFrame::empty(self.schema().clone());
            out.push(((u64::MAX, 0), encode_part(&empty, options)?));
        }
        Ok(out)
    }
}
