# Program 3 in polars: describe every numeric column of the three files, as
# FILE COLUMN ROWS COUNT MEAN MIN MAX lines (COUNT: the present values). Usage: python column_stats.py [DATA_DIR];
# eau2 version: examples/programs/column_stats.rs.
import sys

import polars as pl
import polars.selectors as cs


# A SoR file (no header, one <field> per column, strings in quotes) split at '>': fields
# come as `<12` and ` <"a b"`; stripping ' <"' is exact for strings that neither start
# nor end with a space, '<' or a quote (a regex would be exact and 5x slower).
def read(path, schema):
    lf = pl.scan_csv(path, separator=">", has_header=False, quote_char=None, infer_schema=False,
                     new_columns=[*schema, "_end"])
    return lf.select(pl.col(*schema).str.strip_chars(' <"')).cast(schema).collect()


d = sys.argv[1] if len(sys.argv) > 1 else "datasets/git-small"
files = {
    "commits": {"pid": pl.Int64, "author": pl.Int64, "committer": pl.Int64},
    "projects": {"pid": pl.Int64, "name": pl.String},
    "users": {"uid": pl.Int64, "name": pl.String},
}
for file, schema in files.items():
    frame = read(f"{d}/{file}.ltgt", schema)
    for c in frame.select(cs.numeric()).columns:
        s = frame[c]
        print(file, c, frame.height, s.count(), s.mean(), s.min(), s.max())
