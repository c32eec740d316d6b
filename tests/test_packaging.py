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
    # the wheel builds while the venv is made: two processes, not one after the other
    build = subprocess.Popen([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                              "--outdir", str(dist), str(ROOT)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    env_dir = tmp_path / "venv"
    # A clean venv with nothing inherited: the wheel must bring every runtime dependency it
    # declares (an undeclared one fails here, as it would on a county office's server). The
    # venv is made without its own pip (ensurepip alone takes seconds): this pip installs into
    # it with --python, resolving against the venv's (empty) site-packages, not its own.
    venv.EnvBuilder(system_site_packages=False, with_pip=False, clear=True).create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    output = build.communicate(timeout=300)[0]
    assert build.returncode == 0, output.decode(errors="replace")
    wheel = next(dist.glob("survey-*.whl"))
    # --no-compile: the check below imports from source; writing every .pyc of numpy and
    # matplotlib first tests nothing of the wheel's
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                              "-q", "--no-compile", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    script = (
        "import survey, pathlib; from survey import create_app\n"
        "assert 'venv' in survey.__file__, survey.__file__\n"
        "app = create_app({'TESTING': True}); c = app.test_client()\n"
        "page = c.get('/').get_data(as_text=True); css = c.get('/static/style.css')\n"
        "assert '满意度调查' in page and css.status_code == 200 and b'--blue' in css.data\n"
        "print('ok', pathlib.Path(app.template_folder).relative_to(pathlib.Path(survey.__file__).parent))\n"
    )
    # nothing from the calling environment's path either: a PYTHONPATH pointing at a checkout
    # would import the sources instead of the installed wheel
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["SURVEY_INSTANCE_PATH"] = str(tmp_path / "instance")
    result = subprocess.run([str(python), "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok templates"
