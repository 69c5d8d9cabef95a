"""HTTP simulators of PowerOffice Go and Exact Online, served on 127.0.0.1 (see docs/wire-contract.md).

Start both with :func:`talkqa.simulators.launcher.start_simulators`, from pytest with the fixtures in
:mod:`talkqa.simulators.fixtures`, or from the shell with ``talkqa simulate``. Each simulator offers an
admin channel (``/_admin/...`` and :class:`talkqa.simulators.core.SimulatorAdmin`); every choice the
vendors do not document is a field of :class:`~talkqa.simulators.poweroffice.PowerOfficeSettings` or
:class:`~talkqa.simulators.exact.ExactSettings`, changeable at runtime.
"""
