"""Quickstart: simulate, compare with the derived law, check it, and cite it.

Run with ``python -m model_collapse.experiments.examples.quickstart`` (about half a minute on a laptop CPU).
"""

import model_collapse.experiments as ex
import numpy as np
from model_collapse.experiments.laws import LAWS, check_law
from model_collapse.theory import gaussian, linreg


def main() -> None:
    # 1. Linear regression under accumulate: the error stays below pi^2/6 times one generation's.
    cfg = ex.LinRegConfig(d=32, T=100, sigma2=1.0, generations=50, regime="accumulate", sampler="exact")
    res = ex.run(cfg, seeds=4096, seed=0, progress=False)
    te = res.metrics["test_error"]
    law = linreg.expected_test_error(res.generation, 32, 100, 1.0, "accumulate")
    print("linreg accumulate, n = 1, 10, 50")
    print("  simulated:", np.round(te.mean[[0, 9, 49]], 4), "+/-", np.round(te.sem[[0, 9, 49]], 4))
    print("  law      :", np.round(law[[0, 9, 49]], 4), " bound:", round(linreg.accumulate_limit(32, 100, 1.0), 4))

    # 2. The Nature theorem: the variance is a martingale, yet collapses almost surely.
    g = ex.GaussianConfig(dim=1, M=10, generations=300, regime="replace", estimator="unbiased")
    r = ex.run(g, seeds=4096, seed=0, progress=False)
    v = r.metrics["variance"]
    rate = gaussian.predict("log_det", "replace", "unbiased", np.array([1]), dim=1, M=10, statistic="rate")[0]
    print("gaussian replace, M = 10, n = 300")
    print("  mean sigma_n^2/sigma^2  :", f"{v.mean[-1]:.3g}", "(law: exactly 1; the rare chains that carry the mean")
    print("                            are too rare to sample: Var = (1 + 2/(M-1))^n - 1 ~ 1e26)")
    print(
        "  median sigma_n^2/sigma^2:", f"{v.quantiles['0.5'][-1]:.3g}", f"(~ exp(n * rate) = {np.exp(300 * rate):.3g})"
    )

    # 3. A registered law, checked with the package's own verdict, and its reference.
    law_obj = LAWS["gaussian/replace/unbiased/log_det/dim1"]
    checks = check_law(
        law_obj, ex.run(law_obj.config, 4096, progress=False), alpha=1e-3, checks=len(law_obj.generations)
    )
    print(law_obj.id, "->", "pass" if all(c.passed for c in checks) else "FAIL")
    print(law_obj.reference.bibtex().splitlines()[0], "...")


if __name__ == "__main__":
    main()
