#!/usr/bin/env python3
"""Checks that every citation of the behaviour spec resolves inside the repository.

The spec is docs/zircon-semantics.md; its sections are its numbered headings ("## 10.",
"### 10.2 ...", "### 19.8 ..."). Code and docs cite them by number. This script finds the
citations in src/, include/, tests/, docs/, bench/, tools/, examples/ and README.md, and
fails, naming file:line, when

  - a cited number is not a heading of docs/zircon-semantics.md;
  - a file cites section numbers but never names docs/zircon-semantics.md (the file-level note
    "Section numbers refer to docs/zircon-semantics.md." or one explicit citation such as
    "docs/zircon-semantics.md 10.2" is enough);
  - the document is named without its path ("zircon-semantics.md 10.2" outside docs/);
  - a dotted section number stands alone in a comment's prose ("see 10.5 for why"): write it
    as "(10.5)" or "section 10.5" so that it is recognisably a citation;
  - a test named ScenarioN_... (or a comment "Scenario N") has no heading 19.N.

Accepted forms (docs/README.md, "Citing the spec"), N being "10", "10.2" or "3.1-3.7":
  (10.2)   (5.1, 19.2)   (10.4/10.5)   (3.1-3.7, 4)   (10.4: no-op over markers)
  §10.2    §10.4/10.5    section 11    sections 2-9 and 17
  // 10.2: a comment that starts with the section it implements
  docs/zircon-semantics.md 7.3, 9, 10.2     (also names the document)
  Scenario 8 / TEST(..., Scenario8_...)     (the scenario of section 19)
Code comments are ASCII: prefer "(10.2)" and "section 10.2" there; § is for Markdown.
In Markdown the document may be named relatively under docs/ (zircon-semantics.md), and only
§, "section", explicit forms and parentheses of dotted numbers ("(18.1)") are recognised.
Files under docs/ also resolve when they link the document relatively.

Usage: tools/check_spec_refs.py [--root DIR] [--list]
  --list   print every citation found (file:line: sections), then check as usual.
Exit status: 0 if every citation resolves, 1 otherwise, 2 on usage errors.
"""

import argparse
import os
import re
import sys

SPEC = "docs/zircon-semantics.md"
SCAN_DIRS = ("src", "include", "compat", "tests", "docs", "bench", "tools", "examples")
TOP_FILES = ("README.md",)
CODE_EXT = (".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".cxx", ".inc")
HASH_EXT = (".py", ".sh", ".cmake", ".txt")  # '#' comments (CMakeLists.txt included)
MD_EXT = (".md",)
FILE_NOTE = "Section numbers refer to docs/zircon-semantics.md."

SEC = r"\d{1,2}(?:\.\d{1,2})*"
SEP = r"\s*(?:,|/|-|–|\band\b|&)\s*"
SEC_LIST = rf"{SEC}(?:{SEP}§?{SEC})*"

# Forms that are citations wherever they appear in comment text.
RE_SECTION_SIGN = re.compile(rf"§\s?({SEC_LIST})")
RE_SECTION_WORD = re.compile(rf"\b[Ss]ections?\s+({SEC_LIST})")
RE_EXPLICIT = re.compile(
    rf"(?<![\w/.-])((?:docs/)?zircon-semantics(?:\.md)?)\b(?:\s*,?\s*(?:[Ss]ections?\s+|§\s?)?({SEC_LIST}))?")
# A parenthesis that opens with a list of section numbers and holds nothing else but,
# optionally, ": text" or "; text" after it (which may go on to the next line). Not after an
# identifier (write(2), Word(1, 3)).
RE_PAREN = re.compile(rf"(?<![\w\]>])\(\s*({SEC_LIST})\s*(?:\)|[:;])")
# A comment that starts with the sections it implements: "// 10.2: ...", "// 3.4 / 4.1: ...",
# or holds nothing else: "// 3.1 / 3.2 / 4.".
RE_LABEL = re.compile(rf"^\s*(\d{{1,2}}\.\d{{1,2}}(?:{SEP}{SEC})*)\s*(?::|\.?\s*$)")
RE_SCENARIO_WORD = re.compile(r"\bScenario\s+(\d{1,2})\b")
RE_SCENARIO_NAME = re.compile(r"\bScenario(\d{1,2})_\w+")
# A dotted number standing alone in prose (not a version, address, ratio or percentage).
RE_STRAY = re.compile(r"(?<![\w.§/:@+-])(\d{1,2}\.\d{1,2})(?![\w%]|\.\d|\s*(?:x\b|µs|ms|ns|s\b|%|GiB|MiB|KiB|MB|GB))")
RE_VERSION_WORD = re.compile(
    r"\b(?:Linux|kernel|glibc|gcc|clang|GCC|Clang|CMake|Debian|Python|C\+\+|libcurl|liburing|"
    r"nginx|HTTP|[Vv]ersion|v)\s?[≥>=]*\s?$")
# Single numbers in parentheses at the end of a sentence; only reported in files that do not
# name the document, as a likely citation that needs the file note.
RE_LONE_PAREN = re.compile(rf"[A-Za-z,`'\")\]] \(({SEC}(?:,\s?{SEC})*)\)(?=[.,;:]|\s*$)")


def headings(root):
    path = os.path.join(root, SPEC)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        sys.exit(f"check_spec_refs: cannot read {SPEC}: {e}")
    found = set()
    for line in text.splitlines():
        m = re.match(r"^#{1,6}\s+(\d{1,2}(?:\.\d{1,2})*)\.?(?:\s|$)", line)
        if m:
            found.add(m.group(1))
    return found


def expand(sec_list):
    """'3.1-3.7, 4 and §17' -> ['3.1', '3.7', '4', '17'] (range ends are checked)."""
    return re.findall(SEC, sec_list.replace("§", ""))


def strip_strings(code):
    """Blanks out C/C++ string and character literals so '//' inside them is not a comment."""
    return re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', lambda m: " " * len(m.group(0)), code)


def comment_lines(path, lines):
    """Yields (line number, comment text, is_prose) for the comment text of each line.

    is_prose is False for Markdown, where only the unambiguous forms count."""
    ext = os.path.splitext(path)[1]
    base = os.path.basename(path)
    if ext in MD_EXT:
        fenced = False
        for n, line in enumerate(lines, 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                yield n, line, False
        return
    if ext in HASH_EXT or base == "CMakeLists.txt":
        for n, line in enumerate(lines, 1):
            stripped = strip_strings(line)
            i = stripped.find("#")
            if i >= 0 and not stripped.startswith("#!"):
                yield n, line[i + 1:], True
        return
    in_block = False
    for n, line in enumerate(lines, 1):
        code = strip_strings(line) if not in_block else line
        text = []
        i = 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    text.append(line[i:])
                    break
                text.append(line[i:end])
                in_block = False
                i = end + 2
                code = line[:i] + strip_strings(line[i:])
                continue
            slash = code.find("//", i)
            block = code.find("/*", i)
            if slash >= 0 and (block < 0 or slash < block):
                text.append(line[slash + 2:])
                break
            if block >= 0:
                in_block = True
                i = block + 2
                continue
            break
        if text:
            yield n, " ".join(text), True


def scan_file(root, rel, known, errors, listing):
    path = os.path.join(root, rel)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    in_docs = rel.startswith("docs/")
    whole = "\n".join(lines)
    names_doc = SPEC in whole or (in_docs and "zircon-semantics.md" in whole)

    cites = []  # (line, form, [sections])
    strays = []
    lone = []
    for n, text, prose in comment_lines(rel, lines):
        covered = []

        def take(m, group, form):
            covered.append(m.span())
            if m.group(group):
                cites.append((n, form.format(m.group(group).strip()), expand(m.group(group))))

        for m in RE_EXPLICIT.finditer(text):
            name = m.group(1)
            if name != SPEC and not (in_docs and name == "zircon-semantics.md"):
                errors.append(f"{rel}:{n}: names the spec as '{name}'; write '{SPEC}' "
                              f"(the path from the repository root)")
            take(m, 2, SPEC + " {}")
        for m in RE_SECTION_SIGN.finditer(text):
            take(m, 1, "§{}")
        for m in RE_SECTION_WORD.finditer(text):
            take(m, 1, "section {}")
        for m in RE_SCENARIO_WORD.finditer(text):
            covered.append(m.span())
            cites.append((n, f"Scenario {m.group(1)}", ["19." + m.group(1)]))
        if not prose:  # Markdown: parentheses holding dotted numbers only, "(18.1)"
            for m in RE_PAREN.finditer(text):
                if "." in m.group(1) and not any(a <= m.start() < b for a, b in covered):
                    take(m, 1, "({})")
        if prose:
            for m in RE_PAREN.finditer(text):
                # "(1)", "(2, 3)" are citations only where the file names the document (they
                # may be enumerations elsewhere; RE_LONE_PAREN below catches likely ones).
                if names_doc or "." in m.group(1):
                    take(m, 1, "({})")
            m = RE_LABEL.match(text)
            if m:
                take(m, 1, "{}:")
            for m in RE_STRAY.finditer(text):
                if RE_VERSION_WORD.search(text[:m.start()]):
                    continue  # "Linux 6.6", "version 1.2"
                if not any(a <= m.start() < b for a, b in covered):
                    strays.append((n, m.group(1)))
            if not names_doc:
                for m in RE_LONE_PAREN.finditer(text):
                    if not any(a <= m.start() + 2 < b for a, b in covered):
                        lone.append((n, m.group(1)))
    if rel.startswith("tests/"):
        for n, line in enumerate(lines, 1):
            for m in RE_SCENARIO_NAME.finditer(line):
                cites.append((n, m.group(0), ["19." + m.group(1)]))

    for n, form, secs in cites:
        if listing:
            print(f"{rel}:{n}: {form}")
        for s in secs:
            if s not in known:
                errors.append(f"{rel}:{n}: cites {form!s}, but {s} is not a section heading of "
                              f"{SPEC}")
    needs_note = [(n, form) for n, form, _ in cites
                  if not form.startswith(SPEC) and not form.startswith("Scenario")]
    needs_note += [(n, f"({sec})") for n, sec in lone]
    if needs_note and not names_doc:
        n, form = min(needs_note)
        more = f" (and {len(needs_note) - 1} more)" if len(needs_note) > 1 else ""
        link = "zircon-semantics.md" if in_docs else SPEC
        fix = (f"name it, e.g. '[{link}]({link}) {form}'" if rel.endswith(".md") else f"add the line '{FILE_NOTE}' to its header comment")
        errors.append(f"{rel}:{n}: cites {form}{more}, but the file never names {SPEC}; {fix}")
    for n, s in strays:
        if names_doc or s in known:
            errors.append(f"{rel}:{n}: '{s}' stands alone in a comment; if it is a section of "
                          f"{SPEC}, write ({s}) or 'section {s}'; if not, reword it")
    return len(cites)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--list", action="store_true", help="print every citation found")
    args = parser.parse_args()
    known = headings(args.root)
    errors = []
    files = 0
    total = 0
    for rel in TOP_FILES:
        if os.path.exists(os.path.join(args.root, rel)):
            count = scan_file(args.root, rel, known, errors, args.list)
            total += count
            files += 1 if count else 0
    for top in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(args.root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "build")
            for name in sorted(filenames):
                ext = os.path.splitext(name)[1]
                if ext in CODE_EXT + HASH_EXT + MD_EXT or name == "CMakeLists.txt":
                    rel = os.path.relpath(os.path.join(dirpath, name), args.root)
                    if os.path.abspath(os.path.join(args.root, rel)) == os.path.abspath(__file__):
                        continue  # its own comments show the forms
                    count = scan_file(args.root, rel.replace(os.sep, "/"), known, errors, args.list)
                    total += count
                    files += 1 if count else 0
    def key(e):
        f, line, _ = e.split(":", 2)
        return (f, int(line))
    for e in sorted(errors, key=key):
        print(e)
    if errors:
        print(f"check_spec_refs: {len(errors)} problem(s); citation forms are described in "
              f"docs/README.md (\"Citing the spec\")")
        return 1
    print(f"check_spec_refs: {total} citations of {SPEC} in {files} files, all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
