#!/usr/bin/env python3
"""Checks the module import graph of src/ against the layering in docs/architecture.md.

Reads every `use crate::…`, `use super::…` and inline `crate::…` path of each file under
src/, resolves it to the file that defines the module, and fails (exit 1) when

- a lower layer imports a higher one (domain < storage < notify < service < web (the
  HTTP plumbing front ends share) < front ends < the composition root), or
- one front end (http, oauth, console, cli) imports another, or
- files of service/ import each other in a cycle.

Usage: python3 scripts/check-layers.py [--graph]   (--graph prints every edge)
"""

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

# Layer of each top-level module; a file may import its own layer or lower ones.
LAYERS = {
    "domain": 0,
    # The source of the current time: the services and notify's workers share it.
    "clock": 0,
    # The process's instruments (atomics and their text exposition): written from every layer.
    "metrics": 0,
    "storage": 1,
    "notify": 2,
    "service": 3,
    "web": 3.5,
    "http": 4,
    "oauth": 4,
    "console": 4,
    "cli": 4,
    "config": 5,
    "app": 5,
    "server": 5,
    "lib": 5,
    "main": 5,
    "logging": 5,
}
FRONT_ENDS = {"http", "oauth", "console", "cli"}


def module_of(path: Path) -> tuple:
    """src/a/b.rs -> ("a", "b"); src/a/mod.rs -> ("a",); src/lib.rs -> ()."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return (parts[0],) if parts == ["main"] else ()
    return tuple(parts)


def strip_comments(text: str) -> str:
    """Drops comments and string literals (which may contain `use …;` or `crate::`)."""
    text = re.sub(r'r(#+)".*?"\1', '""', text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def expand_use(tree: str) -> list:
    """Expands `a::{b, c::{d, e}}` into ["a::b", "a::c::d", "a::c::e"]."""
    tree = tree.strip()
    depth = 0
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                prefix, inner = tree[:i], tree[i + 1 : tree.rindex("}")]
                items, level, start = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        level += 1
                    elif c == "}":
                        level -= 1
                    elif c == "," and level == 0:
                        items.append(inner[start:j])
                        start = j + 1
                items.append(inner[start:])
                out = []
                for item in items:
                    if item.strip():
                        out += [prefix + p for p in expand_use(item)]
                return out
            depth += 1
    return [re.split(r"\s+as\s+", tree)[0].strip()]


def paths_in(text: str) -> list:
    text = strip_comments(text)
    found = []
    for m in re.finditer(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text):
        if m.group(1).count("{") == m.group(1).count("}"):
            found += expand_use(m.group(1))
    found += re.findall(r"(?<![:\w])crate(?:::\w+)+", text)
    return [p.replace(" ", "") for p in found]


def resolve(path: str, here: tuple, is_dir_module: bool, modules: set):
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    elif parts[0] in ("super", "self"):
        base, rest = here, parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    else:
        return None
    candidate = base
    best = None
    for part in rest:
        candidate = candidate + (part,)
        if candidate in modules:
            best = candidate
        else:
            break
    return best


def top(module: tuple) -> str:
    return module[0] if module else "lib"


def main() -> int:
    files = {module_of(p): p for p in SRC.rglob("*.rs")}
    modules = set(files)
    edges = set()
    for module, path in files.items():
        is_dir_module = path.name in ("mod.rs", "lib.rs", "main.rs")
        for p in paths_in(path.read_text()):
            target = resolve(p, module, is_dir_module, modules)
            if target is None or target == module:
                continue
            # A file importing its own child module is structure, not a dependency.
            if target[: len(module)] == module and is_dir_module:
                continue
            edges.add((module, target))

    if "--graph" in sys.argv:
        for a, b in sorted(edges):
            print("::".join(a) or "lib", "->", "::".join(b) or "lib")

    problems = []
    for a, b in sorted(edges):
        la, lb = top(a), top(b)
        if la == lb:
            continue
        ra, rb = LAYERS.get(la, 5), LAYERS.get(lb, 5)
        name_a, name_b = "::".join(a) or "lib", "::".join(b) or "lib"
        if ra < rb:
            problems.append(f"upward import: {name_a} ({la}) -> {name_b} ({lb})")
        elif la in FRONT_ENDS and lb in FRONT_ENDS:
            problems.append(f"front end imports another: {name_a} -> {name_b}")

    # Cycles among the files of service/ (Tarjan's strongly connected components).
    service = {m for m in modules if top(m) == "service"}
    graph = {m: [b for (a, b) in edges if a == m and b in service] for m in service}
    index, low, stack, on_stack, counter = {}, {}, [], set(), [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            # A module and its own submodules (service::keys::tests) are one unit.
            roots = {c[:2] for c in component}
            if len(roots) > 1:
                names = sorted("::".join(c) for c in component)
                problems.append("import cycle in service/: " + " <-> ".join(names))

    sys.setrecursionlimit(10000)
    for v in sorted(service):
        if v not in index:
            connect(v)

    for p in problems:
        print(p)
    print(f"check-layers: {len(files)} files, {len(edges)} imports, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
