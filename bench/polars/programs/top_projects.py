# Program 1 in polars: the 10 projects with the most commits, as COUNT PID NAME, by count
# descending, ties by pid ascending. Usage: python top_projects.py [DATA_DIR];
# eau2 version: examples/programs/top_projects.rs.
import sys

import polars as pl


# A SoR file (no header, one <field> per column, strings in quotes) split at '>': fields
# come as `<12` and ` <"a b"`; stripping ' <"' is exact for strings that neither start
# nor end with a space, '<' or a quote (a regex would be exact and 5x slower).
def read(path, schema):
    lf = pl.scan_csv(path, separator=">", has_header=False, quote_char=None, infer_schema=False,
                     new_columns=[*schema, "_end"])
    return lf.select(pl.col(*schema).str.strip_chars(' <"')).cast(schema).collect()


d = sys.argv[1] if len(sys.argv) > 1 else "datasets/git-small"
commits = read(f"{d}/commits.ltgt", {"pid": pl.Int64, "author": pl.Int64, "committer": pl.Int64})
projects = read(f"{d}/projects.ltgt", {"pid": pl.Int64, "name": pl.String})
named = commits.group_by("pid").len("count").join(projects, on="pid", how="left")
top = named.sort(["count", "pid"], descending=[True, False]).head(10)
for row in top.select("count", "pid", "name").iter_rows():
    print(*row)
