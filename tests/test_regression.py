"""Baseline regression: a fixed-seed run must reproduce its stored summary exactly.

A deliberate model change that moves these numbers must regenerate the file, and say so in its
commit: ``MIGRATION_SIM_REGEN=1 python -m pytest tests/test_regression.py``.

``regression_summary_attention_off.json`` is the summary stored before attention to disclosure
(``choice.w_attention``, issue #9) existed; with that weight at 0 and the follow weight of that
time (``choice.w_follow = 6``, recalibrated to 8 since) the model must still reproduce it bit for
bit. It is never regenerated.
"""

import json
import os
from pathlib import Path

import numpy as np

import migration_sim as ms

STORED = Path(__file__).parent / "data" / "regression_summary.json"
STORED_ATTENTION_OFF = Path(__file__).parent / "data" / "regression_summary_attention_off.json"
CONFIG = {
    "groups.n_groups": 600,
    "run.warmup_steps": 20,
    "enforcement.intensity": 0.01,
    "shocks": [
        {
            "kind": "salience",
            "name": "news",
            "start": 10,
            "platforms": ["Telegram"],
            "magnitude": 0.4,
        },
        {
            "kind": "disclosure_change",
            "name": "policy",
            "start": 20,
            "platform": "Telegram",
            "variant": "post_sep_2024",
        },
    ],
}


def summary(overrides: dict | None = None) -> dict:
    res = ms.run({**CONFIG, **(overrides or {})}, seed=20241024, steps=60)
    a = res.arrays
    return {
        "primary_final": a["primary"][-1].tolist(),
        "presence_final": a["presence"][-1].tolist(),
        "n_active_final": int(a["n_active"][-1]),
        "disruptions_total": int(a["disruptions"].sum()),
        "flows_total": a["flows"].sum(axis=0).tolist(),
        "mean_risk_final": np.round(a["mean_risk"][-1], 12).tolist(),
        "broken_tie_share_final": round(float(res.metrics["broken_tie_share"][-1]), 12),
    }


def test_fixed_seed_run_matches_stored_summary():
    got = summary()
    if os.environ.get("MIGRATION_SIM_REGEN"):
        STORED.write_text(json.dumps(got, indent=1) + "\n")
    stored = json.loads(STORED.read_text())
    assert got == stored


def test_attention_off_reproduces_the_summary_stored_before_it_existed():
    got = summary({"choice.w_attention": 0.0, "choice.w_follow": 6.0})
    assert got == json.loads(STORED_ATTENTION_OFF.read_text())
