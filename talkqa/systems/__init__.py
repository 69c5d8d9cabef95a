"""Systems as plugins: one package per system, found through the ``talkqa.systems`` entry points.

* :mod:`talkqa.systems.base` - the plugin interface (:class:`~talkqa.systems.base.SystemPlugin`).
* :mod:`talkqa.systems.registry` - every registered plugin, by slug.
* :mod:`talkqa.systems.run` - the systems of one run: who serves each (system, entity), and how.
* :mod:`talkqa.systems.generic` - the generic system for everything no plugin claims.
* ``talkqa.systems.<slug>`` - the plugins shipped with talkqa (``exact``, ``powerofficego``).

How to add a system: ``docs/systems.md``.
"""
