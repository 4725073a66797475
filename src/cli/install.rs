//! What an installed CLI ships beside its binary: shell completions (`poolscope completions
//! SHELL`, through clap_complete) and a man page (`poolscope man`, through clap_mangen), both
//! made from the same clap definition as `--help`, so they cannot drift from the flags.
//!
//! Both return bytes rather than print: `main` writes them, and treats a closed stdout
//! (`poolscope man | head`) as the reader's choice, not an error.

use std::io::Write;

use clap::CommandFactory;
use clap_mangen::Man;

use super::{Cli, EXAMPLES};

/// The completion script for `shell`, for `poolscope` as installed under that name.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut without_hidden_subcommands(),
        "poolscope",
        &mut script,
    );
    script
}

/// The command line as a user types it: poolscope's own `worker` subcommand (how it starts
/// its worker processes) left out. Some generators (bash's) would offer hidden subcommands.
fn without_hidden_subcommands() -> clap::Command {
    let full = Cli::command();
    let mut visible = clap::Command::new("poolscope")
        .about(full.get_about().cloned().unwrap_or_default())
        .version(env!("CARGO_PKG_VERSION"))
        .args_conflicts_with_subcommands(true);
    for arg in full.get_arguments() {
        visible = visible.arg(arg.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        visible = visible.subcommand(sub.clone());
    }
    visible
}

/// poolscope(1): the usage, every flag of the run, each subcommand with its own flags, then
/// the examples, exit status, environment and files, in roff (`man -l -` reads it).
pub fn man_page() -> Vec<u8> {
    let mut command = Cli::command();
    // Gives subcommands their full names ("poolscope view") for their synopses.
    command.build();
    let mut page = Vec::new();
    // Writing into a Vec cannot fail; the results are checked only to satisfy the types.
    let _ = write_man_page(&command, &mut page);
    ascii_only(&once_preamble(&String::from_utf8_lossy(&page))).into_bytes()
}

/// `page` with every character past ASCII written as roff's `\[uXXXX]`: the help text has
/// `…`, `→` and `×`, which a formatter not told the input's encoding (groff without
/// preconv, some mandoc setups) would mangle.
fn ascii_only(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for c in page.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", c as u32));
        }
    }
    out
}

/// `page` with clap_mangen's two-line preamble (it defines the apostrophe string `Aq`) kept
/// at its first appearance only: each section rendered on its own repeats it.
fn once_preamble(page: &str) -> String {
    const PREAMBLE: [&str; 2] = [".ie \\n(.g .ds Aq \\(aq", ".el .ds Aq '"];
    let mut seen = false;
    let mut out = String::with_capacity(page.len());
    let mut lines = page.lines().peekable();
    while let Some(line) = lines.next() {
        if line == PREAMBLE[0] && lines.peek() == Some(&PREAMBLE[1]) {
            lines.next();
            if seen {
                continue;
            }
            seen = true;
            out.push_str(line);
            out.push('\n');
            out.push_str(PREAMBLE[1]);
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn write_man_page(command: &clap::Command, page: &mut Vec<u8>) -> std::io::Result<()> {
    let man = Man::new(command.clone());
    man.render_title(page)?;
    man.render_name_section(page)?;
    man.render_synopsis_section(page)?;
    man.render_description_section(page)?;
    man.render_options_section(page)?;
    // clap_mangen's own list points at a page per subcommand (poolscope-view(1)); here
    // they are sections of this page, as in ripgrep's and hyperfine's.
    let subcommands: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .collect();
    writeln!(page, ".SH SUBCOMMANDS")?;
    for sub in &subcommands {
        writeln!(page, ".TP")?;
        writeln!(page, "\\fBpoolscope {}\\fR", sub.get_name())?;
        if let Some(about) = sub.get_about() {
            writeln!(page, "{}", roff_text(&about.to_string()))?;
        }
    }
    for sub in subcommands {
        let full_name = format!("poolscope {}", sub.get_name());
        writeln!(page, ".SH \"{}\"", full_name.to_uppercase())?;
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            writeln!(page, "{}", roff_text(&about.to_string()))?;
        }
        let sub_man = Man::new(sub.clone());
        // The sub-page's own section headers (SYNOPSIS, OPTIONS) become sub-sections here.
        let mut part = Vec::new();
        sub_man.render_synopsis_section(&mut part)?;
        sub_man.render_options_section(&mut part)?;
        let part = String::from_utf8_lossy(&part).replace(".SH ", ".SS ");
        page.extend_from_slice(part.as_bytes());
    }
    writeln!(page, ".SH EXAMPLES")?;
    writeln!(page, ".nf")?;
    for line in EXAMPLES.lines().skip_while(|l| l.starts_with("Examples")) {
        writeln!(page, "{}", roff_text(line))?;
    }
    writeln!(page, ".fi")?;
    for (heading, body) in EXTRA_SECTIONS {
        writeln!(page, ".SH \"{heading}\"")?;
        for paragraph in body.split("\n\n") {
            writeln!(page, ".PP")?;
            writeln!(page, "{}", roff_text(&paragraph.replace('\n', " ")))?;
        }
    }
    man.render_version_section(page)?;
    Ok(())
}

/// What `--help` has no room for, as the README says it.
const EXTRA_SECTIONS: &[(&str, &str)] = &[
    (
        "EXIT STATUS",
        "0: success. 1: a task failed (its row says why; the files are still written), or \
         the files could not be written. 2: a usage error (one line naming the flag and the \
         accepted form; nothing is written), or a recorded file that cannot be read. 130: \
         stopped by Ctrl-C (rows finished so far are written, the rest marked cancelled). \
         128+N: stopped by signal N.",
    ),
    (
        "ENVIRONMENT",
        "NO_COLOR: when set, the live view and --print draw with glyphs instead of colour.\n\n\
         ALL_PROXY, HTTPS_PROXY, HTTP_PROXY, NO_PROXY: honoured for --url; never for the embedded \
         delay server, which is on loopback.",
    ),
    (
        "FILES",
        "./poolscope-runs/YYYYMMDD-HHMMSS/: where a run's files go without --out: one CSV \
         per experiment with the post's columns first (process-fibo.csv, thread-get.csv, \
         ...), EXPERIMENT-samples.csv with the scheduler samples, and summary.json.",
    ),
    (
        "SEE ALSO",
        "The README, for the live view's keys, the shades of the bars and every file \
         format. Completion scripts: poolscope completions bash|zsh|fish|elvish|powershell.",
    ),
];

/// `text` as a roff text line: backslashes escaped, and a line that starts with `.` or `'`
/// (a roff request) guarded with the zero-width `\&`.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preamble_appears_once_and_first() {
        let page = String::from_utf8(man_page()).unwrap();
        assert_eq!(page.matches(".ds Aq").count(), 2, "one .ie/.el pair");
        assert!(
            page.starts_with(".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH poolscope 1"),
            "{page}"
        );
    }

    #[test]
    fn the_page_is_ascii_with_roff_escapes_for_the_rest() {
        let page = String::from_utf8(man_page()).unwrap();
        assert!(page.is_ascii());
        assert_eq!(ascii_only("a → b…"), "a \\[u2192] b\\[u2026]");
        assert_eq!(ascii_only("😀"), "\\[u1F600]");
    }

    #[test]
    fn roff_text_guards_requests_and_escapes() {
        assert_eq!(roff_text(".hidden"), "\\&.hidden");
        assert_eq!(roff_text("'quoted"), "\\&'quoted");
        assert_eq!(roff_text("a\\b --out"), "a\\eb \\-\\-out");
    }
}
