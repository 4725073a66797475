//! The `poolscope` binary: parse the command line, dispatch, and turn the outcome into an
//! exit status (0 fine, 1 a task or the run failed, 2 a usage error, 128+N a signal).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use poolscope::cli::{Action, Cli};
use poolscope::delay_server::DelayServer;
use poolscope::runner::RunOptions;
use poolscope::{executor, headless, tui};

fn main() -> ExitCode {
    let action = match Cli::parse().into_action() {
        Ok(action) => action,
        Err(usage) => {
            eprintln!("poolscope: error: {usage}");
            return ExitCode::from(2);
        }
    };
    let result = match action {
        Action::Worker {
            parent_pid,
            workload_json,
        } => return executor::worker::main(parent_pid, &workload_json),
        Action::Serve { port } => serve(port),
        Action::Run(config) => RunOptions::current_exe().and_then(|options| {
            if config.headless {
                headless::run(&config, &options)
            } else if !std::io::stdout().is_terminal() {
                eprintln!("poolscope: stdout is not a terminal; running headless (--headless)");
                headless::run(&config, &options)
            } else {
                tui::run(&config, &options)
            }
        }),
    };
    result.unwrap_or_else(|error| {
        eprintln!("poolscope: error: {error:#}");
        ExitCode::from(1)
    })
}

fn serve(port: u16) -> anyhow::Result<ExitCode> {
    let server = DelayServer::start(port)?;
    println!(
        "poolscope delay server listening on http://{}",
        server.addr()
    );
    println!("  GET /200?sleep=MS answers 200 \"200 OK\" after MS ms (any status 200-599 works)");
    println!("  URL template for --url: {}", server.url_template());
    println!("Press Ctrl-C to stop.");
    server.wait();
    Ok(ExitCode::SUCCESS)
}
