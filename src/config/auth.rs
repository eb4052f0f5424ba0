//! # Sender authentication settings
//!
//! `[auth]` of `intake.toml` says which Authentication-Results headers may be believed (those
//! of the department's own mail servers, by authserv-id) and which name servers answer the
//! DKIM and DMARC lookups; a roster's `[auth]` and an agency's `auth` key say what happens to
//! a message whose sender cannot be proven. Nothing here does IO.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Deserialize;

/// `[auth]` of `intake.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub trusted_authserv_ids: Option<Vec<String>>,
    pub internal_hosts: Option<Vec<String>>,
    pub nameservers: Option<Vec<String>>,
    pub timeout_ms: Option<u64>,
    pub cache_secs: Option<u64>,
}

/// `[auth]` of a roster file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRosterAuth {
    pub policy: Option<String>,
}

/// How authentication is checked, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// authserv-ids of the department's own servers whose Authentication-Results are believed
    /// (lower case); empty: every such header is ignored.
    pub trusted_authserv_ids: Vec<String>,
    /// Other host names of the department's own mail servers, as they appear in `Received`.
    pub internal_hosts: Vec<String>,
    /// Name servers for DKIM keys and DMARC policies; empty: the system's.
    pub nameservers: Vec<SocketAddr>,
    /// How long one message's lookups may take in all before it is `temperror`.
    pub timeout: Duration,
    /// The least time an answer is kept (records published with TTL 0 are still cached).
    pub cache: Duration,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            trusted_authserv_ids: Vec::new(),
            internal_hosts: Vec::new(),
            nameservers: Vec::new(),
            timeout: Duration::from_millis(2000),
            cache: Duration::from_secs(300),
        }
    }
}

/// What happens to a message whose sender's domain cannot be proven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthPolicy {
    /// Held when authentication fails (the domain's DMARC policy asks for it, or our server
    /// says so); filed and marked when it cannot be decided.
    #[default]
    Enforce,
    /// Held unless authentication passes: for agencies whose mail is always signed.
    Strict,
    /// Never held; the verdict is only recorded and shown.
    Record,
}

impl AuthPolicy {
    /// Parses `enforce`, `strict` or `record`.
    pub fn parse(s: &str) -> Option<AuthPolicy> {
        Some(match s {
            "enforce" => AuthPolicy::Enforce,
            "strict" => AuthPolicy::Strict,
            "record" => AuthPolicy::Record,
            _ => return None,
        })
    }

    /// As written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthPolicy::Enforce => "enforce",
            AuthPolicy::Strict => "strict",
            AuthPolicy::Record => "record",
        }
    }
}

/// The fix shown for a policy that is not one of the three.
pub const POLICY_FIX: &str = "use \"enforce\" (hold failed mail), \"strict\" (hold all but authenticated mail) or \"record\" (never hold)";

/// Resolves `[auth]`; `Err((key, problem, fix))` names the key under `auth`.
pub fn resolve(raw: Option<&RawAuth>) -> Result<Auth, (String, String, String)> {
    let e = |k: &str, p: &str, f: &str| (format!("auth.{k}"), p.to_string(), f.to_string());
    let default = Auth::default();
    let Some(raw) = raw else {
        return Ok(default);
    };
    let hosts = |key: &str, list: &Option<Vec<String>>| {
        let mut out = Vec::new();
        for (i, h) in list.iter().flatten().enumerate() {
            let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
            let ok = !h.is_empty()
                && h.len() <= 253
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
            if !ok {
                return Err(e(
                    &format!("{key}[{i}]"),
                    "is not a host name",
                    "write the name as the server writes it, e.g. \"mx.langson.gov.vn\"",
                ));
            }
            out.push(h);
        }
        Ok(out)
    };
    let trusted_authserv_ids = hosts("trusted_authserv_ids", &raw.trusted_authserv_ids)?;
    let internal_hosts = hosts("internal_hosts", &raw.internal_hosts)?;
    let mut nameservers = Vec::new();
    for (i, s) in raw.nameservers.iter().flatten().enumerate() {
        let s = s.trim();
        let addr = s
            .parse::<SocketAddr>()
            .ok()
            .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
            .ok_or_else(|| {
                e(
                    &format!("nameservers[{i}]"),
                    &format!("\"{s}\" is not an IP address"),
                    "write an address, with a port when it is not 53: \"10.0.0.2\", \"127.0.0.1:5353\"",
                )
            })?;
        nameservers.push(addr);
    }
    let timeout = raw.timeout_ms.unwrap_or(default.timeout.as_millis() as u64);
    if !(100..=30_000).contains(&timeout) {
        return Err(e(
            "timeout_ms",
            &format!("{timeout} is out of range"),
            "use 100 to 30000 milliseconds; a DNS outage delays intake by at most this much",
        ));
    }
    let cache = raw.cache_secs.unwrap_or(default.cache.as_secs());
    if cache > 86_400 {
        return Err(e(
            "cache_secs",
            &format!("{cache} is out of range"),
            "use 0 to 86400 seconds",
        ));
    }
    Ok(Auth {
        trusted_authserv_ids,
        internal_hosts,
        nameservers,
        timeout: Duration::from_millis(timeout),
        cache: Duration::from_secs(cache),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_settings_are_checked() {
        assert_eq!(resolve(None).unwrap(), Auth::default());
        let raw = RawAuth {
            trusted_authserv_ids: Some(vec!["MX.Langson.example.".into()]),
            nameservers: Some(vec!["127.0.0.1:5353".into(), "10.0.0.2".into()]),
            ..Default::default()
        };
        let a = resolve(Some(&raw)).unwrap();
        assert_eq!(a.trusted_authserv_ids, ["mx.langson.example"]);
        assert_eq!(a.nameservers[1], "10.0.0.2:53".parse().unwrap());
        let bad = RawAuth {
            nameservers: Some(vec!["dns.example".into()]),
            ..Default::default()
        };
        assert_eq!(resolve(Some(&bad)).unwrap_err().0, "auth.nameservers[0]");
        let bad = RawAuth {
            trusted_authserv_ids: Some(vec!["mx example".into()]),
            ..Default::default()
        };
        assert_eq!(
            resolve(Some(&bad)).unwrap_err().0,
            "auth.trusted_authserv_ids[0]"
        );
        assert_eq!(AuthPolicy::parse("strict"), Some(AuthPolicy::Strict));
        assert_eq!(AuthPolicy::parse("off"), None);
    }
}
