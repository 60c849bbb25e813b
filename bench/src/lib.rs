//! The eau2 benchmark harness and data generator.
//!
//! - [`gen`]: deterministic, parallel generators of large SoR data sets (the
//!   `eau2-gen` binary is a command line over it);
//! - [`measure`]: timing repeated runs (median, min, max), throughput, latency
//!   histograms;
//! - [`report`]: Markdown tables of results, with ratios to a baseline measured in the
//!   same run, to paste into `bench/RESULTS.md`.
//!
//! The benchmarks in `bench/benches/` are built from these three pieces.

#![warn(missing_docs)]

pub mod gen;
pub mod measure;
pub mod report;
