"""The ESIClient: its settings, the arguments it checks, and the views it hands out."""
