//! # Secrets
//!
//! A password or token never sits in the TOML: the configuration names where to find it (an
//! environment variable or a file) and the value is read when it is needed. Its `Debug` and
//! `Display` print `***`, so it cannot leak into logs.

use std::fmt;
use std::path::PathBuf;

/// Where a secret comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file holding the secret (its first line, trimmed).
    File(PathBuf),
}

/// A secret value; prints as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// Two places named for one secret (`…_env` and `…_file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BothNamed;

impl SecretSource {
    /// The place a configuration names for a secret: an environment variable or a file
    /// (resolved by `abs`); None when neither is named, an error when both are.
    pub fn named(
        env: Option<&str>,
        file: Option<&str>,
        abs: &dyn Fn(&str) -> PathBuf,
    ) -> Result<Option<SecretSource>, BothNamed> {
        match (env, file) {
            (Some(v), None) => Ok(Some(SecretSource::Env(v.to_string()))),
            (None, Some(f)) => Ok(Some(SecretSource::File(abs(f)))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(BothNamed),
        }
    }

    /// Reads the secret now; the error says where it was looked for, never what it is.
    pub fn read(&self) -> Result<Secret, String> {
        match self {
            SecretSource::Env(name) => std::env::var(name)
                .map(Secret)
                .map_err(|_| format!("environment variable {name} is not set")),
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|s| Secret(s.lines().next().unwrap_or_default().trim().to_string()))
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        let s = SecretSource::File(path).read().unwrap();
        assert_eq!(s.expose(), "s3cret");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert!(
            SecretSource::Env("INTAKE_TEST_UNSET_VAR".into())
                .read()
                .unwrap_err()
                .contains("INTAKE_TEST_UNSET_VAR")
        );
    }
}
