"""The Teams edge: aiohttp app, botbuilder adapter and auth, activity conversion, cards, CLI."""
