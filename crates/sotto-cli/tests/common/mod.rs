//! What the end-to-end tests share: running the `sotto` binary.

use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

/// Run `sotto args…` (bounded: a hung command fails the test instead of stalling it).
pub(crate) fn sotto(args: &[&str]) -> Output {
    Command::cargo_bin("sotto")
        .unwrap()
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

/// Run `sotto args…`, which must succeed; its stdout.
pub(crate) fn ok(args: &[&str]) -> String {
    let out = sotto(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
