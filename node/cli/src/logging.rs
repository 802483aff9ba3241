//! Structured logs (tracing-subscriber) on stderr: human-readable text or one JSON object per line, filtered
//! by `PURSE_LOG` if set, else by the configured directives.

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Environment variable that overrides the configured log filter.
pub const LOG_ENV: &str = "PURSE_LOG";

/// Installs the global subscriber (a second call is a no-op).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_from_env(LOG_ENV)
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
