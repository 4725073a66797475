//! The result and error texts of an experiment's tasks, kept end to end in one buffer and
//! referred to by offset: a task stays 32 bytes whatever its result says.

/// Where a text is in [`Texts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TextRef {
    start: u32,
    len: u32,
}

impl TextRef {
    pub(super) const EMPTY: TextRef = TextRef { start: 0, len: 0 };
    /// A text that did not fit ([`Texts::MAX_BYTES`]).
    pub(super) const DROPPED: TextRef = TextRef {
        start: 0,
        len: u32::MAX,
    };
}

/// The result and error texts of an experiment's tasks, end to end in one buffer (a
/// `String` each would cost 24 bytes and a heap allocation of 32 or more per task). Texts
/// met a moment ago (a run's many `slept 0 ms`, fib's few values) are stored once.
#[derive(Debug, Clone, Default)]
pub(super) struct Texts {
    bytes: String,
    /// Recently stored texts by hash: a small direct-mapped cache, so its cost is bounded.
    recent: Vec<(u64, TextRef)>,
}

impl Texts {
    /// Past this many bytes of text, further texts are not kept (offsets are 32-bit).
    const MAX_BYTES: usize = u32::MAX as usize - 1;
    const RECENT: usize = 64;
    const DROPPED_TEXT: &'static str = "(not kept: over 4 GiB of result texts)";

    pub(super) fn add(&mut self, text: &str) -> TextRef {
        if text.is_empty() {
            return TextRef::EMPTY;
        }
        // FNV-1a: short texts, no need for a keyed hash.
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        if self.recent.is_empty() {
            self.recent = vec![(0, TextRef::DROPPED); Self::RECENT];
        }
        let slot = (hash % Self::RECENT as u64) as usize;
        let (seen_hash, seen) = self.recent[slot];
        if seen_hash == hash && seen != TextRef::DROPPED && self.get(seen) == text {
            return seen;
        }
        if self.bytes.len() + text.len() > Self::MAX_BYTES {
            return TextRef::DROPPED;
        }
        let stored = TextRef {
            start: self.bytes.len() as u32,
            len: text.len() as u32,
        };
        self.bytes.push_str(text);
        self.recent[slot] = (hash, stored);
        stored
    }

    pub(super) fn get(&self, text: TextRef) -> &str {
        if text == TextRef::DROPPED {
            return Self::DROPPED_TEXT;
        }
        let start = text.start as usize;
        self.bytes
            .get(start..start + text.len as usize)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_met_again_are_stored_once() {
        let mut texts = Texts::default();
        let a = texts.add("slept 0 ms");
        for _ in 0..1000 {
            assert_eq!(texts.add("slept 0 ms"), a);
        }
        let b = texts.add("other");
        assert_eq!(texts.get(a), "slept 0 ms");
        assert_eq!(texts.get(b), "other");
        assert_eq!(texts.bytes.len(), "slept 0 ms".len() + "other".len());
        assert_eq!(texts.get(TextRef::DROPPED), Texts::DROPPED_TEXT);
    }
}
