//! The examples' command lines, on pico-args: `--flag value`, `--flag=value`,
//! `-h`/`--help`. This file holds only what every example would otherwise
//! repeat: printing the usage and exiting 2 on a bad flag, and the `--scale`
//! flag of the seed ports. Each example reads its own flags.
//!
//! Shared by the examples through `#[path = "common/cli.rs"] mod cli;`.

// Each example uses a part.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fmt::Display;
use std::str::FromStr;

/// The arguments of one program, with its name and usage text for errors.
pub(crate) struct Cli {
    args: pico_args::Arguments,
    program: &'static str,
    usage: &'static str,
}

impl Cli {
    /// The process's arguments; `-h`/`--help` prints `usage` and exits 0.
    pub(crate) fn from_env(program: &'static str, usage: &'static str) -> Cli {
        Cli::from_vec(program, usage, std::env::args_os().skip(1).collect())
    }

    /// Like [`Cli::from_env`], for given arguments (without the program name).
    pub(crate) fn from_vec(program: &'static str, usage: &'static str, args: Vec<OsString>) -> Cli {
        let mut args = pico_args::Arguments::from_vec(args);
        if args.contains(["-h", "--help"]) {
            println!("{usage}");
            std::process::exit(0);
        }
        Cli {
            args,
            program,
            usage,
        }
    }

    /// The value of `flag` (`--flag V` or `--flag=V`), if given.
    pub(crate) fn value<T>(&mut self, flag: impl Into<pico_args::Keys>) -> Option<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.args
            .opt_value_from_str(flag)
            .unwrap_or_else(|e| self.fail(&e))
    }

    /// Whether the switch `flag` is given.
    pub(crate) fn switch(&mut self, flag: impl Into<pico_args::Keys>) -> bool {
        self.args.contains(flag)
    }

    /// `--scale S`, the seed ports' time scale: a finite number, above zero
    /// (or zero too, with `zero_ok`); 1 when not given.
    pub(crate) fn scale(&mut self, zero_ok: bool) -> f64 {
        let scale = self.value::<f64>("--scale").unwrap_or(1.0);
        let low_ok = if zero_ok { scale >= 0.0 } else { scale > 0.0 };
        if !(low_ok && scale.is_finite()) {
            self.fail(&format!(
                "--scale needs a finite number above zero, not {scale}"
            ));
        }
        scale
    }

    /// The arguments left after the flags were read (positional ones); a
    /// leftover that looks like a flag is an error.
    pub(crate) fn rest(self) -> Vec<String> {
        let (program, usage) = (self.program, self.usage);
        let rest: Vec<String> = self
            .args
            .finish()
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        if let Some(flag) = rest.iter().find(|a| a.starts_with("--")) {
            fail(program, usage, &format!("unknown argument {flag:?}"));
        }
        rest
    }

    /// Ends reading: any argument left is an error.
    pub(crate) fn finish(self) {
        let program = self.program;
        let usage = self.usage;
        if let Some(extra) = self.args.finish().first() {
            fail(program, usage, &format!("unknown argument {extra:?}"));
        }
    }

    /// Prints `why` and the usage, and exits 2.
    pub(crate) fn fail(&self, why: &dyn Display) -> ! {
        fail(self.program, self.usage, why)
    }
}

fn fail(program: &str, usage: &str, why: &dyn Display) -> ! {
    eprintln!("{program}: {why}");
    eprintln!("{usage}");
    std::process::exit(2);
}
