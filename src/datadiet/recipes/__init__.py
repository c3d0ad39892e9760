"""Recipes: a list of steps from YAML / TOML, validated up front, resumable."""

from datadiet.recipes._recipe import Recipe, RecipeStep, load_recipe
from datadiet.recipes._state import RunState, step_key

__all__ = ["Recipe", "RecipeStep", "RunState", "load_recipe", "step_key"]
