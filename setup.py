"""Packages: `lealla` and its subpackages, plus the four top-level folders installed under
`lealla.models` (`distill/` is `lealla.models.distill`), so that a user's environment gains
no generic top-level `distill`, `export`, `teachers` or `students`, and the public functions
`lealla.distill`/`lealla.export` are not shadowed by packages of the same name.
Everything else is in setup.cfg."""

from setuptools import find_namespace_packages, setup

FOLDERS = ("distill", "export", "students", "teachers")

packages = find_namespace_packages(include=["lealla", "lealla.*"], exclude=["*.__pycache__"])
package_dir = {}
for folder in FOLDERS:
    package_dir[f"lealla.models.{folder}"] = folder
    found = find_namespace_packages(include=[folder, f"{folder}.*"], exclude=["*.__pycache__"])
    packages += [f"lealla.models.{name}" for name in found]

setup(packages=packages, package_dir=package_dir)
