"""Out-of-sample seeds for the telegram_2024 patterns, with and without attention to disclosure.

The report uses seed 2024 and the calibration seed 7 at 2,000 groups; this runs the baseline and
telegram_2024 patterns at 3,000 groups (the scenario default) for master seeds 99 and 7, five
replicates each, with choice.w_attention = 0 and at its default. Usage:

    python experiments/diagnostics/telegram_2024_seeds.py
"""

from __future__ import annotations

from migration_sim.sweep.validation import load_patterns, run_patterns


def main() -> None:
    pats = [p for p in load_patterns() if p.scenario in ("telegram_2024", "baseline")]
    for seed in (99, 7):
        for ov in ({"choice.w_attention": 0.0}, {}):
            s, _ = run_patterns(pats, replicates=5, seed=seed, overrides=ov, workers=2)
            print(seed, ov or "defaults")
            for _, r in s.iterrows():
                print(
                    f"  {r['name']:40s} {r['mean']:.3f} +- {r['sd']:.3f} "
                    f"[{r['min']:.3f}, {r['max']:.3f}] {r['holds']}"
                )


if __name__ == "__main__":
    main()
