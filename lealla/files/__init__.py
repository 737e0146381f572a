"""Files: local and `gs://` paths, atomic writes, output folders a command may replace, JSON
manifests checked by shape.
"""
