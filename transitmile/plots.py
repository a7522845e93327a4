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
    "weighted_share",
    "plot_first_mile_ecdf",
    "plot_gap_map",
    "plot_walkshed_coverage",
    "plot_walkshed_map",
    "map_gaps",
    "plot_opportunities_lost",
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


# ---------------------------------------------------------------------------
# Access gaps (first mile, walksheds, accessibility)

#: Minutes shown on the access charts; farther (or unreachable) is drawn at this value.
ACCESS_CAP_MIN = 30.0


def weighted_share(values: pd.Series, weights: pd.Series, limit: float) -> float:
    """Share of the weight whose value is at most ``limit`` (NaN counts as beyond it).

    Parameters
    ----------
    values : Series
        Minutes (or any measure); NaN means unreachable.
    weights : Series
        People, aligned with ``values``.
    limit : float
        Inclusive upper bound, in the unit of ``values``.

    Returns
    -------
    float
        0..1; NaN when the weights add up to zero.
    """
    total = float(weights.sum())
    if not total > 0:
        return float("nan")
    return float(weights[values <= limit].sum()) / total


def plot_first_mile_ecdf(first_mile: pd.DataFrame, threshold_min: float = 10.0, *, ax=None):
    """ECDF of residents by minutes to the nearest frequent stop, walking and cycling.

    Parameters
    ----------
    first_mile : DataFrame
        From :func:`transitmile.first_mile` (``population``,
        ``walk_min_frequent_stop``, ``bike_min_frequent_stop``).
    threshold_min : float
        The gap threshold, drawn as a vertical line, minutes.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Titled with the shares of residents within the threshold by each mode.
        Unreachable or farther than :data:`ACCESS_CAP_MIN` is drawn at the cap.
    """
    modes = {"walking": "walk_min_frequent_stop", "cycling": "bike_min_frequent_stop"}
    long = pd.concat(
        [
            pd.DataFrame({
                "minutes": first_mile[column].fillna(ACCESS_CAP_MIN).clip(upper=ACCESS_CAP_MIN),
                "population": first_mile["population"],
                "mode": mode,
            })
            for mode, column in modes.items()
        ],
        ignore_index=True,
    )  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    sns.ecdfplot(data=long, x="minutes", hue="mode", weights="population", ax=ax)
    ax.axvline(threshold_min, color="#c0392b", linestyle="--")
    shares = {
        mode: weighted_share(first_mile[c], first_mile["population"], threshold_min)
        for mode, c in modes.items()
    }
    ax.set_title(
        f"Residents within {threshold_min:g} min of frequent transit: "
        f"{shares['walking']:.0%} walking, {shares['cycling']:.0%} cycling"
    )
    ax.set_xlabel(f"minutes to the nearest frequent stop ({ACCESS_CAP_MIN:g}+ shown at the end)")
    ax.set_ylabel("share of residents")
    ax.set_xlim(0, ACCESS_CAP_MIN)
    return ax


def plot_gap_map(first_mile: gpd.GeoDataFrame, threshold_min: float = 10.0, *, ax=None):
    """Static map of walking minutes to frequent transit, the gap outlined.

    Parameters
    ----------
    first_mile : GeoDataFrame
        From :func:`transitmile.first_mile` (``walk_min_frequent_stop``, ``gap``,
        ``population``; hexagons or points).
    threshold_min : float
        The gap threshold, minutes (shown in the title).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = first_mile.to_crs("EPSG:4326")
    minutes = frame["walk_min_frequent_stop"].fillna(ACCESS_CAP_MIN).clip(upper=ACCESS_CAP_MIN)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8))
    frame.assign(minutes=minutes).plot(
        column="minutes", cmap="YlOrRd", vmin=0, vmax=ACCESS_CAP_MIN, ax=ax, legend=True,
        legend_kwds={"label": f"walking minutes to frequent transit ({ACCESS_CAP_MIN:g}+ at the top)",
                     "shrink": 0.6},
    )  # fmt: skip
    gap = frame[frame["gap"]]
    if len(gap):
        gap.boundary.plot(ax=ax, color="#222222", linewidth=0.6)
    in_gap = float(gap["population"].sum())
    ax.set_title(
        f"The gap (outlined, > {threshold_min:g} min walk): {len(gap):,} of {len(frame):,} "
        f"areas, {in_gap:,.0f} residents"
    )
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    return ax


def plot_walkshed_coverage(coverage: pd.DataFrame, residents: float, jobs: float, *, ax=None):
    """Bars: share of residents and jobs within each walking band of frequent stops.

    Parameters
    ----------
    coverage : DataFrame
        Dissolved :func:`transitmile.walksheds` (``walk_min``, ``residents``, ``jobs``).
    residents, jobs : float
        Totals of the study area, the denominators.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    long = pd.concat(
        [
            pd.DataFrame({"walk_min": coverage["walk_min"], "what": "residents",
                          "share": coverage["residents"] / residents}),
            pd.DataFrame({"walk_min": coverage["walk_min"], "what": "jobs",
                          "share": coverage["jobs"] / jobs}),
        ],
        ignore_index=True,
    )  # fmt: skip
    long["band"] = long["walk_min"].map(lambda m: f"<= {m:g} min")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    sns.barplot(data=long, x="band", y="share", hue="what", ax=ax)
    last = coverage.sort_values("walk_min").iloc[-1]
    ax.set_title(
        f"Within {last['walk_min']:g} min walk of a frequent stop: "
        f"{last['residents'] / residents:.0%} of residents, {last['jobs'] / jobs:.0%} of jobs"
    )
    ax.set_xlabel("walking time to the nearest frequent stop")
    ax.set_ylabel("share of the study area's total")
    ax.set_ylim(0, 1)
    return ax


def plot_walkshed_map(
    coverage: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None = None, *, ax=None
):
    """Static map of the dissolved walksheds, one shade per band, over the study areas.

    Parameters
    ----------
    coverage : GeoDataFrame
        Dissolved :func:`transitmile.walksheds` (``walk_min``, ``geometry``).
    areas : GeoDataFrame, optional
        Origins (e.g. the hexagons of a first-mile result) drawn as a grey backdrop.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8))
    if areas is not None:
        areas.to_crs("EPSG:4326").plot(ax=ax, color="#eeeeee", edgecolor="#cccccc", linewidth=0.3)
    bands = coverage.to_crs("EPSG:4326").sort_values("walk_min", ascending=False)
    shades = sns.color_palette("Blues", len(bands))
    handles = []
    for shade, (_, band) in zip(shades, bands.iterrows(), strict=True):
        gpd.GeoSeries([band.geometry], crs="EPSG:4326").plot(ax=ax, color=shade, alpha=0.8)
        handles.append(
            plt.Rectangle((0, 0), 1, 1, color=shade, label=f"<= {band['walk_min']:g} min")
        )
    ax.legend(handles=handles, title="walk to a frequent stop", loc="lower left")
    widest = bands.iloc[0]
    area_km2 = (
        gpd.GeoSeries([widest.geometry], crs="EPSG:4326")
        .to_crs(gpd.GeoSeries([widest.geometry], crs="EPSG:4326").estimate_utm_crs())
        .area.iloc[0]
        / 1e6
    )
    ax.set_title(
        f"Walksheds of frequent stops: {area_km2:,.1f} km² within {widest['walk_min']:g} min"
    )
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    return ax


def map_gaps(first_mile: gpd.GeoDataFrame, threshold_min: float = 10.0) -> folium.Map:
    """Folium map of the areas by walking minutes to frequent transit, the gap in red.

    Parameters
    ----------
    first_mile : GeoDataFrame
        From :func:`transitmile.first_mile`.
    threshold_min : float
        The gap threshold, minutes (in the legend).

    Returns
    -------
    folium.Map
        Wrap it in :func:`interactive_map` for reports.
    """
    frame = first_mile.to_crs("EPSG:4326")
    keep = [
        "id",
        "population",
        "walk_min_frequent_stop",
        "bike_min_frequent_stop",
        "gap",
        "geometry",
    ]
    frame = frame[[c for c in keep if c in frame.columns]].copy()
    frame["walk_min_frequent_stop"] = frame["walk_min_frequent_stop"].round(1)
    frame["bike_min_frequent_stop"] = frame["bike_min_frequent_stop"].round(1)
    bounds = frame.total_bounds
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
                      zoom_start=12, tiles="OpenStreetMap")  # fmt: skip
    for label, part, colour in (
        (f"in the gap (> {threshold_min:g} min walk)", frame[frame["gap"]], "#c0392b"),
        ("served", frame[~frame["gap"]], "#2e86c1"),
    ):
        folium.GeoJson(
            part.assign(gap=part["gap"].astype(str)).to_json(), name=f"{label} ({len(part):,})",
            style_function=lambda _, c=colour: {"color": c, "weight": 0.5, "fillOpacity": 0.45},
            tooltip=folium.GeoJsonTooltip([c for c in keep[:-1] if c in part.columns]),
        ).add_to(fmap)  # fmt: skip
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def plot_opportunities_lost(
    last_mile: pd.DataFrame, opportunities=("jobs", "schools", "healthcare"), *, ax=None
):
    """Bars: share of each kind of opportunity beyond a short walk from frequent transit.

    Parameters
    ----------
    last_mile : DataFrame
        From :func:`transitmile.last_mile` (``<name>`` and ``<name>_lost_to_gap``).
    opportunities : sequence of str
        Opportunity columns.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    shares = pd.DataFrame({
        "opportunity": list(opportunities),
        "share": [last_mile[f"{o}_lost_to_gap"].sum() / last_mile[o].sum() for o in opportunities],
    })  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    sns.barplot(data=shares, x="opportunity", y="share", color="#c0392b", ax=ax)
    worst = shares.sort_values("share").iloc[-1]
    threshold = last_mile.attrs.get("threshold_min")
    beyond = f"more than {threshold:g} min" if threshold is not None else "too far"
    ax.set_title(
        f"Opportunities {beyond} walk from frequent transit: {worst['share']:.0%} of {worst['opportunity']}"
    )
    ax.set_xlabel("")
    ax.set_ylabel("share beyond the threshold")
    ax.set_ylim(0, max(0.05, float(shares["share"].max()) * 1.2))
    return ax
