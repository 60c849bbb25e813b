//! What the library says: `tracing` events and spans, never prints. Showing them is a
//! front end's job (the `eau2-console` crate installs a subscriber that follows
//! `EAU2_LOG`). So that a failing rank's error is never lost, [`crate::run`] installs
//! [`Fallback`] when the program installed no subscriber of its own: it writes warnings
//! and errors, one line each, on standard error.

use std::fmt::{self, Write as _};
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// A subscriber that writes warning and error events on standard error as
/// `LEVEL target: message field=value ...`, and ignores spans.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fallback;

/// Installs [`Fallback`] unless the program has a subscriber already.
pub(crate) fn ensure() {
    if !tracing::dispatcher::has_been_set() {
        // Losing a race with another thread's subscriber leaves that one in place.
        let _ = tracing::subscriber::set_global_default(Fallback);
    }
}

/// One event's text: its message, then its other fields.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    /// ` message field=value ...`.
    fn text(&self) -> String {
        format!(" {}{}", self.message, self.fields)
    }
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Writing to a String does not fail.
        let _ = match field.name() {
            "message" => write!(self.message, "{value:?}"),
            name => write!(self.fields, " {name}={value:?}"),
        };
    }
}

impl Subscriber for Fallback {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !metadata.is_span() && *metadata.level() <= Level::WARN
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::WARN)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Spans are never enabled, so never created; any id will do.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!("{:>5} {}:{}\n", meta.level(), meta.target(), line.text());
        // Nowhere to report a failed write of a log line.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_warnings_and_errors_are_enabled() {
        let _guard = tracing::subscriber::set_default(Fallback);
        assert!(tracing::enabled!(Level::ERROR));
        assert!(tracing::enabled!(Level::WARN));
        assert!(!tracing::enabled!(Level::INFO));
    }

    #[test]
    fn a_line_has_the_message_then_the_fields() {
        struct Probe(std::sync::Mutex<String>);
        impl Subscriber for Probe {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &Attributes<'_>) -> Id {
                Id::from_u64(1)
            }
            fn record(&self, _: &Id, _: &Record<'_>) {}
            fn record_follows_from(&self, _: &Id, _: &Id) {}
            fn event(&self, event: &Event<'_>) {
                let mut line = Line::default();
                event.record(&mut line);
                *self.0.lock().unwrap() = line.text();
            }
            fn enter(&self, _: &Id) {}
            fn exit(&self, _: &Id) {}
        }
        let probe = std::sync::Arc::new(Probe(std::sync::Mutex::new(String::new())));
        tracing::subscriber::with_default(std::sync::Arc::clone(&probe), || {
            tracing::warn!(rank = 3, "lost {}", "rank 1");
        });
        assert_eq!(*probe.0.lock().unwrap(), " lost rank 1 rank=3");
    }
}
