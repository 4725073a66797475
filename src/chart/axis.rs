//! Time-axis ticks at "nice" steps (1, 2, 5 × 10ⁿ seconds) and their labels.

use std::time::Duration;

/// One tick: where it sits (columns from the bar area's left edge) and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// Column offset of the tick.
    pub column: u16,
    /// `0`, `0.2s`, `1.5s`, `250ms`, …
    pub label: String,
}

/// The smallest number of columns between two tick labels.
const MIN_TICK_SPACING: u16 = 9;

/// The nice step for a window of `length` seconds over `columns` cells: the smallest
/// 1-2-5 step that leaves at least `MIN_TICK_SPACING` (9) columns between ticks.
pub fn nice_step(length: f64, columns: u16) -> f64 {
    let max_ticks = (columns / MIN_TICK_SPACING).max(1) as f64;
    let raw = length / max_ticks;
    let magnitude = 10f64.powf(raw.log10().floor());
    for multiple in [1.0, 2.0, 5.0, 10.0] {
        let step = multiple * magnitude;
        if step >= raw {
            return step;
        }
    }
    10.0 * magnitude
}

/// Ticks for a window starting `offset` seconds after the axis origin, `length` seconds
/// long, drawn over `columns` cells.
pub fn ticks(offset: Duration, length: Duration, columns: u16) -> Vec<Tick> {
    let (offset, length) = (offset.as_secs_f64(), length.as_secs_f64());
    if columns == 0 || length <= 0.0 {
        return Vec::new();
    }
    let step = nice_step(length, columns);
    let first = (offset / step).ceil() as i64;
    let mut ticks = Vec::new();
    for k in first.. {
        let t = k as f64 * step;
        if t > offset + length {
            break;
        }
        let column = ((t - offset) / length * f64::from(columns)).round() as u16;
        if column >= columns {
            break;
        }
        ticks.push(Tick {
            column,
            label: label(t, step),
        });
    }
    ticks
}

/// A clock that is still running: tenths of a second, so its digits move ten times a
/// second, not every frame (what is drawn changes only when something visible does).
pub fn ticking(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A tick label with as many decimals as the step needs.
pub fn label(t: f64, step: f64) -> String {
    if t.abs() < step / 2.0 {
        return "0".to_string();
    }
    if step < 0.001 {
        let decimals = decimals_for(step * 1000.0);
        return format!("{:.*}ms", decimals, t * 1000.0);
    }
    format!("{:.*}s", decimals_for(step), t)
}

fn decimals_for(step: f64) -> usize {
    let mut decimals = 0;
    let mut scaled = step;
    while decimals < 6 && (scaled - scaled.round()).abs() > 1e-9 * scaled.max(1.0) {
        scaled *= 10.0;
        decimals += 1;
    }
    decimals
}

/// A duration as the view shows it: `0.62 s`, `12.3 s`, `850 ms`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 100.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(1.0, 100), 0.1);
        assert_eq!(nice_step(1.7, 100), 0.2);
        assert_eq!(nice_step(0.62, 60), 0.2);
        assert_eq!(nice_step(3.2, 40), 1.0);
        assert_eq!(nice_step(45.0, 90), 5.0);
    }

    #[test]
    fn ticks_fall_on_the_grid_with_readable_labels() {
        let t = ticks(Duration::ZERO, Duration::from_millis(1700), 90);
        let labels: Vec<_> = t.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "0", "0.2s", "0.4s", "0.6s", "0.8s", "1.0s", "1.2s", "1.4s", "1.6s"
            ]
        );
        assert_eq!(t[0].column, 0);
        assert!(
            t.windows(2)
                .all(|w| w[1].column - w[0].column >= MIN_TICK_SPACING)
        );
    }

    #[test]
    fn a_panned_window_starts_at_the_next_tick() {
        let t = ticks(Duration::from_millis(250), Duration::from_millis(500), 50);
        assert_eq!(t[0].label, "0.3s");
        assert_eq!(t[0].column, 5);
        let t = ticks(Duration::from_millis(250), Duration::from_millis(500), 100);
        assert_eq!(t[0].label, "0.25s", "a finer step needs two decimals");
    }

    #[test]
    fn tiny_windows_switch_to_milliseconds() {
        let t = ticks(Duration::ZERO, Duration::from_micros(2_000), 40);
        assert_eq!(
            t.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
            ["0", "0.5ms", "1.0ms", "1.5ms"]
        );
    }

    #[test]
    fn no_columns_no_ticks() {
        assert!(ticks(Duration::ZERO, Duration::from_secs(1), 0).is_empty());
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(620)), "620 ms");
        assert_eq!(human(Duration::from_millis(1718)), "1.72 s");
    }
}
