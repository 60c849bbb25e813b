# Program 4 in polars: the commits whose committer is not their author, with both names,
# sorted by pid, author name, committer name, saved to one CSV file
# (pid,author_name,committer_name); prints the number of rows saved.
# Usage: python filter_join_sort_save.py [DATA_DIR] [OUT_CSV];
# eau2 version: examples/programs/filter_join_sort_save.rs.
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
out = sys.argv[2] if len(sys.argv) > 2 else "filter_join_sort_save.csv"
commits = read(f"{d}/commits.ltgt", {"pid": pl.Int64, "a": pl.Int64, "c": pl.Int64})
users = read(f"{d}/users.ltgt", {"uid": pl.Int64, "name": pl.String})
other = commits.filter(pl.col("a") != pl.col("c"))
named = other.join(users, left_on="a", right_on="uid").join(users, left_on="c", right_on="uid")
named = named.rename({"name": "author_name", "name_right": "committer_name"})
saved = named.select("pid", "author_name", "committer_name").sort(pl.all())
saved.write_csv(out)
print(f"{saved.height} rows saved")
