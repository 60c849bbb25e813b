//! The command-line flags every eau2 app shares, and what an app installs with them:
//! the log subscriber ([`crate::logging`]), rank 0's progress display
//! ([`crate::progress`]) and the job statistics ([`crate::stats`]).
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
//!     console: eau2::console::ConsoleArgs,
//! }
//!
//! let args = Args::parse_from(["app", "--quiet"]);
//! args.console.install();
//! ```

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
    /// `--quiet`) and asks for statistics with `--stats`.
    pub fn install(&self) {
        crate::logging::init();
        crate::progress::set_display(crate::progress::Display::detect(self.quiet));
        if self.stats {
            crate::stats::request_table();
        }
    }
}
