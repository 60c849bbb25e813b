//! The eau2 benchmark harness and data generator.
//!
//! - [`gen`]: deterministic, parallel generators of large SoR data sets (the
//!   `eau2-gen` binary is a command line over it);
//! - [`measure`]: timing repeated runs (median, min, max), throughput, latency
//!   histograms;
//! - [`report`]: Markdown tables of results, with ratios to a baseline measured in the
//!   same run, to paste into `bench/RESULTS.md`;
//! - [`chart`]: the same results as SVG charts beside it (bars per report, series
//!   against data or job size, latency distributions) and latency histograms as
//!   HdrHistogram `.hgrm` files.
//!
//! The benchmarks in `bench/benches/` are built from these pieces.

#![warn(missing_docs)]

pub mod chart;
pub mod gen;
pub mod measure;
pub mod report;

/// The cases of the ops benchmark (`benches/ops.rs`) and of its rank program `eau2-ops`,
/// named once so the two agree.
pub const OPS_CASES: &[&str] = &[
    "csv",
    "groupby",
    "join",
    "sort",
    "count_distinct",
    "distinct",
    "agg",
];
