"""The results table (each figure next to its target), the machine it ran on, and where results go."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LATEST_JSON = RESULTS_DIR / "latest.json"
README_SNIPPET = Path("/tmp/bench_results.md")
RERUN = "make bench  # or: python -m bench (python -m bench --quick for a short smoke run)"


@dataclass
class Row:
    """One figure: ``passed`` is None for an informational row without a target."""

    benchmark: str
    figure: str
    result: str
    target: str
    passed: bool | None
    values: dict[str, Any] = field(default_factory=dict)
    number: int = 0  # the benchmark's number in issue 6

    @property
    def verdict(self) -> str:
        return "info" if self.passed is None else ("PASS" if self.passed else "MISS")


def ms(seconds: float) -> str:
    """Milliseconds with about three significant digits."""
    value = seconds * 1000
    decimals = 3 if value < 1 else 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{decimals}f} ms"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def describe_machine(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['implementation']} {info['python']}, {info['os']} "
        f"(load average {info['load_average_at_start']} at start)"
    )


def table(rows: list[Row]) -> str:
    """A Markdown table; the benchmark's number and name appear on its first row only."""
    header = ("#", "Benchmark", "Figure", "Result", "Target", "")
    lines = [header]
    for index, row in enumerate(rows):
        first = index == 0 or rows[index - 1].benchmark != row.benchmark
        number, name = (str(row.number), row.benchmark) if first else ("", "")
        lines.append((number, name, row.figure, row.result, row.target, row.verdict))
    widths = [max(len(line[col]) for line in lines) for col in range(len(header))]

    def render(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(lines[0]), separator, *(render(line) for line in lines[1:])])


def summary_line(rows: list[Row]) -> str:
    checked = [r for r in rows if r.passed is not None]
    missed = [f"{r.benchmark}: {r.figure}" for r in checked if not r.passed]
    verdict = f"{len(checked) - len(missed)} of {len(checked)} targets met"
    return verdict + (f"; missed: {'; '.join(missed)}" if missed else "")


def write_results(rows: list[Row], info: dict[str, Any], *, quick: bool, seconds: float, notes: list[str]) -> None:
    """``bench/results/latest.json`` for machines, ``/tmp/bench_results.md`` for the README."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS_DIR.mkdir(exist_ok=True)
    document = {
        "when": when,
        "quick": quick,
        "seconds": round(seconds, 1),
        "machine": info,
        "summary": summary_line(rows),
        "rows": [{**asdict(r), "verdict": r.verdict} for r in rows],
        "notes": notes,
    }
    LATEST_JSON.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    markdown = [
        f"Measured {when} on {describe_machine(info)}" + (" (quick run)" if quick else "") + ".",
        "",
        table(rows),
        "",
        summary_line(rows) + f". The whole run took {seconds:.0f} s.",
    ]
    if notes:
        markdown += ["", *(f"- {note}" for note in notes)]
    markdown += ["", "Rerun with:", "", "```", RERUN, "```", ""]
    README_SNIPPET.write_text("\n".join(markdown))
