//! What both CSV importers share: reading a file in blocks (it never sits in memory
//! whole), splitting each block into chunks rayon parses in parallel, reading fields as
//! UTF-8, and reading times and numbers with messages that say what was expected.
//!
//! A chunk (and a block) ends at a line break outside quotes (an even number of `"` before
//! it), so a quoted field with a line break in it stays whole; every row keeps its line
//! number in the file for error messages.

use std::io::Read;

use rayon::prelude::*;

use super::{Problem, Progress, Skipped};

/// Chunks smaller than this are not worth a thread of their own.
const MIN_CHUNK: usize = 1 << 20;
/// How much of the file is read at once: what the file costs in memory while it is read.
const BLOCK: usize = 16 << 20;

/// One row: its 1-based line in the file and its fields.
pub struct Row<'a> {
    /// Line of the row's first byte.
    pub line: u64,
    /// The fields, as bytes.
    pub record: &'a csv::ByteRecord,
}

impl Row<'_> {
    /// Field `index` as text; `name` is the column's name for messages.
    pub fn text(&self, index: usize, name: &str) -> Result<&str, Problem> {
        let bytes = self.record.get(index).ok_or_else(|| {
            Problem::at(
                self.line,
                Some(name),
                format!(
                    "missing: the row has {} fields, the header more",
                    self.record.len()
                ),
            )
        })?;
        std::str::from_utf8(bytes).map_err(|e| {
            Problem::at(
                self.line,
                Some(name),
                format!(
                    "invalid UTF-8 at byte {} of the field: expected text",
                    e.valid_up_to() + 1
                ),
            )
        })
    }
}

/// Reads `source` into `buffer` until it holds `want` bytes or the file ends; true at the
/// end of the file.
fn fill(source: &mut dyn Read, buffer: &mut Vec<u8>, want: usize) -> Result<bool, Problem> {
    while buffer.len() < want {
        let start = buffer.len();
        let room = (want - start).max(64 << 10);
        buffer.resize(start + room, 0);
        match source.read(&mut buffer[start..]) {
            Ok(0) => {
                buffer.truncate(start);
                return Ok(true);
            }
            Ok(n) => buffer.truncate(start + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buffer.truncate(start),
            Err(e) => {
                buffer.truncate(start);
                return Err(Problem::whole(format!("cannot read it: {e}")));
            }
        }
    }
    Ok(false)
}

/// Parses every row after the header of `source`, a block at a time, each block in
/// parallel chunks. Each chunk's rows go to `parse` with a state of the chunk's own (its
/// share of the tasks, say), which `take` then receives, chunk by chunk in file order.
/// `parse` returns nothing (a row read or left out) or a problem, which stops the parse
/// unless `lenient`, when it is counted in the skipped rows returned.
pub fn parse_rows<S: Default + Send>(
    source: &mut dyn Read,
    expected_fields: std::ops::RangeInclusive<usize>,
    lenient: bool,
    progress: &Progress,
    parse: impl Fn(&Row<'_>, &mut S) -> Result<(), Problem> + Sync,
    take: impl FnMut(S) -> Result<(), Problem>,
) -> Result<Skipped, Problem> {
    let blocks = Blocks {
        size: BLOCK,
        expected_fields,
        lenient,
    };
    blocks.parse(source, progress, parse, take)
}

/// How a file is parsed: in blocks of `size` bytes, rows of `expected_fields` fields.
struct Blocks {
    size: usize,
    expected_fields: std::ops::RangeInclusive<usize>,
    lenient: bool,
}

impl Blocks {
    fn parse<S: Default + Send>(
        &self,
        source: &mut dyn Read,
        progress: &Progress,
        parse: impl Fn(&Row<'_>, &mut S) -> Result<(), Problem> + Sync,
        mut take: impl FnMut(S) -> Result<(), Problem>,
    ) -> Result<Skipped, Problem> {
        let (expected_fields, lenient) = (&self.expected_fields, self.lenient);
        let mut buffer = Vec::new();
        // The header: everything up to the first line break (after a byte-order mark).
        let mut eof = false;
        let mut header_end = None;
        while header_end.is_none() && !eof {
            let want = buffer.len() + (64 << 10);
            eof = fill(source, &mut buffer, want)?;
            header_end = buffer.iter().position(|&b| b == b'\n').map(|i| i + 1);
        }
        let header_end = header_end.unwrap_or(buffer.len());
        progress.advance(header_end);
        buffer.drain(..header_end);
        let mut skipped = Skipped::default();
        let mut line = 2;
        let mut want = self.size;
        loop {
            if !eof {
                eof = fill(source, &mut buffer, want)?;
            }
            if buffer.is_empty() {
                break;
            }
            let (chunks, consumed, next_line) = split(&buffer, line, MIN_CHUNK, eof);
            if consumed == 0 {
                // No line break outside quotes in a whole block: a field that long is read on.
                want = buffer.len() * 2;
                continue;
            }
            want = self.size;
            let parsed: Vec<Result<(S, Skipped), Problem>> = chunks
                .par_iter()
                .map(|&(first_line, chunk)| {
                    let state = parse_chunk(chunk, first_line, expected_fields, lenient, &parse);
                    progress.advance(chunk.len());
                    state
                })
                .collect();
            for chunk in parsed {
                let (state, chunk_skipped) = chunk?;
                take(state)?;
                skipped.count += chunk_skipped.count;
                if skipped.first.is_none() {
                    skipped.first = chunk_skipped.first;
                }
            }
            line = next_line;
            buffer.drain(..consumed);
        }
        Ok(skipped)
    }
}

/// Parses the rows of one chunk (its first row on `first_line`) into a fresh state.
fn parse_chunk<S: Default>(
    chunk: &[u8],
    first_line: u64,
    expected_fields: &std::ops::RangeInclusive<usize>,
    lenient: bool,
    parse: &(impl Fn(&Row<'_>, &mut S) -> Result<(), Problem> + Sync),
) -> Result<(S, Skipped), Problem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(chunk);
    let mut record = csv::ByteRecord::new();
    let mut state = S::default();
    let mut skipped = Skipped::default();
    loop {
        let line_before = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e
                    .position()
                    .map_or(line_before, |p| p.line())
                    .saturating_sub(1)
                    + first_line;
                skipped.skip_or_fail(
                    lenient,
                    Problem::at(line, None, format!("unreadable CSV: {e}")),
                )?;
                continue;
            }
        }
        let line = record
            .position()
            .map_or(line_before, |p| p.line())
            .saturating_sub(1)
            + first_line;
        // A blank line (a trailing one, say) is no row.
        if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
            continue;
        }
        let result = if expected_fields.contains(&record.len()) {
            parse(
                &Row {
                    line,
                    record: &record,
                },
                &mut state,
            )
        } else {
            Err(Problem::at(
                line,
                None,
                format!(
                    "{} fields where the header has {}: expected {} fields",
                    record.len(),
                    expected_fields.start(),
                    expected_fields.start()
                ),
            ))
        };
        if let Err(problem) = result {
            skipped.skip_or_fail(lenient, problem)?;
        }
    }
    Ok((state, skipped))
}

/// Splits `body` (which starts on line `first_line`) into chunks of whole rows of about
/// `min_chunk` bytes or more, with the line each starts on. At the end of the file the
/// last chunk takes the rest; otherwise the rest after the last line break outside quotes
/// is left for the next block. Returns the chunks, the bytes they cover and the line after.
fn split(
    body: &[u8],
    first_line: u64,
    min_chunk: usize,
    eof: bool,
) -> (Vec<(u64, &[u8])>, usize, u64) {
    let threads = rayon::current_num_threads().max(1);
    let target = (body.len() / (threads * 4)).max(min_chunk);
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut line = first_line;
    let mut newlines = 0u64;
    let mut even = true;
    // The last line break outside quotes since `start`, and the lines up to it.
    let mut last_safe = None;
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'"' => even = !even,
            b'\n' => {
                newlines += 1;
                if even {
                    if i + 1 - start >= target {
                        chunks.push((line, &body[start..=i]));
                        line += newlines;
                        newlines = 0;
                        start = i + 1;
                        last_safe = None;
                    } else {
                        last_safe = Some((i + 1, newlines));
                    }
                }
            }
            _ => {}
        }
    }
    if eof {
        if start < body.len() {
            chunks.push((line, &body[start..]));
            line += newlines;
        }
        return (chunks, body.len(), line);
    }
    if let Some((end, lines)) = last_safe {
        chunks.push((line, &body[start..end]));
        line += lines;
        start = end;
    }
    (chunks, start, line)
}

/// Epoch seconds (`1700000000.123456`, as the post's Python and poolscope write them) as
/// epoch microseconds.
pub fn epoch_micros(text: &str, line: u64, column: &str) -> Result<u64, Problem> {
    let bad = |why: &str| {
        Problem::at(
            line,
            Some(column),
            format!(
                "'{}' {why}: expected seconds since the epoch, like 1700000000.123456",
                crate::model::display::shorten(text, 40)
            ),
        )
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("is empty"));
    }
    // Exact for plain decimals (no float rounding on the way); floats for the rest (1.7e9).
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
    {
        let seconds: u64 = whole.parse().map_err(|_| bad("is too large"))?;
        let mut micros = 0u64;
        for digit in fraction.bytes().chain(std::iter::repeat(b'0')).take(6) {
            micros = micros * 10 + u64::from(digit - b'0');
        }
        let round_up = fraction.as_bytes().get(6).is_some_and(|&d| d >= b'5');
        return seconds
            .checked_mul(1_000_000)
            .and_then(|s| s.checked_add(micros + u64::from(round_up)))
            .ok_or_else(|| bad("is too large"));
    }
    let value: f64 = text.parse().map_err(|_| bad("is not a number"))?;
    if !value.is_finite() {
        return Err(bad("is not a finite number"));
    }
    if value < 0.0 {
        return Err(bad("is negative"));
    }
    let micros = (value * 1e6).round();
    if micros >= u64::MAX as f64 {
        return Err(bad("is too large"));
    }
    Ok(micros as u64)
}

/// Seconds as a duration (`elapsed`, `cpu_time`); empty is `None`.
pub fn seconds(
    text: &str,
    line: u64,
    column: &str,
) -> Result<Option<std::time::Duration>, Problem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(v) if (0.0..1e12).contains(&v) => Ok(Some(std::time::Duration::from_secs_f64(v))),
        _ => Err(Problem::at(
            line,
            Some(column),
            format!(
                "'{}' is not a number of seconds ≥ 0: expected one like 0.25",
                crate::model::display::shorten(text, 40)
            ),
        )),
    }
}

/// A whole number ≥ 0; empty is `None`.
pub fn whole_number<T: std::str::FromStr>(
    text: &str,
    line: u64,
    column: &str,
) -> Result<Option<T>, Problem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<T>().map(Some).map_err(|_| {
        Problem::at(
            line,
            Some(column),
            format!(
                "'{}' is not a whole number ≥ 0: expected one like 41",
                crate::model::display::shorten(text, 40)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_read_exactly_to_the_microsecond() {
        assert_eq!(
            epoch_micros("1700000000.123456", 1, "t").unwrap(),
            1_700_000_000_123_456
        );
        assert_eq!(
            epoch_micros("1700000000.1234567", 1, "t").unwrap(),
            1_700_000_000_123_457
        );
        assert_eq!(
            epoch_micros("1700000000", 1, "t").unwrap(),
            1_700_000_000_000_000
        );
        assert_eq!(
            epoch_micros("1.7e9", 1, "t").unwrap(),
            1_700_000_000_000_000
        );
        assert!(epoch_micros("-1", 1, "t").is_err());
        assert!(epoch_micros("abc", 1, "t").is_err());
        assert!(epoch_micros("", 1, "t").is_err());
        assert!(epoch_micros("99999999999999999999", 1, "t").is_err());
        assert!(epoch_micros("nan", 1, "t").is_err());
    }

    #[test]
    fn chunks_end_outside_quotes_and_keep_line_numbers() {
        let mut body = Vec::new();
        for i in 0..200_000 {
            if i % 1000 == 0 {
                body.extend_from_slice(b"a,\"two\nlines\"\n");
            } else {
                body.extend_from_slice(b"a,b\n");
            }
        }
        let (chunks, consumed, next_line) = split(&body, 2, 4096, true);
        assert!(chunks.len() > 1);
        let total: usize = chunks.iter().map(|(_, c)| c.len()).sum();
        assert_eq!(total, body.len());
        assert_eq!(consumed, body.len());
        assert_eq!(next_line, 2 + 200_000 + 200);
        for (line, chunk) in &chunks {
            let before = body[..chunk.as_ptr() as usize - body.as_ptr() as usize]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            assert_eq!(*line, before + 2);
            let quotes = chunk.iter().filter(|&&b| b == b'"').count();
            assert_eq!(quotes % 2, 0, "a chunk cut a quoted field");
        }
        // Mid-file, the rest after the last whole row waits for the next block.
        let cut = body.len() - 5;
        let (chunks, consumed, _) = split(&body[..cut], 2, 4096, false);
        let total: usize = chunks.iter().map(|(_, c)| c.len()).sum();
        assert_eq!(total, consumed);
        assert_eq!(body[consumed - 1], b'\n');
        assert!(consumed <= cut && cut - consumed < 20);
    }

    /// A file read in blocks gives every row once, in order, with its line, whatever the
    /// block boundaries (a reader that gives a few bytes at a time).
    #[test]
    fn rows_read_in_blocks_keep_their_order_and_lines() {
        struct Dribble<'a>(&'a [u8]);
        impl Read for Dribble<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = out.len().min(self.0.len()).min(7);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut text = String::from("\u{feff}a,b\n");
        for i in 0..1000 {
            text.push_str(&format!("{i},\"x\ny\"\n"));
        }
        let mut rows: Vec<(u64, String)> = Vec::new();
        let blocks = Blocks {
            size: 100,
            expected_fields: 2..=2,
            lenient: false,
        };
        let skipped = blocks
            .parse(
                &mut Dribble(text.as_bytes()),
                &Progress::default(),
                |row, out: &mut Vec<(u64, String)>| {
                    out.push((row.line, row.text(0, "a")?.to_string()));
                    Ok(())
                },
                |chunk| {
                    rows.extend(chunk);
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(skipped.count, 0);
        assert_eq!(rows.len(), 1000);
        for (i, (line, first)) in rows.iter().enumerate() {
            assert_eq!(*first, i.to_string());
            assert_eq!(*line, 2 + 2 * i as u64);
        }
    }
}
