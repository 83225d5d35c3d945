"""Regenerate the example figures in docs/img (run from the repository root, ~2 minutes).

python docs/img/make_figures.py
"""

from pathlib import Path

import migration_sim as ms
from migration_sim.results import plots
from migration_sim.results.folder import replicate_comparison

HERE = Path(__file__).parent


def main() -> None:
    """Run the canonical scenarios (small ones for the replicate figures) and save each figure."""
    size = {"metrics.every": 5, "metrics.graph_steps": [59, 365]}  # the scenario's 3,000 groups
    tg = ms.run(ms.builtin_scenario("telegram_2024").with_overrides(size), seed=5)
    plots.save_figure(
        plots.plot_shares(tg, title="telegram_2024, seed 5"), HERE / "shares_telegram_2024.png"
    )
    plots.save_figure(
        plots.plot_network(tg, [59, 365], sample=300, seed=1), HERE / "network_telegram_2024.png"
    )
    small = {"groups.n_groups": 400, "metrics.every": 14}
    runs = {
        name: ms.run_scenario(
            ms.builtin_scenario(name).with_overrides(small), seed=11, replicates=5
        )
        for name in ("baseline", "telegram_2024", "domino", "takedown")
    }
    plots.save_figure(
        plots.plot_share_bands(runs["domino"], title="domino: 5 replicates"),
        HERE / "bands_domino.png",
    )
    table = replicate_comparison(runs)
    outcomes = ["share.Telegram", "effective_platforms_primary", "coverage_groups"]
    plots.save_figure(plots.plot_differences(table, outcomes), HERE / "differences.png")


if __name__ == "__main__":
    main()
