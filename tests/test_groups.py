import numpy as np
import pytest
from scipy import special

from migration_sim.config import default_config
from migration_sim.model import groups


def _laws():
    cfg = default_config()
    c = cfg.groups.beta_concentration
    means = {
        getattr(t, attr)
        for t in cfg.crime_types
        for attr in ("reach_need", "sophistication", "risk_aversion")
    }
    laws = [(c * m, c * (1.0 - m), 5e-10) for m in sorted(means) if 0.0 < m < 1.0]
    return [*laws, (0.3, 0.5, 1e-8)]  # a U-shaped law, far outside the catalogue


@pytest.mark.parametrize("a, b, tolerance", _laws())
def test_tabulated_beta_quantile_close_to_the_exact_inverse(a, b, tolerance):
    rng = np.random.default_rng(3)
    u = np.concatenate([rng.random(20_000), [0.0, 2.0**-53, 1e-300, 1e-17, 0.5, 1 - 2.0**-53]])
    m = a / (a + b)
    got = groups._beta_ppf(u, np.array([m]), np.zeros(u.size, np.int64), a + b)
    exact = special.betaincinv(a, b, u)
    assert np.max(np.abs(got - exact)) < tolerance
    assert np.all(np.diff(got[np.argsort(u)]) >= -1e-12)  # monotone in u


def test_beta_quantile_below_the_table_threshold_is_exact_and_constant_means_kept():
    rng = np.random.default_rng(4)
    n = groups.TABULATE_FROM - 1
    u = rng.random(n + 4)
    ct = np.r_[np.zeros(n, np.int64), [1, 1, 2, 2]]
    got = groups._beta_ppf(u, np.array([0.3, 0.0, 1.0]), ct, 4.0)
    assert np.array_equal(got[:n], special.betaincinv(1.2, 2.8, u[:n]))
    assert got[n:].tolist() == [0.0, 0.0, 1.0, 1.0]
