//! A rank's commits as the search walks them: a shrinking list for dense scans, and an
//! index for sparse ones.
//!
//! A commit `(p, a)` matters only until project `p` is tagged (then all of `p`'s authors
//! are tagged too), so the dense scan from new projects to users drops the commits it
//! uses, compacting the list in place: on a skewed graph, later stages scan a few percent
//! of it. Once the list is short, it is sorted by author and by project (an id's commits
//! found by binary search), and a stage whose frontier has few commits walks only those
//! (the push direction of a direction-optimizing BFS). `apps/linus/tests` checks every
//! strategy against a plain BFS.

use std::ops::Range;

use eau2::set::{AtomicIds, IdSet};
use eau2::Result;
use rayon::prelude::*;

use crate::cells::{self, Grid};
use crate::load::Commit;

/// Which way a half-stage crosses the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From users to the projects they authored commits in.
    UsersToProjects,
    /// From projects to the users who authored commits in them.
    ProjectsToUsers,
}

impl Direction {
    /// The (near, far) ids of a commit in this direction.
    #[inline]
    fn ends(self, c: Commit) -> (u32, u32) {
        match self {
            Direction::UsersToProjects => (c.author, c.project),
            Direction::ProjectsToUsers => (c.project, c.author),
        }
    }
}

/// How a half-stage walked the commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    /// Whether only the frontier's commits were visited, through the index.
    pub sparse: bool,
    /// Commits looked at.
    pub commits: usize,
}

/// How the search may walk the commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// Dense scans, then the index once the live list is short and the frontier small.
    Auto,
    /// Dense scans only (the index is never built).
    Dense,
    /// The index from the start and sparse walks always (for tests).
    Sparse,
}

/// A sparse walk pays when the frontier's commits are fewer than the live ones over
/// this factor (Ligra uses 20 for pull scans that stop early; ours never stop early, but
/// a sparse walk pays a binary search per id).
const SPARSE_FACTOR: usize = 20;

/// The index is built once the live commits are at most the loaded ones over this
/// factor: sorting them then costs less than the first stages' dense scans did.
const INDEX_FACTOR: usize = 32;

/// A rank's commits.
pub struct Edges {
    /// The live list, one vector per cell; empty once indexed.
    live: Vec<Vec<Commit>>,
    /// The live commits by author and by project, once built.
    index: Option<[Vec<Commit>; 2]>,
    loaded: usize,
    strategy: Strategy,
}

impl Edges {
    /// The commits of `segments`, grouped into the cells of `grid`.
    pub fn new(segments: Vec<Vec<Commit>>, grid: Grid, strategy: Strategy) -> Edges {
        let loaded = segments.iter().map(Vec::len).sum();
        let (live, index) = (cells::group(segments, grid), None);
        let mut edges = Edges {
            live,
            index,
            loaded,
            strategy,
        };
        if strategy == Strategy::Sparse {
            edges.build_index();
        }
        edges
    }

    /// Commits that can still tag something (all of them once indexed).
    pub fn live(&self) -> usize {
        match &self.index {
            Some([by_author, _]) => by_author.len(),
            None => self.live.iter().map(Vec::len).sum(),
        }
    }

    fn build_index(&mut self) {
        let mut by_author = std::mem::take(&mut self.live).concat();
        let mut by_project = by_author.clone();
        rayon::join(
            || by_author.par_sort_unstable_by_key(|c| c.author),
            || by_project.par_sort_unstable_by_key(|c| c.project),
        );
        self.index = Some([by_author, by_project]);
    }

    /// Marks the far end of every commit whose near end is in `frontier`, unless
    /// `tagged` holds it. Returns the ids found on this rank and how it walked.
    pub fn expand(
        &mut self,
        dir: Direction,
        frontier: &IdSet,
        tagged: &IdSet,
    ) -> Result<(IdSet, Walk)> {
        let found = AtomicIds::new(tagged.bound())?;
        let reach = |far: u32| {
            if !tagged.contains(far) {
                found.insert(far);
            }
        };
        let dense = |commits: &[Commit], from: &IdSet| {
            commits.par_chunks(1 << 16).for_each(|piece| {
                for &c in piece {
                    let (near, far) = dir.ends(c);
                    if from.contains(near) {
                        reach(far);
                    }
                }
            })
        };
        let small = frontier.is_list();
        if self.index.is_none()
            && self.strategy == Strategy::Auto
            && small
            && self.live() * INDEX_FACTOR <= self.loaded
        {
            self.build_index();
        }
        let sparse_only = self.strategy == Strategy::Sparse;
        let walked = if let Some(index) = &self.index {
            let sorted = &index[(dir == Direction::ProjectsToUsers) as usize];
            let ranges: Vec<Range<usize>> = match small || sparse_only {
                true => frontier
                    .as_list()
                    .par_iter()
                    .map(|&id| range_of(sorted, dir, id))
                    .collect(),
                false => Vec::new(),
            };
            let visited: usize = ranges.iter().map(Range::len).sum();
            if sparse_only || (small && (ranges.len() + visited) * SPARSE_FACTOR <= sorted.len()) {
                ranges
                    .into_par_iter()
                    .for_each(|r| sorted[r].iter().for_each(|&c| reach(dir.ends(c).1)));
                Walk {
                    sparse: true,
                    commits: visited,
                }
            } else {
                dense(sorted, &frontier.as_bitmap());
                Walk {
                    sparse: false,
                    commits: sorted.len(),
                }
            }
        } else {
            let walked = Walk {
                sparse: false,
                commits: self.live(),
            };
            let from: &IdSet = &frontier.as_bitmap();
            if dir == Direction::UsersToProjects {
                self.live.par_iter().for_each(|cell| dense(cell, from));
            } else {
                // The projects found now are about to be tagged: their commits go, by a
                // compaction without a branch on "keep" (early on, whether a commit's
                // project is new is close to a coin toss).
                self.live.par_iter_mut().for_each(|cell| {
                    let mut kept = 0;
                    for k in 0..cell.len() {
                        let c = cell[k];
                        let hit = from.contains(c.project);
                        if hit {
                            reach(c.author);
                        }
                        cell[kept] = c;
                        kept += usize::from(!hit);
                    }
                    cell.truncate(kept);
                    if cell.len() < cell.capacity() / 4 {
                        cell.shrink_to_fit(); // return the memory of cells that shrank a lot
                    }
                });
                self.live.retain(|cell| !cell.is_empty());
            }
            walked
        };
        Ok((found.finish()?, walked))
    }
}

/// The positions in `sorted` (sorted by near end) of the commits whose near end is `id`.
fn range_of(sorted: &[Commit], dir: Direction, id: u32) -> Range<usize> {
    let start = sorted.partition_point(|&c| dir.ends(c).0 < id);
    start..start + sorted[start..].partition_point(|&c| dir.ends(c).0 <= id)
}
