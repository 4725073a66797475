//! Text from outside poolscope as it is shown: shown, never obeyed, and measured in the
//! columns a terminal gives it.
//!
//! Names and fields of files (task, process and thread names, labels, results, errors),
//! file names and paths, URLs and HTTP bodies, a worker's stderr: any of them may hold bytes
//! a terminal acts on — `ESC ] 0 ;` sets the window title, `ESC [ 2 J` clears the screen,
//! OSC 52 writes the clipboard — or Unicode bidi controls that make text read in another
//! order than it is stored ("Trojan Source"). [`safe`] is the one place where such text
//! becomes display text: C0 and C1 controls and DEL become visible forms (`␛` for ESC,
//! `␊` for a line feed, `\u{9b}` for a C1 CSI), and the bidi overrides and isolates
//! (U+202A–U+202E, U+2066–U+2069) become `\u{202e}` and the like. What poolscope writes
//! to files keeps the data as it was; only what is shown goes through here.
//!
//! Widths are terminal columns, not characters: a CJK character or most emoji take two, a
//! combining accent none. [`width`] measures as the screen's painter does (grapheme by
//! grapheme), and [`shorten`] cuts between graphemes, never inside one.

use std::borrow::Cow;
use std::fmt::Write;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Whether `c` must not reach a terminal as it is: a C0 or C1 control, DEL, or a bidi
/// override or isolate.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` made safe to show: every character [`is_unsafe`] replaced by a visible form, and
/// every grapheme that would take no column (a zero-width space, a byte-order mark, an
/// accent with nothing to sit on) written out as `\u{feff}` and the like, so nothing in a
/// name is invisible and every grapheme takes the columns it is counted for. Borrows when
/// there is nothing to replace (the common case).
pub fn safe(text: &str) -> Cow<'_, str> {
    if is_plain(text) {
        return Cow::Borrowed(text);
    }
    if !text
        .chars()
        .any(|c| is_unsafe(c) || UnicodeWidthChar::width(c) == Some(0))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut changed = false;
    for grapheme in text.graphemes(true) {
        if grapheme.chars().any(is_unsafe) {
            changed = true;
            for c in grapheme.chars() {
                match c {
                    // C0 controls have pictures of their own: ␀ … ␟ (one column each).
                    '\0'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�')),
                    '\u{7f}' => out.push('␡'),
                    c if is_unsafe(c) => escape(c, &mut out),
                    c => out.push(c),
                }
            }
        } else if grapheme.width() == 0 {
            changed = true;
            grapheme.chars().for_each(|c| escape(c, &mut out));
        } else {
            out.push_str(grapheme);
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// `\u{202e}`: a character written out by its code point.
fn escape(c: char, out: &mut String) {
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

/// One terminal cell's symbol made safe in one column: a control picture for a C0 control
/// or DEL, `�` for anything else unsafe. (Cells are painted from text that went through
/// [`safe`] already; this is the last check before a cell reaches a terminal.)
pub fn safe_symbol(symbol: &str) -> Cow<'_, str> {
    if !symbol.chars().any(is_unsafe) {
        return Cow::Borrowed(symbol);
    }
    let shown = safe(symbol);
    if width(&shown) == 1 {
        shown
    } else {
        Cow::Borrowed("�")
    }
}

/// Printable ASCII only: safe as it is, a column a byte (most text, checked first).
fn is_plain(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The columns `text` takes once made [`safe`], as the screen's painter counts them.
pub fn width(text: &str) -> usize {
    if is_plain(text) {
        return text.len();
    }
    safe(text).graphemes(true).map(UnicodeWidthStr::width).sum()
}

/// `text` made [`safe`] and cut to at most `max` columns, with `…` where cut (between two
/// graphemes, so never inside a character or before its accents).
pub fn shorten(text: &str, max: usize) -> String {
    let text = safe(text);
    if width(&text) <= max {
        return text.into_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for grapheme in text.graphemes(true) {
        let w = grapheme.width();
        if used + w > max - 1 {
            break;
        }
        out.push_str(grapheme);
        used += w;
    }
    // Never "……" (a text that was shortened already).
    let kept = out.trim_end_matches('…').len();
    out.truncate(kept);
    out.push('…');
    out
}

/// `text` made [`safe`] and padded with spaces to at least `columns` columns (a table cell).
pub fn pad(text: &str, columns: usize) -> String {
    let text = safe(text);
    let w = width(&text);
    let mut out = text.into_owned();
    out.extend(std::iter::repeat_n(' ', columns.saturating_sub(w)));
    out
}

/// `1 run`, `3 runs`: a count with its noun, plural when it is not one (nouns that take an
/// `s`).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn shortening_never_doubles_the_mark() {
        assert_eq!(
            shorten("2272 python3 -c …spawn_main…--fork", 29),
            "2272 python3 -c …spawn_main…"
        );
    }

    #[test]
    fn controls_and_bidi_become_visible() {
        assert_eq!(safe("\x1b]0;PWNED\x07"), "␛]0;PWNED␇");
        assert_eq!(safe("a\x1b[2Jb"), "a␛[2Jb");
        assert_eq!(safe("line\nnext\ttab\r"), "line␊next␉tab␍");
        assert_eq!(safe("del\x7f"), "del␡");
        assert_eq!(safe("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(safe("abc\u{202e}cba\u{2066}x"), "abc\\u{202e}cba\\u{2066}x");
        assert!(matches!(safe("plain fib 38 · 名前 é"), Cow::Borrowed(_)));
        assert_eq!(safe("bom\u{feff}zw\u{200b}"), "bom\\u{feff}zw\\u{200b}");
        assert_eq!(
            safe("\u{301}e\u{301}"),
            "\\u{301}e\u{301}",
            "a lone accent is spelled out"
        );
        assert_eq!(
            safe("👩\u{200d}👩\u{200d}👧"),
            "👩\u{200d}👩\u{200d}👧",
            "one emoji"
        );
        assert!(!safe("\u{1b}\u{85}\u{202a}\u{2069}").chars().any(is_unsafe));
    }

    #[test]
    fn a_cell_stays_one_column() {
        assert_eq!(safe_symbol("\x1b"), "␛");
        assert_eq!(safe_symbol("\u{202e}"), "�");
        assert_eq!(safe_symbol("名"), "名");
    }

    #[test]
    fn widths_are_columns() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("名前"), 4);
        assert_eq!(width("e\u{301}"), 1, "a combining accent takes no column");
        assert_eq!(width("\x1b"), 1, "shown as ␛");
    }

    #[test]
    fn shortening_cuts_between_graphemes() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("名前名前", 5), "名前…");
        assert_eq!(
            shorten("名前名前", 4),
            "名…",
            "a wide character is never split"
        );
        assert_eq!(shorten("ée\u{301}é", 3), "ée\u{301}é");
        assert_eq!(shorten("ée\u{301}éz", 3), "ée\u{301}…");
        assert_eq!(shorten("\x1b]0;x", 3), "␛]…");
        assert_eq!(shorten("abc", 0), "");
        for max in 0..12 {
            assert!(width(&shorten("名a\u{301}前b名c前", max)) <= max);
        }
    }

    #[test]
    fn padding_counts_columns() {
        assert_eq!(pad("名", 4), "名  ");
        assert_eq!(pad("abcdef", 4), "abcdef");
    }
}
