//! The stages of the search: two scans of the local commits per stage, each followed by
//! an all-reduce of what was newly found.

use eau2::frame::{Bitmap, Row, RowBlock, Rower};
use eau2::{Node, Result};

use crate::data::Graph;

/// The totals after a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    /// Projects tagged so far.
    pub projects: usize,
    /// Users tagged so far.
    pub users: usize,
    /// Projects tagged in this stage.
    pub new_projects: usize,
    /// Users tagged in this stage.
    pub new_users: usize,
}

/// The state of the search, the same on every rank after each stage.
pub struct Search<'g, 'n> {
    graph: &'g Graph<'n>,
    users: Bitmap,
    projects: Bitmap,
    /// The users tagged in the previous stage (the start user before stage 0).
    frontier: Bitmap,
}

/// Calls `f(project, author)` for every commit of `block` that has both ids. Ids were
/// checked to be in range when the graph was loaded.
fn each_commit(block: &RowBlock<'_>, mut f: impl FnMut(usize, usize)) {
    let (projects, authors) = (block.column(0), block.column(1));
    match (projects.ints(), authors.ints()) {
        // The common case, a block without missing ids: a plain loop over two slices.
        (Some(p), Some(a)) if projects.missing_count() == 0 && authors.missing_count() == 0 => {
            for (&p, &a) in p.iter().zip(a) {
                f(p as usize, a as usize);
            }
        }
        _ => {
            for row in block.rows() {
                if let (Some(p), Some(a)) = (row.get_int(0), row.get_int(1)) {
                    f(p as usize, a as usize);
                }
            }
        }
    }
}

/// Which way a scan crosses the bipartite graph.
#[derive(Clone, Copy, Debug)]
enum Direction {
    /// From tagged users to the projects they authored commits in.
    UsersToProjects,
    /// From tagged projects to the users who authored commits in them.
    ProjectsToUsers,
}

/// One half of a stage: marks every id on the far side of a commit whose near side is in
/// `from`, unless it is tagged already.
#[derive(Clone)]
struct Expand<'a> {
    direction: Direction,
    from: &'a Bitmap,
    tagged: &'a Bitmap,
    found: Bitmap,
}

impl Expand<'_> {
    #[inline]
    fn commit(&mut self, project: usize, author: usize) {
        let (near, far) = match self.direction {
            Direction::UsersToProjects => (author, project),
            Direction::ProjectsToUsers => (project, author),
        };
        if self.from.get(near) && !self.tagged.get(far) {
            self.found.set(far, true);
        }
    }
}

impl Rower for Expand<'_> {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        if let (Some(p), Some(a)) = (row.get_int(0), row.get_int(1)) {
            self.commit(p as usize, a as usize);
        }
        true
    }

    fn accept_block(&mut self, block: &RowBlock<'_>) {
        each_commit(block, |p, a| self.commit(p, a));
    }

    fn join(&mut self, other: Self) {
        self.found.union_with(&other.found);
    }
}

fn union(mut a: Bitmap, b: Bitmap) -> Bitmap {
    a.union_with(&b);
    a
}

impl<'g, 'n> Search<'g, 'n> {
    /// A search from user `start` (which must be below `graph.users`).
    pub fn new(graph: &'g Graph<'n>, start: usize) -> Search<'g, 'n> {
        let mut users = Bitmap::filled(graph.users, false);
        users.set(start, true);
        Search {
            graph,
            frontier: users.clone(),
            users,
            projects: Bitmap::filled(graph.projects, false),
        }
    }

    /// How many commit rows this rank stores.
    pub fn local_rows(&self) -> u64 {
        let desc = self.graph.commits.descriptor();
        self.graph
            .commits
            .local_chunks()
            .iter()
            .map(|&i| desc.chunks[i].rows)
            .sum()
    }

    /// Collective: scans the local commits in `direction` and merges what every rank
    /// found.
    fn expand(
        &self,
        node: &Node,
        direction: Direction,
        from: &Bitmap,
        tagged: &Bitmap,
    ) -> Result<Bitmap> {
        let mut scan = Expand {
            direction,
            from,
            tagged,
            found: Bitmap::filled(tagged.len(), false),
        };
        self.graph.commits.local_map(&mut scan)?;
        Ok(node.all_reduce(scan.found, union)?)
    }

    /// Collective: runs one stage.
    pub fn step(&mut self, node: &Node) -> Result<Totals> {
        let new_projects = self.expand(
            node,
            Direction::UsersToProjects,
            &self.frontier,
            &self.projects,
        )?;
        self.projects.union_with(&new_projects);
        let new_users =
            self.expand(node, Direction::ProjectsToUsers, &new_projects, &self.users)?;
        self.users.union_with(&new_users);

        let totals = Totals {
            projects: self.projects.count_ones(),
            users: self.users.count_ones(),
            new_projects: new_projects.count_ones(),
            new_users: new_users.count_ones(),
        };
        self.frontier = new_users;
        Ok(totals)
    }
}
