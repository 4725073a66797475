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
    /// Why the plan was refused, and which field it names (the CLI's message).
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
        Editor {
            fields,
            cursor: 0,
            choice: 0,
            error: None,
            from: plan.clone(),
            opened,
        }
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

    /// The arguments after `poolscope` for this form: every field that is set and not its
    /// default, in the form's order.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for field in &self.fields {
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
                    self.cursor = field;
                    self.choice = 0;
                    self.error = Some((field, message));
                }
            },
            KeyCode::Up | KeyCode::BackTab => {
                self.cursor = (self.cursor + count - 1) % count;
                self.choice = 0;
            }
            KeyCode::Down | KeyCode::Tab => {
                self.cursor = (self.cursor + 1) % count;
                self.choice = 0;
            }
            code => self.edit(code),
        }
        EditorOutcome::Editing
    }

    fn edit(&mut self, code: KeyCode) {
        let field = &mut self.fields[self.cursor];
        match (field.kind, code) {
            (FieldKind::Choices(names), KeyCode::Left) => {
                self.choice = (self.choice + names.len() - 1) % names.len();
            }
            (FieldKind::Choices(names), KeyCode::Right) => {
                self.choice = (self.choice + 1) % names.len();
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
                self.error = None;
            }
            (FieldKind::Text, KeyCode::Char(c)) => {
                field.value.push(c);
                self.error = None;
            }
            (FieldKind::Text, KeyCode::Backspace) => {
                field.value.pop();
                self.error = None;
            }
            (FieldKind::Text, KeyCode::Delete) => {
                field.value.clear();
                self.error = None;
            }
            _ => {}
        }
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

    fn type_into(editor: &mut Editor, flag: &str, text: &str) {
        editor.cursor = editor.fields.iter().position(|f| f.flag == flag).unwrap();
        editor.key(KeyCode::Delete);
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
        // Toggle sleep on and http off.
        editor.cursor = 0;
        editor.choice = 2;
        editor.key(KeyCode::Char(' '));
        editor.choice = 1;
        editor.key(KeyCode::Char(' '));
        assert_eq!(editor.field("--workload").unwrap().value, "fib,sleep");
        let EditorOutcome::Run(plan, runs) = editor.key(KeyCode::Enter) else {
            panic!("{:?}", editor.error)
        };
        assert_eq!(runs, 3);
        assert!(plan.experiments.iter().all(|e| e.workers == 2));
        assert_eq!(plan.experiments[0].inputs, [20, 21, 22, 20, 21, 22]);
        assert_eq!(plan.experiments[3].workload, WorkloadKind::Sleep);
        assert_eq!(plan.experiments[3].inputs, [10, 20, 10, 20]);
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
}
