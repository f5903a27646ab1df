//! Prometheus metrics, served in text form on `--metrics-listen`.

use prometheus::{Encoder as _, IntCounter, IntCounterVec, IntGauge, Registry, TextEncoder};

/// The server's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: IntCounterVec,
    /// Bytes accepted in uploads.
    pub upload_bytes: IntCounter,
    /// Bytes served in downloads.
    pub download_bytes: IntCounter,
    /// Files removed by the cleanup.
    pub expired: IntCounter,
    /// Live files (refreshed by the cleanup).
    pub files: IntGauge,
    /// Bytes of live files (refreshed by the cleanup).
    pub stored_bytes: IntGauge,
    /// `GET /session_version` answers by platform and whether the request was signed.
    pub version_checks: IntCounterVec,
}

impl Metrics {
    /// Register the metrics.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            prometheus::Opts::new(
                "sotto_fileserver_requests_total",
                "Requests by route and status",
            ),
            &["route", "status"],
        )?;
        let upload_bytes =
            IntCounter::new("sotto_fileserver_upload_bytes_total", "Bytes uploaded")?;
        let download_bytes =
            IntCounter::new("sotto_fileserver_download_bytes_total", "Bytes downloaded")?;
        let expired = IntCounter::new("sotto_fileserver_expired_total", "Expired files removed")?;
        let files = IntGauge::new("sotto_fileserver_files", "Live files")?;
        let stored_bytes = IntGauge::new("sotto_fileserver_stored_bytes", "Bytes of live files")?;
        let version_checks = IntCounterVec::new(
            prometheus::Opts::new(
                "sotto_fileserver_version_checks_total",
                "Session version checks by platform and authentication",
            ),
            &["platform", "authenticated"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(version_checks.clone()))?;
        registry.register(Box::new(upload_bytes.clone()))?;
        registry.register(Box::new(download_bytes.clone()))?;
        registry.register(Box::new(expired.clone()))?;
        registry.register(Box::new(files.clone()))?;
        registry.register(Box::new(stored_bytes.clone()))?;
        Ok(Self {
            registry,
            requests,
            upload_bytes,
            download_bytes,
            expired,
            files,
            stored_bytes,
            version_checks,
        })
    }

    /// Count one request.
    pub fn request(&self, route: &str, status: u16) {
        self.requests
            .with_label_values(&[route, &status.to_string()])
            .inc();
    }

    /// Count one version check.
    pub fn version_check(&self, platform: &str, authenticated: bool) {
        self.version_checks
            .with_label_values(&[platform, if authenticated { "yes" } else { "no" }])
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}
