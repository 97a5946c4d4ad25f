"""Code shared by the bot's packages: settings, organisation config, database and tables."""
