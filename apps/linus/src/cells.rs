//! Grouping a rank's commits into cells of nearby ids, so that dense scans stay in cache.
//!
//! A dense scan looks up both ends of every commit in bitmaps of 32M users (4 MB each)
//! and 125M projects (16 MB each): in file order those lookups land anywhere, and with
//! several bitmaps per side and several ranks per machine most of them miss every cache.
//! Cutting both id spaces into blocks of 2^[`DEFAULT_BLOCK_BITS`] ids (128 KB of bitmap) and storing
//! the commits of each (project block, author block) pair together makes a scan of one
//! cell touch one slice of each bitmap, which stays in the core's L2 cache.
//!
//! The grouping is a counting sort done in place of the loaded blocks: the cells' sizes
//! are counted first, so each cell is allocated once at its exact size; then each loaded
//! block is sorted by cell on its own and its runs appended to the cells, and freed. At
//! any moment the rank holds each commit about once.

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
    /// `2^project_bits` pids and `2^author_bits` uids (at most 31: one block then holds
    /// every id).
    pub fn new(users: usize, projects: usize, project_bits: u32, author_bits: u32) -> Grid {
        let (project_shift, author_shift) = (project_bits.min(31), author_bits.min(31));
        let author_blocks = users.div_ceil(1 << author_shift).max(1);
        let project_blocks = projects.div_ceil(1 << project_shift).max(1);
        Grid {
            project_shift,
            author_shift,
            author_blocks,
            cells: author_blocks * project_blocks,
        }
    }

    /// How many cells.
    pub fn cells(&self) -> usize {
        self.cells
    }

    /// The cell of a commit (its ids are below the grid's bounds).
    #[inline]
    pub fn cell(&self, c: Commit) -> usize {
        (c.project >> self.project_shift) as usize * self.author_blocks
            + (c.author >> self.author_shift) as usize
    }
}

/// Regroups `segments` into the cells of `grid`, dropping empty cells. The order of the
/// commits within a cell is not specified.
pub fn group(segments: Vec<Vec<Commit>>, grid: Grid) -> Vec<Vec<Commit>> {
    if grid.cells() == 1 {
        return segments;
    }
    let counts = segments
        .par_iter()
        .fold(
            || vec![0usize; grid.cells()],
            |mut counts, seg| {
                seg.iter().for_each(|&c| counts[grid.cell(c)] += 1);
                counts
            },
        )
        .reduce(
            || vec![0usize; grid.cells()],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let cells: Vec<Mutex<Vec<Commit>>> = counts
        .iter()
        .map(|&n| Mutex::new(Vec::with_capacity(n)))
        .collect();
    // Each segment is consumed (and freed) by the task that sorts it.
    segments.into_par_iter().for_each(|seg| {
        let mut starts = vec![0usize; grid.cells() + 1];
        seg.iter().for_each(|&c| starts[grid.cell(c) + 1] += 1);
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut sorted = vec![
            Commit {
                project: 0,
                author: 0
            };
            seg.len()
        ];
        let mut next = starts.clone();
        for &c in &seg {
            let cell = grid.cell(c);
            sorted[next[cell]] = c;
            next[cell] += 1;
        }
        drop(seg);
        for (cell, run) in starts.windows(2).enumerate() {
            if run[0] < run[1] {
                // A poisoned lock means another task panicked, and the job fails anyway.
                let mut target = cells[cell].lock().unwrap_or_else(|e| e.into_inner());
                target.extend_from_slice(&sorted[run[0]..run[1]]);
            }
        }
    });
    cells
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .filter(|cell| !cell.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_commit_lands_in_its_cell_once() {
        let users = 3 * 1024;
        let projects = 2 * 1024 + 5;
        let grid = Grid::new(users, projects, 10, 10);
        assert_eq!(grid.cells(), 9);
        let segments: Vec<Vec<Commit>> = (0..7u32)
            .map(|s| {
                (0..1000u32)
                    .map(|i| Commit {
                        project: (i * 7919 + s * 104729) % projects as u32,
                        author: (i * 6007 + s * 15485863) % users as u32,
                    })
                    .collect()
            })
            .collect();
        let mut before: Vec<(u32, u32)> = segments
            .iter()
            .flatten()
            .map(|c| (c.project, c.author))
            .collect();
        let cells = group(segments, grid);
        for cell in &cells {
            let first = grid.cell(cell[0]);
            assert!(cell.iter().all(|&c| grid.cell(c) == first));
        }
        let mut after: Vec<(u32, u32)> = cells
            .iter()
            .flatten()
            .map(|c| (c.project, c.author))
            .collect();
        before.sort_unstable();
        after.sort_unstable();
        assert_eq!(before, after);
    }
}
