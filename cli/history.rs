//! `driftaudit history list|show|trend|mttr|open|prune` (docs/history.md).

use driftaudit::config::Config;
use driftaudit::diag::{Code, Place};
use driftaudit::history::{self, analysis, Store};
use driftaudit::model::InputError;
use driftaudit::report::exit;

use crate::args::{self, Format, HistoryCommand, HistoryCommon, TrendBy};

pub fn run(command: HistoryCommand) -> i32 {
    match execute(command) {
        Ok(text) => match crate::write_output(None, &text) {
            Ok(()) => exit::CLEAN,
            Err(error) => crate::fail(&error),
        },
        Err(error) => crate::fail(&error),
    }
}

fn duration(flag: &str, text: &str) -> Result<i64, InputError> {
    history::parse_duration(text)
        .map_err(|message| InputError::error(Code::Usage, Place::Argument(flag.into()), message))
}

/// The store, the clock and the output format of a command.
struct Opened {
    store: Box<dyn Store>,
    now: i64,
    json: bool,
    target: Option<String>,
}

fn open(common: &HistoryCommon) -> Result<Opened, InputError> {
    let config_path = match &common.config {
        Some(path) => Some(path.clone()),
        None => Some(std::path::PathBuf::from("driftaudit.yaml")).filter(|p| p.is_file()),
    };
    let config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let flag = common.history.as_deref().or(
        // Neither the flag nor the config: the default file.
        if config.history.is_none() {
            Some("")
        } else {
            None
        },
    );
    let spec = args::history_spec(flag, common.history_password_file.clone(), &config, false)?
        .expect("a spec: the flag, the config or the default");
    // Reading must not create a store where none was: a missing SQLite
    // file is an error, not an empty history.
    if let history::HistorySpec::Sqlite(path) = &spec {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(history::store_error(
                &format!("sqlite:{}", path.display()),
                "no such file (a scan with --history creates it)".into(),
            ));
        }
    }
    let store = history::open(&spec)?;
    let now = match &common.now {
        Some(text) => args::parse_now(text)?,
        None => time::OffsetDateTime::now_utc(),
    };
    Ok(Opened {
        store,
        now: history::unix(now),
        json: common.format == Format::Json,
        target: common.target.clone(),
    })
}

fn execute(command: HistoryCommand) -> Result<String, InputError> {
    let common = match &command {
        HistoryCommand::List(c) | HistoryCommand::Mttr(c) => c,
        HistoryCommand::Show(a) => &a.common,
        HistoryCommand::Trend(a) => &a.common,
        HistoryCommand::Open(a) => &a.common,
        HistoryCommand::Prune(a) => &a.common,
    };
    // Durations are checked before the store is touched.
    let since = match &command {
        HistoryCommand::Trend(a) => duration("--since", &a.since)?,
        HistoryCommand::Open(a) => duration("--older-than", &a.older_than)?,
        HistoryCommand::Prune(a) => duration("--keep", &a.keep)?,
        _ => 0,
    };
    let mut opened = open(common)?;
    let label = opened.store.label();
    let failed = |message: String| history::store_error(&label, message);
    let mut scans = opened.store.scans().map_err(failed)?;
    if let Some(target) = &opened.target {
        scans.retain(|s| &s.target == target);
    }
    let (now, json) = (opened.now, opened.json);
    let all_entries = |store: &mut Box<dyn Store>, scans: &[history::ScanRow]| {
        let ids: Vec<i64> = scans.iter().map(|s| s.id).collect();
        store
            .entries(Some(&ids))
            .map(analysis::by_scan)
            .map_err(|m| history::store_error(&label, m))
    };
    Ok(match command {
        HistoryCommand::List(_) => analysis::render_list(&scans, json),
        HistoryCommand::Show(arguments) => {
            let Some(scan) = scans.iter().find(|s| s.id == arguments.scan) else {
                return Err(InputError::error(
                    Code::Usage,
                    Place::Argument("SCAN".into()),
                    format!(
                        "no scan {} in the store (`history list` lists them)",
                        arguments.scan
                    ),
                ));
            };
            let entries = all_entries(&mut opened.store, std::slice::from_ref(scan))?;
            let rows = entries.get(&scan.id).cloned().unwrap_or_default();
            analysis::render_show(scan, &rows, json)
        }
        HistoryCommand::Trend(arguments) => {
            let entries = all_entries(&mut opened.store, &scans)?;
            let by = match arguments.by {
                TrendBy::Category => analysis::TrendBy::Category,
                TrendBy::Rule => analysis::TrendBy::Rule,
                TrendBy::Target => analysis::TrendBy::Target,
                TrendBy::Environment => analysis::TrendBy::Environment,
            };
            analysis::render_trend(&analysis::trend(&scans, &entries, by, now, since), json)
        }
        HistoryCommand::Mttr(_) => {
            let entries = all_entries(&mut opened.store, &scans)?;
            analysis::render_mttr(&analysis::mttr(&scans, &entries, now), json)
        }
        HistoryCommand::Open(_) => {
            let entries = all_entries(&mut opened.store, &scans)?;
            let lines = analysis::open_older(&scans, &entries, now, since);
            analysis::render_open(&lines, since, json)
        }
        HistoryCommand::Prune(_) => {
            let doomed = analysis::prunable(&scans, now, since);
            let ids: Vec<i64> = doomed.iter().map(|s| s.id).collect();
            let entries = if ids.is_empty() {
                0
            } else {
                let count = opened
                    .store
                    .entries(Some(&ids))
                    .map_err(|m| history::store_error(&label, m))?
                    .len();
                opened
                    .store
                    .delete_scans(&ids)
                    .map_err(|m| history::store_error(&label, m))?;
                count
            };
            analysis::render_prune(&doomed, entries, &history::rfc3339(now - since), json)
        }
    })
}
