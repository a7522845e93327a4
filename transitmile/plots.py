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
import shapely

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
    "plot_accessibility_ecdf",
    "plot_inequality",
    "plot_area_map",
    "intervention_shapes",
    "plot_scenario_bars",
    "plot_interventions_map",
    "map_interventions",
    "scenario_table",
    "plot_first_mile_change",
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
    """Map walking minutes to frequent transit, statically, the gap outlined.

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
    """Map the dissolved walksheds statically, one shade per band, over the study areas.

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


def plot_accessibility_ecdf(
    people: pd.DataFrame, columns: dict[float, str], total: float, *, what: str = "jobs", ax=None
):
    """ECDF of residents by opportunities reachable within each cutoff.

    Parameters
    ----------
    people : DataFrame
        One row per origin: ``population`` and the accessibility columns.
    columns : dict
        Cutoff (minutes) -> column of :func:`transitmile.accessibility`'s result.
    total : float
        The study area's total opportunities: the x axis is a share of it.
    what : str
        Name of the opportunities, for labels.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Titled with the median resident's share at the middle cutoff.
    """
    from .access.gaps import weighted_median

    long = pd.concat(
        [
            pd.DataFrame({"share": people[c].fillna(0) / total, "population": people["population"],
                          "cutoff": f"{m:g} min"})
            for m, c in columns.items()
        ],
        ignore_index=True,
    )  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    sns.ecdfplot(data=long, x="share", hue="cutoff", weights="population", ax=ax)
    middle = sorted(columns)[len(columns) // 2]
    median = weighted_median(
        people[columns[middle]].fillna(0).to_numpy(float), people["population"].to_numpy(float)
    )
    ax.set_title(
        f"{what.capitalize()} within {middle:g} min by transit: the median resident reaches "
        f"{median:,.0f} ({median / total:.0%} of the city's)"
    )
    ax.set_xlabel(f"share of the study area's {what} reachable (door to door, by transit)")
    ax.set_ylabel("share of residents")
    ax.set_xlim(0, 1)
    return ax


def plot_inequality(table: pd.DataFrame, *, ax=None):
    """Bars of inequality measures of accessibility, one group of bars per cutoff.

    Parameters
    ----------
    table : DataFrame
        Index: cutoffs in minutes; columns: measures (``"Palma ratio"``, ``"Gini"``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Titled with the Palma ratio at the middle cutoff.
    """
    long = (
        table.rename_axis("cutoff_min")
        .reset_index()
        .melt(id_vars="cutoff_min", var_name="measure", value_name="value")
    )
    long["cutoff"] = long["cutoff_min"].map(lambda m: f"{m:g} min")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    sns.barplot(data=long, x="cutoff", y="value", hue="measure", ax=ax)
    middle = table.index[len(table) // 2]
    palma = table.loc[middle].iloc[0]
    ax.set_title(
        f"Inequality of access: within {middle:g} min the best-served 10% reach "
        f"{palma:.1f}x what the worst-served 40% reach (Palma)"
    )
    ax.set_xlabel("travel time cutoff")
    ax.set_ylabel("index (Palma: ratio; Gini: 0-1)")
    return ax


def plot_area_map(
    frame: gpd.GeoDataFrame, column: str, *, label: str, title: str, cmap: str = "viridis",
    center: float | None = None, ax=None,
):  # fmt: skip
    """Shade one column over the study areas in a static map (no tiles).

    Parameters
    ----------
    frame : GeoDataFrame
        Areas (hexagons) with ``column``.
    column : str
        Values to shade; NaN areas are drawn in light grey.
    label : str
        Colour bar label, with the unit.
    title : str
        Title: state the takeaway.
    cmap : str
        Matplotlib colour map; a diverging one with ``center`` for changes.
    center : float, optional
        Value at the middle of a diverging colour map (0 for changes).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.colors import TwoSlopeNorm

    frame = frame.to_crs("EPSG:4326")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8))
    norm = None
    if center is not None:
        spread = float(max(abs(frame[column].min() - center), abs(frame[column].max() - center)))
        spread = spread or 1.0
        norm = TwoSlopeNorm(vcenter=center, vmin=center - spread, vmax=center + spread)
    frame.plot(
        column=column, cmap=cmap, norm=norm, ax=ax, legend=True,
        legend_kwds={"label": label, "shrink": 0.6},
        missing_kwds={"color": "#eeeeee", "edgecolor": "#cccccc", "linewidth": 0.3},
    )  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    return ax


# ---------------------------------------------------------------------------
# Scenarios and interventions


def _shuttle_line(stops: list, known: gpd.GeoDataFrame | None):
    """Join a shuttle's stops in order into a line: coordinates as given, ids from ``known``."""
    points = []
    for stop in stops:
        if isinstance(stop, dict):
            points.append((stop["lon"], stop["lat"]))
        elif known is not None and stop in set(known["id"]):
            point = known.loc[known["id"] == stop].geometry.iloc[0]
            points.append((point.x, point.y))
    return shapely.LineString(points) if len(points) > 1 else None


def intervention_shapes(scenarios, stops: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Where each intervention of each scenario acts, for maps.

    Parameters
    ----------
    scenarios : list of transitmile.scenarios.Scenario
        With their interventions.
    stops : GeoDataFrame, optional
        Transit stops (``id``, points; e.g. ``network.stops``) to place a shuttle's
        stops given by id.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, one row per intervention with a place: ``scenario``,
        ``intervention``, ``type``, ``what`` and ``geometry`` (its ``geometry()``,
        a shuttle's route through its stops).
    """
    rows = []
    for scenario in scenarios:
        for item in scenario.interventions:
            shape = item.geometry()
            if shape is None and item.kind == "shuttle":
                shape = _shuttle_line(item.stops, stops)
            if shape is None:
                continue
            rows.append({"scenario": scenario.name, "intervention": item.name,
                         "type": item.kind, "what": item.describe(), "geometry": shape})  # fmt: skip
    return gpd.GeoDataFrame(
        rows, columns=["scenario", "intervention", "type", "what", "geometry"], crs="EPSG:4326"
    )


def plot_scenario_bars(
    comparison: pd.DataFrame, column: str, *, label: str, title: str, reference: float | None = None,
    ax=None,
):  # fmt: skip
    """Bars of one figure per scenario (the baseline row left out), with units.

    Parameters
    ----------
    comparison : DataFrame
        From :func:`transitmile.scenarios.compare_scenarios`.
    column : str
        The figure to draw.
    label : str
        Axis label, with the unit.
    title : str
        Title: state the takeaway.
    reference : float, optional
        A value marked with a line (1.0 for a benefit-cost ratio).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = comparison[comparison["scenario"] != "baseline"].assign(
        value=lambda t: t[column].fillna(0)
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.5))
    sns.barplot(data=rows, y="scenario", x="value", color="#2e86c1", ax=ax)
    if reference is not None:
        ax.axvline(reference, color="#c0392b", linestyle="--")
    ax.set_title(title)
    ax.set_xlabel(label)
    ax.set_ylabel("")
    return ax


def plot_interventions_map(first_mile: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame, *, ax=None):
    """Map the interventions over the baseline gap, statically (no tiles).

    Parameters
    ----------
    first_mile : GeoDataFrame
        Baseline :func:`transitmile.first_mile` (``gap``, areas).
    shapes : GeoDataFrame
        From :func:`intervention_shapes`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    areas = first_mile.to_crs("EPSG:4326")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8))
    areas[~areas["gap"]].plot(ax=ax, color="#eeeeee", edgecolor="#dddddd", linewidth=0.3)
    areas[areas["gap"]].plot(ax=ax, color="#f5b7b1", edgecolor="#e6b0aa", linewidth=0.3)
    colours = sns.color_palette("dark", len(shapes))
    handles = [plt.Rectangle((0, 0), 1, 1, color="#f5b7b1", label="baseline gap")]
    for colour, (_, row) in zip(colours, shapes.iterrows(), strict=True):
        one = gpd.GeoSeries([row.geometry], crs="EPSG:4326")
        kind = row.geometry.geom_type
        if "Polygon" in kind:
            one.plot(ax=ax, facecolor="none", edgecolor=colour, linewidth=2)
        elif "Line" in kind:
            one.plot(ax=ax, color=colour, linewidth=2.5)
            if row["type"] == "walking_links":  # links of a few hundred metres: mark them
                one.representative_point().plot(ax=ax, color=colour, markersize=40, marker="o")
        else:
            one.plot(ax=ax, color=colour, markersize=30, marker="^")
        handles.append(plt.Line2D([], [], color=colour, linewidth=3, label=row["scenario"]))
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    in_gap = float(areas.loc[areas["gap"], "population"].sum())
    ax.set_title(
        f"Where the {len(shapes)} interventions act, over the gap ({in_gap:,.0f} residents)"
    )
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    return ax


def map_interventions(first_mile: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame) -> folium.Map:
    """Folium map of the baseline gap and the interventions, one layer each.

    Parameters
    ----------
    first_mile : GeoDataFrame
        Baseline :func:`transitmile.first_mile`.
    shapes : GeoDataFrame
        From :func:`intervention_shapes`.

    Returns
    -------
    folium.Map
        Wrap it in :func:`interactive_map` for reports.
    """
    fmap = map_gaps(first_mile)
    for _, row in shapes.iterrows():
        layer = folium.FeatureGroup(name=f"{row['scenario']}: {row['type'].replace('_', ' ')}")
        folium.GeoJson(
            gpd.GeoSeries([row.geometry], crs="EPSG:4326").to_json(),
            style_function=lambda _: {"color": "#111111", "weight": 3, "fillOpacity": 0.1},
            marker=folium.CircleMarker(radius=6, color="#111111", fill=True),
            tooltip=html.escape(row["what"]),
        ).add_to(layer)  # fmt: skip
        layer.add_to(fmap)
    return fmap


#: Columns of :func:`scenario_table`: comparison column -> heading with its unit.
SCENARIO_COLUMNS = {
    "residents_in_gap": "residents in the gap",
    "gap_residents_closed": "gap residents closed",
    "median_first_mile_min": "median first mile (min)",
    "jobs_within_45_min_mean": "jobs within 45 min (mean per resident)",
    "time_saved_person_min_per_weekday": "time saved (person-min per weekday)",
    "annualised_cost": "annualised cost ({currency} per year)",
    "annual_time_savings_value": "time savings ({currency} per year)",
    "benefit_cost_ratio": "benefit-cost ratio",
    "cost_per_new_resident_served": "cost per newly served resident ({currency} per year)",
    "error": "error",
}


def scenario_table(comparison: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """Tabulate the comparison as a planner reads it: a row per scenario, units in headings.

    Parameters
    ----------
    comparison : DataFrame
        From :func:`transitmile.scenarios.compare_scenarios`.
    currency : str
        Currency code shown in the money headings (``"BRL"``).

    Returns
    -------
    DataFrame
        Indexed by scenario, figures rounded (ratios to 2 decimals, the rest whole).
    """
    columns = {k: v.format(currency=currency) for k, v in SCENARIO_COLUMNS.items()}
    table = comparison.set_index("scenario")[[c for c in columns if c in comparison.columns]]
    rounded = table.drop(columns=["error"], errors="ignore").astype(float).round(0)
    if "benefit_cost_ratio" in table.columns:
        rounded["benefit_cost_ratio"] = table["benefit_cost_ratio"].astype(float).round(2)
    if "error" in table.columns:
        rounded["error"] = table["error"].fillna("")
    return rounded.rename(columns=columns)


def plot_first_mile_change(
    baseline: gpd.GeoDataFrame, scenarios: dict[str, gpd.GeoDataFrame], *, axes=None
):
    """Map first-mile walking minutes saved per area, one panel per scenario.

    Parameters
    ----------
    baseline : GeoDataFrame
        Baseline :func:`transitmile.first_mile`.
    scenarios : dict
        Scenario name -> :func:`transitmile.first_mile` on that scenario's network,
        same origins in the same order.
    axes : sequence of matplotlib Axes, optional
        One per scenario.

    Returns
    -------
    matplotlib.figure.Figure
        Each panel titled with its areas and residents out of the gap; minutes beyond
        :data:`ACCESS_CAP_MIN` (or unreachable) count as the cap.
    """

    def capped(frame):
        return frame["walk_min_frequent_stop"].fillna(ACCESS_CAP_MIN).clip(upper=ACCESS_CAP_MIN)

    if axes is None:
        _, axes = plt.subplots(1, len(scenarios), figsize=(7 * len(scenarios), 7), squeeze=False)
        axes = axes[0]
    areas = baseline.to_crs("EPSG:4326")
    vmax = max([1.0] + [float((capped(baseline) - capped(f)).max()) for f in scenarios.values()])
    for ax, (name, after) in zip(axes, scenarios.items(), strict=True):
        saved = (capped(baseline) - capped(after)).clip(lower=0).to_numpy()
        closed = baseline["gap"].to_numpy() & ~after["gap"].to_numpy()
        areas.plot(ax=ax, color="#eeeeee", edgecolor="#dddddd", linewidth=0.3)
        gained = areas[saved > 0].assign(saved=saved[saved > 0])
        if len(gained):
            gained.plot(column="saved", cmap="Greens", vmin=0, vmax=vmax, ax=ax, legend=True,
                        legend_kwds={"label": "walking minutes saved", "shrink": 0.6})  # fmt: skip
        ax.set_title(
            f"{name}:\n{int((saved > 0).sum())} areas closer, "
            f"{float(baseline['population'][closed].sum()):,.0f} residents out of the gap"
        )
        ax.set_xlabel("longitude (°)")
        ax.set_ylabel("latitude (°)")
    return axes[0].figure
