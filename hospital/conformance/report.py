"""The report of a scenario run, per requirement: passed, failed (expected vs got), not applicable; as text,
JSON or JUnit XML (one test case per scenario, one suite per requirement, for a vendor's CI)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from xml.etree import ElementTree  # nosec B405: only builds and serialises the JUnit report; never parses XML

from hospital.conformance.journey import Result

__all__ = ["as_json", "as_junit", "as_text", "by_requirement"]


def by_requirement(results: list[Result]) -> dict[str, dict[str, int]]:
    summary: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "not applicable": 0})
    for result in results:
        summary[result.requirement][result.status] += 1
    return dict(sorted(summary.items()))


def as_text(results: list[Result], target: str) -> str:
    lines = [f"conformance run against {target}: {len(results)} scenarios"]
    for requirement, counts in by_requirement(results).items():
        verdict = "FAILED" if counts["failed"] else ("passed" if counts["passed"] else "not applicable")
        lines.append(f"{requirement:<9} {verdict:<15} {counts['passed']} passed, {counts['failed']} failed, "
                     f"{counts['not applicable']} not applicable")
        for result in results:
            if result.requirement == requirement and result.status != "passed":
                lines.append(f"    {result.status}: {result.scenario}: {result.title}")
                lines.append(f"        expected {result.expected}")
                lines.append(f"        got      {result.got}")
    totals = {s: sum(1 for r in results if r.status == s) for s in ("passed", "failed", "not applicable")}
    lines.append(f"{totals['passed']} passed, {totals['failed']} failed, {totals['not applicable']} not applicable")
    return "\n".join(lines)


def as_json(results: list[Result], target: str) -> str:
    document: dict[str, Any] = {"target": target, "requirements": by_requirement(results),
                                "scenarios": [r.as_json() for r in results]}
    return json.dumps(document, ensure_ascii=False, indent=2)


def as_junit(results: list[Result], target: str) -> str:
    root = ElementTree.Element("testsuites", name=f"hospital conformance {target}")
    for requirement, counts in by_requirement(results).items():
        suite = ElementTree.SubElement(root, "testsuite", name=requirement, tests=str(sum(counts.values())),
                                       failures=str(counts["failed"]), skipped=str(counts["not applicable"]))
        for result in results:
            if result.requirement != requirement:
                continue
            case = ElementTree.SubElement(suite, "testcase", classname=requirement, name=result.scenario,
                                          time=f"{result.seconds:.3f}")
            if result.status == "failed":
                failure = ElementTree.SubElement(case, "failure", message=f"expected {result.expected}")
                failure.text = f"{result.title}\nexpected {result.expected}\ngot      {result.got}"
            elif result.status == "not applicable":
                ElementTree.SubElement(case, "skipped", message=result.got)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)
