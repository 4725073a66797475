//! The `poolscope` binary: parse the command line, dispatch, and turn the outcome into an
//! exit status (0 fine, 1 a task or the run failed, 2 a usage error, 128+N a signal).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use poolscope::cli::{Action, Cli, OutDir, ViewConfig};
use poolscope::engine::delay_server::DelayServer;
use poolscope::engine::executor;
use poolscope::engine::runner::RunOptions;
use poolscope::{headless, tui};

fn main() -> ExitCode {
    poolscope::engine::limits::map_big_allocations();
    // As servers do: big pools and many clients need descriptors; the hard limit is ours.
    poolscope::engine::limits::raise_open_files();
    let action = match Cli::parse().into_action() {
        Ok(action) => action,
        Err(usage) => {
            say(&format!("poolscope: error: {usage}"));
            return ExitCode::from(2);
        }
    };
    if let Action::Run(config) = &action {
        for warning in &config.warnings {
            say(&format!("poolscope: warning: {warning}"));
        }
        // `--out` is checked before the run, so a finished run is never lost to a folder
        // that cannot be written. (The default folder is made when something is saved.)
        if let OutDir::Fixed(_) = config.out
            && let Err(e) = poolscope::formats::export::check_writable(config.out.base())
        {
            say(&format!(
                "poolscope: error: --out: {e:#}; give a folder you can write to"
            ));
            return ExitCode::from(2);
        }
    }
    let result = match action {
        Action::Worker {
            parent_pid,
            workload_json,
            clock_anchor,
            cpus,
        } => {
            if let Some(cpus) = cpus {
                let _ = poolscope::engine::cpus::confine_this_thread(&cpus);
            }
            return executor::worker::main(parent_pid, &workload_json, clock_anchor);
        }
        Action::Serve { port } => serve(port),
        Action::Completions(shell) => return print_bytes(&poolscope::cli::completions(shell)),
        Action::Man => return print_bytes(&poolscope::cli::man_page()),
        Action::View(config) => return view(&config),
        Action::Watch(config) => return watch(&config),
        Action::Run(config) => RunOptions::current_exe().and_then(|options| {
            if config.headless {
                headless::run(&config, &options)
            } else if !std::io::stdout().is_terminal() {
                say("poolscope: stdout is not a terminal; running headless (--headless)");
                headless::run(&config, &options)
            } else {
                tui::run(&config, &options)
            }
        }),
    };
    result.unwrap_or_else(|error| {
        say(&format!("poolscope: error: {error:#}"));
        ExitCode::from(1)
    })
}

/// `poolscope watch`: the live view over a watched program, or headless (`--headless`, or
/// stdout not a terminal).
fn watch(config: &poolscope::cli::WatchConfig) -> ExitCode {
    for warning in &config.warnings {
        say(&format!("poolscope: warning: {warning}"));
    }
    if let OutDir::Fixed(dir) = &config.out
        && let Err(e) = poolscope::formats::export::check_writable(dir)
    {
        say(&format!(
            "poolscope: error: --out: {e:#}; give a folder you can write to"
        ));
        return ExitCode::from(2);
    }
    let headless = config.headless || !std::io::stdout().is_terminal();
    if !config.headless && headless {
        say("poolscope: stdout is not a terminal; watching headless (--headless)");
    }
    let result = if headless {
        headless::watch::run(config)
    } else {
        tui::watch(config)
    };
    result.unwrap_or_else(|error| {
        say(&format!("poolscope: error: {error:#}"));
        ExitCode::from(1)
    })
}

/// `poolscope view`: the screen over the files, or with `--print`, `--trace`, `--svg` (or
/// stdout not a terminal) the chart and files written at once, with no screen.
fn view(config: &ViewConfig) -> ExitCode {
    use poolscope::formats;
    let print_instead = !std::io::stdout().is_terminal() && !config.outputs.any();
    if !config.outputs.any() && !print_instead {
        return tui::view(config).unwrap_or_else(|error| {
            say(&format!("poolscope: error: {error:#}"));
            ExitCode::from(1)
        });
    }
    let mut outputs = config.outputs.clone();
    if print_instead {
        say("poolscope: stdout is not a terminal; printing the chart (--print)");
        outputs.print = Some(None);
    }
    let recording =
        match formats::load(&config.files, config.lenient, &formats::Progress::default()) {
            Ok(recording) => recording,
            Err(error) => {
                say(&format!("poolscope: error: {error}"));
                return ExitCode::from(2);
            }
        };
    for note in &recording.notes {
        say(&format!("poolscope: note: {note}"));
    }
    match headless::write_outputs(&recording.timeline, &outputs) {
        Ok(lines) => {
            // After the chart, the run's results as headless printed them.
            if outputs.print.is_some() {
                use std::io::Write;
                let mut stdout = std::io::stdout().lock();
                let _ = write!(stdout, "\n{}", headless::results(&recording.timeline));
                let _ = stdout.flush();
            }
            for line in lines {
                say(&line);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            say(&format!("poolscope: error: {error:#}"));
            ExitCode::from(1)
        }
    }
}

/// Writes `bytes` to stdout: a completion script or the man page. A reader that closes the
/// pipe early (`poolscope man | head`) has what it wanted, so a broken pipe is success, as
/// for ripgrep; any other failure is said and exits 1.
fn print_bytes(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            say(&format!("poolscope: error: writing to stdout: {e}"));
            ExitCode::from(1)
        }
    }
}

/// A line on stderr; a closed stderr is not worth a panic.
fn say(line: &str) {
    use std::io::Write;
    // Errors quote file names, paths and fields from outside: shown, never obeyed.
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        poolscope::model::display::safe(line)
    );
}

fn serve(port: u16) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let server = DelayServer::start(port)?;
    // Writes that fail (stdout closed: `poolscope serve | head -1`) must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "poolscope delay server listening on http://{}",
        server.addr()
    );
    let _ = writeln!(
        out,
        "  GET /200?sleep=MS answers 200 \"200 OK\" after MS ms (any status 200-599 works; MS up to 60000)"
    );
    let _ = writeln!(out, "  URL template for --url: {}", server.url_template());
    let _ = writeln!(out, "Press Ctrl-C to stop.");
    let _ = out.flush();
    server.wait();
    Ok(ExitCode::SUCCESS)
}
