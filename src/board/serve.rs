//! # Connections of the board
//!
//! The board must keep answering staff whatever a client does, so it serves its connections
//! itself (HTTP/1.1 on hyper) instead of through `axum::serve`, which keeps a connection for as
//! long as the client likes. Each connection has a deadline that depends on what it is doing:
//! a client that has not sent a request's complete headers within the header timeout, or a
//! connection with no bytes either way for the idle timeout, is closed; a request whose body
//! comes too slowly gets `408` after the request timeout, a body above the limit `413`. At most
//! `max_connections` are served at once (so file descriptors stay bounded): beyond it, the
//! oldest connection that never sent a request makes room, else the newcomer waits briefly and
//! is closed. Live pages keep within the limits by sending a comment more often than the idle
//! timeout.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

use crate::config::board::Board;

/// How long a newcomer waits for a free slot when every connection is busy.
const SLOT_WAIT: Duration = Duration::from_millis(250);
/// How often a connection looks at its deadline (a phase change can bring it forward).
const TICK: Duration = Duration::from_millis(200);
/// How long a stop waits for open connections to finish.
const DRAIN: Duration = Duration::from_secs(5);

/// The limits of [`serve`], from `[board]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Complete headers within this time.
    pub header_timeout: Duration,
    /// No bytes either way for this long: closed.
    pub idle_timeout: Duration,
    /// From complete headers to the response.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// The largest request body.
    pub max_body_bytes: usize,
}

impl Limits {
    /// The limits written in `[board]`.
    pub fn of(board: &Board) -> Limits {
        Limits {
            header_timeout: board.header_timeout,
            idle_timeout: board.idle_timeout,
            request_timeout: board.request_timeout,
            max_connections: board.max_connections,
            max_body_bytes: board.max_body_bytes,
        }
    }

    /// How often a live page must send something to stay within the idle timeout.
    pub fn live_keep_alive(&self) -> Duration {
        (self.idle_timeout / 3).clamp(Duration::from_millis(10), Duration::from_secs(15))
    }
}

/// Waiting for a request's headers (from the connection's start or its first byte after a
/// keep-alive pause).
const HEAD: u8 = 0;
/// A request being answered.
const BUSY: u8 = 1;
/// Between requests, nothing received yet.
const IDLE: u8 = 2;

/// What a connection is doing, shared by its byte counter, its requests and its supervisor.
struct Activity {
    base: Instant,
    phase: AtomicU8,
    /// Milliseconds since `base` when the current phase HEAD began.
    head_since: AtomicU64,
    /// Milliseconds since `base` of the last byte either way.
    last: AtomicU64,
    in_flight: AtomicUsize,
    /// Requests whose handler is still at work (the request timeout governs them).
    answering: AtomicUsize,
    requests: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            base: Instant::now(),
            phase: AtomicU8::new(HEAD),
            head_since: AtomicU64::new(0),
            last: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            answering: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }

    fn read(&self) {
        let now = self.now();
        self.last.store(now, Ordering::Relaxed);
        if self
            .phase
            .compare_exchange(IDLE, HEAD, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.head_since.store(now, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.last.store(self.now(), Ordering::Relaxed);
    }

    /// A request's headers are complete: until its response body is dropped, it is busy.
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.phase.store(BUSY, Ordering::Release);
        InFlight(self.clone())
    }

    /// Why the connection is past its deadline, if it is.
    fn overdue(&self, limits: &Limits) -> Option<&'static str> {
        if self.answering.load(Ordering::Acquire) > 0 {
            return None;
        }
        let now = self.now();
        match self.phase.load(Ordering::Acquire) {
            HEAD => {
                let since = self.head_since.load(Ordering::Relaxed);
                (now.saturating_sub(since) >= limits.header_timeout.as_millis() as u64)
                    .then_some("request headers not complete in time")
            }
            _ => {
                let last = self.last.load(Ordering::Relaxed);
                (now.saturating_sub(last) >= limits.idle_timeout.as_millis() as u64)
                    .then_some("no traffic for the idle timeout")
            }
        }
    }
}

/// A request in progress; dropped with its response body.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.wrote();
            let _ = self
                .0
                .phase
                .compare_exchange(BUSY, IDLE, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

/// A response body that keeps its request in flight until it is sent or dropped.
struct Guarded {
    inner: Body,
    _request: InFlight,
}

impl hyper::body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A socket that notes each byte read or written in its connection's activity.
struct Metered {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Metered {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        r
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The open connections, oldest first, for making room.
#[derive(Default)]
struct Registry {
    next: u64,
    open: BTreeMap<u64, (Arc<Activity>, Arc<Notify>)>,
}

impl Registry {
    /// Closes the oldest connection that never sent a complete request; false if none.
    fn make_room(&mut self) -> bool {
        let victim = self.open.iter().find(|(_, (a, _))| {
            a.requests.load(Ordering::Relaxed) == 0 && a.phase.load(Ordering::Acquire) == HEAD
        });
        match victim {
            Some((&id, (_, kill))) => {
                kill.notify_one();
                // Not chosen twice while it winds down.
                self.open.remove(&id);
                true
            }
            None => false,
        }
    }
}

/// Connections closed at the cap since the last warning, so a flood is one log line a while.
struct Refusals {
    count: u64,
    since: Option<Instant>,
}

impl Refusals {
    fn note(&mut self, peer: SocketAddr) {
        self.count += 1;
        tracing::debug!(%peer, "board connection closed: every slot is busy");
        if self
            .since
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            tracing::warn!(
                refused = self.count,
                "board at its connection limit; new connections closed (raise [board] max_connections if this is staff)"
            );
            self.count = 0;
            self.since = Some(Instant::now());
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves; then tells live
/// streams to end (`stop`), lets open requests finish (a few seconds at most) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    stop: watch::Sender<bool>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Mutex::new(Registry::default()));
    let (closing, closed) = watch::channel(false);
    let mut refusals = Refusals {
        count: 0,
        since: None,
    };
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or a connection reset before it was taken:
                    // never a reason to stop serving.
                    tracing::warn!(error = %e, "board cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                registry.lock().expect("registry lock").make_room();
                match tokio::time::timeout(SLOT_WAIT, slots.clone().acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    _ => {
                        refusals.note(peer);
                        drop(stream);
                        continue;
                    }
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let kill = Arc::new(Notify::new());
        let id = {
            let mut r = registry.lock().expect("registry lock");
            let id = r.next;
            r.next += 1;
            r.open.insert(id, (activity.clone(), kill.clone()));
            id
        };
        let registry = registry.clone();
        let app = app.clone();
        let closed = closed.clone();
        tokio::spawn(async move {
            connection(stream, peer, app, limits, activity, kill, closed).await;
            registry.lock().expect("registry lock").open.remove(&id);
            drop(permit);
        });
    }
    let _ = stop.send(true);
    let _ = closing.send(true);
    let all = limits.max_connections as u32;
    if tokio::time::timeout(DRAIN, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            open = limits.max_connections - slots.available_permits(),
            "board stopped with connections still open"
        );
    }
    Ok(())
}

/// One connection, until it ends, is past its deadline, makes room, or the board stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    activity: Arc<Activity>,
    kill: Arc<Notify>,
    mut closed: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Metered {
        inner: stream,
        activity: activity.clone(),
    });
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        let request = requests.begin();
        let answering = requests.clone();
        async move {
            answering.answering.fetch_add(1, Ordering::AcqRel);
            let response = answer(app, req, peer, &limits).await;
            answering.answering.fetch_sub(1, Ordering::AcqRel);
            Ok::<_, Infallible>(response.map(|inner| Guarded {
                inner,
                _request: request,
            }))
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    // Our own deadlines decide; hyper's header timer would also close idle keep-alives.
    http.timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(64 << 10)
        .keep_alive(true);
    let conn = http.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "board connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep(TICK) => {
                if let Some(why) = activity.overdue(&limits) {
                    tracing::debug!(%peer, reason = why, "board connection closed");
                    return;
                }
            }
            _ = kill.notified() => {
                tracing::debug!(%peer, "board connection closed to make room for a new one");
                return;
            }
            _ = closed.wait_for(|c| *c), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Answers one request within the request timeout and the body limit.
async fn answer(
    app: Router,
    mut req: Request<Incoming>,
    peer: SocketAddr,
    limits: &Limits,
) -> Response<Body> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        tracing::info!(%peer, bytes = declared, "board request refused: body too large");
        return too_large();
    }
    req.extensions_mut().insert(ConnectInfo(peer));
    match tokio::time::timeout(limits.request_timeout, app.oneshot(req.map(Body::new))).await {
        Ok(Ok(r)) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::info!(%peer, "board request refused: body too large");
            too_large()
        }
        Ok(Ok(r)) => r,
        Ok(Err(never)) => match never {},
        Err(_) => {
            tracing::info!(%peer, "board request timed out before its answer (slow body or slow store)");
            refuse(
                StatusCode::REQUEST_TIMEOUT,
                "Yêu cầu gửi đến quá chậm nên đã bị ngắt. Hãy tải lại trang rồi thử lại.",
            )
        }
    }
}

fn too_large() -> Response<Body> {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Nội dung gửi lên quá lớn. Bảng theo dõi chỉ nhận các biểu mẫu ngắn; hãy rút gọn nội dung rồi gửi lại.",
    )
}

/// A Vietnamese error page that also closes the connection (its body may still be coming).
fn refuse(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(super::render::error_page(text)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    super::secure_headers(h);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::of(&Board {
            header_timeout: Duration::from_millis(50),
            idle_timeout: Duration::from_millis(80),
            ..Board::default()
        })
    }

    #[test]
    fn deadlines_follow_the_phase() {
        let l = limits();
        let a = Arc::new(Activity::new());
        assert_eq!(a.overdue(&l), None, "just connected");
        std::thread::sleep(Duration::from_millis(60));
        assert!(a.overdue(&l).is_some(), "no headers in time");
        let request = a.begin();
        assert_eq!(a.overdue(&l), None, "busy with recent traffic");
        drop(request);
        assert_eq!(a.phase.load(Ordering::Relaxed), IDLE);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(a.overdue(&l), None, "idle, within the keep-alive time");
        a.read();
        assert_eq!(
            a.phase.load(Ordering::Relaxed),
            HEAD,
            "a byte starts the next head"
        );
        std::thread::sleep(Duration::from_millis(60));
        assert!(a.overdue(&l).is_some());
    }

    #[test]
    fn room_is_made_only_by_connections_that_never_asked() {
        let mut r = Registry::default();
        let asked = Arc::new(Activity::new());
        drop(asked.begin());
        r.open.insert(0, (asked, Arc::new(Notify::new())));
        assert!(
            !r.make_room(),
            "a keep-alive connection that asked is not closed"
        );
        r.open
            .insert(1, (Arc::new(Activity::new()), Arc::new(Notify::new())));
        r.open
            .insert(2, (Arc::new(Activity::new()), Arc::new(Notify::new())));
        assert!(r.make_room());
        assert!(
            r.open.contains_key(&2) && !r.open.contains_key(&1),
            "the oldest goes"
        );
    }

    #[test]
    fn live_pages_speak_within_the_idle_timeout() {
        let l = Limits::of(&Board::default());
        assert_eq!(l.live_keep_alive(), Duration::from_secs(15));
        assert!(limits().live_keep_alive() < limits().idle_timeout);
    }
}
