//! The stages of the search: each is two half-stages (users to projects, projects to
//! users), each a walk of the rank's commits and then a union over the ranks of what
//! each found.

use std::time::{Duration, Instant};

use eau2::set::{self, IdSet};
use eau2::{Node, Result};

use crate::edges::{Direction, Edges, Walk};

/// What one half-stage did: on this rank (the walk), and over all ranks (the union).
#[derive(Clone, Copy, Debug)]
pub struct Half {
    /// How this rank walked its commits, and how long it took.
    pub walk: (Walk, Duration),
    /// Ids newly tagged over all ranks, whether they travelled as a list, and how long
    /// the union took.
    pub union: (usize, bool, Duration),
}

/// The state of the search; the tagged sets are the same on every rank after a stage.
pub struct Search {
    /// The rank's commits.
    pub edges: Edges,
    /// Users and projects tagged so far, as bitmaps (looked up for every commit).
    pub users: IdSet,
    /// Projects tagged so far.
    pub projects: IdSet,
    /// Users tagged in the previous stage (the start user before stage 0).
    frontier: IdSet,
}

impl Search {
    /// A search from `start` over `edges`, with uids below `users` and pids below
    /// `projects`.
    pub fn new(edges: Edges, users: usize, projects: usize, start: usize) -> Result<Search> {
        let frontier = IdSet::from_ids(users, vec![start as u32])?;
        let mut tagged = IdSet::new_bitmap(users)?;
        tagged.union_with(&frontier)?;
        let projects = IdSet::new_bitmap(projects)?;
        Ok(Search {
            edges,
            users: tagged,
            projects,
            frontier,
        })
    }

    /// Collective: one half-stage from `frontier`; returns the ids it tagged.
    fn half(
        node: &Node,
        edges: &mut Edges,
        dir: Direction,
        frontier: &IdSet,
        tagged: &mut IdSet,
    ) -> Result<(IdSet, Half)> {
        let started = Instant::now();
        let (local, walk) = edges.expand(dir, frontier, tagged)?;
        let walked = Instant::now();
        let found = set::union(node, &local)?;
        // Every rank marks only untagged ids, so the union is all new.
        tagged.union_with(&found)?;
        let union = (found.len(), found.is_list(), walked.elapsed());
        Ok((
            found,
            Half {
                walk: (walk, walked - started),
                union,
            },
        ))
    }

    /// Collective: runs one stage.
    pub fn step(&mut self, node: &Node) -> Result<[Half; 2]> {
        let (projects, to_projects) = Self::half(
            node,
            &mut self.edges,
            Direction::UsersToProjects,
            &self.frontier,
            &mut self.projects,
        )?;
        let (users, to_users) = Self::half(
            node,
            &mut self.edges,
            Direction::ProjectsToUsers,
            &projects,
            &mut self.users,
        )?;
        self.frontier = users;
        Ok([to_projects, to_users])
    }
}
