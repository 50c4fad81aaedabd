"""``gradfit playground``: watch a network learn, live in the browser, on gradfit's engines.

A local web server (Starlette and uvicorn, the ``playground`` extra) streams a
training run over a WebSocket to one static page shipped in this package. The run
is :class:`~gradfit.MLPRegressor` trained by its own ``fit``, so the command and
script the page exports repeat it number for number. Modules: ``protocol`` (the
messages and their checks), ``limits`` (each session's caps), ``data`` (the
problems), ``runner`` (the training thread), ``views`` (what the page draws),
``export`` (command, script, files), ``session`` and ``server``.
"""
