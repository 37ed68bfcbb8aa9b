"""The docs stay navigable: README.md is short, and every relative link in README.md,
docs/*.md and DECISIONS.md points at a file (and heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
README_MAX_LINES = 250
# written by a generator, not by hand; a link to it may precede the first generation
GENERATED = {PROJECT_DIR / "docs" / "vars.md"}

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")


def doc_files() -> list[Path]:
    return [
        PROJECT_DIR / "README.md",
        PROJECT_DIR / "DECISIONS.md",
        *sorted((PROJECT_DIR / "docs").glob("*.md")),
    ]


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a markdown file outside fenced code blocks, with their numbers."""
    lines, in_fence = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if FENCE.match(line.strip()):
            in_fence = not in_fence
        elif not in_fence:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for _, line in prose_lines(path) if re.match(r"^#{1,6} ", line)}


def dangling_links(path: Path, root: Path = PROJECT_DIR) -> list[str]:
    problems = []
    for number, line in prose_lines(path):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http(s):, mailto: and same-page anchors are not checked
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve()
            where = f"{path.relative_to(root)}:{number}"
            if resolved in GENERATED:
                continue
            if not resolved.exists():
                problems.append(f"{where}: {target} (no file {resolved})")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where}: {target} (no heading #{anchor})")
    return problems


def test_readme_is_short():
    n_lines = len((PROJECT_DIR / "README.md").read_text().splitlines())
    assert n_lines <= README_MAX_LINES, (
        f"README.md has {n_lines} lines (at most {README_MAX_LINES}); move the detail to a "
        "page under docs/ and link it"
    )


def test_readme_keeps_the_two_commands():
    text = (PROJECT_DIR / "README.md").read_text()
    assert "make demo" in text and "make test" in text


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_relative_links_resolve(path: Path):
    problems = dangling_links(path)
    assert not problems, "dangling links (fix the path or the heading):\n" + "\n".join(problems)


def test_the_link_check_finds_a_dangling_link(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](missing.md) [bad](page.md#nowhere)\n")
    problems = dangling_links(page, root=tmp_path)
    assert len(problems) == 2 and "missing.md" in problems[0] and "#nowhere" in problems[1]
