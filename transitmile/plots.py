"""Figures for notebooks and reports: every one titled, axes labelled with units.

Plain functions over the frames the library returns (seaborn / matplotlib for
charts, folium for maps), after osmnx's ``plot`` module.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

__all__ = [
    "plot_stop_headways",
    "map_stop_service",
    "plot_stop_service_map",
    "stop_service_levels",
    "interactive_map",
    "InteractiveMap",
]

#: Colours of the service levels, shared by the static and the interactive maps.
SERVICE_COLOURS = {"no service": "#999999", "served": "#e67e22", "frequent": "#2e86c1"}

#: Shown in place of an interactive map when Leaflet cannot load (off line).
OFFLINE_MESSAGE = (
    "The interactive map needs an internet connection (Leaflet and OpenStreetMap tiles). "
    "The static map above shows the same data."
)


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


def stop_service_levels(service: pd.DataFrame, max_headway_min: float = 15.0) -> pd.Series:
    """Service level of each stop: ``"frequent"``, ``"served"`` or ``"no service"``.

    Parameters
    ----------
    service : DataFrame
        From :func:`transitmile.stop_service` (``trips``, ``mean_headway_min``).
    max_headway_min : float
        Stops with a mean headway at or below this are frequent, minutes.

    Returns
    -------
    pandas.Series
        Categorical, aligned with ``service``.
    """
    level = pd.Series("no service", index=service.index)
    level[service["trips"] > 0] = "served"
    level[service["mean_headway_min"] <= max_headway_min] = "frequent"
    return pd.Series(pd.Categorical(level, categories=list(SERVICE_COLOURS)), index=service.index)


def plot_stop_service_map(
    service: pd.DataFrame, max_headway_min: float = 15.0, *, window: str = "", ax=None
):
    """Map stops by service level, static (no tiles: it reads off line and in print).

    Parameters
    ----------
    service : DataFrame
        From :func:`transitmile.stop_service` (``stop_lon``, ``stop_lat``).
    max_headway_min : float
        Frequent threshold, minutes.
    window : str
        Time window shown in the title.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    levels = stop_service_levels(service, max_headway_min)
    stops = gpd.GeoDataFrame(
        {"level": levels},
        geometry=gpd.points_from_xy(service["stop_lon"], service["stop_lat"]),
        crs="EPSG:4326",
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8))
    for level, colour in SERVICE_COLOURS.items():
        part = stops[stops["level"] == level]
        if len(part):
            part.plot(ax=ax, color=colour, markersize=4 if level != "frequent" else 6,
                      label=f"{level} ({len(part):,})")  # fmt: skip
    frequent = int((levels == "frequent").sum())
    ax.set_title(
        f"Stops by service level {window}: {frequent:,} frequent (<= {max_headway_min:g} min)"
    )
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.legend(title="stops", loc="lower left")
    return ax


class InteractiveMap:
    """A folium map for notebooks and HTML reports that degrades cleanly off line.

    Folium's own notebook output is an iframe whose scripts come from the
    internet: off line it is an empty frame with a "Make this Notebook Trusted"
    line and script errors. This one runs the map's script only when Leaflet has
    loaded, and otherwise says so (:data:`OFFLINE_MESSAGE`).

    Parameters
    ----------
    fmap : folium.Map
        The map.
    height_px : int
        Frame height, pixels.
    """

    def __init__(self, fmap: folium.Map, height_px: int = 480):
        self.fmap = fmap
        self.height_px = height_px

    def page(self) -> str:
        """Render the map's HTML page, its script guarded by a check that Leaflet loaded.

        Returns
        -------
        str
        """
        page = self.fmap.get_root().render()
        head, tag, rest = page.rpartition("<script>")
        script, end, tail = rest.rpartition("</script>")
        if not tag or not end:
            return page
        notice = html.escape(OFFLINE_MESSAGE)
        fallback = (
            "document.body.innerHTML = '<p style=\"font-family:sans-serif;color:#555;"
            f"padding:1em\">{notice}</p>';"
        )
        return (
            f"{head}<script>\nif (window.L) {{{script}\n}} else {{ {fallback} }}\n</script>{tail}"
        )

    def _repr_html_(self) -> str:
        srcdoc = html.escape(self.page(), quote=True)
        return (
            f'<iframe srcdoc="{srcdoc}" title="interactive map" '
            f'style="width:100%;height:{self.height_px}px;border:1px solid #ccc;"></iframe>'
        )


def interactive_map(fmap: folium.Map, height_px: int = 480) -> InteractiveMap:
    """Wrap a folium map for display in a notebook or an HTML report (off-line safe).

    Parameters
    ----------
    fmap : folium.Map
        The map.
    height_px : int
        Frame height, pixels.

    Returns
    -------
    InteractiveMap
        Displays as the map where Leaflet loads, as a one-line notice elsewhere.
    """
    return InteractiveMap(fmap, height_px)


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
