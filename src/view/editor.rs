//! The plan editor (`p` in the view): every setting the command line has, as a form.
//!
//! The form holds each setting as the text a user would type after its flag, and checks it
//! by handing the equivalent command line to the CLI's own parser, so a value is refused
//! with the very message `poolscope` would print for it, and the plan that runs is the one
//! that command line would run. The form also gives that command line, for copying.
//!
//! What the user does not change stays as the plan had it: each setting is shown exactly
//! (an HTTP timeout of 2.5 s reads `2.5`), and where the command line cannot say what the
//! plan holds (pools of different sizes: `--workers` is one number), an untouched field
//! keeps each pool as it was.
//! No terminal here: the view's widgets draw it ([`crate::view::ui`]), keys arrive as [`KeyCode`]s.

use clap::Parser;
use crossterm::event::KeyCode;

use crate::cli::{Action, Cli};
use crate::model::plan::{ExecutorKind, ExperimentPlan, HttpTarget, Plan, WorkloadKind};

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, typed.
    Text,
    /// Some of a fixed list of names, toggled with space (←/→ move between them).
    Choices(&'static [&'static str]),
}

/// One setting of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// What it is, for the form's left column.
    pub label: &'static str,
    /// The command-line flag it stands for.
    pub flag: &'static str,
    /// How it is edited.
    pub kind: FieldKind,
    /// Its value, as typed after the flag (empty: the flag's default).
    pub value: String,
    /// What an empty value means.
    pub default: String,
}

const WORKLOADS: &[&str] = &["fib", "http", "sleep", "isolation"];
const EXECUTORS: &[&str] = &["processes", "threads", "gil", "sequential"];

/// The form: its fields, the cursor, and the last refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    /// The settings, in the order shown.
    pub fields: Vec<Field>,
    /// The field under the cursor.
    pub cursor: usize,
    /// For a choices field: the choice under the cursor.
    pub choice: usize,
    /// For a text field: where typing goes, in characters from the start.
    pub caret: usize,
    /// Whether the field's whole value is selected, as when a form's field is entered:
    /// typing replaces it, `Backspace` or `Delete` clears it, an arrow keeps it.
    pub selected: bool,
    /// Why the plan is refused, and which field it names (the CLI's message): said as soon
    /// as a value is typed, not only on `Enter`.
    pub error: Option<(usize, String)>,
    /// The plan the form was opened with, and each field's value then: a field left as it
    /// was changes nothing of that plan.
    from: Plan,
    opened: Vec<String>,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorOutcome {
    /// Still editing.
    Editing,
    /// `Esc`: leave, nothing changed.
    Cancelled,
    /// `Enter` on a valid form: run this plan this many times.
    Run(Box<Plan>, usize),
}

impl Editor {
    /// A form holding `plan`'s settings (and `runs`).
    pub fn of(plan: &Plan, runs: usize) -> Self {
        let mut workloads: Vec<&str> = Vec::new();
        let mut executors: Vec<&str> = Vec::new();
        for e in &plan.experiments {
            if !workloads.contains(&e.workload.as_str()) {
                workloads.push(e.workload.as_str());
            }
            if !executors.contains(&e.executor.as_str()) {
                executors.push(e.executor.as_str());
            }
        }
        let inputs_of = |kinds: &[WorkloadKind]| {
            plan.experiments
                .iter()
                .find(|e| kinds.contains(&e.workload))
                .map(|e| e.inputs.clone())
        };
        let repeat = [
            inputs_of(&[WorkloadKind::Fib]),
            inputs_of(&[WorkloadKind::Http, WorkloadKind::Sleep]),
        ]
        .into_iter()
        .flatten()
        .map(|inputs| repetitions(&inputs))
        .min()
        .unwrap_or(1);
        let once = |inputs: Vec<u64>| inputs[..inputs.len() / repeat].to_vec();
        let fib = inputs_of(&[WorkloadKind::Fib]).map_or(String::new(), |i| range_text(&once(i)));
        let delays = inputs_of(&[WorkloadKind::Http, WorkloadKind::Sleep])
            .map_or(String::new(), |i| range_text(&once(i)));
        let (workers, workers_default) = workers_of(plan);
        let url = match &plan.http.target {
            HttpTarget::Embedded => String::new(),
            HttpTarget::Template(t) => t.clone(),
        };
        let cpus = plan.sched.cpus.as_ref().map_or(String::new(), |cpus| {
            cpus.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        });
        let text = |label, flag, value: String, default: &str| Field {
            label,
            flag,
            kind: FieldKind::Text,
            value,
            default: default.to_string(),
        };
        let fields = vec![
            Field {
                label: "workloads",
                flag: "--workload",
                kind: FieldKind::Choices(WORKLOADS),
                value: workloads.join(","),
                default: "fib,http".into(),
            },
            Field {
                label: "executors",
                flag: "--executor",
                kind: FieldKind::Choices(EXECUTORS),
                value: executors.join(","),
                default: "processes,threads,gil".into(),
            },
            text("fib inputs", "--fib", fib, "34..42"),
            text("delays (ms)", "--delays", delays, "1000..1800:100"),
            text("workers", "--workers", workers, &workers_default),
            text("url", "--url", url, "the embedded server"),
            // Exactly: 2.5 s is `2.5`, not `2` (and 0.5 s not a refused `0`).
            text(
                "http timeout (s)",
                "--http-timeout",
                plan.http.timeout.as_secs_f64().to_string(),
                "30",
            ),
            text(
                "switch interval (ms)",
                "--switch-interval-ms",
                plan.sched.switch_interval.as_millis().to_string(),
                "5",
            ),
            text(
                "sampling (ms)",
                "--sample-ms",
                plan.sched.sample_interval.as_millis().to_string(),
                "10",
            ),
            text("cpus", "--cpus", cpus, "all"),
            text("repeat inputs", "--repeat", repeat.to_string(), "1"),
            text("runs", "--runs", runs.to_string(), "1"),
        ];
        let opened = fields.iter().map(|f| f.value.clone()).collect();
        let mut editor = Editor {
            fields,
            cursor: 0,
            choice: 0,
            caret: 0,
            selected: true,
            error: None,
            from: plan.clone(),
            opened,
        };
        editor.focus(0);
        editor
    }

    /// Puts the cursor on field `index`, its value selected (typing replaces it).
    pub fn focus(&mut self, index: usize) {
        self.cursor = index.min(self.fields.len().saturating_sub(1));
        self.choice = 0;
        self.selected = true;
        self.caret = self
            .fields
            .get(self.cursor)
            .map_or(0, |f| f.value.chars().count());
    }

    /// The flags the form's workloads and executors make no use of, with why (the command
    /// line's own rules): left out of the command line, shown as unused.
    pub fn unused(&self) -> Vec<(&'static str, &'static str)> {
        let names = |flag: &str| -> Vec<String> {
            self.field(flag).map_or_else(Vec::new, |f| {
                f.value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
        };
        let workloads: Vec<WorkloadKind> = names("--workload")
            .iter()
            .filter_map(|n| WorkloadKind::parse(n))
            .collect();
        let executors: Vec<ExecutorKind> = names("--executor")
            .iter()
            .filter_map(|n| ExecutorKind::parse(n))
            .collect();
        crate::cli::unused_flags(&workloads, &executors)
    }

    /// Why field `index` does nothing for the plan as the form stands, if it does nothing.
    pub fn unused_why(&self, index: usize) -> Option<&'static str> {
        let flag = self.fields.get(index)?.flag;
        self.unused()
            .into_iter()
            .find(|(f, _)| *f == flag)
            .map(|(_, why)| why)
    }

    /// Whether the field of `flag` still holds what it held when the form opened.
    fn untouched(&self, flag: &str) -> bool {
        self.fields
            .iter()
            .zip(&self.opened)
            .any(|(f, opened)| f.flag == flag && f.value.trim() == opened.trim())
    }

    /// What the plan had that the command line cannot say, put back where the user left
    /// the field as it was: each pool's own number of workers, the exact HTTP timeout.
    fn keep_untouched(&self, plan: &mut Plan) {
        if self.untouched("--workers") {
            for e in &mut plan.experiments {
                if let Some(was) = self
                    .from
                    .experiments
                    .iter()
                    .find(|was| was.executor == e.executor && was.workload == e.workload)
                {
                    e.workers = was.workers;
                }
            }
        }
        if self.untouched("--http-timeout") {
            plan.http.timeout = self.from.http.timeout;
        }
    }

    /// The field named by `flag`.
    pub fn field(&self, flag: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.flag == flag)
    }

    /// The arguments after `poolscope` for this form, in the form's order: every field
    /// the plan uses (`--delays` goes with http or sleep, as the command line warns) whose
    /// value makes a difference (`--fib 34..=41` is the default `34..42` in other words,
    /// and is left out).
    pub fn args(&self) -> Vec<String> {
        let given = self.given_args();
        // A refused value stays as typed; what is around it is weighed without it.
        let refused = match Cli::try_parse_from(
            std::iter::once("poolscope").chain(given.iter().map(String::as_str)),
        )
        .map(Cli::into_action)
        {
            Ok(Err(usage)) => Some(usage.flag().to_string()),
            _ => None,
        };
        let pairs: Vec<(String, String)> = given
            .chunks(2)
            .map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default()))
            .collect();
        let mut kept: Vec<bool> = vec![true; pairs.len()];
        let args_of = |kept: &[bool], skip: Option<usize>| -> Vec<String> {
            pairs
                .iter()
                .enumerate()
                .filter(|&(i, (flag, _))| {
                    kept[i] && Some(i) != skip && Some(flag) != refused.as_ref()
                })
                .flat_map(|(_, (flag, value))| [flag.clone(), value.clone()])
                .collect()
        };
        if let Some(whole) = parsed(&args_of(&kept, None)) {
            for i in 0..pairs.len() {
                if Some(&pairs[i].0) != refused.as_ref()
                    && parsed(&args_of(&kept, Some(i))).as_ref() == Some(&whole)
                {
                    kept[i] = false;
                }
            }
        }
        pairs
            .into_iter()
            .zip(kept)
            .filter(|(_, k)| *k)
            .flat_map(|((flag, value), _)| [flag, value])
            .collect()
    }

    /// Every field that is set, not its default text, and used by the plan, as arguments.
    fn given_args(&self) -> Vec<String> {
        let unused = self.unused();
        let mut args = Vec::new();
        for field in &self.fields {
            if unused.iter().any(|(flag, _)| *flag == field.flag) {
                continue;
            }
            let value = field.value.trim();
            // No choice at all is a choice the CLI refuses, not its default.
            let none_chosen = matches!(field.kind, FieldKind::Choices(_)) && value.is_empty();
            if (value.is_empty() && !none_chosen) || value == field.default {
                continue;
            }
            args.push(field.flag.to_string());
            args.push(value.to_string());
        }
        args
    }

    /// `poolscope --workload fib --workers 2 …`: the equivalent command line (values with
    /// spaces or shell characters quoted).
    pub fn command_line(&self) -> String {
        let mut line = String::from("poolscope");
        for arg in self.args() {
            line.push(' ');
            if arg
                .chars()
                .any(|c| c.is_whitespace() || "{}$&|;<>*?'\"()".contains(c))
            {
                line.push_str(&format!("'{}'", arg.replace('\'', "'\\''")));
            } else {
                line.push_str(&arg);
            }
        }
        line
    }

    /// The plan and runs the form describes, or the CLI's refusal and the field it names.
    pub fn validate(&self) -> Result<(Plan, usize), (usize, String)> {
        let mut argv = vec!["poolscope".to_string()];
        argv.extend(self.args());
        let cli = Cli::try_parse_from(&argv).map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            (self.cursor, first.trim_start_matches("error: ").to_string())
        })?;
        match cli.into_action() {
            Ok(Action::Run(mut config)) => {
                self.keep_untouched(&mut config.plan);
                Ok((config.plan, config.runs))
            }
            Ok(_) => Err((self.cursor, "not a plan".to_string())),
            Err(usage) => {
                let field = self
                    .fields
                    .iter()
                    .position(|f| f.flag == usage.flag())
                    .unwrap_or(self.cursor);
                Err((field, usage.to_string()))
            }
        }
    }

    /// Takes a key.
    pub fn key(&mut self, code: KeyCode) -> EditorOutcome {
        let count = self.fields.len();
        match code {
            KeyCode::Esc => return EditorOutcome::Cancelled,
            KeyCode::Enter => match self.validate() {
                Ok((plan, runs)) => return EditorOutcome::Run(Box::new(plan), runs),
                Err((field, message)) => {
                    self.focus(field);
                    self.error = Some((field, message));
                }
            },
            KeyCode::Up | KeyCode::BackTab => self.focus((self.cursor + count - 1) % count),
            KeyCode::Down | KeyCode::Tab => self.focus((self.cursor + 1) % count),
            code => {
                if self.edit(code) {
                    // Said while typing: the command line's own verdict on the form.
                    self.error = self.validate().err();
                }
            }
        }
        EditorOutcome::Editing
    }

    /// Edits the field under the cursor; returns whether its value changed.
    fn edit(&mut self, code: KeyCode) -> bool {
        let field = &mut self.fields[self.cursor];
        let mut chars: Vec<char> = field.value.chars().collect();
        let caret = self.caret.min(chars.len());
        let selected = self.selected;
        match (field.kind, code) {
            (FieldKind::Choices(names), KeyCode::Left) => {
                self.choice = (self.choice + names.len() - 1) % names.len();
                return false;
            }
            (FieldKind::Choices(names), KeyCode::Right) => {
                self.choice = (self.choice + 1) % names.len();
                return false;
            }
            (FieldKind::Choices(names), KeyCode::Char(' ')) => {
                let name = names[self.choice];
                let mut chosen: Vec<&str> = field
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                match chosen.iter().position(|c| *c == name) {
                    Some(i) => {
                        chosen.remove(i);
                    }
                    None => chosen.push(name),
                }
                // In the form's order, which is the order they run in.
                chosen.sort_by_key(|c| names.iter().position(|n| n == c));
                field.value = chosen.join(",");
                return true;
            }
            (FieldKind::Choices(_), _) => return false,
            // A selected value is replaced by what is typed, cleared by a deletion.
            (_, KeyCode::Char(c)) if selected => chars = vec![c],
            (_, KeyCode::Backspace | KeyCode::Delete) if selected => chars.clear(),
            (_, KeyCode::Char(c)) => chars.insert(caret, c),
            (_, KeyCode::Backspace) if caret > 0 => {
                chars.remove(caret - 1);
                self.caret = caret - 1;
            }
            (_, KeyCode::Delete) if caret < chars.len() => {
                chars.remove(caret);
            }
            // The arrows leave the selection where the caret shows, at the end.
            (_, KeyCode::Left) => {
                self.selected = false;
                self.caret = caret.saturating_sub(1);
                return false;
            }
            (_, KeyCode::Right) => {
                self.selected = false;
                self.caret = (caret + 1).min(chars.len());
                return false;
            }
            (_, KeyCode::Home) => {
                self.selected = false;
                self.caret = 0;
                return false;
            }
            (_, KeyCode::End) => {
                self.selected = false;
                self.caret = chars.len();
                return false;
            }
            _ => return false,
        }
        if let KeyCode::Char(_) = code {
            self.caret = if selected { 1 } else { caret + 1 };
        } else if selected {
            self.caret = 0;
        }
        self.selected = false;
        field.value = chars.into_iter().collect();
        true
    }
}

/// The plan and runs the command line `poolscope ARGS` runs, if it runs one.
fn parsed(args: &[String]) -> Option<(Plan, usize)> {
    let argv = std::iter::once("poolscope").chain(args.iter().map(String::as_str));
    match Cli::try_parse_from(argv).ok()?.into_action() {
        Ok(Action::Run(config)) => Some((config.plan, config.runs)),
        _ => None,
    }
}

/// The workers field of `plan`: the pools' one count where they agree (what the default
/// text says when empty); where they differ, empty, with each pool's count in the default
/// text (the command line has one `--workers`; the form keeps each pool's own).
fn workers_of(plan: &Plan) -> (String, String) {
    let pools: Vec<&ExperimentPlan> = plan
        .experiments
        .iter()
        .filter(|e| e.executor != ExecutorKind::Sequential && e.workload != WorkloadKind::Isolation)
        .collect();
    match pools.first() {
        None => (String::new(), "one per input".into()),
        Some(first) if pools.iter().all(|e| e.workers == first.workers) => {
            (first.workers.to_string(), "one per input".into())
        }
        Some(_) => {
            // By workload where its pools agree (`4 for fib, 8 for sleep`), else by pool.
            let mut parts: Vec<String> = Vec::new();
            let mut workloads: Vec<WorkloadKind> = Vec::new();
            for e in &pools {
                if !workloads.contains(&e.workload) {
                    workloads.push(e.workload);
                }
            }
            for workload in workloads {
                let of: Vec<&&ExperimentPlan> =
                    pools.iter().filter(|e| e.workload == workload).collect();
                if of.iter().all(|e| e.workers == of[0].workers) {
                    parts.push(format!("{} for {workload}", of[0].workers));
                } else {
                    parts.extend(of.iter().map(|e| format!("{} for {}", e.workers, e.name)));
                }
            }
            (
                String::new(),
                format!("each pool as planned: {}", parts.join(", ")),
            )
        }
    }
}

/// How many times over `inputs` repeats its first part (`--repeat`).
fn repetitions(inputs: &[u64]) -> usize {
    let n = inputs.len();
    (1..=n)
        .find(|&period| n.is_multiple_of(period) && (0..n).all(|i| inputs[i] == inputs[i % period]))
        .map_or(1, |period| n / period)
}

/// `34..=41`, `1000..=1700:100`, or `30,35,41`: the shortest form the CLI reads back.
fn range_text(inputs: &[u64]) -> String {
    match inputs {
        [] => String::new(),
        [one] => one.to_string(),
        [first, second, ..] => {
            let step = second.saturating_sub(*first);
            let arithmetic =
                step > 0 && inputs.windows(2).all(|w| w[1] == w[0] + step) && inputs.len() > 2;
            let last = inputs[inputs.len() - 1];
            match (arithmetic, step) {
                (true, 1) => format!("{first}..={last}"),
                (true, step) => format!("{first}..={last}:{step}"),
                _ => inputs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves to the field of `flag` (its value selected) and types `text` over it.
    fn type_into(editor: &mut Editor, flag: &str, text: &str) {
        editor.focus(editor.fields.iter().position(|f| f.flag == flag).unwrap());
        if text.is_empty() {
            editor.key(KeyCode::Delete);
        }
        for c in text.chars() {
            editor.key(KeyCode::Char(c));
        }
    }

    #[test]
    fn the_default_plan_reads_back_as_itself() {
        let editor = Editor::of(&Plan::default(), 1);
        assert_eq!(editor.field("--fib").unwrap().value, "34..=41");
        assert_eq!(editor.field("--delays").unwrap().value, "1000..=1700:100");
        assert_eq!(editor.field("--workers").unwrap().value, "8");
        let (plan, runs) = editor.validate().unwrap();
        assert_eq!(plan, Plan::default());
        assert_eq!(runs, 1);
    }

    #[test]
    fn every_field_edits_into_the_plan() {
        let mut editor = Editor::of(&Plan::default(), 1);
        type_into(&mut editor, "--fib", "20..=22");
        type_into(&mut editor, "--delays", "10,20");
        type_into(&mut editor, "--workers", "2");
        type_into(&mut editor, "--url", "http://127.0.0.1:9/{ms}");
        type_into(&mut editor, "--http-timeout", "3");
        type_into(&mut editor, "--switch-interval-ms", "7");
        type_into(&mut editor, "--sample-ms", "20");
        type_into(&mut editor, "--cpus", "0");
        type_into(&mut editor, "--repeat", "2");
        type_into(&mut editor, "--runs", "3");
        // Toggle sleep on.
        editor.focus(0);
        editor.choice = 2;
        editor.key(KeyCode::Char(' '));
        assert_eq!(editor.field("--workload").unwrap().value, "fib,http,sleep");
        let EditorOutcome::Run(plan, runs) = editor.key(KeyCode::Enter) else {
            panic!("{:?}", editor.error)
        };
        assert_eq!(runs, 3);
        assert!(plan.experiments.iter().all(|e| e.workers == 2));
        assert_eq!(plan.experiments[0].inputs, [20, 21, 22, 20, 21, 22]);
        assert_eq!(plan.experiments[6].workload, WorkloadKind::Sleep);
        assert_eq!(plan.experiments[6].inputs, [10, 20, 10, 20]);
        assert_eq!(plan.sched.switch_interval.as_millis(), 7);
        assert_eq!(plan.sched.sample_interval.as_millis(), 20);
        assert_eq!(plan.sched.cpus, Some(vec![0]));
        assert_eq!(plan.http.timeout.as_secs(), 3);
        assert_eq!(
            plan.http.target,
            HttpTarget::Template("http://127.0.0.1:9/{ms}".into())
        );
        // The form's plan reads back into the same form.
        let again = Editor::of(&plan, runs);
        assert_eq!(again.field("--repeat").unwrap().value, "2");
        assert_eq!(again.field("--fib").unwrap().value, "20..=22");
        assert!(editor.command_line().contains("--workers 2"));
        assert!(
            editor
                .command_line()
                .contains("--url 'http://127.0.0.1:9/{ms}'"),
            "{}",
            editor.command_line()
        );
    }

    fn plan_of(args: &[&str]) -> Plan {
        let argv = std::iter::once("poolscope").chain(args.iter().copied());
        match Cli::try_parse_from(argv).unwrap().into_action() {
            Ok(Action::Run(config)) => config.plan,
            _ => panic!("not a plan"),
        }
    }

    /// Enter with nothing edited runs the very plan the form was opened with: pools of
    /// different sizes keep theirs (the command line's one --workers cannot say them), and
    /// the HTTP timeout is shown and kept exactly.
    #[test]
    fn enter_with_no_edit_changes_nothing() {
        // fib: 4 inputs, so 4 workers; http: the 8 default delays, so 8.
        let plan = plan_of(&[
            "--workload",
            "fib,http",
            "--fib",
            "30..=33",
            "--http-timeout",
            "2.5",
        ]);
        assert_eq!(plan.experiments[0].workers, 4);
        assert_eq!(plan.experiments[3].workers, 8);
        let editor = Editor::of(&plan, 1);
        let workers = editor.field("--workers").unwrap();
        assert_eq!(workers.value, "");
        assert_eq!(
            workers.default,
            "each pool as planned: 4 for fib, 8 for http"
        );
        assert_eq!(editor.field("--http-timeout").unwrap().value, "2.5");
        assert_eq!(editor.validate().unwrap().0, plan);

        // Pools scaled apart (w, W), and a timeout under a second.
        let mut scaled = plan.clone();
        scaled.experiments[1].workers = 13;
        scaled.http.timeout = std::time::Duration::from_millis(500);
        let editor = Editor::of(&scaled, 1);
        assert_eq!(editor.field("--http-timeout").unwrap().value, "0.5");
        assert_eq!(editor.validate().unwrap().0, scaled);

        // What the user types applies to every pool.
        let mut editor = Editor::of(&scaled, 1);
        type_into(&mut editor, "--workers", "3");
        let (edited, _) = editor.validate().unwrap();
        assert!(edited.experiments.iter().all(|e| e.workers == 3));
        assert_eq!(
            edited.http.timeout, scaled.http.timeout,
            "the timeout was left alone"
        );
    }

    #[test]
    fn invalid_values_are_refused_in_place_with_the_clis_message() {
        let mut editor = Editor::of(&Plan::default(), 1);
        type_into(&mut editor, "--workers", "0");
        editor.cursor = 0;
        assert_eq!(editor.key(KeyCode::Enter), EditorOutcome::Editing);
        let (field, message) = editor.error.clone().unwrap();
        assert_eq!(editor.fields[field].flag, "--workers");
        assert_eq!(editor.cursor, field, "the cursor goes to the field refused");
        assert_eq!(
            message,
            "--workers '0': expected a whole number from 1 to 1024"
        );
        type_into(&mut editor, "--workers", "3");
        type_into(&mut editor, "--fib", "41..34");
        editor.key(KeyCode::Enter);
        let (field, message) = editor.error.clone().unwrap();
        assert_eq!(editor.fields[field].flag, "--fib");
        assert!(
            message.starts_with("--fib '41..34': the range is empty"),
            "{message}"
        );
        // No workload at all is refused too.
        let mut editor = Editor::of(&Plan::default(), 1);
        editor.cursor = 0;
        editor.choice = 0;
        editor.key(KeyCode::Char(' '));
        editor.choice = 1;
        editor.key(KeyCode::Char(' '));
        assert_eq!(editor.key(KeyCode::Enter), EditorOutcome::Editing);
        assert!(editor.error.is_some());
        assert_eq!(editor.key(KeyCode::Esc), EditorOutcome::Cancelled);
    }

    /// `poolscope ARGS` as a shell would split the command line (single quotes, `'\''`).
    fn shell_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let (mut quoted, mut any) = (false, false);
        for c in line.chars() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    any = true;
                }
                '\\' if !quoted => {}
                ' ' if !quoted => {
                    if any || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    any = false;
                }
                c => word.push(c),
            }
        }
        if any || !word.is_empty() {
            words.push(word);
        }
        words
    }

    /// What pasting the form's command line does: the plan it runs and what it warns.
    fn pasted(editor: &Editor) -> (Plan, usize, Vec<String>) {
        let words = shell_words(&editor.command_line());
        assert_eq!(words[0], "poolscope");
        match Cli::try_parse_from(&words).unwrap().into_action() {
            Ok(Action::Run(config)) => (config.plan, config.runs, config.warnings),
            _ => panic!("not a plan: {words:?}"),
        }
    }

    /// The command line lists only what the plan uses and what differs from the default:
    /// pasted, it runs the form's plan and warns of nothing.
    #[test]
    fn the_command_line_means_what_the_form_shows() {
        let mut editor = Editor::of(&Plan::default(), 1);
        assert_eq!(
            editor.command_line(),
            "poolscope",
            "the default plan says nothing"
        );
        // Untick http: its delays, URL and timeout go, whatever they hold.
        type_into(&mut editor, "--delays", "10,20");
        type_into(&mut editor, "--url", "http://127.0.0.1:9/{ms}");
        type_into(&mut editor, "--http-timeout", "3");
        type_into(&mut editor, "--fib", "30..=33");
        editor.focus(0);
        editor.choice = 1;
        editor.key(KeyCode::Char(' '));
        // (The workers field still says 8, which four inputs would not give by default.)
        assert_eq!(
            editor.command_line(),
            "poolscope --workload fib --fib 30..=33 --workers 8"
        );
        assert_eq!(
            editor.unused_why(3),
            Some("--workload has neither http nor sleep, the workloads that take delays")
        );
        let (plan, runs, warnings) = pasted(&editor);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!((plan, runs), editor.validate().unwrap());
        // Sleep takes the delays; gil off leaves the switch interval out.
        editor.choice = 2;
        editor.key(KeyCode::Char(' '));
        type_into(&mut editor, "--switch-interval-ms", "7");
        editor.focus(1);
        editor.choice = 2;
        editor.key(KeyCode::Char(' '));
        type_into(&mut editor, "--workers", "2");
        type_into(&mut editor, "--runs", "3");
        assert_eq!(
            editor.command_line(),
            "poolscope --workload fib,sleep --executor processes,threads --fib 30..=33 --delays 10,20 --workers 2 --runs 3"
        );
        let (plan, runs, warnings) = pasted(&editor);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!((plan, runs), editor.validate().unwrap());
        // Shell characters are quoted, and read back whole.
        editor.focus(0);
        editor.choice = 1;
        editor.key(KeyCode::Char(' '));
        assert!(
            editor
                .command_line()
                .contains("--url 'http://127.0.0.1:9/{ms}'")
        );
        let (_, _, warnings) = pasted(&editor);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// Typing on a field replaces its value, as in any form; then the caret edits it:
    /// arrows, Home, End, Backspace and Delete. A bad value is said at once.
    #[test]
    fn typing_replaces_then_edits_and_a_bad_value_is_said_at_once() {
        let mut editor = Editor::of(&Plan::default(), 1);
        let workers = editor
            .fields
            .iter()
            .position(|f| f.flag == "--workers")
            .unwrap();
        editor.focus(workers);
        assert_eq!(editor.fields[workers].value, "8");
        editor.key(KeyCode::Char('0'));
        assert_eq!(editor.fields[workers].value, "0", "typed over, not after");
        assert_eq!(
            editor.error,
            Some((
                workers,
                "--workers '0': expected a whole number from 1 to 1024".into()
            )),
            "said while typing"
        );
        editor.key(KeyCode::Left);
        editor.key(KeyCode::Char('1'));
        assert_eq!(editor.fields[workers].value, "10");
        assert_eq!(editor.error, None);
        editor.key(KeyCode::End);
        editor.key(KeyCode::Char('2'));
        assert_eq!(editor.fields[workers].value, "102");
        editor.key(KeyCode::Home);
        editor.key(KeyCode::Delete);
        assert_eq!(editor.fields[workers].value, "02");
        editor.key(KeyCode::Right);
        editor.key(KeyCode::Backspace);
        assert_eq!(editor.fields[workers].value, "2");
        // Leaving and coming back selects the value again; Backspace then clears it.
        editor.key(KeyCode::Down);
        editor.key(KeyCode::Up);
        assert!(editor.selected);
        editor.key(KeyCode::Backspace);
        assert_eq!(editor.fields[workers].value, "");
        assert_eq!(editor.error, None, "empty: each pool one worker per input");
        // A range typed in halves is refused until it is whole.
        let fib = editor
            .fields
            .iter()
            .position(|f| f.flag == "--fib")
            .unwrap();
        editor.focus(fib);
        for c in "30..".chars() {
            editor.key(KeyCode::Char(c));
        }
        assert!(
            editor
                .error
                .as_ref()
                .is_some_and(|(f, m)| *f == fib && m.starts_with("--fib '30..'")),
            "{:?}",
            editor.error
        );
        for c in "=33".chars() {
            editor.key(KeyCode::Char(c));
        }
        assert_eq!(editor.error, None);
        assert_eq!(
            editor.validate().unwrap().0.experiments[0].inputs,
            [30, 31, 32, 33]
        );
    }
}
