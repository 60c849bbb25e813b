//! The command line, in the course tool's single-dash spelling (`-print_col_idx 2 10`)
//! and the usual double-dash one (`--print-col-idx 2 10`, `--from=5`).
//!
//! Hand-written because clap's derive API has no single-dash long flags.

use std::ffi::OsString;
use std::path::PathBuf;

/// The help text; every flag is listed.
pub const USAGE: &str = "\
Usage: eau2-sor -f FILE [-from N] [-len N] [--strict] QUERY

Answers one query about a SoR (schema-on-read) file.

Options:
  -f, -file FILE          the SoR file to read (required)
  -from N                 start after the first line end at or after byte N, so the
                          line holding byte N is skipped (default 0: the first line)
  -len N                  keep only the lines whose line end lies in the N bytes from
                          -from on, or all when they reach the file's end (default: to the end)
  -strict                 fail on the first field that does not fit the schema, instead
                          of reading it as missing
  -h, -help               print this help

Queries (exactly one):
  -print_col_type C       the type of column C: BOOL, INT, FLOAT or STRING
  -print_col_idx C R      the value at column C, row R (a missing value prints <>)
  -is_missing_idx C R     1 when the value at column C, row R is missing, else 0

Every flag may be written with one dash or two, and with '_' or '-' between words
(-print_col_type, --print-col-type); values may follow '=' (--from=10).
Rows and columns count from 0. Exit status: 0 on success, 1 when the file cannot be
read or an index is out of range, 2 for bad arguments.";

/// What to ask about the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// `-print_col_type C`
    ColType(usize),
    /// `-print_col_idx C R`
    Value(usize, u64),
    /// `-is_missing_idx C R`
    IsMissing(usize, u64),
}

/// A well-formed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// The file to read.
    pub file: PathBuf,
    /// The byte offset to start at.
    pub from: u64,
    /// How many bytes to read, if not to the end.
    pub len: Option<u64>,
    /// Whether deviations are errors.
    pub strict: bool,
    /// The one query.
    pub query: Query,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Answer a query.
    Run(Args),
    /// Print the help.
    Help,
}

/// Parses the arguments (without the program name). The error is a message for the
/// user, to be followed by a pointer to `--help`.
pub fn parse<I>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = OsString>,
{
    let mut args = args.into_iter();
    let mut file: Option<PathBuf> = None;
    let mut from: Option<u64> = None;
    let mut len: Option<u64> = None;
    let mut strict = false;
    let mut query: Option<Query> = None;

    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            return Err(format!("unexpected argument {arg:?}"));
        };
        let Some(flag) = text
            .strip_prefix("--")
            .or_else(|| text.strip_prefix('-'))
            .filter(|f| !f.is_empty())
        else {
            return Err(format!("unexpected argument '{text}'"));
        };
        // `--from=5`: the inline value is taken before any following argument.
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(OsString::from(value))),
            None => (flag, None),
        };
        let name = name.replace('-', "_");
        let mut inline = inline;
        let mut value = |what: &str| -> Result<OsString, String> {
            inline
                .take()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{text} expects {what}"))
        };
        match name.as_str() {
            "h" | "help" => return Ok(Command::Help),
            "f" | "file" => {
                let path = value("a file name")?;
                set_once(&mut file, PathBuf::from(path), text)?;
            }
            "from" => {
                let n = number(&value("a byte offset")?, text)?;
                set_once(&mut from, n, text)?;
            }
            "len" => {
                let n = number(&value("a byte count")?, text)?;
                set_once(&mut len, n, text)?;
            }
            "strict" => strict = true,
            "print_col_type" => {
                let c = index(&value("a column index")?, text)?;
                set_query(&mut query, Query::ColType(c), text)?;
            }
            "print_col_idx" | "is_missing_idx" => {
                let c = index(&value("a column index and a row index")?, text)?;
                let r = number(&value("a column index and a row index")?, text)?;
                let q = if name == "print_col_idx" {
                    Query::Value(c, r)
                } else {
                    Query::IsMissing(c, r)
                };
                set_query(&mut query, q, text)?;
            }
            _ => return Err(format!("unknown flag '{text}'")),
        }
        if inline.is_some() {
            return Err(format!("{text}: this flag takes no value after '='"));
        }
    }

    let file = file.ok_or("missing -f FILE")?;
    let query =
        query.ok_or("missing a query (-print_col_type, -print_col_idx or -is_missing_idx)")?;
    Ok(Command::Run(Args {
        file,
        from: from.unwrap_or(0),
        len,
        strict,
        query,
    }))
}

fn set_once<T>(slot: &mut Option<T>, value: T, flag: &str) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("{flag} given twice"));
    }
    *slot = Some(value);
    Ok(())
}

fn set_query(slot: &mut Option<Query>, query: Query, flag: &str) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("{flag}: only one query may be given"));
    }
    *slot = Some(query);
    Ok(())
}

fn number(value: &OsString, flag: &str) -> Result<u64, String> {
    value
        .to_str()
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| format!("{flag} expects a non-negative integer, not {value:?}"))
}

fn index(value: &OsString, flag: &str) -> Result<usize, String> {
    let n = number(value, flag)?;
    usize::try_from(n).map_err(|_| format!("{flag}: {n} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(OsString::from))
    }

    fn args(line: &str) -> Args {
        match run(line) {
            Ok(Command::Run(args)) => args,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn single_dash_spelling() {
        let a = args("-f data.sor -from 1 -len 74 -print_col_idx 0 6");
        assert_eq!(a.file, PathBuf::from("data.sor"));
        assert_eq!((a.from, a.len, a.strict), (1, Some(74), false));
        assert_eq!(a.query, Query::Value(0, 6));
        assert_eq!(args("-f x -print_col_type 3").query, Query::ColType(3));
        assert_eq!(
            args("-is_missing_idx 1 2 -f x").query,
            Query::IsMissing(1, 2)
        );
    }

    #[test]
    fn double_dash_spellings() {
        let a = args("--file=x --from=5 --len 9 --strict --print-col-idx 2 10");
        assert_eq!((a.from, a.len, a.strict), (5, Some(9), true));
        assert_eq!(a.query, Query::Value(2, 10));
        assert_eq!(
            args("--f x --is_missing_idx 0 0").query,
            Query::IsMissing(0, 0)
        );
        assert!(args("-f x -strict -print_col_type 0").strict);
    }

    #[test]
    fn help() {
        assert_eq!(run("-h"), Ok(Command::Help));
        assert_eq!(run("-f x --help"), Ok(Command::Help));
        assert_eq!(run("-help"), Ok(Command::Help));
        for flag in [
            "-f",
            "-from",
            "-len",
            "-strict",
            "-help",
            "-print_col_type",
            "-print_col_idx",
            "-is_missing_idx",
        ] {
            assert!(USAGE.contains(flag), "{flag}");
        }
    }

    #[test]
    fn bad_command_lines() {
        for (line, message) in [
            ("", "missing -f"),
            ("-print_col_type 0", "missing -f"),
            ("-f x", "missing a query"),
            ("-f x -print_col_type", "expects a column index"),
            (
                "-f x -print_col_idx 1",
                "expects a column index and a row index",
            ),
            ("-f x -print_col_type -1", "non-negative integer"),
            ("-f x -print_col_type abc", "non-negative integer"),
            ("-f x -from -3 -print_col_type 0", "non-negative integer"),
            ("-f x -f y -print_col_type 0", "given twice"),
            ("-f x -print_col_type 0 -print_col_type 1", "only one query"),
            ("-f x -frobnicate -print_col_type 0", "unknown flag"),
            ("-f x stray -print_col_type 0", "unexpected argument"),
            ("-f x - -print_col_type 0", "unexpected argument"),
            ("-f x --strict=yes -print_col_type 0", "takes no value"),
        ] {
            match run(line) {
                Err(e) => assert!(e.contains(message), "{line}: {e}"),
                Ok(c) => panic!("{line}: accepted as {c:?}"),
            }
        }
    }
}
