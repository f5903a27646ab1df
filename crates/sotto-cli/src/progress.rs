//! A one-line transfer progress display on stderr, for `send --attach` and `fetch`.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};

use sotto_client::transport::{Direction, Progress};

/// When to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProgressMode {
    /// When stderr is a terminal.
    Auto,
    /// Always (one line per update when stderr is not a terminal).
    Always,
    /// Never.
    Never,
}

/// Without a known total, redraw after every this many bytes.
const UNKNOWN_TOTAL_STEP: u64 = 1_000_000;
/// Longest label shown, in characters (a received file name can be anything).
const MAX_LABEL_CHARS: usize = 60;

/// A file name fit for a terminal line: control characters (escape sequences) as `?`, at most
/// [`MAX_LABEL_CHARS`] characters.
fn clean_label(name: &str) -> String {
    name.chars()
        .take(MAX_LABEL_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// One line: `uploading NAME: 42% (1.3 of 3.1 MB)`, or the bytes alone without a total.
pub(crate) fn render(label: &str, direction: Direction, done: u64, total: Option<u64>) -> String {
    let verb = match direction {
        Direction::Upload => "uploading",
        Direction::Download => "downloading",
    };
    let mb = |b: u64| b as f64 / 1e6;
    match total {
        Some(t) if t > 0 => {
            let pct = done.min(t).saturating_mul(100) / t;
            format!(
                "{verb} {label}: {pct:>3}% ({:.1} of {:.1} MB)",
                mb(done),
                mb(t)
            )
        }
        _ => format!("{verb} {label}: {:.1} MB", mb(done)),
    }
}

/// What was last drawn, so a line is redrawn only when it changes.
#[derive(Debug, Default)]
struct Drawn {
    /// Direction and percent (or megabyte step) last shown.
    last: Option<(Direction, u64)>,
    /// Whether a line is open (no newline yet).
    open: bool,
}

/// A progress line on stderr; dropping it ends a line left open (a transfer that failed).
#[derive(Debug)]
pub(crate) struct Bar {
    progress: Progress,
    drawn: Arc<Mutex<Drawn>>,
}

impl Bar {
    /// What the transfers report to.
    pub(crate) fn progress(&self) -> Progress {
        self.progress.clone()
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        let drawn = self
            .drawn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if drawn.open {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// A [`Bar`] drawing on stderr, or `None` when `mode` says to stay quiet.
pub(crate) fn bar(mode: ProgressMode, label: &str) -> Option<Bar> {
    let terminal = std::io::stderr().is_terminal();
    let show = match mode {
        ProgressMode::Auto => terminal,
        ProgressMode::Always => true,
        ProgressMode::Never => false,
    };
    if !show {
        return None;
    }
    let label = clean_label(label);
    let drawn = Arc::new(Mutex::new(Drawn::default()));
    let state = drawn.clone();
    let progress = Progress::new(move |direction, done, total| {
        let step = match total {
            Some(t) if t > 0 => done.min(t).saturating_mul(100) / t,
            _ => done / UNKNOWN_TOTAL_STEP,
        };
        let finished = total.is_some_and(|t| done >= t);
        let mut drawn = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if drawn.last == Some((direction, step)) {
            return;
        }
        let line = render(&label, direction, done, total);
        let mut err = std::io::stderr().lock();
        // A terminal gets one line redrawn in place; anything else a line per update.
        let _ = if terminal {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        if terminal && finished {
            let _ = writeln!(err);
        }
        let _ = err.flush();
        drawn.open = terminal && !finished;
        drawn.last = Some((direction, step));
    });
    Some(Bar { progress, drawn })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            render("a.jpg", Direction::Upload, 1_300_000, Some(3_100_000)),
            "uploading a.jpg:  41% (1.3 of 3.1 MB)"
        );
        assert_eq!(
            render("a.jpg", Direction::Download, 3_100_000, Some(3_100_000)),
            "downloading a.jpg: 100% (3.1 of 3.1 MB)"
        );
        assert_eq!(
            render("x", Direction::Download, 2_500_000, None),
            "downloading x: 2.5 MB"
        );
        // More than announced, or an empty total: never above 100 %, never a division by 0.
        assert_eq!(
            render("x", Direction::Download, 9, Some(4)),
            "downloading x: 100% (0.0 of 0.0 MB)"
        );
        assert_eq!(
            render("x", Direction::Upload, 0, Some(0)),
            "uploading x: 0.0 MB"
        );
    }

    #[test]
    fn labels_cannot_drive_the_terminal() {
        assert_eq!(clean_label("a\x1b[2Jb\r\n.jpg"), "a?[2Jb??.jpg");
        assert_eq!(clean_label(&"é".repeat(100)).chars().count(), 60);
    }

    #[test]
    fn quiet_when_asked() {
        assert!(bar(ProgressMode::Never, "x").is_none());
        assert!(bar(ProgressMode::Always, "x").is_some());
    }
}
