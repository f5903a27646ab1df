//! `sogs.ini`: the server configuration, read as PySOGS reads it (`sogs/config.py`).
//!
//! The file is `$SOGS_CONFIG` if set (it must then exist), else `./sogs.ini` if present, else
//! all defaults. Keys are case-insensitive, values may continue on indented lines, lines starting
//! with `#` or `;` are comments (inline comments are not, as in Python's configparser). Unknown
//! sections and keys are reported as warnings; a bad value is an error naming section and key.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use configparser::ini::{Ini, IniDefault};

use crate::err::{Error, Result};

/// Seconds per day: durations are written in days and used in seconds.
const DAY: f64 = 86_400.0;

/// `[db] url` default (`sogs/config.py` `DB_URL`).
pub const DEFAULT_DB_URL: &str = "sqlite:///sogs.db";
/// `[crypto] key_file` default (`KEY_FILE`).
pub const DEFAULT_KEY_FILE: &str = "key_x25519";
/// `[net] base_url` default (`URL_BASE`).
pub const DEFAULT_BASE_URL: &str = "http://example.net";
/// `[net] omq_listen` default (`OMQ_LISTEN`).
pub const DEFAULT_OMQ_LISTEN: &str = "tcp://*:22028";
/// `[net] omq_internal` default (`OMQ_INTERNAL`).
pub const DEFAULT_OMQ_INTERNAL: &str = "ipc://./omq.sock";
/// `[net] http_listen` default: ours (PySOGS leaves HTTP to uwsgi); loopback, behind a proxy.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";
/// `[files] expiry` default, days (`UPLOAD_DEFAULT_EXPIRY`).
pub const DEFAULT_FILE_EXPIRY_DAYS: f64 = 15.0;
/// `[files] max_size` default, bytes (`UPLOAD_FILE_MAX_SIZE`, raised to 10 MB in PySOGS cf661b1).
pub const DEFAULT_FILE_MAX_SIZE: u64 = 10_000_000;
/// `[files] uploads_dir` default (`UPLOAD_PATH`).
pub const DEFAULT_UPLOADS_DIR: &str = "uploads";
/// `[rooms] active_threshold` default, days (`ROOM_DEFAULT_ACTIVE_THRESHOLD`).
pub const DEFAULT_ACTIVE_THRESHOLD_DAYS: f64 = 7.0;
/// `[rooms] active_prune_threshold` default, days (`ROOM_ACTIVE_PRUNE_THRESHOLD`).
pub const DEFAULT_ACTIVE_PRUNE_THRESHOLD_DAYS: f64 = 60.0;
/// `[direct_messages] expiry` default, days (`DM_EXPIRY`).
pub const DEFAULT_DM_EXPIRY_DAYS: f64 = 15.0;
/// `[messages] history_prune_threshold` default, days (`MESSAGE_HISTORY_PRUNE_THRESHOLD`).
pub const DEFAULT_HISTORY_PRUNE_DAYS: f64 = 30.0;
/// `[log] level` default (`LOG_LEVEL`).
pub const DEFAULT_LOG_LEVEL: &str = "WARNING";
/// Log levels Python's logging accepts by name.
const LOG_LEVELS: [&str; 6] = ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET"];

/// The typed server configuration. `Default` is PySOGS's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `[db] url`: `sqlite:///PATH` or `postgresql://user@host:port/dbname`.
    pub db_url: String,
    /// `[db] synchronous` (Sotto only): `full` syncs SQLite's journal at every commit, so even
    /// a power loss keeps every acknowledged write; `normal` (default) syncs at checkpoints:
    /// a process crash loses nothing, a power loss may drop the last commits.
    pub db_sync_full: bool,
    /// `[crypto] key_file`: the 32-byte X25519 private key.
    pub key_file: PathBuf,
    /// `[net] base_url`: scheme and host of join URLs.
    pub base_url: String,
    /// `[net] omq_listen`: OxenMQ listen addresses (one per line). Parsed, unused.
    pub omq_listen: Vec<String>,
    /// `[net] omq_internal`: OxenMQ internal address. Parsed, unused.
    pub omq_internal: String,
    /// `[net] http_show_index`: serve the room directory at `/`.
    pub http_show_index: bool,
    /// `[net] http_show_recent`: show recent messages on room pages.
    pub http_show_recent: bool,
    /// `[net] http_listen`: where our HTTP server listens (new in Sotto).
    pub http_listen: SocketAddr,
    /// `[files] expiry`: lifetime of attachments, seconds; `None` = never (0 or empty in days).
    pub file_expiry: Option<f64>,
    /// `[files] max_size`: largest upload, bytes.
    pub file_max_size: u64,
    /// `[files] uploads_dir`: where uploads are stored.
    pub uploads_dir: PathBuf,
    /// `[rooms] active_threshold`: window of `active_users`, seconds.
    pub active_threshold: f64,
    /// `[rooms] active_prune_threshold`: how long activity rows are kept, seconds.
    pub active_prune_threshold: f64,
    /// `[direct_messages] expiry`: lifetime of DMs, seconds.
    pub dm_expiry: f64,
    /// `[users] require_blind_keys`: accept only blinded (15) IDs.
    pub require_blind_keys: bool,
    /// `[messages] history_prune_threshold`: how long edit history is kept, seconds.
    pub history_prune_threshold: f64,
    /// `[messages] profanity_filter`.
    pub profanity_filter: bool,
    /// `[messages] profanity_silent`: filtered posts are silently dropped, not refused.
    pub profanity_silent: bool,
    /// `[messages] profanity_custom`: an extra word list file.
    pub profanity_custom: Option<PathBuf>,
    /// `[messages] alphabet_filters`: alphabets to refuse (`arabic`, `cyrillic`, `persian`).
    pub alphabet_filters: BTreeSet<String>,
    /// `[messages] alphabet_silent`.
    pub alphabet_silent: bool,
    /// `[messages] filter_mods`: apply filters to moderators too.
    pub filter_mods: bool,
    /// `[web] template_path`: `None` = built in.
    pub template_path: Option<PathBuf>,
    /// `[web] static_path`: `None` = built in.
    pub static_path: Option<PathBuf>,
    /// `[log] level`: a Python logging level name, upper case.
    pub log_level: String,
    /// `[testing] enabled`: conformance test mode (`sogs.md` §6.2; ours).
    pub testing: bool,
    /// `[moderation]`: quotas and DM limits (ours; PySOGS issues 57, 59, 67, 180, 196).
    pub moderation: Moderation,
    /// `[room:TOKEN]` sections, by token.
    pub room_overrides: BTreeMap<String, RoomOverrides>,
    /// `[filter:ROOM:TYPE]` sections, by (room or `*`, type or `*`).
    pub filters: BTreeMap<(String, String), FilterSettings>,
    /// Unknown sections and keys that were ignored, one message each.
    pub warnings: Vec<String>,
}

/// `[moderation]` settings; 0 (the default) turns each one off. Moderators and admins are
/// exempt from all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moderation {
    /// `daily_post_quota`: posts per user per room in any 24 hours.
    pub daily_post_quota: u64,
    /// `daily_reaction_quota`: reactions per user, all rooms, in any 24 hours.
    pub daily_reaction_quota: u64,
    /// `daily_upload_quota`: uploads per user, all rooms, in any 24 hours.
    pub daily_upload_quota: u64,
    /// `dm_min_posts`: posts (in any room) a user needs before sending blinded DMs.
    pub dm_min_posts: u64,
    /// `dm_min_age_days`: how long a user must have been known, in seconds (written in days),
    /// before sending blinded DMs.
    pub dm_min_age: f64,
}

/// Per-room filter overrides (`[room:TOKEN]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomOverrides {
    /// `profanity_filter`.
    pub profanity_filter: Option<bool>,
    /// `profanity_silent`.
    pub profanity_silent: Option<bool>,
    /// `alphabet_filters`.
    pub alphabet_filters: Option<BTreeSet<String>>,
}

/// Filter reply settings (`[filter:ROOM:TYPE]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSettings {
    /// `public`: reply publicly rather than as a whisper.
    pub public: Option<bool>,
    /// `profile_name`: display name of the replying bot (PySOGS default `SOGS`).
    pub profile_name: Option<String>,
    /// `reply`: reply templates, one per non-empty line, escapes (`\@ \p \r \t \n \\`) kept as
    /// written for the filter to expand.
    pub reply: Option<Vec<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            db_url: DEFAULT_DB_URL.to_owned(),
            db_sync_full: false,
            key_file: PathBuf::from(DEFAULT_KEY_FILE),
            base_url: DEFAULT_BASE_URL.to_owned(),
            omq_listen: vec![DEFAULT_OMQ_LISTEN.to_owned()],
            omq_internal: DEFAULT_OMQ_INTERNAL.to_owned(),
            http_show_index: true,
            http_show_recent: true,
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            file_expiry: Some(DEFAULT_FILE_EXPIRY_DAYS * DAY),
            file_max_size: DEFAULT_FILE_MAX_SIZE,
            uploads_dir: PathBuf::from(DEFAULT_UPLOADS_DIR),
            active_threshold: DEFAULT_ACTIVE_THRESHOLD_DAYS * DAY,
            active_prune_threshold: DEFAULT_ACTIVE_PRUNE_THRESHOLD_DAYS * DAY,
            dm_expiry: DEFAULT_DM_EXPIRY_DAYS * DAY,
            require_blind_keys: true,
            history_prune_threshold: DEFAULT_HISTORY_PRUNE_DAYS * DAY,
            profanity_filter: false,
            profanity_silent: true,
            profanity_custom: None,
            alphabet_filters: BTreeSet::new(),
            alphabet_silent: true,
            filter_mods: false,
            template_path: None,
            static_path: None,
            log_level: DEFAULT_LOG_LEVEL.to_owned(),
            testing: false,
            moderation: Moderation::default(),
            room_overrides: BTreeMap::new(),
            filters: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }
}

/// One `key = value` being parsed, for error messages.
struct Entry<'a> {
    section: &'a str,
    key: &'a str,
    value: &'a str,
}

impl Entry<'_> {
    fn bad(&self, reason: &'static str) -> Error {
        Error::ConfigValue {
            section: self.section.to_owned(),
            key: self.key.to_owned(),
            value: self.value.to_owned(),
            reason,
        }
    }

    fn string(&self) -> String {
        self.value.to_owned()
    }

    /// configparser's booleans (case-insensitive), plus PySOGS's `y`/`n`.
    fn bool(&self) -> Result<bool> {
        match self.value.to_ascii_lowercase().as_str() {
            "1" | "y" | "yes" | "true" | "on" => Ok(true),
            "0" | "n" | "no" | "false" | "off" => Ok(false),
            _ => Err(self.bad("expected yes/no, true/false, on/off or 1/0")),
        }
    }

    /// A non-negative number of days, returned in seconds.
    fn days(&self) -> Result<f64> {
        match self.value.parse::<f64>() {
            Ok(d) if d.is_finite() && d >= 0.0 => Ok(d * DAY),
            _ => Err(self.bad("expected a non-negative number of days")),
        }
    }

    /// Days where empty or 0 means "never".
    fn days_or_never(&self) -> Result<Option<f64>> {
        if self.value.is_empty() {
            return Ok(None);
        }
        self.days().map(|s| (s > 0.0).then_some(s))
    }

    fn uint(&self) -> Result<u64> {
        self.value
            .parse()
            .map_err(|_| self.bad("expected a non-negative integer"))
    }

    /// A path that must exist if given (PySOGS `path_exists`); empty = unset.
    fn existing_path(&self) -> Result<Option<PathBuf>> {
        if self.value.is_empty() {
            return Ok(None);
        }
        let path = PathBuf::from(self.value);
        if path.exists() {
            Ok(Some(path))
        } else {
            Err(self.bad("path does not exist"))
        }
    }

    /// Words separated by commas and/or whitespace.
    fn word_set(&self) -> BTreeSet<String> {
        self.value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `scheme://something` for one of the given schemes.
    fn url(&self, schemes: &[&str]) -> Result<String> {
        let ok = schemes.iter().any(|s| {
            self.value
                .strip_prefix(s)
                .and_then(|rest| rest.strip_prefix("://"))
                .is_some_and(|rest| !rest.is_empty())
        });
        if ok {
            Ok(self.string())
        } else {
            Err(self.bad("not a URL with an accepted scheme"))
        }
    }
}

impl Config {
    /// Load the configuration the way PySOGS does: `$SOGS_CONFIG` (must exist), else
    /// `./sogs.ini` if it exists, else defaults.
    pub fn load() -> Result<Self> {
        match std::env::var_os("SOGS_CONFIG").filter(|v| !v.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.exists() {
                    return Err(Error::ConfigMissing(path));
                }
                Self::from_file(&path)
            }
            None => {
                let path = Path::new("sogs.ini");
                if path.exists() {
                    Self::from_file(path)
                } else {
                    Ok(Self::default())
                }
            }
        }
    }

    /// Read one INI file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::ConfigRead {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_ini_str(&text).map_err(|e| match e {
            Error::ConfigRead { reason, .. } => Error::ConfigRead {
                path: path.to_owned(),
                reason,
            },
            other => other,
        })
    }

    /// Parse INI text.
    pub fn from_ini_str(text: &str) -> Result<Self> {
        let mut defaults = IniDefault::default();
        defaults.case_sensitive = true;
        defaults.multiline = true;
        defaults.enable_inline_comments = false;
        defaults.comment_symbols = vec!['#', ';'];
        defaults.delimiters = vec!['=', ':'];
        // Python's configparser calls it DEFAULT; PySOGS uses none.
        defaults.default_section = "DEFAULT".to_owned();
        let mut ini = Ini::new_from_defaults(defaults);
        let map = ini
            .read(text.to_owned())
            .map_err(|reason| Error::ConfigRead {
                path: PathBuf::from("<config>"),
                reason,
            })?;

        let mut cfg = Self::default();
        // Sorted so warnings and errors come out in a stable order.
        let sections: BTreeMap<_, _> = map.into_iter().collect();
        for (section, entries) in &sections {
            let entries: BTreeMap<String, String> = entries
                .iter()
                .map(|(k, v)| (k.to_lowercase(), v.clone().unwrap_or_default()))
                .collect();
            for (key, value) in &entries {
                let e = Entry {
                    section,
                    key,
                    value: value.as_str(),
                };
                if let Some(token) = section.strip_prefix("room:").filter(|t| !t.is_empty()) {
                    cfg.room_option(token, &e)?;
                } else if let Some(rest) = section.strip_prefix("filter:") {
                    let (room, kind) = rest
                        .split_once(':')
                        .filter(|(_, k)| !k.contains(':'))
                        .ok_or_else(|| Error::FilterSection(section.clone()))?;
                    cfg.filter_option(room, kind, &e)?;
                } else {
                    cfg.option(&e)?;
                }
            }
            if entries.is_empty() && !cfg.known_section(section) {
                cfg.warn(format!("ignoring unknown section [{section}]"));
            }
        }
        Ok(cfg)
    }

    fn known_section(&self, section: &str) -> bool {
        section == "DEFAULT"
            || section.starts_with("room:")
            || section.starts_with("filter:")
            || [
                "db",
                "crypto",
                "net",
                "files",
                "rooms",
                "direct_messages",
                "users",
                "messages",
                "web",
                "log",
                "testing",
                "moderation",
            ]
            .contains(&section)
    }

    fn warn(&mut self, message: String) {
        tracing::warn!("{message}");
        self.warnings.push(message);
    }

    fn option(&mut self, e: &Entry<'_>) -> Result<()> {
        match (e.section, e.key) {
            ("db", "url") => self.db_url = e.url(&["sqlite", "postgresql"])?,
            ("db", "synchronous") => {
                self.db_sync_full = match e.value.to_ascii_lowercase().as_str() {
                    "full" => true,
                    "normal" => false,
                    _ => return Err(e.bad("expected full or normal")),
                }
            }
            ("crypto", "key_file") => self.key_file = PathBuf::from(e.value),
            ("net", "base_url") => self.base_url = e.url(&["http", "https"])?,
            ("net", "omq_listen") => {
                let lines: Vec<String> = e
                    .value
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
                for line in &lines {
                    Entry { value: line, ..*e }.url(&["tcp", "ipc"])?;
                }
                self.omq_listen = lines;
            }
            ("net", "omq_internal") => self.omq_internal = e.url(&["tcp", "ipc"])?,
            ("net", "http_show_index") => self.http_show_index = e.bool()?,
            ("net", "http_show_recent") => self.http_show_recent = e.bool()?,
            ("net", "http_listen") => {
                self.http_listen = e
                    .value
                    .parse()
                    .map_err(|_| e.bad("expected ADDRESS:PORT, e.g. 127.0.0.1:8080"))?;
            }
            ("files", "expiry") => self.file_expiry = e.days_or_never()?,
            ("files", "max_size") => self.file_max_size = e.uint()?,
            ("files", "uploads_dir") => {
                if let Some(p) = e.existing_path()? {
                    self.uploads_dir = p;
                }
            }
            ("rooms", "active_threshold") => self.active_threshold = e.days()?,
            ("rooms", "active_prune_threshold") => self.active_prune_threshold = e.days()?,
            ("direct_messages", "expiry") => self.dm_expiry = e.days()?,
            ("users", "require_blind_keys") => self.require_blind_keys = e.bool()?,
            ("messages", "history_prune_threshold") => self.history_prune_threshold = e.days()?,
            ("messages", "profanity_filter") => self.profanity_filter = e.bool()?,
            ("messages", "profanity_silent") => self.profanity_silent = e.bool()?,
            ("messages", "profanity_custom") => self.profanity_custom = e.existing_path()?,
            ("messages", "alphabet_filters") => self.alphabet_filters = e.word_set(),
            ("messages", "alphabet_silent") => self.alphabet_silent = e.bool()?,
            ("messages", "filter_mods") => self.filter_mods = e.bool()?,
            ("web", "template_path") => self.template_path = e.existing_path()?,
            ("web", "static_path") => self.static_path = e.existing_path()?,
            ("log", "level") => {
                let level = e.value.to_ascii_uppercase();
                if !LOG_LEVELS.contains(&level.as_str()) {
                    return Err(e.bad("expected DEBUG, INFO, WARNING, ERROR or CRITICAL"));
                }
                self.log_level = level;
            }
            ("testing", "enabled") => self.testing = e.bool()?,
            ("moderation", "daily_post_quota") => self.moderation.daily_post_quota = e.uint()?,
            ("moderation", "daily_reaction_quota") => {
                self.moderation.daily_reaction_quota = e.uint()?;
            }
            ("moderation", "daily_upload_quota") => {
                self.moderation.daily_upload_quota = e.uint()?;
            }
            ("moderation", "dm_min_posts") => self.moderation.dm_min_posts = e.uint()?,
            ("moderation", "dm_min_age_days") => self.moderation.dm_min_age = e.days()?,
            (section, key) if self.known_section(section) => {
                self.warn(format!("ignoring unknown config setting [{section}] {key}"));
            }
            (section, _) => self.warn(format!("ignoring unknown section [{section}]")),
        }
        Ok(())
    }

    fn room_option(&mut self, token: &str, e: &Entry<'_>) -> Result<()> {
        let room = self.room_overrides.entry(token.to_owned()).or_default();
        match e.key {
            "profanity_filter" => room.profanity_filter = Some(e.bool()?),
            "profanity_silent" => room.profanity_silent = Some(e.bool()?),
            "alphabet_filters" => room.alphabet_filters = Some(e.word_set()),
            key => self.warn(format!(
                "ignoring unknown room-specific config setting [{}] {key}",
                e.section
            )),
        }
        Ok(())
    }

    fn filter_option(&mut self, room: &str, kind: &str, e: &Entry<'_>) -> Result<()> {
        let filter = self
            .filters
            .entry((room.to_owned(), kind.to_owned()))
            .or_default();
        match e.key {
            "public" => filter.public = Some(e.bool()?),
            "profile_name" => filter.profile_name = Some(e.string()),
            "reply" => {
                filter.reply = Some(
                    e.value
                        .split('\n')
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                );
            }
            key => self.warn(format!(
                "ignoring unknown filter config setting [{}] {key}",
                e.section
            )),
        }
        Ok(())
    }

    /// The SQLite file named by `db_url` (`sqlite:///rel/path` or `sqlite:////abs/path`).
    pub fn sqlite_path(&self) -> Result<PathBuf> {
        self.db_url
            .strip_prefix("sqlite:///")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| Error::UnsupportedDb(self.db_url.clone()))
    }

    /// The join URL of a room: `{base_url}/{token}?public_key={hex}`.
    pub fn join_url(&self, token: &str, server_pubkey_hex: &str) -> String {
        format!("{}/{token}?public_key={server_pubkey_hex}", self.base_url)
    }
}
