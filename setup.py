"""Packaging: everything else is in pyproject.toml. setup.py exists only to ship the top-level assets/
folder (the presets) as the package `int_studio_assets`, which pyproject's tables cannot combine with
package discovery."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["intcore", "intcore.*", "demo", "demo.*"]) + ["int_studio_assets"],
    package_dir={"int_studio_assets": "assets"},
    package_data={"int_studio_assets": ["images/*", "audio/*", "shapes/*", "ATTRIBUTION.md"]},
)
