//! The embedded delay server the http workload waits on, so the post's experiment needs no
//! network.
//!
//! It answers `GET /200?sleep=MS` with status 200 and body `200 OK` after MS milliseconds,
//! the httpstat.us form the post used; `/CODE?sleep=MS` answers any status from 200 to 599
//! the same way, which is how tests produce server errors. Waits are timers on a
//! current-thread tokio runtime, so thousands of requests wait at the same time on one
//! thread instead of queueing behind each other.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::sync::oneshot;

/// The longest wait the server agrees to, in ms; a longer ask gets 400.
pub const MAX_SLEEP_MS: u64 = 60_000;

/// What the server tolerates: anyone on the machine can reach it while poolscope runs, so
/// no client may hold it open for nothing or exhaust it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send a whole request head within this long of connecting or of its
    /// last answer (half-sent heads and idle keep-alive connections are dropped after it).
    pub header_timeout: Duration,
    /// The most connections served at once; past it a new one gets 503 and is closed.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            max_connections: 4096,
        }
    }
}

/// How long the accept loop pauses after a failed accept (out of file descriptors, say),
/// so it waits for connections to close instead of spinning a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// The listen backlog: enough for a thousand clients connecting in the same instant.
const LISTEN_BACKLOG: u32 = 4096;
/// What a client past the connection cap gets, at once, before the connection is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: 65\r\n\r\n503 Service Unavailable: too many connections at once; try again\n";
/// How long a connection past the cap may take to take its answer, and then to say it is
/// done reading (so the close is a clean end, not a reset that could lose the answer).
const BUSY_WRITE: Duration = Duration::from_millis(100);
const BUSY_LINGER: Duration = Duration::from_millis(100);

/// A running delay server; dropping it stops the server and joins its thread.
#[derive(Debug)]
pub struct DelayServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DelayServer {
    /// Starts a server on 127.0.0.1 at `port` (0 picks a free ephemeral port).
    pub fn start(port: u16) -> anyhow::Result<DelayServer> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// Starts a server on `addr` in a thread of its own, with the default [`Limits`].
    pub fn start_on(addr: SocketAddr) -> anyhow::Result<DelayServer> {
        Self::start_with(addr, Limits::default())
    }

    /// Starts a server on `addr` with `limits`.
    pub fn start_with(addr: SocketAddr, limits: Limits) -> anyhow::Result<DelayServer> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .context("starting the delay server's runtime")?;
        let listener = runtime
            .block_on(async { listen(addr) })
            .with_context(|| format!("binding the delay server to {addr}"))?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("delay-server".into())
            .spawn(move || runtime.block_on(accept_loop(listener, limits, shutdown_rx)))
            .context("spawning the delay server thread")?;
        Ok(DelayServer {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL template for the http workload: `http://127.0.0.1:PORT/200?sleep={ms}`.
    pub fn url_template(&self) -> String {
        format!("http://{}/200?sleep={{ms}}", self.addr)
    }

    /// Blocks until the server stops (it only stops when dropped, so: forever).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DelayServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    limits: Limits,
    mut shutdown: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    // Out of descriptors (EMFILE) or the like: wait for some to be freed.
                    Err(_) => {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    // Past the cap a connection holds a descriptor only as long as it takes
                    // to say so: no waiting for a request head that may never come.
                    tokio::spawn(turn_away(stream));
                    continue;
                };
                tokio::spawn(async move {
                    let _slot = slot;
                    let mut http = hyper::server::conn::http1::Builder::new();
                    http.timer(TokioTimer::new())
                        .header_read_timeout(limits.header_timeout);
                    let io = TokioIo::new(stream);
                    // A client that hangs up mid-request is its own business.
                    let _ = http.serve_connection(io, service_fn(answer)).await;
                });
            }
        }
    }
}

/// Past the connection cap: 503 at once, then the connection is closed. Whatever request
/// already arrived is read away first (for at most [`BUSY_LINGER`]), so the close reaches
/// the client as an end after the answer rather than as a reset that could lose it.
async fn turn_away(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let answered = tokio::time::timeout(BUSY_WRITE, async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await
    })
    .await;
    if matches!(answered, Ok(Ok(()))) {
        let mut sink = [0u8; 4096];
        let _ = tokio::time::timeout(BUSY_LINGER, async {
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
    }
}

/// What a request asks for: a status and a delay.
#[derive(Debug, PartialEq, Eq)]
struct Ask {
    status: StatusCode,
    sleep: Duration,
}

/// Reads `/CODE?sleep=MS` (sleep optional); otherwise the status and one-line reason to
/// answer with: 404 for another path, 400 for a sleep that is not a whole number of ms
/// from 0 to [`MAX_SLEEP_MS`].
fn parse_ask(path: &str, query: Option<&str>) -> Result<Ask, (StatusCode, String)> {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            "404 Not Found: ask for /200?sleep=MS (any status 200-599, sleep in ms)".to_string(),
        )
    };
    let code: u16 = path
        .strip_prefix('/')
        .and_then(|c| c.parse().ok())
        .ok_or_else(not_found)?;
    let status = StatusCode::from_u16(code)
        .ok()
        .filter(|_| (200..=599).contains(&code))
        .ok_or_else(not_found)?;
    let mut sleep = Duration::ZERO;
    for pair in query.unwrap_or("").split('&') {
        if let Some(ms) = pair.strip_prefix("sleep=") {
            match ms.parse::<u64>() {
                Ok(ms) if ms <= MAX_SLEEP_MS => sleep = Duration::from_millis(ms),
                _ => {
                    return Err((
                        StatusCode::BAD_REQUEST,
                        format!(
                            "400 Bad Request: sleep={ms:.40} must be a whole number of ms from 0 to {MAX_SLEEP_MS}"
                        ),
                    ));
                }
            }
        }
    }
    Ok(Ask { status, sleep })
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let uri = request.uri();
    let ask = match parse_ask(uri.path(), uri.query()) {
        Ok(ask) => ask,
        Err((status, reason)) => return Ok(text_response(status, format!("{reason}\n"))),
    };
    tokio::time::sleep(ask.sleep).await;
    let reason = ask.status.canonical_reason().unwrap_or("");
    let body = format!("{} {}", ask.status.as_u16(), reason);
    Ok(text_response(ask.status, body))
}

fn text_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    #[test]
    fn parses_the_httpstat_form() {
        assert_eq!(
            parse_ask("/200", Some("sleep=1300")),
            Ok(Ask {
                status: StatusCode::OK,
                sleep: Duration::from_millis(1300)
            })
        );
        assert_eq!(parse_ask("/503", None).unwrap().status.as_u16(), 503);
        let status = |path, query| parse_ask(path, query).unwrap_err().0.as_u16();
        assert_eq!(status("/200", Some("sleep=abc")), 400);
        assert_eq!(status("/200", Some("sleep=1.5")), 400);
        assert_eq!(status("/200", Some("sleep=70000")), 400);
        assert_eq!(status("/100", None), 404);
        assert_eq!(status("/foo", None), 404);
        assert!(parse_ask("/200", Some("sleep=60000")).is_ok());
    }

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn answers_200_ok_after_the_delay() {
        let server = DelayServer::start(0).unwrap();
        let start = Instant::now();
        let response = get(server.addr(), "/200?sleep=150");
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.ends_with("\r\n\r\n200 OK"), "{response}");
        assert!(get(server.addr(), "/nope").starts_with("HTTP/1.1 404"));
    }

    fn small_limits(max_connections: usize) -> DelayServer {
        let limits = Limits {
            header_timeout: Duration::from_millis(300),
            max_connections,
        };
        DelayServer::start_with(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), limits).unwrap()
    }

    /// Reads until the server closes the connection; how long that took.
    fn wait_for_close(stream: &mut TcpStream) -> Duration {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let start = Instant::now();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
        start.elapsed()
    }

    #[test]
    fn bad_sleeps_get_400_with_a_reason() {
        let server = DelayServer::start(0).unwrap();
        for path in ["/200?sleep=abc", "/200?sleep=70000", "/200?sleep=-5"] {
            let start = Instant::now();
            let response = get(server.addr(), path);
            assert!(response.starts_with("HTTP/1.1 400"), "{path}: {response}");
            assert!(
                response.contains("whole number of ms from 0 to 60000"),
                "{response}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "answered at once"
            );
        }
    }

    /// A client that never finishes its request head, or stays idle after an answer, is
    /// dropped after the header timeout instead of being held forever.
    #[test]
    fn half_sent_heads_and_idle_clients_are_dropped() {
        let server = small_limits(16);
        let mut half = TcpStream::connect(server.addr()).unwrap();
        half.write_all(b"GET /200 HTTP/1.1\r\nHo").unwrap();
        assert!(wait_for_close(&mut half) < Duration::from_secs(10));

        let mut idle = TcpStream::connect(server.addr()).unwrap();
        idle.write_all(b"GET /200 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut answer = [0u8; 256];
        let n = idle.read(&mut answer).unwrap();
        assert!(String::from_utf8_lossy(&answer[..n]).contains("200 OK"));
        assert!(wait_for_close(&mut idle) < Duration::from_secs(10));
    }

    #[test]
    fn the_busy_answer_says_its_own_length() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
    }

    /// Past the connection cap, a new client gets 503 at once and is closed at once, even
    /// one that sends nothing (it would otherwise keep a descriptor until the header
    /// timeout); the others are unharmed.
    #[test]
    fn past_the_cap_clients_get_503() {
        let server = DelayServer::start_with(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            Limits {
                header_timeout: Duration::from_secs(8),
                max_connections: 2,
            },
        )
        .unwrap();
        let holders: Vec<TcpStream> = (0..2)
            .map(|_| {
                let mut s = TcpStream::connect(server.addr()).unwrap();
                s.write_all(
                    b"GET /200?sleep=2000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
                s
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let response = get(server.addr(), "/200");
        assert!(response.starts_with("HTTP/1.1 503"), "{response}");
        assert!(
            response.ends_with("try again\n"),
            "the whole answer: {response}"
        );
        // A client past the cap that says nothing is answered and let go at once, long
        // before the 8 s a silent client within the cap is given.
        let mut silent = TcpStream::connect(server.addr()).unwrap();
        let start = Instant::now();
        let mut answer = String::new();
        silent
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        silent.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );
        for mut s in holders {
            let mut response = String::new();
            s.read_to_string(&mut response).unwrap();
            assert!(response.ends_with("200 OK"), "{response}");
        }
        assert!(
            get(server.addr(), "/200").starts_with("HTTP/1.1 200"),
            "slots free again"
        );
    }
}
