"""The alert lifecycle as pure functions: evidence → incidents, colours, escalation, commands.

``evidence`` normalises source events, ``fusion`` merges them, ``actions`` applies
ticks, operator commands and delivery statuses, ``lifecycle`` is the one table of
states and transitions, ``state`` the table value and policy, ``places`` the GIS
interface (``gis_places`` its implementation on a layer set), ``grid`` the codes
of the five-level grid, ``linkage`` camera priorities, ``cap`` the CAP 1.2 messages, ``audit`` the
hash-chained log, ``notify`` who is told and how (its ``delivery`` is the one I/O edge).
No Faust here.
"""
