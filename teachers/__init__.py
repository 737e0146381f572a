"""Teachers: TF Hub / local SavedModel encoders, the offline USE-multilingual teacher, caches."""
