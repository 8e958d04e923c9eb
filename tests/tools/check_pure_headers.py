#!/usr/bin/python3
"""Pure headers stay pure: each one listed compiles alone and pulls in no I/O library.

Usage: check_pure_headers.py [--root DIR] [--list FILE] [--cxx CXX]

Every header named in the list (default tests/tools/pure_headers.txt, one
path a line relative to the tree, '#' starts a comment) is preprocessed
alone, `CXX -std=c++20 -E -H -I ROOT` (no compiling: fast, and the build
already compiles every header), and fails when one of its includes is
missing or when it includes, directly or through any other header, one of
hiredis, Boost.Asio, libmilter, curl, GMime or ldns (the design rule: pure logic
is unit-tested without sockets). A failure names the header and the
include chain that reached the library.
Exit status: 0 all pure, 1 a header failed, 2 usage or unreadable list.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

# A path component sequence that marks a header of a forbidden library.
FORBIDDEN = re.compile(r"(^|/)(hiredis|boost/asio|libmilter|curl|gmime|ldns)(/|\.h|\.hpp)")


def default_root() -> str:
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def read_list(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.split("#", 1)[0].strip() for line in f if line.split("#", 1)[0].strip()]


def include_tree(stderr: str) -> list[tuple[int, str]]:
    """The (depth, path) lines of g++ -H: one dot per level of inclusion."""
    tree = []
    for line in stderr.splitlines():
        match = re.match(r"^(\.+) (\S.*)$", line)
        if match:
            tree.append((len(match.group(1)), match.group(2)))
    return tree


def forbidden_chain(tree: list[tuple[int, str]]) -> list[str] | None:
    """The chain of includes down to the first forbidden header, or None."""
    stack: list[str] = []
    for depth, path in tree:
        del stack[depth - 1:]
        stack.append(path)
        if FORBIDDEN.search(path):
            return stack
    return None


def check_header(root: str, cxx: str, header: str) -> str | None:
    """None when the header is pure; otherwise why not."""
    if not os.path.isfile(os.path.join(root, header)):
        return "listed but not found"
    p = subprocess.run([cxx, "-std=c++20", "-E", "-H", "-I", ".", "-x", "c++", "-o", os.devnull, header],
                       cwd=root, capture_output=True, text=True, timeout=120)
    chain = forbidden_chain(include_tree(p.stderr))
    if chain:
        return "includes a library it must not: " + " -> ".join([header] + chain)
    missing = re.search(r"fatal error: (\S+): No such file", p.stderr)
    if missing and FORBIDDEN.search(missing.group(1)):
        return f"includes a library it must not: {missing.group(1)}"
    if p.returncode != 0:
        errors = [l for l in p.stderr.splitlines() if not re.match(r"^\.+ ", l)
                  and not l.startswith("Multiple include guards")]
        return "does not preprocess alone:\n    " + "\n    ".join(errors[:15])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=default_root())
    parser.add_argument("--list", help="list of pure headers (default tests/tools/pure_headers.txt)")
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    args = parser.parse_args()
    list_path = args.list or os.path.join(args.root, "tests", "tools", "pure_headers.txt")
    try:
        headers = read_list(list_path)
    except OSError as e:
        print(f"check_pure_headers: {e}", file=sys.stderr)
        return 2

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda h: (h, check_header(args.root, args.cxx, h)), headers))
    failed = [(h, why) for h, why in results if why]
    for header, why in failed:
        print(f"{header}: {why}")
    if failed:
        print(f"check_pure_headers: {len(failed)} of {len(headers)} pure header(s) failed")
        return 1
    print(f"check_pure_headers: {len(headers)} pure header(s) OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
