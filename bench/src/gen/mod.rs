//! Deterministic generators of large SoR data sets.
//!
//! Each generator ([`linus`], [`text`], [`mixed`]) describes its output as numbered
//! blocks and a function that makes one block from its number alone, with a generator
//! seeded from (seed, file, block) ([`rng::Xoshiro256::for_block`]).
//! [`blocks::write_blocks`] makes the blocks in parallel and writes them in order, so the
//! bytes depend on the configuration and never on the number of threads.
//!
//! ```
//! use eau2_bench::gen::{blocks::Progress, linus::{self, LinusConfig}};
//!
//! let dir = std::env::temp_dir().join(format!("eau2-gen-doctest-{}", std::process::id()));
//! let cfg = LinusConfig { commits: 1000, users: 50, projects: 10, seed: 1, skew: 1.0, scramble: true };
//! let summary = linus::generate(&cfg, &dir, &mut Progress::hidden())?;
//! let commits = std::fs::read_to_string(dir.join("commits.ltgt")).unwrap();
//! assert_eq!(commits.lines().count(), 1000);
//! assert!(summary.top_user.unwrap() < 50);
//! std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), eau2::Error>(())
//! ```

pub mod blocks;
pub mod dist;
pub mod fmt;
pub mod linus;
pub mod mixed;
pub mod ops;
pub mod rng;
pub mod text;
pub mod words;
