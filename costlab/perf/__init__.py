"""Performance: memory beyond the formulas (conv workspaces, first touch), roofline latency, device profiles,
host calibration and measurement. Prediction is torch-free; calibration and measurement import torch."""
