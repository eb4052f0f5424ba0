//! # Shell completions and the man page
//!
//! The Debian package installs a man page and bash, zsh and fish completions; both are
//! generated from the command-line definition itself, so they cannot drift from what the
//! binary accepts. `intake completions SHELL` and the hidden `intake manpage` print them to
//! stdout (`packaging/build-deb.sh` writes them into the package's assets).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

/// Prints the completion script of `shell` for `command` to stdout.
pub fn completions(shell: clap_complete::Shell, mut command: clap::Command) -> Result<ExitCode> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "intake", &mut out);
    write_stdout(&out)
}

/// Prints the man page (roff, section 1) of `command` to stdout, its subcommands included.
pub fn manpage(command: clap::Command) -> Result<ExitCode> {
    let mut command = command.name("intake");
    command.build();
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .context("cannot render the man page")?;
    // One page: the list names each subcommand as "intake NAME" (not a page of its own),
    // and each visible subcommand follows with its synopsis and options.
    let mut text = String::from_utf8(out).context("the man page is not UTF-8")?;
    for sub in command.get_subcommands() {
        let name = sub.get_name().replace('-', "\\-");
        text = text.replace(&format!("intake\\-{name}(1)"), &format!("intake {name}"));
    }
    let mut out = text.into_bytes();
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        writeln!(out, ".SH \"INTAKE {}\"", sub.get_name().to_uppercase())?;
        let page = clap_mangen::Man::new(sub.clone());
        let mut section = Vec::new();
        page.render_synopsis_section(&mut section)?;
        page.render_options_section(&mut section)?;
        // The sub-page's own headings become sub-headings of this section.
        let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
        out.extend_from_slice(text.as_bytes());
    }
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}
