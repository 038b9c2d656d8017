"""Jupyter Server settings of the instructor's server on the class hub."""

import os

c = get_config()  # noqa: F821

# JupyterHub >= 4.1 sends "frame-ancestors 'none'", which leaves the formgrader panel inside
# JupyterLab blank (nbgrader #1870); the formgrader still works in a browser tab of its own.
# With per-user subdomains (COURSE_HUB_SUBDOMAIN_HOST) each server is its own origin, and
# allowing frames from that origin only is safe, so the panel works too. Never do this on a
# hub without subdomains: any student's page could then frame the instructor's server.
if os.environ.get("COURSE_HUB_SUBDOMAINS") == "1":
    c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
