"""EMA Workbench: replicated experiments differ by seed and the multiprocessing evaluator runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest

from migration_sim.sweep import EMAModel

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # EMA warns about optional parallel back ends
    ema = pytest.importorskip("ema_workbench")


def _replicated_model(f: EMAModel, n: int):
    model = ema.ReplicatorModel("migration", function=f)
    model.uncertainties = [ema.RealParameter("choice__w_risk", 1.0, 8.0)]
    model.constants = [ema.Constant("groups__n_groups", 100)]
    model.replications = f.replications(n, seed=3)
    model.outcomes = [ema.ArrayOutcome("tg")]
    return model


def test_replications_are_distinct_reproducible_seeds():
    f = EMAModel(["tg = final:share.Telegram"], steps=5)
    seeds = f.replications(4, seed=9)
    assert len({r["seed"] for r in seeds}) == 4
    assert seeds == f.replications(4, seed=9) and seeds != f.replications(4, seed=10)
    assert all(0 <= r["seed"] < 2**63 for r in seeds)
    with pytest.raises(ValueError, match="n = 0"):
        f.replications(0)


def test_replicated_experiment_gives_different_replicates_each_a_direct_run():
    f = EMAModel(["tg = final:share.Telegram"], steps=8)
    model = _replicated_model(f, 3)
    with ema.SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(2)
    tg = outcomes["tg"]
    assert tg.shape == (2, 3)
    assert all(len(set(row)) > 1 for row in tg)  # replicates are not copies of each other
    seeds = [r["seed"] for r in f.replications(3, seed=3)]
    for i, w_risk in enumerate(experiments["choice__w_risk"]):
        for r, seed in enumerate(seeds):
            direct = f(seed=seed, groups__n_groups=100, choice__w_risk=float(w_risk))
            assert direct["tg"] == tg[i, r]


@pytest.mark.slow
def test_multiprocessing_evaluator_works_after_the_parent_ran_the_model(tmp_path):
    script = tmp_path / "ema_mp.py"
    script.write_text(
        textwrap.dedent(
            """
            import multiprocessing
            import warnings

            warnings.simplefilter("ignore")
            import ema_workbench as ema
            from migration_sim.sweep import EMAModel

            if __name__ == "__main__":
                f = EMAModel(["tg = final:share.Telegram"], steps=5)
                f(seed=1, groups__n_groups=100)  # the parent runs the model (OpenMP threads)
                model = ema.ReplicatorModel("migration", function=f)
                model.uncertainties = [ema.RealParameter("choice__w_risk", 1.0, 8.0)]
                model.constants = [ema.Constant("groups__n_groups", 100)]
                model.replications = f.replications(2)
                model.outcomes = [ema.ArrayOutcome("tg")]
                with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:
                    _, out = evaluator.perform_experiments(2)
                print(multiprocessing.get_start_method(), out["tg"].shape)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "forkserver (2, 2)"
