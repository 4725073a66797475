//! The line protocol between poolscope and its worker processes.
//!
//! Parent to child, on the child's stdin: one [`Request`] per line. Child to parent, on its
//! stdout: one [`Reply`] per line. Each line is a JSON object with a `"type"` field, which
//! keeps the protocol readable in a debugger and open to new message kinds, and gives
//! string escaping for free (results and errors may hold any text).
//!
//! Decoding never panics, whatever the bytes: a worker that writes garbage (or dies halfway
//! through a line) produces a [`ProtocolError`], which the parent turns into a failed task.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::model::clock::Timestamp;

/// A message from poolscope to a worker process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Run one task of the worker's workload on `input`.
    Run {
        /// Index of the task in its experiment.
        task: usize,
        /// The task's input.
        input: u64,
    },
}

/// A message from a worker process to poolscope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The worker started and is waiting for tasks.
    Ready {
        /// The worker's process id.
        pid: u32,
        /// The thread that will run tasks.
        tid: u32,
        /// When it became ready.
        at: Timestamp,
    },
    /// The worker began a task.
    Started {
        /// Index of the task.
        task: usize,
        /// The thread running it.
        tid: u32,
        /// When it began.
        at: Timestamp,
    },
    /// The task returned a result.
    Finished {
        /// Index of the task.
        task: usize,
        /// When it ended.
        at: Timestamp,
        /// CPU time of the worker thread during the task, in nanoseconds.
        cpu_ns: u64,
        /// The result text.
        result: String,
    },
    /// The task failed (an error or a panic inside the worker).
    Failed {
        /// Index of the task.
        task: usize,
        /// When it ended.
        at: Timestamp,
        /// CPU time of the worker thread during the task, in nanoseconds.
        cpu_ns: u64,
        /// What went wrong.
        error: String,
    },
}

/// A line that is not a valid message.
#[derive(Debug, thiserror::Error)]
#[error("worker protocol: {reason} in line {line:?}")]
pub struct ProtocolError {
    reason: String,
    line: String,
}

/// The longest line a worker may send (a result or error text fits many times over): a
/// worker writing an endless line is cut off here instead of growing poolscope's memory.
pub const MAX_LINE: usize = 1024 * 1024;

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line (newline included) is in the buffer.
    Line,
    /// The stream ended (nothing, or a line cut short, is in the buffer).
    Eof,
    /// More than `cap` bytes came without a newline; the buffer holds the first `cap + 1`.
    TooLong,
}

/// Reads one line into `line` (cleared first), reading at most `cap + 1` bytes, so a
/// stream without newlines costs bounded memory.
pub fn read_line(
    reader: &mut impl std::io::BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<LineRead> {
    use std::io::{BufRead, Read};
    line.clear();
    reader
        .by_ref()
        .take(cap as u64 + 1)
        .read_until(b'\n', line)?;
    Ok(if line.ends_with(b"\n") {
        LineRead::Line
    } else if line.len() > cap {
        LineRead::TooLong
    } else {
        LineRead::Eof
    })
}

/// One message as a line of JSON, newline included.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(message).expect("protocol messages always serialize");
    line.push(b'\n');
    line
}

/// Parses one line (trailing newline allowed) as a message of type `T`.
pub fn decode<T: DeserializeOwned>(line: &[u8]) -> Result<T, ProtocolError> {
    let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    serde_json::from_slice(trimmed).map_err(|e| ProtocolError {
        reason: e.to_string(),
        line: String::from_utf8_lossy(&trimmed[..trimmed.len().min(200)]).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn replies() -> impl Strategy<Value = Reply> {
        prop_oneof![
            (any::<u32>(), any::<u32>(), any::<u64>()).prop_map(|(pid, tid, at)| Reply::Ready {
                pid,
                tid,
                at: Timestamp(at)
            }),
            (any::<usize>(), any::<u32>(), any::<u64>()).prop_map(|(task, tid, at)| {
                Reply::Started {
                    task,
                    tid,
                    at: Timestamp(at),
                }
            }),
            (any::<usize>(), any::<u64>(), any::<u64>(), any::<String>()).prop_map(
                |(task, at, cpu_ns, result)| Reply::Finished {
                    task,
                    at: Timestamp(at),
                    cpu_ns,
                    result
                }
            ),
            (any::<usize>(), any::<u64>(), any::<u64>(), any::<String>()).prop_map(
                |(task, at, cpu_ns, error)| Reply::Failed {
                    task,
                    at: Timestamp(at),
                    cpu_ns,
                    error
                }
            ),
        ]
    }

    #[test]
    fn a_line_looks_like_this() {
        let line = encode(&Request::Run { task: 3, input: 41 });
        assert_eq!(line, b"{\"type\":\"run\",\"task\":3,\"input\":41}\n");
    }

    proptest! {
        #[test]
        fn replies_round_trip(reply in replies()) {
            let line = encode(&reply);
            prop_assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1, "one message, one line");
            prop_assert_eq!(decode::<Reply>(&line).unwrap(), reply);
        }

        #[test]
        fn requests_round_trip(task in any::<usize>(), input in any::<u64>()) {
            let request = Request::Run { task, input };
            prop_assert_eq!(decode::<Request>(&encode(&request)).unwrap(), request);
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Reply>(&bytes);
            let _ = decode::<Request>(&bytes);
        }

        #[test]
        fn any_stream_reads_in_bounded_lines_and_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
            cap in 1usize..300,
        ) {
            let mut reader = std::io::BufReader::new(&bytes[..]);
            let mut line = Vec::new();
            loop {
                let read = read_line(&mut reader, &mut line, cap).unwrap();
                prop_assert!(line.len() <= cap + 1);
                let _ = decode::<Reply>(&line);
                if read != LineRead::Line {
                    break;
                }
            }
        }

        #[test]
        fn a_cut_line_is_an_error_not_a_panic(reply in replies(), cut in 0usize..64) {
            let line = encode(&reply);
            let cut = cut.min(line.len().saturating_sub(2));
            prop_assert!(decode::<Reply>(&line[..cut]).is_err());
        }
    }
}
