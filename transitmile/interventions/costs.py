"""What an intervention costs and what a minute of a resident's time is worth.

Every figure carries its source, or says that it is an assumption. Capital is
spread over the asset's life with the capital recovery factor
``r / (1 - (1 + r) ** -n)`` at discount rate ``r`` over ``n`` years (``1 / n`` at
``r = 0``), as in road and transit appraisal guides (e.g. the World Bank's
*Economic Appraisal of Transport Projects*), so one-off works and yearly operations
compare on the same annual basis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..errors import StudyError, show_value

__all__ = ["Costs", "Economics", "annualised_cost", "capital_recovery_factor"]


def _check_number(owner: str, name: str, value, *, low: float = 0.0, strict: bool = False) -> float:
    """Return a finite number >= ``low`` (> ``low`` when ``strict``), else raise StudyError."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = value > low if strict else value >= low
    if not ok:
        bound = f"> {low:g}" if strict else f">= {low:g}"
        raise StudyError(
            f"{owner}: field {name!r} must be a number {bound}, got {show_value(value)}"
        )
    return float(value)


def capital_recovery_factor(discount_rate: float, life_years: float) -> float:
    """Share of a capital cost charged each year over its life, at a discount rate.

    Parameters
    ----------
    discount_rate : float
        Yearly rate, a fraction (0.08 for 8 %).
    life_years : float
        Asset life, years (> 0).

    Returns
    -------
    float
        ``r / (1 - (1 + r) ** -n)``; ``1 / n`` when ``r == 0``.
    """
    r = _check_number("costs", "discount_rate", discount_rate)
    n = _check_number("costs", "life_years", life_years, strict=True)
    if r == 0:
        return 1.0 / n
    return r / (1.0 - (1.0 + r) ** -n)


def annualised_cost(
    capital: float, annual_operating: float, life_years: float, discount_rate: float
) -> float:
    """Yearly cost: capital over its life at the discount rate, plus operations.

    Parameters
    ----------
    capital : float
        One-off cost, currency units.
    annual_operating : float
        Operating and maintenance cost per year, currency units.
    life_years : float
        Life of the capital, years.
    discount_rate : float
        Yearly rate, a fraction.

    Returns
    -------
    float
        Currency units per year.
    """
    return capital * capital_recovery_factor(discount_rate, life_years) + annual_operating


@dataclass(frozen=True)
class Costs:
    """The costs of one intervention.

    Attributes
    ----------
    capital : float
        One-off cost (works, vehicles, stations), currency units.
    annual_operating : float
        Operating and maintenance cost per year, currency units.
    life_years : float
        Life of the capital, years.
    source : str
        Where the figures come from, or ``"assumption: ..."`` saying how they were set.
    """

    capital: float = 0.0
    annual_operating: float = 0.0
    life_years: float = 10.0
    source: str = "assumption"

    def __post_init__(self) -> None:
        """Reject negative or non-numeric figures (StudyError naming the field)."""
        _check_number("costs", "capital", self.capital)
        _check_number("costs", "annual_operating", self.annual_operating)
        _check_number("costs", "life_years", self.life_years, strict=True)
        if not isinstance(self.source, str) or not self.source.strip():
            raise StudyError(
                f"costs: field 'source' must name the source or say 'assumption', "
                f"got {show_value(self.source)}"
            )

    def annualised(self, discount_rate: float) -> float:
        """Yearly cost at ``discount_rate`` (see :func:`annualised_cost`), currency units."""
        return annualised_cost(self.capital, self.annual_operating, self.life_years, discount_rate)

    def as_dict(self) -> dict:
        """Plain values (for tables and the cache key)."""
        return asdict(self)


@dataclass(frozen=True)
class Economics:
    """How minutes become money, with sources (the ``economics:`` key of a study YAML).

    Attributes
    ----------
    value_of_time_per_hour : float
        Value of one hour of a traveller's time, currency units.
    value_of_time_source : str
        Its source, or how the assumption was made.
    trips_per_resident_per_weekday : float
        Transit trips a resident makes on a weekday, each with a first mile.
    trips_source : str
        Its source, or how the assumption was made.
    discount_rate : float
        Yearly rate used to annualise capital, a fraction (default 0.08).
    currency : str
        Currency of every cost and value (default ``"BRL"``).
    annualisation_days : float
        Weekdays per year that turn daily savings into yearly ones (default 250).
    """

    value_of_time_per_hour: float
    value_of_time_source: str
    trips_per_resident_per_weekday: float
    trips_source: str
    discount_rate: float = 0.08
    currency: str = "BRL"
    annualisation_days: float = 250.0

    def __post_init__(self) -> None:
        """Check every figure and that both sources are stated (StudyError naming the field)."""
        _check_number("economics", "value_of_time_per_hour", self.value_of_time_per_hour)
        _check_number(
            "economics", "trips_per_resident_per_weekday", self.trips_per_resident_per_weekday
        )
        _check_number("economics", "discount_rate", self.discount_rate)
        _check_number("economics", "annualisation_days", self.annualisation_days, strict=True)
        for name in ("value_of_time_source", "trips_source", "currency"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise StudyError(
                    f"economics: field {name!r} must be stated (a source, or 'assumption: ...'), "
                    f"got {show_value(value)}"
                )

    def annual_value(self, person_minutes_per_weekday: float) -> float:
        """Money value per year of person-minutes saved each weekday, currency units."""
        return (
            person_minutes_per_weekday
            / 60.0
            * self.value_of_time_per_hour
            * self.annualisation_days
        )
