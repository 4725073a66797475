//! Finding a trace's events in a stream of bytes, a block at a time, so a trace of a
//! million events never sits in memory whole.
//!
//! The scanner knows only JSON's outline: the top level (`[ … ]`, or `{ "traceEvents":
//! [ … ], "otherData": … }` with keys in any order), and where each event of the array
//! starts and ends (strings and nesting respected). Each event is handed over as its bytes
//! with its line and column in the file, in batches that are parsed in parallel; what is
//! malformed inside an event is serde's to find. Lines and columns are counted as the
//! scanner goes, so a problem anywhere costs nothing to place.

use std::io::Read;

use super::Problem;

/// One event of the array: where it starts in the file, and its bytes.
pub(super) struct Element<'a> {
    /// 1-based line of its first byte.
    pub line: u64,
    /// 1-based column (in bytes) of its first byte.
    pub column: u64,
    /// Its JSON text.
    pub bytes: &'a [u8],
}

/// What the scanner found besides the events.
#[derive(Debug, Default)]
pub(super) struct Outline {
    /// The top-level `otherData` value's text, when there is one.
    pub other_data: Option<Vec<u8>>,
    /// The bare-array form ended without its `]` (allowed by the format: a trace cut short).
    pub cut_short: bool,
}

/// How a value's extent reads so far.
enum Extent {
    /// It ends before `end`, with `newlines` line breaks inside, the last at `last_newline`
    /// (so lines and columns move on without a second look at its bytes).
    Complete {
        end: usize,
        newlines: u64,
        last_newline: Option<usize>,
    },
    /// The bytes end first.
    Incomplete,
}

/// Where a JSON value starting at `buf[start]` ends: strings (with escapes) and nesting are
/// followed; brackets are only counted, serde checks they match.
fn value_end(buf: &[u8], start: usize, eof: bool) -> Extent {
    let mut i = start;
    let mut newlines = 0;
    let mut last_newline = None;
    let complete = |end, newlines, last_newline| Extent::Complete {
        end,
        newlines,
        last_newline,
    };
    match buf[start] {
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut in_string = false;
            while i < buf.len() {
                let b = buf[i];
                if in_string {
                    match b {
                        b'\\' => i += 1,
                        b'"' => in_string = false,
                        b'\n' => {
                            newlines += 1;
                            last_newline = Some(i);
                        }
                        _ => {}
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return complete(i + 1, newlines, last_newline);
                            }
                        }
                        b'\n' => {
                            newlines += 1;
                            last_newline = Some(i);
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            Extent::Incomplete
        }
        b'"' => {
            i += 1;
            while i < buf.len() {
                match buf[i] {
                    b'\\' => i += 1,
                    b'"' => return complete(i + 1, newlines, last_newline),
                    b'\n' => {
                        newlines += 1;
                        last_newline = Some(i);
                    }
                    _ => {}
                }
                i += 1;
            }
            Extent::Incomplete
        }
        _ => {
            while i < buf.len() {
                if matches!(buf[i], b',' | b']' | b'}') || buf[i].is_ascii_whitespace() {
                    return complete(i, 0, None);
                }
                i += 1;
            }
            if eof {
                complete(i, 0, None)
            } else {
                Extent::Incomplete
            }
        }
    }
}

/// The stream, a window of it in memory, and where the scanner is.
struct Cursor<'s> {
    source: &'s mut dyn Read,
    buf: Vec<u8>,
    /// The next byte to look at, in `buf`.
    pos: usize,
    eof: bool,
    line: u64,
    column: u64,
    /// The value last measured: its end, line breaks and last line break.
    seen: Option<(usize, u64, Option<usize>)>,
}

/// What a read asks for at least, so a long value is not re-scanned for every few bytes.
const READ: usize = 1 << 20;

impl Cursor<'_> {
    /// Reads at least `more` bytes more (fewer at the end of the file).
    fn fill(&mut self, more: usize) -> Result<(), Problem> {
        let target = self.buf.len() + more.max(READ);
        while self.buf.len() < target && !self.eof {
            let start = self.buf.len();
            self.buf.resize(target, 0);
            match self.source.read(&mut self.buf[start..]) {
                Ok(0) => {
                    self.buf.truncate(start);
                    self.eof = true;
                }
                Ok(n) => self.buf.truncate(start + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.buf.truncate(start),
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(Problem::whole(format!("cannot read it: {e}")));
                }
            }
        }
        Ok(())
    }

    fn peek(&mut self) -> Result<Option<u8>, Problem> {
        if self.pos >= self.buf.len() && !self.eof {
            self.fill(READ)?;
        }
        Ok(self.buf.get(self.pos).copied())
    }

    /// Moves past `n` bytes, counting lines and columns (at once, over a value just
    /// measured).
    fn advance(&mut self, n: usize) {
        if let Some((end, newlines, last_newline)) = self.seen.take()
            && end == self.pos + n
        {
            self.line += newlines;
            self.column = match last_newline {
                Some(at) => (end - at) as u64,
                None => self.column + n as u64,
            };
            self.pos = end;
            return;
        }
        for &b in &self.buf[self.pos..self.pos + n] {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.pos += n;
    }

    fn skip_whitespace(&mut self) -> Result<(), Problem> {
        while let Some(b) = self.peek()? {
            if !b.is_ascii_whitespace() {
                break;
            }
            self.advance(1);
        }
        Ok(())
    }

    /// The end (an index into `buf`) of the value starting here, reading as far as needed;
    /// `None` if the file ends inside it.
    fn value_end(&mut self) -> Result<Option<usize>, Problem> {
        loop {
            match value_end(&self.buf, self.pos, self.eof) {
                Extent::Complete {
                    end,
                    newlines,
                    last_newline,
                } => {
                    self.seen = Some((end, newlines, last_newline));
                    return Ok(Some(end));
                }
                Extent::Incomplete if self.eof => return Ok(None),
                // Doubling: a long value is scanned a few times, not once per read.
                Extent::Incomplete => self.fill(self.buf.len() - self.pos)?,
            }
        }
    }

    /// Forgets the bytes before the scanner: nothing points into them any more.
    fn compact(&mut self) {
        self.buf.drain(..self.pos);
        self.pos = 0;
        self.seen = None;
    }

    /// A problem here.
    fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(self.line),
            column: Some(self.column.to_string()),
            message: message.into(),
        }
    }
}

/// An event found and not yet handed over: its place in `buf`, line and column.
struct Found {
    start: usize,
    end: usize,
    line: u64,
    column: u64,
}

/// Scans `source` (a Chrome trace, after any byte-order mark), handing its events to
/// `batch` in file order, about `batch_bytes` at a time; returns what else it found.
pub(super) fn scan(
    source: &mut dyn Read,
    batch_bytes: usize,
    mut batch: impl FnMut(&[Element<'_>]) -> Result<(), Problem>,
) -> Result<Outline, Problem> {
    let mut cursor = Cursor {
        source,
        buf: Vec::new(),
        pos: 0,
        eof: false,
        line: 1,
        column: 1,
        seen: None,
    };
    cursor.fill(READ)?;
    if cursor.buf.starts_with(b"\xEF\xBB\xBF") {
        cursor.pos = 3; // the byte-order mark is not a column
    }
    cursor.skip_whitespace()?;
    let mut outline = Outline::default();
    match cursor.peek()? {
        Some(b'[') => {
            cursor.advance(1);
            outline.cut_short = !events(&mut cursor, batch_bytes, &mut batch)?;
        }
        Some(b'{') => {
            cursor.advance(1);
            object(&mut cursor, batch_bytes, &mut batch, &mut outline)?;
        }
        _ => {
            return Err(cursor.problem(
                "not valid JSON: expected a Chrome trace, an object with \"traceEvents\" or an array of events",
            ));
        }
    }
    cursor.skip_whitespace()?;
    if cursor.peek()?.is_some() {
        return Err(cursor.problem(
            "not valid JSON: trailing characters after the trace: expected the end of the file",
        ));
    }
    Ok(outline)
}

/// The members of the top-level object (its `{` read): events from `traceEvents`, the
/// text of `otherData`, the rest skipped.
fn object(
    cursor: &mut Cursor<'_>,
    batch_bytes: usize,
    batch: &mut impl FnMut(&[Element<'_>]) -> Result<(), Problem>,
    outline: &mut Outline,
) -> Result<(), Problem> {
    let cut = |cursor: &Cursor<'_>| {
        cursor.problem("not valid JSON: the file ends inside the trace object (cut short?)")
    };
    let mut saw_events = false;
    cursor.skip_whitespace()?;
    if cursor.peek()? == Some(b'}') {
        cursor.advance(1);
    } else {
        loop {
            if cursor.peek()? != Some(b'"') {
                return Err(cursor.problem("not valid JSON: expected a key in quotes"));
            }
            let Some(end) = cursor.value_end()? else {
                return Err(cut(cursor));
            };
            let key: String = serde_json::from_slice(&cursor.buf[cursor.pos..end])
                .map_err(|e| cursor.problem(format!("not valid JSON: a bad key ({e})")))?;
            cursor.advance(end - cursor.pos);
            cursor.skip_whitespace()?;
            if cursor.peek()? != Some(b':') {
                return Err(cursor.problem("not valid JSON: expected ':' after a key"));
            }
            cursor.advance(1);
            cursor.skip_whitespace()?;
            match cursor.peek()? {
                None => return Err(cut(cursor)),
                Some(b'[') if key == "traceEvents" => {
                    cursor.advance(1);
                    if !events(cursor, batch_bytes, batch)? {
                        return Err(cut(cursor));
                    }
                    saw_events = true;
                }
                Some(_) if key == "traceEvents" => {
                    return Err(cursor
                        .problem("\"traceEvents\" is not an array: expected [ {\"ph\": …}, … ]"));
                }
                Some(_) => {
                    let Some(end) = cursor.value_end()? else {
                        return Err(cut(cursor));
                    };
                    if key == "otherData" {
                        outline.other_data = Some(cursor.buf[cursor.pos..end].to_vec());
                    }
                    cursor.advance(end - cursor.pos);
                    cursor.compact();
                }
            }
            cursor.skip_whitespace()?;
            match cursor.peek()? {
                Some(b',') => {
                    cursor.advance(1);
                    cursor.skip_whitespace()?;
                }
                Some(b'}') => {
                    cursor.advance(1);
                    break;
                }
                None => return Err(cut(cursor)),
                Some(_) => {
                    return Err(cursor.problem("not valid JSON: expected ',' or '}' after a value"));
                }
            }
        }
    }
    if !saw_events {
        return Err(Problem::at(
            1,
            None,
            "a JSON object without \"traceEvents\": expected a Chrome trace",
        ));
    }
    Ok(())
}

/// The events of an array (its `[` read), in batches; false if the file ends before its
/// `]` (what is there is read; an event cut in the middle is left out).
fn events(
    cursor: &mut Cursor<'_>,
    batch_bytes: usize,
    batch: &mut impl FnMut(&[Element<'_>]) -> Result<(), Problem>,
) -> Result<bool, Problem> {
    let mut found: Vec<Found> = Vec::new();
    let mut pending = 0usize;
    let mut hand_over = |cursor: &mut Cursor<'_>, found: &mut Vec<Found>| {
        let elements: Vec<Element<'_>> = found
            .iter()
            .map(|f| Element {
                line: f.line,
                column: f.column,
                bytes: &cursor.buf[f.start..f.end],
            })
            .collect();
        let done = batch(&elements);
        found.clear();
        cursor.compact();
        done
    };
    let closed = loop {
        cursor.skip_whitespace()?;
        match cursor.peek()? {
            None => break false,
            Some(b']') => {
                cursor.advance(1);
                break true;
            }
            Some(b',') => {
                return Err(cursor.problem("not valid JSON: expected an event, found ','"));
            }
            Some(_) => {}
        }
        let (line, column) = (cursor.line, cursor.column);
        let Some(end) = cursor.value_end()? else {
            // Cut inside its last event: what is left of it is dropped.
            cursor.advance(cursor.buf.len() - cursor.pos);
            break false;
        };
        found.push(Found {
            start: cursor.pos,
            end,
            line,
            column,
        });
        pending += end - cursor.pos;
        cursor.advance(end - cursor.pos);
        cursor.skip_whitespace()?;
        match cursor.peek()? {
            Some(b',') => {
                // A comma before the `]` too: some writers leave one.
                cursor.advance(1);
            }
            Some(b']') => {
                cursor.advance(1);
                break true;
            }
            None => break false,
            Some(_) => {
                return Err(cursor.problem("not valid JSON: expected ',' or ']' after an event"));
            }
        }
        if pending >= batch_bytes {
            hand_over(cursor, &mut found)?;
            pending = 0;
        }
    };
    hand_over(cursor, &mut found)?;
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives a few bytes at a time, so values straddle every boundary.
    struct Dribble<'a>(&'a [u8]);
    impl Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(self.0.len()).min(5);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Each event's line, column and text.
    type Seen = Vec<(u64, u64, String)>;

    fn scan_all(text: &str) -> Result<(Seen, Outline), Problem> {
        let mut seen = Vec::new();
        let outline = scan(&mut Dribble(text.as_bytes()), 16, |batch| {
            for e in batch {
                seen.push((
                    e.line,
                    e.column,
                    String::from_utf8_lossy(e.bytes).into_owned(),
                ));
            }
            Ok(())
        })?;
        Ok((seen, outline))
    }

    #[test]
    fn events_come_with_their_lines_and_columns_in_order() {
        let text = "\u{feff}{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n  {\"a\": \"]}\\\"\"},\n{\"b\": [1, {}]}, {}\n],\n\"otherData\": {\"x\": [1]}}\n";
        let (seen, outline) = scan_all(text).unwrap();
        assert_eq!(
            seen,
            [
                (2, 3, "{\"a\": \"]}\\\"\"}".to_string()),
                (3, 1, "{\"b\": [1, {}]}".to_string()),
                (3, 17, "{}".to_string())
            ]
        );
        assert_eq!(outline.other_data.as_deref(), Some(&b"{\"x\": [1]}"[..]));
        assert!(!outline.cut_short);
    }

    #[test]
    fn a_bare_array_may_end_early_or_with_a_comma() {
        let (seen, outline) = scan_all("[{\"a\":1},{\"b\":2},\n").unwrap();
        assert_eq!(seen.len(), 2);
        assert!(outline.cut_short);
        let (seen, outline) = scan_all("[{\"a\":1},{\"b\":2},{\"c\":").unwrap();
        assert_eq!(seen.len(), 2, "the event cut in the middle is left out");
        assert!(outline.cut_short);
        let (seen, outline) = scan_all("[{\"a\":1},\n]").unwrap();
        assert_eq!(seen.len(), 1);
        assert!(!outline.cut_short);
    }

    #[test]
    fn a_broken_outline_is_placed() {
        let problem = scan_all("{\"traceEvents\": [{}]} x").unwrap_err();
        assert_eq!(
            (problem.line, problem.column.as_deref()),
            (Some(1), Some("23"))
        );
        assert!(problem.message.contains("trailing characters"));
        let problem = scan_all("{\"events\": []}").unwrap_err();
        assert!(problem.message.contains("without \"traceEvents\""));
        let problem = scan_all("{\"traceEvents\": [{}, ").unwrap_err();
        assert!(problem.message.contains("cut short"));
        let problem = scan_all("{\"traceEvents\": 5}").unwrap_err();
        assert!(problem.message.contains("not an array"));
    }
}
