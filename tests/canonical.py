"""The canonical experiments the issue asks for, shared by the scenario and CLI tests."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
CANONICAL = [
    "baseline",
    "telegram_2024",
    "domino",
    "takedown",
    "ban_wave_weak",
    "ban_wave_strong",
    "signal_session_cooperate",
]
