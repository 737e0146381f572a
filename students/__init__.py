"""Student encoders: thin-deep LEALLA presets, custom sizes, the EMS encoder (Keras 3)."""
