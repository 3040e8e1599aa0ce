"""Who runs the crawl, in its User-Agent: ``ARCHIVER_CONTACT`` (an e-mail or URL), so site owners can
reach them.

A Scrapy addon (``ADDONS``): it adjusts the settings once the command line's ``-s`` options are in.
"""

from __future__ import annotations


class ContactAddon:
    def update_settings(self, settings) -> None:
        contact = settings.get("ARCHIVER_CONTACT")
        agent = settings.get("USER_AGENT", "")
        if contact and contact not in agent:
            agent = agent[:-1] + f"; contact: {contact})" if agent.endswith(")") else f"{agent} (contact: {contact})"
            # As a spider's setting: above the project's User-Agent, below one given with -s.
            settings.set("USER_AGENT", agent, priority="spider")
