//! The GET as a user meets it: whole bodies of any size and kind, broken lengths, stops,
//! against small loopback servers that misbehave on purpose.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::*;
use crate::engine::cancel::{CancelToken, Canceller};
use crate::engine::workload::{CANCELLED, HttpWorkload, Workload, WorkloadRunner};

/// A one-connection server on loopback: reads the request head, hands the socket to
/// `answer`, and gives back the head it read (lowercased) when joined.
fn serve_once(answer: impl FnOnce(TcpStream) + Send + 'static) -> (SocketAddr, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line.to_ascii_lowercase());
        }
        answer(stream);
        head
    });
    (addr, server)
}

fn test_agent() -> ureq::Agent {
    agent(Duration::from_secs(30), false)
}

fn never() -> bool {
    false
}

/// A body of `len` bytes with a Content-Length, written in 64 KiB pieces of `fill`.
fn write_sized(mut stream: TcpStream, len: u64, fill: u8) {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let piece = vec![fill; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(piece.len() as u64) as usize;
        if stream.write_all(&piece[..n]).is_err() {
            return;
        }
        left -= n as u64;
    }
}

#[test]
fn a_100_mb_answer_is_read_to_its_last_byte() {
    const LEN: u64 = 100 * 1024 * 1024;
    let (addr, server) = serve_once(|s| write_sized(s, LEN, b'a'));
    let result = get(&test_agent(), &format!("http://{addr}/big"), &never).unwrap();
    server.join().unwrap();
    assert!(
        result.starts_with("HTTP 200 · 100 MiB (104857600 bytes): aaaa"),
        "{result}"
    );
    assert!(
        result.ends_with('…'),
        "the body went on past the prefix: {result}"
    );
    assert_eq!(
        display::width(&result),
        display::width("HTTP 200 · 100 MiB (104857600 bytes): ") + PREFIX_COLUMNS,
        "the prefix is cut to {PREFIX_COLUMNS} columns"
    );
}

#[test]
fn the_body_is_counted_in_fixed_memory_and_only_a_prefix_is_kept() {
    const LEN: u64 = 300 * 1024 * 1024;
    // A reader that records the largest buffer it was handed: the whole of what a read
    // holds at once. 300 MB of body go through it; nothing grows with them.
    struct Recording<R> {
        inner: R,
        largest: usize,
    }
    impl<R: Read> Read for Recording<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.largest = self.largest.max(buf.len());
            self.inner.read(buf)
        }
    }
    let mut reader = Recording {
        inner: io::repeat(0xff).take(LEN),
        largest: 0,
    };
    let read = read_body(&mut reader, Some(LEN), &never).unwrap();
    assert_eq!(read.bytes, LEN);
    assert_eq!(read.prefix.len(), PREFIX_BYTES);
    assert!(
        read.prefix.capacity() <= 2 * PREFIX_BYTES,
        "{}",
        read.prefix.capacity()
    );
    assert_eq!(reader.largest, CHUNK_BYTES);
}

#[test]
fn binary_bodies_are_fine_and_shown_safely() {
    // A PNG's first bytes: a high byte, CR LF, SUB, NUL; then an escape sequence that would
    // clear a terminal if it reached one.
    let mut body = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    body.extend_from_slice(b"\x1b[2J\x1b]0;title\x07");
    body.extend(std::iter::repeat_n(0u8, 5000));
    let len = body.len();
    let (addr, server) = serve_once(move |mut s| {
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len}\r\n\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).unwrap();
    });
    let result = get(&test_agent(), &format!("http://{addr}/x.png"), &never).unwrap();
    server.join().unwrap();
    assert!(
        result.starts_with(&format!("HTTP 200 · {len} bytes: �PNG")),
        "{result}"
    );
    assert!(result.contains("␚ ␀␀␀ IHDR␛[2J␛]0;title␇␀"), "{result}");
    assert!(!result.chars().any(display::is_unsafe), "{result:?}");
}

#[test]
fn a_content_length_the_server_breaks_is_an_error_that_says_so() {
    let (addr, server) = serve_once(|mut s| {
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            .unwrap();
        s.write_all(&[b'x'; 400]).unwrap();
        // Closed here, 600 bytes short.
    });
    let url = format!("http://{addr}/short");
    let error = get(&test_agent(), &url, &never).unwrap_err();
    server.join().unwrap();
    assert_eq!(
        error,
        GetError::Failed(format!(
            "GET {url}: the server promised 1000 bytes (Content-Length) but closed the \
             connection after 400: the answer is cut short"
        ))
    );
}

#[test]
fn a_length_that_does_not_match_is_caught_whatever_the_reader_says() {
    // A reader that just ends (no error) short of, or past, what was promised.
    let short = read_body(&mut io::repeat(1).take(10), Some(20), &never).unwrap_err();
    assert!(matches!(
        short,
        BodyError::BrokenLength {
            promised: 20,
            got: 10
        }
    ));
    let long = read_body(&mut io::repeat(1).take(30), Some(20), &never).unwrap_err();
    assert_eq!(
        long.to_string(),
        "the server promised 20 bytes (Content-Length) but sent 30"
    );
    assert!(read_body(&mut io::repeat(1).take(20), Some(20), &never).is_ok());
}

#[test]
fn a_chunked_answer_without_a_length_is_read_whole() {
    let (addr, server) = serve_once(|mut s| {
        s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            .unwrap();
        let chunk = vec![b'z'; 50_000];
        for _ in 0..40 {
            s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .unwrap();
            s.write_all(&chunk).unwrap();
            s.write_all(b"\r\n").unwrap();
        }
        s.write_all(b"0\r\n\r\n").unwrap();
    });
    let result = get(&test_agent(), &format!("http://{addr}/chunked"), &never).unwrap();
    server.join().unwrap();
    assert!(
        result.starts_with("HTTP 200 · 1.9 MiB (2000000 bytes): zzz"),
        "{result}"
    );
}

#[test]
fn an_error_status_names_its_size_and_body() {
    let (addr, server) = serve_once(|mut s| {
        s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 8\r\n\r\nbusy\nnow")
            .unwrap();
    });
    let url = format!("http://{addr}/busy");
    let error = get(&test_agent(), &url, &never).unwrap_err();
    server.join().unwrap();
    assert_eq!(
        error,
        GetError::Failed(format!("GET {url}: HTTP 503 · 8 bytes: busy now"))
    );
}

#[test]
fn an_empty_answer_names_its_size_alone() {
    let (addr, server) = serve_once(|mut s| {
        s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
    });
    let result = get(&test_agent(), &format!("http://{addr}/"), &never).unwrap();
    server.join().unwrap();
    assert_eq!(result, "HTTP 204 · 0 bytes");
}

#[test]
fn the_body_is_asked_for_as_stored_as_pythons_urllib_asks() {
    let (addr, server) = serve_once(|s| write_sized(s, 2, b'k'));
    get(&test_agent(), &format!("http://{addr}/"), &never).unwrap();
    let head = server.join().unwrap();
    assert!(head.contains("accept-encoding: identity\r\n"), "{head}");
}

#[test]
fn a_stop_ends_the_download_at_the_next_chunk() {
    let checks = AtomicUsize::new(0);
    let stop = || checks.fetch_add(1, Ordering::Relaxed) >= 3;
    let mut endless = io::repeat(7);
    assert!(matches!(
        read_body(&mut endless, None, &stop),
        Err(BodyError::Stopped)
    ));
    assert_eq!(
        checks.load(Ordering::Relaxed),
        4,
        "three chunks, then the stop"
    );
}

/// A cancel stops a download in flight at once: the task returns `cancelled`, and the
/// download really ends (the server sees its connection closed) rather than going on
/// unread in the background.
#[test]
fn a_cancel_stops_a_download_in_flight() {
    let (closed_tx, closed) = crossbeam_channel::bounded(1);
    let (addr, server) = serve_once(move |mut s| {
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n")
            .unwrap();
        let piece = vec![0u8; 16 * 1024];
        let mut sent = 0u64;
        while s.write_all(&piece).is_ok() {
            sent += piece.len() as u64;
        }
        let _ = closed_tx.send(sent);
    });
    let runner = WorkloadRunner::new(Workload::Http(HttpWorkload {
        url_template: format!("http://{addr}/endless?{{ms}}"),
        timeout_ms: 600_000,
        proxy_from_env: false,
    }));
    let canceller = Canceller::new();
    let token = canceller.token();
    let task = std::thread::spawn(move || runner.run(0, &token));
    std::thread::sleep(Duration::from_millis(300)); // well into the download
    let cancelled_at = Instant::now();
    canceller.cancel();
    assert_eq!(task.join().unwrap(), Err(CANCELLED.to_string()));
    let returned = cancelled_at.elapsed();
    let sent = closed
        .recv_timeout(Duration::from_secs(20))
        .expect("the server saw the download stop");
    let stopped = cancelled_at.elapsed();
    server.join().unwrap();
    eprintln!(
        "task returned {returned:?} and the download stopped {stopped:?} after the cancel ({sent} bytes sent)"
    );
    assert!(returned < Duration::from_secs(5), "{returned:?}");
}

#[test]
fn a_worker_process_reads_the_whole_body_too() {
    // Worker processes run without a cancel token (their parent kills them instead).
    let (addr, server) = serve_once(|s| write_sized(s, 1_000_000, b'w'));
    let runner = WorkloadRunner::new(Workload::Http(HttpWorkload {
        url_template: format!("http://{addr}/{{ms}}"),
        timeout_ms: 30_000,
        proxy_from_env: false,
    }));
    let result = runner.run(5, &CancelToken::never()).unwrap();
    server.join().unwrap();
    assert!(
        result.starts_with("HTTP 200 · 977 KiB (1000000 bytes): www"),
        "{result}"
    );
}

#[test]
fn sizes_read_as_people_read_them() {
    assert_eq!(format_size(0), "0 bytes");
    assert_eq!(format_size(1), "1 byte");
    assert_eq!(format_size(6), "6 bytes");
    assert_eq!(format_size(10 * 1024 - 1), "10239 bytes");
    assert_eq!(format_size(10 * 1024), "10 KiB (10240 bytes)");
    assert_eq!(format_size(15_872), "15.5 KiB (15872 bytes)");
    assert_eq!(format_size(104_857_600), "100 MiB (104857600 bytes)");
    assert_eq!(format_size(2_600_000_000), "2.4 GiB (2600000000 bytes)");
}

#[test]
fn the_prefix_is_one_safe_line_cut_between_characters() {
    assert_eq!(shown_prefix(b" a\n b\t c ", false), "a b c");
    assert_eq!(shown_prefix(b"done", true), "done…");
    // "é" is two bytes; the kept prefix ends after the first: dropped, not shown as �.
    assert_eq!(shown_prefix(b"caf\xc3", true), "caf…");
    assert_eq!(shown_prefix(b"\xff caf\xc3", true), "� caf…");
    // A whole body that ends mid-character is shown as it is: it really is broken.
    assert_eq!(shown_prefix(b"caf\xc3", false), "caf�");
    let long = "x".repeat(PREFIX_BYTES);
    let shown = shown_prefix(long.as_bytes(), false);
    assert_eq!(display::width(&shown), PREFIX_COLUMNS);
    assert!(shown.ends_with('…'));
    // Wide characters count as the two columns they take: 99 of them and the `…`.
    let wide = "漢".repeat(300);
    let shown = shown_prefix(wide.as_bytes(), false);
    assert_eq!(shown, format!("{}…", "漢".repeat(99)));
}

/// A thread pool's download is read on a helper thread (so a cancel returns at once); its
/// CPU time is charged to the task all the same, as a worker process's is.
#[test]
fn a_helper_threads_download_is_charged_to_the_task() {
    let (addr, server) = serve_once(|s| write_sized(s, 50 * 1024 * 1024, b'c'));
    let runner = WorkloadRunner::new(Workload::Http(HttpWorkload {
        url_template: format!("http://{addr}/{{ms}}"),
        timeout_ms: 60_000,
        proxy_from_env: false,
    }));
    let canceller = Canceller::new(); // a token that can fire: the helper-thread path
    crate::engine::workload::take_helper_cpu_time();
    let result = runner.run(1, &canceller.token()).unwrap();
    server.join().unwrap();
    assert!(result.starts_with("HTTP 200 · 50 MiB"), "{result}");
    let charged = crate::engine::workload::take_helper_cpu_time();
    assert!(
        charged > Duration::ZERO,
        "the helper's CPU is charged: {charged:?}"
    );
    assert_eq!(
        crate::engine::workload::take_helper_cpu_time(),
        Duration::ZERO,
        "once"
    );
}
