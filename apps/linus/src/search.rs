//! The stages of the search: each is two half-stages (users to projects, projects to
//! users), each a walk of the rank's commits followed by a union of what every rank
//! found.

use std::time::{Duration, Instant};

use eau2::{Node, Result};

use crate::bits::Bits;
use crate::edges::{Direction, Edges, Walk};
use crate::found::{union_all, Found};

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

/// What one half-stage did on this rank, for the progress report.
#[derive(Clone, Copy, Debug)]
pub struct HalfReport {
    /// How the local commits were walked.
    pub walk: Walk,
    /// Whether the merged set travelled as an id list.
    pub as_list: bool,
    /// Time walking the commits.
    pub walk_time: Duration,
    /// Time in the union over ranks.
    pub union_time: Duration,
}

/// The state of the search; the tagged sets are the same on every rank after each stage.
pub struct Search {
    edges: Edges,
    users: Bits,
    projects: Bits,
    /// Users tagged in the previous stage (the start user before stage 0).
    frontier: Found,
}

impl Search {
    /// A search from `start` over `edges`, with uids below `users` and pids below
    /// `projects`.
    pub fn new(edges: Edges, users: usize, projects: usize, start: usize) -> Search {
        let mut tagged = Bits::new(users);
        tagged.insert(start);
        Search {
            edges,
            users: tagged,
            projects: Bits::new(projects),
            frontier: Found::Ids(vec![start as u32]),
        }
    }

    /// The rank's commits that can still tag something.
    pub fn live_commits(&self) -> usize {
        self.edges.live()
    }

    /// Whether the rank's commits are indexed for sparse walks.
    pub fn indexed(&self) -> bool {
        self.edges.indexed()
    }

    /// One half-stage: walks the commits from `frontier` and merges what every rank found
    /// into `tagged`; returns the newly tagged ids.
    fn half(
        edges: &mut Edges,
        node: &Node,
        direction: Direction,
        frontier: &Found,
        near_bound: usize,
        tagged: &mut Bits,
    ) -> Result<(Found, HalfReport)> {
        let started = Instant::now();
        let (local, walk) = edges.expand(direction, frontier, near_bound, tagged);
        let walked = Instant::now();
        let found = union_all(node, Found::from_bits(local), tagged.len())?;
        let report = HalfReport {
            walk,
            as_list: found.is_list(),
            walk_time: walked - started,
            union_time: walked.elapsed(),
        };
        // Every rank marks only untagged ids and all hold the same tagged set, so the
        // union is disjoint from it; adding it is enough.
        match &found {
            Found::Ids(ids) => ids.iter().for_each(|&id| {
                tagged.insert(id as usize);
            }),
            Found::Bits(bits) => tagged.union_with(bits),
        }
        Ok((found, report))
    }

    /// Collective: runs one stage.
    pub fn step(&mut self, node: &Node) -> Result<(Totals, [HalfReport; 2])> {
        let (new_projects, to_projects) = Self::half(
            &mut self.edges,
            node,
            Direction::UsersToProjects,
            &self.frontier,
            self.users.len(),
            &mut self.projects,
        )?;
        let (new_users, to_users) = Self::half(
            &mut self.edges,
            node,
            Direction::ProjectsToUsers,
            &new_projects,
            self.projects.len(),
            &mut self.users,
        )?;
        let totals = Totals {
            projects: self.projects.count(),
            users: self.users.count(),
            new_projects: new_projects.count(),
            new_users: new_users.count(),
        };
        self.frontier = new_users;
        Ok((totals, [to_projects, to_users]))
    }
}
