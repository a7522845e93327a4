"""Figures for notebooks and reports: every one titled, axes labelled with units.

Plain functions over the frames the library returns (seaborn / matplotlib for
charts, folium for maps), after osmnx's ``plot`` module.
"""

from __future__ import annotations

import folium
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

__all__ = ["plot_stop_headways", "map_stop_service"]


def plot_stop_headways(
    service: pd.DataFrame, max_headway_min: float = 15.0, *, window: str = "", ax=None
):
    """Histogram of mean headways at stops with service, the frequency threshold marked.

    Parameters
    ----------
    service : DataFrame
        From :func:`transitmile.stop_service` (``mean_headway_min`` in minutes).
    max_headway_min : float
        Threshold drawn as a vertical line, minutes.
    window : str
        Time window shown in the title, e.g. ``"14:00-16:00"``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    served = service[service["trips"] > 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    upper = max(60.0, max_headway_min * 2)
    sns.histplot(served["mean_headway_min"].clip(upper=upper), bins=40, ax=ax, color="#3b6ea8")
    ax.axvline(max_headway_min, color="#c0392b", linestyle="--", label=f"{max_headway_min:g} min")
    share = (served["mean_headway_min"] <= max_headway_min).mean() if len(served) else 0.0
    ax.set_title(f"Mean headway at stops {window}: {share:.0%} of served stops are frequent")
    ax.set_xlabel(f"mean headway (min; {upper:g}+ shown at {upper:g})")
    ax.set_ylabel("stops")
    ax.legend(title="frequent threshold")
    return ax


def map_stop_service(service: pd.DataFrame, max_headway_min: float = 15.0) -> folium.Map:
    """Folium map of stops coloured by frequency (frequent, served, no service).

    Parameters
    ----------
    service : DataFrame
        From :func:`transitmile.stop_service` (needs ``stop_lat``, ``stop_lon``).
    max_headway_min : float
        Stops with a mean headway at or below this are frequent, minutes.
    """
    centre = [service["stop_lat"].mean(), service["stop_lon"].mean()]
    fmap = folium.Map(location=centre, zoom_start=12, tiles="OpenStreetMap")
    kinds = [
        ("no service in the window", service["trips"] == 0, "#999999"),
        ("served", (service["trips"] > 0) & (service["mean_headway_min"] > max_headway_min), "#e67e22"),
        (f"frequent (<= {max_headway_min:g} min)", service["mean_headway_min"] <= max_headway_min, "#2e86c1"),
    ]  # fmt: skip
    for label, mask, colour in kinds:
        layer = folium.FeatureGroup(name=f"{label} ({int(mask.sum())})")
        for row in service[mask].itertuples():
            folium.CircleMarker(
                [row.stop_lat, row.stop_lon], radius=3, color=colour, fill=True, weight=1,
                tooltip=f"{row.stop_id}: {row.trips} trips, {row.mean_headway_min:.1f} min",
            ).add_to(layer)  # fmt: skip
        layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
