"""Privacy: pseudonyms and encryption, the rules for figures anyone but the person may see,
counting without people, signed links, the per-person inventory and retention."""
