"""Measuring dimension, entropy and information of representations."""
