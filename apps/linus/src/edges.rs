//! A rank's commits as the search walks them: a shrinking list for dense scans, and an
//! index for sparse ones.
//!
//! **Live list.** A commit `(p, a)` matters to the search only until project `p` is
//! tagged: in the stage that tags `p`, every author of `p` is tagged too, so afterwards
//! the commit can neither tag a project nor a user. The dense scan from new projects to
//! users therefore drops the commits it has just used. Each stage scans only the commits
//! of projects not yet tagged, and on a skewed graph, where the first two stages reach
//! the heavy projects, that is a few percent of the commits after stage 1. The list is
//! compacted in place, so this costs no memory.
//!
//! The list is kept in the cells of a [`Grid`] (see [`cells`]), so that a scan of one
//! piece touches a small slice of each bitmap.
//!
//! **Index.** Once the live list is short, it is sorted into two arrays, by author and by
//! project (a CSR without offsets: an id's commits are found by binary search, so the
//! index costs 16 bytes per live commit and nothing per id). A stage whose frontier's
//! commits are few then walks only those (the "sparse", push direction of a
//! direction-optimizing BFS); a large frontier still scans everything (the "dense"
//! direction). Building the index sorts the live commits, which costs several dense
//! scans of them, so it waits until the list has shrunk: before that, a dense scan of
//! the list costs less than sorting it.

use std::ops::Range;

use rayon::prelude::*;

use crate::bits::{AtomicBits, Bits};
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
pub enum Walk {
    /// Every live commit was looked at.
    Dense {
        /// Commits scanned.
        scanned: usize,
    },
    /// Only the frontier's commits, found through the index.
    Sparse {
        /// Commits visited.
        visited: usize,
    },
}

/// Commits of the index sorted by one end, with the search by id.
struct Sorted {
    commits: Vec<Commit>,
    direction: Direction,
}

impl Sorted {
    fn new(mut commits: Vec<Commit>, direction: Direction) -> Sorted {
        commits.par_sort_unstable_by_key(|&c| direction.ends(c).0);
        Sorted { commits, direction }
    }

    /// The positions of the commits whose near end is `id`.
    fn range_of(&self, id: u32) -> Range<usize> {
        let near = |c: &Commit| self.direction.ends(*c).0;
        let start = self.commits.partition_point(|c| near(c) < id);
        let end = start + self.commits[start..].partition_point(|c| near(c) <= id);
        start..end
    }
}

/// The two sorted copies of the live commits.
struct Index {
    by_author: Sorted,
    by_project: Sorted,
}

impl Index {
    fn sorted(&self, direction: Direction) -> &Sorted {
        match direction {
            Direction::UsersToProjects => &self.by_author,
            Direction::ProjectsToUsers => &self.by_project,
        }
    }
}

/// A sparse walk pays when the frontier's commits are fewer than the live commits over
/// this factor (Ligra's rule of thumb is 20, for pull scans that stop early; a scan here
/// never stops early but a sparse walk pays a binary search per id).
const SPARSE_FACTOR: usize = 20;

/// The index is built when the live commits are at most the loaded ones over this
/// factor: sorting them then costs less than the dense scans of the first stages did.
const INDEX_FACTOR: usize = 32;

/// How the search may walk the commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// Dense scans of the live list, switching to the index once the list is short and
    /// the frontier small.
    Auto,
    /// Dense scans only (the index is never built).
    Dense,
    /// The index from the start and sparse walks whenever the frontier is a list (meant
    /// for tests: the index costs 16 bytes per commit).
    Sparse,
}

/// A rank's commits.
pub struct Edges {
    /// The live list, one vector per loaded block; empty once indexed.
    live: Vec<Vec<Commit>>,
    index: Option<Index>,
    loaded: usize,
    strategy: Strategy,
}

impl Edges {
    /// The commits `segments`, grouped into the cells of `grid` and walked as `strategy`
    /// says.
    pub fn new(segments: Vec<Vec<Commit>>, grid: Grid, strategy: Strategy) -> Edges {
        let loaded = segments.iter().map(Vec::len).sum();
        let mut edges = Edges {
            live: cells::group(segments, grid),
            index: None,
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
            Some(index) => index.by_author.commits.len(),
            None => self.live.iter().map(Vec::len).sum(),
        }
    }

    /// How many pieces the live list is in (cells of [`Grid`]).
    pub fn pieces(&self) -> usize {
        self.live.len()
    }

    /// Whether the index has been built.
    pub fn indexed(&self) -> bool {
        self.index.is_some()
    }

    fn build_index(&mut self) {
        let commits: Vec<Commit> = std::mem::take(&mut self.live).concat();
        let copy = commits.clone();
        let (by_author, by_project) = rayon::join(
            || Sorted::new(commits, Direction::UsersToProjects),
            || Sorted::new(copy, Direction::ProjectsToUsers),
        );
        self.index = Some(Index {
            by_author,
            by_project,
        });
    }

    /// Marks every id at the far end of a commit whose near end is in `frontier` (ids
    /// below `near_bound`), unless `tagged` (ids below `far_bound`) already holds it.
    /// Returns the ids found here and how the commits were walked.
    pub fn expand(
        &mut self,
        direction: Direction,
        frontier: &crate::found::Found,
        near_bound: usize,
        tagged: &Bits,
    ) -> (Bits, Walk) {
        let found = AtomicBits::new(tagged.len());
        if self.index.is_none()
            && self.strategy == Strategy::Auto
            && frontier.is_list()
            && self.live() <= self.loaded / INDEX_FACTOR
        {
            self.build_index();
        }
        let walk = match &self.index {
            Some(index) if frontier.is_list() || self.strategy == Strategy::Sparse => {
                let sorted = index.sorted(direction);
                let ids = frontier.to_ids();
                let ranges: Vec<Range<usize>> =
                    ids.par_iter().map(|&id| sorted.range_of(id)).collect();
                let visited: usize = ranges.iter().map(Range::len).sum();
                if self.strategy == Strategy::Sparse
                    || (ids.len() + visited) * SPARSE_FACTOR <= sorted.commits.len()
                {
                    ranges.into_par_iter().for_each(|r| {
                        for &c in &sorted.commits[r] {
                            let (_, far) = direction.ends(c);
                            if !tagged.get(far as usize) {
                                found.insert(far as usize);
                            }
                        }
                    });
                    Walk::Sparse { visited }
                } else {
                    let from = frontier.to_bits(near_bound);
                    scan(&sorted.commits, direction, &from, tagged, &found);
                    Walk::Dense {
                        scanned: sorted.commits.len(),
                    }
                }
            }
            Some(index) => {
                let sorted = index.sorted(direction);
                scan(
                    &sorted.commits,
                    direction,
                    &frontier.to_bits(near_bound),
                    tagged,
                    &found,
                );
                Walk::Dense {
                    scanned: sorted.commits.len(),
                }
            }
            None => {
                let scanned = self.live();
                let from = frontier.to_bits(near_bound);
                match direction {
                    Direction::UsersToProjects => self
                        .live
                        .par_iter()
                        .for_each(|seg| scan(seg, direction, &from, tagged, &found)),
                    // The far side of these commits is about to be tagged: drop them.
                    Direction::ProjectsToUsers => self.live.par_iter_mut().for_each(|seg| {
                        // Compaction without a branch on "keep": whether a
                        // commit's project is new is close to a coin toss early on.
                        let mut kept = 0;
                        for k in 0..seg.len() {
                            let c = seg[k];
                            let hit = from.get(c.project as usize);
                            if hit && !tagged.get(c.author as usize) {
                                found.insert(c.author as usize);
                            }
                            seg[kept] = c;
                            kept += usize::from(!hit);
                        }
                        seg.truncate(kept);
                        // Return the memory of segments that shrank a lot.
                        if seg.len() < seg.capacity() / 4 {
                            seg.shrink_to_fit();
                        }
                    }),
                }
                self.live.retain(|seg| !seg.is_empty());
                Walk::Dense { scanned }
            }
        };
        (found.into_bits(), walk)
    }
}

/// Marks the far end of every commit of `commits` whose near end is in `from`.
fn scan(commits: &[Commit], direction: Direction, from: &Bits, tagged: &Bits, found: &AtomicBits) {
    const PIECE: usize = 1 << 16;
    commits.par_chunks(PIECE).for_each(|piece| {
        for &c in piece {
            let (near, far) = direction.ends(c);
            if from.get(near as usize) && !tagged.get(far as usize) {
                found.insert(far as usize);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::found::Found;

    fn commits() -> Vec<Vec<Commit>> {
        let c = |project, author| Commit { project, author };
        vec![
            vec![c(0, 0), c(1, 0), c(1, 2)],
            vec![c(2, 3), c(1, 1), c(3, 4)],
        ]
    }

    #[test]
    fn every_strategy_finds_the_same_ids() {
        for strategy in [Strategy::Auto, Strategy::Dense, Strategy::Sparse] {
            let mut edges = Edges::new(commits(), Grid::new(5, 4, 1, 1), strategy);
            let (projects, _) = edges.expand(
                Direction::UsersToProjects,
                &Found::Ids(vec![0]),
                5,
                &Bits::new(4),
            );
            assert_eq!(projects.ids(), vec![0, 1], "{strategy:?}");
            let mut users = Bits::new(5);
            users.insert(0);
            let (found, _) = edges.expand(
                Direction::ProjectsToUsers,
                &Found::from_bits(projects),
                4,
                &users,
            );
            assert_eq!(found.ids(), vec![1, 2], "{strategy:?}");
        }
    }

    #[test]
    fn dense_scans_drop_the_commits_of_tagged_projects() {
        let mut edges = Edges::new(commits(), Grid::new(5, 4, 1, 1), Strategy::Dense);
        let (_, walk) = edges.expand(
            Direction::ProjectsToUsers,
            &Found::Ids(vec![1]),
            4,
            &Bits::new(5),
        );
        assert_eq!(walk, Walk::Dense { scanned: 6 });
        assert_eq!(edges.live(), 3);
    }

    #[test]
    fn the_index_finds_each_id_s_commits() {
        let s = Sorted::new(commits().concat(), Direction::ProjectsToUsers);
        assert_eq!(s.range_of(1).len(), 3);
        assert_eq!(s.range_of(7).len(), 0);
    }
}
