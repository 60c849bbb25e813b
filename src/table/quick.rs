//! Short forms for small programs (issue 9: programs as short as their polars versions):
//! read a SoR file into a temporary frame without picking a key, and print a small
//! result one row per line.

use std::io::Write;
use std::path::Path;

use super::{DistFrame, Format, ReadOptions};
use crate::cluster::Node;
use crate::error::{Error, Result};
use crate::frame::{DataFrame, Value};

impl<'n> DistFrame<'n> {
    /// Collective: reads the SoR file `path` (whatever its extension), each rank its own
    /// byte part, into a temporary frame (named like an operator's result, freed when
    /// dropped). `names` names the columns (empty: `c0`, `c1`, ...). The short form of
    /// [`DistFrame::read_with`] with [`ReadOptions::format`]`(Format::Sor)`: safe, so a
    /// value never silently becomes missing.
    ///
    /// ```
    /// # let node = eau2::Node::standalone()?;
    /// # let dir = std::env::temp_dir().join(format!("eau2-read-sor-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("p.sor");
    /// # std::fs::write(&path, "<1> <\"a\">\n<2> <\"b\">\n")?;
    /// use eau2::table::DistFrame;
    /// let projects = DistFrame::read_sor(&node, &path, &["pid", "name"])?;
    /// assert_eq!(projects.get_int("pid", 1)?, Some(2));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_sor(node: &'n Node, path: &Path, names: &[&str]) -> Result<DistFrame<'n>> {
        let mut options = ReadOptions::new().format(Format::Sor);
        if !names.is_empty() {
            options = options.names(names);
        }
        DistFrame::read_with(node, path, &options)
    }

    /// The rows as text, one line per row: values separated by a space, strings as
    /// they are, floats with a decimal point (`3.0`), a missing value as `null`. Reads
    /// the whole frame on this rank: for small results.
    pub fn lines(&self) -> Result<Vec<String>> {
        let local = self.to_local()?;
        (0..local.nrows())
            .map(|row| Ok(fields(&local, row)?.join(" ")))
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
        if self.node.rank() == 0 {
            let mut out = std::io::stdout().lock();
            for line in self.lines()? {
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
    use crate::table::{Agg, DistFrame};

    #[test]
    fn read_sor_names_columns_and_lines_print_every_type() {
        let node = Node::standalone().unwrap();
        let dir = std::env::temp_dir().join(format!("eau2-quick-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.sor");
        std::fs::write(&path, "<7> <2.5> <\"x y\"> <1>\n<> <3> <\"z\"> <0>\n").unwrap();
        let f = DistFrame::read_sor(&node, &path, &["i", "f", "s", "b"]).unwrap();
        assert_eq!(
            f.lines().unwrap(),
            vec!["7 2.5 x y true".to_string(), "null 3.0 z false".to_string()]
        );
        assert!(DistFrame::read_sor(&node, &path, &["only"]).is_err());
        // Unnamed columns get the default names, and results of operators print too.
        let g = DistFrame::read_sor(&node, &path, &[]).unwrap();
        let n = g.group_by(&[]).unwrap().agg(&[Agg::count()]).unwrap();
        assert_eq!(n.lines().unwrap(), vec!["2".to_string()]);
        assert_eq!(f.row_text(1).unwrap(), vec!["null", "3.0", "z", "false"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
