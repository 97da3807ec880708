"""Exercise checks of notebooks 02 onwards, one module per notebook (``nbNN.py``).

Each module registers its checks with :func:`utils.checks.register`; :func:`utils.checks.check`
imports the module of a notebook the first time one of its exercises is checked.
"""
