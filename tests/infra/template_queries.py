"""Reading synthesized templates: resources by construct, and which resources a policy refers to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import CfnElement, Stack, assertions
from constructs import IConstruct


def cfn_element(construct: IConstruct) -> CfnElement:
    """The L1 resource behind an L2 construct (or the construct itself when it is one)."""
    if isinstance(construct, CfnElement):
        return construct
    child = construct.node.default_child
    if child is None:
        raise ValueError(f"{construct.node.path} has no default CloudFormation resource")
    return child  # type: ignore[return-value]


@dataclass
class StackTemplate:
    stack: Stack
    data: dict[str, Any]
    _assertions: assertions.Template | None = field(default=None, repr=False)

    @classmethod
    def load(cls, outdir: Path, stack: Stack) -> StackTemplate:
        return cls(stack, json.loads((outdir / stack.template_file).read_text()))

    @property
    def assertions(self) -> assertions.Template:
        if self._assertions is None:
            self._assertions = assertions.Template.from_json(self.data)
        return self._assertions

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.data["Resources"]

    def logical_id(self, construct: IConstruct) -> str:
        element = cfn_element(construct)
        return str(Stack.of(element).resolve(Stack.of(element).get_logical_id(element)))

    def resource(self, construct: IConstruct) -> dict[str, Any]:
        return self.resources[self.logical_id(construct)]

    def props(self, construct: IConstruct) -> dict[str, Any]:
        return self.resource(construct).get("Properties", {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def policies_of_role(self, role: IConstruct) -> list[dict[str, Any]]:
        """Every statement of the inline policies attached to ``role`` (AWS::IAM::Policy + Policies)."""
        role_id = self.logical_id(role)
        statements: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        for inline in self.resources[role_id]["Properties"].get("Policies", []):
            statements += inline["PolicyDocument"]["Statement"]
        return statements


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def referenced_ids(value: Any, known_ids: set[str]) -> set[str]:
    """Logical ids named by Ref / Fn::GetAtt / Fn::ImportValue (exports carry the producer's id)."""
    found: set[str] = set()
    for node in walk(value):
        if not isinstance(node, dict):
            continue
        if "Ref" in node and not str(node["Ref"]).startswith("AWS::"):
            found.add(node["Ref"])
        if "Fn::GetAtt" in node:
            found.add(node["Fn::GetAtt"][0])
        if "Fn::ImportValue" in node:
            export = node["Fn::ImportValue"]
            matches = [i for i in known_ids if i in export]
            assert matches, f"export {export} names no known resource"
            found.add(max(matches, key=len))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
