"""The three ways the app factory mounts the fast path.

``front``: in front of MLflow's FastAPI app, behind a lean copy of its middleware; ``routes``:
as routes inside that app, behind all of its middleware; ``flask_views``: as the Flask views of
MLflow's endpoints, when plugin hooks, gunicorn or waitress must run. The first two serve each
route with an ``endpoint.FastEndpoint``.
"""
