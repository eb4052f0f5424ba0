//! # Objects in an S3-compatible bucket
//!
//! For deployments that already run object storage (MinIO, Garage, a cloud's): the same
//! content-addressed layout as on disk, `<prefix>objects/ab/cdef…`, through object_store's S3
//! client. An object is written only when the bucket does not already hold it at its full
//! length, so a retried batch costs a HEAD per object; S3 answers a PUT only once the object
//! is stored, so there is nothing to flush before the index commits.
//!
//! The store is synchronous (its callers are the worker's and the sender's threads, and the
//! board's blocking tasks); object_store is asynchronous. Requests run on one small runtime
//! of their own, shared by every store the process opens, and the caller waits for the
//! answer on a channel: that works from any thread, inside a runtime or not. Clients are
//! made once per bucket and process, since each holds a connection pool.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};

use crate::config::store::S3;

/// A bucket (and prefix) holding a store's objects.
#[derive(Debug, Clone)]
pub struct Bucket {
    client: Arc<AmazonS3>,
    /// `<prefix>objects/`.
    root: String,
    /// `s3://bucket/prefix`, for messages.
    label: String,
}

impl Bucket {
    /// The client for `at`, made on first use in this process. Credentials are read now.
    pub fn open(at: &S3) -> io::Result<Bucket> {
        static OPEN: OnceLock<Mutex<HashMap<String, Bucket>>> = OnceLock::new();
        let key = format!("{}|{}|{}", at.endpoint, at.bucket, at.prefix);
        let mut open = OPEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = open.get(&key) {
            return Ok(bucket.clone());
        }
        let bucket = Self::connect(at)?;
        open.insert(key, bucket.clone());
        Ok(bucket)
    }

    fn connect(at: &S3) -> io::Result<Bucket> {
        let secret = |s: &crate::config::secret::SecretSource| {
            s.read().map_err(|why| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("the object storage's credentials: {why}"),
                )
            })
        };
        let key_id = secret(&at.access_key_id)?;
        let key = secret(&at.secret_access_key)?;
        // The HTTP client takes rustls' process-wide provider; only ring is built in.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = AmazonS3Builder::new()
            .with_endpoint(&at.endpoint)
            .with_bucket_name(&at.bucket)
            .with_region(&at.region)
            .with_access_key_id(key_id.expose())
            .with_secret_access_key(key.expose())
            // Client options first: they replace whatever the builder held, allow_http too.
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(10))
                    .with_timeout(Duration::from_secs(60)),
            )
            .with_allow_http(at.allow_http)
            .with_virtual_hosted_style_request(false)
            // A failing service is reported within half a minute: the batch is rolled back
            // and tried again at the next pass, as with a failing disk.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 4,
                retry_timeout: Duration::from_secs(30),
            })
            .build()
            .map_err(io::Error::other)?;
        Ok(Bucket {
            client: Arc::new(client),
            root: format!("{}objects/", at.prefix),
            label: format!("s3://{}/{}", at.bucket, at.prefix),
        })
    }

    fn key(&self, sha256: &str) -> Key {
        Key::from(format!("{}{}/{}", self.root, &sha256[..2], &sha256[2..]))
    }

    /// Where the object with this hash is, for messages.
    pub fn describe(&self, sha256: &str) -> String {
        format!("{}objects/{}/{}", self.label, &sha256[..2], &sha256[2..])
    }

    /// Writes bytes under their hash unless the bucket holds them already.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> io::Result<()> {
        let client = self.client.clone();
        let key = self.key(sha256);
        let len = bytes.len() as u64;
        let payload = PutPayload::from(bytes.to_vec());
        run(async move {
            match client.head(&key).await {
                Ok(meta) if meta.size == len => return Ok(()),
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            client.put(&key, payload).await.map(|_| ())
        })
        .map_err(|e| self.error(sha256, e))
    }

    /// Reads an object.
    pub fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        let client = self.client.clone();
        let key = self.key(sha256);
        run(async move { client.get(&key).await?.bytes().await })
            .map(|b| b.to_vec())
            .map_err(|e| self.error(sha256, e))
    }

    /// The hashes of every object in the bucket under this store's prefix, with their sizes;
    /// keys that are no object's name are left out.
    pub fn list(&self) -> io::Result<Vec<(String, u64)>> {
        let client = self.client.clone();
        let prefix = Key::from(self.root.trim_end_matches('/'));
        let root = self.root.clone();
        let metas = run(async move { client.list(Some(&prefix)).try_collect::<Vec<_>>().await })
            .map_err(|e| io::Error::other(format!("listing {}: {e}", self.label)))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let rest = m.location.as_ref().strip_prefix(root.as_str())?.to_string();
                let (dir, name) = rest.split_once('/')?;
                let sha = format!("{dir}{name}");
                (dir.len() == 2
                    && sha.len() == 64
                    && sha
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
                .then_some((sha, m.size))
            })
            .collect())
    }

    /// Writes, reads back and deletes a small object beside the store's: whether the
    /// endpoint answers, the credentials are taken, the bucket exists and may be written.
    pub fn probe(&self) -> io::Result<()> {
        let client = self.client.clone();
        let key = Key::from(format!(
            "{}intake-probe",
            self.root.trim_end_matches("objects/")
        ));
        let sent = format!("intake {}", std::process::id());
        let expected = sent.clone();
        let got = run(async move {
            client
                .put(&key, PutPayload::from(sent.into_bytes()))
                .await?;
            let got = client.get(&key).await?.bytes().await?;
            client.delete(&key).await?;
            Ok(got)
        })
        .map_err(|e| io::Error::other(format!("{}: {e}", self.label)))?;
        if got != expected.as_bytes() {
            return Err(io::Error::other(format!(
                "{}: an object written was read back changed",
                self.label
            )));
        }
        Ok(())
    }

    fn error(&self, sha256: &str, e: object_store::Error) -> io::Error {
        let kind = match e {
            object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("{}: {e}", self.describe(sha256)))
    }
}

/// Runs a request on the objects' runtime and waits for its answer.
fn run<T: Send + 'static>(
    request: impl Future<Output = object_store::Result<T>> + Send + 'static,
) -> object_store::Result<T> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("intake-objects")
            .enable_all()
            .build()
            .expect("a runtime for object storage requests")
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(request.await);
    });
    rx.recv().unwrap_or_else(|_| {
        Err(object_store::Error::Generic {
            store: "S3",
            source: "the object storage request was dropped".into(),
        })
    })
}
