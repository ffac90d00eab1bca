//! Command-line flags for the echo examples: `--flag value`, `--flag=value`
//! and bare switches, `-h`/`--help` for the usage text. Enough for a few
//! flags without a dependency; not a general argument parser.
//!
//! Shared by the examples through `#[path = "common/args.rs"] mod args;`.

// Each example uses a part.
#![allow(dead_code)]

use std::process::ExitCode;

/// Goes through `args` (without the program name): calls `on(flag, Some(value))`
/// for each flag listed in `with_value` and `on(flag, None)` for each listed in
/// `switches`; any other flag is an error. An error is a message for the user;
/// an empty one means help was asked for.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    with_value: &[&str],
    switches: &[&str],
    mut on: impl FnMut(&str, Option<String>) -> Result<(), String>,
) -> Result<(), String> {
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        if matches!(flag.as_str(), "-h" | "--help") {
            return Err(String::new());
        }
        if switches.contains(&flag.as_str()) {
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            on(&flag, None)?;
        } else if with_value.contains(&flag.as_str()) {
            let value = inline
                .or_else(|| it.next())
                .ok_or(format!("{flag} needs a value"))?;
            on(&flag, Some(value))?;
        } else {
            return Err(unknown(&flag));
        }
    }
    Ok(())
}

/// `value` of `flag` as a number above zero.
pub fn positive(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or(format!("{flag} needs a positive number, not {value:?}"))
}

/// The error of an unknown flag (for the catch-all arm of an `on`).
pub fn unknown(flag: &str) -> String {
    format!("unknown argument {flag:?}")
}

/// The parsed arguments, or the exit code (2) after printing `program`'s
/// error, if any, and `usage`.
pub fn or_usage<T>(program: &str, usage: &str, parsed: Result<T, String>) -> Result<T, ExitCode> {
    parsed.map_err(|e| {
        if !e.is_empty() {
            eprintln!("{program}: {e}");
        }
        eprintln!("{usage}");
        ExitCode::from(2)
    })
}
