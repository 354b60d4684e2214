"""Summarise a folder of build logs: which steps are slow, which fail, and how that changes over time.

Written for the Floe project as a sample of everyday Python for routing statistics (route-stats).
It is meant to read like ordinary application code: dataclasses, type hints, a small cache,
regular expressions, a command line, and a few tests at the end.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import statistics
import sys
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

STEP_PATTERN = re.compile(
    r"^\[(?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\]\s+"
    r"(?P<level>INFO|WARN|ERROR)\s+"
    r"step=(?P<step>[\w.-]+)\s+"
    r"(?P<event>start|finish|fail)"
    r"(?:\s+code=(?P<code>-?\d+))?$"
)

DEFAULT_SLOW_SECONDS = 120.0


class LogFormatError(ValueError):
    """A line that looks like a step record but cannot be parsed."""

    def __init__(self, path: Path, line_number: int, line: str) -> None:
        super().__init__(f"{path}:{line_number}: cannot parse step record: {line!r}")
        self.path = path
        self.line_number = line_number


@dataclass(frozen=True)
class StepEvent:
    stamp: dt.datetime
    level: str
    step: str
    event: str
    code: Optional[int] = None


@dataclass
class StepRun:
    step: str
    started: dt.datetime
    finished: Optional[dt.datetime] = None
    failed: bool = False
    exit_code: Optional[int] = None

    @property
    def seconds(self) -> Optional[float]:
        if self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()


@dataclass
class BuildSummary:
    name: str
    runs: list[StepRun] = field(default_factory=list)
    warnings: int = 0

    @property
    def failed(self) -> bool:
        return any(run.failed for run in self.runs)

    @property
    def total_seconds(self) -> float:
        return sum(run.seconds or 0.0 for run in self.runs)

    def slowest(self, count: int = 3) -> list[StepRun]:
        finished = [run for run in self.runs if run.seconds is not None]
        return sorted(finished, key=lambda run: run.seconds, reverse=True)[:count]


class LruCache:
    """A small least-recently-used cache; parsing the same log twice is common in watch mode."""

    def __init__(self, capacity: int = 64) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[str, BuildSummary] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, compute: Callable[[], BuildSummary]) -> BuildSummary:
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        self.misses += 1
        value = compute()
        self._items[key] = value
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


def parse_events(path: Path, lines: Iterable[str]) -> Iterator[StepEvent]:
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if "step=" not in line:
            continue
        match = STEP_PATTERN.match(line)
        if match is None:
            raise LogFormatError(path, number, line)
        code = match.group("code")
        yield StepEvent(
            stamp=dt.datetime.fromisoformat(match.group("stamp")),
            level=match.group("level"),
            step=match.group("step"),
            event=match.group("event"),
            code=int(code) if code is not None else None,
        )


def summarise(name: str, events: Iterable[StepEvent]) -> BuildSummary:
    summary = BuildSummary(name)
    open_runs: dict[str, StepRun] = {}
    for event in events:
        if event.level == "WARN":
            summary.warnings += 1
        if event.event == "start":
            if event.step in open_runs:
                # a restarted step: keep the earlier attempt as unfinished
                summary.runs.append(open_runs.pop(event.step))
            open_runs[event.step] = StepRun(event.step, event.stamp)
            continue
        run = open_runs.pop(event.step, None)
        if run is None:
            run = StepRun(event.step, event.stamp)
        run.finished = event.stamp
        run.failed = event.event == "fail"
        run.exit_code = event.code
        summary.runs.append(run)
    summary.runs.extend(open_runs.values())
    return summary


def load_build(path: Path, cache: Optional[LruCache] = None) -> BuildSummary:
    def compute() -> BuildSummary:
        with path.open(encoding="utf-8") as handle:
            return summarise(path.stem, parse_events(path, handle))

    if cache is None:
        return compute()
    stamp = path.stat().st_mtime_ns
    return cache.get(f"{path}:{stamp}", compute)


def step_statistics(builds: Iterable[BuildSummary]) -> dict[str, dict[str, float]]:
    durations: dict[str, list[float]] = defaultdict(list)
    failures: Counter[str] = Counter()
    attempts: Counter[str] = Counter()
    for build in builds:
        for run in build.runs:
            attempts[run.step] += 1
            if run.failed:
                failures[run.step] += 1
            if run.seconds is not None:
                durations[run.step].append(run.seconds)
    table: dict[str, dict[str, float]] = {}
    for step in sorted(attempts):
        values = durations.get(step, [])
        table[step] = {
            "attempts": attempts[step],
            "failure_rate": failures[step] / attempts[step],
            "median_seconds": statistics.median(values) if values else float("nan"),
            "p90_seconds": percentile(values, 0.9) if values else float("nan"),
        }
    return table


def percentile(values: list[float], fraction: float) -> float:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of an empty list")
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    weight = position - lower
    return ordered[lower] * (1.0 - weight) + ordered[upper] * weight


def flaky_steps(builds: list[BuildSummary], threshold: float = 0.2) -> list[str]:
    """Steps that fail sometimes but not always: the ones worth a retry policy."""
    table = step_statistics(builds)
    return [step for step, row in table.items() if 0.0 < row["failure_rate"] < 1.0 and row["failure_rate"] >= threshold]


def write_csv(table: dict[str, dict[str, float]], out: Path) -> None:
    columns = ["step", "attempts", "failure_rate", "median_seconds", "p90_seconds"]
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for step, row in table.items():
            writer.writerow({"step": step, **{key: round(value, 3) for key, value in row.items()}})


def render_text(builds: list[BuildSummary], slow_seconds: float) -> str:
    lines = []
    for build in sorted(builds, key=lambda b: b.name):
        status = "FAILED" if build.failed else "ok"
        lines.append(f"{build.name:<24} {status:<6} {build.total_seconds:8.1f}s  warnings={build.warnings}")
        for run in build.slowest():
            if run.seconds is not None and run.seconds >= slow_seconds:
                lines.append(f"    slow: {run.step} took {run.seconds:.0f}s")
    failed = sum(1 for build in builds if build.failed)
    lines.append(f"{len(builds)} builds, {failed} failed")
    return "\n".join(lines)


def find_logs(folder: Path, pattern: str = "*.log") -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    return sorted(folder.glob(pattern))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of build logs")
    parser.add_argument("--pattern", default="*.log", help="glob of log files (default: *.log)")
    parser.add_argument("--slow", type=float, default=DEFAULT_SLOW_SECONDS, help="seconds that make a step slow")
    parser.add_argument("--csv", type=Path, help="write per-step statistics to this CSV file")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    cache = LruCache()
    try:
        builds = [load_build(path, cache) for path in find_logs(args.folder, args.pattern)]
    except (FileNotFoundError, LogFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not builds:
        print("no logs found", file=sys.stderr)
        return 1
    table = step_statistics(builds)
    if args.csv:
        write_csv(table, args.csv)
    if args.json:
        print(json.dumps(table, indent=2, sort_keys=True))
    else:
        print(render_text(builds, args.slow))
        for step in flaky_steps(builds):
            print(f"flaky: {step}")
    return 1 if any(build.failed for build in builds) else 0


# ---------------------------------------------------------------------------------------------
# tests (run with: python -m pytest route-sample.py)

SAMPLE = """\
[2026-03-01T10:00:00] INFO step=checkout start
[2026-03-01T10:00:04] INFO step=checkout finish
[2026-03-01T10:00:04] INFO step=compile start
[2026-03-01T10:03:10] WARN step=compile finish
[2026-03-01T10:03:10] INFO step=test start
[2026-03-01T10:05:00] ERROR step=test fail code=1
"""


def _sample_build() -> BuildSummary:
    return summarise("sample", parse_events(Path("sample.log"), SAMPLE.splitlines()))


def test_durations_and_failure() -> None:
    build = _sample_build()
    assert [run.step for run in build.runs] == ["checkout", "compile", "test"]
    assert build.runs[1].seconds == 186.0
    assert build.failed and build.runs[2].exit_code == 1
    assert build.warnings == 1


def test_slowest_orders_by_duration() -> None:
    assert [run.step for run in _sample_build().slowest(2)] == ["compile", "test"]


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([7.0], 0.9) == 7.0


def test_cache_evicts_oldest() -> None:
    cache = LruCache(capacity=2)
    for key in ["a", "b", "a", "c"]:
        cache.get(key, _sample_build)
    assert len(cache) == 2 and cache.hits == 1 and cache.misses == 3


def test_bad_line_names_file_and_line() -> None:
    try:
        list(parse_events(Path("x.log"), ["step=compile explode"]))
    except LogFormatError as error:
        assert error.line_number == 1 and "x.log:1" in str(error)
    else:
        raise AssertionError("expected LogFormatError")


if __name__ == "__main__":
    sys.exit(main())
