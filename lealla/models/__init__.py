"""The model side: `teachers`, `students`, `distill` and `export`.

Their sources are the top-level folders `teachers/`, `students/`, `distill/` and `export/`;
setup.py installs them here (`distill/` is `lealla.models.distill`), so that a user's
environment gains no generic top-level package, and `lealla.distill`/`lealla.export`
stay the public functions.
"""
