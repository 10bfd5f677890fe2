"""compengine: sales incentive compensation plans as checked, explainable code."""

__version__ = "0.1.0"
ENGINE_VERSION = __version__
