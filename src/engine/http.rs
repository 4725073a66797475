//! One HTTP GET, read as the post's `urlopen(url).read()` reads it: the whole answer, to
//! its last byte, so a task's time covers the download and not only the first bytes.
//!
//! The body is streamed through a fixed buffer and counted; only a short prefix is kept,
//! for the result column and the inspector, so memory stays flat whatever the size of the
//! answer (a 100 MB body is read in the same few hundred KiB as a 6-byte one). Bodies need
//! not be text: the prefix is decoded lossily and made [`safe`](crate::model::display::safe)
//! to show, so an image, an archive or a compressed file is a task like any other.
//!
//! A server that promises a `Content-Length` and closes the connection before sending it
//! fails the task with a message that says so, rather than a bare "peer disconnected".

use std::io::{self, Read};
use std::time::Duration;

use crate::model::display;

/// How many bytes of a body are kept to show (the rest is counted and dropped). Enough for
/// [`PREFIX_COLUMNS`] columns of text once whitespace runs are collapsed.
pub const PREFIX_BYTES: usize = 1024;

/// How many terminal columns of the body the result shows.
pub const PREFIX_COLUMNS: usize = 200;

/// The read buffer: large enough that a fast loopback download is not syscall-bound,
/// small enough to be the whole of the memory a download costs.
const CHUNK_BYTES: usize = 64 * 1024;

/// An HTTP agent configured as the post's client behaves: `timeout` is the connect timeout
/// and the whole request's (headers and body), 4xx/5xx are answers (the task decides), and
/// the body is asked for as it is stored (`Accept-Encoding: identity`, as Python's urllib
/// sends), so the bytes counted are the bytes the server sent.
pub fn agent(timeout: Duration, proxy_from_env: bool) -> ureq::Agent {
    let timeout = Some(timeout);
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(timeout)
        .timeout_global(timeout)
        .http_status_as_error(false)
        .accept_encoding("identity");
    if !proxy_from_env {
        config = config.proxy(None);
    }
    config.build().into()
}

/// GETs `url` and reads the whole answer; a 2xx gives `HTTP 200 · 6 bytes: 200 OK` (status,
/// size, then the body's prefix), anything else an error naming the URL.
///
/// `stop` is asked between chunks of the body; once it says so the download stops (the
/// connection is dropped) and the answer is [`GetError::Stopped`].
pub fn get(agent: &ureq::Agent, url: &str, stop: &dyn Fn() -> bool) -> Result<String, GetError> {
    let response = agent
        .get(url)
        .call()
        .map_err(|e| GetError::Failed(format!("GET {url}: {e}")))?;
    let status = response.status().as_u16();
    // A Content-Length describes the bytes on the wire; a body the client decodes
    // (Content-Encoding, sent although identity was asked for) has another length.
    let encoded = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    let promised = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|_| !encoded);
    let mut body = response.into_body();
    let read = read_body(&mut body.as_reader(), promised, stop).map_err(|e| match e {
        BodyError::Stopped => GetError::Stopped,
        e => GetError::Failed(format!("GET {url}: {e}")),
    })?;
    let answer = format!("HTTP {status} · {}", read.describe());
    if (200..300).contains(&status) {
        Ok(answer)
    } else {
        Err(GetError::Failed(format!("GET {url}: {answer}")))
    }
}

/// Why [`get`] gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetError {
    /// Its `stop` check ended the download.
    Stopped,
    /// The request failed; the text names the URL and says why (the task's error column).
    Failed(String),
}

/// A body read to its end: how long it was and how it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRead {
    /// Every byte of the body, counted.
    pub bytes: u64,
    /// Its first [`PREFIX_BYTES`] at most.
    pub prefix: Vec<u8>,
}

impl BodyRead {
    /// `6 bytes: 200 OK`, `100 MiB (104857600 bytes): …`: the size, then the prefix shown
    /// on one line, lossily decoded and made safe, `…` where the body went on.
    pub fn describe(&self) -> String {
        let size = format_size(self.bytes);
        let shown = shown_prefix(&self.prefix, self.bytes > self.prefix.len() as u64);
        if shown.is_empty() {
            size
        } else {
            format!("{size}: {shown}")
        }
    }
}

/// Why a body could not be read to its end.
#[derive(Debug)]
pub enum BodyError {
    /// The `stop` check said so.
    Stopped,
    /// The connection ended after `got` bytes of the `promised` Content-Length.
    BrokenLength { promised: u64, got: u64 },
    /// Reading failed after `got` bytes (a timeout, a reset, a broken chunked encoding).
    Read {
        got: u64,
        promised: Option<u64>,
        error: io::Error,
    },
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Stopped => f.write_str("stopped"),
            BodyError::BrokenLength { promised, got } if got < promised => write!(
                f,
                "the server promised {promised} bytes (Content-Length) but closed the \
                 connection after {got}: the answer is cut short"
            ),
            BodyError::BrokenLength { promised, got } => write!(
                f,
                "the server promised {promised} bytes (Content-Length) but sent {got}"
            ),
            BodyError::Read {
                got,
                promised: Some(promised),
                error,
            } => write!(
                f,
                "reading the body failed after {got} of the {promised} bytes promised: {error}"
            ),
            BodyError::Read {
                got,
                promised: None,
                error,
            } => write!(f, "reading the body failed after {got} bytes: {error}"),
        }
    }
}

/// Reads `reader` to its end in fixed chunks, counting every byte and keeping the first
/// [`PREFIX_BYTES`]; memory does not grow with the body. `promised` is the Content-Length,
/// if the server gave one: an end before it (or a body past it) is a [`BodyError::BrokenLength`].
pub fn read_body(
    reader: &mut dyn Read,
    promised: Option<u64>,
    stop: &dyn Fn() -> bool,
) -> Result<BodyRead, BodyError> {
    let mut chunk = vec![0u8; CHUNK_BYTES];
    let mut read = BodyRead {
        bytes: 0,
        prefix: Vec::new(),
    };
    loop {
        if stop() {
            return Err(BodyError::Stopped);
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                let got = read.bytes;
                let disconnected = matches!(
                    error.kind(),
                    io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                );
                return Err(match promised {
                    Some(promised) if disconnected && got < promised => {
                        BodyError::BrokenLength { promised, got }
                    }
                    _ => BodyError::Read {
                        got,
                        promised,
                        error,
                    },
                });
            }
        };
        let room = PREFIX_BYTES - read.prefix.len();
        read.prefix.extend_from_slice(&chunk[..n.min(room)]);
        read.bytes += n as u64;
    }
    match promised {
        Some(promised) if promised != read.bytes => Err(BodyError::BrokenLength {
            promised,
            got: read.bytes,
        }),
        _ => Ok(read),
    }
}

/// `prefix` as one line of display text: decoded lossily (a character cut by the end of the
/// prefix is dropped, not shown as `�`), whitespace runs collapsed to one space, made
/// [`display::safe`] and cut to [`PREFIX_COLUMNS`] columns; `…` ends it where the body
/// `went_on` past what is shown.
pub fn shown_prefix(prefix: &[u8], went_on: bool) -> String {
    let whole = if went_on {
        &prefix[..complete_utf8_len(prefix)]
    } else {
        prefix
    };
    let text = String::from_utf8_lossy(whole);
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown = display::shorten(&joined, PREFIX_COLUMNS);
    if went_on && !shown.ends_with('…') {
        format!("{shown}…")
    } else {
        shown
    }
}

/// The length of `bytes` without a UTF-8 sequence that its end cuts in two (at most 3
/// bytes dropped; invalid bytes elsewhere are left for the lossy decoding).
fn complete_utf8_len(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        // `error_len() == None`: the input ended inside a character that was valid so far.
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => {
            // Invalid bytes earlier on: look only at the last few for a cut sequence.
            let tail_start = bytes.len().saturating_sub(3);
            (tail_start..bytes.len())
                .find(|&i| {
                    let lead = bytes[i];
                    let needs = match lead {
                        0xC0..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        0xF0..=0xF7 => 4,
                        _ => return false,
                    };
                    bytes.len() - i < needs
                })
                .unwrap_or(bytes.len())
        }
    }
}

/// A byte count as people read it: exact below 10 KiB (`6 bytes`, `1 byte`), else in
/// binary units with the exact count beside (`100 MiB (104857600 bytes)`), so the figure is
/// both readable and checkable against the server's.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes == 1 {
        return "1 byte".into();
    }
    if bytes < 10 * 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let figure = if value >= 100.0 || value.fract() < 0.05 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    format!("{figure} {} ({bytes} bytes)", UNITS[unit])
}

#[cfg(test)]
mod tests;
