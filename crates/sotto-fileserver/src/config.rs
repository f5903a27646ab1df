//! Configuration: clap flags, optionally on top of a TOML file (`--config`, unknown keys are
//! refused). Every default is a named constant here and in the crate README.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::version::SessionVersions;

/// Default largest upload: 10,000,000 bytes (the clients' cap, desktop
/// `MAX_ATTACHMENT_FILESIZE_BYTES`; the reference sample config says 6,000,000).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10_000_000;
/// Default expiry of an upload: 3 weeks (reference `FILE_EXPIRY = '3 weeks'`).
pub const DEFAULT_FILE_EXPIRY: u64 = 21 * 24 * 60 * 60;
/// Default largest `X-FS-TTL`: 3 weeks, so clients may shorten but not exceed the default
/// expiry (the reference ignores the header unless `MAX_FILE_TTL` is set).
pub const DEFAULT_MAX_TTL: u64 = DEFAULT_FILE_EXPIRY;
/// Default cleanup period: 5 seconds (reference `@timer(5)` in `cleanup.py`).
pub const DEFAULT_CLEANUP_INTERVAL: f64 = 5.0;
/// Default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default ID scheme: content-addressed (`false`). Current clients (desktop, Android,
/// libsession) accept string IDs, and content IDs dedup uploads and can be extended; turn
/// backwards-compatible integer IDs on only for clients that need a number.
pub const DEFAULT_COMPAT_IDS: bool = false;

/// Command-line flags of the server (all optional: the file or the defaults fill the rest).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML config file; flags override its values.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory with the key, the database and the files [required here or in the file].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to serve plain HTTP on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Largest upload in bytes; larger gets 413 [default: 10000000].
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Expiry of uploads in seconds [default: 1814400, 3 weeks].
    #[arg(long, value_name = "SECONDS")]
    pub file_expiry: Option<u64>,
    /// Largest X-FS-TTL accepted, in seconds; larger gets 400 [default: 1814400, 3 weeks].
    #[arg(long, value_name = "SECONDS")]
    pub max_ttl: Option<u64>,
    /// Ignore X-FS-TTL headers (the reference's `MAX_FILE_TTL = None`) [default: honour them].
    #[arg(long)]
    pub ignore_ttl: bool,
    /// Give out random 53-bit integer IDs instead of content-addressed ones
    /// [default: content-addressed].
    #[arg(long)]
    pub compat_ids: bool,
    /// Seconds between cleanups of expired files [default: 5].
    #[arg(long, value_name = "SECONDS")]
    pub cleanup_interval: Option<f64>,
    /// Plain-HTTP address for Prometheus `/metrics` [default: off].
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
}

/// The TOML file: the same settings as the flags, snake_case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// See [`ServeArgs::data_dir`].
    pub data_dir: Option<PathBuf>,
    /// See [`ServeArgs::listen`].
    pub listen: Option<SocketAddr>,
    /// See [`ServeArgs::max_file_size`].
    pub max_file_size: Option<u64>,
    /// See [`ServeArgs::file_expiry`].
    pub file_expiry: Option<u64>,
    /// See [`ServeArgs::max_ttl`].
    pub max_ttl: Option<u64>,
    /// See [`ServeArgs::ignore_ttl`].
    pub ignore_ttl: Option<bool>,
    /// See [`ServeArgs::compat_ids`].
    pub compat_ids: Option<bool>,
    /// See [`ServeArgs::cleanup_interval`].
    pub cleanup_interval: Option<f64>,
    /// See [`ServeArgs::metrics_listen`].
    pub metrics_listen: Option<SocketAddr>,
    /// `[session_version.<platform>]`: what `GET /session_version` answers (file only).
    #[serde(default)]
    pub session_version: SessionVersions,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Key, database and files live here.
    pub data_dir: PathBuf,
    /// HTTP address.
    pub listen: SocketAddr,
    /// Largest upload, bytes.
    pub max_file_size: u64,
    /// Default expiry, seconds.
    pub file_expiry: u64,
    /// Largest `X-FS-TTL`; `None` ignores the header.
    pub max_ttl: Option<u64>,
    /// Backwards-compatible integer IDs.
    pub compat_ids: bool,
    /// Time between cleanups.
    pub cleanup_interval: Duration,
    /// Prometheus address.
    pub metrics_listen: Option<SocketAddr>,
    /// Releases `GET /session_version` answers with.
    pub session_version: SessionVersions,
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for [`FileConfig`].
    #[error("bad config {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A setting is missing or out of range.
    #[error("{0}")]
    Invalid(&'static str),
}

impl FileConfig {
    /// Read and parse a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }
}

impl Config {
    /// Flags over the file (if any) over the defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::merge(args, file)
    }

    /// Flags over `file` over the defaults.
    pub fn merge(args: &ServeArgs, file: FileConfig) -> Result<Self, ConfigError> {
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .ok_or(ConfigError::Invalid("--data-dir is required"))?;
        let listen = match args.listen.or(file.listen) {
            Some(a) => a,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|_| ConfigError::Invalid("bad default listen address"))?,
        };
        let max_file_size = args
            .max_file_size
            .or(file.max_file_size)
            .unwrap_or(DEFAULT_MAX_FILE_SIZE);
        if max_file_size == 0 {
            return Err(ConfigError::Invalid("max_file_size must be positive"));
        }
        let ignore_ttl = args.ignore_ttl || file.ignore_ttl.unwrap_or(false);
        let max_ttl =
            (!ignore_ttl).then(|| args.max_ttl.or(file.max_ttl).unwrap_or(DEFAULT_MAX_TTL));
        let cleanup = args
            .cleanup_interval
            .or(file.cleanup_interval)
            .unwrap_or(DEFAULT_CLEANUP_INTERVAL);
        let cleanup_interval = Duration::try_from_secs_f64(cleanup)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or(ConfigError::Invalid(
                "cleanup_interval must be a positive number",
            ))?;
        Ok(Self {
            data_dir,
            listen,
            max_file_size,
            file_expiry: args
                .file_expiry
                .or(file.file_expiry)
                .unwrap_or(DEFAULT_FILE_EXPIRY),
            max_ttl,
            compat_ids: args.compat_ids || file.compat_ids.unwrap_or(DEFAULT_COMPAT_IDS),
            cleanup_interval,
            metrics_listen: args.metrics_listen.or(file.metrics_listen),
            session_version: {
                file.session_version
                    .validate()
                    .map_err(ConfigError::Invalid)?;
                file.session_version
            },
        })
    }

    /// Largest base64 text the legacy `POST /files` accepts (4/3 of the file limit, rounded up,
    /// as the reference's `MAX_FILE_SIZE_B64` relates to `MAX_FILE_SIZE`).
    pub fn max_file_size_b64(&self) -> u64 {
        self.max_file_size.div_ceil(3).saturating_mul(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_file_and_flags() {
        let args = ServeArgs {
            data_dir: Some("/d".into()),
            ..ServeArgs::default()
        };
        let c = Config::merge(&args, FileConfig::default()).unwrap();
        assert_eq!(c.max_file_size, 10_000_000);
        assert_eq!(c.file_expiry, 1_814_400);
        assert_eq!(c.max_ttl, Some(1_814_400));
        assert!(!c.compat_ids);
        assert_eq!(c.cleanup_interval, Duration::from_secs(5));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");

        let file: FileConfig =
            toml::from_str("max_file_size = 5\ncompat_ids = true\nignore_ttl = true\n").unwrap();
        let args = ServeArgs {
            data_dir: Some("/d".into()),
            max_file_size: Some(7),
            ..ServeArgs::default()
        };
        let c = Config::merge(&args, file).unwrap();
        assert_eq!(c.max_file_size, 7);
        assert!(c.compat_ids);
        assert_eq!(c.max_ttl, None);

        assert!(toml::from_str::<FileConfig>("bogus = 1").is_err());
        assert!(Config::merge(&ServeArgs::default(), FileConfig::default()).is_err());
    }
}
