"""Every ``navgym ...`` command shown in the docs still parses with the current CLI.

Nothing runs: each command's arguments go through the same click parser that ``navgym`` builds
(``typer.main.get_command(navgym.cli.app)``), subcommand included, with ``make_context`` only
(the command functions are never called). So an unknown or renamed option, a removed subcommand,
a missing required option, a value click cannot convert (``--episodes ten``), a value outside an
option's range (``--episodes 0``; ``min=1``) or a flag given a value fails here. What a command
checks only once it runs (``--workers`` without ``--ray``, an env id or agent name that does not
exist, a checkpoint file that is not there) is not covered.

Where the commands come from
----------------------------
* Files: README.md, docs/*.md and docs/results/*.md.
* Only lines inside fenced code blocks (```), in any fence language except the non-shell ones in
  :data:`NON_SHELL_FENCES` (``python``, ``json``, ...). Inline code spans in prose (`` `navgym
  train --agent` ``) are fragments and are not checked.
* A line ending in ``\\`` continues on the next line; the joined text is one logical line,
  reported at the line number where it starts.
* A logical line is split into shell commands at ``&&``, ``||``, ``;``, ``&`` and ``|`` (words of
  their own; after a navgym command, ``|`` is a pipe only when a reader of :data:`PIPE_READERS`
  such as ``tee`` or ``grep`` follows, else it separates alternatives: see below), and the text
  inside ``$(...)`` is a command of its own. A shell command is a ``navgym`` command when its
  first word is ``navgym`` (or a path ending in ``/navgym``) after leading ``VAR=value``
  assignments and wrappers (``/usr/bin/time -v``, ``time``, ``nohup``, ``env``, ``timeout
  DURATION``), or right after a ``--`` (``ray job submit ... -- navgym evaluate ...``).
  A leading ``$ `` prompt is dropped.
* Output redirections (``> file``, ``2>&1``, ``>> log``) are dropped.

Which commands are skipped (each reason is counted; see :func:`test_skip_rules_do_not_hide_most_commands`)
----------------------------------------------------------------------------------------------------------
A ``#`` that starts a word starts a comment: the rest of the line is dropped before anything else
(``navgym cache  # --clear pose_pairs ...`` is checked as ``navgym cache``). Then:

* ``comment``: the whole line is a comment (``# each run: navgym evaluate ... --checkpoint runs/<run>/...``).
* ``placeholder <...>``: a word holds ``<name>`` (``runs/<run>/policy.zip``).
* ``optional [...]``: a word starts with ``[`` (``[--agent-option deterministic=false]``,
  ``--ray [ADDRESS]``); a value like ``sensors=["depth","gps"]`` is not one (it does not start with ``[``).
* ``elision ...``: a word holds ``...`` or ``…`` (``navgym evaluate ... --checkpoint FILE``).
* ``alternatives a|b``: a word holds ``|`` (``--goal-camera user|extreme``), or a ``|`` between
  words is not a pipe (``--env-threads 0 | 2 --out runs/a | runs/b``).
* ``UPPERCASE placeholder``: a word is all capitals, digits and ``_`` (``FILE``, ``OUT``, ``N``, ``K``);
  ``VAR=value`` assignments before the command are not words of the command.

Shell variables (``--checkpoint $C/x.zip``) are passed literally: the docs only use them in path
values, which accept any text.

Failing commands are listed with file, line, the command and click's message. A command that fails
because the docs are stale must be fixed in the docs, not skipped here.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
import typer.main

from navgym import cli

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "results").glob("*.md"))]

#: Fence languages whose lines are not shell commands (a ``# or: navgym ...`` comment in a Python block is no command).
NON_SHELL_FENCES = {"python", "py", "json", "toml", "yaml", "yml", "ini", "cfg"}
#: Tokens that end one shell command and start the next.
SEPARATORS = {"&&", "||", ";", "|", "&"}
#: Commands a navgym command's output is piped into; a ``|`` followed by anything else inside a navgym
#: command separates alternatives (``--env-threads 0 | 2 --out runs/a | runs/b``), not commands.
PIPE_READERS = {
    "tee", "grep", "egrep", "head", "tail", "less", "more", "sort", "uniq", "awk", "sed", "cut", "wc", "jq", "cat", "column", "xargs",
    "python", "python3",
}
#: Words that run the command after them: name -> how many option words of theirs follow.
WRAPPERS = {"time": 0, "/usr/bin/time": 0, "nohup": 0, "env": 0, "exec": 0, "timeout": 1}
#: Most of the commands must be checked: at most this share may be skipped by the rules above.
MAX_SKIPPED_SHARE = 0.2

_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = re.compile(r"^\d*>>?(?P<fd>&\d+)?(?P<target>.*)$")  # `> f`, `>>f`, `2>&1`
_UPPERCASE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ANGLE = re.compile(r"<[^<>\s]+>")

#: Skip rules, in the order they are tried: (reason, does this word make the command a template?).
SKIP_RULES = (
    ("placeholder <...>", lambda word: bool(_ANGLE.search(word))),
    ("optional [...]", lambda word: word.startswith("[")),
    ("elision ...", lambda word: "..." in word or "…" in word),
    ("alternatives a|b", lambda word: "|" in word),
    ("UPPERCASE placeholder", lambda word: bool(_UPPERCASE.match(word))),
)


@dataclass(frozen=True)
class DocCommand:
    """One ``navgym`` command found in a doc."""

    path: Path
    line: int  # 1-based, where its logical line starts
    text: str  # the shell command as written (comment stripped, continuations joined)
    args: tuple[str, ...]  # the words after ``navgym``
    skip: str | None  # the skip rule that matched, or None: it is checked

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, logical line) of the shell-like fenced blocks of ``path``, ``\\`` continuations joined."""
    out: list[tuple[int, str]] = []
    fence: str | None = None  # the opening fence's marker while inside a block
    language = ""
    pending: tuple[int, str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(line)
        if match and (fence is None or match.group(1) == fence):
            fence, language = (match.group(1), match.group(2).lower()) if fence is None else (None, "")
            pending = None
            continue
        if fence is None or language in NON_SHELL_FENCES:
            continue
        start, text = pending if pending is not None else (number, "")
        text = f"{text} {line.strip()}" if text else line.strip()
        if text.endswith("\\"):
            pending = (start, text[:-1].rstrip())
            continue
        pending = None
        out.append((start, text))
    return out


def _substitutions(text: str) -> tuple[str, list[str]]:
    """``text`` with each ``$(...)`` replaced by a plain word, and the texts inside them."""
    inner: list[str] = []
    while (start := text.find("$(")) >= 0:
        depth, end = 0, len(text)
        for position in range(start + 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[position], 0)
            if depth == 0:
                end = position
                break
        inner.append(text[start + 2 : end])
        text = f"{text[:start]}SUBSTITUTION{text[end + 1:]}"
    return text, inner


def _words(text: str) -> list[str] | None:
    """Shell words of ``text`` up to a ``#`` that starts a word (a comment); None if it does not lex."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        for word in lexer:
            if word.startswith("#"):
                break
            words.append(word)
    except ValueError:  # an unclosed quote: prose, not a command
        return None
    return words


def _is_navgym(word: str) -> bool:
    return word == "navgym" or word.endswith("/navgym")


def _command_args(words: list[str]) -> list[str] | None:
    """The words after ``navgym`` when ``words`` is a navgym command (redirections dropped), else None."""
    index = 0
    while index < len(words):  # `VAR=value` assignments and wrappers: `OMP_NUM_THREADS=1 /usr/bin/time -v navgym ...`
        word = words[index]
        if _ASSIGNMENT.match(word):
            index += 1
        elif word in WRAPPERS:
            index += 1
            while index < len(words) and words[index].startswith("-"):  # the wrapper's options (time -v)
                index += 1
            index += WRAPPERS[word]  # and its arguments (timeout 600)
        else:
            break
    if index < len(words) and not _is_navgym(words[index]) and "--" in words[index:-1]:  # `ray job submit ... -- navgym ...`
        after = words.index("--", index) + 1
        index = after if _is_navgym(words[after]) else index
    if index >= len(words) or not _is_navgym(words[index]):
        return None
    args: list[str] = []
    words_left = iter(words[index + 1 :])
    for word in words_left:
        redirect = _REDIRECT.match(word)
        if redirect is None:
            args.append(word)
        elif not redirect.group("target") and not redirect.group("fd"):
            next(words_left, None)  # `> log`: the file is the next word
    return args


def doc_commands(path: Path) -> list[DocCommand]:
    """The navgym commands of ``path``'s fenced blocks (the skipped ones too, with their reason)."""
    found: list[DocCommand] = []
    for line, logical in fenced_lines(path):
        text = re.sub(r"^\$\s+", "", logical)  # a `$ ` prompt
        if text.startswith("#"):
            if re.search(r"\bnavgym [a-z]", text):
                found.append(DocCommand(path, line, text, (), "comment"))
            continue
        outer, inner = _substitutions(text)
        for shell_text in [outer, *inner]:
            words = _words(shell_text)
            if words is None:
                continue
            segment: list[str] = []
            words.append(";")
            for position, word in enumerate(words):
                alternative = word == "|" and words[position + 1] not in PIPE_READERS and _command_args(segment) is not None
                if word not in SEPARATORS or alternative:  # `--env-threads 0 | 2` is no pipe: a word of the command
                    segment.append(word)
                    continue
                args = _command_args(segment)
                if args is not None:
                    reason = next((name for name, hit in SKIP_RULES if any(hit(arg) for arg in args)), None)
                    found.append(DocCommand(path, line, shlex.join(["navgym", *args]), tuple(args), reason))
                segment = []
    return found


ALL_COMMANDS = [command for path in DOC_FILES for command in doc_commands(path)]
CHECKED = [command for command in ALL_COMMANDS if command.skip is None]


@functools.cache
def navgym_command():
    """The click command ``navgym`` runs (``main()`` hands its arguments to ``cli.app``, built the same way)."""
    return typer.main.get_command(cli.app)


def _protected_args(ctx) -> list[str]:
    """The subcommand and its arguments click keeps aside while parsing the group's options
    (``_protected_args`` in click 8.2 and later, ``protected_args`` before)."""
    try:
        return list(ctx._protected_args)
    except AttributeError:
        return list(ctx.protected_args)


def parse_error(args: tuple[str, ...]) -> str | None:
    """click's message when ``navgym <args>`` does not parse, else None.

    Parses only, as ``main()`` -> ``TyperGroup.invoke`` does before calling the command function:
    the group's context, the subcommand by name, then the subcommand's context (conversion, ranges,
    required options). No command function is called."""
    click = cli._click_errors()
    group = navgym_command()
    argv = cli._optional_values(list(args))  # as main() does: `--ray` alone means `--ray local`
    try:
        ctx = group.make_context("navgym", argv)
        name, command, rest = group.resolve_command(ctx, [*_protected_args(ctx), *ctx.args])
        command.make_context(name, rest, parent=ctx)
    except typer.Exit as exc:  # --help: printed the help and stopped
        return None if exc.exit_code == 0 else f"exit {exc.exit_code}"
    except click.ClickException as exc:
        return exc.format_message()
    except SystemExit as exc:
        return f"exit {exc.code}"
    return None


def test_docs_have_navgym_commands():
    files = {command.path for command in CHECKED}
    assert ROOT / "README.md" in files
    assert ROOT / "docs" / "results" / "rsrnav.md" in files and ROOT / "docs" / "results" / "rsrnav_log.md" in files
    assert len(CHECKED) >= 100, f"only {len(CHECKED)} navgym commands found in the docs: is the extraction broken?"


def test_skip_rules_do_not_hide_most_commands():
    counts = Counter(command.skip for command in ALL_COMMANDS)
    skipped = len(ALL_COMMANDS) - counts[None]
    summary = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items(), key=lambda item: str(item[0])) if reason)
    print(f"\n{len(ALL_COMMANDS)} navgym commands in fenced blocks: {counts[None]} checked, {skipped} skipped ({summary})")
    for command in ALL_COMMANDS:
        if command.skip:
            print(f"  skipped ({command.skip}) {command.where}: {command.text}")
    assert skipped <= MAX_SKIPPED_SHARE * len(ALL_COMMANDS), (
        f"{skipped} of {len(ALL_COMMANDS)} doc commands are skipped ({summary}): the skip rules hide too much"
    )


def test_doc_commands_parse():
    failures = []
    for command in CHECKED:
        error = parse_error(command.args)
        if error is not None:
            failures.append(f"{command.where}: {command.text}\n    -> {error}")
    assert not failures, f"{len(failures)} of {len(CHECKED)} navgym commands in the docs do not parse:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("list",), None),
        (("evaluate", "--env", "E", "--agent", "random", "--ray"), None),  # `--ray` alone, as main() reads it
        (("evaluate", "--help"), None),
        (("evaluate", "--env", "E", "--agent", "random", "--no-such-option"), "No such option"),
        (("evaluate", "--env", "E", "--agent", "random", "--episodes", "ten"), "'--episodes'"),  # not an int
        (("evaluate", "--env", "E", "--agent", "random", "--episodes", "0"), "'--episodes'"),  # below its min=1
        (("evaluate", "--agent", "random"), "Missing option"),
        (("frobnicate",), "No such command"),
    ],
)
def test_parse_error_sees_what_the_cli_rejects(args, expected):
    error = parse_error(args)
    if expected is None:
        assert error is None
    else:
        assert error is not None and expected in error, error


def test_extraction_rules(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Prose `navgym nosuch --x` is not read.\n"
        "```bash\n"
        "python3 -m venv .venv && . .venv/bin/activate && navgym list\n"
        "OMP_NUM_THREADS=1 /usr/bin/time -v navgym train --out runs/x \\\n"
        "    --timesteps 10   # a comment with --bogus\n"
        "# navgym evaluate --env E --agent random\n"
        "navgym evaluate --checkpoint runs/<run>/policy.zip\n"
        "navgym evaluate --goal-camera user|extreme 2>&1 | tee log\n"
        "navgym evaluate --env-threads 0 | 2 --out runs/a | runs/b\n"
        "navgym evaluate --checkpoint FILE\n"
        "navgym evaluate [--agent-option x=1] ...\n"
        "navgym evaluate --env-option sensors=[\"depth\",\"gps\"] > out.txt\n"
        "echo $(navgym list)\n"
        "ray job submit --address http://<head>:8265 -- \\\n"
        "    navgym benchmark --steps 10\n"
        "```\n"
        "```python\n"
        "import navgym  # navgym list\n"
        "```\n"
    )
    found = [(c.line, c.args, c.skip) for c in doc_commands(doc)]
    assert found == [
        (3, ("list",), None),
        (4, ("train", "--out", "runs/x", "--timesteps", "10"), None),
        (6, (), "comment"),
        (7, ("evaluate", "--checkpoint", "runs/<run>/policy.zip"), "placeholder <...>"),
        (8, ("evaluate", "--goal-camera", "user|extreme"), "alternatives a|b"),
        (9, ("evaluate", "--env-threads", "0", "|", "2", "--out", "runs/a", "|", "runs/b"), "alternatives a|b"),
        (10, ("evaluate", "--checkpoint", "FILE"), "UPPERCASE placeholder"),
        (11, ("evaluate", "[--agent-option", "x=1]", "..."), "optional [...]"),
        (12, ("evaluate", "--env-option", "sensors=[depth,gps]"), None),
        (13, ("list",), None),
        (14, ("benchmark", "--steps", "10"), None),
    ]
