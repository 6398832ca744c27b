"""Every `/arxiv` command handler. Importing this package registers them in REGISTRY, module by
module in this order, which is the order `help` lists them in."""

import importlib

MODULES = ("reading", "channel", "papers", "taste")

for _module in MODULES:
    importlib.import_module(f"{__name__}.{_module}")
