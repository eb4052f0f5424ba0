//! # `intake board-account`: a staff login for the board
//!
//! Reads a new password without echo (or from standard input, for scripts) and prints the
//! `name:argon2-hash` line to add to the `[board] accounts` file; nothing is stored here.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::usage;

/// `intake board-account NAME`.
pub fn board_account(name: &str) -> Result<ExitCode> {
    let password = read_new_password()?;
    if password.chars().count() < 8 {
        return Err(usage::Usage("the password must have at least 8 characters".into()).into());
    }
    println!("{}", intake::board::auth::account_line(name, &password));
    Ok(ExitCode::SUCCESS)
}

/// A new password: typed twice without echo at a terminal, else one line of standard input
/// (for scripts: `printf '%s\n' "$PW" | intake board-account NAME`).
fn read_new_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mật khẩu mới: ")
            .context("cannot read the password from the terminal")?;
        let again = rpassword::prompt_password("Nhập lại mật khẩu: ")
            .context("cannot read the password from the terminal")?;
        if first != again {
            return Err(
                usage::Usage("the two passwords differ; nothing was written".into()).into(),
            );
        }
        return Ok(first);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}
