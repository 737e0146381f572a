"""Text in: strict line reading, language tags, corpus sources, temperature sampling, the
tf.data pipeline, the shipped demo corpus.
"""
