"""One law's check against its simulation, shared by the law test files: agreement, and its wrong twin rejected."""

import dataclasses

from model_collapse.experiments import run
from model_collapse.experiments.laws import check_law


def assert_agrees_and_twin_rejected(law, seeds: int, alpha: float, total: int, **changes) -> None:
    """Run ``law.config`` (with ``changes``) on ``seeds`` seeds from base seed 1; every check at ``alpha/total``
    is scored (none refused) and passes, and at least one check of the wrong twin ``law.perturbed`` fails."""
    cfg = dataclasses.replace(law.config, **changes)
    result = run(cfg, seeds, seed=1, progress=False)
    checks = check_law(law, result, alpha, total)
    assert not [c for c in checks if c.refused], f"{law.id}: refused {[(c.generation, c.refused) for c in checks]}"
    assert all(c.passed for c in checks), f"{law.id}: failed at {[(c.generation, c.z) for c in checks if not c.passed]}"
    twin = check_law(law, result, alpha, total, predict=law.perturbed)
    assert any(not c.passed for c in twin), f"{law.id}: the wrong twin was not rejected"
