"""Change detection, hold threshold, preview and approval: what makes an automatic sync trusted."""
