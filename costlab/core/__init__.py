"""The counting core: shapes, costs, formulas, conventions, ops, the graph and its one walker, analysis. No torch."""
