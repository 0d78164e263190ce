"""One window per user and profile: a second launch shows the first window and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from provet_xero_gui.profile import Profile
from provet_xero_gui.ui.single_instance import SingleInstance, instance_name, tell_running_instance


def test_a_second_claim_tells_the_first_to_show(qtbot: QtBot, tmp_path: Path) -> None:
    name = instance_name(tmp_path / "profile-a")
    first = SingleInstance(name)
    assert first.claim()
    second = SingleInstance(name)
    with qtbot.waitSignal(first.show_requested, timeout=5_000):
        assert not second.claim()
    other_profile = SingleInstance(instance_name(tmp_path / "profile-b"))
    assert other_profile.claim()  # another profile runs beside it
    first.close()
    other_profile.close()


def test_names_differ_per_user_and_profile(tmp_path: Path) -> None:
    assert instance_name(tmp_path / "a", "anna") != instance_name(tmp_path / "a", "ben")
    assert instance_name(tmp_path / "a", "anna") != instance_name(tmp_path / "b", "anna")
    assert instance_name(tmp_path / "a", "anna") == instance_name(tmp_path / "a", "anna")


def test_provet_xero_without_arguments_opens_one_app(qtbot: QtBot, tmp_path: Path) -> None:
    """`provet-xero` starts the app; a second `provet-xero` finds it, asks it to show, and exits 0."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    name = instance_name(Profile.open().paths.config_dir)
    first = subprocess.Popen([sys.executable, "-m", "provet_xero_gui"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not tell_running_instance(name):
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline, "the app never started listening"
            time.sleep(0.2)
        second = subprocess.run([sys.executable, "-m", "provet_xero_gui"], env=env, capture_output=True,
                                text=True, timeout=30)
        assert second.returncode == 0
        assert "already running" in second.stderr
        assert first.poll() is None  # the first one is still there
    finally:
        first.terminate()
        first.wait(15)
