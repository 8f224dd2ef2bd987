"""Software-defined assets, one subpackage per layer: raw → cleaned → stats."""
