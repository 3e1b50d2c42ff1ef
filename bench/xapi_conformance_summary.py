"""Per-section pass counts of an ADL LRS conformance suite run log (the JSON it writes)."""

import json
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any


def leaves(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    children = node.get("tests") or []
    if not children:
        yield node
    for child in children:
        yield from leaves(child)


def main(path: str) -> None:
    with open(path, encoding="utf-8") as log:
        run = json.load(log)
    passed_all = total_all = 0
    for section in run["log"].get("tests", []):
        statuses = Counter(leaf.get("status") for leaf in leaves(section))
        passed, total = statuses.get("passed", 0), sum(statuses.values())
        passed_all, total_all = passed_all + passed, total_all + total
        print(f"{passed:5d} / {total:<5d} {section.get('title') or section.get('name')}")
    print(f"{passed_all:5d} / {total_all:<5d} in all")


if __name__ == "__main__":
    main(sys.argv[1])
