"""Packaging: everything else is in pyproject.toml. setup.py maps two folders of the checkout to installed
packages with names of their own, which pyproject's tables cannot combine with package discovery:
- demo/ (the app; `python -m demo` in a checkout) installs as `int_studio_app`, so the distribution claims
  no generic top-level name such as `demo` (the app imports itself relatively; `int-studio` starts it);
- assets/ (the presets) installs as `int_studio_assets`."""
from setuptools import find_packages, setup

app = ["int_studio_app", *(f"int_studio_app.{p}" for p in find_packages(where="demo"))]
setup(
    packages=find_packages(include=["intcore", "intcore.*"]) + app + ["int_studio_assets"],
    package_dir={"int_studio_app": "demo", "int_studio_assets": "assets"},
    package_data={"int_studio_app": ["static/*"],
                  "int_studio_assets": ["images/*", "audio/*", "shapes/*", "ATTRIBUTION.md"]},
)
