//! What both CSV importers share: splitting a big file into chunks rayon parses in
//! parallel, reading fields as UTF-8, and reading times and numbers with messages that say
//! what was expected.
//!
//! A chunk ends at a line break outside quotes (an even number of `"` before it), so a
//! quoted field with a line break in it stays whole; every row keeps its line number in the
//! file for error messages.

use rayon::prelude::*;

use super::{Problem, Progress};

/// Chunks smaller than this are not worth a thread of their own.
const MIN_CHUNK: usize = 1 << 20;

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

/// Parses every row after the header of `bytes` with `parse`, in parallel chunks, and
/// returns what it produced in file order. `parse` is given each row and returns an item,
/// nothing (a row to leave out), or a problem (which stops the parse unless `lenient`,
/// when it is counted in `skipped`).
pub fn parse_rows<T: Send>(
    bytes: &[u8],
    expected_fields: std::ops::RangeInclusive<usize>,
    lenient: bool,
    progress: &Progress,
    parse: impl Fn(&Row<'_>) -> Result<Option<T>, Problem> + Sync,
) -> Result<(Vec<T>, super::Skipped), Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    progress.advance(header_end);
    let body = &bytes[header_end..];
    let chunks = split(body, 2, MIN_CHUNK);
    type Chunk<T> = Result<(Vec<T>, super::Skipped), Problem>;
    let parsed: Vec<Chunk<T>> = chunks
        .par_iter()
        .map(|&(first_line, chunk)| {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(chunk);
            let mut record = csv::ByteRecord::new();
            let mut items = Vec::new();
            let mut skipped = super::Skipped::default();
            let mut reported = 0;
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
                    parse(&Row {
                        line,
                        record: &record,
                    })
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
                match result {
                    Ok(Some(item)) => items.push(item),
                    Ok(None) => {}
                    Err(problem) => skipped.skip_or_fail(lenient, problem)?,
                }
                let at = reader.position().byte() as usize;
                if at - reported > 1 << 18 {
                    progress.advance(at - reported);
                    reported = at;
                }
            }
            progress.advance(chunk.len() - reported);
            Ok((items, skipped))
        })
        .collect();
    let mut items = Vec::new();
    let mut skipped = super::Skipped::default();
    for chunk in parsed {
        let (mut chunk_items, chunk_skipped) = chunk?;
        if items.is_empty() {
            items = chunk_items;
        } else {
            items.append(&mut chunk_items);
        }
        skipped.count += chunk_skipped.count;
        if skipped.first.is_none() {
            skipped.first = chunk_skipped.first;
        }
    }
    Ok((items, skipped))
}

/// Splits `body` (which starts on line `first_line`) into chunks of whole rows, with the
/// line each starts on.
fn split(body: &[u8], first_line: u64, min_chunk: usize) -> Vec<(u64, &[u8])> {
    let threads = rayon::current_num_threads().max(1);
    let target = (body.len() / (threads * 4)).max(min_chunk);
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut line = first_line;
    let mut quotes_even = true;
    let mut i = 0;
    while start < body.len() {
        let goal = start + target;
        if goal >= body.len() {
            chunks.push((line, &body[start..]));
            break;
        }
        // Count quotes up to the goal, then find a line break outside quotes after it.
        let mut newlines = 0u64;
        while i < goal {
            match body[i] {
                b'"' => quotes_even = !quotes_even,
                b'\n' => newlines += 1,
                _ => {}
            }
            i += 1;
        }
        let mut end = None;
        while i < body.len() {
            let b = body[i];
            i += 1;
            match b {
                b'"' => quotes_even = !quotes_even,
                b'\n' => {
                    newlines += 1;
                    if quotes_even {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.unwrap_or(body.len());
        chunks.push((line, &body[start..end]));
        line += newlines;
        start = end;
    }
    chunks
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
        let chunks = split(&body, 2, 4096);
        assert!(chunks.len() > 1);
        let total: usize = chunks.iter().map(|(_, c)| c.len()).sum();
        assert_eq!(total, body.len());
        for (line, chunk) in &chunks {
            let before = body[..chunk.as_ptr() as usize - body.as_ptr() as usize]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            assert_eq!(*line, before + 2);
            let quotes = chunk.iter().filter(|&&b| b == b'"').count();
            assert_eq!(quotes % 2, 0, "a chunk cut a quoted field");
        }
    }
}
