"""bandit, the security linter, over survey/: no finding, except those a `# nosec` comment
names by test id and explains."""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "# nosec B608 - why it is safe": the test ids, then a reason of a few words.
EXPLAINED = re.compile(r"# nosec (B\d{3})( B\d{3})* - \S.{4,}")


def test_bandit_finds_nothing_unexplained_in_survey():
    run = subprocess.run([sys.executable, "-m", "bandit", "-r", "survey", "-q", "-f", "json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(run.stdout)
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
                for r in report["results"]]
    assert findings == [] and report["errors"] == []


def test_every_nosec_names_its_test_and_says_why():
    bare = [f"{path.relative_to(ROOT)}:{number}"
            for path in sorted((ROOT / "survey").rglob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if "# nosec" in line and not EXPLAINED.search(line)]
    assert bare == []
