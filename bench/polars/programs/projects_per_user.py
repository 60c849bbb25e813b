# Issue 9, program 2 in polars: how many users authored commits in 1, 2, 3, ... distinct
# projects, as PROJECTS USERS lines. Usage: python projects_per_user.py [DATA_DIR];
# eau2 version: examples/programs/projects_per_user.rs.
import re
import sys

import polars as pl


def read(path, schema):  # a SoR file: <...> fields, strings in quotes, no header
    rows = [re.findall(r'<"?([^>]*?)"?>', line) for line in open(path, encoding="utf-8")]
    return pl.DataFrame(rows, schema=list(schema), orient="row").cast(schema)


d = sys.argv[1] if len(sys.argv) > 1 else "datasets/git-small"
commits = read(f"{d}/commits.ltgt", {"pid": pl.Int64, "author": pl.Int64, "committer": pl.Int64})
per_user = commits.group_by("author").agg(pl.col("pid").n_unique().alias("projects"))
hist = per_user.group_by("projects").len("users")
for row in hist.sort("projects").iter_rows():
    print(*row)
