"""Diagnosis for issue #9: why do groups leaving Telegram in telegram_2024 pick WhatsApp, Discord?

Runs telegram_2024 and the baseline on the same replicate seed, records every revision in which a
group with Telegram as primary picks another primary, and decomposes the utility of the chosen
destination and of the alternatives term by term at the moment of the move. Prints the tables
quoted in docs/model.md (Known limitations). Usage:

    python experiments/diagnostics/telegram_2024_destinations.py [replicate] [overrides as k=v]
"""

from __future__ import annotations

import sys

import numpy as np

from migration_sim.config.scenario import builtin_scenario
from migration_sim.model import choice
from migration_sim.model.model import MigrationModel
from migration_sim.model.runner import replicate_seeds

PRIVACY = ["Signal", "Session", "SimpleX", "Matrix", "Jabber", "Tox", "Threema"]
MAINSTREAM = ["WhatsApp", "Discord"]
TERMS = [
    "reach",
    "network",
    "popularity",
    "risk",
    "usability",
    "alpha",
    "ban",
    "follow",
    "attention",
]


def terms(m: MigrationModel, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each utility term, shape (len(rows), K), as the kernel adds them."""
    pop, w = m.population, m.weights
    k = m.n_platforms
    counts = np.zeros((rows.size, k))
    for r, i in enumerate(rows):
        nb = m.network.indices[m.network.indptr[i] : m.network.indptr[i + 1]]
        nb = nb[pop.active[nb]]
        if nb.size:
            counts[r] = pop.member[nb].mean(axis=0)
    sev = m._severity[rows]
    out = {
        "reach": w.reach * pop.reach_need[rows, None] * m.platform.reach[None, :],
        "network": w.network * counts,
        "popularity": w.popularity * np.broadcast_to(m.popularity, (rows.size, k)),
        "risk": -w.risk * pop.risk[rows] * (pop.risk_aversion[rows] * sev)[:, None],
        "usability": w.usability
        * (1 - pop.sophistication[rows])[:, None]
        * m.platform.usability[None, :],
        "alpha": np.broadcast_to(m.constants, (rows.size, k)),
        "ban": -w.ban * m.ban_pressure[rows],
        "follow": w.follow * m.unsettled_now[rows, None] * m.follow[None, :],
        "attention": -w.risk
        * w.attention
        * (m.attention[rows] * pop.risk_aversion[rows] * sev)[:, None]
        * m.exposure_k[None, :],
    }
    return out


def run(scenario: str, seed, overrides: dict, record: bool):
    cfg = builtin_scenario(scenario).with_overrides({"metrics.every": 0, **overrides})
    m = MigrationModel(cfg, rng=seed)
    moves = []
    if record:
        tg = m.platform_names.index("Telegram")
        orig = m._revise

        def revise(u_revise, u_choice, speedup=1.0):
            before = m.population.primary.copy()
            was_tg = before == tg
            # groups displaced from Telegram have primary -1 here: use the state before the step
            was_tg |= (before < 0) & (m._primary_before == tg)
            _, v0 = choice.utility_rows(np.arange(m.population.n), m._choice_state())
            snap = terms(m, np.flatnonzero(was_tg & m.population.active))
            idx = np.flatnonzero(was_tg & m.population.active)
            risk = m.population.risk[idx].copy()
            disp = m.displaced[idx].copy()
            bp = m.ban_pressure[idx, tg].copy()
            att = m.attention[idx].copy()
            orig(u_revise, u_choice, speedup)
            after = m.population.primary[idx]
            moved = (after >= 0) & (after != tg)
            if moved.any():
                sel = np.flatnonzero(moved)
                moves.append(
                    dict(
                        t=m.steps,
                        groups=idx[sel],
                        dest=after[sel],
                        terms={k: v[sel] for k, v in snap.items()},
                        risk=risk[sel],
                        displaced=disp[sel],
                        ban_tg=bp[sel],
                        attention=att[sel],
                        v0=v0[idx[sel]],
                    )
                )

        m._revise = revise
    m.run(cfg.run.steps)
    return m, moves


def main() -> None:
    rep = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    overrides = {}
    for a in sys.argv[2:]:
        key, val = a.split("=")
        overrides[key] = float(val)
    seed = replicate_seeds(2024, rep + 1)[rep]
    base, _ = run("baseline", seed, overrides, False)
    m, moves = run("telegram_2024", seed, overrides, True)
    names = m.platform_names
    K = len(names)
    priv = [names.index(p) for p in PRIVACY]
    main_ = [names.index(p) for p in MAINSTREAM]
    fr = names.index("Forums")
    tg = names.index("Telegram")
    sb = base.results.arrays["primary"][365] / base.results.arrays["n_active"][365]
    ss = m.results.arrays["primary"][365] / m.results.arrays["n_active"][365]
    loss = sb[tg] - ss[tg]
    print(f"replicate {rep}: Telegram share base {sb[tg]:.3f} shock {ss[tg]:.3f} loss {loss:.3f}")
    for n_, k in zip(names, range(K), strict=True):
        print(
            f"  {n_:9s} base {sb[k]:.3f} shock {ss[k]:.3f} gain/loss {(ss[k] - sb[k]) / loss:+.3f}"
        )
    print(
        f"  privacy {(ss[priv] - sb[priv]).sum() / loss:.3f} mainstream "
        f"{(ss[main_] - sb[main_]).sum() / loss:.3f}"
    )
    print("alpha:", dict(zip(names, np.round(m.constants, 2), strict=True)))
    print("exposure now:", dict(zip(names, np.round(m.exposure_k, 3), strict=True)))

    late = [mv for mv in moves if mv["t"] >= 60]
    dest = np.concatenate([mv["dest"] for mv in late])
    grp = np.concatenate([mv["groups"] for mv in late])
    disp = np.concatenate([mv["displaced"] for mv in late])
    risk = np.concatenate([mv["risk"] for mv in late])
    v0 = np.concatenate([mv["v0"] for mv in late])
    tt = {k: np.concatenate([mv["terms"][k] for mv in late]) for k in TERMS}
    ban_tg = np.concatenate([mv["ban_tg"] for mv in late])
    ct = np.array(m.crime_type_names)[m.population.crime_type[grp]]
    print(
        f"\nmoves off Telegram from day 60 on: {dest.size} (displaced by a ban: {disp.mean():.2f})"
    )
    cls = np.where(
        np.isin(dest, priv),
        "privacy",
        np.where(np.isin(dest, main_), "mainstream", np.where(dest == fr, "forums", "other")),
    )
    for c in ("privacy", "mainstream", "forums"):
        print(f"  {c:10s} {np.mean(cls == c):.3f}")
    print("by crime type (share of moves to mainstream / privacy, n):")
    for t in m.crime_type_names:
        s = ct == t
        if s.sum():
            to_main, to_priv = np.mean(cls[s] == "mainstream"), np.mean(cls[s] == "privacy")
            print(f"  {t:11s} {to_main:.2f} / {to_priv:.2f}  n={s.sum()}")
    print("mean Telegram ban pressure of movers", ban_tg.mean().round(3))
    att = np.concatenate([mv["attention"] for mv in late])
    print(f"attention of movers at the move: mean {att.mean():.3f}, median {np.median(att):.3f}")
    print("\nperceived risk R_ik of movers at the move (mean):")
    for p in ["Telegram", "WhatsApp", "Discord", "Signal", "Session", "Jabber"]:
        k = names.index(p)
        print(f"  {p:9s} R {risk[:, k].mean():.3f}  risk term {tt['risk'][:, k].mean():+.3f}")
    print("\nutility terms (mean over movers) per platform:")
    print("  platform  " + " ".join(f"{t:>10s}" for t in TERMS) + "       V0")
    for p in ["Telegram", "WhatsApp", "Discord", "Signal", "Session", "Jabber", "Forums"]:
        k = names.index(p)
        print(
            f"  {p:9s} "
            + " ".join(f"{tt[t][:, k].mean():+10.3f}" for t in TERMS)
            + f" {v0[:, k].mean():+8.3f}"
        )
    # mainstream movers: gap to the best privacy option, term by term
    s = cls == "mainstream"
    if s.any():
        d = dest[s]
        best_priv = np.array(priv)[np.argmax(v0[s][:, priv], axis=1)]
        r = np.arange(d.size)
        print("\nmainstream movers: chosen minus best privacy platform, per term (mean):")
        for t in TERMS:
            print(f"  {t:10s} {np.mean(tt[t][s][r, d] - tt[t][s][r, best_priv]):+.3f}")
    # logit probabilities over destinations (Telegram excluded), with and without risk term
    ex = np.ones(K, bool)
    ex[tg] = False

    def shares(v):
        w_ = np.exp(v[:, ex] - v[:, ex].max(axis=1, keepdims=True))
        p = w_ / w_.sum(axis=1, keepdims=True)
        full = np.zeros((v.shape[0], K))
        full[:, ex] = p
        return full.mean(axis=0)

    p = shares(v0)
    print(
        f"\nlogit shares of movers over non-Telegram platforms: privacy {p[priv].sum():.3f}"
        f" mainstream {p[main_].sum():.3f} forums {p[fr]:.3f}"
    )
    p = shares(v0 - tt["risk"])
    print(
        f"  without the risk term:            privacy {p[priv].sum():.3f} "
        f"mainstream {p[main_].sum():.3f}"
    )
    p = shares(v0 - tt["alpha"])
    print(
        f"  without alpha:                    privacy {p[priv].sum():.3f} "
        f"mainstream {p[main_].sum():.3f}"
    )
    p0 = np.array([pl.initial_share for pl in m.params.platforms])
    q = p0[ex] / p0[ex].sum()
    full = np.zeros(K)
    full[ex] = q
    print(
        f"  IIA (initial shares):             privacy {full[priv].sum():.3f} "
        f"mainstream {full[main_].sum():.3f}"
    )


if __name__ == "__main__":
    main()
