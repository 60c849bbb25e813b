//! Grouping a rank's commits into cells of nearby ids, so that dense scans stay in cache.
//!
//! In file order a scan's bitmap lookups land anywhere (16 MB of projects at full
//! GHTorrent size). Cutting both id spaces into blocks of 2^[`DEFAULT_BLOCK_BITS`] ids
//! (128 KB of bitmap) and keeping each (project block, author block) cell's commits
//! together makes a scan of one cell touch one slice of each bitmap, which stays in L2.
//! A counting sort: the cells' sizes first, so each is allocated once; then each loaded
//! segment is sorted by cell on its own, appended to the cells and freed, so the rank
//! holds each commit about once. (The tests under `apps/linus/tests` run several grids.)

use std::sync::Mutex;

use rayon::prelude::*;

use crate::load::Commit;

/// The default block: 2^20 ids, 128 KB of bitmap.
pub const DEFAULT_BLOCK_BITS: u32 = 20;

/// The cells of a graph's id spaces.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    project_shift: u32,
    author_shift: u32,
    author_blocks: usize,
    cells: usize,
}

impl Grid {
    /// The grid over uids below `users` and pids below `projects`, with blocks of
    /// `2^project_bits` pids and `2^author_bits` uids (31 or more: one block).
    pub fn new(users: usize, projects: usize, project_bits: u32, author_bits: u32) -> Grid {
        let (project_shift, author_shift) = (project_bits.min(31), author_bits.min(31));
        let author_blocks = users.div_ceil(1 << author_shift).max(1);
        let project_blocks = projects.div_ceil(1 << project_shift).max(1);
        let cells = author_blocks * project_blocks;
        Grid {
            project_shift,
            author_shift,
            author_blocks,
            cells,
        }
    }

    /// The cell of a commit (its ids are below the grid's bounds).
    #[inline]
    fn cell(&self, c: Commit) -> usize {
        (c.project >> self.project_shift) as usize * self.author_blocks
            + (c.author >> self.author_shift) as usize
    }

    /// Where each cell's commits start in `commits` sorted by cell (one more entry than
    /// cells: the end).
    fn starts(&self, commits: &[Commit]) -> Vec<usize> {
        let mut starts = vec![0usize; self.cells + 1];
        commits.iter().for_each(|&c| starts[self.cell(c) + 1] += 1);
        (1..starts.len()).for_each(|i| starts[i] += starts[i - 1]);
        starts
    }
}

/// Regroups `segments` into the non-empty cells of `grid`, in no particular order
/// within a cell.
pub fn group(segments: Vec<Vec<Commit>>, grid: Grid) -> Vec<Vec<Commit>> {
    if grid.cells == 1 {
        return segments;
    }
    let sizes = segments.par_iter().map(|seg| grid.starts(seg)).reduce(
        || vec![0; grid.cells + 1],
        |a, b| a.iter().zip(b).map(|(x, y)| x + y).collect(),
    );
    let cells: Vec<Mutex<Vec<Commit>>> = sizes
        .windows(2)
        .map(|w| Mutex::new(Vec::with_capacity(w[1] - w[0])))
        .collect();
    segments.into_par_iter().for_each(|seg| {
        let starts = grid.starts(&seg);
        let mut next = starts.clone();
        let mut sorted = seg.clone(); // every place is overwritten below
        for c in seg {
            let cell = grid.cell(c);
            sorted[next[cell]] = c;
            next[cell] += 1;
        }
        for (cell, run) in starts.windows(2).enumerate().filter(|(_, r)| r[0] < r[1]) {
            // A poisoned lock means another task panicked, and the job fails anyway.
            let mut target = cells[cell].lock().unwrap_or_else(|e| e.into_inner());
            target.extend_from_slice(&sorted[run[0]..run[1]]);
        }
    });
    let cells = cells
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()));
    cells.filter(|cell| !cell.is_empty()).collect()
}
