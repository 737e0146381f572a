"""What runs and exports leave behind: the run folder layout and the metadata beside a
SavedModel.
"""
