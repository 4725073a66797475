//! Command-line flags, parsed with clap and validated into a [`Plan`].
//!
//! Every usage error is found here, before anything runs or is written: each names the flag,
//! what was wrong and the accepted form, on one line, and the program exits with status 2.
//! Values are taken as text and checked by hand so those messages are ours, not a generic
//! parser's.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueHint};

use crate::chart::fold::Depth;
use crate::engine::workload::FIB_MAX;
use crate::model::plan::{ExecutorKind, HttpSettings, HttpTarget, Plan, WorkloadKind};

mod install;
mod values;

pub use install::{completions, man_page};

pub use values::parse_inputs;
use values::{check_output_file, check_url, out_dir, parse_list, parse_seconds};

/// The most tasks one experiment may have.
pub const MAX_TASKS: usize = 1_000_000;
/// The most workers one experiment may have (each may be a process).
pub const MAX_WORKERS: usize = 1024;

const EXAMPLES: &str = "\
Examples:
  poolscope                          live view of the post's experiment (fib, then HTTP)
  poolscope --headless               the same, printed; CSVs go to ./poolscope-runs/<time>/
  poolscope --headless --out results
                                     write process-fibo.csv, thread-fibo.csv, … into ./results
  poolscope --headless --workload fib --fib 30..=35 --workers 2
  poolscope --headless --workload sleep --executor threads,sequential --delays 100..500:100
  poolscope --headless --url 'https://httpstat.us/200?sleep={ms}'
  poolscope --headless --print --trace run.json
                                     the chart as text after the run, and a Perfetto trace
  poolscope view process-fibo.csv thread-fibo.csv
                                     open recorded CSVs (the post's or poolscope's) or traces
  poolscope view trace.json --svg trace.svg
                                     convert: Chrome trace → SVG picture
  poolscope serve --port 8080        the delay server alone, for your own scripts
  poolscope watch -- python3 my_pools.py
                                     watch any program: its processes, threads, waits and
                                     (Python) its pools' tasks
  poolscope completions bash > ~/.local/share/bash-completion/completions/poolscope
                                     tab completion (also zsh, fish, elvish, powershell)
  poolscope man > ~/.local/share/man/man1/poolscope.1
                                     the manual page, for `man poolscope`";

/// poolscope: watch thread pools and process pools schedule the same work, live.
#[derive(Debug, Parser)]
#[command(
    name = "poolscope",
    version,
    about = "Watch thread pools and process pools schedule the same work, live.",
    long_about = "Runs the thread-vs-process experiment of the blog post 'Python Processes vs \
                  Threads' natively: recursive Fibonacci (CPU-bound) and HTTP requests that \
                  wait on a server (I/O-bound), on process pools and thread pools, streaming \
                  a timing event for every task start and end. Writes one CSV per experiment \
                  with the post's columns.",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded delay server alone: GET /200?sleep=MS answers 200 after MS ms.
    Serve(ServeArgs),
    /// Open recorded timings in the view: poolscope's CSVs, the post's CSVs, Chrome traces
    /// (ray timeline, viztracer, Perfetto JSON); several files at once, one panel each.
    View(ViewArgs),
    /// Watch any program live: run CMD (after --) or attach to --pid PID; one panel per
    /// process, one lane per thread, shaded by what each thread does and waits for (I/O,
    /// sleep, a lock, CPython's GIL); a Python program's concurrent.futures tasks as bars.
    Watch(WatchArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell (the
    /// README's Install section says where each goes).
    Completions(CompletionsArgs),
    /// Print the manual page, poolscope(1), in roff: `poolscope man | man -l -` reads it.
    Man,
    /// A process-pool worker (started by poolscope itself).
    #[command(hide = true)]
    Worker(WorkerArgs),
}

#[derive(Debug, Args)]
#[command(after_help = WATCH_EXAMPLES)]
struct WatchArgs {
    /// Attach to this running process (one of yours) and what it starts from now on,
    /// instead of running a command; it is never signalled.
    #[arg(long, value_name = "PID", allow_hyphen_values = true)]
    pid: Option<String>,

    /// Load the Python hook (task bars from concurrent.futures pools) even if CMD does not
    /// look like Python [default: when CMD is python… or a script run by it]
    #[arg(long)]
    python: bool,

    /// Start poolscope's delay server for the program: its address
    /// (http://127.0.0.1:PORT, answering /200?sleep=MS) goes in POOLSCOPE_DELAY_URL.
    #[arg(long)]
    serve: bool,

    /// Where CMD's output (stdout and stderr) goes; its last lines are printed when the
    /// watch ends [default: watch.log in the output folder]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    log: Option<PathBuf>,

    /// No live view: write the files and print the summary when CMD exits (or after
    /// --duration); poolscope exits with CMD's status.
    #[arg(long)]
    headless: bool,

    /// Stop watching after SECS (a command poolscope started is then stopped: SIGTERM,
    /// SIGKILL 2 s later; a --pid is only let go).
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    duration: Option<String>,

    /// How often every thread is read, in ms; widened past 1 % of a core [default: 10]
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    sample_ms: Option<String>,

    /// Write the files and the log into DIR (created if missing; files replaced).
    /// Default: a new timestamped folder under ./poolscope-runs/.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    out: Option<PathBuf>,

    #[command(flatten)]
    outputs: OutputArgs,

    /// The command to run and its arguments, after --.
    #[arg(last = true, value_name = "CMD", value_hint = ValueHint::CommandWithArguments)]
    command: Vec<std::ffi::OsString>,
}

const WATCH_EXAMPLES: &str = "\
Examples:
  poolscope watch -- python3 my_pools.py           every process, thread and pool task, live
  poolscope watch --serve -- python3 assets/watch/post.py --fib 25 30
                                                   the blog post's experiment in real CPython
  poolscope watch --pid 4242 --headless --duration 10
                                                   10 s of a running process, summarised
  poolscope watch --headless --out run -- make -j4 the files in ./run; exits with make's status";

#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
struct ViewArgs {
    /// The files: poolscope CSVs (with their -samples.csv), the post's CSVs
    /// (tag,start_time,end_time,elapsed,result) and Chrome Trace Event JSON.
    #[arg(value_name = "FILE", required = true, value_hint = ValueHint::FilePath)]
    files: Vec<PathBuf>,

    /// Skip bad rows instead of stopping at the first; says how many and where the first was.
    #[arg(long)]
    lenient: bool,

    /// Where `e` exports (created if missing; files replaced).
    /// Default: a new timestamped folder under ./poolscope-runs/.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    out: Option<PathBuf>,

    /// How many lanes a thread of nested calls shows (a trace's call stack: viztracer,
    /// py-spy), in the view, --print and --svg: its outermost levels, the deeper ones folded
    /// into the last; `all` shows every level. The view's d / D change it [default: 4]
    #[arg(long, value_name = "N|all")]
    depth: Option<String>,

    #[command(flatten)]
    outputs: OutputArgs,
}

/// Charts and traces written besides the CSVs.
#[derive(Debug, Args)]
struct OutputArgs {
    /// Print the Gantt chart as text on stdout (with --headless: after the run; with view:
    /// instead of opening the screen). Coloured only when stdout is a terminal and NO_COLOR
    /// is unset.
    #[arg(long)]
    print: bool,

    /// Width of the --print chart in columns, 20 to 1000 [default: the terminal's, else 100]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    width: Option<String>,

    /// Write the run as a Chrome trace to FILE, for Perfetto (ui.perfetto.dev) and
    /// chrome://tracing (with view: instead of opening the screen).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    trace: Option<PathBuf>,

    /// Write the Gantt chart as an SVG picture to FILE (with view: instead of opening the
    /// screen).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    svg: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one and prints it).
    #[arg(
        long,
        value_name = "PORT",
        default_value = "0",
        allow_hyphen_values = true
    )]
    port: String,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    #[arg(long)]
    parent_pid: u32,
    #[arg(long)]
    workload: String,
    /// The parent's clock anchor, EPOCH_US:MONOTONIC_US, so timestamps agree.
    #[arg(long)]
    clock_anchor: Option<String>,
    /// CPUs to confine the worker to (the parent's --cpus).
    #[arg(long)]
    cpus: Option<String>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Run without the live view: print a line per experiment and a summary, write the CSVs.
    #[arg(long)]
    headless: bool,

    /// Write the CSVs and summary.json into DIR (created if missing; files replaced).
    /// Default: a new timestamped folder under ./poolscope-runs/.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    out: Option<PathBuf>,

    /// Workloads to run, in order: fib, http, sleep, isolation (the post's global-X demo)
    /// (comma-separated).
    #[arg(long, value_name = "LIST", default_value = "fib,http")]
    workload: String,

    /// Executors to run each workload on, in order: processes, threads, gil (threads under
    /// a simulated Python GIL), sequential.
    #[arg(long, value_name = "LIST", default_value = "processes,threads,gil")]
    executor: String,

    /// Fibonacci inputs: 34..42 (end excluded), 34..=41 (end included), or 30,35,40
    /// [default: 34..42]
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    fib: Option<String>,

    /// Delays in ms for http and sleep: START..END[:STEP] (STEP defaults to 100), or a list
    /// [default: 1000..1800:100]
    #[arg(long, value_name = "RANGE[:STEP]", allow_hyphen_values = true)]
    delays: Option<String>,

    /// Workers per experiment [default: one per input, as the post did].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    workers: Option<String>,

    /// URL template for the http workload; {ms} is replaced by each delay.
    /// [default: the embedded server, http://127.0.0.1:PORT/200?sleep={ms}]
    #[arg(long, value_name = "TEMPLATE", value_hint = ValueHint::Url)]
    url: Option<String>,

    /// Connect timeout, and the whole request's (its body read to the end), in seconds
    /// [default: 30]
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    http_timeout: Option<String>,

    /// The simulated GIL's switch interval in ms: how long a holder keeps the lock once
    /// another thread asked for it (CPython's default) [default: 5]
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    switch_interval_ms: Option<String>,

    /// How often the scheduler sampler reads each worker thread, in ms [default: 10]
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    sample_ms: Option<String>,

    #[command(flatten)]
    outputs: OutputArgs,

    /// Run every input N times (the inputs in order, N times over), for many small tasks
    /// and their distributions; workers still default to one per distinct input [default: 1]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    repeat: Option<String>,

    /// Confine every worker to these CPUs: 0, 0-1, 0,2 (efficiency is then measured against
    /// that many cores) [default: every CPU poolscope may use]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    cpus: Option<String>,

    /// Run the whole plan N times (each run kept: its own folder headless, the history in
    /// the view) and give every makespan and speed-up as mean ± σ, hyperfine-style
    /// [default: 1]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    runs: Option<String>,
}

/// The most runs `--runs` may ask for.
pub const MAX_RUNS: usize = 1000;

const DEFAULT_FIB: &str = "34..42";
const DEFAULT_DELAYS: &str = "1000..1800:100";
const DEFAULT_HTTP_TIMEOUT: &str = "30";

/// What the command line asks for, validated.
#[derive(Debug)]
pub enum Action {
    /// Run a plan, with the live view or headless.
    Run(RunConfig),
    /// Open recorded files.
    View(ViewConfig),
    /// Watch a program (`poolscope watch`).
    Watch(WatchConfig),
    /// Run the delay server alone.
    Serve {
        /// The port to listen on (0: any free one).
        port: u16,
    },
    /// Print the completion script for a shell ([`completions`]).
    Completions(clap_complete::Shell),
    /// Print the manual page ([`man_page`]).
    Man,
    /// Be a process-pool worker.
    Worker {
        /// The pid of the poolscope that started us.
        parent_pid: u32,
        /// The workload, as JSON.
        workload_json: String,
        /// The parent's clock anchor, when it gave one.
        clock_anchor: Option<crate::model::clock::ClockAnchor>,
        /// CPUs to confine the worker to.
        cpus: Option<Vec<usize>>,
    },
}

/// A validated run request.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// What to run.
    pub plan: Plan,
    /// Where files go.
    pub out: OutDir,
    /// Whether `--headless` was given.
    pub headless: bool,
    /// Flags given that this plan does not use, one line each ("--url is ignored: …"),
    /// for the user to see: a flag is never silently ignored.
    pub warnings: Vec<String>,
    /// Charts and traces to write when the run ends.
    pub outputs: Outputs,
    /// How many times to run the plan (`--runs`).
    pub runs: usize,
}

/// A validated `poolscope view`.
#[derive(Debug, Clone)]
pub struct ViewConfig {
    /// The files, in the order given.
    pub files: Vec<PathBuf>,
    /// Skip bad rows instead of stopping.
    pub lenient: bool,
    /// Where `e` exports.
    pub out: OutDir,
    /// What to write instead of opening the screen.
    pub outputs: Outputs,
}

/// A validated `poolscope watch`.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// What to watch.
    pub target: crate::engine::watch::Target,
    /// `--python`.
    pub python: bool,
    /// `--serve`.
    pub serve: bool,
    /// `--log FILE`, if given.
    pub log: Option<PathBuf>,
    /// `--headless`.
    pub headless: bool,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// `--sample-ms`.
    pub sample_interval: Duration,
    /// Where the files go.
    pub out: OutDir,
    /// Charts and traces to write when the watch ends.
    pub outputs: Outputs,
    /// Flags given that do not apply, one line each.
    pub warnings: Vec<String>,
}

/// Charts and traces to write: `--print [--width N]`, `--trace FILE`, `--svg FILE`, and how
/// deep the charts show nested calls (`--depth`, for `view`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    /// `--print`: the chart's width, `None` for the terminal's (else 100).
    pub print: Option<Option<u16>>,
    /// `--trace FILE`.
    pub trace: Option<PathBuf>,
    /// `--svg FILE`.
    pub svg: Option<PathBuf>,
    /// `--depth`: the rows of nesting a thread shows in the charts (the screen's at first).
    pub depth: Depth,
}

impl Outputs {
    /// Whether anything is asked for.
    pub fn any(&self) -> bool {
        self.print.is_some() || self.trace.is_some() || self.svg.is_some()
    }
}

impl OutputArgs {
    fn into_outputs(self) -> Result<Outputs, UsageError> {
        let width = match &self.width {
            None => None,
            Some(text) => match text.trim().parse::<u16>() {
                Ok(n) if (crate::chart::MIN_WIDTH..=crate::chart::MAX_WIDTH).contains(&n) => {
                    Some(n)
                }
                _ => {
                    return Err(usage(
                        "--width",
                        text,
                        format!(
                            "expected a number of columns from {} to {}",
                            crate::chart::MIN_WIDTH,
                            crate::chart::MAX_WIDTH
                        ),
                    ));
                }
            },
        };
        if width.is_some() && !self.print {
            return Err(usage(
                "--width",
                self.width.as_deref().unwrap_or_default(),
                "sets the width of --print's chart: add --print",
            ));
        }
        for (flag, file) in [("--trace", &self.trace), ("--svg", &self.svg)] {
            if let Some(file) = file {
                check_output_file(flag, file)?;
            }
        }
        Ok(Outputs {
            print: self.print.then_some(width),
            trace: self.trace,
            svg: self.svg,
            depth: Depth::DEFAULT,
        })
    }
}

/// Where a run's files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutDir {
    /// `--out DIR`: this folder, files replaced on every export.
    Fixed(PathBuf),
    /// No `--out`: a new timestamped folder under this one for every export.
    NewUnder(PathBuf),
}

impl OutDir {
    /// The folder that must be writable for this run's files: `--out DIR` itself, or the
    /// folder new run folders go under.
    pub fn base(&self) -> &std::path::Path {
        match self {
            OutDir::Fixed(dir) | OutDir::NewUnder(dir) => dir,
        }
    }
}

/// A bad flag value: which flag, what was given, what is wrong and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    flag: &'static str,
    value: String,
    problem: String,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            // A flag that takes no value, or something missing: no empty quotes.
            write!(f, "{}: {}", self.flag, self.problem)
        } else {
            write!(f, "{} '{}': {}", self.flag, self.value, self.problem)
        }
    }
}

impl std::error::Error for UsageError {}

impl UsageError {
    /// The flag whose value was refused (`--workers`).
    pub fn flag(&self) -> &'static str {
        self.flag
    }
}

fn usage(flag: &'static str, value: &str, problem: impl Into<String>) -> UsageError {
    UsageError {
        flag,
        value: value.to_string(),
        problem: problem.into(),
    }
}

impl Cli {
    /// Validates the parsed flags into an [`Action`].
    pub fn into_action(self) -> Result<Action, UsageError> {
        match self.command {
            Some(Command::Serve(serve)) => {
                let port = serve.port.trim().parse::<u16>().map_err(|_| {
                    usage(
                        "--port",
                        &serve.port,
                        "expected a port number from 0 to 65535",
                    )
                })?;
                Ok(Action::Serve { port })
            }
            Some(Command::Completions(args)) => Ok(Action::Completions(args.shell)),
            Some(Command::Man) => Ok(Action::Man),
            Some(Command::Worker(worker)) => Ok(Action::Worker {
                parent_pid: worker.parent_pid,
                workload_json: worker.workload,
                clock_anchor: worker
                    .clock_anchor
                    .as_deref()
                    .and_then(crate::model::clock::ClockAnchor::parse_arg),
                cpus: worker.cpus.as_deref().and_then(|list| {
                    crate::engine::cpus::parse_list(list, &crate::engine::cpus::allowed()).ok()
                }),
            }),
            Some(Command::View(view)) => {
                let mut outputs = view.outputs.into_outputs()?;
                if let Some(text) = &view.depth {
                    outputs.depth = Depth::parse(text).ok_or_else(|| {
                        usage(
                            "--depth",
                            text,
                            "expected how many lanes of nesting a thread shows: a number from 1, or all",
                        )
                    })?;
                    // With --trace alone nothing is drawn: the trace keeps every slice.
                    if outputs.trace.is_some() && outputs.print.is_none() && outputs.svg.is_none() {
                        return Err(usage(
                            "--depth",
                            text,
                            "sets how deep the charts show nested calls, and --trace writes every slice: add --print or --svg",
                        ));
                    }
                }
                Ok(Action::View(ViewConfig {
                    files: view.files,
                    lenient: view.lenient,
                    out: out_dir(view.out)?,
                    outputs,
                }))
            }
            Some(Command::Watch(watch)) => watch.into_config().map(Action::Watch),
            None => self.run.into_config().map(Action::Run),
        }
    }
}

impl RunArgs {
    fn into_config(self) -> Result<RunConfig, UsageError> {
        let workloads = parse_list(
            "--workload",
            &self.workload,
            WorkloadKind::parse,
            "fib, http, sleep, isolation",
        )?;
        let executors = parse_list(
            "--executor",
            &self.executor,
            ExecutorKind::parse,
            "processes, threads, gil, sequential",
        )?;
        let warnings = ignored_flags(&self, &workloads, &executors);
        let fib_text = self.fib.as_deref().unwrap_or(DEFAULT_FIB);
        let delays_text = self.delays.as_deref().unwrap_or(DEFAULT_DELAYS);
        let fib = parse_inputs("--fib", fib_text, 1, "34..42, 34..=41 or 30,35,40")?;
        if let Some(&bad) = fib.iter().find(|&&n| n == 0 || n > FIB_MAX) {
            return Err(usage(
                "--fib",
                fib_text,
                format!(
                    "fib({bad}) is out of range: n must be from 1 to {FIB_MAX} (larger results overflow 64 bits)"
                ),
            ));
        }
        let delays = parse_inputs(
            "--delays",
            delays_text,
            100,
            "1000..1800:100, 100..=500 or 100,250,400 (ms)",
        )?;
        let workers = self
            .workers
            .as_deref()
            .map(|text| match text.trim().parse::<usize>() {
                Ok(n @ 1..=MAX_WORKERS) => Ok(n),
                _ => Err(usage(
                    "--workers",
                    text,
                    format!("expected a whole number from 1 to {MAX_WORKERS}"),
                )),
            })
            .transpose()?;
        if workers.is_none() {
            for (flag, text, inputs) in [
                ("--fib", fib_text, &fib),
                ("--delays", delays_text, &delays),
            ] {
                if inputs.len() > MAX_WORKERS {
                    return Err(usage(
                        flag,
                        text,
                        format!(
                            "{} inputs would mean {} workers (one per input); pass --workers N (at most {MAX_WORKERS})",
                            inputs.len(),
                            inputs.len()
                        ),
                    ));
                }
            }
        }
        let target = match self.url {
            None => HttpTarget::Embedded,
            Some(url) => HttpTarget::Template(check_url(&url)?),
        };
        let timeout = parse_seconds(
            "--http-timeout",
            self.http_timeout.as_deref().unwrap_or(DEFAULT_HTTP_TIMEOUT),
        )?;
        let runs = match self.runs.as_deref() {
            None => 1,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n @ 1..=MAX_RUNS) => n,
                _ => {
                    return Err(usage(
                        "--runs",
                        text,
                        format!("expected a whole number of runs from 1 to {MAX_RUNS}"),
                    ));
                }
            },
        };
        let out = out_dir(self.out)?;
        let outputs = self.outputs.into_outputs()?;
        let repeat = match self.repeat.as_deref() {
            None => 1,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n @ 1..=MAX_TASKS) => n,
                _ => {
                    return Err(usage(
                        "--repeat",
                        text,
                        format!("expected a whole number from 1 to {MAX_TASKS}"),
                    ));
                }
            },
        };
        let uses_delays =
            workloads.contains(&WorkloadKind::Http) || workloads.contains(&WorkloadKind::Sleep);
        for (used, flag, text, inputs) in [
            (
                workloads.contains(&WorkloadKind::Fib),
                "--fib",
                fib_text,
                &fib,
            ),
            (uses_delays, "--delays", delays_text, &delays),
        ] {
            if used && inputs.len().saturating_mul(repeat) > MAX_TASKS {
                return Err(usage(
                    "--repeat",
                    &repeat.to_string(),
                    format!(
                        "{} inputs ({flag} {text}) × {repeat} is more than {MAX_TASKS} tasks",
                        inputs.len()
                    ),
                ));
            }
        }
        let mut plan = Plan::from_parts(
            &workloads,
            &executors,
            &fib,
            &delays,
            workers,
            HttpSettings { target, timeout },
        );
        let millis = |flag: &'static str, text: &Option<String>, default: u64, max: u64| {
            let Some(text) = text else {
                return Ok(Duration::from_millis(default));
            };
            match text.trim().parse::<u64>() {
                Ok(ms @ 1..) if ms <= max => Ok(Duration::from_millis(ms)),
                _ => Err(usage(
                    flag,
                    text,
                    format!("expected a whole number of milliseconds from 1 to {max}"),
                )),
            }
        };
        plan.repeat(repeat);
        plan.sched.switch_interval =
            millis("--switch-interval-ms", &self.switch_interval_ms, 5, 10_000)?;
        plan.sched.sample_interval = millis("--sample-ms", &self.sample_ms, 10, 10_000)?;
        if let Some(list) = &self.cpus {
            let cpus = crate::engine::cpus::parse_list(list, &crate::engine::cpus::allowed())
                .map_err(|problem| usage("--cpus", list, problem))?;
            plan.sched.cpus = Some(cpus);
        }
        Ok(RunConfig {
            plan,
            out,
            headless: self.headless,
            warnings,
            outputs,
            runs,
        })
    }
}

/// The flags a plan of `workloads` on `executors` makes no use of, each with why: what
/// the command line warns about when they are given, and what the plan editor leaves out
/// of its equivalent command line.
pub fn unused_flags(
    workloads: &[WorkloadKind],
    executors: &[ExecutorKind],
) -> Vec<(&'static str, &'static str)> {
    let has = |w| workloads.contains(&w);
    let no_http = "--workload has no http (add it: --workload fib,http)";
    let mut unused = Vec::new();
    if !has(WorkloadKind::Http) {
        unused.push(("--url", no_http));
        unused.push(("--http-timeout", no_http));
    }
    if !has(WorkloadKind::Fib) {
        unused.push((
            "--fib",
            "--workload has no fib (add it: --workload fib,http)",
        ));
    }
    if !has(WorkloadKind::Http) && !has(WorkloadKind::Sleep) {
        unused.push((
            "--delays",
            "--workload has neither http nor sleep, the workloads that take delays",
        ));
    }
    if !executors.contains(&ExecutorKind::Gil) {
        unused.push((
            "--switch-interval-ms",
            "--executor has no gil, the executor with a switch interval",
        ));
    }
    if executors.iter().all(|&e| e == ExecutorKind::Sequential) {
        unused.push((
            "--workers",
            "the sequential executor always runs one worker",
        ));
    }
    unused
}

impl WatchArgs {
    fn into_config(self) -> Result<WatchConfig, UsageError> {
        use crate::engine::watch::Target;
        let mut warnings = Vec::new();
        let target = match (self.pid.as_deref(), self.command.is_empty()) {
            (Some(text), true) => match text.trim().parse::<u32>() {
                Ok(pid @ 1..) => Target::Pid(pid),
                _ => {
                    return Err(usage(
                        "--pid",
                        text,
                        "expected a process id (a whole number above 0)",
                    ));
                }
            },
            (Some(text), false) => {
                return Err(usage(
                    "--pid",
                    text,
                    "give either --pid PID or a command after --, not both",
                ));
            }
            (None, true) => {
                return Err(usage(
                    "CMD",
                    "",
                    "nothing to watch: give a command after -- (poolscope watch -- python3 x.py) or --pid PID",
                ));
            }
            (None, false) => Target::Command(self.command),
        };
        if let Target::Pid(_) = target {
            for (given, flag) in [
                (self.serve, "--serve"),
                (self.log.is_some(), "--log"),
                (self.python, "--python"),
            ] {
                if given {
                    return Err(usage(
                        flag,
                        "",
                        "applies to a command poolscope starts (after --), not to --pid",
                    ));
                }
            }
        }
        let duration = self
            .duration
            .as_deref()
            .map(|text| parse_seconds("--duration", text))
            .transpose()?;
        let sample_interval = match self.sample_ms.as_deref() {
            None => Duration::from_millis(10),
            Some(text) => match text.trim().parse::<u64>() {
                Ok(ms @ 1..=10_000) => Duration::from_millis(ms),
                _ => {
                    return Err(usage(
                        "--sample-ms",
                        text,
                        "expected a whole number of milliseconds from 1 to 10000",
                    ));
                }
            },
        };
        if let Some(log) = &self.log
            && log.is_dir()
        {
            return Err(usage(
                "--log",
                &log.display().to_string(),
                "is a directory; give a file path",
            ));
        }
        if self.headless && duration.is_none() && matches!(target, Target::Pid(_)) {
            warnings.push(
                "--headless --pid without --duration watches until the process exits (Ctrl-C stops watching earlier)"
                    .into(),
            );
        }
        Ok(WatchConfig {
            target,
            python: self.python,
            serve: self.serve,
            log: self.log,
            headless: self.headless,
            duration,
            sample_interval,
            out: out_dir(self.out)?,
            outputs: self.outputs.into_outputs()?,
            warnings,
        })
    }
}

/// The flags given that the chosen workloads and executors make no use of.
fn ignored_flags(
    args: &RunArgs,
    workloads: &[WorkloadKind],
    executors: &[ExecutorKind],
) -> Vec<String> {
    let given = |flag: &str| match flag {
        "--url" => args.url.is_some(),
        "--http-timeout" => args.http_timeout.is_some(),
        "--fib" => args.fib.is_some(),
        "--delays" => args.delays.is_some(),
        "--switch-interval-ms" => args.switch_interval_ms.is_some(),
        "--workers" => args.workers.is_some(),
        _ => false,
    };
    unused_flags(workloads, executors)
        .into_iter()
        .filter(|(flag, _)| given(flag))
        .map(|(flag, why)| format!("{flag} is ignored: {why}"))
        .collect()
}

#[cfg(test)]
mod tests;
