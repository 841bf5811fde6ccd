"""README's map and docs/architecture.md's house match the tree: every folder they name exists, and every area
and sub-area package is named (so a newcomer finds a folder where the map says it is)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOP = ("hospital", "connectors")


def area_folders() -> set[str]:
    """Every package folder under hospital/ and connectors/ (data and migration scripts are not areas)."""
    found = {top for top in TOP}
    for top in TOP:
        for init in (REPO / top).rglob("__init__.py"):
            folder = init.parent.relative_to(REPO).as_posix()
            if "__pycache__" not in folder:
                found.add(folder)
    return found | {"hospital/migrations"}


def code_block_after(text: str, heading: str) -> str:
    after = text.split(heading, 1)[1]
    return after.split("```", 2)[1]


def tree_folders(block: str) -> set[str]:
    """Folders of an indented tree (two spaces a level): `  visits/` under `hospital/` is hospital/visits."""
    path: list[str] = []
    folders = set()
    for line in block.splitlines():
        match = re.match(r"^( *)([a-z_]+)/(\s|$)", line)
        if not match:
            continue
        depth = len(match.group(1)) // 2
        path = [*path[:depth], match.group(2)]
        folders.add("/".join(path))
    return folders


def test_the_house_in_architecture_md_is_the_tree_of_packages() -> None:
    named = {f for f in tree_folders(code_block_after((REPO / "docs/architecture.md").read_text(), "## The house"))
             if f.split("/")[0] in TOP}
    actual = area_folders()
    assert sorted(named - actual) == [], "docs/architecture.md names folders that do not exist"
    assert sorted(actual - named) == [], "packages missing from docs/architecture.md's house"


def test_readmes_map_names_only_folders_that_exist_and_every_area() -> None:
    block = code_block_after((REPO / "README.md").read_text(), "## Map of the folders")
    named = tree_folders(block)
    missing = [f for f in named if not (REPO / f).is_dir()]
    assert missing == [], f"README's map names folders that do not exist: {missing}"
    areas = {f for f in area_folders() if f.count("/") == 1}
    assert sorted(areas - named) == [], "areas missing from README's map"
    # Sub-areas are named on their area's line ("visits/ … intake/, booking/ …").
    sub_areas = {f for f in area_folders() if f.count("/") == 2 and f.startswith("hospital/")}
    unnamed = [f for f in sub_areas if f"{f.rsplit('/', 1)[1]}/" not in block]
    assert unnamed == [], f"sub-areas missing from README's map: {unnamed}"


def test_the_tree_reader_reads_nesting() -> None:
    block = "hospital/   app\n  visits/    v\n    intake/  i\n  public/  p\nconnectors/\n  supervision/\n"
    assert tree_folders(block) == {"hospital", "hospital/visits", "hospital/visits/intake", "hospital/public",
                                   "connectors", "connectors/supervision"}
