"""Paper claims implemented in subspacekit, each runnable with ``subspacekit reproduce``."""
