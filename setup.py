"""Build hook: compile the message catalogues (.po -> .mo) into the wheel.

The .mo files are build products (not committed); a wheel built from a clean checkout
must still carry them, or the installed UI falls back to English.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TRANSLATIONS = Path("web") / "translations"


class BuildPyWithCatalogues(build_py):
    """Copy the packages, then write each compiled catalogue beside them."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo  # noqa: PLC0415 - a build requirement
        from babel.messages.pofile import read_po  # noqa: PLC0415

        for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
            locale = po.parts[-3]
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as src:
                catalog = read_po(src, locale=locale)
            with target.open("wb") as out:
                write_mo(out, catalog, use_fuzzy=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
            outputs.append(str(Path(self.build_lib) / po.with_suffix(".mo")))
        return outputs


setup(cmdclass={"build_py": BuildPyWithCatalogues})
