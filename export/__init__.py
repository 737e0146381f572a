"""Export: SavedModels for TF Hub that load with hub.KerasLayer, hub.load and TFSMLayer."""
