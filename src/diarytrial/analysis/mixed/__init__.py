"""Exact REML for the linear mixed model of daily diary values.

Per diary item, ``y_ij = x_ij' beta + b_i + e_ij`` with a random intercept
``b_i ~ N(0, sigma_b^2)`` and continuous-time AR(1) residuals on integer days,
``Cov(e_ij, e_ik) = sigma^2 rho^|t_ij - t_ik|`` (nlme's ``corAR1(form =
~day | id)``, which uses the day values, so gaps count).  Missing nights are
absent rows.  ``beta`` and ``sigma^2`` are profiled out of the REML criterion
exactly; gamma = sigma_b^2 / sigma^2 and rho are roots of exact derivatives.

Public functions:

* :func:`mixed_model` -- one dataset (lme / lmer equivalent).
* :func:`gls_ar1` -- one long series without a random intercept (n-of-1,
  ``nlme::gls``).
* :func:`mixed_model_several` -- several datasets that share their fixed effects (the
  items of one trial) at once, each as :func:`mixed_model` would fit it.
* :func:`mixed_model_batch` / :func:`mixed_model_arrays` -- many simulated
  trials at once, for power analysis.

See ``docs/statistics.md`` ("Linear mixed model (primary contrast)").
"""

from ._api import (
    gls_ar1,
    mixed_model,
    mixed_model_arrays,
    mixed_model_batch,
    mixed_model_several,
)
from ._result import Correlation, MixedModelResult

__all__ = [
    "Correlation",
    "MixedModelResult",
    "gls_ar1",
    "mixed_model",
    "mixed_model_arrays",
    "mixed_model_batch",
    "mixed_model_several",
]
