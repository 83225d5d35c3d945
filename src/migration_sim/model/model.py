"""``MigrationModel``: the Mesa model and its ordered schedule of processes.

The schedule (ODD "process overview and scheduling") is the tuple :data:`SCHEDULE`; each name is
a method ``_<name>(t)``. Within a process, updates are synchronous: every group decides from the
state at the start of the process, then all decisions are written at once.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.experimental.scenarios import Scenario

from migration_sim import metrics
from migration_sim.config import (
    Config,
    ConfigError,
    default_config,
    keyword_overrides,
    resolve_scenario,
)
from migration_sim.config.errors import echo
from migration_sim.model import choice, kernels
from migration_sim.model.groups import CriminalGroup, draw_population
from migration_sim.model.inputs import check_run_inputs
from migration_sim.model.network import (
    ContactNetwork,
    from_networkx,
    holme_kim_homophily,
    homophily_probability,
)
from migration_sim.model.platforms import PlatformState
from migration_sim.model.shocks import build_shocks
from migration_sim.model.threads import thread_budget
from migration_sim.model.ties import TieDynamics
from migration_sim.results.core import RecordedDataCollector, Recorder, Results, pack_events

__all__ = ["MigrationModel", "run", "SCHEDULE", "STREAMS", "resolve_config"]

#: The order of processes in one step (ODD process overview).
SCHEDULE = (
    "apply_shocks",
    "enforce",
    "moderate",
    "perceive",
    "choose",
    "update_ties",
    "record",
)

#: Named random streams, spawned in this order from the run's SeedSequence. New streams are
#: only ever appended, so existing streams keep their numbers.
STREAMS = (
    "population",
    "network",
    "enforcement",
    "moderation",
    "choice",
    "shocks",
    "ties",
    "warmup",
)

#: Groups above which CriminalGroup agents are created lazily (on first access).
EAGER_AGENT_LIMIT = 20_000


def resolve_config(
    config: Config | Mapping[str, Any] | None,
    *,
    scenario_name: str | Path | None = None,
    params: Mapping[str, Any] | None = None,
) -> Config:
    """The validated Config that :class:`MigrationModel` builds from its arguments.

    Parameters
    ----------
    config : Config, dict or None
        A Config, or a dict of overrides (nested or dotted keys); None for no overrides.
    scenario_name : str, pathlib.Path or None
        A built-in scenario name or a scenario file to start from instead of the defaults.
    params : mapping, optional
        Keyword parameters (see :func:`migration_sim.config.keyword_overrides`), applied last.

    Returns
    -------
    Config
    """
    if scenario_name is not None:
        if isinstance(config, Config):
            raise ConfigError(
                "config = <Config> cannot be combined with scenario_name: give the scenario's "
                "changes as a dict of overrides"
            )
        cfg = resolve_scenario(scenario_name)[0].with_overrides(config)
    elif config is None:
        cfg = default_config()
    elif isinstance(config, Config):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = default_config().with_overrides(config)
    else:
        raise ConfigError(
            f"config must be a Config, a dict of overrides or None, got {type(config).__name__}"
        )
    if params:
        cfg = cfg.with_overrides(keyword_overrides(params))
    return cfg


def _scenario_parameters(
    scenario: Any, rng: Any, params: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """The seed and keyword parameters of a Mesa ``Scenario`` (explicit arguments win)."""
    if not isinstance(scenario, Scenario):
        raise ConfigError(
            f"scenario = {scenario!r} is not allowed: expected a mesa Scenario (Mesa's "
            "parameter object); choose a built-in scenario or file with scenario_name="
        )
    given = dict(scenario)
    scenario_rng = given.pop("rng", None)
    if rng is None:
        rng = scenario_rng
    elif scenario_rng is not None and scenario_rng != rng:
        raise ConfigError(f"rng = {rng!r} differs from the scenario's rng = {scenario_rng!r}")
    return rng, {**given, **params}


def _seed_sequence(rng: Any, default_seed: int) -> np.random.SeedSequence:
    if rng is None:
        return np.random.SeedSequence(default_seed)
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer | np.random.Generator):
        raise ConfigError(
            f"rng = {echo(rng)} is not allowed: expected None, an integer >= 0, a "
            "numpy SeedSequence or a numpy Generator"
        )
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng < 0:
        raise ConfigError(f"rng = {rng} is not allowed: expected an integer >= 0")
    return np.random.SeedSequence(int(rng))


class MigrationModel(mesa.Model):
    """Criminal groups choosing messaging platforms under perceived enforcement risk.

    The configuration is built in layers, each on top of the one before: the defaults, or the
    scenario ``scenario_name``; then ``config``; then the keyword parameters.

    Parameters
    ----------
    config : Config, dict or None
        The configuration, or a dict of overrides (nested or dotted keys such as
        ``{"network.mean_degree": 10}``). None uses the defaults (or the scenario's values).
    rng : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Seed of the run (Mesa 3.5 convention). None uses ``config.run.seed``. Every random draw
        comes from streams spawned from one SeedSequence (see :data:`STREAMS`).
    graph : networkx.Graph, optional
        Contact network with nodes ``0 .. n_groups - 1``. Overrides ``network.path`` and the
        generator.
    engine : {"vectorised", "reference"}
        ``"reference"`` runs the readable per-group rule (CriminalGroup.perceive/choose) instead
        of the array kernels; both give the same results and the reference is ~100x slower.
    scenario_name : str, pathlib.Path or None
        A built-in scenario (``"telegram_2024"``, ``"domino"``, ...; see
        ``builtin_scenario_names()``) or a scenario TOML file to start from, shocks included.
        ``config`` must then be a dict of overrides, not a Config.
    **params
        Keyword parameters, Mesa style, so that ``mesa.batch_run`` and SolaraViz sliders can
        vary them: the common ones by short name (``n_groups``, ``steps``, ``mean_degree``,
        ``beta``, ``w_risk``, ``w_network``, ...; the full list with the key each sets is
        :data:`migration_sim.config.MODEL_KEYWORDS` and ``docs/parameters.md``), and any other
        key with ``__`` for each dot (``choice__p_revise=0.1``,
        ``shocks__arrest_news__magnitude=0.6``). ``scenario`` is Mesa's: a
        ``mesa.experimental.scenarios.Scenario`` whose attributes are keyword parameters and
        whose ``rng`` seeds the run. Unknown names raise :class:`ConfigError`.

    Notes
    -----
    ``model.agents`` holds one :class:`CriminalGroup` per group, each a view on the model's
    arrays. Up to :data:`EAGER_AGENT_LIMIT` (20,000) groups they are created with the model;
    above it they are created on the first access of ``model.agents`` (or
    ``materialize_agents()``, or ``group(i)`` for one), which takes about 5 microseconds per
    group. The step loop never needs them (except with ``engine="reference"``).

    ``model.datacollector`` is a Mesa DataCollector whose model variables are every recorded
    column of :attr:`Results.timeseries`, read from the preallocated arrays.

    Examples
    --------
    >>> m = MigrationModel(n_groups=300, steps=5, rng=1)
    >>> m.run()
    >>> round(float(m.results.final_shares().sum()), 6)  # the share.<P> columns, not others
    1.0
    >>> MigrationModel({"choice.beta": 2.0}, n_groups=300, steps=0).params.choice.beta
    2.0
    >>> MigrationModel(scenario_name="takedown", n_groups=300, choice__p_revise=0.1).params.get(
    ...     "choice.p_revise"
    ... )
    0.1
    """

    _extinct = False  # True once the warning that every group has left is given

    def __init__(
        self,
        config: Config | Mapping[str, Any] | None = None,
        *,
        rng: Any = None,
        graph: nx.Graph | None = None,
        engine: str = "vectorised",
        scenario_name: str | Path | None = None,
        **params: Any,
    ) -> None:
        mesa_scenario = params.pop("scenario", None)
        if mesa_scenario is not None:
            rng, params = _scenario_parameters(mesa_scenario, rng, params)
        cfg = resolve_config(config, scenario_name=scenario_name, params=params)
        if engine not in ("vectorised", "reference"):
            raise ConfigError(
                f"engine = {echo(engine)} is not allowed: expected 'vectorised' or 'reference'"
            )
        graph = check_run_inputs(cfg, graph)
        kernels.compile_notice()
        self.seed_sequence = _seed_sequence(rng, cfg.run.seed)
        super().__init__(rng=int(self.seed_sequence.generate_state(1, np.uint32)[0]))
        if mesa_scenario is not None:
            self.scenario = mesa_scenario
        self.scenario_name = None if scenario_name is None else str(scenario_name)
        self.params = cfg
        self.engine = engine
        self._buffers: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
        self.streams = dict(
            zip(
                STREAMS,
                (np.random.default_rng(s) for s in self.seed_sequence.spawn(len(STREAMS))),
                strict=True,
            )
        )
        self.platform_names = cfg.platform_names
        self.crime_type_names = cfg.crime_type_names
        self.n_platforms = len(self.platform_names)
        self.platform = PlatformState.from_specs(cfg.platforms)
        self.type_priority = np.array([c.priority for c in cfg.crime_types])
        self.type_enforcement_multiplier = np.ones(len(cfg.crime_types))

        self.population = draw_population(cfg, self.streams["population"])
        self._severity = self.type_priority[self.population.crime_type]  # per group, fixed
        self.network = self._build_network(cfg, graph)
        self.ties = TieDynamics(self.network, cfg.ties)
        self.weights = kernels.UtilityWeights(
            reach=cfg.choice.w_reach,
            network=cfg.choice.w_network,
            popularity=cfg.choice.w_popularity,
            risk=cfg.choice.w_risk,
            switch=cfg.choice.w_switch,
            usability=cfg.choice.w_usability,
            beta=cfg.choice.beta,
            margin=cfg.choice.multihoming_margin,
            ban=cfg.choice.w_ban,
            follow=cfg.choice.w_follow,
            attention=cfg.choice.w_attention,
        )
        g = cfg.groups
        self.size01 = kernels.size_score(self.population.size, g.size_min, g.size_max)
        self.displaced = np.zeros(self.population.n, dtype=bool)
        # platform a group was just banned from (-1: none) and the share of the switching cost
        # it pays to re-join it (0 after a first ban, 1 once the platform keeps banning)
        self.banned_from = np.full(self.population.n, -1, dtype=np.int64)
        self.rejoin_cost = np.zeros(self.population.n)
        # ban pressure P (N, K), backup channels in stock, and steps left unsettled
        self.ban_pressure = np.zeros((self.population.n, self.n_platforms))
        self.backups = np.full(self.population.n, float(cfg.moderation.max_backups))
        self.unsettled = np.zeros(self.population.n)
        self.unsettled_now = np.zeros(self.population.n, dtype=bool)
        self.follow = np.zeros(self.n_platforms)
        self._pending_bans: list[tuple[np.ndarray, np.ndarray]] = []
        self.news_retention = np.full(self.n_platforms, cfg.risk.news_retention)
        self.news_spread = np.full(self.n_platforms, cfg.risk.news_spread)
        self.in_news = np.zeros(self.n_platforms, dtype=bool)  # platforms with any salience
        # attention to disclosure A (N): raised by news about any platform, fades slowly
        self.attention = np.zeros(self.population.n)
        self.shocks = build_shocks(cfg)
        self.shock_log: list[dict[str, Any]] = []
        self._events = (np.empty(0, np.int64), np.empty(0, np.int64))
        self._bans = np.empty(0, np.int64)
        self._primary_before = self.population.primary.copy()
        self._active_before = self.population.active.copy()
        self.recorder = Recorder(self.n_platforms, len(self.crime_type_names), cfg.run.steps)
        self._graph_steps = set(cfg.metrics.graph_steps)
        self._agents: dict[int, CriminalGroup] = {}
        if self.population.n <= EAGER_AGENT_LIMIT or engine == "reference":
            for i in range(self.population.n):
                self.group(i)
        self.datacollector = RecordedDataCollector(
            self.recorder, self.platform_names, cfg.run.step_unit
        )
        self.exposure_k = self._exposure()
        self.popularity = self.primary_share()
        # perceived risk starts at the steady state of the policy signal alone
        self.population.risk = cfg.risk.w_policy * np.outer(self._severity, self.exposure_k)
        self.constants = np.zeros(self.n_platforms)
        with thread_budget(self.population.n):
            if cfg.choice.calibrate_constants:
                self.constants = self._calibrate_constants()
                self._warm_up(cfg.run.warmup_steps)
            self._record(0)
        self.running = cfg.run.steps > 0

    # ------------------------------------------------------------------ construction
    def _build_network(self, cfg: Config, graph: nx.Graph | None) -> ContactNetwork:
        n = cfg.groups.n_groups
        if graph is not None:
            return from_networkx(graph, n)
        shares = np.array([c.share for c in cfg.crime_types])
        q = homophily_probability(cfg.network.within_type_share, shares)
        return holme_kim_homophily(
            self.population.crime_type,
            cfg.network.mean_degree,
            cfg.network.p_triad,
            q,
            self.streams["network"],
        )

    # ------------------------------------------------------------------ agents
    def group(self, i: int) -> CriminalGroup:
        """The CriminalGroup agent viewing group ``i`` (created on first access)."""
        if not 0 <= i < self.population.n:
            raise IndexError(f"group id {i} out of range 0..{self.population.n - 1}")
        agent = self._agents.get(i)
        if agent is None:
            agent = CriminalGroup(self, i)
            self._agents[i] = agent
        return agent

    def materialize_agents(self) -> mesa.AgentSet:
        """Create every CriminalGroup agent not created yet and return them all."""
        for i in range(self.population.n):
            self.group(i)
        return super().agents

    @property
    def agents(self) -> mesa.AgentSet:
        """Every CriminalGroup agent (created on first access above :data:`EAGER_AGENT_LIMIT`)."""
        if len(self._agents) < self.population.n:
            return self.materialize_agents()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.AgentSet]:
        """Mesa's agent sets by class, with every CriminalGroup agent created."""
        self.agents  # noqa: B018 - creates the agents not created yet
        return super().agents_by_type

    # ------------------------------------------------------------------ derived state
    def _exposure(self) -> np.ndarray:
        p = self.platform
        iota = self.params.enforcement.identification_without_disclosure
        return kernels.exposure(p.disclosure, p.identifiability, iota)

    def primary_share(self) -> np.ndarray:
        """Share of active groups whose primary platform is each platform."""
        pop = self.population
        n_active = int(pop.active.sum())
        has = pop.primary >= 0
        counts = np.bincount(pop.primary[has], minlength=self.n_platforms)
        return counts / n_active if n_active else np.zeros(self.n_platforms)

    def _uniforms(self, stream: str, shape: tuple[int, ...]) -> np.ndarray:
        """Fill a reusable buffer with uniforms from a named stream (no allocation per step).

        The buffer is overwritten by the next call with the same stream and shape.
        """
        buf = self._buffers.get((stream, shape))
        if buf is None:
            buf = self._buffers[(stream, shape)] = np.empty(shape)
        return self.streams[stream].random(out=buf)

    def _work_buffer(self, name: str, n: int, dtype: type) -> np.ndarray:
        """A reusable scratch array of ``n`` items (contents undefined; one per name)."""
        key = (f"work:{name}", (n,))
        buf = self._buffers.get(key)
        if buf is None or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(n, dtype)
        return buf

    def _choice_state(self) -> tuple:
        """Read-only inputs of the compiled utility and revision kernels."""
        pop, net = self.population, self.network
        return choice.choice_state(
            net.indptr,
            net.indices,
            pop.member,
            pop.active,
            self.banned_from,
            pop.risk,
            pop.reach_need,
            pop.risk_aversion,
            self._severity,
            pop.sophistication,
            self.platform.reach,
            self.platform.usability,
            self.popularity,
            self.constants,
            self.weights,
            ban_pressure=self.ban_pressure,
            rejoin=self.rejoin_cost,
            unsettled=self.unsettled_now,
            follow=self.follow,
            attention=self.attention,
            exposure=self.exposure_k,
        )

    def _calibrate_constants(self) -> np.ndarray:
        rows = np.flatnonzero(self.population.active)
        _, v0 = choice.utility_rows(rows, self._choice_state())
        target = np.array([p.initial_share for p in self.params.platforms])
        return kernels.calibrate_constants(v0, target, self.weights.beta, self.weights.switch)

    def _warm_up(self, n_steps: int) -> None:
        """Spin up multi-homing and contact structure before step 0, holding primary shares.

        Moderation and the choice process run (on their own random stream; no enforcement,
        news, shocks or recording), so the platform constants absorb the steady outflow that
        bans cause. Time is compressed by ``run.warmup_speedup``: both the revision
        probability and the ban hazard are multiplied by it. After each warm-up step the
        platform constants move towards the target primary shares:
        ``alpha_k += eta_w (log s*_k - log s_k) / beta`` with ``eta_w = 1 / (1 + w / 10)``,
        shares floored at 0.5 / N. The state at the end is the
        initial state of the run and the constants are then fixed.
        """
        if n_steps == 0 or self.weights.beta == 0.0:
            return
        target = np.array([p.initial_share for p in self.params.platforms])
        fit = target > 0
        floor = 0.5 / max(int(self.population.active.sum()), 1)
        for w in range(n_steps):
            speedup = self.params.run.warmup_speedup
            self._ban(self._uniforms("warmup", (self.population.n, 2)), None, speedup)
            self.popularity = self.primary_share()
            self._revise(
                self._uniforms("warmup", (self.population.n,)),
                self._uniforms("warmup", (self.population.n, 3)),
                speedup,
            )
            share = np.maximum(self.primary_share(), floor)
            eta = 1.0 / (1.0 + w / 10.0)
            self.constants[fit] += (
                eta * (np.log(target[fit]) - np.log(share[fit])) / self.weights.beta
            )
        self.popularity = self.primary_share()

    # ------------------------------------------------------------------ schedule
    def step(self) -> None:
        """Advance one step: run every process of :data:`SCHEDULE` in order."""
        t = self.steps
        self._primary_before = self.population.primary.copy()
        self._active_before = self.population.active.copy()
        with thread_budget(self.population.n):
            for name in SCHEDULE:
                getattr(self, f"_{name}")(t)
        if t >= self.params.run.steps:
            self.running = False

    def run(self, steps: int | None = None) -> None:
        """Run ``steps`` steps (default: ``config.run.steps`` minus the steps already run)."""
        if steps is None:
            steps = self.params.run.steps - self.steps
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
            raise ConfigError(f"steps = {echo(steps)} is not allowed: expected an integer >= 0")
        for _ in range(int(steps)):
            self.step()

    def _apply_shocks(self, t: int) -> None:
        for shock in self.shocks:
            if shock.applies_at(t):
                shock.apply(self, t)
                if t == shock.start or (shock.end is not None and t == shock.end + 1):
                    phase = "start" if t == shock.start else "end"
                    self.shock_log.append(
                        {"step": t, "shock": shock.name, "kind": shock.kind, "phase": phase}
                    )
        self.exposure_k = self._exposure()

    def _enforce(self, t: int) -> None:
        pop, cfg = self.population, self.params.enforcement
        u = self._uniforms("enforcement", (pop.n,))
        hit, plat = self._draw_events(
            self.exposure_k * self.platform.enforcement_multiplier,
            cfg.intensity * self.type_priority * self.type_enforcement_multiplier,
            u,
        )
        self._events = (hit, plat)
        self.recorder.log_events(t, "disruption", hit, plat, pop.crime_type)
        if hit.size == 0:
            return
        if cfg.outcome == "remove":
            self.remove_groups(hit, t)
        elif cfg.outcome == "shrink":
            shrunk = pop.size[hit] * cfg.shrink_factor
            self.remove_groups(hit[shrunk < self.params.groups.size_min], t)
            self._resize(hit, shrunk)

    def _draw_events(
        self, platform_weight: np.ndarray, type_weight: np.ndarray, u: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Competing-risk events over the groups' platforms (see ``kernels.first_event``)."""
        pop = self.population
        return kernels.first_event(
            pop.member,
            platform_weight,
            type_weight,
            pop.crime_type,
            pop.active,
            self.size01,
            pop.reach_need,
            self.platform.reach,
            u,
            self._work_buffer("events", pop.n, np.int64),
        )

    def _resize(self, groups: np.ndarray, size: np.ndarray) -> None:
        """Set the groups' audience sizes (floored at ``size_min``) and their visibility."""
        g = self.params.groups
        self.population.size[groups] = np.maximum(size, g.size_min)
        self.size01[groups] = kernels.size_score(
            self.population.size[groups], g.size_min, g.size_max
        )

    def _moderate(self, t: int) -> None:
        self._ban(self._uniforms("moderation", (self.population.n, 2)), t)

    def _ban(self, u: np.ndarray, t: int | None, speedup: float = 1.0) -> None:
        """Moderation bans with uniforms ``u`` (N, 2); events are logged unless t is None.

        ``speedup`` scales the ban hazard (the warm-up compresses time).
        """
        cfg = self.params.moderation
        if cfg.max_backups:
            refilled = self.backups + cfg.backup_refill * speedup
            np.minimum(refilled, cfg.max_backups, out=self.backups)
        hit, plat = self._draw_events(
            self.platform.moderation * self.platform.moderation_multiplier,
            np.full(len(self.crime_type_names), cfg.intensity * speedup),
            u[:, 0],
        )
        lost_plat = self.ban_groups(hit, plat, u[hit, 1], cfg.p_backup, t)
        if t is not None:
            self._bans = lost_plat
        self._feel_bans(cfg.ban_memory**speedup)

    def ban_groups(
        self,
        groups: np.ndarray,
        platforms: np.ndarray,
        u: np.ndarray,
        p_backup: float,
        t: int | None,
    ) -> np.ndarray:
        """Ban each group's channel on the paired platform; return the platforms of lost ones.

        A banned group re-spawns from a backup channel (keeping ``backup_retention`` of its
        audience) if ``u < p_backup`` and it has a backup in stock (always, with
        ``moderation.max_backups = 0``), using one; otherwise it loses its presence there. Every
        ban, re-spawned or not, is felt as ban pressure at the next :meth:`_feel_bans`. Events
        are logged unless ``t`` is None.
        """
        cfg = self.params.moderation
        if groups.size == 0:
            return np.empty(0, np.int64)
        has_backup = self.backups[groups] >= 1.0 if cfg.max_backups else True
        respawn = (u < p_backup) & has_backup
        back, lost = groups[respawn], groups[~respawn]
        if cfg.max_backups:
            self.backups[back] -= 1.0
        if t is not None:
            ct = self.population.crime_type
            self.recorder.log_events(t, "respawn", back, platforms[respawn], ct)
            self.recorder.log_events(t, "ban", lost, platforms[~respawn], ct)
        self._resize(back, self.population.size[back] * cfg.backup_retention)
        lost_plat = platforms[~respawn]
        self.rejoin_cost[lost] = np.minimum(1.0, cfg.w_rejoin * self.ban_pressure[lost, lost_plat])
        self.drop_presence(lost, lost_plat, banned=True)
        self._pending_bans.append((groups, platforms))
        return lost_plat

    def _feel_bans(self, decay: float) -> None:
        """Update ban pressure: ``P' = decay P + B + w_ban_seen O^ban``.

        ``B_ik`` is 1 if group i was banned on k since the last update (re-spawned or not) and
        ``O^ban_ik`` the share of its contacts banned on k (as for observed enforcement).
        """
        self.ban_pressure *= decay
        if not self._pending_bans:
            return
        hit = np.concatenate([b[0] for b in self._pending_bans])
        plat = np.concatenate([b[1] for b in self._pending_bans])
        self._pending_bans.clear()
        np.add.at(self.ban_pressure, (hit, plat), 1.0)
        w_seen = self.params.moderation.w_ban_seen
        if w_seen and hit.size:
            g, k, share = kernels.observed_enforcement(
                self.network.adjacency, self.network.degree, hit, plat, self.n_platforms
            )
            self.ban_pressure[g, k] += w_seen * share

    def _perceive(self, t: int) -> None:
        pop, r = self.population, self.params.risk
        hit, plat = self._events
        if self.engine == "reference":
            self._perceive_reference(hit, plat)
            return
        obs = kernels.observed_enforcement(
            self.network.adjacency, self.network.degree, hit, plat, self.n_platforms
        )
        cols = np.flatnonzero(self.in_news)
        if cols.size:
            pop.news = kernels.spread_news(
                pop.news,
                self.network.adjacency,
                self.network.degree,
                self.news_retention,
                self.news_spread,
                cols,
            )
        kernels.update_attention(
            self.attention, pop.news, cols, self.params.risk.attention_memory, out=self.attention
        )
        kernels.update_risk(
            pop.risk,
            self._severity,
            self.exposure_k,
            pop.news,
            cols,
            *obs,
            r.memory,
            r.w_policy,
            r.w_observed,
            r.w_news,
        )
        self._refresh_news_platforms()

    def _refresh_news_platforms(self) -> None:
        """Forget platforms whose news salience has faded to 0 everywhere."""
        cols = np.flatnonzero(self.in_news)
        if cols.size:
            self.in_news[cols] = self.population.news[:, cols].max(axis=0) > 0.0

    def _perceive_reference(self, hit: np.ndarray, plat: np.ndarray) -> None:
        pop = self.population
        disrupted_on: dict[int, list[int]] = {}
        for g, k in zip(hit.tolist(), plat.tolist(), strict=True):
            disrupted_on.setdefault(g, []).append(k)
        news_before = pop.news.copy()
        in_news = [bool(x) for x in self.in_news]
        rows = []
        for i in range(pop.n):
            agent = self.group(i)
            contacts = agent.contacts()
            observed: dict[int, float] = {}
            for j in contacts:
                for k in disrupted_on.get(j, ()):
                    observed[k] = observed.get(k, 0.0) + 1.0
            observed = {k: c / len(contacts) for k, c in observed.items()}
            rows.append(agent.perceive(observed, news_before, in_news))
        pop.news = np.array([r[0] for r in rows]).reshape(pop.news.shape)
        pop.risk = np.array([r[1] for r in rows]).reshape(pop.risk.shape)
        self.attention = np.array(
            [self.group(i).attend(r[0], in_news) for i, r in enumerate(rows)], dtype=float
        )
        self._refresh_news_platforms()

    def _choose(self, t: int) -> None:
        u_revise = self._uniforms("choice", (self.population.n,))
        u_choice = self._uniforms("choice", (self.population.n, 3))
        self.popularity = self.primary_share()
        self._revise(u_revise, u_choice)

    def _revise(self, u_revise: np.ndarray, u_choice: np.ndarray, speedup: float = 1.0) -> None:
        """Revising groups (and every displaced group) choose where to operate."""
        pop, c = self.population, self.params.choice
        p_revise = min(1.0, c.p_revise * speedup)
        p_resettle = min(1.0, c.p_resettle * speedup)
        self.unsettled_now = self.unsettled > 0.0
        self.follow = self._follow_shares()
        rows = np.flatnonzero(
            pop.active
            & (
                (u_revise < p_revise)
                | self.displaced
                | (self.unsettled_now & (u_revise < p_resettle))
            )
        )
        self.displaced[:] = False
        np.maximum(self.unsettled - speedup, 0.0, out=self.unsettled)
        if rows.size == 0:
            self.banned_from[:] = -1
            return
        if self.engine == "reference":
            decisions = [self.group(int(i)).choose(tuple(u_choice[i])) for i in rows]
            new_primary = np.array([d[0] for d in decisions], dtype=np.int64)
            new_member = np.array([d[1] for d in decisions], dtype=bool).reshape(
                rows.size, self.n_platforms
            )
        else:
            new_primary, new_member = choice.revise_rows(
                rows,
                self._choice_state(),
                self.platform.available,
                self.params.groups.max_platforms,
                u_choice[rows],
            )
        pop.primary[rows] = new_primary
        pop.member[rows] = new_member
        self.banned_from[:] = -1

    def _follow_shares(self) -> np.ndarray:
        """``F_k``: share of the active unsettled groups with a primary that have k as primary."""
        pop = self.population
        sel = self.unsettled_now & pop.active & (pop.primary >= 0)
        n = int(sel.sum())
        if n == 0:
            return np.zeros(self.n_platforms)
        return np.bincount(pop.primary[sel], minlength=self.n_platforms) / n

    def _update_ties(self, t: int) -> None:
        if self.ties.enabled:
            self.network = self.ties.step(self.population, self.platform, self.streams["ties"])

    def _record(self, t: int) -> None:
        pop, rec = self.population, self.recorder
        row = rec.row()
        a = rec.arrays
        k = self.n_platforms
        ct = pop.crime_type
        n_types = len(self.crime_type_names)
        by_type, primary_by_type, hist, risk_sum, flows = kernels.tally(
            pop.member,
            pop.primary,
            pop.active,
            ct,
            n_types,
            pop.risk,
            self._primary_before,
            self._active_before,
        )
        n_active = int(hist.sum())
        if n_active == 0 and not self._extinct:
            self._extinct = True
            e = self.params.enforcement
            warnings.warn(
                f"every group has left the model by step {t} (enforcement.intensity = "
                f"{e.intensity:g}, enforcement.outcome = {e.outcome!r}); platform shares are "
                "undefined (NaN) from then on",
                RuntimeWarning,
                stacklevel=2,
            )
        a["n_active"][row] = n_active
        a["n_dark"][row] = hist[0]
        a["n_multihoming"][row] = hist[2:].sum()
        a["n_memberships"][row] = hist @ np.arange(hist.size)
        a["presence_by_type"][row] = by_type
        a["presence"][row] = by_type.sum(axis=0)
        a["primary_by_type"][row] = primary_by_type
        a["primary"][row] = primary_by_type.sum(axis=0)
        if t > 0:
            a["flows"][row] = flows
        hit, plat = self._events
        a["disruptions"][row] = np.bincount(plat, minlength=k)
        a["disruptions_by_type"][row] = np.bincount(
            ct[hit] * k + plat, minlength=n_types * k
        ).reshape(n_types, k)
        a["bans"][row] = np.bincount(self._bans, minlength=k)
        a["mean_risk"][row] = risk_sum / n_active if n_active else 0.0
        a["disclosure"][row] = self.platform.disclosure
        every = self.params.metrics.every
        if every and t % every == 0:
            rec.set_metrics(row, self._fragmentation())
        if t in self._graph_steps:
            net = self.network
            rec.graphs[t] = (
                pop.member.copy(),
                pop.primary.copy(),
                pop.active.copy(),
                net.edges_u.copy(),
                net.edges_v.copy(),
            )
        self._events = (np.empty(0, np.int64), np.empty(0, np.int64))
        self._bans = np.empty(0, np.int64)
        self.datacollector.collect(self)

    def monitored_platforms(self) -> np.ndarray:
        """Mask of the platforms authorities monitor now.

        ``metrics.monitored`` if given; otherwise every platform whose disclosure is at least
        ``metrics.monitored_min_disclosure``.
        """
        m = self.params.metrics
        if m.monitored:
            return metrics.monitored_mask(m.monitored, self.platform_names)
        return self.platform.disclosure >= m.monitored_min_disclosure

    def _fragmentation(self) -> dict[str, float]:
        """Every fragmentation and monitoring measure of the current state."""
        pop, net = self.population, self.network
        return metrics.snapshot(
            pop.member,
            pop.active,
            pop.primary,
            net.edges_u,
            net.edges_v,
            pop.size,
            self._severity,
            self.monitored_platforms(),
            platform_names=self.platform_names,
            crime_type=pop.crime_type,
            crime_type_names=self.crime_type_names,
        )

    # ------------------------------------------------------------------ state changes
    def remove_groups(self, groups: np.ndarray, t: int) -> None:
        """Remove groups from the model: inactive, no presence, no news. Ids are kept."""
        if groups.size == 0:
            return
        pop = self.population
        self.recorder.log_events(t, "removal", groups, np.full(groups.size, -1), pop.crime_type)
        pop.active[groups] = False
        pop.member[groups] = False
        pop.primary[groups] = -1
        pop.news[groups] = 0.0
        self.attention[groups] = 0.0

    def drop_presence(
        self, groups: np.ndarray, platforms: np.ndarray, *, banned: bool = False
    ) -> None:
        """Remove each group's presence on the paired platform.

        A group that loses its primary platform is *displaced*: it has no primary until it
        revises, which it must do in this step's choice process. With ``banned`` (a ban, not a
        takedown) the group may re-join that platform in this step without switching cost: it
        knows the platform and its audience can find a new channel there.
        """
        if groups.size == 0:
            return
        pop = self.population
        pop.member[groups, platforms] = False
        is_primary = pop.primary[groups] == platforms
        lost_primary = groups[is_primary]
        pop.primary[lost_primary] = -1
        self.displaced[lost_primary] = True
        self.unsettled[lost_primary] = float(self.params.choice.unsettled_steps)
        if banned:
            self.banned_from[lost_primary] = platforms[is_primary]

    # ------------------------------------------------------------------ results
    @property
    def results(self) -> Results:
        """The results recorded so far (a snapshot; arrays are copied)."""
        rec = self.recorder
        n = rec.n_rows
        return Results(
            platforms=list(self.platform_names),
            crime_types=list(self.crime_type_names),
            step_unit=self.params.run.step_unit,
            arrays={k: v[:n].copy() for k, v in rec.arrays.items()},
            metrics={k: v[:n].copy() for k, v in rec.metrics.items()},
            events_array=pack_events(rec.events),
            shock_steps=sorted({s.start for s in self.shocks if s.start <= self.steps}),
            config=self.params.to_dict(),
            seed={
                "entropy": int(self.seed_sequence.entropy),
                "spawn_key": list(self.seed_sequence.spawn_key),
            },
            shock_log=list(self.shock_log),
            graphs=dict(rec.graphs),
            group_attributes={
                "crime_type": np.array(self.crime_type_names, dtype=object)[
                    self.population.crime_type
                ],
                "size": self.population.size.copy(),
            },
        )


def run(
    config: Config | Mapping[str, Any] | None = None,
    *,
    seed: int | np.random.SeedSequence | None = None,
    steps: int | None = None,
) -> Results:
    """Run the model and return its results: a pure function of its arguments.

    Parameters
    ----------
    config : Config, dict or None
        Configuration or overrides on the defaults.
    seed : int, numpy.random.SeedSequence or None
        Seed; None uses ``config.run.seed``.
    steps : int or None
        Steps to run; None uses ``config.run.steps``.

    Examples
    --------
    >>> res = run({"groups.n_groups": 300}, seed=3, steps=10)
    >>> len(res.timeseries)
    11
    """
    cfg = resolve_config(config)
    if steps is not None:
        cfg = cfg.with_overrides({"run.steps": steps})
    model = MigrationModel(cfg, rng=seed)
    model.run(cfg.run.steps)
    return model.results
