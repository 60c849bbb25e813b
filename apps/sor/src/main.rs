//! `eau2-sor`: answers one query about a SoR file, like the course's `sorer` tool.
//!
//! Standard output carries exactly the answer; notes (deviating rows) and errors go to
//! standard error. Exit status: 0 success, 1 unreadable file or index out of range,
//! 2 bad arguments.

mod args;
mod gfmt;

use std::io::Write;
use std::process::ExitCode;

use args::{Args, Command, Query, USAGE};
use eau2::frame::Value;
use eau2::sor::SorReader;

fn main() -> ExitCode {
    eau2_console::logging::init();
    match args::parse(std::env::args_os().skip(1)) {
        Err(message) => {
            eprintln!("eau2-sor: {message}\nTry 'eau2-sor --help' for the flags.");
            ExitCode::from(2)
        }
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Run(args)) => match answer(&args) {
            Ok(line) => {
                let mut out = std::io::stdout().lock();
                match out.write_all(&line).and_then(|()| out.flush()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("eau2-sor: writing the answer: {e}");
                        ExitCode::from(1)
                    }
                }
            }
            Err(e) => {
                eprintln!("eau2-sor: {}: {e}", args.file.display());
                ExitCode::from(1)
            }
        },
    }
}

/// Reads what the query needs and returns the answer line (bytes: a STRING value need
/// not be UTF-8).
fn answer(args: &Args) -> eau2::Result<Vec<u8>> {
    let col = match args.query {
        Query::ColType(c) | Query::Value(c, _) | Query::IsMissing(c, _) => c,
    };
    let mut reader = SorReader::new()
        .strict(args.strict)
        .range(args.from, args.len);
    // A projection checks only the columns it reads: strict mode vouches for the whole
    // range, so it reads every column; otherwise only the asked one is read.
    let at = if args.strict {
        col
    } else {
        reader = reader.columns(&[col]);
        0
    };
    let file = reader.read_path(&args.file)?;
    if file.deviations.rows > 0 {
        let first = file
            .deviations
            .first_line
            .map_or(String::new(), |l| format!(", the first at line {l}"));
        eprintln!(
            "eau2-sor: note: {} row(s) did not fit the schema{first}; their deviating fields read as missing",
            file.deviations.rows
        );
    }
    let mut line = match args.query {
        Query::ColType(c) => file.schema.dtype(c)?.name().as_bytes().to_vec(),
        Query::Value(_, row) => match file.frame.get(at, row)? {
            None => b"<>".to_vec(),
            Some(Value::Bool(b)) => u8::from(b).to_string().into_bytes(),
            Some(Value::Int(i)) => i.to_string().into_bytes(),
            Some(Value::Float(f)) => gfmt::format_g(f).into_bytes(),
            Some(Value::Str(s)) => [&b"\""[..], s, b"\""].concat(),
            // The SoR reader builds only SoR's four types.
            Some(v @ (Value::I64(_) | Value::F64(_))) => {
                unreachable!("a SoR file read a {} value", v.dtype())
            }
        },
        Query::IsMissing(_, row) => {
            let missing = file.frame.is_missing(at, row)?;
            (if missing { "1" } else { "0" }).as_bytes().to_vec()
        }
    };
    line.push(b'\n');
    Ok(line)
}
