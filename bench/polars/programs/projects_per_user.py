# Program 2 in polars: how many users authored commits in 1, 2, 3, ... distinct projects,
# as PROJECTS USERS lines. Usage: python projects_per_user.py [DATA_DIR];
# eau2 version: examples/programs/projects_per_user.rs.
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
per_user = commits.group_by("author").agg(pl.col("pid").n_unique().alias("projects"))
for row in per_user.group_by("projects").len("users").sort("projects").iter_rows():
    print(*row)
