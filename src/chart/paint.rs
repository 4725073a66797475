//! Painting chart rows into a ratatui [`Buffer`] (an in-memory grid of styled cells, no
//! terminal): the live view's panels and `--print` share it, so both read the same. Task
//! labels from files are written as [`display::safe`] text, in columns, never obeyed.

use ratatui::buffer::Buffer;
use ratatui::style::Style;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::cells::{CellContent, CellState, task_runs};
use super::labels;
use super::theme::{Look, Theme};
use crate::model::display;
use crate::model::plan::{ExperimentPlan, TaskLabels, WorkloadKind};
use crate::model::timeline::{Experiment, TaskState};

/// Draws a row of cells, each shaded by what its worker was doing there (on a CPU, waiting
/// for one, blocked, waiting for the GIL), then writes each task's label over its bar where
/// it fits ([`bar_label`]), cell by cell in that cell's own style. (The text and SVG charts
/// draw their rows with it too.)
pub fn draw_cells(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    (cells, states): (&[CellContent], &[Option<CellState>]),
    experiment: &Experiment,
    plan: &ExperimentPlan,
    theme: Theme,
) {
    let look_of = |index: usize| task_look(experiment, index, theme);
    let looks = cell_looks((cells, states), experiment, theme);
    for (column, look) in looks.iter().enumerate() {
        if let Some(look) = look {
            put(buf, x + column as u16, y, look.glyph, look.style);
        }
    }
    // Labels: over each run of cells that belong to one task, if the text fits.
    for (column, run, index) in task_runs(cells) {
        let Some(task) = experiment.task(index) else {
            continue;
        };
        let failed = matches!(task.state, TaskState::Failed { .. });
        // No text is shorter than one column, and a label needs a column to spare: a
        // one-cell bar (most of them, with many short tasks) gets none, for free.
        let text = (run >= 2)
            .then(|| bar_label(plan, index, &task, failed, run))
            .flatten();
        if let Some(text) = text {
            let start = column + usize::from(run > display::width(&text) + 1);
            let style_at = |at: usize| looks[at].map_or(look_of(index).label, |l| l.label);
            put_text(buf, (x, y), start, &text, style_at);
        } else if failed {
            // Too short for text: the mark alone still says it failed.
            put(buf, x + column as u16, y, '✗', theme.failed().label);
        }
    }
}

/// Draws a row of cells as [`draw_cells`] does, without labels: the further rows of a
/// lane drawn more than one row tall.
pub fn draw_fill(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    cells: (&[CellContent], &[Option<CellState>]),
    experiment: &Experiment,
    theme: Theme,
) {
    for (column, look) in cell_looks(cells, experiment, theme).iter().enumerate() {
        if let Some(look) = look {
            put(buf, x + column as u16, y, look.glyph, look.style);
        }
    }
}

/// How task `index` looks by its state: running, failed, or done (neighbours in a lane
/// alternate, whatever their inputs).
fn task_look(experiment: &Experiment, index: usize, theme: Theme) -> Look {
    match experiment
        .task(index)
        .map_or(TaskState::Pending, |t| t.state)
    {
        TaskState::Failed { .. } => theme.failed(),
        TaskState::Running | TaskState::Pending => theme.running(),
        TaskState::Succeeded { .. } => theme.done(
            experiment
                .position_in_lane(index)
                .map_or(index % 2 == 1, |p| p % 2 == 1),
        ),
    }
}

/// Each cell's look: its task's, shaded by what the worker was doing there.
fn cell_looks(
    (cells, states): (&[CellContent], &[Option<CellState>]),
    experiment: &Experiment,
    theme: Theme,
) -> Vec<Option<Look>> {
    // A watched program's threads are drawn between tasks too: what a thread does is the
    // picture, tasks or not.
    let watched = experiment.plan.is_watched();
    let thread = theme.thread();
    cells
        .iter()
        .zip(states.iter().chain(std::iter::repeat(&None)))
        .map(|(cell, state)| match (*cell, *state) {
            (CellContent::Empty, Some(CellState::Runnable)) => Some(theme.runnable()),
            (CellContent::Empty, Some(CellState::GilWait)) if watched => {
                Some(theme.gil_wait(thread))
            }
            (CellContent::Empty, Some(CellState::GilWait)) => Some(theme.gil_wait(theme.running())),
            (CellContent::Empty, Some(state)) if watched => match state {
                CellState::OnCpu => Some(theme.thread_running()),
                CellState::Io => Some(theme.io(thread)),
                CellState::Sleep => Some(theme.sleep(thread)),
                CellState::Lock => Some(theme.lock(thread)),
                CellState::Blocked => Some(theme.blocked(thread)),
                CellState::Unknown => Some(theme.unknown(thread)),
                CellState::Runnable | CellState::GilWait => None,
            },
            (CellContent::Empty, _) => None,
            (CellContent::Starting, _) => Some(theme.starting()),
            (CellContent::Task(index), state) => {
                let task = task_look(experiment, index, theme);
                Some(match state {
                    Some(CellState::Runnable) => theme.runnable(),
                    Some(CellState::Blocked) => theme.blocked(task),
                    Some(CellState::GilWait) => theme.gil_wait(task),
                    Some(CellState::Io) => theme.io(task),
                    Some(CellState::Sleep) => theme.sleep(task),
                    Some(CellState::Lock) => theme.lock(task),
                    Some(CellState::Unknown) => theme.unknown(task),
                    Some(CellState::OnCpu) | None => task,
                })
            }
            (CellContent::Dense { failed, running }, _) => Some(theme.dense(failed, running)),
        })
        .collect()
}

/// The label of task `index` on a bar of `run` columns, with one to spare, made safe to
/// show; a failed task's starts with `✗`.
///
/// A task a recording named (a trace's slice, a CSV's `label`) shows its name's readable
/// head ([`labels::name_parts`]: `Thread.run`, not its file and line), cut with `…` when it
/// does not fit and dropped only when not even two columns do: never a number the file
/// does not hold. A task poolscope ran (or the post's tags) shows its name (`fib 38`), else
/// its input (`38`); the isolation demo says what each read saw.
pub fn bar_label(
    plan: &ExperimentPlan,
    index: usize,
    task: &crate::model::timeline::Task<'_>,
    failed: bool,
    run: usize,
) -> Option<String> {
    let mark = if failed { "✗ " } else { "" };
    let room = run.saturating_sub(1);
    if let Some(name) = plan.task_name(index) {
        let (head, _) = labels::name_parts(name);
        let head = labels::fit_name(head, room.checked_sub(display::width(mark))?)?;
        return Some(format!("{mark}{head}"));
    }
    if !input_stands_for_task(plan) {
        return None;
    }
    let mut candidates = vec![
        format!("{mark}{}", plan.task_label(index, task.input)),
        format!("{mark}{}", task.input),
    ];
    // The isolation demo's point is what each read saw: say it on the bar.
    if let (WorkloadKind::Isolation, TaskState::Succeeded { result, .. }) =
        (plan.workload, &task.state)
    {
        candidates.insert(0, format!("read {}: X is {result}", task.input));
        candidates.insert(1, format!("X is {result}"));
    }
    candidates
        .into_iter()
        .map(|t| display::safe(&t).into_owned())
        .find(|t| !t.is_empty() && display::width(t) <= room)
}

/// Whether a task without a name of its own may be shown by its input: an input poolscope
/// ran, or a number the file gave (the post's tags). A recording whose tasks are known by
/// name has none: its "inputs" are only the tasks' places.
fn input_stands_for_task(plan: &ExperimentPlan) -> bool {
    match plan.task_labels {
        TaskLabels::Inputs | TaskLabels::Tags => true,
        // A watched task's input is its number in its pool, not what it was called with.
        TaskLabels::Each(_) | TaskLabels::Table(_) => !matches!(
            plan.workload,
            WorkloadKind::Recorded | WorkloadKind::Watched
        ),
    }
}

/// Writes a lane's note (`never got a task`) into the empty stretch of a drawn row after
/// its last drawn cell: the longest of `notes` (longest first) that fits, else the last
/// cut visibly.
pub fn draw_note(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    cells: &[CellContent],
    notes: &[&str],
    theme: Theme,
) {
    let from = cells
        .iter()
        .rposition(|c| *c != CellContent::Empty)
        .map_or(0, |i| i + 2);
    let room = cells.len().saturating_sub(from);
    if room < 2 {
        return;
    }
    let forms: Vec<String> = notes.iter().map(ToString::to_string).collect();
    let text = super::labels::fit(&forms, room);
    buf.set_stringn(x + from as u16, y, text, room, theme.note());
}

/// Marks the cells of `task` in a drawn row (reversed and bold: visible with or without
/// colour).
pub fn highlight(buf: &mut Buffer, x: u16, y: u16, cells: &[CellContent], task: usize) {
    for (column, cell) in cells.iter().enumerate() {
        if *cell == CellContent::Task(task)
            && let Some(cell) = buf.cell_mut((x + column as u16, y))
        {
            cell.modifier
                .insert(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD);
        }
    }
}

/// Writes `text` (already [`display::safe`]) from column `start` of the row at (`x`, `y`),
/// grapheme by grapheme, each in the style of the column it lands on: a wide character
/// takes two columns (the second left blank, as a terminal shows it), an accent stays
/// with its letter.
fn put_text(
    buf: &mut Buffer,
    (x, y): (u16, u16),
    start: usize,
    text: &str,
    style_at: impl Fn(usize) -> Style,
) {
    let mut at = start;
    for grapheme in text.graphemes(true) {
        let width = grapheme.width();
        if width == 0 {
            continue;
        }
        if let Some(cell) = buf.cell_mut((x + at as u16, y)) {
            cell.set_symbol(grapheme).set_style(style_at(at));
        }
        for covered in at + 1..at + width {
            if let Some(cell) = buf.cell_mut((x + covered as u16, y)) {
                cell.set_symbol(" ").set_style(style_at(covered));
            }
        }
        at += width;
    }
}

/// The last check before a painted buffer reaches a terminal or a file: every cell of
/// `area` whose symbol holds a control or bidi character gets a visible one-column form
/// instead (see [`display::safe_symbol`]), and a wide character whose second column holds
/// something else (a border, a box drawn over it, the buffer's edge) becomes `…`, since a
/// terminal would hide what it covers. Text from outside is made safe and measured before
/// it is painted; this makes sure nothing slipped through any widget.
pub fn sweep(buf: &mut Buffer, area: ratatui::layout::Rect) {
    let area = area.intersection(buf.area);
    let width = buf.area.width as usize;
    for y in area.top()..area.bottom() {
        let row_start = (y - buf.area.y) as usize * width + (area.x - buf.area.x) as usize;
        let row = &mut buf.content[row_start..row_start + area.width as usize];
        let mut x = 0;
        while x < row.len() {
            let columns = checked_width(&mut row[x]);
            let covers_something = columns > 1
                && (x + 1..x + columns).any(|covered| {
                    covered >= row.len() || !matches!(row[covered].symbol(), " " | "")
                });
            if covers_something {
                row[x].set_symbol("…");
                x += 1;
            } else {
                x += columns.max(1);
            }
        }
    }
}

/// The columns a cell's symbol takes, once any control or bidi character in it is made
/// visible (a frame has thousands of cells: one character, the usual case, is decoded once).
fn checked_width(cell: &mut ratatui::buffer::Cell) -> usize {
    let symbol = cell.symbol();
    // Blanks, letters and digits: one byte, one column.
    if let [byte] = symbol.as_bytes()
        && (0x20..0x7f).contains(byte)
    {
        return 1;
    }
    let mut chars = symbol.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && !display::is_unsafe(c)
    {
        // Box drawing and block elements (borders, bars): one column each.
        if ('\u{2500}'..='\u{259f}').contains(&c) {
            return 1;
        }
        return unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
    }
    if symbol.chars().any(display::is_unsafe) {
        let shown = display::safe_symbol(symbol).into_owned();
        cell.set_symbol(&shown);
    }
    cell.symbol().width()
}

/// Sets one cell's glyph and style (outside the buffer: nothing).
pub fn put(buf: &mut Buffer, x: u16, y: u16, glyph: char, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_char(glyph).set_style(style);
    }
}
