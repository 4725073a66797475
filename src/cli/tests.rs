//! Unit tests of the command line: what is accepted, and how refusals read.
use super::*;

fn action(args: &[&str]) -> Result<Action, UsageError> {
    let mut argv = vec!["poolscope"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv)
        .expect("clap accepts the flags")
        .into_action()
}

fn plan(args: &[&str]) -> Plan {
    match action(args).unwrap() {
        Action::Run(config) => config.plan,
        other => panic!("expected a run, got {other:?}"),
    }
}

fn error(args: &[&str]) -> String {
    action(args).unwrap_err().to_string()
}

#[test]
fn ranges_in_every_accepted_form() {
    let fib = |s| parse_inputs("--fib", s, 1, "").unwrap();
    assert_eq!(fib("34..42"), (34..=41).collect::<Vec<_>>());
    assert_eq!(fib("34..=41"), (34..=41).collect::<Vec<_>>());
    assert_eq!(fib("30..=40:5"), [30, 35, 40]);
    assert_eq!(fib("30, 35,40"), [30, 35, 40]);
    assert_eq!(fib("7"), [7]);
    let delays = parse_inputs("--delays", "1000..1800", 100, "").unwrap();
    assert_eq!(delays, [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700]);
}

#[test]
fn bad_ranges_name_the_flag_and_the_form() {
    let e = error(&["--fib", "42..34"]);
    assert!(e.starts_with("--fib '42..34': the range is empty"), "{e}");
    assert!(e.contains("34..=41"), "{e}");
    assert!(error(&["--fib", "34..34"]).contains("empty"));
    assert!(error(&["--fib", "5..=4"]).contains("empty"));
    assert!(error(&["--delays", "1..10:0"]).contains("step"));
    assert!(error(&["--fib", "a..b"]).contains("'a' is not a whole number"));
    assert!(error(&["--fib", ""]).contains("empty"));
}

#[test]
fn fib_bounds_are_1_to_93() {
    assert!(error(&["--fib", "0..3"]).contains("fib(0) is out of range"));
    assert!(error(&["--fib", "90..=94"]).contains("fib(94)"));
    assert_eq!(plan(&["--fib", "93"]).experiments[0].inputs, [93]);
}

#[test]
fn workers_must_be_positive() {
    assert!(error(&["--workers", "0"]).starts_with("--workers '0'"));
    assert!(error(&["--workers", "x"]).contains("whole number"));
    assert!(
        plan(&["--workers", "3"])
            .experiments
            .iter()
            .all(|e| e.workers == 3)
    );
}

#[test]
fn unknown_names_are_listed_with_the_accepted_ones() {
    let e = error(&["--workload", "fib,gpu"]);
    assert!(
        e.contains("unknown name 'gpu'") && e.contains("fib, http, sleep, isolation"),
        "{e}"
    );
    let e = error(&["--executor", "fibers"]);
    assert!(e.contains("processes, threads, gil, sequential"), "{e}");
}

#[test]
fn urls_need_the_placeholder() {
    assert!(error(&["--url", "http://x/200"]).contains("{ms}"));
    assert!(error(&["--url", "ftp://x/{ms}"]).contains("http"));
    assert!(error(&["--http-timeout", "0"]).starts_with("--http-timeout"));
}

#[test]
fn experiments_follow_the_posts_order() {
    let names: Vec<_> = plan(&[
        "--workload",
        "sleep,fib",
        "--executor",
        "threads,sequential",
    ])
    .experiments
    .into_iter()
    .map(|e| e.name)
    .collect();
    assert_eq!(
        names,
        [
            "thread-sleep",
            "sequential-sleep",
            "thread-fibo",
            "sequential-fibo"
        ]
    );
}

#[test]
fn repeat_runs_the_inputs_n_times_over() {
    let p = plan(&["--fib", "30,31", "--repeat", "3", "--workload", "fib"]);
    assert_eq!(p.experiments[0].inputs, [30, 31, 30, 31, 30, 31]);
    assert_eq!(p.experiments[0].workers, 2, "one worker per distinct input");
    assert!(error(&["--repeat", "0"]).starts_with("--repeat '0'"));
    assert!(error(&["--repeat", "999999"]).contains("more than 1000000 tasks"));
    let only_sleep = plan(&["--workload", "sleep", "--delays", "0", "--repeat", "500000"]);
    assert_eq!(
        only_sleep.experiments[0].inputs.len(),
        500_000,
        "--fib is not run"
    );
}

#[test]
fn scheduling_flags() {
    let p = plan(&[
        "--switch-interval-ms",
        "2",
        "--sample-ms",
        "20",
        "--cpus",
        "0",
    ]);
    assert_eq!(p.sched.switch_interval, Duration::from_millis(2));
    assert_eq!(p.sched.sample_interval, Duration::from_millis(20));
    assert_eq!(p.sched.cpus, Some(vec![0]));
    assert!(error(&["--sample-ms", "0"]).starts_with("--sample-ms '0'"));
    let e = error(&["--cpus", "4096"]);
    assert!(
        e.contains("CPU 4096 does not exist") && e.contains("CPUs 0"),
        "{e}"
    );
}

#[test]
fn defaults_are_the_posts() {
    assert_eq!(plan(&[]), Plan::default());
}

#[test]
fn completions_and_man_are_subcommands_that_print() {
    assert!(matches!(
        action(&["completions", "zsh"]),
        Ok(Action::Completions(clap_complete::Shell::Zsh))
    ));
    assert!(matches!(action(&["man"]), Ok(Action::Man)));
    // A shell clap_complete does not know is refused by clap, naming those it does.
    let refused = Cli::try_parse_from(["poolscope", "completions", "csh"]).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("[possible values: bash, elvish, fish, powershell, zsh]"),
        "{refused}"
    );
    // Run flags do not mix with them.
    assert!(Cli::try_parse_from(["poolscope", "--headless", "man"]).is_err());
}

#[test]
fn the_scripts_and_the_page_follow_the_flags() {
    let bash = String::from_utf8(completions(clap_complete::Shell::Bash)).unwrap();
    assert!(
        bash.contains("--http-timeout") && bash.contains("--lenient"),
        "{bash}"
    );
    let page = String::from_utf8(man_page()).unwrap();
    assert!(page.contains("\\-\\-switch\\-interval\\-ms"), "{page}");
    assert!(
        page.contains("poolscope serve --port 8080".replace('-', "\\-").as_str()),
        "the examples: {page}"
    );
}
