//! What part of a run the panels show: the visible stretch of time (zoom, pan, following
//! the live edge), how rows are ordered, folded and scrolled, whether one panel fills the
//! screen, and a frozen picture while collection goes on.
//!
//! Each row of panels (one workload) has its own full length: the longest elapsed time of
//! its experiments, so the processes and threads runs of a workload share one scale and
//! compare at a glance. Zoom and pan are relative to that length, so all panels move
//! together.

use std::sync::Arc;

use crate::chart::fold::Depth;
use crate::model::clock::Timestamp;
use crate::model::timeline::Timeline;

/// The most a user can zoom in.
pub const MAX_ZOOM: f64 = 4096.0;

/// How a panel's rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneOrder {
    /// One lane per worker, by worker index: what each worker did.
    ByWorker,
    /// One row per task, by start time: the post's Gantt chart.
    ByStart,
}

/// Whether the summary shows in full or folded to the verdict alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SummaryFold {
    /// As the screen allows: folded where the full summary would hide lanes.
    #[default]
    Auto,
    /// In full (`v` on a folded summary); panels scroll if they must.
    Open,
    /// The verdict alone (`v` on a full summary).
    Folded,
}

/// The displayed state, frozen by `space` while collection goes on.
#[derive(Debug, Clone)]
pub struct Frozen {
    /// The live run's timeline when frozen.
    pub timeline: Arc<Timeline>,
    /// The clock when frozen.
    pub now: Timestamp,
}

/// The visible stretch of time and rows, shared by every panel.
#[derive(Debug, Clone)]
pub struct Viewport {
    /// 1 shows the whole run; 2 half of it; …
    pub zoom: f64,
    /// Where the window starts, as a fraction of the full length (when not following).
    pub pan: f64,
    /// Keep the live edge (the latest time) in view.
    pub follow: bool,
    /// How panels order their rows.
    pub lane_order: LaneOrder,
    /// Whether the selected panel fills the whole panel area.
    pub maximized: bool,
    /// How many rows of nesting a thread shows, the deeper levels folded into the last
    /// (`d` / `D`, `--depth`).
    pub depth: Depth,
    /// The summary in full or folded to the verdict (`v`).
    pub summary: SummaryFold,
    /// Whether the summary was folded when last drawn (set by the loop): what `v` turns.
    pub summary_folded: bool,
    /// Per panel (plan index): the first row shown.
    scroll: Vec<usize>,
    /// Per panel (plan index): how many rows it shows, as last drawn (set by the loop).
    page_rows: Vec<u16>,
    /// The picture shown while frozen.
    frozen: Option<Frozen>,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            zoom: 1.0,
            pan: 0.0,
            follow: true,
            lane_order: LaneOrder::ByWorker,
            maximized: false,
            depth: Depth::DEFAULT,
            summary: SummaryFold::Auto,
            summary_folded: false,
            scroll: Vec::new(),
            page_rows: Vec::new(),
            frozen: None,
        }
    }
}

impl Viewport {
    /// The window's width as a fraction of the full length.
    pub fn width(&self) -> f64 {
        1.0 / self.zoom
    }

    fn max_pan(&self) -> f64 {
        (1.0 - self.width()).max(0.0)
    }

    /// The window's start as a fraction of the full length.
    pub fn start_fraction(&self) -> f64 {
        if self.follow {
            self.max_pan()
        } else {
            self.pan.clamp(0.0, self.max_pan())
        }
    }

    /// Zooms by `factor` about the window's middle (following stays on).
    pub fn zoom_by(&mut self, factor: f64) {
        let center = self.start_fraction() + self.width() / 2.0;
        self.zoom_about(center, factor);
    }

    /// Zooms keeping `center` (a fraction of the full length) in the middle of the window.
    pub fn zoom_about(&mut self, center: f64, factor: f64) {
        self.zoom = (self.zoom * factor).clamp(1.0, MAX_ZOOM);
        self.pan = (center - self.width() / 2.0).clamp(0.0, self.max_pan());
    }

    /// Pans by `windows` window widths (negative: back in time); stops following.
    pub fn pan_by(&mut self, windows: f64) {
        self.pan = (self.start_fraction() + windows * self.width()).clamp(0.0, self.max_pan());
        self.follow = false;
    }

    /// Shows the whole run (`0`), its live edge followed again.
    pub fn fit(&mut self) {
        self.zoom = 1.0;
        self.pan = 0.0;
        self.follow = true;
    }

    /// `v`: the summary in full where it was folded, folded where it was in full.
    pub fn toggle_summary(&mut self) {
        self.summary = if self.summary_folded {
            SummaryFold::Open
        } else {
            SummaryFold::Folded
        };
        self.summary_folded = !self.summary_folded;
    }

    /// `s`: by worker ↔ by task start.
    pub fn toggle_order(&mut self) {
        self.lane_order = match self.lane_order {
            LaneOrder::ByWorker => LaneOrder::ByStart,
            LaneOrder::ByStart => LaneOrder::ByWorker,
        }
    }

    /// The frozen picture, while frozen.
    pub fn frozen(&self) -> Option<&Frozen> {
        self.frozen.as_ref()
    }

    /// `space`: freezes on `live` at `now`, or thaws.
    pub fn toggle_freeze(&mut self, live: Arc<Timeline>, now: Timestamp) {
        self.frozen = match self.frozen.take() {
            Some(_) => None,
            None => Some(Frozen {
                timeline: live,
                now,
            }),
        }
    }

    /// A new run started: the frozen picture belongs to the last one, and the new run's
    /// live edge is followed whatever was panned in the last.
    pub fn new_run(&mut self) {
        self.frozen = None;
        self.follow = true;
    }

    /// The first row panel `panel` shows.
    pub fn scroll_of(&self, panel: usize) -> usize {
        self.scroll.get(panel).copied().unwrap_or(0)
    }

    /// Forgets every panel's scrolling (another run is looked at).
    pub fn reset_scroll(&mut self) {
        self.scroll.clear();
    }

    /// Notes how many rows each panel showed when last drawn (plan index, rows).
    pub fn set_page_rows(&mut self, rows: &[(usize, u16)]) {
        for &(i, n) in rows {
            if self.page_rows.len() <= i {
                self.page_rows.resize(i + 1, 0);
            }
            self.page_rows[i] = n;
        }
    }

    /// One page of panel `panel`'s rows.
    pub fn page_of(&self, panel: usize) -> isize {
        self.page_rows.get(panel).copied().unwrap_or(1).max(1) as isize
    }

    /// Scrolls panel `panel`, which has `rows` rows in all, by `by` rows (negative: up).
    pub fn scroll_by(&mut self, panel: usize, rows: usize, by: isize) {
        let last = rows.saturating_sub(self.page_of(panel) as usize);
        if self.scroll.len() <= panel {
            self.scroll.resize(panel + 1, 0);
        }
        let now = self.scroll[panel].min(last) as isize;
        self.scroll[panel] = (now + by).clamp(0, last as isize) as usize;
    }

    /// Keeps row `row` of panel `panel` (which has `rows` rows) in view.
    pub fn reveal(&mut self, panel: usize, rows: usize, row: usize) {
        let page = self.page_of(panel) as usize;
        let first = self.scroll_of(panel);
        if row < first {
            self.scroll_by(panel, rows, row as isize - first as isize);
        } else if row >= first + page {
            self.scroll_by(panel, rows, (row + 1 - page) as isize - first as isize);
        }
    }
}
