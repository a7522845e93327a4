"""Routing engines behind :func:`transitmile.travel_time_matrix`.

``embedded`` (range RAPTOR in numba, always available: :mod:`.embedded`, kernels in
:mod:`.raptor`, street legs in :mod:`.street_legs`) and ``r5py`` (adapter in :mod:`.r5`,
Java and jar discovery in :mod:`.r5_environment`, where Java 21+ and an R5 jar are
usable). Both take a :class:`~.request.TravelTimeRequest` and return the same r5py-shaped
frame (:mod:`.frame`). First/last-mile services plug into the embedded engine through
:class:`~.access.AccessService`. See docs/design.md, "How to add an engine".
"""
