"""The built wheel carries templates/ and static/ and serves pages from a clean venv."""
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_serves_page_and_static_file(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(dist), str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("survey-*.whl"))
    env_dir = tmp_path / "venv"
    # A clean venv with nothing inherited: the wheel must bring every runtime dependency it
    # declares (an undeclared one fails here, as it would on a county office's server).
    venv.EnvBuilder(system_site_packages=False, with_pip=True, clear=True).create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    script = (
        "import survey, pathlib; from survey import create_app\n"
        "assert 'venv' in survey.__file__, survey.__file__\n"
        "app = create_app({'TESTING': True}); c = app.test_client()\n"
        "page = c.get('/').get_data(as_text=True); css = c.get('/static/style.css')\n"
        "assert '满意度调查' in page and css.status_code == 200 and b'--blue' in css.data\n"
        "print('ok', pathlib.Path(app.template_folder).relative_to(pathlib.Path(survey.__file__).parent))\n"
    )
    env = {**os.environ, "SURVEY_INSTANCE_PATH": str(tmp_path / "instance")}
    result = subprocess.run([str(python), "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok templates"
