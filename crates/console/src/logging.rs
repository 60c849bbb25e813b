//! How a program shows what the library says: the library emits `tracing` events and
//! spans and never prints; [`init`] installs the subscriber apps use, which writes to
//! standard error what `EAU2_LOG` selects.
//!
//! `EAU2_LOG` takes `tracing-subscriber`'s filter syntax (`EnvFilter`): a level
//! (`debug`), or `target=level` pairs separated by commas. Targets are module paths,
//! matched by prefix, so `eau2=debug` covers all of eau2's crates (`eau2`, `eau2_comm`,
//! `eau2_data`, `eau2_launch`) and `eau2_comm::collectives=debug` only the collectives.
//! Without it, only warnings and errors show. Spans (a load, each collective call,
//! each stage of an app) are logged when they close, with their busy and idle times,
//! which is where a job's time went.
//!
//! Nothing is installed unless a program asks ([`init`], from apps through
//! [`crate::ConsoleArgs::install`]); a program with no subscriber at all gets the
//! library's [`eau2::logging::Fallback`] from [`eau2::run`] (warnings and errors only),
//! and one with its own subscriber keeps it.
//!
//! ```
//! eau2_console::logging::init(); // EAU2_LOG=eau2=debug shows every collective's time
//! tracing::warn!("shown by default");
//! ```

use std::io::{IsTerminal, Write};

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The variable holding the filter.
pub const ENV: &str = "EAU2_LOG";

/// The filter when `EAU2_LOG` is unset: warnings and errors.
pub const DEFAULT_FILTER: &str = "warn";

/// Installs the subscriber: events and closing spans that `EAU2_LOG` selects, one line
/// each on standard error. Does nothing if a subscriber is already installed. An
/// unreadable `EAU2_LOG` falls back to the default and says so ([`eau2::run`] then
/// stops with that error: [`init`] has it check `EAU2_LOG` with the other variables).
pub fn init() {
    eau2::cluster::check_also(ENV, |spec| filter(spec).map(drop));
    let (filter, bad) = match std::env::var(ENV) {
        Ok(spec) if !spec.trim().is_empty() => match self::filter(&spec) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some(e)),
        },
        _ => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_span_events(FmtSpan::CLOSE);
    // Timestamps help whoever asked for a log; a user who only meets an error does
    // without them.
    let installed = if std::env::var_os(ENV).is_some() {
        builder.try_init().is_ok()
    } else {
        builder.without_time().try_init().is_ok()
    };
    if let (true, Some(bad)) = (installed, bad) {
        tracing::warn!("{bad}; showing warnings and errors");
    }
}

/// Parses an `EAU2_LOG` value; an empty one is the default. [`eau2::run`] refuses a bad
/// one at start, naming it.
pub fn filter(spec: &str) -> Result<EnvFilter, eau2::net::vars::VarError> {
    if spec.trim().is_empty() {
        return Ok(EnvFilter::new(DEFAULT_FILTER));
    }
    EnvFilter::try_new(spec).map_err(|e| eau2::net::vars::log_filter_error(spec, e))
}

/// Standard error, written around rank 0's progress bar (which is cleared while a line
/// is written, then drawn again) so that log lines never land inside it.
struct Stderr;

/// One event's line.
struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            // Nowhere to report a failed write of a log line.
            crate::progress::suspend(|| {
                let _ = std::io::stderr().lock().write_all(&self.0);
            });
        }
    }
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line(Vec::with_capacity(256))
    }
}
