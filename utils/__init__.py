"""Shared, tested helpers for the MLOps course notebooks.

Importing ``utils`` has no side effects: it does not start servers, read data or
import heavy libraries. Import the submodule you need, e.g. ``from utils import tracking``.
"""

__version__ = "0.1.0"
