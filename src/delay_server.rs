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
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// The longest wait the server agrees to (longer asks are cut to this).
const MAX_SLEEP: Duration = Duration::from_secs(600);
/// The listen backlog: enough for a thousand clients connecting in the same instant.
const LISTEN_BACKLOG: u32 = 4096;

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

    /// Starts a server on `addr` in a thread of its own.
    pub fn start_on(addr: SocketAddr) -> anyhow::Result<DelayServer> {
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
            .spawn(move || runtime.block_on(accept_loop(listener, shutdown_rx)))
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

async fn accept_loop(listener: tokio::net::TcpListener, mut shutdown: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(answer);
                    // A client that hangs up mid-request is its own business.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

/// What a request asks for: a status and a delay.
#[derive(Debug, PartialEq, Eq)]
struct Ask {
    status: StatusCode,
    sleep: Duration,
}

/// Reads `/CODE?sleep=MS` (sleep optional). `None` for anything else.
fn parse_ask(path: &str, query: Option<&str>) -> Option<Ask> {
    let code: u16 = path.strip_prefix('/')?.parse().ok()?;
    if !(200..=599).contains(&code) {
        return None;
    }
    let status = StatusCode::from_u16(code).ok()?;
    let mut sleep = Duration::ZERO;
    for pair in query.unwrap_or("").split('&') {
        if let Some(ms) = pair.strip_prefix("sleep=") {
            sleep = Duration::from_millis(ms.parse().ok()?).min(MAX_SLEEP);
        }
    }
    Some(Ask { status, sleep })
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let uri = request.uri();
    let Some(ask) = parse_ask(uri.path(), uri.query()) else {
        let body = "404 Not Found: ask for /200?sleep=MS (any status 200-599, sleep in ms)\n";
        return Ok(text_response(StatusCode::NOT_FOUND, body.to_string()));
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
            Some(Ask {
                status: StatusCode::OK,
                sleep: Duration::from_millis(1300)
            })
        );
        assert_eq!(parse_ask("/503", None).unwrap().status.as_u16(), 503);
        assert_eq!(parse_ask("/200", Some("sleep=x")), None);
        assert_eq!(parse_ask("/100", None), None);
        assert_eq!(parse_ask("/foo", None), None);
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

    /// A thousand requests that each wait 1 s must wait together: one after another they
    /// would take over 16 minutes, so even a very slow machine separates the two.
    #[test]
    fn a_thousand_requests_wait_concurrently() {
        let server = DelayServer::start(0).unwrap();
        let start = Instant::now();
        let mut streams: Vec<TcpStream> = (0..1000)
            .map(|_| {
                let mut s = TcpStream::connect(server.addr()).unwrap();
                write!(
                    s,
                    "GET /200?sleep=1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                s
            })
            .collect();
        for s in &mut streams {
            let mut response = String::new();
            s.read_to_string(&mut response).unwrap();
            assert!(response.ends_with("200 OK"), "{response}");
        }
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_secs(1));
        assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    }
}
