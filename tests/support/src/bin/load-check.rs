//! A probe program for `DistFrame::read_with`. Run on N ranks through eau2-launch as
//! `load-check read FILE [OPTION ...]`, options being `names=a,b,c`, `types=a:L,b:S`
//! (type codes as in `Schema::codes`), `columns=a,b`, `lenient`, `sor_rule`, `allow`,
//! `no_header`, `delimiter=;`, `format=csv|sor|words` and `quiet` (print the row count and the
//! load's time instead of the rows). Every rank loads FILE; rank 0 prints
//! `schema CODES NAMES`, `deviations ROWS FIRST_LINE`, one `row ...` line per row
//! (values as `DistFrame::lines` prints them) and `read ok`. A failed load exits non-zero
//! with the error on standard error.

use std::process::ExitCode;

use eau2::frame::DataType;
use eau2::table::{DistFrame, Format, ReadOptions};
use eau2::{Error, Result};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args[0] != "read" {
        eprintln!("usage: load-check read FILE [OPTION ...]");
        return ExitCode::from(2);
    }
    let path = args[1].clone();
    let options = match options(&args[2..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load-check: {e}");
            return ExitCode::from(2);
        }
    };
    // `quiet` (for timing loads) prints the row count instead of the rows.
    let quiet = args[2..].iter().any(|a| a == "quiet");
    eau2::run(|node| {
        let started = std::time::Instant::now();
        let frame = DistFrame::read_with(node, &path, &options)?;
        let took = started.elapsed();
        let d = frame.deviations();
        let lines = if quiet { Vec::new() } else { frame.lines()? };
        if node.rank() == 0 {
            let first = d.first_line.map_or("-".to_string(), |l| l.to_string());
            println!(
                "schema {} {}",
                frame.schema().codes(),
                frame.schema().names().join(",")
            );
            println!("deviations {} {first}", d.rows);
            if quiet {
                println!("rows {} in {:.3} s", frame.nrows(), took.as_secs_f64());
            }
            for line in lines {
                println!("row {line}");
            }
            println!("read ok");
        }
        Ok(())
    })
}

fn options(args: &[String]) -> Result<ReadOptions> {
    let mut o = ReadOptions::new();
    for arg in args {
        let (key, value) = arg.split_once('=').unwrap_or((arg.as_str(), ""));
        let list: Vec<&str> = value.split(',').filter(|s| !s.is_empty()).collect();
        o = match key {
            "names" => o.names(&list),
            "columns" => o.columns(&list),
            "types" => {
                let mut types = Vec::new();
                for item in list {
                    let (name, code) = item
                        .split_once(':')
                        .ok_or_else(|| Error::Config(format!("bad type {item:?}")))?;
                    let schema = eau2::frame::Schema::from_codes(code)?;
                    let dtype: DataType = schema.types()[0];
                    types.push((name.to_string(), dtype));
                }
                o.types(&types)
            }
            "lenient" => o.lenient(),
            "sor_rule" => o.sor_rule(),
            "allow" => o.allow_deviations(),
            "no_header" => o.header(false),
            "delimiter" => o.delimiter(value.bytes().next().unwrap_or(b',')),
            "format" if value == "csv" => o.format(Format::Csv),
            "format" if value == "sor" => o.format(Format::Sor),
            "format" if value == "words" => o.format(Format::Words),
            "quiet" => o,
            "chunk_len" => o.chunk_len(value.parse().unwrap_or(1000)),
            _ => return Err(Error::Config(format!("unknown option {arg:?}"))),
        };
    }
    Ok(o)
}
