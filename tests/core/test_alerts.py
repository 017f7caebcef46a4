"""The Prometheus alert rules name only metrics the application exports, and cover the objectives."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import promql_parser
import pytest
import yaml
from fastapi import FastAPI
from prometheus_client import generate_latest
from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.jobs.metrics import QUEUE_AGE
from panjereh.jobs.models import Job

ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
GRAFANA = ALERTS.parents[1] / "grafana" / "panjereh.json"


def _rules() -> list[dict[str, object]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def _exported(app: FastAPI) -> set[str]:
    text = generate_latest(app.state.metrics.registry).decode()
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def test_every_rule_names_exported_metrics(app: FastAPI) -> None:
    exported = _exported(app)
    for rule in _rules():
        expr = str(rule["expr"])
        named = set(re.findall(r"\bpanjereh_[a-z_]+\b", expr))
        assert named, rule["alert"]
        assert named <= exported, (rule["alert"], named - exported)


def test_the_grafana_dashboard_charts_exported_metrics(app: FastAPI) -> None:
    exported = _exported(app)
    dashboard = json.loads(GRAFANA.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    named = {name for expr in exprs for name in re.findall(r"\bpanjereh_[a-z_]+\b", expr)}
    assert named <= exported, named - exported
    # Every alert's metric has a chart to look at when it fires.
    alerted = {name for rule in _rules() for name in re.findall(r"\bpanjereh_[a-z_]+\b", str(rule["expr"]))}
    assert alerted <= named, alerted - named


def test_the_objectives_are_covered() -> None:
    exprs = {str(rule["alert"]): str(rule["expr"]) for rule in _rules()}
    assert "histogram_quantile(0.95" in exprs["PanjerehLatencyP95High"] and exprs[
        "PanjerehLatencyP95High"
    ].endswith("> 1")
    assert "histogram_quantile(0.99" in exprs["PanjerehLatencyP99High"] and exprs[
        "PanjerehLatencyP99High"
    ].endswith("> 2.5")
    assert "5.." in exprs["PanjerehErrorRateHigh"]
    assert "panjereh_exchange_circuit_open" in exprs["PanjerehExchangeBreakerOpen"]
    assert QUEUE_AGE in exprs["PanjerehJobQueueOld"]


def test_the_queue_age_is_the_oldest_due_job(app: FastAPI, db: Session) -> None:
    assert f"{QUEUE_AGE} 0.0" in generate_latest(app.state.metrics.registry).decode()
    db.add(Job(kind="test.kind", payload={}, run_at=utcnow() - timedelta(minutes=10)))
    db.add(Job(kind="test.kind", payload={}, run_at=utcnow() + timedelta(hours=1)))  # not due yet
    db.flush()
    text = generate_latest(app.state.metrics.registry).decode()
    age = float(re.search(rf"^{QUEUE_AGE} (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]
    assert 595 <= age <= 700


def _selected_metrics(expr: promql_parser.Expr) -> set[str]:
    """The metric names an expression reads, from its syntax tree (a regex would also match label values)."""
    if isinstance(expr, promql_parser.VectorSelector):
        return {expr.name} if expr.name else set()
    children = [getattr(expr, name, None) for name in ("expr", "lhs", "rhs", "vector_selector", "param")]
    children += list(getattr(expr, "args", None) or [])
    return set().union(
        *(_selected_metrics(child) for child in children if isinstance(child, promql_parser.Expr))
    )


def test_every_rule_and_chart_is_valid_promql_reading_exported_metrics(app: FastAPI) -> None:
    # Always runs (promtool below needs the Prometheus package): the Rust PromQL parser Prometheus-compatible
    # tools use, so a typo in an expression fails here rather than when Prometheus loads the file.
    exported = _exported(app)
    dashboard = json.loads(GRAFANA.read_text())
    charts = [str(target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]
    for expr in [str(rule["expr"]) for rule in _rules()] + charts:
        parsed = promql_parser.parse(expr)
        metrics = _selected_metrics(parsed)
        assert metrics and metrics <= exported, (expr, metrics - exported)
    for rule in _rules():
        if "for" in rule:
            assert promql_parser.parse_duration(str(rule["for"])).total_seconds() > 0, rule["alert"]
    with pytest.raises(ValueError, match="parenthesis"):
        promql_parser.parse("sum(rate(panjereh_http_requests_total[5m])")  # the parser does refuse


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules() -> None:
    subprocess.run(["promtool", "check", "rules", str(ALERTS)], check=True)  # noqa: S603, S607
