"""The public functions that take encoder specs and run, export and evaluate students;
`lealla/__init__.py` hands them on. The one layer (with `lealla.cli`) that imports
`lealla.models` (teachers, students, distill, export).
"""
