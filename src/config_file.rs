//! # One file of the configuration
//!
//! The main file, the campaign and roster files and the form specifications are all TOML
//! that staff edit. Each is parsed the same way, and a problem is reported the same way: a
//! [`ConfigError`] naming the file, the key or line, and what to do. This sits below both the
//! configuration ([`crate::config`]) and the form specifications ([`crate::core::forms::spec`]),
//! which the configuration compiles and holds.

use serde::de::DeserializeOwned;

/// A configuration problem, naming where it is and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}: {problem}; {fix}")]
pub struct ConfigError {
    /// The file with the problem.
    pub file: String,
    /// The key (dotted path) with the problem.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

/// Parses TOML, turning an error into one that names the file, the line and `fix` (or, for a
/// secret written into the file, where secrets go instead).
pub(crate) fn parse_toml_with<T: DeserializeOwned>(
    file: &str,
    text: &str,
    fix: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let key = line.map(|l| format!("line {l}")).unwrap_or_else(|| "-".into());
        let message = e.message().trim();
        let fix = if ["`password", "`token", "`secret"].iter().any(|k| message.contains(k)) {
            "passwords and tokens never go in the TOML: keep them in an environment variable or a file and name that (password_env / password_file)"
        } else {
            fix
        };
        ConfigError {
            file: file.into(),
            key,
            problem: message.into(),
            fix: fix.into(),
        }
    })
}
