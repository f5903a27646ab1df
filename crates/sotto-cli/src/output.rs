//! Printing results: friendly text, or one JSON object with `--json`.

use serde::Serialize;

/// Print `value` as one JSON object, or as aligned `label: value` lines.
///
/// `fields` gives the human labels for the JSON keys, in display order.
pub(crate) fn print<T: Serialize>(
    json: bool,
    value: &T,
    fields: &[(&str, &str)],
) -> anyhow::Result<()> {
    let object = serde_json::to_value(value)?;
    if json {
        println!("{object}");
        return Ok(());
    }
    let width = fields
        .iter()
        .map(|(_, label)| label.len())
        .max()
        .unwrap_or(0);
    for (key, label) in fields {
        let shown = match object.get(*key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => continue,
            Some(other) => other.to_string(),
        };
        println!("{label:>width$}: {shown}");
    }
    Ok(())
}
