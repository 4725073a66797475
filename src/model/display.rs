//! Text as it is shown to the user: cut to a width with a visible mark.

/// At most `max` characters of `text`, with `…` where cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
