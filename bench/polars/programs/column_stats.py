# Issue 9, program 3 in polars: count, mean, min, max, missing per column of the commits
# and projects files, as FILE COLUMN COUNT MEAN MIN MAX MISSING lines.
# Usage: python column_stats.py [DATA_DIR]; eau2 version: examples/programs/column_stats.rs.
import re
import sys

import polars as pl


def read(path, schema):  # a SoR file: <...> fields, strings in quotes, no header
    rows = [re.findall(r'<"?([^>]*?)"?>', line) for line in open(path, encoding="utf-8")]
    return pl.DataFrame(rows, schema=list(schema), orient="row").cast(schema)


d = sys.argv[1] if len(sys.argv) > 1 else "datasets/git-small"
files = {"commits": [pl.Int64] * 3, "projects": [pl.Int64, pl.String]}
for file, types in files.items():
    frame = read(f"{d}/{file}.ltgt", {f"c{i}": t for i, t in enumerate(types)})
    for c in frame.columns:
        s = frame[c]
        mean = s.mean() if s.dtype.is_numeric() else "null"
        print(file, c, s.count(), mean, s.min(), s.max(), s.null_count())
