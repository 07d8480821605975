//! The JSON report (schema in `docs/report-schema.json`): stable key order,
//! sorted arrays, no timings, so the same input gives byte-identical output.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("the report serialises");
    text.push('\n');
    text
}
