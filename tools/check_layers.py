#!/usr/bin/env python3
"""Checks that every #include in the repository respects upager's layers.

The folders form layers, bottom up; each may include only from itself and the layers below:

    base < request < vm < pager < fault < providers < compat < tools < bench < tests < examples

  - src/<layer>/ holds a layer's internals; src/base is the bottom.
  - include/upager/ holds the public headers. Each one belongs to a layer too (PUBLIC_LAYERS
    below): anyone may include it whose layer is at or above it, and it may include only
    public headers at or below its own layer, never anything under src/.
  - compat/ holds compatibility layers over the library, each in its own folder
    (compat/zx: Zircon's zx_* C calls, docs/zx-compat.md). They sit above every library
    layer: they may include public headers, internals of the layers below, and compat/ files;
    their own C headers (compat/zx/include/zircon/...) include only each other.
  - tools/ (the `upager` command and its helpers) sits above every library layer and is
    built with the library: it may include public headers, the internals of any library
    layer (src/), and tools/ files.
  - bench/ and examples/ are built against the library as a user would: they include
    public headers and their own folder's files only (src/ is private to the library).
  - tests/ may include internals (they test them) of any library layer.

Usage: tools/check_layers.py [--root DIR] [-v]
Exits 0 when every include is allowed, 1 (listing each violation as file:line) otherwise.
"""

import argparse
import os
import re
import sys

LAYERS = [
    "base",
    "request",
    "vm",
    "pager",
    "fault",
    "providers",
    "compat",
    "tools",
    "bench",
    "tests",
    "examples",
]
RANK = {name: i for i, name in enumerate(LAYERS)}
SRC_LAYERS = LAYERS[: RANK["compat"] + 1]  # folders under src/ (compat may also be top level)
# Folders that use the library from outside, through its public headers only.
OUTSIDE = {"tools", "bench", "examples"}
# Folders whose files are checked (tests last: they may include anything below them).
CHECKED = ["include", "src", "compat", "tools", "bench", "examples", "tests"]
SOURCE_EXTENSIONS = (".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".cxx")

# The layer of each public header (path under include/upager/). A directory entry ends in
# "/" and covers everything below it. A new public header must be added here: it is part of
# exactly one layer, the lowest one whose concepts it needs.
PUBLIC_LAYERS = {
    "internal/": "base",  # annotated mutex, thread-safety macros
    "status.h": "base",
    "event.h": "base",
    "packet.h": "base",
    "thread.h": "base",
    "trace.h": "base",
    "stats.h": "base",
    "rights.h": "base",
    "page_request.h": "request",
    "page_provider.h": "request",
    "page_source.h": "request",
    "page_budget.h": "request",
    "anonymous_page_requester.h": "request",
    "vmo.h": "vm",
    "write_batch.h": "vm",
    "dirty_state.h": "vm",
    "port.h": "pager",
    "channel.h": "pager",
    "pager.h": "pager",
    "pager_loop.h": "pager",
    "channel.h": "pager",
    "vmo_service.h": "pager",
    "mapping.h": "fault",
    "upager.h": "fault",  # the umbrella: everything of the core library
    "providers/": "providers",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def public_layer(rel):
    """Layer of include/upager/<rel>, or None if it has none assigned."""
    if rel in PUBLIC_LAYERS:
        return PUBLIC_LAYERS[rel]
    best = None
    for key, layer in PUBLIC_LAYERS.items():
        if key.endswith("/") and rel.startswith(key) and (best is None or len(key) > len(best)):
            best = key
    return PUBLIC_LAYERS[best] if best else None


class File:
    """Where a repository file sits: its kind ('public', 'src', 'outside', 'tests') and layer."""

    def __init__(self, kind, layer, folder):
        self.kind = kind
        self.layer = layer
        self.folder = folder  # for outside folders: the top folder (tools, bench, examples)

    def describe(self):
        if self.kind == "public":
            return f"public header ({self.layer} layer)"
        if self.kind == "src":
            return f"{self.layer} layer internal"
        return f"{self.layer}"


def classify(path):
    """Classifies a repository-relative path; None for files outside every layer."""
    parts = path.split("/")
    if parts[0] == "include" and len(parts) > 2 and parts[1] == "upager":
        return File("public", public_layer("/".join(parts[2:])), "include")
    if parts[0] == "src" and len(parts) > 2 and parts[1] in SRC_LAYERS:
        return File("src", parts[1], "src")
    if parts[0] == "compat":
        return File("src", "compat", "compat")
    if parts[0] in OUTSIDE:
        return File("outside", parts[0], parts[0])
    if parts[0] == "tests":
        return File("tests", "tests", "tests")
    return None


def resolve(root, includer, bracket, name):
    """Repository-relative path of an include, or None for a system / third-party header."""
    if name.startswith("upager/"):
        return "include/" + name
    first = name.split("/")[0]
    if first in SRC_LAYERS and os.path.exists(os.path.join(root, "src", name)):
        return "src/" + name
    if first == "compat" and os.path.exists(os.path.join(root, name)):
        return name
    if bracket == '"':
        local = os.path.normpath(os.path.join(os.path.dirname(includer), name))
        if os.path.exists(os.path.join(root, local)):
            return local.replace(os.sep, "/")
    return None


def check_include(includer, who, target, what):
    """The violated rule for `includer` (classified `who`) including `target`, or None."""
    if what is None:
        return None
    if what.kind == "public" and what.layer is None:
        return (f"{target} has no layer: add it to PUBLIC_LAYERS in tools/check_layers.py "
                "(the lowest layer whose concepts it needs)")
    if who.kind == "public":
        if what.kind != "public":
            return (f"public header includes {target} ({what.describe()}): public headers "
                    "may include only public headers")
        if who.layer is not None and RANK[what.layer] > RANK[who.layer]:
            return (f"public header of the {who.layer} layer includes {target} "
                    f"({what.describe()}): a layer may include only itself and the layers "
                    f"below ({', '.join(LAYERS[:RANK[who.layer] + 1])})")
        return None
    if who.kind == "outside":
        if what.kind == "public":
            return None
        if who.folder == "tools" and what.kind == "src":
            return None  # tools/ is above every library layer
        if what.kind == "outside" and what.folder == who.folder:
            return None
        return (f"{who.folder}/ includes {target} ({what.describe()}): {who.folder}/ uses "
                f"the library through public headers (include/upager) and its own files only")
    if who.kind == "tests":
        if what.kind == "outside" and what.folder == "examples":
            return f"tests/ includes {target}: examples are the top layer"
        return None
    # src/<layer>
    if RANK[what.layer] > RANK[who.layer]:
        return (f"{who.layer} layer includes {target} ({what.describe()}): a layer may "
                f"include only itself and the layers below "
                f"({', '.join(LAYERS[:RANK[who.layer] + 1])})")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="repository root (default: the parent of this script's folder)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every file checked")
    args = parser.parse_args()
    root = args.root

    violations = []
    files = 0
    includes = 0
    for top in CHECKED:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "build")
            for filename in sorted(filenames):
                if not filename.endswith(SOURCE_EXTENSIONS):
                    continue
                path = os.path.relpath(os.path.join(dirpath, filename), root).replace(os.sep, "/")
                who = classify(path)
                if who is None:
                    continue
                files += 1
                if args.verbose:
                    print(f"checking {path} ({who.describe()})")
                if who.kind == "public" and who.layer is None:
                    violations.append(f"{path}:1: public header with no layer: add it to "
                                      "PUBLIC_LAYERS in tools/check_layers.py")
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE_RE.match(line)
                        if not m:
                            continue
                        includes += 1
                        bracket, name = m.group(1), m.group(2)
                        target = resolve(root, path, bracket, name)
                        if target is None:
                            continue
                        problem = check_include(path, who, target, classify(target))
                        if problem:
                            violations.append(f"{path}:{lineno}: {problem}")

    for v in violations:
        print(v, file=sys.stderr)
    if violations:
        print(f"check_layers: {len(violations)} violation(s) of the layers "
              f"({' < '.join(LAYERS)})", file=sys.stderr)
        return 1
    print(f"check_layers: {files} files, {includes} includes, all within the layers "
          f"({' < '.join(LAYERS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
