"""The README and docs/ stand alone: every relative link reaches a file and heading of this
repository, and no text points at documents a clone does not contain."""

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
OUTSIDE_REFERENCE = re.compile(r"\.\./shared|DESIGN\.md|STYLE\.md|seed 00[0-9]|seeds[/]")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped,
    spaces as hyphens (``Conversation logs (Django admin)`` → ``conversation-logs-django-admin``)."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, repeated headings numbered as GitHub does."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in FENCE.sub("", path.read_text()).splitlines():
        match = re.match(r"^#{1,6} (.+)$", line)
        if not match:
            continue
        anchor = github_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_reaches_a_file_and_heading_of_the_repo(doc):
    broken = []
    for target in LINK.findall(FENCE.sub("", doc.read_text())):
        if re.match(r"^[a-z]+:", target):
            continue  # http:, https:, mailto:
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists() or REPO not in path.parents:
            broken.append(f"{target}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in anchors_of(path):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken


def test_no_text_points_at_documents_outside_the_repository():
    listed = subprocess.run(
        ["git", "ls-files", "*.md", "Makefile", "*.py", ":!CHANGELOG.md"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    offending = [
        f"{name}:{number}: {line.strip()}"
        for name in listed
        if (REPO / name).exists()
        for number, line in enumerate((REPO / name).read_text().splitlines(), 1)
        if OUTSIDE_REFERENCE.search(line)
    ]
    assert not offending, offending
