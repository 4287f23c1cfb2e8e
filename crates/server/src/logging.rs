//! Structured logs: human-readable by default or JSON. The default timer already writes UTC
//! RFC 3339 with `Z` (whitepaper requirement 17).
//!
//! Every line written while a request is handled carries its request id. The id is not kept in a
//! tracing span (a span per request costs a registry slot, formatting its fields and an
//! enter/exit on every poll, even when nothing is logged, which is almost always); the formatters
//! here read it from the request's task-local instead and print it exactly where, and exactly
//! how, a `request{request_id=…}` span used to appear, so the output is unchanged.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{Format, Full, Json, JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::config::{LogConfig, LogFormat};
use crate::web::request_id::{REQUEST_ID, RequestId};

/// Installs the global subscriber. Safe to call more than once (later calls are ignored).
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Human => builder.event_format(HumanFormat::default()).try_init(),
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(JsonFormat::default())
            .try_init(),
    };
}

fn current_request_id() -> Option<RequestId> {
    REQUEST_ID.try_with(|id| *id).ok()
}

/// The default human format, plus `request{request_id=…}:` before the target on request lines.
#[derive(Debug)]
pub struct HumanFormat {
    /// Lines outside any request.
    plain: Format<Full, SystemTime>,
    /// What follows the request id on request lines: other spans, target, fields.
    rest: Format<Full, ()>,
}

impl Default for HumanFormat {
    fn default() -> Self {
        Self {
            plain: tracing_subscriber::fmt::format(),
            rest: tracing_subscriber::fmt::format()
                .without_time()
                .with_level(false),
        }
    }
}

// The ANSI styles the default format uses for the same parts.
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const ITALIC: &str = "\x1b[3m";
const RESET: &str = "\x1b[0m";

impl<S, N> FormatEvent<S, N> for HumanFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(id) = current_request_id() else {
            return self.plain.format_event(ctx, writer, event);
        };
        let ansi = writer.has_ansi_escapes();
        let (dim, bold, italic, reset) = if ansi {
            (DIM, BOLD, ITALIC, RESET)
        } else {
            ("", "", "", "")
        };
        writer.write_str(dim)?;
        if SystemTime.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        write!(writer, "{reset} ")?;
        let (color, level) = match *event.metadata().level() {
            Level::TRACE => ("\x1b[35m", "TRACE"),
            Level::DEBUG => ("\x1b[34m", "DEBUG"),
            Level::INFO => ("\x1b[32m", " INFO"),
            Level::WARN => ("\x1b[33m", " WARN"),
            Level::ERROR => ("\x1b[31m", "ERROR"),
        };
        if ansi {
            write!(writer, "{color}{level}{RESET} ")?;
        } else {
            write!(writer, "{level} ")?;
        }
        write!(
            writer,
            "{bold}request{reset}{bold}{{{reset}{italic}request_id{reset}{dim}={reset}{id}{bold}}}{reset}{dim}:{reset}"
        )?;
        // Any other spans follow directly; otherwise a space before the target.
        if ctx.event_scope().is_none() {
            writer.write_char(' ')?;
        }
        self.rest.format_event(ctx, writer, event)
    }
}

/// The JSON format (with the current span, without the span list), plus
/// `"span":{"request_id":…,"name":"request"}` on request lines, or a top-level `"request_id"`
/// when the line already names another span.
#[derive(Debug)]
pub struct JsonFormat {
    inner: Format<Json, SystemTime>,
}

impl Default for JsonFormat {
    fn default() -> Self {
        Self {
            inner: tracing_subscriber::fmt::format()
                .json()
                .with_current_span(true)
                .with_span_list(false),
        }
    }
}

impl<S, N> FormatEvent<S, N> for JsonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(id) = current_request_id() else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        // The object's closing brace; the id needs no escaping (it is plain ASCII).
        let Some(object) = line.trim_end().strip_suffix('}') else {
            return writer.write_str(&line);
        };
        if ctx.lookup_current().is_some() {
            writeln!(writer, "{object},\"request_id\":\"{id}\"}}")
        } else {
            writeln!(
                writer,
                "{object},\"span\":{{\"request_id\":\"{id}\",\"name\":\"request\"}}}}"
            )
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// Collects everything written, for inspection.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    fn id() -> RequestId {
        RequestId::parse(b"req-42").unwrap()
    }

    /// Logs the same three lines as the old span-based logging would have: one outside any
    /// request, one in a request, one in a request inside another span.
    fn emit(with_task_local: bool) {
        let lines = || {
            tracing::warn!(answer = 42, "inside");
            let other = tracing::info_span!("job", n = 1);
            other.in_scope(|| tracing::info!(path = ?"/a\tb", "nested"));
        };
        tracing::info!("outside");
        if with_task_local {
            REQUEST_ID.sync_scope(id(), lines);
        } else {
            let span = tracing::info_span!("request", request_id = %id());
            span.in_scope(lines);
        }
    }

    /// Drops each line's timestamp, the only part that may differ.
    fn without_time(lines: Vec<String>) -> Vec<String> {
        lines
            .into_iter()
            .map(|l| l.split_once(' ').map(|(_, rest)| rest.to_owned()).unwrap())
            .collect()
    }

    #[test]
    fn human_lines_are_as_with_a_request_span() {
        for ansi in [false, true] {
            let ours = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(ansi)
                .with_writer(ours.clone())
                .event_format(HumanFormat::default())
                .finish();
            tracing::subscriber::with_default(subscriber, || emit(true));
            let spans = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(ansi)
                .with_writer(spans.clone())
                .finish();
            tracing::subscriber::with_default(subscriber, || emit(false));
            let ours = ours.lines();
            assert_eq!(ours.len(), 3);
            assert!(ours[1].contains("request_id"), "{ours:?}");
            assert_eq!(
                without_time(ours),
                without_time(spans.lines()),
                "ansi {ansi}"
            );
        }
    }

    #[test]
    fn human_request_lines_read_naturally() {
        let ours = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(ours.clone())
            .event_format(HumanFormat::default())
            .finish();
        tracing::subscriber::with_default(subscriber, || emit(true));
        let lines = without_time(ours.lines());
        assert_eq!(
            lines[1],
            " WARN request{request_id=req-42}: latchkey_server::logging::tests: inside answer=42"
        );
        assert!(lines[0].ends_with("latchkey_server::logging::tests: outside"));
        assert!(
            lines[2].contains("request{request_id=req-42}:job{n=1}: "),
            "{lines:?}"
        );
    }

    #[test]
    fn json_lines_are_as_with_a_request_span() {
        let json = |captured: &Captured| {
            captured
                .lines()
                .iter()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v.as_object_mut().unwrap().remove("timestamp");
                    v
                })
                .collect::<Vec<_>>()
        };
        let ours = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(ours.clone())
            .fmt_fields(JsonFields::new())
            .event_format(JsonFormat::default())
            .finish();
        tracing::subscriber::with_default(subscriber, || emit(true));
        let spans = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(spans.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || emit(false));
        let (ours, spans) = (json(&ours), json(&spans));
        assert_eq!(ours[0], spans[0]);
        assert_eq!(ours[1], spans[1]);
        assert_eq!(ours[1]["span"]["request_id"], "req-42");
        // Inside another span the id moves to the top level rather than hiding that span.
        assert_eq!(ours[2]["span"]["name"], "job");
        assert_eq!(ours[2]["request_id"], "req-42");
    }
}
