"""Datasets: generated toy sets now; cached real image sets as they are added."""
