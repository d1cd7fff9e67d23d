"""Every write that changes what a stored judgement reads marks the stored judgements behind
(tenure.model.account_judgement.JUDGEMENTS_CHANGED), so that no list reads a stale copy: the
functions of ``src/tenure`` that insert, delete, update or make rows of the score tables, the
metric snapshots or the stage histories run it. (tests/web/test_exports_unchanged.py shows the
portfolio CSV reading the copy only while it is current.)"""

from __future__ import annotations

import ast
from pathlib import Path

import tenure

JUDGED = {"HealthScore", "ChurnRiskScore", "MetricSnapshot", "LifecycleStage"}
WRITES = {"insert", "delete", "update"}
SRC = Path(tenure.__file__).parent


def _writes_judged(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in JUDGED:  # a row made
        return True
    return (
        name in WRITES
        and bool(node.args)
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in JUDGED
    )


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def judged_writers() -> dict[str, bool]:
    """Each function writing a judged table (module:function) and whether it marks the stored
    judgements behind."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] == "model" or "migrations" in relative.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                isinstance(call, ast.Call) and _writes_judged(call) for call in ast.walk(node)
            ):
                found[f"{relative}:{node.name}"] = "JUDGEMENTS_CHANGED" in _names(node)
    return found


def test_every_writer_of_a_judged_table_marks_the_stored_judgements_behind() -> None:
    writers = judged_writers()
    # The writers known today (a new one is checked all the same).
    assert {
        "health/service.py:score_day",
        "metrics/service.py:store_metrics",
        "risk/scoring.py:score_accounts",
        "success/lifecycle_service.py:save_history_rows",
    } <= writers.keys()
    assert [name for name, marks in writers.items() if not marks] == []
