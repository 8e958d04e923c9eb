#!/usr/bin/python3
"""generate.py — files the build derives from tenantmail's own sources, so
that they cannot drift from them. Run by packaging/install.cmake at build
time; standard library only.

  conf-man CONF OUT --name NAME --summary TEXT [--example] [--see-also TEXT]
      Section 5 man page from the comments of a conf/*.conf file. The
      comment block at the top becomes DESCRIPTION. Without --example every
      "key = value" line (or "# key = value" at the end of a comment run)
      becomes an item under OPTIONS, described by the comments just above it,
      grouped by [section]; with --example the rest of the file is shown
      verbatim under EXAMPLE (tenants.conf: its sections are examples).
  ctl-commands BINARY STATIC OUT
      help2man include file for tenantmailctl: STATIC followed by a COMMANDS
      section built from `BINARY COMMAND --help` for every command that
      `BINARY --help` lists.
  fresh-tenants CONF OUT
      tenants.conf as installed on a fresh system: CONF with every line after
      the top comment block commented out, so it defines no tenant (and
      --check-config passes before any key exists) while keeping the examples.

Fails (exit 1, message on stderr) rather than write a page with holes:
a conf file without a top comment block or without any option, a
tenantmailctl --help without commands.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys

SETTING = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
COMMENTED_SETTING = re.compile(r"^[#;]\s?([a-z_][a-z0-9_]*)\s*=\s*(.*?)\s*$")
SECTION = re.compile(r"^\[([A-Za-z0-9_.-]+)\]\s*(?:[#;].*)?$")
DIVIDER = re.compile(r"^[#;]\s*[-=#]{5,}\s*$")


class GenerateError(Exception):
    pass


# ---------------------------------------------------------------------------
# roff helpers

def roff(text: str) -> str:
    """Escape plain text for a roff text line."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def th_date() -> str:
    """Date for .TH: SOURCE_DATE_EPOCH (set by dpkg-buildpackage from the
    changelog) for reproducible builds, else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    return when.strftime("%Y-%m-%d")


def comment_text(line: str) -> str:
    """The text of a comment line without '#' and one following space."""
    body = line[1:]
    return body[1:] if body.startswith(" ") else body


def paragraphs(lines: list[str]) -> list[list[str]]:
    """Split comment texts at empty ones."""
    out: list[list[str]] = [[]]
    for text in lines:
        if text.strip():
            out[-1].append(text.rstrip())
        elif out[-1]:
            out.append([])
    return [p for p in out if p]


def definition_list(par: list[str]) -> list[tuple[str, list[str]]] | None:
    """An indented "term   text" table (as in tenants.conf's key list) as
    (term, text lines), or None when par is not one. The text column is
    where the first line's text starts after a gap of two or more spaces."""
    if not all(l.startswith("  ") for l in par):
        return None
    first = re.match(r"^(\s+)(\S.*?)(\s{2,})(\S.*)$", par[0])
    if not first:
        return None
    term_col = len(first.group(1))
    text_col = len(first.group(1)) + len(first.group(2)) + len(first.group(3))
    items: list[tuple[str, list[str]]] = []
    for line in par:
        if len(line) > term_col and line[term_col] != " ":
            # A new term; its text shares the line when the term ends
            # before the text column.
            if len(line) > text_col and line[text_col - 1] == " ":
                text = line[text_col:].strip()
                items.append((line[term_col:text_col].strip(), [text] if text else []))
            else:
                items.append((line.strip(), []))
        elif items:
            items[-1][1].append(line.strip())
        else:
            return None
    return items


def render_paragraphs(lines: list[str]) -> list[str]:
    """Comment texts as roff paragraphs: plain ones filled, indented term
    tables as .TP items, other indented blocks verbatim."""
    out: list[str] = []
    for par in paragraphs(lines):
        items = definition_list(par)
        if items:
            for term, text in items:
                out += [".TP", "\\fB" + roff(term) + "\\fR"]
                out += [roff(t) for t in text if t]
        elif all(l.startswith("  ") for l in par):
            indent = min(len(l) - len(l.lstrip()) for l in par)
            out += [".PP", ".RS 4", ".nf"] + [roff(l[indent:]) for l in par] + [".fi", ".RE"]
        else:
            out += [".PP"] + [roff(l.strip()) for l in par]
    return out


# ---------------------------------------------------------------------------
# conf-man

def split_header(lines: list[str]) -> tuple[list[str], list[str]]:
    """The comment block at the top (texts) and the lines after its end
    (the first empty line)."""
    header: list[str] = []
    i = 0
    while i < len(lines) and lines[i].strip():
        if not lines[i].startswith(("#", ";")):
            raise GenerateError(f"line {i + 1}: the top comment block must be followed by an empty line")
        header.append(comment_text(lines[i]))
        i += 1
    if not header:
        raise GenerateError("no comment block at the top of the file")
    return header, lines[i:]


def option_items(body: list[str]) -> list[tuple[str | None, list[str], list[tuple[str, str, bool, list[str]]]]]:
    """[(section or None, section intro, [(key, value, commented, description)])]."""
    groups: list = [(None, [], [])]
    pending: list[str] = []
    for raw in body:
        line = raw.rstrip()
        if not line.strip():
            pending.append("")
            continue
        if DIVIDER.match(line):
            continue
        m = SECTION.match(line)
        if m:
            groups.append((m.group(1), [t for t in pending], []))
            pending = []
            continue
        if line.startswith(("#", ";")):
            m = COMMENTED_SETTING.match(line)
            if m:
                groups[-1][2].append((m.group(1), m.group(2), True, pending))
                pending = []
            else:
                pending.append(comment_text(line))
            continue
        m = SETTING.match(line)
        if not m:
            raise GenerateError(f"cannot read line {raw!r}")
        value = re.sub(r"\s+[#;].*$", "", m.group(2))
        groups[-1][2].append((m.group(1), value, False, pending))
        pending = []
    return [g for g in groups if g[0] is not None or g[2]]


def conf_man(args) -> str:
    with open(args.conf, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header, body = split_header(lines)
    path = args.path or f"/etc/tenantmail/{os.path.basename(args.conf)}"
    out = [f'.\\" Generated by packaging/generate.py from {os.path.basename(args.conf)}; do not edit.',
           f'.TH {args.name.upper()} 5 "{th_date()}" "tenantmail {args.version}" "File Formats"',
           ".SH NAME", f"{roff(args.name)} \\- {roff(args.summary)}",
           ".SH SYNOPSIS", f"\\fI{roff(path)}\\fR",
           ".SH DESCRIPTION"]
    out += render_paragraphs(header)
    if args.example:
        text = [l.rstrip() for l in body]
        while text and not text[0]:
            text.pop(0)
        while text and not text[-1]:
            text.pop()
        if not text:
            raise GenerateError("--example: nothing after the top comment block")
        out += [".SH EXAMPLE", ".nf"] + [roff(l) for l in text] + [".fi"]
    else:
        groups = option_items(body)
        if not any(items for _, _, items in groups):
            raise GenerateError("no option lines found")
        out.append(".SH OPTIONS")
        for section, intro, items in groups:
            if section is not None:
                out.append(f".SS [{roff(section)}]")
                out += render_paragraphs(intro)
            for key, value, commented, description in items:
                flag = f"\\-\\-{roff((section + '.') if section else '')}{roff(key)}"
                shown = f"\\fB{roff(key)}\\fR = {roff(value)}" if value else f"\\fB{roff(key)}\\fR ="
                note = " (not set by default; example value)" if commented else ""
                # .br: the text starts below the tag even when the tag is
                # shorter than the indentation ("user =").
                out += [".TP", f"{shown}{note}", ".br"]
                body_lines = render_paragraphs(description)
                # .TP wants the description right after the tag line: drop
                # the first paragraph break, indent any later ones.
                if body_lines[:1] == [".PP"]:
                    body_lines = body_lines[1:]
                out += [l if l != ".PP" else ".IP" for l in body_lines]
                out += [".br" if body_lines else "", f"Command line: {flag}=\\fIVALUE\\fR"]
                out = [l for l in out if l]
    if args.see_also:
        out += [".SH SEE ALSO", roff(args.see_also)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# ctl-commands

def run_help(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
    return proc.stdout if proc.returncode == 0 else ""


def join_wrapped(text: str, more: str, width: int = 80) -> str:
    """Join a Boost continuation line. Boost breaks a description at its
    last space, keeping the space at the end of the line, unless that would
    leave less than half the width (line_length - column) filled: then it
    cuts the word. A line that ends without a space either stopped exactly
    at a space (join with one) or was cut inside a word at least half the
    width long (join without)."""
    more = more.strip()
    if not text or text.endswith(" "):
        return text + more
    last_word = text.rsplit(" ", 1)[-1]
    return text + more if 2 * len(last_word) >= width else text + " " + more


def boost_options(text: list[str]) -> list[tuple[str, str]]:
    """(option, description) from Boost.Program_options --help lines. The
    description column is the one most option lines use (Boost aligns them;
    an option exactly as wide as the column leaves a single space)."""
    cols: dict[int, int] = {}
    for line in text:
        m = re.match(r"^(  -\S.*?\s{2,})\S", line)
        if m:
            cols[len(m.group(1))] = cols.get(len(m.group(1)), 0) + 1
    if not cols:
        return []
    col = max(cols, key=lambda c: (cols[c], c))
    options: list[list[str]] = []
    for line in text:
        if line.startswith("  -"):
            if len(line) > col and line[col - 1] == " ":
                options.append([line[:col].strip(), line[col:]])
            else:
                options.append([line.strip(), ""])
        elif options and line.strip():
            options[-1][1] = join_wrapped(options[-1][1], line, 80 - col)
    return [(o, d.strip()) for o, d in options]


def ctl_commands(args) -> str:
    top = run_help([args.binary, "--help"]).splitlines()
    commands: list[list[str]] = []      # [name, synopsis, description]
    in_commands = False
    for line in top:
        if re.match(r"^commands:\s*$", line, re.I):
            in_commands = True
            continue
        if not in_commands:
            continue
        if line and not line.startswith(" "):
            break
        # The command is its leading lower-case words: "dns records TENANT"
        # is `dns records`, "suppression list|add|remove" is `suppression`.
        m = re.match(r"^  (([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*(?=\s|$))(?:\s\S+)*)(?:\s{2,}(\S.*))?$", line)
        if m:
            commands.append([m.group(2), m.group(1), m.group(3) or ""])
        elif commands and line.strip():
            commands[-1][2] = join_wrapped(commands[-1][2], line)
    if not commands:
        raise GenerateError(f"{args.binary} --help lists no commands")
    with open(args.static, encoding="utf-8") as f:
        out = [f.read().rstrip("\n"), "", "[COMMANDS]"]
    for name, synopsis, description in commands:
        out += [".SS " + roff(name), ".PP", "\\fBtenantmailctl " + roff(synopsis) + "\\fR"]
        if description:
            out += [".br", roff(description.strip())]
        for option, text in boost_options(run_help([args.binary, *name.split(), "--help"]).splitlines()):
            out += [".TP", "\\fB" + roff(option) + "\\fR"] + ([roff(text)] if text else [])
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# fresh-tenants

FRESH_NOTE = """\

# As installed by the package, every tenant below is commented out: the file
# defines no tenant, so `tenantmailctl check-config` passes on a fresh system
# before any key exists. To add a tenant, write (or uncomment) its section,
# create its key as the daemon user:
#   sudo -u tenantmail tenantmailctl keygen TENANT
# check with `tenantmailctl check-config`, then reload the daemons:
#   sudo systemctl reload tenantmail-milter tenantmail-policyd
"""


def fresh_tenants(args) -> str:
    with open(args.conf, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header, body = split_header(lines)
    out = lines[:len(header)]
    out += FRESH_NOTE.rstrip("\n").split("\n")
    for line in body:
        if line.strip() and not line.startswith(("#", ";")):
            line = "# " + line
        out.append(line)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("conf-man")
    p.add_argument("conf")
    p.add_argument("output")
    p.add_argument("--name", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--path", help="installed path (default /etc/tenantmail/BASENAME)")
    p.add_argument("--version", default="")
    p.add_argument("--example", action="store_true")
    p.add_argument("--see-also", default="")
    p = sub.add_parser("ctl-commands")
    p.add_argument("binary")
    p.add_argument("static")
    p.add_argument("output")
    p = sub.add_parser("fresh-tenants")
    p.add_argument("conf")
    p.add_argument("output")
    args = ap.parse_args(argv)
    try:
        text = {"conf-man": conf_man, "ctl-commands": ctl_commands,
                "fresh-tenants": fresh_tenants}[args.what](args)
    except (GenerateError, OSError, subprocess.SubprocessError) as exc:
        print(f"generate.py {args.what}: {exc}", file=sys.stderr)
        return 1
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
