"""Conversations as data: what the bot says and does, independent of Teams and botbuilder."""
