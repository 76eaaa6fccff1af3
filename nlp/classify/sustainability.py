"""Sustainability: domain.md 4.4 as a rule over found signals, and the features the learned decision reads.

The rule gives the decision a strong prior that any analyst can check; the
learned head over [signal features, rule outcome, document embedding] decides
the cases the rule leaves open (which risk dominates, what "little else"
means in a given text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlp.classify.scheme import LabelScheme

# Risks that threaten the innovation's existence rather than its quality.
SEVERE_RISKS = frozenset({"berhenti", "tidak_dilanjutkan", "uji_coba", "tanpa_anggaran", "penurunan_kinerja"})
LEADER_RISK = "tergantung_kepala_daerah"
OUTCOMES = ("sustained", "at_risk", "unclear")


def rule_decision(signals: Sequence[Any], scheme: LabelScheme) -> str:
    """domain.md 4.4 applied literally to the distinct signals found."""
    found = {s.signal for s in signals}
    durability = found & {s.id for s in scheme.signals_in("durability")}
    institutional = found & {s.id for s in scheme.signals_in("institutional")}
    risks = found & {s.id for s in scheme.risk_signals}
    severe = risks & SEVERE_RISKS
    lasting = bool(durability) and (bool(institutional) or len(durability) >= 2)
    if LEADER_RISK in risks and "lintas_kepala_daerah" not in found:
        if not (durability or institutional):
            return "at_risk"
        return "unclear"
    if severe and not lasting:
        return "at_risk"
    if lasting and not severe and len(risks) <= len(durability | institutional):
        return "sustained"
    if lasting and severe:
        return "unclear"
    if len(risks) >= 2 and not durability:
        return "at_risk"
    return "unclear"


def signal_features(signals: Sequence[Any], scheme: LabelScheme) -> np.ndarray:
    """Presence of each signal, per-category counts and the rule's outcome, as one vector."""
    ids = scheme.signal_ids
    position = {sid: i for i, sid in enumerate(ids)}
    presence = np.zeros(len(ids), np.float32)
    for s in signals:
        if s.signal in position:
            presence[position[s.signal]] = 1.0
    categories = []
    for category in ("durability", "institutional", "supporting", "risk"):
        members = [position[s.id] for s in scheme.signals_in(category) if s.id in position]
        categories.append(np.log1p(presence[members].sum()))
    rule = rule_decision(signals, scheme)
    outcome = np.asarray([1.0 if rule == o else 0.0 for o in OUTCOMES], np.float32)
    return np.concatenate([presence, np.asarray(categories, np.float32), outcome])
