"""The fast path of ``mlflow-accel server``: the app factory (``app``), the ways it is mounted
(``mounts``), the handlers (``handlers``) and the HTTP plumbing they share (``http``)."""
