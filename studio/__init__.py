"""Jukebox Studio: a desktop studio for Jukebox-style music generation."""

__version__ = "0.1.0"
