"""The packages of the wheel (the rest of the build settings are in pyproject.toml).

`resources/` (icons, the .desktop file, the AppStream metainfo) stays at the top of the checkout, where the
bundle, the installers and the tests read it, and goes into the wheel as `provet_xero_gui/resources`, where
`provet_xero_gui.ui.icons.resources_dir()` finds it after a plain `pip install .`.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["provet_xero_gui*"]), "provet_xero_gui.resources",
              "provet_xero_gui.resources.icons"],
    package_dir={"provet_xero_gui.resources": "resources", "provet_xero_gui.resources.icons": "resources/icons"},
    package_data={"provet_xero_gui.resources": ["*.desktop", "*.xml"], "provet_xero_gui.resources.icons": ["*"]},
)
