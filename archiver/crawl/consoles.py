"""Scrapy's console servers, loaded only for a run that turns one on.

Scrapy lists its telnet console and its remote-control server among its base
extensions, so every crawl imports both even when their settings turn them off;
the remote control alone imports aiohttp, a sixth of a second of every start.
The project's settings take the two out of the extension list and list
:class:`ConsoleServers` instead, which builds each one only when its setting is
on: ``-s TELNETCONSOLE_ENABLED=1`` and ``-s REMOTE_CONTROL_ENABLED=1`` work as
they do in Scrapy.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler, load_object

logger = logging.getLogger(__name__)

# setting -> Scrapy's extension
CONSOLES = {
    "TELNETCONSOLE_ENABLED": "scrapy.extensions.telnet.TelnetConsole",
    "REMOTE_CONTROL_ENABLED": "scrapy.extensions.remote_control.RemoteControl",
}


class ConsoleServers:
    """The console servers whose settings are on, built as Scrapy would build them."""

    def __init__(self, servers: list):
        self.servers = servers

    @classmethod
    def from_crawler(cls, crawler):
        servers = []
        for setting, path in CONSOLES.items():
            if not crawler.settings.getbool(setting):
                continue
            try:
                servers.append(build_from_crawler(load_object(path), crawler))
            except NotConfigured as why:
                logger.warning("%s is on, but %s cannot run: %s", setting, path.rsplit(".", 1)[-1], why)
        if not servers:
            raise NotConfigured  # without a message: Scrapy would log it as a warning on every run
        return cls(servers)
