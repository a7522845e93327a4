"""Routing engines behind :func:`transitmile.travel_time_matrix`.

``embedded`` (RAPTOR in numba, always available) and ``r5`` (r5py adapter, where
Java 21+ and an R5 jar are usable). Both take a :class:`~.request.TravelTimeRequest`
and return the same r5py-shaped frame.
"""
