"""Tables for the terminal and for BENCHMARKS.md."""

from __future__ import annotations


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}\n\n{markdown_table(rows)}\n", flush=True)
