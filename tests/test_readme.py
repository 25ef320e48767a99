"""README.md runs as written, so it can never drift from the code.

* Every ```python block is executed unchanged, each in a fresh namespace in its own subprocess
  (``python -c``), with the cwd a tmp dir and the test session's ``NAVGYM_CACHE`` (set by the
  ``fresh_navgym_cache`` fixture in conftest.py, inherited through ``os.environ``).
* Every ``navgym ...`` command in a shell block (```bash, ```sh, ```console or a bare ```) is run
  in README order in one shared tmp cwd, so a command that reads an earlier one's output
  (``evaluate --checkpoint runs/rsrnav/checkpoint.zip`` after ``train --out runs/rsrnav``) finds
  it. Shell lines chain commands with ``&&``; only their ``navgym`` parts run (the setup parts
  that create venvs, ``pip install`` or run pytest are skipped).
* Each command is first shrunk by the rewrite table :data:`REWRITES` (episodes, timesteps,
  benchmark steps ... set to tiny values; output paths kept inside the tmp cwd). An option, a
  positional argument or a subcommand the table does not know fails the test with a message
  asking to extend the table, so a new README command never runs at full size by accident.
* Commands that need an extra that is not installed (the ``rl`` extra: torch, stable_baselines3,
  sb3_contrib) are skipped, naming the extra.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: Fence languages whose lines are shell commands (a bare ``` counts: README's "From the shell:" block).
SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console"}
#: Seconds one README python block / one README command may take (the test's pytest-timeout is larger).
PYTHON_BLOCK_TIMEOUT = 600
COMMAND_TIMEOUT = 600
#: Characters of output shown when a block or command fails.
OUTPUT_TAIL = 6000

#: The ``rl`` extra (pyproject.toml), as importable modules.
RL_EXTRA = ("torch", "stable_baselines3", "sb3_contrib")
#: Agents that load a trained checkpoint, and so need the ``rl`` extra.
LEARNED_AGENTS = {"rsrnav"}


# -- the rewrite table --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rewrite:
    """How the README's ``navgym <subcommand> ...`` lines are shrunk before they run.

    Attributes:
        budget: Options that set the cost, with the tiny value the test uses instead. README's value
            is replaced; an option README leaves out is added (its default is a full-size run).
        values: Options taking a value that do not change the cost; passed as written.
        flags: Options without a value that do not change the cost (much); passed as written.
        outputs: Options naming an output path: a relative one stays (it lands in the tmp cwd), an
            absolute one is moved under the tmp cwd.
        inputs: Options naming a path an earlier README command writes (the test runs that one first).
        extra: Arguments appended after README's (they win over README's repeatable options).
        extras_needed: Extra name -> modules, needed by every line of this subcommand.
    """

    budget: dict[str, str] = field(default_factory=dict)
    values: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    outputs: frozenset[str] = frozenset()
    inputs: frozenset[str] = frozenset()
    extra: tuple[str, ...] = ()
    extras_needed: dict[str, tuple[str, ...]] = field(default_factory=dict)


#: Tiny PPO rollouts for ``navgym train``: 16 steps per env (``n_steps`` must be >= 2), batches of
#: 16, so ``--timesteps 32`` with the default 2 envs is exactly one rollout and one update (training
#: stops at the first rollout boundary at or past --timesteps; a smaller value still runs a rollout).
TINY_TRAIN_MODEL = ("--model-option", "n_steps=16", "--model-option", "batch_size=16")
#: A tiny dataset and short episodes for ``navgym train`` (train and val envs): generating the default
#: train split of ImageNav-ProcHouseEasy-v0 (1833 episodes) into the test session's fresh cache takes
#: ~190 s on 2 cores, and the end-of-training evaluation of one 200-step episode ~70 s; with these,
#: the whole run takes ~45 s. The later ``evaluate --checkpoint`` line still runs on the default val split.
TINY_TRAIN_ENV = (
    "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=4", "--env-option", "max_episode_steps=16",
)

#: Subcommand -> how its README lines are shrunk. Extend this when README gains a command or option:
#: a budget-like option goes into ``budget`` with a tiny value, a cost-neutral one into ``values`` /
#: ``flags``. Options not listed here (e.g. ``--n-envs``, ``--env-option``, ``--model-option``, which
#: can make a run larger) make the test fail until they are.
REWRITES: dict[str, Rewrite] = {
    "list": Rewrite(values=frozenset({"--data-dir"})),
    "evaluate": Rewrite(
        budget={"--episodes": "1"},
        values=frozenset({"--env", "--agent", "--split", "--seed", "--goal-camera"}),
        flags=frozenset({"--video", "--no-video", "--maps", "--no-maps"}),
        outputs=frozenset({"--out"}),
        inputs=frozenset({"--checkpoint"}),
    ),
    "benchmark": Rewrite(
        # --steps has min=10; all README tasks still run (each ~1 s), at a small resolution.
        budget={"--steps": "10", "--resolution": "32"},
        values=frozenset({"--tasks"}),
    ),
    "train": Rewrite(
        # --demos / --bc-epochs shrink imitation (--pretrain); without --pretrain they are unused.
        budget={"--timesteps": "32", "--eval-episodes": "1", "--demos": "2", "--bc-epochs": "1"},
        values=frozenset({
            "--agent", "--head", "--env", "--seed", "--goal-camera", "--reward", "--eval-every", "--checkpoint-every",
            "--max-minutes", "--max-cpu-minutes", "--threads", "--update-threads", "--pretrain",
            # README's --model-option values come first; TINY_TRAIN_MODEL's, appended after, win for the budget keys.
            "--model-option",
        }),
        flags=frozenset({"--progress", "--no-progress"}),
        outputs=frozenset({"--out"}),
        extra=TINY_TRAIN_MODEL + TINY_TRAIN_ENV,
        extras_needed={"rl": RL_EXTRA},
    ),
    "demo": Rewrite(budget={"--episodes": "1"}, outputs=frozenset({"--out"})),
    "cache": Rewrite(),  # only shows the (test session's) cache; README has no --clear line
}


class UnknownCommand(ValueError):
    """A README command the rewrite table cannot shrink."""


@dataclass
class Command:
    """One ``navgym ...`` command of README.md."""

    line: int
    argv: list[str]  # as written, starting with "navgym"

    @property
    def text(self) -> str:
        return shlex.join(self.argv)


@dataclass
class Rewritten:
    args: list[str]  # after "navgym"
    outputs: list[str]
    inputs: list[str]
    extras_needed: dict[str, tuple[str, ...]]


def _extend_the_table(command: Command, why: str) -> UnknownCommand:
    return UnknownCommand(
        f"README.md line {command.line}: `{command.text}`: {why}. The rewrite table REWRITES in "
        "tests/test_readme.py does not know how to shrink it: extend the table (a budget-like option "
        "gets a tiny value in `budget`, a cost-neutral one goes into `values`/`flags`) so README "
        "commands never run at full size."
    )


def _into_cwd(value: str) -> str:
    """An output path kept inside the tmp cwd: relative paths already are, absolute ones are moved."""
    path = Path(value)
    if path.is_absolute() or ".." in path.parts:
        return str(Path("outside_paths", *[p for p in path.parts if p not in (path.anchor, "..")]))
    return value


def rewrite(command: Command) -> Rewritten:
    """``command`` with tiny budgets (see :data:`REWRITES`); raises :class:`UnknownCommand`."""
    if len(command.argv) < 2 or command.argv[1].startswith("-"):
        raise _extend_the_table(command, "no subcommand")
    sub, rest = command.argv[1], command.argv[2:]
    table = REWRITES.get(sub)
    if table is None:
        raise _extend_the_table(command, f"unknown subcommand {sub!r}")
    args, outputs, inputs = [sub], [], []
    values: dict[str, str] = {}
    i = 0
    while i < len(rest):
        token = rest[i]
        if not token.startswith("--"):
            raise _extend_the_table(command, f"unexpected argument {token!r}")
        option, inline, value = token.partition("=")
        takes_value = option in table.budget or option in table.values or option in table.outputs or option in table.inputs
        if takes_value:
            if not inline:
                if i + 1 >= len(rest):
                    raise _extend_the_table(command, f"option {option!r} has no value")
                i += 1
                value = rest[i]
            values[option] = value
        elif option not in table.flags:
            raise _extend_the_table(command, f"option {option!r} of `navgym {sub}` is not in the table")
        elif inline:
            raise _extend_the_table(command, f"flag {option!r} given a value")
        i += 1
        if option in table.budget:
            continue  # set below
        if option in table.outputs:
            value = _into_cwd(value)
            outputs.append(value)
        elif option in table.inputs:
            inputs.append(value)
        args += [option, value] if takes_value else [option]
    for option, tiny in table.budget.items():
        args += [option, tiny]
    args += list(table.extra)
    needed = dict(table.extras_needed)
    if sub == "evaluate" and (values.get("--agent") in LEARNED_AGENTS or "--checkpoint" in values):
        needed["rl"] = RL_EXTRA
    return Rewritten(args, outputs, inputs, needed)


# -- README.md ------------------------------------------------------------------------------------------------------
@dataclass
class Block:
    language: str
    line: int  # README line of the block's first code line
    text: str


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    language: str | None = None
    body: list[str] = []
    start = 0
    for number, line in enumerate(README.read_text().splitlines(), 1):
        fence = re.match(r"\s*```(.*)$", line)
        if language is None:
            if fence:
                language, body, start = fence.group(1).strip().lower(), [], number + 1
        elif fence:
            blocks.append(Block(language, start, "\n".join(body) + "\n"))
            language = None
        else:
            body.append(line)
    return blocks


def _split_segments(line: str) -> list[list[str]]:
    """A shell line's simple commands (split at ``&&``, ``||``, ``;`` and ``|``), as argv lists."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "||", ";", "|", "&"):
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def readme_commands() -> list[Command]:
    """Every ``navgym`` command of README's shell blocks, in README order (setup parts of a chained
    line, like ``python3 -m venv`` or ``pip install``, are left out)."""
    commands: list[Command] = []
    for block in readme_blocks():
        if block.language not in SHELL_LANGUAGES:
            continue
        lines = block.text.splitlines()
        i = 0
        while i < len(lines):
            number, line = block.line + i, lines[i]
            while line.rstrip().endswith("\\") and i + 1 < len(lines):  # continuation lines
                i += 1
                line = line.rstrip()[:-1] + " " + lines[i]
            i += 1
            line = line.strip()
            if line.startswith("$ "):
                line = line[2:]
            if not line or line.startswith("#"):
                continue
            for argv in _split_segments(line):
                if argv[0] == "navgym":
                    commands.append(Command(number, argv))
    return commands


PYTHON_BLOCKS = [b for b in readme_blocks() if b.language == "python"]
COMMANDS = readme_commands()


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_TAIL else "...\n" + text[-OUTPUT_TAIL:]


def _env() -> dict[str, str]:
    # NAVGYM_CACHE comes from os.environ, where conftest's session fixture put a fresh cache.
    return {**os.environ, "TQDM_DISABLE": "1", "COLUMNS": "250"}


def _navgym_executable() -> list[str]:
    """The ``navgym`` console script next to this interpreter (README's command), else ``-m navgym.cli``."""
    script = Path(sys.executable).parent / "navgym"
    return [str(script)] if script.exists() else [sys.executable, "-m", "navgym.cli"]


def test_readme_has_code_to_run():
    """The parser still finds README's code (a renamed fence would otherwise make the tests vanish)."""
    assert PYTHON_BLOCKS, "no ```python block found in README.md"
    assert COMMANDS, "no `navgym ...` command found in README.md's shell blocks"


def test_rewrite_table_refuses_what_it_cannot_shrink():
    for line in (
        "navgym train --timesteps 100000 --n-envs 64 --out runs/x",  # a budget-like option not in the table
        "navgym evaluate --env ObjectNav-ProcHouse-v0 --agent frontier --env-option num_scenes=1000",
        "navgym frobnicate --steps 10",  # a subcommand not in the table
        "navgym benchmark 1000",  # a positional argument
    ):
        with pytest.raises(UnknownCommand, match="extend the table"):
            rewrite(Command(0, shlex.split(line)))
    tiny = rewrite(Command(0, shlex.split("navgym evaluate --env E --agent rsrnav --episodes=50 --out /abs/run --video")))
    assert tiny.args == ["evaluate", "--env", "E", "--agent", "rsrnav", "--out", "outside_paths/abs/run", "--video", "--episodes", "1"]
    assert tiny.extras_needed == {"rl": RL_EXTRA}
    assert rewrite(Command(0, ["navgym", "demo"])).args == ["demo", "--episodes", "1"]


@pytest.mark.timeout(PYTHON_BLOCK_TIMEOUT + 120)
@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"python-L{b.line}" for b in PYTHON_BLOCKS])
def test_readme_python_block_runs(block, tmp_path):
    # Blank lines before the code make tracebacks point at README's own line numbers.
    runner = "import sys; exec(compile(sys.stdin.read(), sys.argv[1], 'exec'), {'__name__': '__main__'})"
    source = "\n" * (block.line - 1) + block.text
    result = subprocess.run(
        [sys.executable, "-c", runner, str(README)], input=source, cwd=tmp_path, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=PYTHON_BLOCK_TIMEOUT,
    )
    returncode = result.returncode  # asserted on alone: pytest would otherwise repeat the whole output
    assert returncode == 0, f"README.md python block at line {block.line} exited with {returncode}; output tail:\n{_tail(result.stdout)}"


# -- shell commands, in README order in one cwd -----------------------------------------------------------------------
class ReadmeSession:
    """The shared tmp cwd of README's commands and what each one did (so a command whose input an
    earlier one writes runs that one first, once, even when only the later test is selected)."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.outcomes: dict[int, tuple[str, str]] = {}  # index in COMMANDS -> ("passed"|"skipped"|"failed", why)

    def dependencies(self, index: int, rewritten: Rewritten) -> list[int]:
        deps = []
        for earlier in range(index):
            try:
                outputs = rewrite(COMMANDS[earlier]).outputs
            except UnknownCommand:
                continue
            if any(Path(p) == Path(o) or Path(o) in Path(p).parents for p in rewritten.inputs for o in outputs):
                deps.append(earlier)
        return deps

    def run(self, index: int) -> None:
        """Run ``COMMANDS[index]`` (after its dependencies): returns, skips or fails the test."""
        if index in self.outcomes:
            state, why = self.outcomes[index]
            if state == "skipped":
                pytest.skip(why)
            if state == "failed":
                pytest.fail(why, pytrace=False)
            return
        self.outcomes[index] = ("failed", "interrupted")  # until it finishes
        try:
            state, why = self._run(index)
        except BaseException as exc:  # a timeout or Ctrl-C: its dependants fail too
            self.outcomes[index] = ("failed", f"README.md line {COMMANDS[index].line}: {type(exc).__name__}: {exc}")
            raise
        self.outcomes[index] = (state, why)
        self.run(index)

    def _run(self, index: int) -> tuple[str, str]:
        command = COMMANDS[index]
        try:
            rewritten = rewrite(command)
        except UnknownCommand as exc:
            return "failed", str(exc)
        for dep in self.dependencies(index, rewritten):
            if dep not in self.outcomes:
                try:
                    self.run(dep)
                except (pytest.skip.Exception, pytest.fail.Exception):
                    pass
            state, why = self.outcomes[dep]
            if state != "passed":
                return state, f"README.md line {command.line} `{command.text}` reads the output of line {COMMANDS[dep].line}, which {state}: {why}"
        for extra, modules in rewritten.extras_needed.items():
            missing = [m for m in modules if importlib.util.find_spec(m) is None]
            if missing:
                return "skipped", (
                    f"README.md line {command.line} `{command.text}` needs the {extra!r} extra "
                    f"(pip install -e \".[{extra}]\"); not installed: {', '.join(missing)}"
                )
        argv = [*_navgym_executable(), *rewritten.args]
        print(f"README.md line {command.line}: {command.text}\n  runs as: navgym {shlex.join(rewritten.args)}")
        try:
            result = subprocess.run(
                argv, cwd=self.cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return "failed", (
                f"README.md line {command.line} `{command.text}` (run as `navgym {shlex.join(rewritten.args)}`) "
                f"took more than {COMMAND_TIMEOUT} s; output tail:\n{_tail(output)}"
            )
        if result.returncode != 0:
            return "failed", (
                f"README.md line {command.line} `{command.text}` (run as `navgym {shlex.join(rewritten.args)}` in "
                f"{self.cwd}) exited with {result.returncode}; output tail:\n{_tail(result.stdout)}"
            )
        return "passed", ""


@pytest.fixture(scope="module")
def readme_session(tmp_path_factory) -> ReadmeSession:
    return ReadmeSession(tmp_path_factory.mktemp("readme_cwd"))


# Generous for a 2-core machine: a command may first have to run the one it depends on.
@pytest.mark.timeout(2 * COMMAND_TIMEOUT + 120)
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[f"L{c.line}-navgym-{c.argv[1] if len(c.argv) > 1 else ''}" for c in COMMANDS])
def test_readme_command_runs(index, readme_session):
    readme_session.run(index)
