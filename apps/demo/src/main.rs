//! `demo`: the producer / counter / summarizer demo.
//!
//! - the producer (rank 0) stores an array of N floats 0, 1, ..., N-1 and their sum;
//! - the counter (rank 1) reads the array, sums it and stores its sum;
//! - the summarizer (rank 2) compares the two sums and prints `SUCCESS` or `FAILURE`.
//!
//! With fewer than three ranks, roles fold onto rank `role % size`; each rank plays its
//! roles in that order, and waiting reads keep them in step.

use std::process::ExitCode;

use clap::Parser;
use eau2::frame::{Row, Rower};
use eau2::kv::Key;
use eau2::table::DistFrame;
use eau2::{Error, Node, Result};

/// The producer / counter / summarizer demo.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// How many values the producer stores.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    #[command(flatten)]
    console: eau2_console::ConsoleArgs,
}

const PRODUCER: usize = 0;
const COUNTER: usize = 1;
const SUMMARIZER: usize = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    args.console.install();
    eau2::run(|node| {
        let plays = |role: usize| node.rank() == role % node.size();
        if plays(PRODUCER) {
            let _span = tracing::debug_span!(target: "eau2::demo", "demo_produce").entered();
            produce(node, args.count)?;
        }
        if plays(COUNTER) {
            let _span = tracing::debug_span!(target: "eau2::demo", "demo_count").entered();
            count(node)?;
        }
        if plays(SUMMARIZER) {
            let _span = tracing::debug_span!(target: "eau2::demo", "demo_summarize").entered();
            summarize(node)?;
        }
        Ok(())
    })
}

fn key(name: &str) -> Key {
    Key::new(name, 0)
}

fn produce(node: &Node, count: usize) -> Result<()> {
    let values: Vec<f32> = (0..count).map(|i| i as f32).collect();
    let sum: f64 = values.iter().map(|&v| v as f64).sum();
    DistFrame::from_array(node, &key("main"), &values)?;
    // FLOAT is 32-bit: both sums are rounded the same way before they are compared.
    DistFrame::from_scalar(node, &key("check"), sum as f32)?;
    eprintln!("producer: stored {count} values summing to {sum}");
    Ok(())
}

/// Sums a FLOAT column in f64, in row order.
#[derive(Default)]
struct Sum(f64);

impl Rower for Sum {
    fn accept(&mut self, row: &Row<'_>) -> bool {
        // The frame is one FLOAT column: anything else is a bug, stopped here.
        self.0 += row
            .get_as::<f32>(0)
            .expect("column 0 is a FLOAT")
            .unwrap_or(0.0) as f64;
        true
    }

    fn join(&mut self, other: Self) {
        self.0 += other.0;
    }
}

fn count(node: &Node) -> Result<()> {
    let frame = DistFrame::get(node, &key("main"))?;
    let mut sum = Sum::default();
    frame.map(&mut sum)?;
    DistFrame::from_scalar(node, &key("verify"), sum.0 as f32)?;
    eprintln!("counter: summed {} values to {}", frame.nrows(), sum.0);
    Ok(())
}

fn scalar(node: &Node, name: &str) -> Result<f64> {
    DistFrame::get(node, &key(name))?
        .get_as::<f32>(0, 0)?
        .map(f64::from)
        .ok_or_else(|| Error::App(format!("{name} holds no value")))
}

fn summarize(node: &Node) -> Result<()> {
    let expected = scalar(node, "check")?;
    let got = scalar(node, "verify")?;
    if expected == got {
        println!("SUCCESS");
        Ok(())
    } else {
        println!("FAILURE");
        Err(Error::App(format!(
            "the counter's sum {got} differs from the producer's {expected}"
        )))
    }
}
