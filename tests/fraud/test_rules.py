"""The fraud rules' value objects."""

from fraud.rules import EVIDENCE_MAX, Suspicion


def test_a_suspicion_keeps_at_most_the_evidence_limit_and_leaves_the_callers_list_alone():
    rows = [{"n": n} for n in range(EVIDENCE_MAX + 5)]
    suspicion = Suspicion("burst", 1, None, rows)
    assert len(suspicion.evidence) == EVIDENCE_MAX
    assert len(rows) == EVIDENCE_MAX + 5
