"""What other plugins may use of the charter plugin (charte): this module and nothing else of it.

A plugin that shows a charter's signatories (the partnerships plugin draws them as the partners
of an « initiative » partnership) reads them through the service below; it never imports another
module of ``plugins.charte`` and never reads its tables.
"""

from __future__ import annotations

from plugins.charte.service import Charters, charters

__all__ = ["Charters", "charters"]
