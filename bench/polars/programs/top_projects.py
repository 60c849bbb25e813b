# Issue 9, program 1 in polars: the 10 projects with the most commits, as COUNT PID NAME.
# Usage: python top_projects.py [DATA_DIR]; eau2 version: examples/programs/top_projects.rs.
import re
import sys

import polars as pl


def read(path, schema):  # a SoR file: <...> fields, strings in quotes, no header
    rows = [re.findall(r'<"?([^>]*?)"?>', line) for line in open(path, encoding="utf-8")]
    return pl.DataFrame(rows, schema=list(schema), orient="row").cast(schema)


d = sys.argv[1] if len(sys.argv) > 1 else "datasets/git-small"
commits = read(f"{d}/commits.ltgt", {"pid": pl.Int64, "author": pl.Int64, "committer": pl.Int64})
projects = read(f"{d}/projects.ltgt", {"pid": pl.Int64, "name": pl.String})
counts = commits.group_by("pid").len("count")
named = counts.join(projects, on="pid", how="left")
top = named.sort(["count", "pid"], descending=[True, False]).head(10)
for row in top.select("count", "pid", "name").iter_rows():
    print(*row)
