"""HTTP plumbing shared by the surfaces served over HTTP (``api`` and ``web``) and by ``server``.

It sits between the domains and the surfaces: it may import domains (auth, store, portfolio),
never ``api``, ``web`` or ``cli``, so the two HTTP surfaces share their request dependencies, error
handlers and serving helpers without importing each other. ``auth/http.py`` keeps what belongs to
authentication alone (sessions, tokens, CSRF); the request dependencies that need other domains
(the reading day) live here rather than making ``auth`` depend on ``portfolio``.
"""
