#!/usr/bin/env python3
"""Lists import cycles between the Rust source files of every crate of the workspace.

An edge A -> B means file A names an item of module file B (`use crate::..`,
`use super::..`, `self::..`, or a `crate::`/`super::` path in code), test modules
(`#[cfg(test)]`) left out; `mod b;` declarations are not edges. Each strongly connected
group of two or more files is one cycle, printed with its edges. Exits 1 when there are
more cycles than the allowed number (first argument, default 0).

Usage: python3 .ci/cycles.py [ALLOWED]
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {"target", ".git", "fuzz", "node_modules"}


def crates():
    """(crate dir, src dir) of every package with a src/lib.rs or src/main.rs."""
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        if "Cargo.toml" in filenames and os.path.isdir(os.path.join(dirpath, "src")):
            yield os.path.join(dirpath, "src")


def module_of(src, path):
    """The module path of file `path` under `src`, as a tuple."""
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("lib", "main", "mod"):
        rel = rel[:-1]
    if rel and rel[0] == "bin":
        return None  # binaries are crates of their own
    return tuple(rel)


def strip(text):
    """The code of `text` without comments, strings and `#[cfg(test)]` items."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    out, i = [], 0
    while True:
        j = text.find("#[cfg(test)]", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k = j + len("#[cfg(test)]")
        # The item ends at its first `;` before any `{`, else at its matching `}`.
        semi, brace = text.find(";", k), text.find("{", k)
        if brace < 0 or (0 <= semi < brace):
            i = semi + 1
            continue
        depth, k = 0, brace
        while k < len(text):
            if text[k] == "{":
                depth += 1
            elif text[k] == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        i = k + 1
    return "".join(out)


def expand(tree):
    """The paths of a use tree: `a::{b, c::{d}}` -> a::b, a::c::d."""
    tree = tree.strip()
    m = tree.find("{")
    if m < 0:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = tree[:m], tree[m + 1 : tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    return [p for part in parts if part.strip() for p in expand(prefix + part.strip())]


PATH = re.compile(r"\b((?:crate|super|self)(?:\s*::\s*(?:super|\w+))+)")


def paths(code):
    """Every `crate::`/`super::`/`self::` path of `code`, use trees expanded."""
    found = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        found.extend(expand(m.group(1)))
    code = re.sub(r"\buse\s+[^;]+;", "", code)
    found.extend(m.group(1) for m in PATH.finditer(code))
    return [re.sub(r"\s+", "", p) for p in found]


def reexports(code):
    """`name -> path` for every `pub use` (any visibility) of `code`."""
    out = {}
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", code):
        for p in expand(m.group(1)):
            p = re.sub(r"\s+", "", p)
            name = p.split("::")[-1]
            if name != "*":
                out[name] = p
    return out


def resolve(path, here, modules, reexported, depth=0):
    """The module file that `path`, written in module `here`, names (or None). A name
    that a module file only re-exports (`pub use`) resolves to where it comes from."""
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = (), segs[1:]
    elif segs[0] in ("self", "super"):
        base = here
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
    elif here + (segs[0],) in modules:
        # A path relative to module `here` (a `use` of a child module).
        base = here
    else:
        return None
    target = base
    for i, s in enumerate(segs):
        if target + (s,) in modules:
            target = target + (s,)
            continue
        via = reexported.get(modules.get(target), {}).get(s)
        if via and depth < 8:
            follow = "::".join([via] + segs[i + 1 :])
            found = resolve(follow, target, modules, reexported, depth + 1)
            if found:
                return found
            return None  # re-exported from another crate
        break
    return modules.get(target)


def main():
    allowed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    edges = {}
    for src in crates():
        modules = {}
        for dirpath, dirnames, filenames in os.walk(src):
            for f in filenames:
                if f.endswith(".rs"):
                    p = os.path.join(dirpath, f)
                    mod = module_of(src, p)
                    if mod is not None:
                        modules[mod] = os.path.relpath(p, ROOT)
        codes = {}
        for mod, file in modules.items():
            with open(os.path.join(ROOT, file), encoding="utf-8") as fh:
                codes[mod] = strip(fh.read())
        reexported = {modules[mod]: reexports(code) for mod, code in codes.items()}
        for mod, code in codes.items():
            file = modules[mod]
            for p in paths(code):
                target = resolve(p, mod, modules, reexported)
                if target and target != file:
                    edges.setdefault(file, set()).add(target)
    cycles = sccs(edges)
    for group in cycles:
        print("cycle:")
        for a in sorted(group):
            for b in sorted(edges.get(a, ())):
                if b in group:
                    print(f"  {a} -> {b}")
    print(f"{len(cycles)} cycle(s), {allowed} allowed")
    return 1 if len(cycles) > allowed else 0


def sccs(edges):
    """Tarjan's strongly connected components of two or more nodes."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    nodes = set(edges) | {b for bs in edges.values() for b in bs}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(group)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
