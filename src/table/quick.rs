//! Short forms for small programs (issue 9: programs as short as their polars versions):
//! print a small result one row per line.

use std::io::Write;

use super::DistFrame;
use crate::error::{Error, Result};
use crate::frame::{DataFrame, Value};

impl<'n> DistFrame<'n> {
    /// Superseded by [`DistFrame::read_with`] with [`ReadOptions::format`]`(Format::Sor)`
    /// and [`ReadOptions::names`]; kept, hidden, only until its last callers
    /// (examples/programs) are switched.
    ///
    /// Collective: reads the SoR file `path` (whatever its extension), each rank its own
    /// byte part, into a temporary frame (named like an operator's result, freed when
    /// dropped). `names` names the columns (empty: `c0`, `c1`, ...). The short form of
    /// The rows as text, one line per row: values separated by a space, strings as
    /// they are, floats with a decimal point (`3.0`), a missing value as `null`. Reads
    /// the whole frame on this rank: for small results. A string holding a space is
    /// ambiguous here; [`DistFrame::lines_with`] quotes such values.
    pub fn lines(&self) -> Result<Vec<String>> {
        let local = self.to_local()?;
        (0..local.nrows())
            .map(|row| Ok(fields(&local, row)?.join(" ")))
            .collect()
    }

    /// The rows as text, one line per row, values separated by `sep` and formatted as
    /// in [`DistFrame::lines`], except that a string holding `sep`, a `"`, a line break,
    /// or that is empty or reads `null` is quoted as in CSV (RFC 4180: in `"`, each `"`
    /// doubled), so every line splits back into its values unambiguously and an empty
    /// or `"null"` string differs from a missing value. With `sep` = `","` the lines are
    /// CSV records. Reads the whole frame on this rank: for small results.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// use eau2::table::DistFrame;
    /// let f = DistFrame::from_array(&node, &eau2::kv::Key::new("f", 0), &["a b", "c\"d", ""])?;
    /// let g = f.with_column("n", |row| Ok(row.get_as::<&[u8]>("c0")?.map(|s| s.len() as i32)))?;
    /// assert_eq!(g.lines_with(" ")?, ["\"a b\" 3", "\"c\"\"d\" 3", "\"\" 0"]);
    /// assert_eq!(g.lines_with("\t")?, ["a b\t3", "\"c\"\"d\"\t3", "\"\"\t0"]);
    /// # Ok::<(), eau2::Error>(())
    /// ```
    pub fn lines_with(&self, sep: &str) -> Result<Vec<String>> {
        if sep.is_empty() {
            return Err(Error::Config(
                "lines_with: the separator is empty, so values would run together".into(),
            ));
        }
        let local = self.to_local()?;
        (0..local.nrows())
            .map(|row| {
                let values = (0..local.ncols())
                    .map(|col| Ok(quoted(local.get(col, row)?, sep)))
                    .collect::<Result<Vec<_>>>()?;
                Ok(values.join(sep))
            })
            .collect()
    }

    /// The values of row `row` as text, formatted as in [`DistFrame::lines`]. Any rank
    /// may call it (the row's chunks are fetched when held elsewhere).
    pub fn row_text(&self, row: u64) -> Result<Vec<String>> {
        (0..self.ncols())
            .map(|col| self.with_value(col, row, text))
            .collect()
    }

    /// Rank 0 writes [`DistFrame::lines`] to standard output; other ranks write
    /// nothing. Not collective. The one place the library writes to standard output,
    /// and only because the program asked it to show a result (its messages go through
    /// `tracing`).
    pub fn print(&self) -> Result<()> {
        self.print_lines(|| self.lines())
    }

    /// Rank 0 writes [`DistFrame::lines_with`]`(sep)` to standard output, as
    /// [`DistFrame::print`] does; other ranks write nothing. Not collective.
    pub fn print_with(&self, sep: &str) -> Result<()> {
        self.print_lines(|| self.lines_with(sep))
    }

    /// Rank 0 writes the lines `lines` makes to standard output.
    fn print_lines(&self, lines: impl FnOnce() -> Result<Vec<String>>) -> Result<()> {
        if self.node.rank() == 0 {
            let mut out = std::io::stdout().lock();
            for line in lines()? {
                writeln!(out, "{line}").map_err(|e| Error::io("printing a frame", e))?;
            }
        }
        Ok(())
    }
}

/// The values of row `row` of `frame` as text.
fn fields(frame: &DataFrame, row: u64) -> Result<Vec<String>> {
    (0..frame.ncols())
        .map(|col| Ok(text(frame.get(col, row)?)))
        .collect()
}

/// One value as text for [`DistFrame::lines_with`]: strings quoted when `sep` or a quote
/// or a line break is in them, or when they could be taken for a missing value.
fn quoted(value: Option<Value<'_>>, sep: &str) -> String {
    let Some(Value::Str(s)) = value else {
        return text(value);
    };
    let s = String::from_utf8_lossy(s);
    let ambiguous = s.is_empty() || s == "null" || s.contains(sep) || s.contains(['"', '\n', '\r']);
    if ambiguous {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// One value as text (`null` when missing).
fn text(value: Option<Value<'_>>) -> String {
    match value {
        None => "null".to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::I64(i)) => i.to_string(),
        // Debug keeps the ".0" of whole numbers, as Python and polars print them.
        Some(Value::Float(f)) => format!("{f:?}"),
        Some(Value::F64(f)) => format!("{f:?}"),
        Some(Value::Str(s)) => String::from_utf8_lossy(s).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::cluster::Node;
    use crate::table::{Agg, DistFrame, ReadOptions};

    #[test]
    fn sor_reads_name_columns_and_lines_print_every_type() {
        let node = Node::standalone().unwrap();
        let dir = std::env::temp_dir().join(format!("eau2-quick-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.sor");
        std::fs::write(&path, "<7> <2.5> <\"x y\"> <1>\n<> <3> <\"z\"> <0>\n").unwrap();
        let named = ReadOptions::new().names(&["i", "f", "s", "b"]);
        let f = DistFrame::read_with(&node, &path, &named).unwrap();
        assert_eq!(
            f.lines().unwrap(),
            vec!["7 2.5 x y true".to_string(), "null 3.0 z false".to_string()]
        );
        let short = ReadOptions::new().names(&["only"]);
        assert!(DistFrame::read_with(&node, &path, &short).is_err());
        // Unnamed columns get the default names, and results of operators print too.
        let g = DistFrame::read(&node, &path).unwrap();
        let n = g.group_by(&[]).unwrap().agg(&[Agg::count()]).unwrap();
        assert_eq!(n.lines().unwrap(), vec!["2".to_string()]);
        assert_eq!(f.row_text(1).unwrap(), vec!["null", "3.0", "z", "false"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
