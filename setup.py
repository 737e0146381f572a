"""Packages: `lealla` and its subpackages, plus the four top-level folders installed under the
`lealla` namespace (`distill/` is `lealla.distill`), so a user's environment gains no generic
top-level `distill`, `export`, `teachers` or `students`. Everything else is in setup.cfg."""

from setuptools import find_namespace_packages, setup

FOLDERS = ("distill", "export", "students", "teachers")

packages = find_namespace_packages(include=["lealla", "lealla.*"], exclude=["*.__pycache__"])
package_dir = {}
for folder in FOLDERS:
    package_dir[f"lealla.{folder}"] = folder
    found = find_namespace_packages(include=[folder, f"{folder}.*"], exclude=["*.__pycache__"])
    packages += [f"lealla.{name}" for name in found]

setup(packages=packages, package_dir=package_dir)
