"""The conformance catalogue: every requirement in ../shared/REQUIREMENTS.md is enforced (a registered rule, or a
test marked `@pytest.mark.requirement(ID)` that proves it), or listed in hospital/conformance/verdicts.toml as
partly enforced or not built, saying what is missing. A mention of an ID in a test's text proves nothing and
counts for nothing: only a rule or a marker does.

`hospital conformance matrix` prints the same catalogue; this test keeps the catalogue and the code together.
"""

from __future__ import annotations

from pathlib import Path

from hospital.conformance.markers import requirement_tests
from hospital.conformance.matrix import VERDICTS, read_verdicts
from hospital.conformance.requirements import read_requirements
from hospital.rules_index import load_all_rules

TESTS = Path(__file__).resolve().parents[1]


def requirement_ids(shared_dir: Path) -> list[str]:
    return [r.id for r in read_requirements(shared_dir)]


def test_the_catalogue_is_read_whole(shared_dir: Path) -> None:
    ids = requirement_ids(shared_dir)
    assert len(ids) == len(set(ids)) >= 40
    assert all(r.clause and r.source for r in read_requirements(shared_dir))


def test_every_requirement_is_enforced_by_a_rule_or_a_marked_test_or_reviewed_as_missing(shared_dir: Path) -> None:
    ruled = {r.rule_id for r in load_all_rules()}
    marked = set(requirement_tests(TESTS))
    verdicts = read_verdicts()
    unproven = [i for i in requirement_ids(shared_dir) if i not in ruled and i not in marked and i not in verdicts]
    assert unproven == [], f"requirements with no rule, no marked test and no reviewed verdict: {unproven}"


def test_a_partly_enforced_or_unbuilt_requirement_says_what_is_missing(shared_dir: Path) -> None:
    ids = set(requirement_ids(shared_dir))
    for requirement, verdict in read_verdicts().items():
        assert requirement in ids, f"verdicts.toml names {requirement}, which REQUIREMENTS.md does not"
        assert verdict.get("verdict") in VERDICTS[1:], f"{requirement}: verdict must be 'partly' or 'not built'"
        assert len(verdict.get("missing", "").split()) >= 8, f"{requirement}: say what is missing"


def test_a_requirement_reviewed_as_not_built_has_no_rule(shared_dir: Path) -> None:
    ruled = {r.rule_id for r in load_all_rules()}
    built = sorted(i for i, v in read_verdicts().items() if v["verdict"] == "not built" and i in ruled)
    assert built == [], f"now enforced by a rule, review their verdict in verdicts.toml: {built}"


def test_every_registered_rule_names_a_real_requirement(shared_dir: Path) -> None:
    ids = set(requirement_ids(shared_dir))
    strays = sorted({r.rule_id for r in load_all_rules()} - ids)
    assert strays == [], f"rules registered under IDs not in REQUIREMENTS.md: {strays}"


def test_every_requirement_marker_names_a_real_requirement(shared_dir: Path) -> None:
    strays = sorted(set(requirement_tests(TESTS)) - set(requirement_ids(shared_dir)))
    assert strays == [], f"tests marked with IDs not in REQUIREMENTS.md: {strays}"


def test_a_mention_without_a_marker_or_rule_is_not_proof(tmp_path: Path) -> None:
    """A test that names SUP-01 in its text and docstring, but is not marked with it, proves nothing."""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_mentions.py").write_text(
        'import pytest\n\n\ndef test_sup_01() -> None:\n    """SUP-01: the platform is connected."""\n'
        '    assert "SUP-01"\n\n\n@pytest.mark.requirement("SUP-02")\ndef test_marked() -> None:\n    pass\n',
        encoding="utf-8")
    assert requirement_tests(tests) == {"SUP-02": ["tests/test_mentions.py::test_marked"]}


def test_the_rules_index_imports_every_module_that_registers_a_rule() -> None:
    """A rules module missing from hospital/rules_index.py is registered only when something else imports it: the
    matrix would then count it in one process and not in another, and `prove` would never swap it."""
    import ast

    from hospital.rules_index import RULE_MODULES

    root = TESTS.parent
    registering = set()
    for path in [*root.joinpath("hospital").rglob("*.py"), *root.joinpath("connectors").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "rule"
               for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for d in node.decorator_list):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            registering.add(module.removesuffix(".__init__"))
    # a package in the index (prescriptions.writing.rules) imports its modules
    missing = {m for m in registering if not any(m == i or m.startswith(i + ".") for i in RULE_MODULES)}
    assert missing == set()
