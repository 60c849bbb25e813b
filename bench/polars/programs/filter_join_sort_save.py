# Issue 9, program 4 in polars: commits whose committer is not their author, with both
# names, sorted, saved to one CSV file (pid,name,name_right).
# Usage: python filter_join_sort_save.py [DATA_DIR] [OUT_CSV];
# eau2 version: examples/programs/filter_join_sort_save.rs.
import re
import sys

import polars as pl


def read(path, schema):  # a SoR file: <...> fields, strings in quotes, no header
    rows = [re.findall(r'<"?([^>]*?)"?>', line) for line in open(path, encoding="utf-8")]
    return pl.DataFrame(rows, schema=list(schema), orient="row").cast(schema)


d = sys.argv[1] if len(sys.argv) > 1 else "datasets/git-small"
out = sys.argv[2] if len(sys.argv) > 2 else "filter_join_sort_save.csv"
commits = read(f"{d}/commits.ltgt", {"pid": pl.Int64, "a": pl.Int64, "c": pl.Int64})
users = read(f"{d}/users.ltgt", {"uid": pl.Int64, "name": pl.String})
other = commits.filter(pl.col("a") != pl.col("c"))
named = other.join(users, left_on="a", right_on="uid").join(users, left_on="c", right_on="uid")
saved = named.sort(["pid", "name", "name_right"]).select("pid", "name", "name_right")
saved.write_csv(out)
print(f"{saved.height} rows saved")
