"""Command palette provider: every key-bound action of the current screen, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode


class BindingCommands(Provider):
    """Offers each active binding of the screen the palette was opened from."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Awaitable[object]]]]:
        app = self.app
        from oncall_tui.ui.screens.help_screen import describer

        describe = describer(self.screen)
        seen: set[str] = set()
        result: list[tuple[str, str, Callable[[], Awaitable[object]]]] = []
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or not active.enabled or binding.action in seen:
                continue
            if binding.action.endswith("command_palette"):
                continue
            description = describe(binding)
            if not description:  # e.g. a view key with no view defined for it
                continue
            seen.add(binding.action)
            node: DOMNode = active.node
            run = partial(app.run_action, binding.action, node)
            result.append((description, app.get_key_display(binding), run))
        return result

    async def discover(self) -> Hits:
        for description, key, run in self._commands():
            yield DiscoveryHit(description, run, help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, key, run in self._commands():
            score = matcher.match(description)
            if score > 0:
                yield Hit(score, matcher.highlight(description), run, help=f"key: {key}")
