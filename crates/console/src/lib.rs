//! eau2's console: the command-line flags every eau2 app shares, and what an app
//! installs with them: the log subscriber ([`logging`]), rank 0's progress display
//! ([`progress`]) and the job statistics' table or JSON ([`stats`]).
//!
//! The `eau2` library only emits `tracing` events, counts progress and gathers
//! statistics; this crate shows them, so the library needs none of clap, indicatif,
//! tracing-subscriber or serde_json.
//!
//! An app flattens [`ConsoleArgs`] into its own clap arguments and calls
//! [`ConsoleArgs::install`] first thing:
//!
//! ```
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     console: eau2_console::ConsoleArgs,
//! }
//!
//! let args = Args::parse_from(["app", "--quiet"]);
//! args.console.install();
//! ```

#![warn(missing_docs)]

pub mod logging;
pub mod progress;
pub mod stats;

/// `--quiet` and `--stats`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConsoleArgs {
    /// Show no progress (bars on a terminal, periodic lines otherwise).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print each rank's traffic, times, peak memory and stored chunks at the end
    /// (as EAU2_STATS=1; EAU2_STATS=json:FILE writes JSON instead).
    #[arg(long)]
    pub stats: bool,
}

impl ConsoleArgs {
    /// Installs the log subscriber (`EAU2_LOG`), chooses how progress shows (none with
    /// `--quiet`), installs the statistics' reporter (`EAU2_STATS`) and asks for them
    /// with `--stats`.
    pub fn install(&self) {
        logging::init();
        progress::set_display(progress::Display::detect(self.quiet));
        stats::install();
        if self.stats {
            eau2::stats::request_table();
        }
    }
}
