"""Amur's GIS library: pure, typed functions over layers, grids, hydrology and risk."""
