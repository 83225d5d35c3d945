"""The browser dashboard: Mesa's SolaraViz page over :class:`MigrationModel`.

Start it with ``migration-sim dashboard`` (or ``solara run migration_sim.cli.dashboard``) and open
the address it prints. Choose a built-in scenario; move the sliders (the model's keyword
parameters and the sizes of the scenario's shocks); press **Reset** to rebuild the model with
them (Mesa's convention), then **Step** or **▶** to run it. The page shows the headline numbers,
the primary-platform shares, the fragmentation and monitoring-coverage measures, and a sample
of the contact network coloured by primary platform.

The environment variables ``MIGRATION_SIM_DASHBOARD_SCENARIO`` and
``MIGRATION_SIM_DASHBOARD_GROUPS`` set the scenario and number of groups the page starts with
(``migration-sim dashboard SCENARIO --groups N`` sets them).
"""

from __future__ import annotations

import os
import weakref
from typing import Any

import networkx as nx
import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization import SolaraViz

from migration_sim.config import (
    DEFAULT_SCENARIO,
    Config,
    builtin_scenario_names,
    keyword_key,
    resolve_scenario,
)
from migration_sim.model import MigrationModel
from migration_sim.results.plots import (
    platform_colours,
    plot_fragmentation,
    plot_shares,
    shock_marks,
)

__all__ = [
    "DASHBOARD_MEASURES",
    "NETWORK_SAMPLE",
    "Page",
    "dashboard_model",
    "model_params",
    "network_figure",
    "shock_sliders",
]

#: Groups the dashboard starts with (the scenarios use 3,000; fewer keep the page quick).
DEFAULT_GROUPS = 1000

#: Groups drawn in the network picture.
NETWORK_SAMPLE = 200

#: Fragmentation and coverage measures plotted on the dashboard (see docs/model.md).
DASHBOARD_MEASURES = (
    "effective_platforms_primary",
    "broken_tie_share",
    "coverage_groups",
    "coverage_severity",
)

#: Sliders for the common keyword parameters: keyword -> (label, min, max, step).
#: The ranges are judgement: wide enough to explore, starting from the scenario's value.
COMMON_SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "n_groups": ("Groups", 200, 5000, 100),
    "mean_degree": ("Contacts per group (mean degree)", 2, 20, 1),
    "beta": ("Choice intensity (beta)", 0.0, 5.0, 0.1),
    "w_risk": ("Weight of perceived risk", 0.0, 10.0, 0.25),
    "w_network": ("Weight of contacts on the platform", 0.0, 10.0, 0.25),
    "w_switch": ("Switching cost", 0.0, 5.0, 0.1),
    "w_attention": ("Attention to disclosure after news", 0.0, 40.0, 1.0),
    "w_follow": ("Following where displaced groups went", 0.0, 20.0, 0.5),
    "enforcement_intensity": ("Enforcement intensity", 0.0, 0.05, 0.001),
}

#: The size parameter of each shock kind on the dashboard: kind -> (parameter, label, min, max,
#: step). A ban wave's size is ``share`` when it acts once and ``factor`` when sustained.
SHOCK_SIZES: dict[str, tuple[str, str, float, float, float]] = {
    "salience": ("magnitude", "news salience", 0.0, 1.0, 0.05),
    "disclosure_change": ("to", "disclosure after", 0.0, 1.0, 0.05),
    "takedown": ("p_dark", "share going dark", 0.0, 1.0, 0.05),
    "crackdown": ("factor", "enforcement factor", 0.0, 20.0, 0.5),
    "ban_wave": ("share", "share banned", 0.0, 1.0, 0.05),
    "ban_wave_sustained": ("factor", "moderation factor", 1.0, 30.0, 1.0),
    "policy_contagion": ("pressure", "outside pressure", 0.0, 0.05, 0.001),
}


def _slider(label: str, value: float, lo: float, hi: float, step: float) -> dict[str, Any]:
    kind = "SliderInt" if all(float(v).is_integer() for v in (lo, hi, step)) else "SliderFloat"
    value = int(value) if kind == "SliderInt" else float(value)
    return {
        "type": kind,
        "label": label,
        "value": value,
        "min": min(lo, value),
        "max": max(hi, value),
        "step": step,
    }


def shock_sliders(cfg: Config) -> dict[str, dict[str, Any]]:
    """One slider per shock of the scenario, keyed by the model keyword that sets its size.

    A disclosure change to a catalogue variant (Telegram's ``post_sep_2024``) is sized by the
    variant's disclosure (``platforms__<platform>__variants__<variant>__disclosure``); every
    other shock by its own parameter (``shocks__<name>__<parameter>``, see :data:`SHOCK_SIZES`).

    Parameters
    ----------
    cfg : Config
        The scenario's configuration.

    Returns
    -------
    dict
        SolaraViz ``model_params`` entries, in schedule order.
    """
    out: dict[str, dict[str, Any]] = {}
    for shock in cfg.shocks:
        kind, name = shock["kind"], shock["name"]
        if kind == "ban_wave" and shock.get("mode") == "sustained":
            kind = "ban_wave_sustained"
        param, what, lo, hi, step = SHOCK_SIZES[kind]
        if kind == "disclosure_change" and shock.get("variant") is not None:
            platform, variant = shock["platform"], shock["variant"]
            spec = cfg.platforms[cfg.platform_names.index(platform)]
            key = f"platforms__{platform}__variants__{variant}__disclosure"
            value = spec.variants[variant].get("disclosure", spec.disclosure)
        else:
            key, value = f"shocks__{name}__{param}", shock[param]
        when = f"{cfg.run.step_unit} {shock['start']}"
        out[key] = _slider(f"{name} ({when}): {what}", value, lo, hi, step)
    return out


def model_params(scenario: str, n_groups: int = DEFAULT_GROUPS) -> dict[str, Any]:
    """SolaraViz ``model_params`` for a scenario: fixed choices and sliders.

    Every slider's key is a :class:`MigrationModel` keyword parameter and starts at the
    scenario's value (except ``n_groups``, which starts at ``n_groups``).

    Parameters
    ----------
    scenario : str
        A built-in scenario name or a scenario file.
    n_groups : int
        Initial number of groups.

    Returns
    -------
    dict
    """
    cfg = resolve_scenario(scenario)[0]
    params: dict[str, Any] = {"scenario_name": scenario}
    for keyword, (label, lo, hi, step) in COMMON_SLIDERS.items():
        value = n_groups if keyword == "n_groups" else cfg.get(keyword_key(keyword))
        params[keyword] = _slider(label, value, lo, hi, step)
    params.update(shock_sliders(cfg))
    return params


def dashboard_model(scenario: str, n_groups: int = DEFAULT_GROUPS) -> MigrationModel:
    """The model the page starts with: the scenario at ``n_groups`` groups."""
    return MigrationModel(scenario_name=scenario, n_groups=n_groups)


# ------------------------------------------------------------------------------ panels


def _headline(model: MigrationModel) -> solara.Element:
    """Scenario, time and the numbers an analyst reads first."""
    res = model.results
    ts = res.timeseries
    last = ts.iloc[-1]
    shares = last.filter(regex="^share[.]").sort_values(ascending=False)
    top = ", ".join(f"{name[6:]} {value:.1%}" for name, value in shares.head(4).items())

    def measure(col: str, fmt: str) -> str:
        return format(last[col], fmt) if col in ts.columns and np.isfinite(last[col]) else "-"

    text = (
        f"### {model.scenario_name}: {res.step_unit} {model.steps} of {model.params.run.steps}\n"
        f"**{int(last['n_active']):,} active groups** of {model.params.groups.n_groups:,}. "
        f"Primary platform: {top}.\n\n"
        f"Effective number of platforms: **{measure('effective_platforms_primary', '.2f')}** · "
        f"ties without a common platform: **{measure('broken_tie_share', '.1%')}** · "
        f"groups on a monitored platform: **{measure('coverage_groups', '.1%')}** · "
        f"severity-weighted coverage: **{measure('coverage_severity', '.1%')}**\n\n"
        f"This run: {_run_parameters(model)}\n\n"
        "*Move the sliders, press Reset to rebuild the model with them, then Step or ▶.*"
    )
    return solara.Markdown(text)


def _run_parameters(model: MigrationModel) -> str:
    """The slider values of the running model: keyword (or shock name) = value."""
    cfg = model.params
    shown = {k: k for k in COMMON_SLIDERS}
    shown.update(zip(shock_sliders(cfg), (s["name"] for s in cfg.shocks), strict=True))
    return " · ".join(f"{name} = {cfg.get(keyword_key(k)):g}" for k, name in shown.items())


def _shares_panel(model: MigrationModel) -> solara.Element:
    """Primary-platform shares over time, shocks marked."""
    fig = plot_shares(model.results, title="Primary platform shares")
    return solara.FigureMatplotlib(fig, format="png", dpi=80)


def _fragmentation_panel(model: MigrationModel) -> solara.Element:
    """Fragmentation and monitoring coverage over time, shocks marked."""
    res = model.results
    ts = res.timeseries
    cols = [c for c in DASHBOARD_MEASURES if c in ts.columns]
    if not cols:
        return solara.Markdown("No fragmentation measures recorded (`metrics.every = 0`).")
    fig = plot_fragmentation(
        ts[["days", *cols]],
        marks=shock_marks(res, starts_only=True),
        title="Fragmentation and monitoring coverage",
    )
    return solara.FigureMatplotlib(fig, format="png", dpi=80)


_LAYOUTS: weakref.WeakKeyDictionary[MigrationModel, tuple[np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def _sample_layout(model: MigrationModel, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sampled groups and their positions, fixed for the model's lifetime.

    The sample is the contact neighbourhood of the best-connected group (breadth first, ties
    broken by group id) at the first drawing; positions come from a seeded spring layout.
    """
    cached = _LAYOUTS.get(model)
    if cached is not None:
        return cached
    net = model.network
    start = int(np.argmax(net.degree))
    order, seen = [start], {start}
    for node in order:
        if len(order) >= size:
            break
        for nb in sorted(net.indices[net.indptr[node] : net.indptr[node + 1]].tolist()):
            if nb not in seen and len(order) < size:
                seen.add(nb)
                order.append(nb)
    nodes = np.array(sorted(order))
    keep = np.isin(net.edges_u, nodes) & np.isin(net.edges_v, nodes)
    g = nx.Graph()
    g.add_nodes_from(nodes.tolist())
    g.add_edges_from(zip(net.edges_u[keep].tolist(), net.edges_v[keep].tolist(), strict=True))
    pos = nx.spring_layout(g, seed=1, iterations=60)
    xy = np.array([pos[n] for n in nodes.tolist()])
    _LAYOUTS[model] = (nodes, xy)
    return nodes, xy


def network_figure(model: MigrationModel, size: int = NETWORK_SAMPLE) -> Figure:
    """A sample of the contact network, groups coloured by primary platform.

    Parameters
    ----------
    model : MigrationModel
        The model, in its current state.
    size : int
        Groups drawn: the contact neighbourhood of the best-connected group.

    Returns
    -------
    matplotlib.figure.Figure
        Grey lines are ties whose two groups share a platform; red dashed lines are ties
        without a common platform (broken by fragmentation); grey dots are groups with no
        platform or removed.
    """
    nodes, xy = _sample_layout(model, size)
    pop, net = model.population, model.network
    index = {int(n): i for i, n in enumerate(nodes.tolist())}
    keep = np.isin(net.edges_u, nodes) & np.isin(net.edges_v, nodes)
    eu, ev = net.edges_u[keep], net.edges_v[keep]
    alive = pop.active[eu] & pop.active[ev]
    shared = (pop.member[eu] & pop.member[ev]).any(axis=1)
    segments = np.stack(
        [xy[[index[u] for u in eu.tolist()]], xy[[index[v] for v in ev.tolist()]]], 1
    )
    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = fig.add_subplot()
    ax.add_collection(LineCollection(segments[alive & shared], colors="0.75", linewidths=0.6))
    ax.add_collection(
        LineCollection(
            segments[alive & ~shared], colors="tab:red", alpha=0.5, linewidths=0.7, linestyles="--"
        )
    )
    names = model.platform_names
    colours = platform_colours(names)
    primary = pop.primary[nodes]
    grey = (0.6, 0.6, 0.6, 1.0)
    face = [colours[names[p]] if p >= 0 else grey for p in primary.tolist()]  # removed: -1
    ax.scatter(xy[:, 0], xy[:, 1], s=22, c=face, edgecolors="white", linewidths=0.4, zorder=2)
    present = sorted({int(p) for p in primary if p >= 0})
    handles = [Line2D([], [], ls="", marker="o", color=colours[names[k]]) for k in present]
    handles += [
        Line2D([], [], ls="", marker="o", color=grey),
        Line2D([], [], color="tab:red", ls="--"),
    ]
    labels = [names[k] for k in present] + ["no platform / removed", "tie with no common platform"]
    ax.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False
    )
    ax.set_title(
        f"Contact network, {model.params.run.step_unit} {model.steps}\n"
        f"{len(nodes)} groups around the best-connected one, by primary platform",
        fontsize=9,
    )
    ax.set_axis_off()
    return fig


def _network_panel(model: MigrationModel) -> solara.Element:
    return solara.FigureMatplotlib(network_figure(model), format="png", dpi=80)


COMPONENTS = [(_headline, 0), (_shares_panel, 0), (_fragmentation_panel, 0), (_network_panel, 0)]


def _start_groups() -> int:
    text = os.environ.get("MIGRATION_SIM_DASHBOARD_GROUPS", str(DEFAULT_GROUPS))
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"MIGRATION_SIM_DASHBOARD_GROUPS = {text!r} is not allowed: expected an integer >= 1"
        )
    return int(text)


@solara.component
def Page() -> None:
    """The dashboard page: a scenario menu above Mesa's SolaraViz for that scenario."""
    first = os.environ.get("MIGRATION_SIM_DASHBOARD_SCENARIO", DEFAULT_SCENARIO)
    scenario, set_scenario = solara.use_state(first)
    groups = solara.use_memo(_start_groups, [])
    model = solara.use_memo(lambda: dashboard_model(scenario, groups), [scenario])
    names = builtin_scenario_names()
    with solara.Sidebar(), solara.Card("Scenario"):
        solara.Select(
            "Scenario", values=sorted({*names, scenario}), value=scenario, on_value=set_scenario
        )
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(scenario, groups),
        name=f"migration_sim: {scenario}",
        render_interval=15,
    ).key(f"viz-{scenario}")
