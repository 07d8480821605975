//! `driftaudit history`: what the stored scans say, computed here over the
//! rows (so SQLite and PostgreSQL give the same numbers). Only complete
//! scans (no coverage gap, no error) count for trends, time to resolve and
//! open entries: a scan that did not check everything cannot say what was
//! open or resolved.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use super::{rfc3339, short_age, EntryRow, EntryView, ScanRow};

/// `history list`: one line per scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanLine {
    pub id: i64,
    pub target: String,
    pub now: String,
    pub result: String,
    pub exit_code: i64,
    pub complete: bool,
    pub findings: i64,
    pub suppressed: i64,
    pub drift: i64,
    pub coverage_gaps: i64,
    pub errors: i64,
    pub declared: Option<String>,
    pub commit: Option<String>,
    pub tool_version: String,
}

pub fn scan_line(scan: &ScanRow) -> ScanLine {
    ScanLine {
        id: scan.id,
        target: scan.target.clone(),
        now: rfc3339(scan.clock),
        result: scan.result.clone(),
        exit_code: scan.exit_code,
        complete: scan.complete,
        findings: scan.findings,
        suppressed: scan.suppressed,
        drift: scan.drift,
        coverage_gaps: scan.coverage_gaps,
        errors: scan.errors,
        declared: scan.declared.clone(),
        commit: scan.commit.clone(),
        tool_version: scan.tool_version.clone(),
    }
}

pub fn render_list(scans: &[ScanRow], json: bool) -> String {
    let lines: Vec<ScanLine> = scans.iter().map(scan_line).collect();
    if json {
        return serde_json::to_string_pretty(&lines).expect("serialises") + "\n";
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<20}  {:<10}  {:>4}  {:>8}  {:>5}  target",
        "id", "clock", "result", "exit", "findings", "drift"
    );
    for l in &lines {
        let _ = writeln!(
            out,
            "{:>6}  {:<20}  {:<10}  {:>4}  {:>8}  {:>5}  {}",
            l.id,
            l.now,
            l.result,
            l.exit_code,
            l.findings,
            l.drift,
            crate::printable::printable(&l.target)
        );
    }
    let _ = writeln!(out, "{} scan(s)", lines.len());
    out
}

/// One stored entry as `show` and `open` list it.
#[derive(Debug, Clone, Serialize)]
pub struct EntryLine {
    #[serde(flatten)]
    pub entry: EntryView,
    pub suppressed: bool,
    /// Seconds from `first_seen` to the scan (`show`) or to `--now` (`open`).
    pub age_seconds: i64,
}

fn entry_line(entry: &EntryRow, at: i64) -> EntryLine {
    EntryLine {
        entry: EntryView::of(entry),
        suppressed: entry.suppressed,
        age_seconds: at - entry.first_seen,
    }
}

fn render_entries(out: &mut String, entries: &[EntryLine]) {
    for line_of in entries {
        let e = &line_of.entry;
        let what = match &e.severity {
            Some(severity) => format!("{severity} {}", e.what()),
            None => e.what(),
        };
        let mut line = format!(
            "  {what}  {}  [{}]  first seen {} ({})",
            e.resource.as_deref().unwrap_or("(inventory)"),
            e.target,
            e.first_seen,
            short_age(line_of.age_seconds)
        );
        if let Some(owner) = &e.owner {
            let _ = write!(line, "  owner {owner}");
        }
        if line_of.suppressed {
            line.push_str("  (suppressed)");
        }
        let _ = writeln!(out, "{}", crate::printable::printable(&line));
    }
}

#[derive(Serialize)]
struct Shown<'a> {
    scan: ScanLine,
    entries: &'a [EntryLine],
}

pub fn render_show(scan: &ScanRow, entries: &[EntryRow], json: bool) -> String {
    let lines: Vec<EntryLine> = entries.iter().map(|e| entry_line(e, scan.clock)).collect();
    if json {
        let shown = Shown {
            scan: scan_line(scan),
            entries: &lines,
        };
        return serde_json::to_string_pretty(&shown).expect("serialises") + "\n";
    }
    let mut out = render_list(std::slice::from_ref(scan), false);
    render_entries(&mut out, &lines);
    let _ = writeln!(out, "{} entr(ies)", lines.len());
    out
}

/// The complete scans of each target at or before `at`, by (clock, id).
fn complete_by_target(scans: &[ScanRow], at: i64) -> BTreeMap<&str, Vec<&ScanRow>> {
    let mut by: BTreeMap<&str, Vec<&ScanRow>> = BTreeMap::new();
    for scan in scans.iter().filter(|s| s.complete && s.clock <= at) {
        by.entry(scan.target.as_str()).or_default().push(scan);
    }
    for list in by.values_mut() {
        list.sort_by_key(|s| (s.clock, s.id));
    }
    by
}

fn open_entries(
    entries: &BTreeMap<i64, Vec<EntryRow>>,
    scan: i64,
) -> impl Iterator<Item = &EntryRow> {
    entries
        .get(&scan)
        .into_iter()
        .flatten()
        .filter(|e| !e.suppressed)
}

/// Entries grouped by scan id.
pub fn by_scan(entries: Vec<(i64, EntryRow)>) -> BTreeMap<i64, Vec<EntryRow>> {
    let mut by: BTreeMap<i64, Vec<EntryRow>> = BTreeMap::new();
    for (id, entry) in entries {
        by.entry(id).or_default().push(entry);
    }
    by
}

/// What `trend --by` groups on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendBy {
    Category,
    Rule,
    Target,
    Environment,
}

impl TrendBy {
    pub fn as_str(self) -> &'static str {
        match self {
            TrendBy::Category => "category",
            TrendBy::Rule => "rule",
            TrendBy::Target => "target",
            TrendBy::Environment => "environment",
        }
    }

    fn key(self, scan: &ScanRow, entry: &EntryRow) -> String {
        let drift = || format!("drift:{}", entry.status.as_deref().unwrap_or(""));
        match self {
            TrendBy::Category => entry.category.clone().unwrap_or_else(|| "drift".into()),
            TrendBy::Rule => entry.rule.clone().unwrap_or_else(drift),
            TrendBy::Target => scan.target.clone(),
            TrendBy::Environment => entry.environment.clone().unwrap_or_else(|| "(none)".into()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendDay {
    pub date: String,
    pub total: usize,
    pub counts: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub by: &'static str,
    pub since: String,
    pub now: String,
    pub days: Vec<TrendDay>,
}

/// Open counts per day (UTC) from the day of `now - since` to the day of
/// `now`: for each day, the open entries of the latest complete scan of each
/// target at the end of that day (at `now` for today), grouped by `by`.
pub fn trend(
    scans: &[ScanRow],
    entries: &BTreeMap<i64, Vec<EntryRow>>,
    by: TrendBy,
    now: i64,
    since: i64,
) -> Trend {
    let first_day = (now - since).div_euclid(86_400);
    let last_day = now.div_euclid(86_400);
    let mut days = Vec::new();
    for day in first_day..=last_day {
        let end = ((day + 1) * 86_400 - 1).min(now);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for list in complete_by_target(scans, end).values() {
            let Some(latest) = list.last() else { continue };
            for entry in open_entries(entries, latest.id) {
                *counts.entry(by.key(latest, entry)).or_default() += 1;
            }
        }
        days.push(TrendDay {
            date: rfc3339(day * 86_400)[..10].to_string(),
            total: counts.values().sum(),
            counts,
        });
    }
    Trend {
        by: by.as_str(),
        since: rfc3339(now - since),
        now: rfc3339(now),
        days,
    }
}

pub fn render_trend(trend: &Trend, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(trend).expect("serialises") + "\n";
    }
    let keys: BTreeSet<&str> = trend
        .days
        .iter()
        .flat_map(|d| d.counts.keys().map(String::as_str))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "open entries per day by {} (latest complete scan of each target at the end of the day)",
        trend.by
    );
    let _ = write!(out, "{:<10}  {:>5}", "date", "total");
    for key in &keys {
        let _ = write!(out, "  {}", crate::printable::printable(key));
    }
    out.push('\n');
    for day in &trend.days {
        let _ = write!(out, "{:<10}  {:>5}", day.date, day.total);
        for key in &keys {
            let n = day.counts.get(*key).copied().unwrap_or(0);
            let _ = write!(out, "  {:>width$}", n, width = key.chars().count());
        }
        out.push('\n');
    }
    out
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MttrGroup {
    pub key: String,
    /// Entries resolved.
    pub count: usize,
    pub mean_seconds: i64,
    pub median_seconds: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mttr {
    pub by_rule: Vec<MttrGroup>,
    pub by_severity: Vec<MttrGroup>,
}

/// Time to resolve: for each entry that was open in a complete scan of a
/// target and is gone from a later complete scan of the same target, the
/// time from its `first_seen` to that later scan. Findings group by rule and
/// severity; drift entries by `drift:STATUS` and `drift`.
pub fn mttr(scans: &[ScanRow], entries: &BTreeMap<i64, Vec<EntryRow>>, now: i64) -> Mttr {
    let mut by_rule: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut by_severity: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for list in complete_by_target(scans, now).values() {
        // Open entries being followed: key -> the entry when it was first seen open.
        let mut open: BTreeMap<(String, String), EntryRow> = BTreeMap::new();
        for scan in list {
            let present: BTreeSet<(String, String)> = entries
                .get(&scan.id)
                .into_iter()
                .flatten()
                .map(|e| (e.kind.clone(), e.fingerprint.clone()))
                .collect();
            open.retain(|key, entry| {
                if present.contains(key) {
                    return true;
                }
                let seconds = scan.clock - entry.first_seen;
                let rule = entry
                    .rule
                    .clone()
                    .unwrap_or_else(|| format!("drift:{}", entry.status.as_deref().unwrap_or("")));
                let severity = entry.severity.clone().unwrap_or_else(|| "drift".into());
                by_rule.entry(rule).or_default().push(seconds);
                by_severity.entry(severity).or_default().push(seconds);
                false
            });
            for entry in open_entries(entries, scan.id) {
                open.entry((entry.kind.clone(), entry.fingerprint.clone()))
                    .or_insert_with(|| entry.clone());
            }
        }
    }
    let groups = |map: BTreeMap<String, Vec<i64>>| {
        map.into_iter()
            .map(|(key, mut times)| {
                times.sort_unstable();
                let count = times.len();
                let mean = times.iter().sum::<i64>() / count as i64;
                let median = if count % 2 == 1 {
                    times[count / 2]
                } else {
                    (times[count / 2 - 1] + times[count / 2]) / 2
                };
                MttrGroup {
                    key,
                    count,
                    mean_seconds: mean,
                    median_seconds: median,
                }
            })
            .collect()
    };
    Mttr {
        by_rule: groups(by_rule),
        by_severity: groups(by_severity),
    }
}

pub fn render_mttr(mttr: &Mttr, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(mttr).expect("serialises") + "\n";
    }
    let mut out = String::new();
    for (title, groups) in [("rule", &mttr.by_rule), ("severity", &mttr.by_severity)] {
        let _ = writeln!(out, "time to resolve by {title}");
        let _ = writeln!(
            out,
            "  {:<28} {:>6} {:>8} {:>8}",
            title, "count", "mean", "median"
        );
        for g in groups {
            let _ = writeln!(
                out,
                "  {:<28} {:>6} {:>8} {:>8}",
                crate::printable::printable(&g.key),
                g.count,
                short_age(g.mean_seconds),
                short_age(g.median_seconds)
            );
        }
        if groups.is_empty() {
            let _ = writeln!(out, "  (nothing resolved yet)");
        }
    }
    out
}

/// `open --older-than`: the open entries of the latest complete scan of each
/// target (at or before `now`) first seen more than `older_than` seconds
/// before `now`, oldest first.
pub fn open_older(
    scans: &[ScanRow],
    entries: &BTreeMap<i64, Vec<EntryRow>>,
    now: i64,
    older_than: i64,
) -> Vec<EntryLine> {
    let mut lines = Vec::new();
    for list in complete_by_target(scans, now).values() {
        let Some(latest) = list.last() else { continue };
        for entry in open_entries(entries, latest.id) {
            if now - entry.first_seen > older_than {
                let mut line = entry_line(entry, now);
                line.entry.target = latest.target.clone();
                lines.push(line);
            }
        }
    }
    lines.sort_by(|a, b| {
        (
            b.age_seconds,
            &a.entry.target,
            &a.entry.kind,
            &a.entry.fingerprint,
        )
            .cmp(&(
                a.age_seconds,
                &b.entry.target,
                &b.entry.kind,
                &b.entry.fingerprint,
            ))
    });
    lines
}

pub fn render_open(lines: &[EntryLine], older_than: i64, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(lines).expect("serialises") + "\n";
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "open for more than {}: {} entr(ies)",
        short_age(older_than),
        lines.len()
    );
    render_entries(&mut out, lines);
    out
}

/// `prune --keep`: the scans older than `now - keep`, except the latest
/// scan and the latest complete scan of each target (the next scan compares
/// with it).
pub fn prunable(scans: &[ScanRow], now: i64, keep: i64) -> Vec<ScanRow> {
    let mut kept: BTreeSet<i64> = BTreeSet::new();
    let mut latest: BTreeMap<&str, &ScanRow> = BTreeMap::new();
    let mut latest_complete: BTreeMap<&str, &ScanRow> = BTreeMap::new();
    for scan in scans {
        let newer = |other: &&ScanRow| (scan.clock, scan.id) > (other.clock, other.id);
        if latest.get(scan.target.as_str()).is_none_or(newer) {
            latest.insert(&scan.target, scan);
        }
        if scan.complete && latest_complete.get(scan.target.as_str()).is_none_or(newer) {
            latest_complete.insert(&scan.target, scan);
        }
    }
    kept.extend(latest.values().map(|s| s.id));
    kept.extend(latest_complete.values().map(|s| s.id));
    scans
        .iter()
        .filter(|s| s.clock < now - keep && !kept.contains(&s.id))
        .cloned()
        .collect()
}

#[derive(Serialize)]
struct Pruned<'a> {
    deleted: Vec<ScanLine>,
    entries_deleted: usize,
    kept_since: &'a str,
}

pub fn render_prune(
    deleted: &[ScanRow],
    entries_deleted: usize,
    since: &str,
    json: bool,
) -> String {
    if json {
        let pruned = Pruned {
            deleted: deleted.iter().map(scan_line).collect(),
            entries_deleted,
            kept_since: since,
        };
        return serde_json::to_string_pretty(&pruned).expect("serialises") + "\n";
    }
    let mut out = String::new();
    for scan in deleted {
        let _ = writeln!(
            out,
            "deleted scan {} of {} at {}",
            scan.id,
            crate::printable::printable(&scan.target),
            rfc3339(scan.clock)
        );
    }
    let _ = writeln!(
        out,
        "{} scan(s) and {entries_deleted} entr(ies) older than {since} deleted (the latest scan of each target is kept)",
        deleted.len()
    );
    out
}
