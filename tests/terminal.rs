//! The live view in a real pseudo-terminal: the built binary runs in a pty of a set size,
//! its output goes through a terminal emulator (vt100), and the test reads the screen,
//! presses keys, and checks what a user would: the picture, the exported files, a clean
//! exit that leaves the alternate screen and raw mode, and no worker process left behind.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

struct Pty {
    master: Box<dyn MasterPty + Send>,
    _slave: Box<dyn portable_pty::SlavePty + Send>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    fn spawn(args: &[&str], cwd: &Path, cols: u16, rows: u16) -> Pty {
        Self::spawn_with(args, cwd, cols, rows, &[])
    }

    fn spawn_with(args: &[&str], cwd: &Path, cols: u16, rows: u16, env: &[(&str, &str)]) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(bin());
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("TERM", "xterm-256color");
        // Glyphs instead of colours, so bars can be read off the screen text.
        cmd.env("NO_COLOR", "1");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let sink = Arc::clone(&parser);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        let writer = pair.master.take_writer().unwrap();
        Pty {
            master: pair.master,
            _slave: pair.slave,
            writer,
            parser,
            child,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, what: &str, timeout: Duration) -> String {
        let mut screen = String::new();
        let found = wait_until(timeout, || {
            screen = self.screen();
            screen.contains(what)
        });
        assert!(
            found,
            "waited {timeout:?} for {what:?}; the screen:\n{screen}"
        );
        screen
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// (canonical input, echo) of the terminal, read from the pty itself.
    fn line_discipline(&self) -> (bool, bool) {
        let fd = self.master.as_raw_fd().expect("a unix pty");
        // SAFETY: tcgetattr fills the zeroed termios we own; fd is the open pty master.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::tcgetattr(fd, &mut termios) }, 0);
        (
            termios.c_lflag & libc::ICANON != 0,
            termios.c_lflag & libc::ECHO != 0,
        )
    }

    /// The terminal is as it was: main screen, cursor shown, cooked mode with echo.
    fn assert_restored(&self) {
        let parser = self.parser.lock().unwrap();
        assert!(
            !parser.screen().alternate_screen(),
            "left the alternate screen"
        );
        assert!(!parser.screen().hide_cursor(), "cursor shown again");
        drop(parser);
        assert_eq!(
            self.line_discipline(),
            (true, true),
            "raw mode is off again"
        );
    }

    fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let mut status = None;
        assert!(
            wait_until(timeout, || {
                status = self.child.try_wait().unwrap();
                status.is_some()
            }),
            "poolscope did not exit; the screen:\n{}",
            self.screen()
        );
        status.unwrap()
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

/// Two process workers sleeping a minute each: a run that is surely still going.
const LONG_SLEEPS: &[&str] = &[
    "--workload",
    "sleep",
    "--executor",
    "processes",
    "--delays",
    "60000,60000",
    "--workers",
    "2",
];

const SMALL_PLAN: &[&str] = &[
    "--fib",
    "20..=24",
    "--delays",
    "50..=150:50",
    "--workers",
    "3",
];

#[test]
fn live_view_runs_exports_and_quits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(SMALL_PLAN, dir.path(), 120, 40);
    assert_eq!(pty.line_discipline(), (true, true), "a fresh pty is cooked");

    let screen = pty.wait_for("✓ done", Duration::from_secs(60));
    assert_eq!(
        pty.line_discipline(),
        (false, false),
        "raw mode while the view runs"
    );
    assert!(pty.parser.lock().unwrap().screen().alternate_screen());
    for name in [
        "process-fibo",
        "thread-fibo",
        "process-get",
        "thread-get",
        "summary",
    ] {
        assert!(screen.contains(name), "{name} missing:\n{screen}");
    }
    assert!(
        screen.contains("w0 pid ") && screen.contains("w2 pid "),
        "process lanes:\n{screen}"
    );
    assert!(
        screen.contains("w0 tid ") && screen.contains("w2 tid "),
        "thread lanes:\n{screen}"
    );
    assert!(
        screen.contains('█') || screen.contains('▓'),
        "bars:\n{screen}"
    );
    assert!(
        screen.contains("Process vs Threads speed-up"),
        "speed-ups:\n{screen}"
    );

    // Export: the same files as headless, into a new folder under ./poolscope-runs/.
    pty.press("e");
    let screen = pty.wait_for("exported to poolscope-runs/", Duration::from_secs(30));
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("poolscope-runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{screen}");
    let mut worker_pids = Vec::new();
    for (name, tasks) in [
        ("process-fibo", 5),
        ("thread-fibo", 5),
        ("process-get", 3),
        ("thread-get", 3),
    ] {
        let path = runs[0].join(format!("{name}.csv"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().lines().next(),
            Some(HEADER)
        );
        let (_, rows) = read_csv(&path);
        assert_eq!(rows.len(), tasks, "{name}");
        assert!(rows.iter().all(|r| r["status"] == "ok"), "{name}: {rows:?}");
        if name.starts_with("process") {
            worker_pids.extend(rows.iter().map(|r| r["pid"].parse::<u32>().unwrap()));
        }
    }
    assert!(runs[0].join("summary.json").is_file());

    // Resizing at any moment: too small shows a notice, back to normal redraws the view.
    pty.master
        .resize(PtySize {
            rows: 6,
            cols: 24,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    pty.parser.lock().unwrap().set_size(nz(6), nz(24));
    pty.wait_for("too small", Duration::from_secs(10));
    pty.master
        .resize(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    pty.parser.lock().unwrap().set_size(nz(30), nz(100));
    pty.wait_for("process-fibo", Duration::from_secs(10));

    pty.press("q");
    let status = pty.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    pty.assert_restored();
    assert_all_gone(&worker_pids);
}

/// SIGTERM in the middle of a run: workers killed, terminal restored, exit 128 + 15.
#[test]
fn sigterm_mid_run_restores_the_terminal_and_kills_workers() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(LONG_SLEEPS, dir.path(), 100, 30);
    pty.wait_for("w1 pid", Duration::from_secs(60));
    let pid = pty.child.process_id().unwrap();
    let workers = wait_for_children(pid, 2);

    // Export mid-run: the tasks still running are rows with status `running`.
    pty.press("e");
    pty.wait_for("exported to", Duration::from_secs(30));
    let run = std::fs::read_dir(dir.path().join("poolscope-runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (_, rows) = read_csv(&run.join("process-sleep.csv"));
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["running", "running"]);
    assert!(
        rows.iter()
            .all(|r| !r["start_time"].is_empty() && r["end_time"].is_empty())
    );

    send_signal(pid, libc::SIGTERM);
    assert_eq!(pty.wait_exit(Duration::from_secs(30)).exit_code(), 143);
    pty.assert_restored();
    assert_all_gone(&workers);
}

/// Keys work while the run goes on: select, reorder, zoom, freeze, help, rerun.
#[test]
fn keys_change_the_view_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--workload",
        "sleep",
        "--executor",
        "threads,processes",
        "--delays",
        "300..=900:300",
        "--workers",
        "3",
    ];
    let mut pty = Pty::spawn(&args, dir.path(), 120, 40);
    pty.wait_for("w0 tid", Duration::from_secs(60));
    pty.press(" ");
    pty.wait_for("FROZEN", Duration::from_secs(10));
    pty.press(" +");
    pty.wait_for("zoom ×2", Duration::from_secs(10));
    pty.press("0s");
    pty.wait_for("#0 300 ms", Duration::from_secs(10));
    pty.press("?");
    pty.wait_for("any key closes", Duration::from_secs(10));
    pty.press("x");
    pty.press("2");
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.press("r");
    pty.wait_for("restarted the plan", Duration::from_secs(30));
    pty.wait_for("✓ done", Duration::from_secs(60));
    pty.press("\x03"); // Ctrl-C quits too
    assert!(pty.wait_exit(Duration::from_secs(30)).success());
}

/// A panic outside any task, on a background thread: the terminal is restored first, the
/// message is printed on the normal screen, poolscope exits 101 and its workers die too.
#[test]
fn a_panic_restores_the_terminal_then_reports() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("POOLSCOPE_TEST_PANIC_AFTER_MS", "1500")];
    let mut pty = Pty::spawn_with(LONG_SLEEPS, dir.path(), 100, 30, &env);
    pty.wait_for("w1 pid", Duration::from_secs(60));
    let workers = wait_for_children(pty.child.process_id().unwrap(), 2);
    assert_eq!(pty.wait_exit(Duration::from_secs(30)).exit_code(), 101);
    pty.assert_restored();
    pty.wait_for("test panic requested", Duration::from_secs(10));
    assert_all_gone(&workers);
}
