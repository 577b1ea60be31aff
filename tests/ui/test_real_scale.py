"""Layout at a real scale factor (issue 15, point 3) and F1 in lists under Xvfb (point 2).

QT_SCALE_FACTOR and the screen must be set before Qt starts, so each check runs
tests/ui/scale_probe.py in a process of its own: once on the offscreen platform with a 1920x1080
screen from a platform config file, once on the xcb platform under Xvfb with a 1920x1080 screen
(skipped where Xvfb is not installed; .ci/run installs it). Both at 150 %: 1280x720 logical pixels,
on a copy of the session's template workstation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WorkstationTemplate
from tests.ui.scale_probe import describe_template

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("scale_probe.py")
SCREEN = {"name": "1080p", "x": 0, "y": 0, "width": 1920, "height": 1080, "logicalDpi": 96, "logicalBaseDpi": 96,
          "dpr": 1}
SCALE = "1.5"
# the window itself: what a window manager leaves of a 720-logical-pixel screen (panel and title bar)
FIT_W, FIT_H = 1280, 650


def _probe(tmp_path: Path, template: WorkstationTemplate, env: dict[str, str], prefix: list[str],
           *args: str) -> dict[str, Any]:
    out = tmp_path / "probe.json"
    described = tmp_path / "template.json"
    describe_template(template, described)
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    run_env.update(env, QT_SCALE_FACTOR=SCALE, PYTHONPATH=str(ROOT))
    done = subprocess.run([*prefix, sys.executable, str(PROBE), str(out), f"--template={described}", *args],
                          cwd=ROOT, env=run_env,
                          capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _check_layout(report: dict[str, Any], roles: set[str]) -> None:
    assert report["dpr"] == pytest.approx(1.5)  # really scaled
    assert report["screen"] == [0, 0, 1280, 720]  # 1920x1080 device pixels at 150 %
    screen_bottom = report["screen"][1] + report["screen"][3]
    assert set(report["roles"]) == roles
    for role, r in report["roles"].items():
        min_w, min_h = r["min"]
        assert min_w <= FIT_W and min_h <= FIT_H, (role, r["min"])
        x, y, w, h = r["window"]
        assert x >= 0 and y >= 0 and x + w <= 1280 and y + h <= screen_bottom, (role, r["window"])
        assert r["banners_visible"], role
        for name in ("top_banner", "bottom_banner"):
            bx, by, bw, bh = r[name]
            assert bh > 0 and 0 <= by and by + bh <= screen_bottom, (role, name, r[name])  # inside the screen
            assert 0 <= bx and bx + bw <= 1280, (role, name, r[name])


@pytest.mark.slow
def test_banners_inside_a_1080p_screen_at_150_percent_offscreen(tmp_path: Path,
                                                                 workstation_template: WorkstationTemplate) -> None:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [SCREEN]}))
    report = _probe(tmp_path, workstation_template, {"QT_QPA_PLATFORM": f"offscreen:configfile={config}"}, [])
    assert report["platform"] == "offscreen"
    _check_layout(report, {"admin", "reviewer", "lead", "auditor"})


XVFB = shutil.which("xvfb-run")


@pytest.mark.slow
@pytest.mark.skipif(XVFB is None, reason="Xvfb is not installed (apt-get install xvfb; .ci/run installs it)")
def test_under_xvfb_at_150_percent_banners_fit_and_f1_opens_the_sheet_in_lists(
        tmp_path: Path, workstation_template: WorkstationTemplate) -> None:
    assert XVFB is not None
    prefix = [XVFB, "-a", "-s", f"-screen 0 {SCREEN['width']}x{SCREEN['height']}x24"]
    # a lead sees every content screen and tab, an administrator the rest (all four roles: offscreen above)
    report = _probe(tmp_path, workstation_template, {"QT_QPA_PLATFORM": "xcb"}, prefix, "--f1", "--roles=admin,lead")
    assert report["platform"] == "xcb"
    _check_layout(report, {"admin", "lead"})
    f1 = report["f1"]
    assert set(f1) == {"navigation list", "dashboard table", "submissions table", "assessment item tree",
                       "results runs table"}
    for where, seen in f1.items():
        assert seen["active"] and seen["focus_in_target"], (where, seen)  # the key went where it should
        assert seen["sheet_open"], f"F1 with the focus in the {where} did not open the shortcut sheet"
