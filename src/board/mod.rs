//! # The staff board
//!
//! A small web server inside the daemon's process (axum on tokio), rendering Vietnamese pages
//! on the server from MiniJinja templates: each campaign's figures and its matrix of agencies
//! × deliverables, an agency's messages (with their senders' authentication), versions,
//! findings and mail, the quarantine (with the messages held for a failed sender check, which
//! staff release with a reason), the accepted versions whose sender was not authenticated,
//! the intake log, the exports, and the staff actions, each written to the audit log with the
//! name of who acted. Pages read the store through their own read connections on blocking
//! threads; a watcher announces changes of the store by Server-Sent Events, and a few lines
//! of script fetch the page's main section again.
//!
//! - [`auth`]: accounts, sessions, CSRF tokens; [`guard`] checks every request before it.
//! - [`pages`], [`actions`], [`downloads`], [`live`]: the handlers, reading through the store's
//!   views (`crate::store::views`);
//!   [`render`]: the templates and the wording of times and rates.
//! - [`serve`]: the connections, within the limits of `[board]` (timeouts, a cap, body size).

pub mod actions;
pub mod auth;
pub mod downloads;
pub mod live;
pub mod pages;
pub mod render;
pub mod serve;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::Config;
use crate::store::{Store, StoreError};
use crate::workbook::Inspector;

/// Why the board cannot start.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// A non-loopback address without accounts or a token.
    #[error(
        "the board would listen on {0}, reachable from other machines, without staff accounts; name [board] accounts or token_file, or listen on 127.0.0.1"
    )]
    Unprotected(SocketAddr),
    /// The accounts file cannot be used.
    #[error("board accounts file {path}: {problem}")]
    Accounts {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The token file cannot be used.
    #[error("board token file {path}: {problem}")]
    Token {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The store cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The board, bound and ready to serve.
pub struct BoardServer {
    listener: tokio::net::TcpListener,
    state: Shared,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for BoardServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardServer")
            .field("addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl BoardServer {
    /// Checks access settings (non-loopback without accounts/token is an error) and binds.
    pub async fn bind(
        config: Config,
        store_dir: PathBuf,
        inspector: Inspector,
        clock: Clock,
    ) -> Result<BoardServer, BoardError> {
        Self::bind_live(
            crate::config::live::Live::new(config),
            store_dir,
            inspector,
            clock,
        )
        .await
    }

    /// As [`BoardServer::bind`], reading the configuration in force at each request (a
    /// reload replaces it; the address and access stay those bound here).
    pub async fn bind_live(
        live: crate::config::live::Live,
        store_dir: PathBuf,
        inspector: Inspector,
        clock: Clock,
    ) -> Result<BoardServer, BoardError> {
        let config = live.get();
        let access = auth::Access::from_config(&config.board)?;
        let dir = store_dir.clone();
        let objects = config.store.clone();
        let (store, sessions) = tokio::task::spawn_blocking(move || {
            let store = Store::open_read_with(&dir, &objects)?;
            // A shared index keeps the sessions, for every daemon's board to know them.
            let sessions = match &objects.index {
                crate::config::store::IndexAt::Postgres(_) => {
                    auth::Sessions::shared(store.another_connection()?)
                }
                crate::config::store::IndexAt::Sqlite => auth::Sessions::default(),
            };
            Ok::<_, crate::store::StoreError>((store, sessions))
        })
        .await
        .expect("opening the store does not panic")?;
        let addr = config.board.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| BoardError::Bind { addr, source })?;
        let (changes, _) = watch::channel(0u64);
        let (stop, stopped) = watch::channel(false);
        let state = Arc::new(AppState {
            loopback: addr.ip().is_loopback(),
            access,
            sessions,
            pool: Mutex::new(vec![store]),
            render: render::Pages::new(),
            changes,
            stopped,
            nudge: Notify::new(),
            on_action: Mutex::new(None),
            live,
            store_dir,
            inspector,
            clock,
        });
        Ok(BoardServer {
            listener,
            state,
            stop,
        })
    }

    /// The address the board listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Calls `f` after every staff action that changed the store (e.g. to wake the mail
    /// sender, so that a re-sent receipt goes at once).
    pub fn on_action(self, f: impl Fn() + Send + Sync + 'static) -> BoardServer {
        *self.state.on_action.lock().expect("hook lock") = Some(Box::new(f));
        self
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let BoardServer {
            listener,
            state,
            stop,
        } = self;
        tracing::info!(addr = %listener.local_addr()?, login = state.access.needs_login(), "board listening");
        let watcher = tokio::spawn(live::watch_store(state.clone()));
        let limits = serve::Limits::of(&state.config().board);
        let app = router(state).layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes));
        // Live streams never end by themselves: `stop` tells them to, or the shutdown waits.
        let result = serve::serve(listener, app, limits, shutdown, stop).await;
        watcher.abort();
        result
    }
}

/// What every handler shares.
pub struct AppState {
    live: crate::config::live::Live,
    store_dir: PathBuf,
    inspector: Inspector,
    clock: Clock,
    loopback: bool,
    access: auth::Access,
    sessions: auth::Sessions,
    pool: Mutex<Vec<Store>>,
    render: render::Pages,
    changes: watch::Sender<u64>,
    stopped: watch::Receiver<bool>,
    nudge: Notify,
    on_action: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
}

/// The state as handlers hold it.
pub type Shared = Arc<AppState>;

/// Read connections kept open between requests.
const POOL: usize = 4;

impl AppState {
    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        self.live.get()
    }

    /// Runs `f` on a blocking thread with a store connection (reads and staff actions alike:
    /// SQLite's busy timeout orders them with the daemon's writes).
    pub async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store, &Config) -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = match state.pool.lock().expect("pool lock").pop() {
                Some(s) => s,
                None => Store::open_read_with(&state.store_dir, &state.config().store)?,
            };
            let out = f(&store, &state.config());
            let mut pool = state.pool.lock().expect("pool lock");
            if pool.len() < POOL {
                pool.push(store);
            }
            out
        })
        .await
        .map_err(|e| PageError::Internal(format!("a board task failed: {e}")))?
    }

    /// After an action: wake the live watcher and the daemon's hook.
    fn changed(&self) {
        self.nudge.notify_one();
        if let Some(f) = self.on_action.lock().expect("hook lock").as_ref() {
            f();
        }
    }
}

/// A request that cannot be answered with its page.
#[derive(Debug)]
pub enum PageError {
    /// Nothing here (also every path that is not one of ours).
    NotFound,
    /// Refused: no session, a bad CSRF token, another site.
    Forbidden(&'static str),
    /// The form is not right; the sentence says what to fix (Vietnamese).
    BadRequest(String),
    /// The machine failed; logged, and a plain apology shown.
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => PageError::NotFound,
            e => PageError::Internal(format!("{e}: {}", chain(&e))),
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c.to_string());
        cur = c.source();
    }
    out.join(": ")
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            PageError::NotFound => (StatusCode::NOT_FOUND, "Không tìm thấy trang này.".into()),
            PageError::Forbidden(why) => {
                tracing::warn!(reason = why, "board request refused");
                (
                    StatusCode::FORBIDDEN,
                    "Yêu cầu bị từ chối: phiên làm việc đã hết hạn hoặc yêu cầu không đến từ trang này. Hãy tải lại trang rồi thử lại.".into(),
                )
            }
            PageError::BadRequest(text) => (StatusCode::BAD_REQUEST, text),
            PageError::Internal(e) => {
                tracing::error!(error = %e, "board request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Có lỗi khi đọc kho lưu; hãy thử lại sau ít phút.".into(),
                )
            }
        };
        let mut r = (status, axum::response::Html(render::error_page(&text))).into_response();
        secure_headers(r.headers_mut());
        r
    }
}

/// The board's routes.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/campaign/{id}", get(pages::campaign))
        .route("/agency/{code}", get(pages::agency))
        .route("/quarantine", get(pages::quarantine))
        .route("/log", get(pages::log))
        .route("/unverified", get(pages::unverified))
        .route("/left-alone", get(pages::left_alone))
        .route("/events", get(live::events))
        .route("/download/{*rest}", get(downloads::file))
        .route("/export/{campaign}/{what}", get(downloads::export))
        .route("/login", get(pages::login_form).post(actions::login))
        .route("/logout", post(actions::logout))
        .route("/action/extend", post(actions::extend))
        .route("/action/exempt", post(actions::exempt))
        .route("/action/resend", post(actions::resend))
        .route("/action/revalidate", post(actions::revalidate))
        .route("/action/assign", post(actions::assign))
        .route("/static/board.css", get(render::css))
        .route("/static/board.js", get(render::js))
        .fallback(|| async { PageError::NotFound })
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Who is asking, as the handlers see it.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The session.
    pub session: auth::Session,
    /// The peer's address, when known.
    pub peer: Option<IpAddr>,
    /// The browser reached the board over HTTPS (through a proxy): cookies are `Secure`.
    pub https: bool,
}

/// Checks every request before its handler: the Host of an open board (loopback names only:
/// no DNS rebinding onto it, no proxy opening it to the network), the origin of every POST,
/// the session and, where one is required, the login.
async fn guard(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    if s.loopback && !s.access.needs_login() && !loopback_host(&headers) {
        return PageError::Forbidden("host is not a loopback name").into_response();
    }
    if path.starts_with("/static/") {
        let mut r = next.run(req).await;
        let h = r.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=3600"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        return r;
    }
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let post = req.method() == Method::POST;
    if post && !same_origin(&headers) {
        return PageError::Forbidden("cross-site request").into_response();
    }
    let existing = auth::session_cookie(&headers).and_then(|id| s.sessions.get(&id));
    let mut fresh = false;
    let session = match existing {
        Some(session) => session,
        None if post => return PageError::Forbidden("no session").into_response(),
        None => {
            fresh = true;
            s.sessions.create(None)
        }
    };
    let public = path == "/login";
    if s.access.needs_login() && session.user.is_none() && !public {
        if post || path == "/events" {
            return PageError::Forbidden("not logged in").into_response();
        }
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let mut r =
            Redirect::to(&format!("/login?next={}", render::encode(&target))).into_response();
        if fresh {
            set_cookie(&mut r, &session.id, https);
        }
        return r;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let id = session.id.clone();
    req.extensions_mut().insert(Visit {
        session,
        peer,
        https,
    });
    let mut r = next.run(req).await;
    if fresh {
        set_cookie(&mut r, &id, https);
    }
    secure_headers(r.headers_mut());
    r
}

/// Adds the session cookie to a response.
pub fn set_cookie(r: &mut Response, id: &str, https: bool) {
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(id, https)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn secure_headers(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::CACHE_CONTROL, "no-store");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
}

/// The Host header's name without its port.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.0 without a Host: nothing a browser sends.
        return true;
    };
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A POST comes from one of the board's own pages: the browser's `Sec-Fetch-Site`, else its
/// `Origin` (or `Referer`) names the host the request was sent to (or, behind a proxy, the
/// host the proxy was asked for; a page of another site cannot set that header without a
/// preflight the board never answers).
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |k: header::HeaderName| headers.get(k).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(host) = text(header::HOST) else {
        return text(header::ORIGIN).is_none();
    };
    let claimed = text(header::ORIGIN).or_else(|| text(header::REFERER));
    match claimed {
        None => true,
        Some(url) => {
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            let claimed = rest.and_then(|r| r.split('/').next());
            claimed.is_some_and(|c| {
                c == host || text(header::HeaderName::from_static("x-forwarded-host")) == Some(c)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origins_and_hosts() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("referer", "http://127.0.0.1:8080.evil.example/x")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(loopback_host(&headers(&[("host", "localhost:8080")])));
        assert!(loopback_host(&headers(&[("host", "[::1]:8080")])));
        assert!(loopback_host(&headers(&[("host", "127.0.0.1")])));
        assert!(!loopback_host(&headers(&[(
            "host",
            "rebound.evil.example:8080"
        )])));
    }
}
