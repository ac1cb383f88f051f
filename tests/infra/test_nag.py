"""cdk-nag AwsSolutions: the pack ran on every stack, nothing is unacknowledged, every acknowledgment says why."""

from __future__ import annotations

import csv
import json

import pytest

from tests.infra.conftest import Synthesized
from tests.infra.template_queries import walk

pytestmark = pytest.mark.infra

MIN_REASON = 60  # a sentence that names the resource's situation, not "not needed"


def _nag_messages(synthesized: Synthesized) -> list[str]:
    found = []
    for stack in synthesized.assembly.stacks:
        for message in stack.messages:
            text = str(message.entry.data)
            if text.startswith(("AwsSolutions-", "CdkNagValidationFailure")):
                found.append(f"{message.id}: {text.split(':')[0]}")
    return found


def test_no_unacknowledged_awssolutions_findings(synthesized: Synthesized) -> None:
    assert _nag_messages(synthesized) == []


def test_the_pack_ran_on_every_stack(synthesized: Synthesized) -> None:
    for template in synthesized.templates():
        report = (
            synthesized.outdir / f"AwsSolutions--{template.name.removesuffix('.template.json')}-NagReport.csv"
        )
        rows = list(csv.DictReader(report.open()))
        # The edge stack holds a WAF web ACL and CDK's cross-region export writer, which no AwsSolutions
        # rule inspects: its report exists (the pack ran) and is empty.
        if not template.name.endswith("-Edge.template.json"):
            assert any(row["Compliance"] == "Compliant" for row in rows), report.name
        assert not [row for row in rows if row["Compliance"] == "Non-Compliant"], report.name


def _acknowledgments(synthesized: Synthesized) -> list[dict]:
    found = []
    for template in synthesized.templates():
        resources = json.loads(template.read_text())["Resources"]
        for logical_id, resource in resources.items():
            for node in walk(resource.get("Metadata", {}).get("cdk_nag", {})):
                if isinstance(node, dict) and "reason" in node:
                    found.append({"resource": f"{template.name}:{logical_id}", **node})
    return found


def test_every_acknowledgment_has_a_specific_reason(synthesized: Synthesized) -> None:
    acknowledgments = _acknowledgments(synthesized)
    assert acknowledgments
    for ack in acknowledgments:
        assert ack["id"].startswith("AwsSolutions-"), ack
        assert len(ack["reason"]) >= MIN_REASON, ack
    # Wildcard acknowledgments name the exact finding they cover, never the whole rule.
    for ack in acknowledgments:
        if ack["id"] == "AwsSolutions-IAM5":
            assert ack.get("applies_to"), ack
