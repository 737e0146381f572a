"""What a command shows people: stage lines, progress bars, quiet third-party logs, report
plots.
"""
