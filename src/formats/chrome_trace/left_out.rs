//! The events of a trace that are not tasks (other phases, events without one, the `{}`
//! that ends many writers' arrays), counted by kind for one note, as Perfetto skips them.

use std::collections::HashMap;

/// Kinds of events left out (not tasks), by kind; a hostile file's endless kinds are
/// lumped together past a few dozen.
#[derive(Default)]
pub(super) struct LeftOut {
    counts: HashMap<String, usize>,
    others: usize,
}

impl LeftOut {
    const KINDS: usize = 32;

    pub(super) fn add(&mut self, kind: &str, n: usize) {
        if n == 0 {
            return;
        }
        if let Some(count) = self.counts.get_mut(kind) {
            *count += n;
        } else if self.counts.len() < Self::KINDS {
            self.counts.insert(kind.to_string(), n);
        } else {
            self.others += n;
        }
    }

    /// One note for all of them, if any.
    pub(super) fn note(&self) -> Option<String> {
        let total = self.counts.values().sum::<usize>() + self.others;
        if total == 0 {
            return None;
        }
        let mut kinds: Vec<(&String, &usize)> = self.counts.iter().collect();
        kinds.sort();
        let mut list: Vec<String> = kinds
            .into_iter()
            .map(|(kind, n)| match kind.as_str() {
                EMPTY | NO_PHASE => format!("{n} {kind}"),
                _ => format!("{n} \"{}\"", crate::model::display::shorten(kind, 24)),
            })
            .collect();
        if self.others > 0 {
            list.push(format!("{} of other kinds", self.others));
        }
        Some(format!(
            "left out {total} event{} that are not tasks ({})",
            if total == 1 { "" } else { "s" },
            list.join(", ")
        ))
    }
}

pub(super) const EMPTY: &str = "empty ({})";
pub(super) const NO_PHASE: &str = "without \"ph\"";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_note_counts_every_kind_and_lumps_endless_kinds() {
        let mut left_out = LeftOut::default();
        assert_eq!(left_out.note(), None);
        left_out.add("i", 2);
        left_out.add(EMPTY, 1);
        left_out.add(NO_PHASE, 1);
        assert_eq!(
            left_out.note().unwrap(),
            "left out 4 events that are not tasks (1 empty ({}), 2 \"i\", 1 without \"ph\")"
        );
        for kind in 0..100 {
            left_out.add(&format!("k{kind}"), 1);
        }
        assert_eq!(left_out.counts.len(), LeftOut::KINDS);
        assert!(left_out.note().unwrap().starts_with("left out 104 events"));
    }
}
