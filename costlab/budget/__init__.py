"""Budgets: limits a model must stay under, checked in CI (`costlab check`) or from pytest (`assert_budget`)."""
