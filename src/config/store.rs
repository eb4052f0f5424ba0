//! # Where the store keeps its index and its objects
//!
//! `[store]` and `[store.objects]` of `intake.toml`. The index is SQLite in the store's folder
//! by default, or a PostgreSQL database (`kind = "postgres"`, `url`) that several daemons can
//! share. Every message and file the store receives is kept once, named by its SHA-256: on
//! local disk beside the index by default, or in an S3-compatible bucket (MinIO, Garage, a
//! cloud's) for a deployment that already runs one. Passwords and keys are named
//! (`password_env` / `_file`, `access_key_id_env` / `_file`, `secret_access_key_env` / `_file`),
//! never written here.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::secret::SecretSource;

/// Where the store's parts are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreAt {
    /// The index.
    pub index: IndexAt,
    /// The objects.
    pub objects: ObjectsAt,
}

/// Where the index is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IndexAt {
    /// `intake.sqlite` in the store's folder.
    #[default]
    Sqlite,
    /// A PostgreSQL database.
    Postgres(Postgres),
}

/// A PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub struct Postgres {
    /// `postgres://user@host[:port]/database[?options]`, without a password.
    pub url: String,
    /// Where the password is read from; None for a server that asks for none (a Unix
    /// socket with peer authentication).
    pub password: Option<SecretSource>,
    /// Trust anchors (PEM) of a private server's certificate; the system's roots otherwise.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("url", &self.url)
            .field("password", &self.password)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Resolves `[store]`'s `kind`, `url` and password; `Err((key, problem, fix))`.
pub fn resolve_index(
    kind: Option<&str>,
    url: Option<&str>,
    (password_env, password_file): (Option<&str>, Option<&str>),
    ca_file: Option<&str>,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<IndexAt, (String, String, String)> {
    let e = |k: &str, p: &str, f: &str| (format!("store.{k}"), p.to_string(), f.to_string());
    match kind.unwrap_or("sqlite") {
        "sqlite" => {
            if url.is_some()
                || password_env.is_some()
                || password_file.is_some()
                || ca_file.is_some()
            {
                return Err(e(
                    "kind",
                    "is \"sqlite\" but a database server is described",
                    "set kind = \"postgres\" to use it, or remove url and the password",
                ));
            }
            Ok(IndexAt::Sqlite)
        }
        "postgres" => {
            let url = url
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    e(
                        "url",
                        "is missing",
                        "give the database, e.g. url = \"postgres://intake@db.example.vn/intake\"",
                    )
                })?;
            let rest = url
                .strip_prefix("postgres://")
                .or_else(|| url.strip_prefix("postgresql://"))
                .ok_or_else(|| {
                    e(
                        "url",
                        "is not a postgres:// address",
                        "give it as postgres://user@host[:port]/database",
                    )
                })?;
            let authority = rest.split(['/', '?']).next().unwrap_or_default();
            if authority
                .rsplit_once('@')
                .is_some_and(|(user, _)| user.contains(':'))
            {
                return Err(e(
                    "url",
                    "holds a password",
                    "passwords never go in the configuration file: name it with password_env or password_file",
                ));
            }
            // Rows and logins cross the network only encrypted, to a server whose certificate
            // is checked: a server off this machine is reached with sslmode=require.
            let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let off_machine = hosts.split(',').any(|h| {
                let h = match h.strip_prefix('[') {
                    Some(v6) => v6.split(']').next().unwrap_or_default(),
                    None => h.split(':').next().unwrap_or_default(),
                };
                !(h.is_empty()
                    || h == "localhost"
                    || h.starts_with('%')
                    || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
            });
            let query = rest.split_once('?').map_or("", |(_, q)| q);
            let required = query
                .split('&')
                .any(|kv| kv == "sslmode=require" || kv == "sslmode=verify-full");
            if off_machine && !required {
                return Err(e(
                    "url",
                    "reaches a server off this machine without requiring TLS",
                    "add ?sslmode=require to the url (and ca_file for a private server's certificate)",
                ));
            }
            let password = SecretSource::named(password_env, password_file, abs).map_err(|_| {
                e(
                    "password_env",
                    "both password_env and password_file are given",
                    "name one place the password is read from",
                )
            })?;
            Ok(IndexAt::Postgres(Postgres {
                url: url.to_string(),
                password,
                ca_file: ca_file.map(abs),
            }))
        }
        other => Err(e(
            "kind",
            &format!("unknown kind \"{other}\""),
            "use \"sqlite\" (the embedded index) or \"postgres\"",
        )),
    }
}

/// `[store.objects]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjects {
    pub kind: Option<String>,
    pub endpoint: Option<String>,
    pub bucket: Option<String>,
    pub region: Option<String>,
    pub prefix: Option<String>,
    pub access_key_id_env: Option<String>,
    pub access_key_id_file: Option<String>,
    pub secret_access_key_env: Option<String>,
    pub secret_access_key_file: Option<String>,
    pub allow_http: Option<bool>,
}

/// Where objects are kept, checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ObjectsAt {
    /// Under the store's folder (`objects/ab/cdef…`), with the filed tree beside them.
    #[default]
    Local,
    /// In an S3-compatible bucket.
    S3(S3),
}

impl ObjectsAt {
    /// What the store's index remembers of this place, to refuse a configuration that points a
    /// store at objects that are not its own: the bucket and prefix, not the endpoint (a
    /// server may change its name and stay the same storage).
    pub fn identity(&self) -> String {
        match self {
            ObjectsAt::Local => "local".into(),
            ObjectsAt::S3(s3) => format!("s3://{}/{}", s3.bucket, s3.prefix),
        }
    }
}

/// An S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3 {
    /// The service's address, `https://…` (`http://` only for a loopback host with
    /// `allow_http = true`).
    pub endpoint: String,
    /// The bucket; it must exist.
    pub bucket: String,
    /// The region the service expects in signatures (MinIO and Garage take any).
    pub region: String,
    /// A key prefix inside the bucket, so that several stores can share one ("" or ending in
    /// `/`).
    pub prefix: String,
    /// Where the access key id is read from.
    pub access_key_id: SecretSource,
    /// Where the secret access key is read from.
    pub secret_access_key: SecretSource,
    /// Whether `endpoint` may be plain HTTP (a loopback test server).
    pub allow_http: bool,
}

/// Resolves `[store.objects]`; `Err((key, problem, fix))` names the key under `store.objects`.
pub fn resolve(
    raw: Option<&RawObjects>,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<ObjectsAt, (String, String, String)> {
    let e =
        |k: &str, p: &str, f: &str| (format!("store.objects.{k}"), p.to_string(), f.to_string());
    let Some(raw) = raw else {
        return Ok(ObjectsAt::Local);
    };
    match raw.kind.as_deref().unwrap_or("local") {
        "local" => {
            let given = raw.endpoint.is_some() || raw.bucket.is_some() || raw.prefix.is_some();
            if given {
                return Err(e(
                    "kind",
                    "is \"local\" but a bucket is described",
                    "set kind = \"s3\" to keep objects in the bucket, or remove its settings",
                ));
            }
            return Ok(ObjectsAt::Local);
        }
        "s3" => {}
        other => {
            return Err(e(
                "kind",
                &format!("unknown kind \"{other}\""),
                "use \"local\" (beside the index) or \"s3\" (an S3-compatible bucket)",
            ));
        }
    }
    let endpoint = raw
        .endpoint
        .clone()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            e(
                "endpoint",
                "is missing",
                "give the service's address, e.g. endpoint = \"https://s3.example.vn\"",
            )
        })?;
    let allow_http = raw.allow_http == Some(true);
    match endpoint.split_once("://") {
        Some(("https", rest)) if !rest.is_empty() => {}
        Some(("http", rest)) if !rest.is_empty() => {
            let host = rest.split('/').next().unwrap_or_default();
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback =
                host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback || !allow_http {
                return Err(e(
                    "endpoint",
                    "\"http://\" sends the objects and the signed requests unencrypted",
                    "use https://; http:// is accepted only for a loopback host with allow_http = true",
                ));
            }
        }
        _ => {
            return Err(e(
                "endpoint",
                &format!("\"{endpoint}\" is not an http(s) address"),
                "give it as https://host[:port]",
            ));
        }
    }
    let bucket = raw
        .bucket
        .clone()
        .filter(|b| {
            (3..=63).contains(&b.len())
                && b.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        })
        .ok_or_else(|| {
            e(
                "bucket",
                "is missing or not a bucket name",
                "give the bucket's name: 3 to 63 lower-case letters, digits, '-' or '.'",
            )
        })?;
    let prefix = match raw.prefix.as_deref().map(|p| p.trim_matches('/')) {
        None | Some("") => String::new(),
        Some(p) if p.split('/').all(|s| !s.is_empty() && s != "." && s != "..") => format!("{p}/"),
        Some(_) => {
            return Err(e(
                "prefix",
                "holds an empty, \".\" or \"..\" segment",
                "give a plain path such as \"langson/skhdt\"",
            ));
        }
    };
    let secret = |env: &Option<String>, file: &Option<String>, key: &str, what: &str| {
        match SecretSource::named(env.as_deref(), file.as_deref(), abs) {
            Ok(Some(source)) => Ok(source),
            Err(_) => Err(e(
                &format!("{key}_env"),
                &format!("both {key}_env and {key}_file are given"),
                "name one place it is read from",
            )),
            Ok(None) => Err(e(
                &format!("{key}_env"),
                &format!("the {what} is not named"),
                &format!(
                    "name the environment variable ({key}_env) or file ({key}_file) that holds it"
                ),
            )),
        }
    };
    Ok(ObjectsAt::S3(S3 {
        endpoint,
        bucket,
        region: raw
            .region
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "us-east-1".into()),
        prefix,
        access_key_id: secret(
            &raw.access_key_id_env,
            &raw.access_key_id_file,
            "access_key_id",
            "access key id",
        )?,
        secret_access_key: secret(
            &raw.secret_access_key_env,
            &raw.secret_access_key_file,
            "secret_access_key",
            "secret access key",
        )?,
        allow_http,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<ObjectsAt, (String, String, String)> {
        let raw: RawObjects = toml::from_str(toml_text).unwrap();
        resolve(Some(&raw), &|p: &str| PathBuf::from("/etc/intake").join(p))
    }

    const KEYS: &str = "access_key_id_env = \"K\"\nsecret_access_key_file = \"s3.secret\"\n";

    fn index(
        kind: &str,
        url: Option<&str>,
        env: Option<&str>,
    ) -> Result<IndexAt, (String, String, String)> {
        resolve_index(Some(kind), url, (env, None), None, &|p: &str| {
            PathBuf::from(p)
        })
    }

    #[test]
    fn the_index_is_sqlite_or_a_named_database() {
        assert_eq!(
            resolve_index(None, None, (None, None), None, &|p: &str| p.into()).unwrap(),
            IndexAt::Sqlite
        );
        let url = "postgres://intake@db.example.vn/intake?sslmode=require";
        let pg = index("postgres", Some(url), Some("PGPW")).unwrap();
        assert_eq!(
            pg,
            IndexAt::Postgres(Postgres {
                url: url.into(),
                password: Some(SecretSource::Env("PGPW".into())),
                ca_file: None,
            })
        );
        // Off this machine, only with TLS required; on it, as the server allows.
        let plain = index(
            "postgres",
            Some("postgres://intake@db.example.vn/intake"),
            None,
        );
        assert_eq!(plain.unwrap_err().0, "store.url");
        for local in [
            "postgres://intake@127.0.0.1:5432/intake",
            "postgres://intake@localhost/intake",
            "postgres://intake@[::1]:5432/intake",
            "postgres://intake@%2Frun%2Fpostgresql/intake",
        ] {
            assert!(index("postgres", Some(local), None).is_ok(), "{local}");
        }
        for bad in ["postgres://intake:pw@db/intake", "mysql://db/intake"] {
            assert_eq!(
                index("postgres", Some(bad), None).unwrap_err().0,
                "store.url"
            );
        }
        assert_eq!(index("postgres", None, None).unwrap_err().0, "store.url");
        assert_eq!(
            index("sqlite", Some("postgres://db/x"), None)
                .unwrap_err()
                .0,
            "store.kind"
        );
        assert_eq!(index("oracle", None, None).unwrap_err().0, "store.kind");
    }

    #[test]
    fn local_is_the_default_and_takes_no_bucket() {
        assert_eq!(
            resolve(None, &|p: &str| p.into()).unwrap(),
            ObjectsAt::Local
        );
        assert_eq!(parse("kind = \"local\"").unwrap(), ObjectsAt::Local);
        let err = parse("kind = \"local\"\nbucket = \"b\"").unwrap_err();
        assert_eq!(err.0, "store.objects.kind");
        assert_eq!(ObjectsAt::Local.identity(), "local");
    }

    #[test]
    fn a_bucket_with_its_credentials_named() {
        let at = parse(&format!(
            "kind = \"s3\"\nendpoint = \"https://s3.example.vn/\"\nbucket = \"intake-store\"\nprefix = \"/langson/\"\n{KEYS}"
        ))
        .unwrap();
        let ObjectsAt::S3(s3) = &at else {
            panic!("{at:?}")
        };
        assert_eq!(s3.endpoint, "https://s3.example.vn");
        assert_eq!(s3.prefix, "langson/");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.access_key_id, SecretSource::Env("K".into()));
        assert_eq!(
            s3.secret_access_key,
            SecretSource::File("/etc/intake/s3.secret".into())
        );
        assert_eq!(at.identity(), "s3://intake-store/langson/");
    }

    #[test]
    fn plain_http_only_on_loopback_when_allowed() {
        let http = |host: &str, allow: bool| {
            parse(&format!(
                "kind = \"s3\"\nendpoint = \"http://{host}\"\nbucket = \"bkt\"\nallow_http = {allow}\n{KEYS}"
            ))
        };
        assert!(http("127.0.0.1:9000", true).is_ok());
        assert!(http("localhost:9000", true).is_ok());
        assert!(http("[::1]:9000", true).is_ok());
        assert_eq!(
            http("127.0.0.1:9000", false).unwrap_err().0,
            "store.objects.endpoint"
        );
        assert_eq!(
            http("s3.example.vn", true).unwrap_err().0,
            "store.objects.endpoint"
        );
    }

    #[test]
    fn mistakes_name_their_key() {
        let base = "kind = \"s3\"\nendpoint = \"https://s3.example.vn\"\n";
        assert_eq!(
            parse(&format!("{base}{KEYS}")).unwrap_err().0,
            "store.objects.bucket"
        );
        assert_eq!(
            parse(&format!("{base}bucket = \"Upper_Case\"\n{KEYS}"))
                .unwrap_err()
                .0,
            "store.objects.bucket"
        );
        assert_eq!(
            parse(&format!(
                "{base}bucket = \"bkt\"\nprefix = \"a/../b\"\n{KEYS}"
            ))
            .unwrap_err()
            .0,
            "store.objects.prefix"
        );
        let err = parse(&format!(
            "{base}bucket = \"bkt\"\naccess_key_id_env = \"K\""
        ))
        .unwrap_err();
        assert_eq!(err.0, "store.objects.secret_access_key_env");
        assert_eq!(parse("kind = \"gcs\"").unwrap_err().0, "store.objects.kind");
        assert_eq!(
            parse("kind = \"s3\"").unwrap_err().0,
            "store.objects.endpoint"
        );
    }
}
