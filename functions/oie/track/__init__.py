"""/track: event batches from the pixel, validated, enriched and written to the warehouse."""
