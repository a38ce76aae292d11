"""aiorch.runtime: plumbing shared by every aiorch service; no business logic."""
