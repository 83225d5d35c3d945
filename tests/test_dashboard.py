"""The SolaraViz dashboard: its parameters, its network picture, and a real browser session.

The browser test starts ``migration-sim dashboard`` on 127.0.0.1 and drives Debian's
``chromium`` with Playwright. Outside CI it is skipped (with the reason) when chromium or
Playwright is missing; in CI (``CI=true``) it fails instead. It saves a screenshot and its
timings under ``test-artifacts/`` (or ``$MIGRATION_SIM_ARTIFACTS``).
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

if importlib.util.find_spec("solara") is None:  # the 'dashboard' extra (part of 'dev')
    if os.environ.get("CI", "").lower() == "true":
        raise ImportError("solara is missing in CI: install the project with '.[dev]'")
    pytest.skip("the dashboard extra is not installed", allow_module_level=True)

from matplotlib.colors import to_rgba  # noqa: E402

from migration_sim import MigrationModel  # noqa: E402
from migration_sim.cli.dashboard import (  # noqa: E402
    COMMON_SLIDERS,
    model_params,
    network_figure,
    shock_sliders,
)
from migration_sim.config import (  # noqa: E402
    builtin_scenario,
    builtin_scenario_names,
    keyword_key,
)
from migration_sim.model import resolve_config  # noqa: E402
from migration_sim.results.plots import platform_colours  # noqa: E402

ARTIFACTS = Path(
    os.environ.get("MIGRATION_SIM_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts")
)


@pytest.mark.parametrize("scenario", builtin_scenario_names())
def test_every_slider_is_a_model_keyword_that_moves_its_config_value(scenario):
    params = model_params(scenario, n_groups=700)
    sliders = {k: v for k, v in params.items() if isinstance(v, dict)}
    assert set(COMMON_SLIDERS) <= set(sliders)
    start = resolve_config(None, scenario_name=scenario, params={})
    for key, spec in sliders.items():
        assert spec["min"] <= spec["value"] <= spec["max"]
        if key != "n_groups":  # every other slider starts at the scenario's value
            assert start.get(keyword_key(key)) == pytest.approx(spec["value"])
        moved = spec["max"] if spec["value"] != spec["max"] else spec["min"]
        cfg = resolve_config(None, scenario_name=scenario, params={key: moved})
        assert cfg.get(keyword_key(key)) == pytest.approx(moved), key


def test_shock_sliders_size_each_shock_of_the_scenario():
    cfg = builtin_scenario("telegram_2024")
    keys = list(shock_sliders(cfg))
    assert keys == [
        "shocks__arrest_news__magnitude",
        "platforms__Telegram__variants__post_sep_2024__disclosure",
        "shocks__handover_news__magnitude",
    ]
    # the disclosure slider changes the variant's disclosure only; its other values stay
    moved = resolve_config(None, scenario_name="telegram_2024", params={keys[1]: 0.9})
    variant = moved.platforms[0].variants["post_sep_2024"]
    assert variant["disclosure"] == 0.9
    assert variant["moderation"] == cfg.platforms[0].variants["post_sep_2024"]["moderation"]
    assert list(shock_sliders(builtin_scenario("baseline"))) == []
    assert list(shock_sliders(builtin_scenario("ban_wave_strong"))) == ["shocks__campaign__factor"]


def test_network_picture_colours_the_sampled_groups_by_primary_platform():
    m = MigrationModel(n_groups=400, steps=3, run__warmup_steps=5, rng=1)
    m.run()
    fig = network_figure(m, size=120)
    ax = fig.axes[0]
    dots = ax.collections[-1]
    assert len(dots.get_offsets()) == 120
    # the sample is the best-connected group and its neighbourhood: connected by ties
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-2:] == ["no platform / removed", "tie with no common platform"]
    platforms = legend[:-2]
    assert set(platforms) <= set(m.platform_names)
    palette = platform_colours(m.platform_names)
    colours = {tuple(c) for c in dots.get_facecolors()}
    assert colours - {(0.6, 0.6, 0.6, 1.0)} == {to_rgba(palette[p]) for p in platforms}


def test_dashboard_command_refuses_an_unknown_scenario(capsys):
    from migration_sim.cli import main

    assert main(["dashboard", "no_such_scenario", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "migration-sim dashboard: error: scenario = 'no_such_scenario' is not allowed" in err


# ----------------------------------------------------------------------------- browser


def _require(condition: bool, reason: str) -> None:
    """Skip with the reason, except in CI, where a missing browser is a failure."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the dashboard server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"the dashboard did not answer at {url} within {timeout} s")


@pytest.fixture
def chromium():
    path = os.environ.get("MIGRATION_SIM_CHROMIUM") or shutil.which("chromium")
    _require(path is not None, "no chromium on PATH: apt-get install chromium")
    _require(
        importlib.util.find_spec("playwright") is not None,
        "playwright is not installed: pip install -e '.[dev]'",
    )
    return path


@pytest.fixture
def dashboard_url(chromium, tmp_path):
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from migration_sim.cli import main; raise SystemExit(main())",
            "dashboard",
            "telegram_2024",
            "--groups",
            "300",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        started = time.perf_counter()
        _wait_for_server(url, proc, timeout=120)
        yield url, time.perf_counter() - started
    finally:
        proc.terminate()  # the command became the server (exec), so this stops the server
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        print((tmp_path / "server.log").read_text()[-3000:])


def _shares_png(page) -> bytes:
    """The primary-shares figure (the first image, beside the headline) as shown, in PNG."""
    image = page.locator("img").nth(0)
    assert image.evaluate("img => img.naturalWidth") > 300  # a rendered figure, not a stub
    return image.screenshot()


def _step_to(page, day: int) -> None:
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(f"document.body.innerText.includes('day {day} of 365')")


def test_dashboard_in_a_real_browser(chromium, dashboard_url):
    from playwright.sync_api import sync_playwright

    url, server_start = dashboard_url
    timings = {"server_start_s": server_start}
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.set_default_timeout(90_000)
            t = time.perf_counter()
            page.goto(url)
            page.wait_for_function("document.body.innerText.includes('day 0 of 365')")
            timings["page_load_s"] = time.perf_counter() - t
            body = page.locator("body").inner_text()
            assert "300 active groups of 300" in body
            assert page.locator("img").count() >= 3  # shares, fragmentation, network

            t = time.perf_counter()
            _step_to(page, 15)
            timings["step_15_days_s"] = time.perf_counter() - t
            _step_to(page, 30)
            _step_to(page, 45)
            before = _shares_png(page)
            text_before = page.locator("body").inner_text()
            assert "arrest_news = 0.3 " in text_before

            # move the arrest-news slider to its maximum, rebuild the model, run to day 45
            slider = page.locator(
                ".v-input:has(label:text-is('arrest_news (day 30): news salience')) [role=slider]"
            )
            assert slider.get_attribute("aria-valuenow") == "0.3"
            t = time.perf_counter()
            slider.focus()
            page.keyboard.press("End")
            assert slider.get_attribute("aria-valuenow") == "1"
            page.get_by_role("button", name="Reset").click()
            page.wait_for_function("document.body.innerText.includes('arrest_news = 1 ')")
            timings["slider_and_reset_s"] = time.perf_counter() - t
            for day in (15, 30, 45):
                _step_to(page, day)
            after = _shares_png(page)
            text_after = page.locator("body").inner_text()
            assert "Traceback" not in text_after and "Error" not in text_after
            # same seed, stronger news at day 30: the run differs, and so does its picture
            assert after != before
            assert (
                text_after.split("Primary platform:")[1]
                != text_before.split("Primary platform:")[1]
            )
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    (ARTIFACTS / "dashboard-timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print(f"screenshot: {ARTIFACTS / 'dashboard.png'}; timings: {timings}")
