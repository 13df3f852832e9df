//! Log output: journald-friendly plain lines by default (no colours unless stderr is a terminal;
//! no timestamps and a `<N>` priority prefix when stderr is the journal, which adds its own
//! time), or one JSON object per line (`--log-format json`) for shipping. What is logged never
//! holds a PIN, code, token or secret: those types redact themselves, and `tests/log_secrets.rs`
//! greps a whole run for them.

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// How lines look, besides their format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// stderr is the journal (`$JOURNAL_STREAM` names it): no timestamps, a priority prefix.
    pub journal: bool,
    /// Colours (stderr is a terminal and `$NO_COLOR` is unset).
    pub ansi: bool,
}

impl Style {
    /// The style for this process's stderr.
    pub fn for_stderr() -> Style {
        let journal = stderr_is_journal(std::env::var("JOURNAL_STREAM").ok().as_deref());
        Style {
            journal,
            ansi: !journal && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// systemd sets `JOURNAL_STREAM=<device>:<inode>` of the stream it connected; it is the journal
/// only while stderr is still that stream (a child whose stderr was redirected inherits the
/// variable, so its presence alone is not enough).
pub fn stderr_is_journal(journal_stream: Option<&str>) -> bool {
    let Some((dev, ino)) = journal_stream.and_then(|v| v.trim().split_once(':')) else {
        return false;
    };
    let Ok(st) = rustix::fs::fstat(std::io::stderr()) else {
        return false;
    };
    dev.parse() == Ok(st.st_dev) && ino.parse() == Ok(st.st_ino)
}

/// The journal's priority prefix (`<3>` error … `<7>` debug) before each line, which journald
/// strips and keeps as the entry's priority.
#[derive(Debug)]
struct JournalPriority<F>(F);

impl<S, N, F> FormatEvent<S, N> for JournalPriority<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let priority = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            _ => 7,
        };
        write!(writer, "<{priority}>")?;
        self.0.format_event(ctx, writer, event)
    }
}

/// The formatting layer for `format` and `style`, writing to `writer`.
pub fn layer<S, W>(format: LogFormat, style: Style, writer: W) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::fmt;
    let base = fmt::layer().with_writer(writer).with_ansi(style.ansi);
    match (format, style.journal) {
        (LogFormat::Json, false) => base.json().boxed(),
        (LogFormat::Json, true) => base
            .fmt_fields(JsonFields::new())
            .event_format(JournalPriority(fmt::format().json()))
            .boxed(),
        (LogFormat::Text, false) => base.boxed(),
        (LogFormat::Text, true) => base
            .event_format(JournalPriority(fmt::format().without_time().with_ansi(false)))
            .boxed(),
    }
}

/// Log to stderr from now on. `$SITEGATE_LOG` (EnvFilter syntax) wins over `filter`.
pub fn init(filter: &str, format: LogFormat) {
    let filter = std::env::var("SITEGATE_LOG").unwrap_or_else(|_| filter.to_owned());
    let env_filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(env_filter)
        .with(layer(format, Style::for_stderr(), std::io::stderr))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_stream_that_is_not_our_stderr_is_not_the_journal() {
        assert!(!stderr_is_journal(None));
        assert!(!stderr_is_journal(Some("garbage")));
        assert!(!stderr_is_journal(Some("1:1")));
    }
}
