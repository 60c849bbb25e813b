//! The stages of the search: two scans of the local commits per stage, each followed by
//! an all-reduce of what was newly found.

use eau2::frame::{Bitmap, Row, Rower};
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

/// Marks the projects that a frontier user authored a commit in, unless tagged already.
#[derive(Clone)]
struct ProjectsOf<'a> {
    frontier: &'a Bitmap,
    tagged: &'a Bitmap,
    found: Bitmap,
}

impl Rower for ProjectsOf<'_> {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        if let (Some(project), Some(author)) = (row.get_int(0), row.get_int(1)) {
            let (project, author) = (project as usize, author as usize);
            if self.frontier.get(author) && !self.tagged.get(project) {
                self.found.set(project, true);
            }
        }
        true
    }

    fn join(&mut self, other: Self) {
        self.found.union_with(&other.found);
    }
}

/// Marks the authors of commits in newly tagged projects, unless tagged already.
#[derive(Clone)]
struct AuthorsIn<'a> {
    new_projects: &'a Bitmap,
    tagged: &'a Bitmap,
    found: Bitmap,
}

impl Rower for AuthorsIn<'_> {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        if let (Some(project), Some(author)) = (row.get_int(0), row.get_int(1)) {
            let (project, author) = (project as usize, author as usize);
            if self.new_projects.get(project) && !self.tagged.get(author) {
                self.found.set(author, true);
            }
        }
        true
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

    /// Collective: runs one stage.
    pub fn step(&mut self, node: &Node) -> Result<Totals> {
        let mut projects_of = ProjectsOf {
            frontier: &self.frontier,
            tagged: &self.projects,
            found: Bitmap::filled(self.graph.projects, false),
        };
        self.graph.commits.local_map(&mut projects_of)?;
        let new_projects = node.all_reduce(projects_of.found, union)?;
        self.projects.union_with(&new_projects);

        let mut authors_in = AuthorsIn {
            new_projects: &new_projects,
            tagged: &self.users,
            found: Bitmap::filled(self.graph.users, false),
        };
        self.graph.commits.local_map(&mut authors_in)?;
        let new_users = node.all_reduce(authors_in.found, union)?;
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
