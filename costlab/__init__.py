"""costlab: what a convolutional network, block or layer costs (params, MACs, FLOPs = 2 x MACs) and why."""

__version__ = "0.1.0"
