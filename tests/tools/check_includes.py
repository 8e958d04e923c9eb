#!/usr/bin/python3
"""Include direction: the architecture's rule on which folder may include which.

Usage: check_includes.py [--root DIR] [--exceptions FILE]

Reads every #include "folder/file.h" of the C++ sources under DIR (default:
the tree this script is in) whose first path component is a top-level folder
of the tree, and fails naming file:line for each one the architecture
forbids (daemons meet only in common/; common/ knows no program):
  common/                 includes only common/
  tests/, fuzz/, bench/   may include anything
  any other folder        (the daemons, tenantmailctl, programs to come)
                          includes only itself and common/
Includes without a folder ("x.h") or of outside libraries are not looked at.

The exceptions file lists known violations still to be removed, one per line:
    INCLUDING-FILE INCLUDED-HEADER REASON...
('#' starts a comment). A listed include passes; a listed entry that no longer
matches anything is reported as stale (a warning: remove it).
Exit status: 0 clean, 1 forbidden includes found, 2 usage or unreadable input.
"""

import argparse
import os
import re
import sys

SOURCE_SUFFIXES = (".h", ".hh", ".hpp", ".ipp", ".c", ".cc", ".cpp", ".cxx")
# Folders whose code may include anything: they test or measure the others.
FREE_FOLDERS = {"tests", "fuzz", "bench"}
SHARED_FOLDER = "common"
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def default_root() -> str:
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def top_folders(root: str) -> set[str]:
    """Top-level folders of the tree that may hold code (not hidden, not build output)."""
    return {name for name in os.listdir(root)
            if os.path.isdir(os.path.join(root, name))
            and not name.startswith(".") and not name.startswith("build")}


def source_files(root: str, folders: set[str]):
    """Relative paths of the C++ sources, sorted so reports are stable."""
    found = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.endswith(SOURCE_SUFFIXES):
                    found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(found)


def allowed(source_folder: str, included_folder: str) -> bool:
    """The rule itself: may code in source_folder include included_folder/...?"""
    if source_folder in FREE_FOLDERS:
        return True
    if source_folder == SHARED_FOLDER:
        return included_folder == SHARED_FOLDER
    return included_folder in (source_folder, SHARED_FOLDER)


def rule_text(source_folder: str) -> str:
    if source_folder == SHARED_FOLDER:
        return "common/ includes only common/"
    return f"{source_folder}/ includes only {source_folder}/ and common/"


def read_exceptions(path: str) -> dict[tuple[str, str], int]:
    """(including file, included header) -> line number in the exceptions file."""
    exceptions = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split(None, 2)
            if len(fields) < 3:
                raise ValueError(f"{path}:{number}: want INCLUDING-FILE INCLUDED-HEADER REASON")
            exceptions[(fields[0], fields[1])] = number
    return exceptions


def forbidden_includes(root: str):
    """Yields (file, line number, included header, rule) for each forbidden include."""
    folders = top_folders(root)
    for rel in source_files(root, folders):
        source_folder = rel.split(os.sep, 1)[0]
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                match = INCLUDE_RE.match(line)
                if not match:
                    continue
                header = match.group(1)
                included_folder = header.split("/", 1)[0]
                if "/" not in header or included_folder not in folders:
                    continue
                if not allowed(source_folder, included_folder):
                    yield rel, number, header, rule_text(source_folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=default_root())
    parser.add_argument("--exceptions", help="file of known violations (see --help)")
    args = parser.parse_args()
    try:
        exceptions = read_exceptions(args.exceptions) if args.exceptions else {}
        violations = list(forbidden_includes(args.root))
    except (OSError, ValueError) as e:
        print(f"check_includes: {e}", file=sys.stderr)
        return 2

    used = set()
    failed = 0
    for rel, number, header, rule in violations:
        if (rel, header) in exceptions:
            used.add((rel, header))
            continue
        print(f'{rel}:{number}: #include "{header}" is forbidden: {rule}')
        failed += 1
    for key, number in sorted(exceptions.items(), key=lambda item: item[1]):
        if key not in used:
            print(f"{args.exceptions}:{number}: warning: stale exception "
                  f"({key[0]} no longer includes {key[1]}): remove it", file=sys.stderr)
    if failed:
        print(f"check_includes: {failed} forbidden include(s) (daemons meet only in common/; common/ knows no program)")
        return 1
    print(f"check_includes: include direction OK ({len(used)} listed exception(s) left)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
