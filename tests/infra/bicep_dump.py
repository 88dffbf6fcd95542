"""Parse every .bicep file under a folder with checkov's own Bicep parser; print JSON.

Runs with the infra venv's Python (.venv-infra), which has checkov. Output:
{"files": {"<relative path>": <parsed template or null when the parser failed>}}.
Using checkov's parser proves that checkov sees (and so checks) every file: a file it cannot
parse comes out as null here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from checkov.bicep.parser import Parser


def main(root: str) -> None:
    base = Path(root)
    files = {}
    for path in sorted(base.rglob("*.bicep")):
        template, _ = Parser().parse(path)
        files[path.relative_to(base).as_posix()] = template
    json.dump({"files": files}, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1])
