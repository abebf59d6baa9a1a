"""The traced side: costlab graphs as real nn.Modules, real models counted by tracers, and the cross-check.

Everything here imports torch; the analytic commands never import this package.
"""
